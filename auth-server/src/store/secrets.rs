//! The server's own named secrets (`server_secrets`), sealed at rest when a key-encryption key
//! is configured.

use sqlx::Row as _;

use super::Db;

impl Db {
    /// The secret `name`, created from `make()` by the first instance that asks: concurrent
    /// first starts agree on one value (the insert is `ON CONFLICT DO NOTHING`, then read).
    pub async fn server_secret(
        &self,
        name: &str,
        make: impl FnOnce() -> String,
        now: i64,
    ) -> anyhow::Result<String> {
        let fresh = crate::at_rest::seal(self.kek(), name, &make())?;
        sqlx::query(
            "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(&fresh)
        .bind(now)
        .execute(self.pool())
        .await?;
        let row = sqlx::query("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(self.pool())
            .await?;
        let stored: String = row.try_get("value")?;
        if self.kek().is_some() && !crate::at_rest::is_sealed(&stored) {
            let plain = stored.clone();
            sqlx::query("UPDATE server_secrets SET value = $1 WHERE name = $2 AND value = $3")
                .bind(crate::at_rest::seal(self.kek(), name, &plain)?)
                .bind(name)
                .bind(&stored)
                .execute(self.pool())
                .await?;
            return Ok(plain);
        }
        crate::at_rest::open(self.kek(), name, &stored)
    }
}

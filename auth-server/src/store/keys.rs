//! Signing keys.

use sqlx::Row as _;

use super::Db;
use crate::oauth::keys::NewKey;

/// A stored signing key.
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// Key id.
    pub kid: String,
    /// JWS algorithm.
    pub algorithm: String,
    /// PKCS#8 DER, base64.
    pub private_key: String,
    /// Public `x`, base64url.
    pub public_key: String,
    /// When it was created.
    pub created_at: i64,
    /// When it stopped signing, if it has.
    pub retired_at: Option<i64>,
}

impl Db {
    /// Stores a new key as active.
    pub async fn insert_key(&self, key: &NewKey, algorithm: &str, now: i64) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key, public_key, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.kid)
        .bind(algorithm)
        .bind(&key.private_pkcs8_b64)
        .bind(&key.public_x)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Stores `key` as the only active key and retires every other, in one transaction.
    pub async fn rotate_key(&self, key: &NewKey, algorithm: &str, now: i64) -> anyhow::Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key, public_key, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.kid)
        .bind(algorithm)
        .bind(&key.private_pkcs8_b64)
        .bind(&key.public_x)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every stored key, oldest first.
    pub async fn all_keys(&self) -> anyhow::Result<Vec<KeyRow>> {
        let rows = sqlx::query(
            "SELECT kid, algorithm, private_key, public_key, created_at, retired_at \
             FROM signing_keys ORDER BY created_at, kid",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(KeyRow {
                    kid: r.try_get("kid")?,
                    algorithm: r.try_get("algorithm")?,
                    private_key: r.try_get("private_key")?,
                    public_key: r.try_get("public_key")?,
                    created_at: r.try_get("created_at")?,
                    retired_at: r.try_get("retired_at")?,
                })
            })
            .collect()
    }
}

//! Signing keys.

use sqlx::Row as _;

use super::Db;

/// A freshly generated key pair, ready to store (made by `oauth::keys::generate`).
pub struct NewKey {
    /// The key id: its RFC 7638 JWK thumbprint.
    pub kid: String,
    /// The private key, PKCS#8 DER, base64.
    pub private_pkcs8_b64: String,
    /// The public key (`x`), base64url.
    pub public_x: String,
}

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
    /// The private key as it is written to the database: sealed when a key-encryption key
    /// is configured.
    fn stored_private_key(&self, key: &NewKey) -> anyhow::Result<String> {
        crate::at_rest::seal(self.kek(), &key.kid, &key.private_pkcs8_b64)
    }

    /// Seals every private key still stored in plain text (a database written before the
    /// key-encryption key was configured); returns how many. Does nothing without a KEK.
    pub async fn seal_plain_keys(&self) -> anyhow::Result<usize> {
        let Some(kek) = self.kek() else {
            return Ok(0);
        };
        let rows = sqlx::query("SELECT kid, private_key FROM signing_keys")
            .fetch_all(self.pool())
            .await?;
        let mut sealed = 0;
        for row in rows {
            let kid: String = row.try_get("kid")?;
            let stored: String = row.try_get("private_key")?;
            if crate::at_rest::is_sealed(&stored) {
                continue;
            }
            // Guarded by the old value, so two instances starting at once seal it once.
            sqlx::query(
                "UPDATE signing_keys SET private_key = $1 WHERE kid = $2 AND private_key = $3",
            )
            .bind(kek.seal(&kid, &stored)?)
            .bind(&kid)
            .bind(&stored)
            .execute(self.pool())
            .await?;
            sealed += 1;
        }
        Ok(sealed)
    }

    /// Stores a new key as active.
    pub async fn insert_key(&self, key: &NewKey, algorithm: &str, now: i64) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key, public_key, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.kid)
        .bind(algorithm)
        .bind(self.stored_private_key(key)?)
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
        .bind(self.stored_private_key(key)?)
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
                let kid: String = r.try_get("kid")?;
                let stored: String = r.try_get("private_key")?;
                Ok(KeyRow {
                    private_key: crate::at_rest::open(self.kek(), &kid, &stored)?,
                    kid,
                    algorithm: r.try_get("algorithm")?,
                    public_key: r.try_get("public_key")?,
                    created_at: r.try_get("created_at")?,
                    retired_at: r.try_get("retired_at")?,
                })
            })
            .collect()
    }
}

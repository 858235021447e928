//! Refresh-token families, the tokens of each generation, and the access-token denylist.

use rusqlite::OptionalExtension as _;
use sqlx::Row as _;

use super::{Db, is_unique_violation};

/// A new sign-in: its family and its first refresh token (generation 0).
#[derive(Debug)]
pub struct NewFamily<'a> {
    /// Family id (random).
    pub family_id: &'a str,
    /// The client it was issued to.
    pub client_id: &'a str,
    /// The user.
    pub username: &'a str,
    /// The scope granted at sign-in: every refresh token of the family keeps it.
    pub scope: &'a str,
    /// Now.
    pub created_at: i64,
    /// Absolute end of the family, however often it is refreshed.
    pub expires_at: i64,
    /// SHA-256 of the first refresh token.
    pub token_hash: &'a str,
    /// Idle expiry of the first refresh token.
    pub token_expires_at: i64,
}

/// What is known of a presented refresh token.
#[derive(Debug, Clone)]
pub struct RefreshLookup {
    /// Its family.
    pub family_id: String,
    /// The client the family was issued to.
    pub client_id: String,
    /// The user.
    pub username: String,
    /// The family's scope.
    pub scope: String,
    /// The generation of the presented token.
    pub token_generation: i64,
    /// The family's current generation (its newest token's): only a token of this
    /// generation is valid.
    pub family_generation: i64,
    /// The token's idle expiry.
    pub token_expires_at: i64,
    /// The token's issue time.
    pub token_issued_at: i64,
    /// The family's absolute expiry.
    pub family_expires_at: i64,
    /// Whether the family was revoked.
    pub revoked: bool,
    /// Whether the user still exists and is not disabled.
    pub user_active: bool,
}

/// A presented refresh token with its family, the family's current generation (its newest
/// token's) and whether its user may still sign in.
const FIND_REFRESH_TOKEN: &str = "SELECT f.family_id, f.client_id, f.username, f.scope, \
        (SELECT MAX(g.generation) FROM refresh_tokens g WHERE g.family_id = t.family_id) \
            AS family_generation, \
        f.expires_at AS family_expires_at, f.revoked_at, \
        t.generation AS token_generation, t.issued_at, t.expires_at AS token_expires_at, \
        CASE WHEN u.disabled = 0 THEN 1 ELSE 0 END AS user_active \
    FROM refresh_tokens t JOIN refresh_families f ON f.family_id = t.family_id \
    LEFT JOIN users u ON u.username = f.username \
    WHERE t.token_hash = $1";

/// A [`RefreshLookup`] from a row of [`FIND_REFRESH_TOKEN`], read by sqlx (`try_get`) or by
/// rusqlite (`get`).
macro_rules! lookup_from_row {
    ($r:expr, $get:ident) => {{
        let revoked_at: Option<i64> = $r.$get("revoked_at")?;
        let user_active: i32 = $r.$get("user_active")?;
        RefreshLookup {
            family_id: $r.$get("family_id")?,
            client_id: $r.$get("client_id")?,
            username: $r.$get("username")?,
            scope: $r.$get("scope")?,
            token_generation: $r.$get("token_generation")?,
            family_generation: $r.$get("family_generation")?,
            token_expires_at: $r.$get("token_expires_at")?,
            token_issued_at: $r.$get("issued_at")?,
            family_expires_at: $r.$get("family_expires_at")?,
            revoked: revoked_at.is_some(),
            user_active: user_active != 0,
        }
    }};
}

impl Db {
    /// Stores a new family and its first token, in one transaction.
    pub async fn create_family(&self, f: &NewFamily<'_>) -> anyhow::Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO refresh_families (family_id, client_id, username, scope, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(f.family_id)
        .bind(f.client_id)
        .bind(f.username)
        .bind(f.scope)
        .bind(f.created_at)
        .bind(f.expires_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, generation, issued_at, expires_at) \
             VALUES ($1, $2, 0, $3, $4)",
        )
        .bind(f.token_hash)
        .bind(f.family_id)
        .bind(f.created_at)
        .bind(f.token_expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Looks a refresh token up by its hash: on SQLite on the calling thread (see
    /// `service_kit::local_reads`), else through the pool.
    pub async fn find_refresh_token(
        &self,
        token_hash: &str,
    ) -> anyhow::Result<Option<RefreshLookup>> {
        if let Some(local) = self.local_reads() {
            return local.read(|conn| {
                conn.prepare_cached(FIND_REFRESH_TOKEN)?
                    .query_row([token_hash], |r| Ok(lookup_from_row!(r, get)))
                    .optional()
            });
        }
        let row = sqlx::query(FIND_REFRESH_TOKEN)
            .bind(token_hash)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => Some(lookup_from_row!(r, try_get)),
            None => None,
        })
    }

    /// When the family moved to `generation`: the issue time of that generation's token.
    pub async fn rotated_at(
        &self,
        family_id: &str,
        generation: i64,
    ) -> anyhow::Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT issued_at FROM refresh_tokens WHERE family_id = $1 AND generation = $2",
        )
        .bind(family_id)
        .bind(generation)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.try_get("issued_at")).transpose()?)
    }

    /// Revokes a family (sign-out, reuse, revocation). `true` if it was live.
    pub async fn revoke_family(
        &self,
        family_id: &str,
        now: i64,
        reason: &str,
    ) -> anyhow::Result<bool> {
        let updated = sqlx::query(
            "UPDATE refresh_families SET revoked_at = $1, revoked_reason = $2 WHERE family_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(family_id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(updated > 0)
    }

    /// Whether a family is live: not revoked and not past its absolute expiry.
    pub async fn family_is_live(&self, family_id: &str, now: i64) -> anyhow::Result<bool> {
        let row = sqlx::query(
            "SELECT 1 AS live FROM refresh_families WHERE family_id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(family_id)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.is_some())
    }

    /// Puts an access token on the denylist until it expires (RFC 7009), dropping entries
    /// whose tokens have expired anyway.
    pub async fn deny_access_token(
        &self,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM revoked_access_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(self.pool())
            .await?;
        let inserted =
            sqlx::query("INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2)")
                .bind(jti)
                .bind(expires_at)
                .execute(self.pool())
                .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => Ok(()),
            other => other.map(|_| ()).map_err(Into::into),
        }
    }

    /// Whether an access token was revoked.
    pub async fn access_token_denied(&self, jti: &str) -> anyhow::Result<bool> {
        let row = sqlx::query("SELECT 1 AS denied FROM revoked_access_tokens WHERE jti = $1")
            .bind(jti)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.is_some())
    }
}

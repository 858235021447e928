//! Authorization codes (RFC 6749 §4.1.2) and the redirect URIs registered for clients.
//!
//! A code is stored only as SHA-256 of its text. Its redemption is one conditional `UPDATE`
//! (`used_at IS NULL`), so of two concurrent redemptions exactly one wins; that same statement
//! records the refresh-token family and the access token the redemption issues, so that a
//! later replay can revoke them (§4.1.2).

use sqlx::Row as _;

use super::Db;
use crate::oauth::client_auth::ClientId;
use crate::oauth::pkce::CodeChallenge;
use crate::oauth::redirect_uri::RedirectUri;

/// A new authorization code, as stored.
#[derive(Debug)]
pub struct NewCode<'a> {
    /// SHA-256 (hex) of the code.
    pub code_hash: &'a str,
    /// The client it was issued to.
    pub client_id: &'a str,
    /// The redirect URI of the authorization request.
    pub redirect_uri: &'a str,
    /// The PKCE `S256` challenge.
    pub code_challenge: &'a str,
    /// The person who signed in.
    pub username: &'a str,
    /// The scope granted.
    pub scope: &'a str,
    /// When it was issued.
    pub created_at: i64,
    /// When it stops being redeemable.
    pub expires_at: i64,
}

/// A stored authorization code.
#[derive(Debug, Clone)]
pub struct CodeRecord {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI of the authorization request.
    pub redirect_uri: String,
    /// The PKCE `S256` challenge.
    pub code_challenge: CodeChallenge,
    /// The person who signed in.
    pub username: String,
    /// The scope granted.
    pub scope: String,
    /// When it stops being redeemable.
    pub expires_at: i64,
    /// When it was redeemed, if it was.
    pub used_at: Option<i64>,
    /// The refresh-token family its redemption issued.
    pub family_id: Option<String>,
    /// The `jti` of the access token its redemption issued, and that token's expiry.
    pub access: Option<(String, i64)>,
}

/// What a redemption issues, recorded with it.
#[derive(Debug)]
pub struct Redemption<'a> {
    /// The refresh-token family.
    pub family_id: &'a str,
    /// The access token's `jti`.
    pub access_jti: &'a str,
    /// The access token's expiry.
    pub access_expires_at: i64,
}

impl Db {
    /// The redirect URIs registered for `client`, in registration order of their text.
    pub async fn redirect_uris(&self, client: &ClientId) -> anyhow::Result<Vec<RedirectUri>> {
        let rows = sqlx::query(
            "SELECT redirect_uri FROM client_redirect_uris WHERE client_id = $1 ORDER BY redirect_uri",
        )
        .bind(client.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok(RedirectUri::stored(r.try_get("redirect_uri")?)))
            .collect()
    }

    /// Replaces the redirect URIs of `client`. `false` if the client is unknown.
    pub async fn set_redirect_uris(
        &self,
        client: &ClientId,
        uris: &[RedirectUri],
    ) -> anyhow::Result<bool> {
        let mut tx = self.pool().begin().await?;
        let known = sqlx::query("SELECT 1 AS one FROM clients WHERE client_id = $1")
            .bind(client.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if known.is_none() {
            return Ok(false);
        }
        sqlx::query("DELETE FROM client_redirect_uris WHERE client_id = $1")
            .bind(client.as_str())
            .execute(&mut *tx)
            .await?;
        insert_redirect_uris(&mut tx, client, uris).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Adds `uri` to the redirect URIs of `client` unless it is there already.
    pub async fn add_redirect_uri(
        &self,
        client: &ClientId,
        uri: &RedirectUri,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO client_redirect_uris (client_id, redirect_uri) VALUES ($1, $2) \
             ON CONFLICT (client_id, redirect_uri) DO NOTHING",
        )
        .bind(client.as_str())
        .bind(uri.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Stores a new code.
    pub async fn insert_code(&self, code: &NewCode<'_>) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO authorization_codes \
             (code_hash, client_id, redirect_uri, code_challenge, username, scope, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(code.code_hash)
        .bind(code.client_id)
        .bind(code.redirect_uri)
        .bind(code.code_challenge)
        .bind(code.username)
        .bind(code.scope)
        .bind(code.created_at)
        .bind(code.expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The code whose SHA-256 is `code_hash`, if stored.
    pub async fn find_code(&self, code_hash: &str) -> anyhow::Result<Option<CodeRecord>> {
        let row = sqlx::query(
            "SELECT client_id, redirect_uri, code_challenge, username, scope, expires_at, used_at, \
                    family_id, access_jti, access_expires_at \
             FROM authorization_codes WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let jti: Option<String> = r.try_get("access_jti")?;
        let access_expires: Option<i64> = r.try_get("access_expires_at")?;
        Ok(Some(CodeRecord {
            client_id: r.try_get("client_id")?,
            redirect_uri: r.try_get("redirect_uri")?,
            code_challenge: CodeChallenge::stored(r.try_get("code_challenge")?),
            username: r.try_get("username")?,
            scope: r.try_get("scope")?,
            expires_at: r.try_get("expires_at")?,
            used_at: r.try_get("used_at")?,
            family_id: r.try_get("family_id")?,
            access: jti.zip(access_expires),
        }))
    }

    /// Marks the code redeemed at `now` with what the redemption issues. `false` when it was
    /// already redeemed (a concurrent redemption won).
    pub async fn redeem_code(
        &self,
        code_hash: &str,
        now: i64,
        issued: &Redemption<'_>,
    ) -> anyhow::Result<bool> {
        let updated = sqlx::query(
            "UPDATE authorization_codes SET used_at = $1, family_id = $2, access_jti = $3, access_expires_at = $4 \
             WHERE code_hash = $5 AND used_at IS NULL",
        )
        .bind(now)
        .bind(issued.family_id)
        .bind(issued.access_jti)
        .bind(issued.access_expires_at)
        .bind(code_hash)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    /// How many codes are stored, redeemed or not (for tests and operators).
    pub async fn code_rows(&self) -> anyhow::Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM authorization_codes")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Deletes codes that expired before `floor`. A redeemed code is kept until then too, so
    /// that a replay within its lifetime is still recognised.
    pub async fn purge_codes(&self, floor: i64) -> anyhow::Result<u64> {
        Ok(
            sqlx::query("DELETE FROM authorization_codes WHERE expires_at < $1")
                .bind(floor)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }
}

/// Inserts `uris` for `client` inside a transaction.
pub(super) async fn insert_redirect_uris(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    client: &ClientId,
    uris: &[RedirectUri],
) -> anyhow::Result<()> {
    for uri in uris {
        sqlx::query("INSERT INTO client_redirect_uris (client_id, redirect_uri) VALUES ($1, $2)")
            .bind(client.as_str())
            .bind(uri.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

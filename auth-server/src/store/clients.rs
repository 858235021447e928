//! Clients and their scope policy rows.

use anyhow::Context as _;
use sqlx::Row as _;

use super::throttle::Counter;
use super::{Db, is_unique_violation};
use crate::oauth::client_auth::ClientId;
use crate::oauth::policy::{ClientPolicy, GrantPolicy, GrantType};
use crate::oauth::redirect_uri::RedirectUri;
use crate::oauth::scope::ScopeSet;

/// A registered client.
#[derive(Debug, Clone)]
pub struct ClientRecord {
    /// The client id.
    pub client_id: ClientId,
    /// SHA-256 of the secret, hex.
    pub secret_hash: String,
    /// Its scope policy.
    pub policy: ClientPolicy,
    /// When it was registered.
    pub created_at: i64,
}

/// Why a client could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateClientError {
    /// The id is taken (by a client, or by a user: RFC 9700 §4.15).
    #[error("the id {0} is already in use by a client or a user")]
    Taken(String),
    /// Anything else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Db {
    /// The client `id` with its policy, if registered: one query.
    pub async fn client(&self, id: &ClientId) -> anyhow::Result<Option<ClientRecord>> {
        let rows = sqlx::query(
            "SELECT c.client_id, c.secret_hash, c.created_at, g.grant_type, g.allowed_scopes, g.default_scopes \
             FROM clients c LEFT JOIN client_grants g ON g.client_id = c.client_id \
             WHERE c.client_id = $1",
        )
        .bind(id.as_str())
        .fetch_all(self.pool())
        .await?;
        Ok(collect_clients(&rows)?.into_iter().next())
    }

    /// The client `id` with its policy, and the throttling counter of `subject` (a client id
    /// and an address) if its window began after `window_floor`: one query, so that
    /// authenticating a client costs a single round trip. The counter comes back whether or
    /// not the client exists.
    pub async fn client_for_authentication(
        &self,
        id: &ClientId,
        subject: &str,
        window_floor: i64,
    ) -> anyhow::Result<(Option<ClientRecord>, Option<Counter>)> {
        let rows = sqlx::query(
            "SELECT c.client_id, c.secret_hash, c.created_at, g.grant_type, g.allowed_scopes, g.default_scopes, \
                    t.window_start AS throttle_start, t.failures AS throttle_failures \
             FROM (SELECT 1 AS one) AS anchor \
             LEFT JOIN clients c ON c.client_id = $1 \
             LEFT JOIN client_grants g ON g.client_id = c.client_id \
             LEFT JOIN auth_throttle t ON t.subject_kind = 'client' AND t.subject = $2 AND t.window_start > $3",
        )
        .bind(id.as_str())
        .bind(subject)
        .bind(window_floor)
        .fetch_all(self.pool())
        .await?;
        let counter = match rows.first() {
            Some(r) => {
                let start: Option<i64> = r.try_get("throttle_start")?;
                let failures: Option<i64> = r.try_get("throttle_failures")?;
                start.zip(failures).map(|(window_start, failures)| Counter {
                    window_start,
                    failures,
                })
            }
            None => None,
        };
        let known: Vec<_> = rows
            .into_iter()
            .filter(|r| {
                r.try_get::<Option<String>, _>("client_id")
                    .ok()
                    .flatten()
                    .is_some()
            })
            .collect();
        Ok((collect_clients(&known)?.into_iter().next(), counter))
    }

    /// Every client, by id.
    pub async fn list_clients(&self) -> anyhow::Result<Vec<ClientRecord>> {
        let rows = sqlx::query(
            "SELECT c.client_id, c.secret_hash, c.created_at, g.grant_type, g.allowed_scopes, g.default_scopes \
             FROM clients c LEFT JOIN client_grants g ON g.client_id = c.client_id \
             ORDER BY c.client_id, g.grant_type",
        )
        .fetch_all(self.pool())
        .await?;
        collect_clients(&rows)
    }

    /// Registers a client with its policy and redirect URIs, in one transaction. Refused when
    /// the id is already a client's or a user's.
    pub async fn insert_client(
        &self,
        id: &ClientId,
        secret_hash: &str,
        policy: &ClientPolicy,
        redirect_uris: &[RedirectUri],
        now: i64,
    ) -> Result<(), CreateClientError> {
        let mut tx = self.pool().begin().await.map_err(anyhow::Error::from)?;
        let inserted = sqlx::query(
            "INSERT INTO clients (client_id, secret_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(id.as_str())
        .bind(secret_hash)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(CreateClientError::Taken(id.to_string()));
            }
            other => {
                other.map_err(anyhow::Error::from)?;
            }
        }
        let user_named_so = sqlx::query("SELECT 1 FROM users WHERE username = $1")
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(anyhow::Error::from)?;
        if user_named_so.is_some() {
            return Err(CreateClientError::Taken(id.to_string()));
        }
        for row in policy.rows() {
            sqlx::query(
                "INSERT INTO client_grants (client_id, grant_type, allowed_scopes, default_scopes) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id.as_str())
            .bind(row.grant().as_str())
            .bind(row.allowed().to_string())
            .bind(row.default_scopes().to_string())
            .execute(&mut *tx)
            .await
            .map_err(anyhow::Error::from)?;
        }
        super::codes::insert_redirect_uris(&mut tx, id, redirect_uris).await?;
        tx.commit().await.map_err(anyhow::Error::from)?;
        Ok(())
    }

    /// Deletes a client, its policy, redirect URIs, codes and refresh-token families.
    /// `false` if unknown.
    pub async fn delete_client(&self, id: &ClientId) -> anyhow::Result<bool> {
        let mut tx = self.pool().begin().await?;
        let deleted = sqlx::query("DELETE FROM clients WHERE client_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM client_grants WHERE client_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        for statement in [
            "DELETE FROM client_redirect_uris WHERE client_id = $1",
            "DELETE FROM authorization_codes WHERE client_id = $1",
            "DELETE FROM refresh_families WHERE client_id = $1",
        ] {
            sqlx::query(statement)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(deleted > 0)
    }

    /// Gives a client the policy row `row` unless it has one for that grant already (a row
    /// that exists is never changed). `true` when the row was added.
    pub async fn add_grant_if_missing(
        &self,
        id: &ClientId,
        row: &GrantPolicy,
    ) -> anyhow::Result<bool> {
        let added = sqlx::query(
            "INSERT INTO client_grants (client_id, grant_type, allowed_scopes, default_scopes) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (client_id, grant_type) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(row.grant().as_str())
        .bind(row.allowed().to_string())
        .bind(row.default_scopes().to_string())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(added > 0)
    }

    /// Replaces a client's secret hash. `false` if unknown.
    pub async fn set_client_secret(
        &self,
        id: &ClientId,
        secret_hash: &str,
    ) -> anyhow::Result<bool> {
        let updated = sqlx::query("UPDATE clients SET secret_hash = $1 WHERE client_id = $2")
            .bind(secret_hash)
            .bind(id.as_str())
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(updated > 0)
    }
}

/// Folds joined rows (one per grant) into clients.
fn collect_clients(rows: &[sqlx::any::AnyRow]) -> anyhow::Result<Vec<ClientRecord>> {
    let mut clients: Vec<ClientRecord> = Vec::new();
    for r in rows {
        let id: String = r.try_get("client_id")?;
        if clients.last().is_none_or(|c| c.client_id.as_str() != id) {
            clients.push(ClientRecord {
                client_id: ClientId::parse(&id).context("stored client id is invalid")?,
                secret_hash: r.try_get("secret_hash")?,
                policy: ClientPolicy::default(),
                created_at: r.try_get("created_at")?,
            });
        }
        let grant: Option<String> = r.try_get("grant_type")?;
        if let (Some(grant), Some(client)) = (grant, clients.last_mut()) {
            let grant: GrantType = grant
                .parse()
                .map_err(|_| anyhow::anyhow!("stored grant type {grant} is unknown"))?;
            let allowed: String = r.try_get("allowed_scopes")?;
            let default: String = r.try_get("default_scopes")?;
            let row = GrantPolicy::new(
                grant,
                ScopeSet::parse(&allowed).context("stored allowed scopes are invalid")?,
                ScopeSet::parse(&default).context("stored default scopes are invalid")?,
            )
            .context("stored policy row breaks the scope rules")?;
            client.policy.set(row);
        }
    }
    Ok(clients)
}

//! Users (resource owners).

use anyhow::Context as _;
use sqlx::Row as _;

use super::{Db, is_unique_violation};
use crate::oauth::username::Username;

/// A stored user.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// The username.
    pub username: Username,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// A disabled user cannot sign in or refresh.
    pub disabled: bool,
    /// When the user was created.
    pub created_at: i64,
    /// When the password last changed.
    pub password_changed_at: i64,
}

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// The name is taken (by a user, or by a client: RFC 9700 §4.15).
    #[error("the name {0} is already in use by a user or a client")]
    Taken(String),
    /// Anything else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Db {
    /// The user `username`, if any.
    pub async fn user(&self, username: &Username) -> anyhow::Result<Option<UserRecord>> {
        let row = sqlx::query(
            "SELECT username, password_hash, disabled, created_at, password_changed_at FROM users WHERE username = $1",
        )
        .bind(username.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Every user, by name.
    pub async fn list_users(&self) -> anyhow::Result<Vec<UserRecord>> {
        let rows = sqlx::query(
            "SELECT username, password_hash, disabled, created_at, password_changed_at FROM users ORDER BY username",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Creates a user; refused when the name is a user's or a client's.
    pub async fn insert_user(
        &self,
        username: &Username,
        password_hash: &str,
        now: i64,
    ) -> Result<(), CreateUserError> {
        let mut tx = self.pool().begin().await.map_err(anyhow::Error::from)?;
        let inserted = sqlx::query(
            "INSERT INTO users (username, password_hash, disabled, created_at, password_changed_at) \
             VALUES ($1, $2, 0, $3, $3)",
        )
        .bind(username.as_str())
        .bind(password_hash)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(CreateUserError::Taken(username.to_string()));
            }
            other => {
                other.map_err(anyhow::Error::from)?;
            }
        }
        let client_named_so = sqlx::query("SELECT 1 FROM clients WHERE client_id = $1")
            .bind(username.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(anyhow::Error::from)?;
        if client_named_so.is_some() {
            return Err(CreateUserError::Taken(username.to_string()));
        }
        tx.commit().await.map_err(anyhow::Error::from)?;
        Ok(())
    }

    /// Sets a new password and revokes every sign-in of the user (RFC 9700 §4.14.2).
    /// `false` if the user is unknown.
    pub async fn set_password(
        &self,
        username: &Username,
        password_hash: &str,
        now: i64,
    ) -> anyhow::Result<bool> {
        let mut tx = self.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE username = $3",
        )
        .bind(password_hash)
        .bind(now)
        .bind(username.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        revoke_user_families(&mut tx, username, now, "password_changed").await?;
        tx.commit().await?;
        Ok(updated > 0)
    }

    /// Disables a user and revokes every sign-in of theirs. `false` if unknown.
    pub async fn disable_user(&self, username: &Username, now: i64) -> anyhow::Result<bool> {
        let mut tx = self.pool().begin().await?;
        let updated = sqlx::query("UPDATE users SET disabled = 1 WHERE username = $1")
            .bind(username.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        revoke_user_families(&mut tx, username, now, "user_disabled").await?;
        tx.commit().await?;
        Ok(updated > 0)
    }
}

async fn revoke_user_families(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    username: &Username,
    now: i64,
    reason: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE refresh_families SET revoked_at = $1, revoked_reason = $2 WHERE username = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(username.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn user_from_row(r: &sqlx::any::AnyRow) -> anyhow::Result<UserRecord> {
    let username: String = r.try_get("username")?;
    let disabled: i64 = r.try_get("disabled")?;
    Ok(UserRecord {
        username: Username::parse(&username).context("stored username is invalid")?,
        password_hash: r.try_get("password_hash")?,
        disabled: disabled != 0,
        created_at: r.try_get("created_at")?,
        password_changed_at: r.try_get("password_changed_at")?,
    })
}

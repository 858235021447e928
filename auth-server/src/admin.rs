//! Administrative operations, shared by the command line, the demo launcher and tests.

use secrecy::{ExposeSecret as _, SecretString};

use crate::oauth::client_auth::ClientId;
use crate::oauth::keys::{self, ALGORITHM};
use crate::oauth::password::{check_new_password, hash_now};
use crate::oauth::policy::ClientPolicy;
use crate::oauth::redirect_uri::RedirectUri;
use crate::oauth::secrets::{random_token, sha256_hex};
use crate::oauth::username::Username;
use crate::store::Db;
use crate::store::clients::CreateClientError;
use crate::store::users::CreateUserError;

/// Registers a client without redirect URIs (it cannot use the authorization code grant)
/// with a generated 256-bit secret, returned once and stored only hashed.
pub async fn create_client(
    db: &Db,
    id: &ClientId,
    policy: &ClientPolicy,
    now: i64,
) -> Result<SecretString, CreateClientError> {
    create_client_redirecting(db, id, policy, &[], now).await
}

/// Registers a client with its redirect URIs (RFC 6749 §3.1.2.2) and a generated 256-bit
/// secret, returned once and stored only hashed.
pub async fn create_client_redirecting(
    db: &Db,
    id: &ClientId,
    policy: &ClientPolicy,
    redirect_uris: &[RedirectUri],
    now: i64,
) -> Result<SecretString, CreateClientError> {
    let secret = random_token();
    db.insert_client(id, &sha256_hex(&secret), policy, redirect_uris, now)
        .await?;
    Ok(SecretString::from(secret))
}

/// Registers a client with a secret chosen by the caller. Only the demo launcher does this,
/// for its published demo credentials; real deployments use [`create_client`].
pub async fn create_client_with_secret(
    db: &Db,
    id: &ClientId,
    policy: &ClientPolicy,
    redirect_uris: &[RedirectUri],
    secret: &SecretString,
    now: i64,
) -> Result<(), CreateClientError> {
    db.insert_client(
        id,
        &sha256_hex(secret.expose_secret()),
        policy,
        redirect_uris,
        now,
    )
    .await
}

/// Gives a client a new generated secret; the old one stops working at once.
pub async fn rotate_client_secret(db: &Db, id: &ClientId) -> anyhow::Result<Option<SecretString>> {
    let secret = random_token();
    Ok(db
        .set_client_secret(id, &sha256_hex(&secret))
        .await?
        .then(|| SecretString::from(secret)))
}

/// Why a user could not be created or given a password.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The password breaks the policy.
    #[error(transparent)]
    Policy(#[from] crate::oauth::password::PasswordPolicyError),
    /// The name is taken.
    #[error(transparent)]
    Create(#[from] CreateUserError),
    /// Anything else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

async fn hash(password: &SecretString) -> Result<String, UserError> {
    check_new_password(password.expose_secret())?;
    let password = password.clone();
    Ok(
        tokio::task::spawn_blocking(move || hash_now(password.expose_secret()))
            .await
            .map_err(anyhow::Error::from)??,
    )
}

/// Creates a user with an Argon2id-hashed password.
pub async fn create_user(
    db: &Db,
    username: &Username,
    password: &SecretString,
    now: i64,
) -> Result<(), UserError> {
    let hash = hash(password).await?;
    db.insert_user(username, &hash, now).await?;
    Ok(())
}

/// Sets a user's password and ends all their sign-ins. `false` if the user is unknown.
pub async fn set_user_password(
    db: &Db,
    username: &Username,
    password: &SecretString,
    now: i64,
) -> Result<bool, UserError> {
    let hash = hash(password).await?;
    Ok(db.set_password(username, &hash, now).await?)
}

/// Adds a new active signing key and retires the others; they stay published until every
/// token they signed has expired. Returns the new key id.
pub async fn rotate_keys(db: &Db, now: i64) -> anyhow::Result<String> {
    let key = keys::generate()?;
    db.rotate_key(&key, ALGORITHM, now).await?;
    Ok(key.kid)
}

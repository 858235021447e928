//! Seeding the two databases: the one way the demo launcher, the benchmark's fixture and the
//! end-to-end tests migrate a database, register a client, create the people who sign in and
//! load the demo staff. Every step adds only what is missing, so it never overwrites what a
//! running deployment changed.

use auth_server::admin;
use auth_server::oauth::client_auth::ClientId;
use auth_server::oauth::policy::ClientPolicy;
use auth_server::oauth::username::Username;
use secrecy::SecretString;

/// Someone who can sign in: a username and a password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct User<'a> {
    /// The username, as typed at sign-in.
    pub username: &'a str,
    /// The password, in clear (demo and test people only).
    pub password: &'a str,
}

/// Where a new client's secret comes from.
#[derive(Clone, Copy, Debug)]
pub enum Secret<'a> {
    /// This fixed secret (the demo's published credentials).
    Given(&'a str),
    /// A secret generated as `auth-server client create` does.
    Generated,
}

/// The auth server's database at `url`, migrated.
pub async fn auth_database(url: &str) -> anyhow::Result<auth_server::store::Db> {
    let db = auth_server::store::Db::connect(url).await?;
    db.migrate().await?;
    Ok(db)
}

/// The directory API's database at `url`, migrated and, when it holds no record yet, loaded
/// with the demo staff.
pub async fn directory_database(url: &str, now: i64) -> anyhow::Result<directory_api::store::Db> {
    let db = directory_api::store::Db::connect(url).await?;
    db.migrate().await?;
    directory_api::seed::seed_demo(&db, now).await?;
    Ok(db)
}

/// Registers the client `id` with `policy` unless it exists. Returns its secret when it was
/// registered now, `None` when it already existed (its secret is then unknown here).
pub async fn client(
    db: &auth_server::store::Db,
    id: &str,
    policy: &ClientPolicy,
    secret: Secret<'_>,
    now: i64,
) -> anyhow::Result<Option<SecretString>> {
    let id = ClientId::parse(id)?;
    if db.client(&id).await?.is_some() {
        return Ok(None);
    }
    let secret = match secret {
        Secret::Given(given) => {
            let given = SecretString::from(given);
            admin::create_client_with_secret(db, &id, policy, &given, now).await?;
            given
        }
        Secret::Generated => admin::create_client(db, &id, policy, now).await?,
    };
    Ok(Some(secret))
}

/// Creates each of `users` that does not exist yet.
pub async fn users(
    db: &auth_server::store::Db,
    users: &[User<'_>],
    now: i64,
) -> anyhow::Result<()> {
    for user in users {
        let username = Username::parse(user.username)?;
        if db.user(&username).await?.is_none() {
            admin::create_user(db, &username, &SecretString::from(user.password), now).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use secrecy::ExposeSecret as _;

    use super::*;
    use crate::demo;

    #[tokio::test]
    async fn seeding_adds_only_what_is_missing_and_returns_only_new_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/auth.db", dir.path().display());
        let db = auth_database(&url).await.unwrap();
        let policy = demo::web_policy().unwrap();
        let given = client(&db, "web", &policy, Secret::Given("s3cret-value"), 0)
            .await
            .unwrap()
            .expect("registered now");
        assert_eq!(given.expose_secret(), "s3cret-value");
        let generated = client(&db, "other", &policy, Secret::Generated, 0)
            .await
            .unwrap()
            .expect("registered now");
        assert!(generated.expose_secret().len() >= 32);
        // Already there: nothing is overwritten, and no secret is made up.
        assert!(
            client(&db, "web", &policy, Secret::Generated, 0)
                .await
                .unwrap()
                .is_none()
        );
        let alice = User {
            username: "alice",
            password: "alice-password-1",
        };
        users(&db, &[alice], 0).await.unwrap();
        users(&db, &[alice], 0).await.unwrap();
        let username = Username::parse("alice").unwrap();
        assert!(db.user(&username).await.unwrap().is_some());
        db.close().await;
    }
}

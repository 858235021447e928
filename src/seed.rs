//! Seeding the two databases: the one way the demo launcher, the benchmark's fixture and the
//! end-to-end tests migrate a database, register a client, create the people who sign in and
//! load the demo staff. Every step adds only what is missing, so it never overwrites what a
//! running deployment changed.

use auth_server::admin;
use auth_server::oauth::client_auth::ClientId;
use auth_server::oauth::policy::ClientPolicy;
use auth_server::oauth::redirect_uri::RedirectUri;
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

/// Registers the client `id` with `policy` and `redirect_uris` unless it exists. Returns its
/// secret when it was registered now, `None` when it already existed (its secret is then
/// unknown here; the rows of `policy` it lacks and the redirect URIs it lacks are added, so
/// that a database seeded before the authorization code grant existed gains it).
pub async fn client(
    db: &auth_server::store::Db,
    id: &str,
    policy: &ClientPolicy,
    redirect_uris: &[RedirectUri],
    secret: Secret<'_>,
    now: i64,
) -> anyhow::Result<Option<SecretString>> {
    let id = ClientId::parse(id)?;
    if db.client(&id).await?.is_some() {
        for row in policy.rows() {
            db.add_grant_if_missing(&id, row).await?;
        }
        for uri in redirect_uris {
            db.add_redirect_uri(&id, uri).await?;
        }
        return Ok(None);
    }
    let secret = match secret {
        Secret::Given(given) => {
            let given = SecretString::from(given);
            admin::create_client_with_secret(db, &id, policy, redirect_uris, &given, now).await?;
            given
        }
        Secret::Generated => {
            admin::create_client_redirecting(db, &id, policy, redirect_uris, now).await?
        }
    };
    Ok(Some(secret))
}

/// Adds `uri` to the redirect URIs of the client `id` (a website started once its address is
/// known); nothing when it is registered already.
pub async fn redirect_uri(db: &auth_server::store::Db, id: &str, uri: &str) -> anyhow::Result<()> {
    db.add_redirect_uri(&ClientId::parse(id)?, &RedirectUri::parse(uri)?)
        .await
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
        let given = client(&db, "web", &policy, &[], Secret::Given("s3cret-value"), 0)
            .await
            .unwrap()
            .expect("registered now");
        assert_eq!(given.expose_secret(), "s3cret-value");
        let generated = client(&db, "other", &policy, &[], Secret::Generated, 0)
            .await
            .unwrap()
            .expect("registered now");
        assert!(generated.expose_secret().len() >= 32);
        // Already there: nothing is overwritten, and no secret is made up; a missing
        // redirect URI is added, once.
        let uri = RedirectUri::parse("http://127.0.0.1:8080/sign-in/callback").unwrap();
        for _ in 0..2 {
            assert!(
                client(
                    &db,
                    "web",
                    &policy,
                    std::slice::from_ref(&uri),
                    Secret::Generated,
                    0
                )
                .await
                .unwrap()
                .is_none()
            );
        }
        let web = ClientId::parse("web").unwrap();
        assert_eq!(db.redirect_uris(&web).await.unwrap(), vec![uri]);
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

//! The fixed demo credentials. They exist only when the demo launcher seeds them; a real
//! deployment creates its own clients with `auth-server client create`, which generates
//! secrets.

use auth_server::admin;
use auth_server::oauth::client_auth::ClientId;
use auth_server::oauth::policy::{ClientPolicy, GrantPolicy, GrantType};
use auth_server::oauth::scope::{Scope, ScopeSet};
use auth_server::oauth::username::Username;
use auth_server::store::Db;
use secrecy::SecretString;

/// The web app's client id.
pub const WEB_CLIENT_ID: &str = "directory-web";
/// The web app's demo secret.
pub const WEB_CLIENT_SECRET: &str = "directory-web-demo-secret";
/// The HR import job's client id.
pub const HR_CLIENT_ID: &str = "hr-sync";
/// The HR import job's demo secret.
pub const HR_CLIENT_SECRET: &str = "hr-sync-demo-secret";
/// The demo staff users: username, password, who they are.
pub const DEMO_USERS: [(&str, &str, &str); 2] = [
    (
        "ajohnson",
        "lincoln-demo-1",
        "Dr Alice Johnson, School of Computer Science",
    ),
    (
        "bokafor",
        "lincoln-demo-2",
        "Ben Okafor, School of Chemistry",
    ),
];

/// The web app's policy: `directory:read` for itself; `directory:read profile:write` for a
/// signed-in member of staff.
pub fn web_policy() -> anyhow::Result<ClientPolicy> {
    let read = ScopeSet::EMPTY.with(Scope::DirectoryRead);
    let user = read.with(Scope::ProfileWrite);
    let mut policy = ClientPolicy::default();
    policy.set(GrantPolicy::new(GrantType::ClientCredentials, read, read)?);
    policy.set(GrantPolicy::new(GrantType::Password, user, user)?);
    Ok(policy)
}

/// The HR job's policy: `directory:read directory:admin` for itself, nothing else.
pub fn hr_policy() -> anyhow::Result<ClientPolicy> {
    let admin = ScopeSet::EMPTY
        .with(Scope::DirectoryRead)
        .with(Scope::DirectoryAdmin);
    let mut policy = ClientPolicy::default();
    policy.set(GrantPolicy::new(
        GrantType::ClientCredentials,
        admin,
        admin,
    )?);
    Ok(policy)
}

/// Seeds whatever of the demo credentials is missing; never overwrites what exists, so
/// changes made while the demo ran survive a restart.
pub async fn seed_auth(db: &Db, now: i64) -> anyhow::Result<()> {
    for (id, secret, policy) in [
        (WEB_CLIENT_ID, WEB_CLIENT_SECRET, web_policy()?),
        (HR_CLIENT_ID, HR_CLIENT_SECRET, hr_policy()?),
    ] {
        let id = ClientId::parse(id)?;
        if db.client(&id).await?.is_none() {
            admin::create_client_with_secret(db, &id, &policy, &SecretString::from(secret), now)
                .await?;
        }
    }
    for (username, password, _) in DEMO_USERS {
        let username = Username::parse(username)?;
        if db.user(&username).await?.is_none() {
            admin::create_user(db, &username, &SecretString::from(password), now).await?;
        }
    }
    Ok(())
}

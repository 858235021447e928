//! The fixed demo credentials. They exist only when the demo launcher seeds them; a real
//! deployment creates its own clients with `auth-server client create`, which generates
//! secrets.

use auth_server::oauth::policy::{ClientPolicy, GrantPolicy, GrantType};
use auth_server::oauth::scope::{Scope, ScopeSet};
use auth_server::store::Db;

use crate::seed::{self, Secret};

/// The web app's client id.
pub const WEB_CLIENT_ID: &str = "directory-web";
/// The web app's demo secret.
pub const WEB_CLIENT_SECRET: &str = "directory-web-demo-secret";
/// The HR import job's client id.
pub const HR_CLIENT_ID: &str = "hr-sync";
/// The HR import job's demo secret.
pub const HR_CLIENT_SECRET: &str = "hr-sync-demo-secret";
/// A demo member of staff who can sign in.
#[derive(Clone, Copy, Debug)]
pub struct DemoUser {
    /// The username.
    pub username: &'static str,
    /// The published demo password.
    pub password: &'static str,
    /// Who they are, for the launcher's banner.
    pub who: &'static str,
}

impl DemoUser {
    /// Their credentials, as seeding takes them.
    pub fn user(&self) -> seed::User<'static> {
        seed::User {
            username: self.username,
            password: self.password,
        }
    }
}

/// The demo staff users.
pub const DEMO_USERS: [DemoUser; 2] = [
    DemoUser {
        username: "ajohnson",
        password: "lincoln-demo-1",
        who: "Dr Alice Johnson, School of Computer Science",
    },
    DemoUser {
        username: "bokafor",
        password: "lincoln-demo-2",
        who: "Ben Okafor, School of Chemistry",
    },
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
        seed::client(db, id, &policy, Secret::Given(secret), now).await?;
    }
    seed::users(db, &DEMO_USERS.map(|u| u.user()), now).await
}

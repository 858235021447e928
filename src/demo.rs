//! The fixed demo credentials. They exist only when the demo launcher seeds them; a real
//! deployment creates its own clients with `auth-server client create`, which generates
//! secrets.

use std::net::SocketAddr;

use auth_server::oauth::policy::{ClientPolicy, GrantPolicy, GrantType};
use auth_server::oauth::redirect_uri::RedirectUri;
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
/// signed-in member of staff, whichever way they sign in (the password grant, or the
/// authorization code grant on the auth server's own page).
pub fn web_policy() -> anyhow::Result<ClientPolicy> {
    let read = ScopeSet::EMPTY.with(Scope::DirectoryRead);
    let user = read.with(Scope::ProfileWrite);
    let mut policy = ClientPolicy::default();
    policy.set(GrantPolicy::new(GrantType::ClientCredentials, read, read)?);
    policy.set(GrantPolicy::new(GrantType::Password, user, user)?);
    policy.set(GrantPolicy::new(GrantType::AuthorizationCode, user, user)?);
    Ok(policy)
}

/// The redirect URI of a website bound to `web_bind`: `http://{web bind}/sign-in/callback`,
/// with an unspecified address (`0.0.0.0`, `::`) read as loopback, where a browser on this
/// machine reaches it.
pub fn web_redirect_uri(web_bind: SocketAddr) -> anyhow::Result<RedirectUri> {
    let mut address = web_bind;
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    Ok(RedirectUri::parse(&format!(
        "http://{address}/sign-in/callback"
    ))?)
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

/// Seeds whatever of the demo credentials is missing, for a website on its default address.
pub async fn seed_auth(db: &Db, now: i64) -> anyhow::Result<()> {
    let default_web = directory_web::config::DEFAULT_BIND.parse()?;
    seed_auth_for(db, default_web, now).await
}

/// Seeds whatever of the demo credentials is missing, the web app's redirect URI being the
/// one of a website bound to `web_bind` ([`web_redirect_uri`]); never overwrites what exists,
/// so changes made while the demo ran survive a restart (a redirect URI or policy row the web
/// app lacks is added).
pub async fn seed_auth_for(db: &Db, web_bind: SocketAddr, now: i64) -> anyhow::Result<()> {
    let web_uris = [web_redirect_uri(web_bind)?];
    for (id, secret, policy, uris) in [
        (
            WEB_CLIENT_ID,
            WEB_CLIENT_SECRET,
            web_policy()?,
            &web_uris[..],
        ),
        (HR_CLIENT_ID, HR_CLIENT_SECRET, hr_policy()?, &[][..]),
    ] {
        seed::client(db, id, &policy, uris, Secret::Given(secret), now).await?;
    }
    seed::users(db, &DEMO_USERS.map(|u| u.user()), now).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_web_redirect_uri_follows_the_bind_address_and_reads_unspecified_as_loopback() {
        let uri = |bind: &str| web_redirect_uri(bind.parse().unwrap()).unwrap().to_string();
        assert_eq!(
            uri("127.0.0.1:8080"),
            "http://127.0.0.1:8080/sign-in/callback"
        );
        assert_eq!(
            uri("127.0.0.1:9090"),
            "http://127.0.0.1:9090/sign-in/callback"
        );
        assert_eq!(
            uri("0.0.0.0:8080"),
            "http://127.0.0.1:8080/sign-in/callback"
        );
        assert_eq!(uri("[::1]:8080"), "http://[::1]:8080/sign-in/callback");
    }
}

//! `auth-server client …`: registering clients, their scope policy and redirect URIs.

use anyhow::Context as _;
use clap::{Args, Subcommand};
use secrecy::ExposeSecret as _;

use crate::admin;
use crate::oauth::client_auth::ClientId;
use crate::oauth::policy::{ClientPolicy, GrantPolicy, GrantType};
use crate::oauth::redirect_uri::RedirectUri;
use crate::oauth::scope::ScopeSet;
use crate::store::Db;

/// `auth-server client …`
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its generated secret once.
    Create(ClientCreateArgs),
    /// List clients and their scope policy.
    List,
    /// Delete a client and end every sign-in made through it.
    Delete {
        /// The client id.
        id: String,
    },
    /// Replace a client's secret with a new generated one, printed once.
    RotateSecret {
        /// The client id.
        id: String,
    },
    /// Change a client's registration: `--redirect-uri` (repeatable) replaces its redirect
    /// URIs.
    Update {
        /// The client id.
        id: String,
        /// A redirect URI for the authorization code grant (repeatable; https, or http on a
        /// loopback host); the ones given replace every registered one.
        #[arg(long = "redirect-uri", value_name = "URI", required = true)]
        redirect_uris: Vec<String>,
    },
}

/// Scope policy of a new client: one row per grant it may use.
#[derive(Debug, Args)]
pub struct ClientCreateArgs {
    /// The client id (1 to 128 printable ASCII characters).
    pub id: String,
    /// Scopes the client may get for itself with `client_credentials`, space-separated
    /// (never `profile:write`).
    #[arg(long, value_name = "SCOPES")]
    pub client_credentials_scopes: Option<String>,
    /// Scopes granted with `client_credentials` when none are asked for (default: all allowed).
    #[arg(long, value_name = "SCOPES", requires = "client_credentials_scopes")]
    pub client_credentials_default_scopes: Option<String>,
    /// Scopes the client may get for a signed-in user with `password` and `refresh_token`
    /// (never `directory:admin`).
    #[arg(long, value_name = "SCOPES")]
    pub password_grant_scopes: Option<String>,
    /// Scopes granted with `password` when none are asked for (default: all allowed).
    #[arg(long, value_name = "SCOPES", requires = "password_grant_scopes")]
    pub password_grant_default_scopes: Option<String>,
    /// Scopes the client may get for a person who signs in on this server's page, with
    /// `authorization_code` and then `refresh_token` (never `directory:admin`; needs
    /// `--redirect-uri`).
    #[arg(long, value_name = "SCOPES", requires = "redirect_uris")]
    pub authorization_code_scopes: Option<String>,
    /// Scopes granted with `authorization_code` when none are asked for (default: all allowed).
    #[arg(long, value_name = "SCOPES", requires = "authorization_code_scopes")]
    pub authorization_code_default_scopes: Option<String>,
    /// A redirect URI for the authorization code grant (repeatable): https, or http on a
    /// loopback host only; requests must name one exactly.
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Vec<String>,
}

impl ClientCreateArgs {
    /// The policy the flags describe.
    pub fn policy(&self) -> anyhow::Result<ClientPolicy> {
        let mut policy = ClientPolicy::default();
        let rows = [
            (
                GrantType::ClientCredentials,
                &self.client_credentials_scopes,
                &self.client_credentials_default_scopes,
            ),
            (
                GrantType::Password,
                &self.password_grant_scopes,
                &self.password_grant_default_scopes,
            ),
            (
                GrantType::AuthorizationCode,
                &self.authorization_code_scopes,
                &self.authorization_code_default_scopes,
            ),
        ];
        for (grant, allowed, default) in rows {
            let Some(allowed) = allowed else { continue };
            let allowed =
                ScopeSet::parse(allowed).with_context(|| format!("the {grant} scopes"))?;
            let default = match default {
                Some(d) => {
                    ScopeSet::parse(d).with_context(|| format!("the {grant} default scopes"))?
                }
                None => allowed,
            };
            policy.set(GrantPolicy::new(grant, allowed, default)?);
        }
        anyhow::ensure!(
            policy.rows().next().is_some(),
            "give the client at least one grant: --client-credentials-scopes, --password-grant-scopes or --authorization-code-scopes"
        );
        Ok(policy)
    }

    /// The redirect URIs the flags give, each checked ([`RedirectUri::parse`]).
    pub fn redirect_uris(&self) -> anyhow::Result<Vec<RedirectUri>> {
        parse_redirect_uris(&self.redirect_uris)
    }
}

/// Each of `uris` checked for registration.
fn parse_redirect_uris(uris: &[String]) -> anyhow::Result<Vec<RedirectUri>> {
    uris.iter()
        .map(|u| RedirectUri::parse(u).with_context(|| format!("the redirect URI {u}")))
        .collect()
}

fn client_id(id: &str) -> anyhow::Result<ClientId> {
    ClientId::parse(id).map_err(Into::into)
}

pub(super) async fn client(db: &Db, command: ClientCommand, now: i64) -> anyhow::Result<()> {
    match command {
        ClientCommand::Create(args) => {
            let id = client_id(&args.id)?;
            let secret = admin::create_client_redirecting(
                db,
                &id,
                &args.policy()?,
                &args.redirect_uris()?,
                now,
            )
            .await?;
            println!("client {id} created");
            println!(
                "client secret (shown once, store it now): {}",
                secret.expose_secret()
            );
        }
        ClientCommand::List => {
            for c in db.list_clients().await? {
                let rows: Vec<String> = c
                    .policy
                    .rows()
                    .map(|r| {
                        format!(
                            "{}=[{}] default=[{}]",
                            r.grant(),
                            r.allowed(),
                            r.default_scopes()
                        )
                    })
                    .collect();
                let uris: Vec<String> = db
                    .redirect_uris(&c.client_id)
                    .await?
                    .iter()
                    .map(|u| format!("redirect_uri={u}"))
                    .collect();
                println!("{}\t{}", c.client_id, [rows, uris].concat().join("\t"));
            }
        }
        ClientCommand::Delete { id } => {
            let id = client_id(&id)?;
            anyhow::ensure!(db.delete_client(&id).await?, "no client {id}");
            println!("client {id} deleted");
        }
        ClientCommand::Update { id, redirect_uris } => {
            let id = client_id(&id)?;
            let uris = parse_redirect_uris(&redirect_uris)?;
            anyhow::ensure!(db.set_redirect_uris(&id, &uris).await?, "no client {id}");
            println!("client {id} updated: {} redirect URI(s)", uris.len());
        }
        ClientCommand::RotateSecret { id } => {
            let id = client_id(&id)?;
            let secret = admin::rotate_client_secret(db, &id)
                .await?
                .with_context(|| format!("no client {id}"))?;
            println!(
                "new client secret for {id} (shown once, store it now): {}",
                secret.expose_secret()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};

    fn create(args: &[&str]) -> Result<ClientCreateArgs, clap::Error> {
        let argv = [&["auth-server", "client", "create", "web"], args].concat();
        match Cli::try_parse_from(argv)?.command {
            Command::Client(ClientCommand::Create(args)) => Ok(args),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn the_authorization_code_grant_needs_a_redirect_uri_and_follows_the_scope_rules() {
        assert!(create(&["--authorization-code-scopes", "directory:read"]).is_err());
        let args = create(&[
            "--authorization-code-scopes",
            "directory:read profile:write",
            "--authorization-code-default-scopes",
            "directory:read",
            "--redirect-uri",
            "https://app.example.edu/cb",
            "--redirect-uri",
            "http://127.0.0.1:8080/sign-in/callback",
        ])
        .unwrap();
        let row = *args
            .policy()
            .unwrap()
            .row(GrantType::AuthorizationCode)
            .unwrap();
        assert_eq!(row.default_scopes().to_string(), "directory:read");
        assert_eq!(args.redirect_uris().unwrap().len(), 2);
        let admin = create(&[
            "--authorization-code-scopes",
            "directory:admin",
            "--redirect-uri",
            "https://app.example.edu/cb",
        ])
        .unwrap();
        assert!(admin.policy().is_err());
    }

    #[test]
    fn cleartext_redirect_uris_are_refused_except_on_loopback() {
        let args = create(&[
            "--authorization-code-scopes",
            "directory:read",
            "--redirect-uri",
            "http://app.example.edu/cb",
        ])
        .unwrap();
        let error = args.redirect_uris().unwrap_err();
        assert!(format!("{error:#}").contains("https"), "{error:#}");
    }
}

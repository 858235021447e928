//! The command line of the `auth-server` binary: its global flags, `serve` and the
//! administrative commands.

use std::io::{BufRead as _, IsTerminal as _};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use secrecy::SecretString;

mod client;

pub use client::{ClientCommand, ClientCreateArgs};

use crate::admin;
use crate::config::{
    DEFAULT_CLIENT_TOKEN_TTL_SECS, DEFAULT_DATABASE_URL, DEFAULT_USER_TOKEN_TTL_SECS, ServeArgs,
    Settings,
};
use crate::oauth::keys::is_published;
use crate::oauth::username::Username;
use crate::startup::Application;
use crate::store::Db;
use service_kit::clock::{Clock as _, SystemClock};

/// OAuth 2.0 authorization server of the Staff Directory.
#[derive(Debug, Parser)]
#[command(name = "auth-server", version, about)]
pub struct Cli {
    /// Database URL: `sqlite://PATH` (created on first start) or `postgres://…`.
    #[arg(long, env = "AUTH_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: service_kit::db::DatabaseUrl,

    /// A file holding the database URL (for a URL with a password, from a mounted secret).
    #[arg(
        long,
        env = "AUTH_DATABASE_URL_FILE",
        global = true,
        conflicts_with = "database_url"
    )]
    pub database_url_file: Option<std::path::PathBuf>,

    /// Log format.
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: service_kit::telemetry::LogFormat,

    /// A file holding the key that encrypts the signing keys (and the device-token key) at
    /// rest: 32 bytes, written as 64 hex digits or as base64. Without it they are stored in
    /// plain text, readable by anyone who can read the database.
    #[arg(long, env = "AUTH_KEY_ENCRYPTION_KEY_FILE", global = true)]
    pub key_encryption_key_file: Option<std::path::PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The database URL: from `--database-url-file` when given, else `--database-url`.
    pub fn database_url(&self) -> anyhow::Result<service_kit::db::DatabaseUrl> {
        service_kit::db::url_from(&self.database_url, self.database_url_file.as_deref())
    }
}

/// The commands of the binary.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage users (members of staff).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// `auth-server user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from standard input (prompted on a terminal).
    Create {
        /// The username (a-z, 0-9, '.', '_', '-').
        username: String,
    },
    /// Set a user's password (read from standard input) and end all their sign-ins.
    SetPassword {
        /// The username.
        username: String,
    },
    /// Disable a user and end all their sign-ins.
    Disable {
        /// The username.
        username: String,
    },
    /// List users.
    List,
}

/// `auth-server keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key and retire the current one (it stays published until its
    /// tokens have expired).
    Rotate,
    /// List signing keys.
    List {
        /// The longest token lifetime, to tell which retired keys are still published
        /// (default: the longer of the two default token lifetimes).
        #[arg(long, env = "AUTH_MAX_TOKEN_TTL_SECS", default_value_t = DEFAULT_USER_TOKEN_TTL_SECS.max(DEFAULT_CLIENT_TOKEN_TTL_SECS))]
        max_token_ttl_secs: i64,
    },
}

/// Runs a command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let now = SystemClock.now();
    let database_url = cli.database_url()?;
    let kek_file = cli.key_encryption_key_file.clone();
    let serve_args = match cli.command {
        Command::Serve(args) => args,
        command => {
            let kek = kek_file
                .as_deref()
                .map(crate::at_rest::KeyEncryptionKey::from_file)
                .transpose()?;
            let db = Db::connect(&database_url).await?.with_key_encryption(kek);
            db.migrate().await?;
            let result = run_admin(&db, command, now).await;
            db.close().await;
            return result;
        }
    };
    serve(Settings {
        database_url,
        serve: serve_args,
        key_encryption_key_file: kek_file,
    })
    .await
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    tracing::info!(address = %app.address(), issuer = app.issuer(), "auth server listening");
    app.run_until_stopped().await?;
    Ok(())
}

async fn run_admin(db: &Db, command: Command, now: i64) -> anyhow::Result<()> {
    match command {
        Command::Serve(_) => Ok(()),
        Command::Migrate => {
            println!("migrations applied");
            Ok(())
        }
        Command::Client(c) => client::client(db, c, now).await,
        Command::User(c) => user(db, c, now).await,
        Command::Keys(c) => keys(db, c, now).await,
    }
}

fn read_password() -> anyhow::Result<SecretString> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat password: ")?;
        anyhow::ensure!(first == second, "the passwords differ");
        return Ok(SecretString::from(first));
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    // Only the line ending is removed: spaces are part of the password.
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    Ok(SecretString::from(password.to_owned()))
}

async fn user(db: &Db, command: UserCommand, now: i64) -> anyhow::Result<()> {
    match command {
        UserCommand::Create { username } => {
            let username = Username::parse(&username)?;
            admin::create_user(db, &username, &read_password()?, now).await?;
            println!("user {username} created");
        }
        UserCommand::SetPassword { username } => {
            let username = Username::parse(&username)?;
            anyhow::ensure!(
                admin::set_user_password(db, &username, &read_password()?, now).await?,
                "no user {username}"
            );
            println!("password of {username} changed; their sign-ins were ended");
        }
        UserCommand::Disable { username } => {
            let username = Username::parse(&username)?;
            anyhow::ensure!(db.disable_user(&username, now).await?, "no user {username}");
            println!("user {username} disabled; their sign-ins were ended");
        }
        UserCommand::List => {
            for u in db.list_users().await? {
                println!(
                    "{}\t{}",
                    u.username,
                    if u.disabled { "disabled" } else { "active" }
                );
            }
        }
    }
    Ok(())
}

async fn keys(db: &Db, command: KeysCommand, now: i64) -> anyhow::Result<()> {
    match command {
        KeysCommand::Rotate => {
            let kid = admin::rotate_keys(db, now).await?;
            println!(
                "new signing key {kid} added: published now, signing new tokens within {} seconds \
                 (tokens signed with the previous key stay valid until they expire)",
                crate::oauth::keys::ACTIVATION_DELAY_SECS + crate::oauth::keys::RELOAD_SECS
            );
        }
        KeysCommand::List { max_token_ttl_secs } => {
            for k in db.all_keys().await? {
                let status = match k.retired_at {
                    None => "active",
                    Some(_) if is_published(&k, now, max_token_ttl_secs) => {
                        "retired, still published"
                    }
                    Some(_) => "retired, unpublished",
                };
                println!(
                    "{}\t{}\tcreated {}\t{}",
                    k.kid, k.algorithm, k.created_at, status
                );
            }
        }
    }
    Ok(())
}

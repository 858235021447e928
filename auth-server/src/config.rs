//! Settings of the auth server: command-line flags with environment-variable equivalents.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

use crate::oauth::throttle::ThrottlePolicy;

/// The default bind address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8082";
/// The default audience: the directory API's identifier.
pub const DEFAULT_AUDIENCE: &str = "urn:staff-directory:api";
/// The default database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/auth.db";

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
    pub log_format: crate::telemetry::LogFormat,

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
    Client(crate::cli::ClientCommand),
    /// Manage users (members of staff).
    #[command(subcommand)]
    User(crate::cli::UserCommand),
    /// Manage token signing keys.
    #[command(subcommand)]
    Keys(crate::cli::KeysCommand),
}

/// Settings of the HTTP server.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "AUTH_BIND", default_value = DEFAULT_BIND)]
    pub bind: SocketAddr,

    /// Issuer identifier (the `iss` of tokens and of the metadata). Default: `http://` + the bound address.
    #[arg(long, env = "AUTH_ISSUER")]
    pub issuer: Option<String>,

    /// Audience of access tokens: the directory API's identifier.
    #[arg(long, env = "AUTH_AUDIENCE", default_value = DEFAULT_AUDIENCE)]
    pub audience: String,

    /// Lifetime of users' access tokens, in seconds.
    #[arg(long, env = "AUTH_USER_TOKEN_TTL_SECS", default_value_t = 300)]
    pub user_token_ttl_secs: i64,

    /// Lifetime of clients' access tokens, in seconds.
    #[arg(long, env = "AUTH_CLIENT_TOKEN_TTL_SECS", default_value_t = 900)]
    pub client_token_ttl_secs: i64,

    /// A refresh token unused for this long expires, in seconds.
    #[arg(long, env = "AUTH_REFRESH_IDLE_TTL_SECS", default_value_t = 8 * 3600)]
    pub refresh_idle_ttl_secs: i64,

    /// A sign-in can be refreshed for at most this long, in seconds.
    #[arg(long, env = "AUTH_REFRESH_MAX_TTL_SECS", default_value_t = 24 * 3600)]
    pub refresh_max_ttl_secs: i64,

    /// Password hashes computed at once (default: the number of CPUs).
    #[arg(long, env = "AUTH_PASSWORD_HASH_CONCURRENCY")]
    pub password_hash_concurrency: Option<usize>,

    /// Failed sign-ins allowed for one username within the window before it is locked.
    #[arg(long, env = "AUTH_MAX_FAILED_SIGN_INS", default_value_t = 5)]
    pub max_failed_sign_ins: i64,

    /// Failed client authentications allowed for one client id from one address within the window.
    #[arg(long, env = "AUTH_MAX_FAILED_CLIENT_AUTH", default_value_t = 10)]
    pub max_failed_client_auth: i64,

    /// The throttling window, in seconds.
    #[arg(long, env = "AUTH_THROTTLE_WINDOW_SECS", default_value_t = 900)]
    pub throttle_window_secs: i64,

    /// HTTP worker threads (default: the number of CPU cores).
    #[arg(long, env = "AUTH_WORKERS")]
    pub workers: Option<usize>,

    /// On SIGTERM, answer `/readyz` with 503 for this many seconds while still serving, so that
    /// load balancers stop sending requests before the listener closes; 0 stops at once.
    #[arg(long, env = "AUTH_SHUTDOWN_DRAIN_SECS", default_value_t = 0)]
    pub shutdown_drain_secs: u64,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            bind: ([127, 0, 0, 1], 8082).into(),
            issuer: None,
            audience: DEFAULT_AUDIENCE.to_owned(),
            user_token_ttl_secs: 300,
            client_token_ttl_secs: 900,
            refresh_idle_ttl_secs: 8 * 3600,
            refresh_max_ttl_secs: 24 * 3600,
            password_hash_concurrency: None,
            max_failed_sign_ins: 5,
            max_failed_client_auth: 10,
            throttle_window_secs: 900,
            workers: None,
            shutdown_drain_secs: 0,
        }
    }
}

/// Everything [`crate::startup::Application::build`] needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Database URL (its password never shows in `Debug`).
    pub database_url: service_kit::db::DatabaseUrl,
    /// Server settings.
    pub serve: ServeArgs,
}

impl Settings {
    /// Settings with every default, on `database_url` and `bind`.
    pub fn new(database_url: impl Into<String>, bind: SocketAddr) -> Self {
        Self {
            database_url: service_kit::db::DatabaseUrl::from(database_url.into()),
            serve: ServeArgs {
                bind,
                ..ServeArgs::default()
            },
        }
    }

    /// Checks values that flags alone cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        let s = &self.serve;
        for (name, v) in [
            ("user token lifetime", s.user_token_ttl_secs),
            ("client token lifetime", s.client_token_ttl_secs),
            ("refresh idle lifetime", s.refresh_idle_ttl_secs),
            ("refresh maximum lifetime", s.refresh_max_ttl_secs),
            ("throttle window", s.throttle_window_secs),
            ("maximum failed sign-ins", s.max_failed_sign_ins),
            (
                "maximum failed client authentications",
                s.max_failed_client_auth,
            ),
        ] {
            anyhow::ensure!(v > 0, "the {name} must be positive (got {v})");
        }
        if let Some(issuer) = &s.issuer {
            anyhow::ensure!(
                (issuer.starts_with("https://") || issuer.starts_with("http://"))
                    && !issuer.contains('?')
                    && !issuer.contains('#')
                    && !issuer.ends_with('/'),
                "the issuer must be an http(s) URL with no query, fragment or trailing slash (RFC 8414 §2)"
            );
        }
        anyhow::ensure!(
            !s.audience.trim().is_empty(),
            "the audience must not be empty"
        );
        Ok(())
    }

    /// The throttling policy for sign-ins.
    pub fn user_throttle(&self) -> ThrottlePolicy {
        ThrottlePolicy {
            max_failures: self.serve.max_failed_sign_ins,
            window_secs: self.serve.throttle_window_secs,
        }
    }

    /// The throttling policy for client authentication.
    pub fn client_throttle(&self) -> ThrottlePolicy {
        ThrottlePolicy {
            max_failures: self.serve.max_failed_client_auth,
            window_secs: self.serve.throttle_window_secs,
        }
    }

    /// The longest lifetime of any access token.
    pub fn max_token_ttl(&self) -> i64 {
        self.serve
            .user_token_ttl_secs
            .max(self.serve.client_token_ttl_secs)
    }
}

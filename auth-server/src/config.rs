//! Settings of the auth server: the server's flags (`ServeArgs`, each with its environment
//! variable and its default, written once in its clap attribute) and what
//! [`crate::startup::Application::build`] takes (`Settings`). The command line that carries
//! them is `cli.rs`.

use std::net::SocketAddr;

use clap::Args;

use crate::oauth::throttle::ThrottlePolicy;

/// The default bind address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8082";
/// The default audience: the directory API's identifier.
pub const DEFAULT_AUDIENCE: &str = "urn:staff-directory:api";
/// The default database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/auth.db";
/// Password hashes that may wait for a thread by default: at ~7 ms a hash per thread, a
/// queue this long drains in well under a second on two cores.
pub const DEFAULT_PASSWORD_HASH_QUEUE: usize = 64;
/// Failed sign-ins a known browser may make per window by default.
pub const DEFAULT_MAX_FAILED_PER_DEVICE: i64 = 5;
/// How often expired throttling counters are purged by default, in seconds.
pub const DEFAULT_THROTTLE_PURGE_SECS: u64 = 60;
/// The default lifetime of users' access tokens, in seconds.
pub const DEFAULT_USER_TOKEN_TTL_SECS: i64 = 300;
/// The default lifetime of clients' access tokens, in seconds.
pub const DEFAULT_CLIENT_TOKEN_TTL_SECS: i64 = 900;
/// The default refresh reuse grace, in seconds.
pub const DEFAULT_REFRESH_REUSE_GRACE_SECS: i64 = 2;

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
    #[arg(long, env = "AUTH_USER_TOKEN_TTL_SECS", default_value_t = DEFAULT_USER_TOKEN_TTL_SECS)]
    pub user_token_ttl_secs: i64,

    /// Lifetime of clients' access tokens, in seconds.
    #[arg(long, env = "AUTH_CLIENT_TOKEN_TTL_SECS", default_value_t = DEFAULT_CLIENT_TOKEN_TTL_SECS)]
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

    /// Password hashes that may wait for a hashing thread; beyond this a sign-in is answered
    /// at once with 503 `temporarily_unavailable` and `Retry-After`.
    #[arg(long, env = "AUTH_PASSWORD_HASH_QUEUE", default_value_t = DEFAULT_PASSWORD_HASH_QUEUE)]
    pub password_hash_queue: usize,

    /// Failed sign-ins allowed from one browser that the account has signed in from before
    /// (a device token), within the window, before that browser too must wait.
    #[arg(long, env = "AUTH_MAX_FAILED_SIGN_INS_PER_DEVICE", default_value_t = DEFAULT_MAX_FAILED_PER_DEVICE)]
    pub max_failed_sign_ins_per_device: i64,

    /// A rotated-out refresh token presented again within this many seconds of its rotation is
    /// refused without revoking the sign-in (two tabs racing); later, or with 0, it is reuse
    /// and revokes the whole sign-in.
    #[arg(long, env = "AUTH_REFRESH_REUSE_GRACE_SECS", default_value_t = DEFAULT_REFRESH_REUSE_GRACE_SECS)]
    pub refresh_reuse_grace_secs: i64,

    /// Reverse proxies whose `X-Forwarded-For` is believed (comma-separated addresses). Empty:
    /// the connecting address is the client's.
    #[arg(long, env = "AUTH_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Serve `/metrics` on this separate address only (for an internal scrape network);
    /// unset, it is served on the main address.
    #[arg(long, env = "AUTH_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// How often expired throttling counters are deleted from the database, in seconds.
    #[arg(long, env = "AUTH_THROTTLE_PURGE_SECS", default_value_t = DEFAULT_THROTTLE_PURGE_SECS)]
    pub throttle_purge_secs: u64,

    /// HTTP worker threads (default: the number of CPU cores).
    #[arg(long, env = "AUTH_WORKERS")]
    pub workers: Option<usize>,

    /// On SIGTERM, answer `/readyz` with 503 for this many seconds while still serving, so that
    /// load balancers stop sending requests before the listener closes; 0 stops at once.
    #[arg(long, env = "AUTH_SHUTDOWN_DRAIN_SECS", default_value_t = 0)]
    pub shutdown_drain_secs: u64,
}

impl Default for ServeArgs {
    /// Every flag's default, as written in its clap attribute.
    #[allow(
        clippy::expect_used,
        reason = "every flag has a default: see the unit test"
    )]
    fn default() -> Self {
        service_kit::settings::defaults().expect("every serve flag has a default")
    }
}

impl ServeArgs {
    /// How the shared HTTP server listens.
    pub fn server_options(&self) -> service_kit::server::ServerOptions {
        service_kit::server::ServerOptions {
            bind: self.bind,
            metrics_bind: self.metrics_bind,
            workers: self.workers,
            drain_for: std::time::Duration::from_secs(self.shutdown_drain_secs),
            // A sign-in waits for a password hash: one whose client has hung up is skipped.
            watch_hang_ups: true,
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
    /// The key-encryption key's file, if the signing keys are encrypted at rest.
    pub key_encryption_key_file: Option<std::path::PathBuf>,
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
            key_encryption_key_file: None,
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
            (
                "maximum failed sign-ins per device",
                s.max_failed_sign_ins_per_device,
            ),
        ] {
            anyhow::ensure!(v > 0, "the {name} must be positive (got {v})");
        }
        anyhow::ensure!(
            s.refresh_reuse_grace_secs >= 0,
            "the refresh reuse grace must be 0 or more seconds (got {})",
            s.refresh_reuse_grace_secs
        );
        anyhow::ensure!(
            s.throttle_purge_secs > 0,
            "the throttle purge interval must be positive"
        );
        anyhow::ensure!(
            s.password_hash_queue > 0,
            "the password hash queue must hold at least one hash"
        );
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

    /// The key-encryption key, read from its file, if one is configured.
    pub fn key_encryption_key(&self) -> anyhow::Result<Option<crate::at_rest::KeyEncryptionKey>> {
        self.key_encryption_key_file
            .as_deref()
            .map(crate::at_rest::KeyEncryptionKey::from_file)
            .transpose()
    }

    /// The throttling policy for sign-ins.
    pub fn user_throttle(&self) -> ThrottlePolicy {
        ThrottlePolicy {
            max_failures: self.serve.max_failed_sign_ins,
            window_secs: self.serve.throttle_window_secs,
        }
    }

    /// The throttling policy for sign-ins from a browser the account has signed in from before.
    pub fn device_throttle(&self) -> ThrottlePolicy {
        ThrottlePolicy {
            max_failures: self.serve.max_failed_sign_ins_per_device,
            window_secs: self.serve.throttle_window_secs,
        }
    }

    /// The issuer identifier: `--issuer`, or `http://` + the bound address. Refused unless it is
    /// https, or http on a loopback address (see `service_kit::issuer`).
    pub fn issuer(&self, bound: SocketAddr) -> anyhow::Result<String> {
        let issuer = self
            .serve
            .issuer
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"));
        service_kit::issuer::check_issuer(&issuer).map_err(|e| {
            anyhow::anyhow!("{e}; set --issuer (AUTH_ISSUER) to the server's https:// URL")
        })?;
        Ok(issuer)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_flags_defaults() {
        let serve = ServeArgs::default();
        assert_eq!(serve.bind.to_string(), DEFAULT_BIND);
        assert_eq!(serve.audience, DEFAULT_AUDIENCE);
        assert_eq!(serve.user_token_ttl_secs, 300);
        assert_eq!(serve.client_token_ttl_secs, 900);
        assert_eq!(serve.password_hash_queue, DEFAULT_PASSWORD_HASH_QUEUE);
        assert_eq!(serve.issuer, None);
        assert!(serve.trusted_proxies.is_empty());
        assert!(
            Settings::new("sqlite::memory:", serve.bind)
                .validate()
                .is_ok()
        );
    }
}

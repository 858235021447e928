//! Settings of the directory API: the server's flags (`ServeArgs`, each with its environment
//! variable and its default, written once in its clap attribute) and what
//! [`crate::startup::Application::build`] takes (`Settings`). The command line that carries
//! them is `cli.rs`.

use std::net::SocketAddr;

use clap::Args;

/// The default bind address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8081";
/// The default issuer whose tokens are accepted.
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:8082";
/// The API's identifier, expected in `aud`.
pub const DEFAULT_AUDIENCE: &str = "urn:staff-directory:api";
/// The default database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/directory.db";

/// Settings of the HTTP server.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "API_BIND", default_value = DEFAULT_BIND)]
    pub bind: SocketAddr,

    /// The authorization server whose tokens are accepted (its issuer identifier; its
    /// metadata and keys are found under it). `https://`, or `http://` on a loopback host
    /// only (127.0.0.0/8, `[::1]`, localhost): the service refuses to start otherwise.
    #[arg(long, env = "API_ISSUER", default_value = DEFAULT_ISSUER)]
    pub issuer: String,

    /// This API's identifier, which tokens must carry in `aud`.
    #[arg(long, env = "API_AUDIENCE", default_value = DEFAULT_AUDIENCE)]
    pub audience: String,

    /// Fetch the signing keys at most this often, in seconds (an unknown `kid` triggers a fetch).
    #[arg(long, env = "API_JWKS_MIN_REFETCH_SECS", default_value_t = 10)]
    pub jwks_min_refetch_secs: u64,

    /// Refresh signing keys older than this, in seconds.
    #[arg(long, env = "API_JWKS_MAX_AGE_SECS", default_value_t = 300)]
    pub jwks_max_age_secs: u64,

    /// HTTP worker threads (default: the number of CPU cores).
    #[arg(long, env = "API_WORKERS")]
    pub workers: Option<usize>,

    /// On SIGTERM, answer `/readyz` with 503 for this many seconds while still serving, so that
    /// load balancers stop sending requests before the listener closes; 0 stops at once.
    #[arg(long, env = "API_SHUTDOWN_DRAIN_SECS", default_value_t = 0)]
    pub shutdown_drain_secs: u64,

    /// Serve `/metrics` only on this address (a scrape network apart from the public one);
    /// the main address then answers 404 for it. Unset: `/metrics` on the main address.
    #[arg(long, env = "API_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
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
            // Every request is cheap: no connection is worth a descriptor to watch.
            watch_hang_ups: false,
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
    /// Settings with every default, on `database_url`, `bind`, accepting `issuer`'s tokens.
    pub fn new(
        database_url: impl Into<String>,
        bind: SocketAddr,
        issuer: impl Into<String>,
    ) -> Self {
        Self {
            database_url: service_kit::db::DatabaseUrl::from(database_url.into()),
            serve: ServeArgs {
                bind,
                issuer: issuer.into(),
                ..ServeArgs::default()
            },
        }
    }

    /// Checks values that flags alone cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        let issuer = &self.serve.issuer;
        anyhow::ensure!(
            (issuer.starts_with("https://") || issuer.starts_with("http://"))
                && !issuer.contains('?')
                && !issuer.contains('#')
                && !issuer.ends_with('/'),
            "the issuer must be an http(s) URL with no query, fragment or trailing slash (got {issuer:?})"
        );
        // Whoever answers for the issuer can sign any token: https, or http on loopback only.
        service_kit::issuer::check_issuer(issuer)?;
        anyhow::ensure!(
            !self.serve.audience.trim().is_empty(),
            "the audience must not be empty"
        );
        anyhow::ensure!(
            self.serve.jwks_min_refetch_secs > 0,
            "the JWKS refetch interval must be positive"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_http_issuer_is_refused_unless_it_is_on_loopback() {
        let bind: SocketAddr = ([127, 0, 0, 1], 0).into();
        for issuer in [
            "http://127.0.0.1:8082",
            "http://localhost:8082",
            "http://[::1]:8082",
            "https://auth.example.ac.uk",
        ] {
            assert!(
                Settings::new("sqlite::memory:", bind, issuer)
                    .validate()
                    .is_ok(),
                "{issuer}"
            );
        }
        let err = Settings::new("sqlite::memory:", bind, "http://auth.example.ac.uk")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"http://auth.example.ac.uk\""), "{err}");
        assert!(err.contains("not loopback"), "{err}");
    }

    #[test]
    fn the_defaults_are_the_flags_defaults() {
        let serve = ServeArgs::default();
        assert_eq!(serve.bind.to_string(), DEFAULT_BIND);
        assert_eq!(serve.issuer, DEFAULT_ISSUER);
        assert_eq!(serve.audience, DEFAULT_AUDIENCE);
        assert_eq!(serve.jwks_min_refetch_secs, 10);
        assert_eq!(serve.jwks_max_age_secs, 300);
    }

    #[test]
    fn metrics_bind_is_a_serve_flag_unset_by_default() {
        use crate::cli::{Cli, Command};
        use clap::Parser as _;
        let cli =
            Cli::try_parse_from(["directory-api", "serve", "--metrics-bind", "127.0.0.1:9181"])
                .unwrap();
        let Command::Serve(serve) = cli.command else {
            panic!("not serve");
        };
        assert_eq!(serve.metrics_bind, Some(([127, 0, 0, 1], 9181).into()));
        assert_eq!(ServeArgs::default().metrics_bind, None);
    }
}

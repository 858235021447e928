//! Settings of the website: command-line flags with environment-variable equivalents.

use std::net::SocketAddr;

use clap::Parser;
use secrecy::SecretString;

/// The default bind address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// The Staff Directory website.
#[derive(Debug, Clone, Parser)]
#[command(name = "directory-web", version, about)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "WEB_BIND", default_value = DEFAULT_BIND)]
    pub bind: SocketAddr,

    /// The directory API.
    #[arg(long, env = "WEB_API_URL", default_value = "http://127.0.0.1:8081")]
    pub api_url: String,

    /// The authorization server's issuer identifier (its token endpoint is `{issuer}/oauth/token`).
    #[arg(long, env = "WEB_ISSUER", default_value = "http://127.0.0.1:8082")]
    pub issuer: String,

    /// The site's own client id.
    #[arg(long, env = "WEB_CLIENT_ID", default_value = "directory-web")]
    pub client_id: String,

    /// The site's own client secret.
    #[arg(long, env = "WEB_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: SecretString,

    /// Renew the site's own token this many seconds before it expires.
    #[arg(long, env = "WEB_TOKEN_RENEW_BEFORE_SECS", default_value_t = 30)]
    pub token_renew_before_secs: i64,

    /// The key that encrypts session cookies: at least 64 random bytes, base64. Every instance
    /// must share it. Without it a random key is made at start (sessions end at restart).
    #[arg(long, env = "WEB_SESSION_KEY", hide_env_values = true)]
    pub session_key: Option<SecretString>,

    /// The site's public address; an `https://` one makes cookies `Secure` and `__Host-`.
    #[arg(long, env = "WEB_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub public_url: String,

    /// A signed-in session unused for this long ends, in seconds.
    #[arg(long, env = "WEB_IDLE_TIMEOUT_SECS", default_value_t = 1800)]
    pub idle_timeout_secs: i64,

    /// HTTP worker threads (default: the number of CPU cores).
    #[arg(long, env = "WEB_WORKERS")]
    pub workers: Option<usize>,

    /// On SIGTERM, answer `/readyz` with 503 for this many seconds while still serving, so that
    /// load balancers stop sending requests before the listener closes; 0 stops at once.
    #[arg(long, env = "WEB_SHUTDOWN_DRAIN_SECS", default_value_t = 0)]
    pub shutdown_drain_secs: u64,

    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: crate::telemetry::LogFormat,
}

impl Settings {
    /// Settings with every default, on `bind`, for the given API, issuer and client.
    pub fn new(
        bind: SocketAddr,
        api_url: &str,
        issuer: &str,
        client_id: &str,
        client_secret: &str,
    ) -> Self {
        Self {
            bind,
            api_url: api_url.to_owned(),
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: SecretString::from(client_secret.to_owned()),
            token_renew_before_secs: 30,
            session_key: None,
            public_url: format!("http://{bind}"),
            idle_timeout_secs: 1800,
            workers: None,
            shutdown_drain_secs: 0,
            log_format: crate::telemetry::LogFormat::Text,
        }
    }

    /// Checks values that flags alone cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        for (name, url) in [("API URL", &self.api_url), ("issuer", &self.issuer)] {
            anyhow::ensure!(
                (url.starts_with("http://") || url.starts_with("https://")) && !url.ends_with('/'),
                "the {name} must be an http(s) URL without a trailing slash (got {url:?})"
            );
        }
        anyhow::ensure!(
            self.token_renew_before_secs >= 0,
            "the renewal margin must not be negative"
        );
        Ok(())
    }
}

//! Settings of the website: the server's flags (`ServeArgs`, each with its environment
//! variable and its default, written once in its clap attribute) and what
//! [`crate::startup::Application::build`] takes (`Settings`). The command line that carries
//! them is `cli.rs`.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret as _, SecretString};

/// The default bind address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// Settings of the HTTP server.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
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

    /// The site's own client secret (or give `--client-secret-file`).
    #[arg(long, env = "WEB_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<SecretString>,

    /// A file holding the site's own client secret (surrounding whitespace is ignored), such
    /// as a mounted container secret.
    #[arg(long, env = "WEB_CLIENT_SECRET_FILE", conflicts_with = "client_secret")]
    pub client_secret_file: Option<PathBuf>,

    /// Renew the site's own token this many seconds before it expires.
    #[arg(long, env = "WEB_TOKEN_RENEW_BEFORE_SECS", default_value_t = 30)]
    pub token_renew_before_secs: i64,

    /// The key that encrypts session cookies: at least 64 random bytes, base64. Every instance
    /// must share it. Without it a random key is made at start (sessions end at restart).
    #[arg(long, env = "WEB_SESSION_KEY", hide_env_values = true)]
    pub session_key: Option<SecretString>,

    /// A file holding the session key (as `--session-key`).
    #[arg(long, env = "WEB_SESSION_KEY_FILE", conflicts_with = "session_key")]
    pub session_key_file: Option<PathBuf>,

    /// The site's public address; an `https://` one makes cookies `Secure` and `__Host-`, and
    /// adds `Strict-Transport-Security` to every response.
    #[arg(long, env = "WEB_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub public_url: String,

    /// How members of staff may sign in: `authorization-code` (on the authorization server's
    /// own page, with PKCE: RFC 9700 §2.1.1), `password` (the password grant, which RFC 9700
    /// §2.4 forbids; kept to compare), or `both`. A method not offered is not shown, and its
    /// routes answer 404.
    #[arg(long, env = "WEB_SIGN_IN_METHODS", value_enum, default_value = "both")]
    pub sign_in_methods: SignInMethods,

    /// A signed-in session unused for this long ends, in seconds.
    #[arg(long, env = "WEB_IDLE_TIMEOUT_SECS", default_value_t = 1800)]
    pub idle_timeout_secs: i64,

    /// Failed sign-ins allowed from one visitor address within the window; further sign-ins
    /// from it are refused (429) without asking the authorization server.
    #[arg(
        long,
        env = "WEB_MAX_FAILED_SIGN_INS_PER_ADDRESS",
        default_value_t = 20
    )]
    pub max_failed_sign_ins_per_address: u32,

    /// The per-address sign-in window, in seconds.
    #[arg(long, env = "WEB_SIGN_IN_WINDOW_SECS", default_value_t = 900)]
    pub sign_in_window_secs: i64,

    /// Reverse proxies whose `X-Forwarded-For` is believed (comma-separated addresses). Empty:
    /// the connecting address is the visitor's.
    #[arg(long, env = "WEB_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,

    /// HTTP worker threads (default: the number of CPU cores).
    #[arg(long, env = "WEB_WORKERS")]
    pub workers: Option<usize>,

    /// On SIGTERM, answer `/readyz` with 503 for this many seconds while still serving, so that
    /// load balancers stop sending requests before the listener closes; 0 stops at once.
    #[arg(long, env = "WEB_SHUTDOWN_DRAIN_SECS", default_value_t = 0)]
    pub shutdown_drain_secs: u64,

    /// Serve `/metrics` only on this separate address (for a scrape network apart from the
    /// public one); the main address then answers 404 for `/metrics`. Unset: `/metrics` is
    /// served on the main address.
    #[arg(long, env = "WEB_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
}

/// Which ways in the sign-in page offers (`--sign-in-methods`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignInMethods {
    /// Both, the authorization code flow first.
    Both,
    /// Only the authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636).
    AuthorizationCode,
    /// Only the password grant (RFC 6749 §4.3; forbidden by RFC 9700 §2.4).
    Password,
}

impl SignInMethods {
    /// Whether the authorization code flow is offered (`/sign-in/start`, `/sign-in/callback`).
    pub fn authorization_code(self) -> bool {
        matches!(self, Self::Both | Self::AuthorizationCode)
    }

    /// Whether the password form is offered (`POST /sign-in`).
    pub fn password(self) -> bool {
        matches!(self, Self::Both | Self::Password)
    }
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
            // The website waits for no expensive work of its own: no connection is watched.
            watch_hang_ups: false,
        }
    }
}

/// Everything [`crate::startup::Application::build`] needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Server settings.
    pub serve: ServeArgs,
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
            serve: ServeArgs {
                bind,
                api_url: api_url.to_owned(),
                issuer: issuer.to_owned(),
                client_id: client_id.to_owned(),
                client_secret: Some(SecretString::from(client_secret.to_owned())),
                public_url: format!("http://{bind}"),
                ..ServeArgs::default()
            },
        }
    }

    /// Whether the site is served over HTTPS (its public URL is `https://`): cookies are then
    /// `Secure` with a `__Host-` name, and every response carries HSTS.
    pub fn served_over_https(&self) -> bool {
        self.serve.public_url.starts_with("https://")
    }

    /// The public URL once the server is bound to `bound`: a public URL on port 0 (as tests
    /// and the launcher give when binding port 0) takes the port actually bound; any other is
    /// kept as configured (a proxy in front may serve another port).
    pub fn public_url_bound_to(&self, bound: SocketAddr) -> String {
        let configured = &self.serve.public_url;
        match reqwest::Url::parse(configured) {
            Ok(mut url) if url.port() == Some(0) => match url.set_port(Some(bound.port())) {
                Ok(()) => url.as_str().trim_end_matches('/').to_owned(),
                Err(()) => configured.clone(),
            },
            _ => configured.clone(),
        }
    }

    /// The redirect URI of the authorization code flow under `public_url` (RFC 6749 §3.1.2):
    /// `{public URL}/sign-in/callback`, to be registered for the site's client character for
    /// character.
    pub fn redirect_uri(public_url: &str) -> String {
        format!("{public_url}/sign-in/callback")
    }

    /// Checks values that flags alone cannot, and that the secrets can be read.
    pub fn validate(&self) -> anyhow::Result<()> {
        for (name, url) in [
            ("API URL", &self.serve.api_url),
            ("issuer", &self.serve.issuer),
            ("public URL", &self.serve.public_url),
        ] {
            let parsed = reqwest::Url::parse(url)
                .map_err(|e| anyhow::anyhow!("the {name} is not a valid URL ({e}): {url:?}"))?;
            anyhow::ensure!(
                matches!(parsed.scheme(), "http" | "https")
                    && parsed.host().is_some()
                    && !url.ends_with('/'),
                "the {name} must be an http(s) URL without a trailing slash (got {url:?})"
            );
        }
        // Whoever answers for the issuer holds every sign-in made here: plain http only on
        // loopback (RFC 9700 §2.6, RFC 8252 §8.3; the rule is service_kit's, shared by the three
        // services).
        service_kit::issuer::check_issuer(&self.serve.issuer)
            .map_err(|e| anyhow::anyhow!("refusing to start: {e}"))?;
        anyhow::ensure!(
            self.serve.token_renew_before_secs >= 0,
            "the renewal margin must not be negative"
        );
        anyhow::ensure!(
            self.serve.max_failed_sign_ins_per_address > 0 && self.serve.sign_in_window_secs > 0,
            "the per-address sign-in limit and its window must be positive"
        );
        self.client_secret()?;
        self.session_key()?;
        Ok(())
    }

    /// The site's own client secret, from `--client-secret` or `--client-secret-file`.
    pub fn client_secret(&self) -> anyhow::Result<SecretString> {
        let secret = match (&self.serve.client_secret, &self.serve.client_secret_file) {
            (Some(secret), _) => secret.clone(),
            (None, Some(path)) => read_secret("client secret", path)?,
            (None, None) => anyhow::bail!(
                "the site's client secret is missing: set WEB_CLIENT_SECRET or WEB_CLIENT_SECRET_FILE (--client-secret or --client-secret-file)"
            ),
        };
        anyhow::ensure!(
            !secret.expose_secret().trim().is_empty(),
            "the site's client secret is empty"
        );
        Ok(secret)
    }

    /// The session key, from `--session-key` or `--session-key-file`, if any.
    pub fn session_key(&self) -> anyhow::Result<Option<SecretString>> {
        match (&self.serve.session_key, &self.serve.session_key_file) {
            (Some(key), _) => Ok(Some(key.clone())),
            (None, Some(path)) => read_secret("session key", path).map(Some),
            (None, None) => Ok(None),
        }
    }
}

/// A secret held in a file: its contents without surrounding whitespace.
fn read_secret(what: &str, path: &Path) -> anyhow::Result<SecretString> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read the {what} file {}: {e}", path.display()))?;
    let value = text.trim();
    anyhow::ensure!(
        !value.is_empty(),
        "the {what} file {} is empty",
        path.display()
    );
    Ok(SecretString::from(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_flags_defaults() {
        let serve = ServeArgs::default();
        assert_eq!(serve.bind.to_string(), DEFAULT_BIND);
        assert_eq!(serve.public_url, "http://127.0.0.1:8080");
        assert_eq!(serve.idle_timeout_secs, 1800);
        assert!(serve.client_secret.is_none());
        let settings = Settings::new(
            serve.bind,
            "http://127.0.0.1:8081",
            "http://127.0.0.1:8082",
            "directory-web",
            "s",
        );
        assert!(settings.validate().is_ok());
        assert_eq!(serve.sign_in_methods, SignInMethods::Both);
    }

    #[test]
    fn each_sign_in_method_setting_offers_exactly_its_methods() {
        let offered = |m: SignInMethods| (m.authorization_code(), m.password());
        assert_eq!(offered(SignInMethods::Both), (true, true));
        assert_eq!(offered(SignInMethods::AuthorizationCode), (true, false));
        assert_eq!(offered(SignInMethods::Password), (false, true));
    }

    #[test]
    fn a_public_url_on_port_zero_takes_the_bound_port_and_others_are_kept() {
        let bound: SocketAddr = "127.0.0.1:41234".parse().unwrap();
        let mut settings = Settings::new(
            "127.0.0.1:0".parse().unwrap(),
            "http://127.0.0.1:8081",
            "http://127.0.0.1:8082",
            "directory-web",
            "s",
        );
        assert_eq!(
            settings.public_url_bound_to(bound),
            "http://127.0.0.1:41234"
        );
        assert_eq!(
            Settings::redirect_uri(&settings.public_url_bound_to(bound)),
            "http://127.0.0.1:41234/sign-in/callback"
        );
        settings.serve.public_url = "https://directory.example.edu".into();
        assert_eq!(
            settings.public_url_bound_to(bound),
            "https://directory.example.edu"
        );
        settings.serve.public_url = "http://127.0.0.1:8080".into();
        assert_eq!(settings.public_url_bound_to(bound), "http://127.0.0.1:8080");
    }
}

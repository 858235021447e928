//! Building and running the website: its state and its routes, served by
//! `service_kit::server` (which binds first, so callers learn the real port).

use std::net::SocketAddr;
use std::sync::Arc;

use actix_session::SessionMiddleware;
use actix_session::config::CookieContentSecurity;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::ServerHandle;
use actix_web::error::UrlencodedError;
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, web};
use base64::Engine as _;
use secrecy::ExposeSecret as _;
use service_kit::address_throttle::AddressThrottle;
use service_kit::server::{HttpService, Listeners};

use crate::api_client::Api;
use crate::config::Settings;
use crate::error::WebError;
use crate::metrics::Metrics;
use crate::renewal::Renewals;
use crate::revocation::Revocations;
use crate::routes;
use crate::state::WebState;
use crate::token::AppToken;
use crate::user_tokens::UserTokens;
use service_kit::clock::{Clock, SystemClock};

/// How long requests in flight may take to finish once a stop has begun (shared by the services).
pub use service_kit::shutdown::SHUTDOWN_TIMEOUT_SECS;

/// The Content-Security-Policy of every page: nothing but the site's own stylesheet; no
/// scripts at all, no framing, forms only to the site itself.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A built, bound, not yet running website.
pub struct Application {
    http: HttpService,
    revocations: Arc<Revocations>,
    users: Arc<UserTokens>,
    clock: Arc<dyn Clock>,
}

impl Application {
    /// Builds the website on the system clock.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Builds the website. It starts even when the API or the authorization server is down:
    /// its pages then say so with a 503.
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        settings.validate()?;
        // The client secret and the session key show as `[REDACTED]` (secrecy).
        tracing::info!(settings = ?settings, "starting");
        let client_secret = settings.client_secret()?;
        let metrics = Metrics::new();
        let token = AppToken::new(
            &settings.serve.issuer,
            &settings.serve.client_id,
            &client_secret,
            settings.serve.token_renew_before_secs,
            clock.clone(),
            metrics.app_token_requests.clone(),
        )?;
        let session_key = match &settings.session_key()? {
            Some(encoded) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded.expose_secret().trim())
                    .map_err(|_| anyhow::anyhow!("the session key is not base64"))?;
                anyhow::ensure!(
                    bytes.len() >= 64,
                    "the session key must have at least 64 bytes"
                );
                Key::from(&bytes)
            }
            None => {
                tracing::warn!("no session key configured: sessions end when the site restarts");
                Key::generate()
            }
        };
        let secure = settings.served_over_https();
        // Bound before anything else starts, so that a taken port fails the start, and so
        // that a public URL on port 0 (tests) can name the real port in the redirect URI.
        let listeners = Listeners::bind(settings.serve.server_options())?;
        let redirect_uri =
            Settings::redirect_uri(&settings.public_url_bound_to(listeners.address()));
        let users = Arc::new(UserTokens::new(
            &settings.serve.issuer,
            &settings.serve.client_id,
            &client_secret,
            &redirect_uri,
            clock.clone(),
        )?);
        let revocations = Arc::new(Revocations::new(
            crate::revocation::DEFAULT_CAPACITY,
            metrics.revocations_pending.clone(),
            metrics.revocations_given_up.clone(),
        ));
        let state = web::Data::new(WebState {
            api: Api::new(&settings.serve.api_url)?,
            renewals: Renewals::new(
                users.clone(),
                revocations.clone(),
                clock.clone(),
                crate::renewal::MAX_RENEWALS_IN_FLIGHT,
            ),
            users: users.clone(),
            revocations: revocations.clone(),
            sign_in_throttle: AddressThrottle::new(
                settings.serve.max_failed_sign_ins_per_address,
                settings.serve.sign_in_window_secs,
                service_kit::address_throttle::DEFAULT_CAPACITY,
            ),
            trusted_proxies: settings.serve.trusted_proxies.clone(),
            devices: crate::device::DeviceCookies::new(session_key.clone(), secure),
            idle_timeout_secs: settings.serve.idle_timeout_secs,
            token,
            client_id: settings.serve.client_id.clone(),
            issuer: settings.serve.issuer.clone(),
            sign_in_methods: settings.serve.sign_in_methods,
            clock: clock.clone(),
            metrics,
            photos: crate::photo_cache::PhotoCache::default(),
            photo_uploads: Arc::new(tokio::sync::Semaphore::new(
                crate::extract::MAX_UPLOADS_IN_PROGRESS,
            )),
        });
        let methods = settings.serve.sign_in_methods;
        let http = listeners.serve(state, move || {
            // Encrypted (AES-GCM), HttpOnly, SameSite=Lax; Secure with a `__Host-` name over HTTPS.
            let sessions =
                SessionMiddleware::builder(CookieSessionStore::default(), session_key.clone())
                    .cookie_name(if secure { "__Host-session" } else { "session" }.to_owned())
                    .cookie_secure(secure)
                    .cookie_http_only(true)
                    .cookie_same_site(SameSite::Lax)
                    .cookie_path("/".to_owned())
                    .cookie_domain(None)
                    .cookie_content_security(CookieContentSecurity::Private)
                    .build();
            let mut security_headers = DefaultHeaders::new()
                .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("X-Frame-Options", "DENY"))
                // `same-origin`: no referrer leaves the site, yet the site's own form posts keep a
                // real `Origin` (with `no-referrer`, browsers send `Origin: null`).
                .add(("Referrer-Policy", "same-origin"))
                .add(("Cross-Origin-Opener-Policy", "same-origin"))
                .add((
                    "Permissions-Policy",
                    "camera=(), microphone=(), geolocation=()",
                ));
            if secure {
                security_headers =
                    security_headers.add(("Strict-Transport-Security", crate::headers::HSTS));
            }
            App::new()
                .app_data(web::FormConfig::default().limit(16 * 1024).error_handler(
                    |e, _| match e {
                        UrlencodedError::Overflow { .. } => WebError::PayloadTooLarge.into(),
                        e => {
                            WebError::BadRequest(format!("The form could not be read: {e}.")).into()
                        }
                    },
                ))
                // Inside the session middleware, so that it sees the session.
                .wrap(actix_web::middleware::from_fn(
                    crate::headers::private_pages,
                ))
                .wrap(sessions)
                .wrap(security_headers)
                .configure(|cfg| routes::configure(cfg, methods))
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(WebError::NotFound)
                }))
        })?;
        Ok(Self {
            http,
            revocations,
            users,
            clock,
        })
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.http.address()
    }

    /// The address of the separate `/metrics` listener (`--metrics-bind`), if any.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.http.metrics_address()
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.http.handle()
    }

    /// Serves until stopped. SIGTERM drains for the configured time (`/readyz` answers 503,
    /// everything is still served), then stops gracefully: the listener closes, requests in
    /// flight get up to [`SHUTDOWN_TIMEOUT_SECS`]. Ctrl-C (SIGINT) stops at once. See
    /// `service_kit::shutdown`.
    ///
    /// The separate `/metrics` listener and the background retry of revocations run as long as
    /// the website does.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let retries = tokio::spawn(
            self.revocations
                .clone()
                .run(self.users.clone(), self.clock.clone()),
        );
        let result = self.http.run_until_stopped().await;
        retries.abort();
        let waiting = self.revocations.waiting();
        if waiting > 0 {
            tracing::warn!(
                waiting,
                "stopping with revocations still to retry: those sign-ins stay live until they expire"
            );
        }
        tracing::info!("stopped: requests in flight finished");
        result
    }
}

//! The HTTP server every service runs, written once: the listener bound first (so callers
//! learn the real port), the worker count, the slow-client timeouts and the body deadline,
//! request ids, the request-metrics middleware, `GET /healthz`, `GET /readyz` and
//! `GET /metrics` (on the main address, or on its own with `--metrics-bind`), and the drain
//! and graceful stop on SIGTERM. A service brings its state ([`ServiceState`]) and its routes;
//! its `startup.rs` is nothing else.

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{
    Server, ServerHandle, Service as _, ServiceFactory, ServiceRequest, ServiceResponse,
};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use crate::http_metrics::{Encoder, MetricsServer, exposition, method_label, route_label};
use crate::shutdown::{Draining, SHUTDOWN_TIMEOUT_SECS};

/// How the server listens, from each service's `ServeArgs`.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The main address.
    pub bind: SocketAddr,
    /// A separate address for `/metrics` (then absent from the main one).
    pub metrics_bind: Option<SocketAddr>,
    /// HTTP worker threads; `None`: one per CPU.
    pub workers: Option<usize>,
    /// How long `/readyz` answers `draining` after SIGTERM before the listener closes.
    pub drain_for: Duration,
    /// Whether to watch each connection for a client that hangs up (see
    /// [`crate::liveness`]): worth its file descriptor only where a request can wait for
    /// expensive work, as a sign-in waits for a password hash.
    pub watch_hang_ups: bool,
}

/// The labels of one answered request, each from a fixed set: the route pattern (or
/// `unmatched`), a known method (or `other`) and the status.
#[derive(Debug, Clone, Copy)]
pub struct RequestLabels<'a> {
    /// The route pattern, never the path as sent.
    pub route: &'a str,
    /// The method, or `other`.
    pub method: &'static str,
    /// The response status.
    pub status: u16,
}

/// What a service tells the shared server about itself.
pub trait ServiceState: Send + Sync + 'static {
    /// The readiness checks behind `GET /readyz`, each named, in order: all must pass.
    fn readiness(&self) -> impl Future<Output = Vec<(&'static str, bool)>>;

    /// The Prometheus text encoder of the service's metrics.
    fn metrics_encoder(&self) -> Encoder;

    /// Records one answered request (`request` carries what the handlers left in its
    /// extensions, such as the kind of token that was presented), in the metrics and in a
    /// debug log line under the service's own target, so that an operator filters a service's
    /// request lines by its crate name.
    fn observe_request(&self, request: &HttpRequest, labels: RequestLabels<'_>, seconds: f64);
}

/// A service's listeners, bound and not yet serving.
#[derive(Debug)]
pub struct Listeners {
    main: TcpListener,
    address: SocketAddr,
    metrics: Option<TcpListener>,
    options: ServerOptions,
}

impl Listeners {
    /// Binds the main address and, if set, the metrics address: a taken port fails the start
    /// here, before anything else is built.
    pub fn bind(options: ServerOptions) -> anyhow::Result<Self> {
        let main = TcpListener::bind(options.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", options.bind))?;
        let address = main.local_addr()?;
        let metrics = options
            .metrics_bind
            .map(|bind| {
                TcpListener::bind(bind)
                    .map_err(|e| anyhow::anyhow!("cannot listen for /metrics on {bind}: {e}"))
            })
            .transpose()?;
        Ok(Self {
            main,
            address,
            metrics,
            options,
        })
    }

    /// The main address (its real port when 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Starts serving `state` with the routes `app` builds (one `App` per worker), inside the
    /// shared middleware and beside the shared health and metrics routes.
    pub fn serve<S, F, T, B>(self, state: web::Data<S>, app: F) -> anyhow::Result<HttpService>
    where
        S: ServiceState,
        F: Fn() -> App<T> + Send + Clone + 'static,
        T: ServiceFactory<
                ServiceRequest,
                Config = (),
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
                InitError = (),
            > + 'static,
        B: MessageBody + 'static,
    {
        let encoder = state.metrics_encoder();
        let metrics_server = self
            .metrics
            .map(|listener| MetricsServer::on_listener(listener, encoder.clone()))
            .transpose()?;
        let metrics_here = metrics_server.is_none();
        let draining = Draining::default();
        let app_draining = draining.clone();
        let workers = self
            .options
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let mut server = HttpServer::new(move || {
            let observer = state.clone();
            let encoder = encoder.clone();
            let app = app()
                .app_data(state.clone())
                .app_data(web::Data::new(app_draining.clone()))
                .wrap_fn(move |req, srv| {
                    let start = Instant::now();
                    // Labels from fixed sets only: the route pattern (never the raw path or
                    // query, so no secret reaches a log or a label) and a known method.
                    let route = route_label(&req);
                    let method = method_label(req.method());
                    let observer = observer.clone();
                    let response = srv.call(req);
                    async move {
                        let response = response.await?;
                        let status = response.status().as_u16();
                        let elapsed = start.elapsed();
                        let labels = RequestLabels {
                            route: &route,
                            method,
                            status,
                        };
                        observer.observe_request(response.request(), labels, elapsed.as_secs_f64());
                        Ok(response)
                    }
                })
                .route("/healthz", web::get().to(healthz))
                .route("/readyz", web::get().to(readyz::<S>));
            let app = if metrics_here {
                app.route(
                    "/metrics",
                    web::get().to(move || {
                        let encoder = encoder.clone();
                        async move { exposition(encoder()) }
                    }),
                )
            } else {
                app
            };
            // Outermost: the request id is known to every log line, the body deadline's too.
            app.wrap(crate::limits::BodyDeadline::default())
                .wrap(crate::request_id::RequestIds)
        });
        if self.options.watch_hang_ups {
            server = server.on_connect(crate::liveness::on_connect);
        }
        let server = server
            .workers(workers)
            .listen(self.main)?
            .client_request_timeout(crate::limits::HEADER_TIMEOUT)
            .client_disconnect_timeout(crate::limits::DISCONNECT_TIMEOUT)
            .keep_alive(crate::limits::KEEP_ALIVE)
            .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
            // Signals are handled in `run_until_stopped`, which drains first.
            .disable_signals()
            .run();
        Ok(HttpService {
            server,
            address: self.address,
            draining,
            drain_for: self.options.drain_for,
            metrics_server,
        })
    }
}

/// A running (not yet awaited) server with its optional metrics listener.
pub struct HttpService {
    server: Server,
    address: SocketAddr,
    draining: Draining,
    drain_for: Duration,
    metrics_server: Option<MetricsServer>,
}

impl HttpService {
    /// The main address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The address serving `/metrics` when `--metrics-bind` is set (its real port when 0 was
    /// asked for); `None` when `/metrics` is on the main address.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_server.as_ref().map(MetricsServer::address)
    }

    /// A handle to stop the server (the metrics listener stops with it).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped. SIGTERM drains for the configured time (`/readyz` answers 503,
    /// everything is still served), then stops gracefully: the listener closes, requests in
    /// flight get up to [`SHUTDOWN_TIMEOUT_SECS`]. Ctrl-C (SIGINT) stops at once. See
    /// [`crate::shutdown`]. The metrics listener serves alongside and stops with it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics_server.map(MetricsServer::spawn);
        let result = crate::shutdown::serve(self.server, self.draining, self.drain_for).await;
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        result
    }
}

/// `GET /healthz`, liveness: the process answers.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// `GET /readyz`: the service's checks (a 503 names the failing one), or 503 `draining` while
/// it drains before stopping.
async fn readyz<S: ServiceState>(
    state: web::Data<S>,
    draining: web::Data<Draining>,
) -> HttpResponse {
    if draining.is_draining() {
        return crate::health::draining();
    }
    let checks = state.readiness().await;
    crate::health::readiness(&checks)
}

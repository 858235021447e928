//! The labels of every service's HTTP request metrics, and the optional separate listener that
//! serves `/metrics` on its own address.
//!
//! A label is a time series: one taken from a request as sent (an invented method, a path)
//! would let any stranger grow `/metrics` and the process's memory without bound. So each
//! label comes from a fixed set: the method is one of seven or `other`, the route is a
//! registered pattern (`/staff/{id}`) or the single label `unmatched`.

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::{Server, ServiceRequest};
use actix_web::http::Method;
use actix_web::{App, HttpResponse, HttpServer, web};

/// The route label of a path that matches no registered route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The method label: the method itself when it is one of GET, HEAD, POST, PUT, PATCH, DELETE
/// and OPTIONS, else `other` (RFC 9110 §9 lets a client send any token as a method).
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The route label: the pattern of the registered route the path matches (never the raw path,
/// which holds ids and could hold anything), or [`UNMATCHED_ROUTE`].
pub fn route_label(req: &ServiceRequest) -> String {
    req.match_pattern()
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_owned())
}

/// Renders the Prometheus text exposition of a service's registry.
pub type Encoder = Arc<dyn Fn() -> Result<String, std::fmt::Error> + Send + Sync>;

/// The answer to `GET /metrics` for a service's `encode()` result: the exposition, or an
/// opaque 500 (logged) if encoding failed.
pub fn exposition(encoded: Result<String, std::fmt::Error>) -> HttpResponse {
    match encoded {
        Ok(text) => HttpResponse::Ok()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(text),
        Err(e) => {
            tracing::error!(error = %e, "metrics encoding failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// A listener of its own that serves only `GET /metrics` (`--metrics-bind`), for a scrape
/// network apart from the public one. One worker: a scrape is one small request.
pub struct MetricsServer {
    server: Server,
    address: SocketAddr,
}

impl MetricsServer {
    /// Builds the server on a bound `listener`; it serves once spawned with
    /// [`MetricsServer::spawn`].
    pub fn on_listener(listener: std::net::TcpListener, encode: Encoder) -> std::io::Result<Self> {
        let address: SocketAddr = listener.local_addr()?;
        let server = HttpServer::new(move || {
            let encode = encode.clone();
            App::new().route(
                "/metrics",
                web::get().to(move || {
                    let encode = encode.clone();
                    async move { exposition(encode()) }
                }),
            )
        })
        .workers(1)
        .listen(listener)?
        .client_request_timeout(crate::limits::HEADER_TIMEOUT)
        .disable_signals()
        .run();
        Ok(Self { server, address })
    }

    /// The bound address (the real port when 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves in the background; stop it with the returned handle when the service stops.
    pub fn spawn(self) -> actix_web::dev::ServerHandle {
        let handle = self.server.handle();
        let server = self.server;
        tokio::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(error = %e, "the metrics listener failed");
            }
        });
        handle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_fixed_set_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::OPTIONS), "OPTIONS");
        assert_eq!(method_label(&Method::TRACE), "other");
        assert_eq!(method_label(&Method::CONNECT), "other");
        let invented = Method::from_bytes(b"XYZZY-0123456789").unwrap();
        assert_eq!(method_label(&invented), "other");
    }
}

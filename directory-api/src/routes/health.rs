//! `GET /healthz`, `GET /readyz` and `GET /metrics`.

use actix_web::{HttpResponse, web};

use service_kit::shutdown::Draining;

use crate::startup::ApiState;

/// Liveness: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// Readiness: the database answers and the authorization server's keys have been fetched
/// (once fetched, they are kept through an outage of the authorization server). A 503 names
/// the failing check. While it drains before stopping, 503 `draining`.
pub async fn readyz(state: web::Data<ApiState>, draining: web::Data<Draining>) -> HttpResponse {
    if draining.is_draining() {
        return service_kit::health::draining();
    }
    let db = state.db.ping().await;
    if let Err(e) = &db {
        tracing::warn!(error = format!("{e:#}"), "readiness: database unreachable");
    }
    // A refresh skipped by the refetch rate limit also answers `Ok`: only keys in hand count.
    let keys = state.verifier.keys().is_loaded()
        || (state.verifier.keys().refresh().await.is_ok() && state.verifier.keys().is_loaded());
    if !keys {
        tracing::warn!("readiness: no signing keys yet");
    }
    service_kit::health::readiness(&[("database", db.is_ok()), ("jwks", keys)])
}

/// Prometheus text exposition (on the main address unless `--metrics-bind` moved it).
pub async fn metrics(state: web::Data<ApiState>) -> HttpResponse {
    service_kit::http_metrics::exposition(state.metrics.encode())
}

//! `GET /healthz`, `GET /readyz` and `GET /metrics`.

use actix_web::{HttpResponse, web};

use service_kit::shutdown::Draining;

use crate::startup::AppState;

/// Liveness: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// Readiness: the database answers and signing keys are loaded. A 503 names the failing check. While it drains before stopping, 503 `draining`.
pub async fn readyz(state: web::Data<AppState>, draining: web::Data<Draining>) -> HttpResponse {
    if draining.is_draining() {
        return service_kit::health::draining();
    }
    let db = state.tokens.db().ping().await;
    if let Err(e) = &db {
        tracing::warn!(error = format!("{e:#}"), "readiness: database unreachable");
    }
    let keys = match state.tokens.jwks().await {
        Ok(jwks) => !jwks.keys.is_empty(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: keys unavailable");
            false
        }
    };
    service_kit::health::readiness(&[("database", db.is_ok()), ("keys", keys)])
}

/// Prometheus text exposition (on the main address unless `--metrics-bind` moved it).
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    service_kit::http_metrics::exposition(state.metrics.encode())
}

//! `GET /healthz`, `GET /readyz` and `GET /metrics`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use service_kit::shutdown::Draining;

use crate::startup::AppState;

/// Liveness: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// Readiness: not stopping, the database answers and signing keys are loaded.
pub async fn readyz(state: web::Data<AppState>, draining: web::Data<Draining>) -> HttpResponse {
    if draining.is_draining() {
        // Stopping: load balancers are to send new requests elsewhere.
        return HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "5"))
            .content_type("text/plain; charset=utf-8")
            .body("draining");
    }
    let db = state.tokens.db().ping().await;
    let keys = state.tokens.jwks().await;
    match (db, keys) {
        (Ok(()), Ok(jwks)) if !jwks.keys.is_empty() => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ready"),
        (db, keys) => {
            if let Err(e) = db {
                tracing::warn!(error = format!("{e:#}"), "readiness: database unreachable");
            }
            if let Err(e) = keys {
                tracing::warn!(error = %e, "readiness: keys unavailable");
            }
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "5"))
                .content_type("text/plain; charset=utf-8")
                .body("not ready")
        }
    }
}

/// Prometheus text exposition.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    match state.metrics.encode() {
        Ok(text) => HttpResponse::Ok()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(text),
        Err(e) => {
            tracing::error!(error = %e, "metrics encoding failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

//! `GET /healthz`, `GET /readyz` and `GET /metrics`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use service_kit::shutdown::Draining;

use crate::startup::WebState;

/// Liveness: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// Readiness: not stopping, and the site's own token can be had (the authorization server answers, or the
/// cached token is still valid).
pub async fn readyz(state: web::Data<WebState>, draining: web::Data<Draining>) -> HttpResponse {
    if draining.is_draining() {
        // Stopping: load balancers are to send new requests elsewhere.
        return HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "5"))
            .content_type("text/plain; charset=utf-8")
            .body("draining");
    }
    match state.token.get().await {
        Ok(_) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: no token");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "5"))
                .content_type("text/plain; charset=utf-8")
                .body("not ready")
        }
    }
}

/// Prometheus text exposition.
pub async fn metrics(state: web::Data<WebState>) -> HttpResponse {
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

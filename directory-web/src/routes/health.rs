//! `GET /healthz`, `GET /readyz` and `GET /metrics`.

use actix_web::{HttpResponse, web};

use service_kit::shutdown::Draining;

use crate::startup::WebState;

/// Liveness: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// Readiness: the site's own token can be had (the authorization server answers, or the
/// cached token is still valid) and the directory API answers. A 503 names the failing check.
/// While it drains before stopping, 503 `draining`.
pub async fn readyz(state: web::Data<WebState>, draining: web::Data<Draining>) -> HttpResponse {
    if draining.is_draining() {
        return service_kit::health::draining();
    }
    let (token, api) = tokio::join!(state.token.get(), state.api.alive());
    if let Err(e) = &token {
        tracing::warn!(error = %e, "readiness: no token");
    }
    if let Err(e) = &api {
        tracing::warn!(error = %e, "readiness: the API does not answer");
    }
    service_kit::health::readiness(&[("token", token.is_ok()), ("api", api.is_ok())])
}

/// Prometheus text exposition (on the main address unless `--metrics-bind` moves it).
pub async fn metrics(state: web::Data<WebState>) -> HttpResponse {
    service_kit::http_metrics::exposition(state.metrics.encode())
}

//! The readiness answer every service gives at `GET /readyz`: 200 when every check passes,
//! otherwise 503 with `Retry-After`; a JSON body names each check and its state either way, so
//! an operator sees which dependency is failing.

use actix_web::HttpResponse;
use actix_web::http::header;

/// How long a load balancer should wait before asking a service that is not ready again.
pub const RETRY_AFTER_SECS: u32 = 5;

/// The answer to `GET /readyz` for `checks` (name, passed), in their order:
/// `{"status":"ready"|"not ready","checks":{"database":"ok"|"failing",…}}`.
pub fn readiness(checks: &[(&str, bool)]) -> HttpResponse {
    let ready = checks.iter().all(|(_, ok)| *ok);
    let states: serde_json::Map<String, serde_json::Value> = checks
        .iter()
        .map(|(name, ok)| {
            let state = if *ok { "ok" } else { "failing" };
            ((*name).to_owned(), serde_json::Value::from(state))
        })
        .collect();
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "not ready" },
        "checks": states,
    });
    let mut response = if ready {
        HttpResponse::Ok()
    } else {
        let mut r = HttpResponse::ServiceUnavailable();
        r.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS.to_string()));
        r
    };
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// The answer to `GET /readyz` while the service drains before stopping (SIGTERM with a drain
/// time): 503 with `Retry-After`, `{"status":"draining"}`, so load balancers send new requests
/// elsewhere while the requests already sent are still served.
pub fn draining() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS.to_string()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "status": "draining" }))
}

//! HTTP handlers: extract, parse, call the store, map.

pub mod openapi;
pub mod photos;
pub mod preconditions;
pub mod search;
pub mod staff;

use actix_web::http::header;
use actix_web::{HttpRequest, web};

use crate::error::ApiError;

/// Registers the API's own routes (`/healthz`, `/readyz` and `/metrics` are
/// `service_kit::server`'s).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/staff")
            .route(web::get().to(search::list))
            .route(web::head().to(search::list))
            .route(web::post().to(staff::create))
            .default_service(web::to(|| async {
                Err::<(), _>(ApiError::MethodNotAllowed("GET, HEAD, POST"))
            })),
    )
    .service(
        web::resource("/staff/{id}")
            .route(web::get().to(staff::get))
            .route(web::head().to(staff::get))
            .route(web::patch().to(staff::patch))
            .route(web::delete().to(staff::retire))
            .default_service(web::to(|| async {
                Err::<(), _>(ApiError::MethodNotAllowed("GET, HEAD, PATCH, DELETE"))
            })),
    )
    .service(
        web::resource("/staff/{id}/history")
            .route(web::get().to(staff::history))
            .route(web::head().to(staff::history))
            .default_service(web::to(|| async {
                Err::<(), _>(ApiError::MethodNotAllowed("GET, HEAD"))
            })),
    )
    .service(
        web::resource("/staff/{id}/photo")
            .route(web::get().to(photos::get))
            .route(web::head().to(photos::get))
            .route(web::put().to(photos::put))
            .route(web::delete().to(photos::delete))
            .default_service(web::to(|| async {
                Err::<(), _>(ApiError::MethodNotAllowed("GET, HEAD, PUT, DELETE"))
            })),
    )
    .service(
        web::resource("/staff/{id}/photo/thumbnail")
            .route(web::get().to(photos::thumbnail))
            .route(web::head().to(photos::thumbnail))
            .default_service(web::to(|| async {
                Err::<(), _>(ApiError::MethodNotAllowed("GET, HEAD"))
            })),
    )
    .service(
        web::resource("/me")
            .route(web::get().to(staff::me))
            .route(web::head().to(staff::me))
            .default_service(web::to(|| async {
                Err::<(), _>(ApiError::MethodNotAllowed("GET, HEAD"))
            })),
    )
    .service(
        web::resource("/departments")
            .route(web::get().to(search::departments))
            .route(web::head().to(search::departments))
            .default_service(web::to(|| async {
                Err::<(), _>(ApiError::MethodNotAllowed("GET, HEAD"))
            })),
    )
    .route("/openapi.json", web::get().to(openapi::document));
}

/// Largest JSON body accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Reads a request body of at most [`MAX_BODY_BYTES`].
pub async fn read_body(payload: web::Payload) -> Result<web::Bytes, ApiError> {
    payload
        .to_bytes_limited(MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?
        .map_err(|e| ApiError::Malformed(format!("the request body could not be read: {e}")))
}

/// Parses a JSON request body: `application/json` (or `application/merge-patch+json`), at
/// most [`MAX_BODY_BYTES`], unknown members refused.
pub fn json_body<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    body: &[u8],
) -> Result<T, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" && essence != "application/merge-patch+json" {
        return Err(ApiError::UnsupportedMediaType);
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    // An object, and parsed straight into the request type, so a repeated member is an
    // error rather than resolved to one of its values.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::Malformed(
            "the JSON body must be an object".into(),
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::Malformed(format!("the JSON body is invalid: {e}")))
}

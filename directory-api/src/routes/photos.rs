//! A record's photo: `GET`, `PUT` and `DELETE /staff/{id}/photo`, and
//! `GET /staff/{id}/photo/thumbnail`.
//!
//! Who may: reading, like the record (`directory:read`; a retired record's photo only for
//! administrators); changing, like `PATCH` (the owner's user token with `profile:write`, or
//! `directory:admin`). An upload is checked in the order that keeps a hostile one cheapest: the
//! caller and the record; the declared `Content-Length` (over 5 MB: 413 before a byte of the
//! body is read); a place among the uploads in progress (503 when none); the body, read up to
//! 5 MB and no further; then, off the async runtime and one per CPU, the type, the header's
//! dimensions and the decode ([`crate::domain::photo::process`]).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::preconditions::none_match_fails;
use super::staff::{actor, parse_id};
use crate::auth::{Scope, TokenKind};
use crate::domain::photo::{self, MAX_PHOTO_BYTES, ProcessedPhoto};
use crate::error::{ApiError, Problem, Result};
use crate::extract::{Editor, Reader};
use crate::state::{ApiState, PhotoGates};
use crate::store::photos::{PhotoRead, PhotoRemoved, PhotoSize, PhotoWritten, etag_of};

/// `Cache-Control` of a photo: a cache may keep it for the one caller only and must ask again
/// each time (a cheap 304 while it is current), so that a replaced or removed photo is never
/// shown from a cache.
pub const PHOTO_CACHE_CONTROL: &str = "private, no-cache";

/// Image bytes, for the OpenAPI document (handlers read the body as a stream).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PhotoBytes(pub Vec<u8>);

/// What was stored from an upload: the re-encoded photo and its thumbnail.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredPhoto {
    /// The media type of both stored images (`image/jpeg`).
    pub content_type: &'static str,
    /// The photo's width, in pixels (at most 512; smaller uploads keep their size).
    pub width: u32,
    /// Its height.
    pub height: u32,
    /// Its size in bytes.
    pub bytes: usize,
    /// Its ETag, as `GET /staff/{id}/photo` sends it.
    pub etag: String,
    /// The thumbnail's width (at most 96).
    pub thumbnail_width: u32,
    /// The thumbnail's height.
    pub thumbnail_height: u32,
}

fn is_admin(caller: &crate::auth::Principal) -> bool {
    caller.kind == TokenKind::Client && caller.scopes.contains(Scope::DirectoryAdmin)
}

async fn serve(
    caller: &crate::auth::Principal,
    id: &str,
    req: &HttpRequest,
    state: &ApiState,
    size: PhotoSize,
) -> Result<HttpResponse> {
    let id = parse_id(id)?;
    let image = match state.db.photo(id, is_admin(caller), size).await? {
        PhotoRead::NoRecord => return Err(ApiError::NotFound),
        PhotoRead::NoPhoto => return Err(ApiError::NoPhoto),
        PhotoRead::Found(image) => image,
    };
    let current = none_match_fails(req.headers(), &image.etag);
    let mut response = if current {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, image.etag.as_str()))
        .insert_header((header::CACHE_CONTROL, PHOTO_CACHE_CONTROL))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if current {
        return Ok(response.finish());
    }
    Ok(response
        .insert_header((header::CONTENT_TYPE, image.content_type))
        .body(image.bytes))
}

/// A record's photo, as stored (re-encoded JPEG, at most 512 pixels on its long side).
#[utoipa::path(
    get, path = "/staff/{id}/photo", tag = "photos",
    params(
        ("id" = i64, Path, description = "The record's id", minimum = 1),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of a copy held: 304 if it is current"),
    ),
    security(("oauth2" = ["directory:read"])),
    responses(
        (status = 200, description = "The photo", content_type = "image/jpeg", body = PhotoBytes,
         headers(("ETag" = String, description = "Strong ETag (a hash of the image)"),
                 ("Cache-Control" = String, description = "private, no-cache"),
                 ("X-Content-Type-Options" = String, description = "nosniff"))),
        (status = 304, description = "The copy held is current",
         headers(("ETag" = String, description = "Strong ETag"))),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Token lacks directory:read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such live record (not_found), or it has no photo (no_photo)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    Reader(caller): Reader,
    id: web::Path<String>,
    req: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse> {
    serve(&caller, &id, &req, &state, PhotoSize::Full).await
}

/// A record's thumbnail (re-encoded JPEG, at most 96 pixels on its long side).
#[utoipa::path(
    get, path = "/staff/{id}/photo/thumbnail", tag = "photos",
    params(
        ("id" = i64, Path, description = "The record's id", minimum = 1),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of a copy held: 304 if it is current"),
    ),
    security(("oauth2" = ["directory:read"])),
    responses(
        (status = 200, description = "The thumbnail", content_type = "image/jpeg", body = PhotoBytes,
         headers(("ETag" = String, description = "Strong ETag (a hash of the image)"),
                 ("Cache-Control" = String, description = "private, no-cache"),
                 ("X-Content-Type-Options" = String, description = "nosniff"))),
        (status = 304, description = "The copy held is current",
         headers(("ETag" = String, description = "Strong ETag"))),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Token lacks directory:read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such live record (not_found), or it has no photo (no_photo)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn thumbnail(
    Reader(caller): Reader,
    id: web::Path<String>,
    req: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse> {
    serve(&caller, &id, &req, &state, PhotoSize::Thumbnail).await
}

/// The live record `id` if `editor` may change it (its owner, or an administrator).
async fn editable(editor: &Editor, id: &str, state: &ApiState) -> Result<i64> {
    let id = parse_id(id)?;
    let current = state.db.staff(id, false).await?.ok_or(ApiError::NotFound)?;
    editor.may_act_on(&current.record.username)?;
    Ok(id)
}

/// The body's declared length, when it declares one.
fn declared_length(req: &HttpRequest) -> Result<Option<u64>> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| ApiError::Malformed("the Content-Length is not a number".into()))
        })
        .transpose()
}

/// Decodes and re-encodes `body` on a decoding thread, once one is free (waiting at most
/// [`PhotoGates::DECODE_WAIT`]). The thread is held by the work itself, so a client that gives
/// up does not free it before the work is done.
async fn process(gates: &PhotoGates, body: web::Bytes) -> Result<ProcessedPhoto> {
    let decoder = tokio::time::timeout(PhotoGates::DECODE_WAIT, gates.decoders.place())
        .await
        .map_err(|_| ApiError::Unavailable(anyhow::anyhow!("every photo decoder stayed busy")))?
        .map_err(ApiError::Unexpected)?;
    let processed = decoder
        .run(move || photo::process(&body))
        .await
        .map_err(|e| ApiError::Unexpected(e.context("the photo decoder failed")))?;
    processed.map_err(ApiError::Photo)
}

/// Sets a record's photo (its owner, or an administrator). Any declared `Content-Type` is
/// accepted: the type is told from the bytes. The stored photo is re-encoded (JPEG, at most
/// 512 pixels on its long side, with a 96-pixel thumbnail): nothing of the file but its pixels
/// is kept.
#[utoipa::path(
    put, path = "/staff/{id}/photo", tag = "photos",
    params(("id" = i64, Path, description = "The record's id", minimum = 1)),
    request_body(description = "A JPEG, PNG or WebP image: at most 5 MB, at most 4096 × 4096 pixels",
        content((PhotoBytes = "image/jpeg"), (PhotoBytes = "image/png"), (PhotoBytes = "image/webp"),
                (PhotoBytes = "application/octet-stream"))),
    security(("oauth2" = ["profile:write"]), ("oauth2" = ["directory:admin"])),
    responses(
        (status = 200, description = "The photo was replaced", body = StoredPhoto),
        (status = 201, description = "The record had no photo; it has this one", body = StoredPhoto,
         headers(("Location" = String, description = "The photo's URL"))),
        (status = 400, description = "Malformed id or Content-Length", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "insufficient_scope, or not_owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such live record", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 5 MB (refused before the body is read when Content-Length says so)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported_photo_type: not a JPEG, PNG or WebP image (SVG, GIF, HTML, text…)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "photo_too_many_pixels (over 4096 × 4096, refused without decoding), or corrupt_photo (truncated, corrupt)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put(
    editor: Editor,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ApiState>,
) -> Result<HttpResponse> {
    let id = editable(&editor, &id, &state).await?;
    if declared_length(&req)?.is_some_and(|n| n > MAX_PHOTO_BYTES as u64) {
        return Err(ApiError::PhotoTooLarge);
    }
    let _upload =
        state.photo_gates.uploads.try_acquire().map_err(|_| {
            ApiError::Unavailable(anyhow::anyhow!("every photo upload place is taken"))
        })?;
    let body = payload
        .to_bytes_limited(MAX_PHOTO_BYTES)
        .await
        .map_err(|_| ApiError::PhotoTooLarge)?
        .map_err(|e| ApiError::Malformed(format!("the request body could not be read: {e}")))?;
    let stored = process(&state.photo_gates, body).await?;
    let now = state.clock.now();
    let written = state
        .db
        .put_photo(id, &stored, actor(editor.principal()), now)
        .await?;
    let described = StoredPhoto {
        content_type: photo::STORED_TYPE,
        width: stored.size.0,
        height: stored.size.1,
        bytes: stored.image.len(),
        etag: etag_of(&stored.image),
        thumbnail_width: stored.thumb_size.0,
        thumbnail_height: stored.thumb_size.1,
    };
    let mut response = match written {
        PhotoWritten::NotFound => return Err(ApiError::NotFound),
        PhotoWritten::Replaced => HttpResponse::Ok(),
        PhotoWritten::Created => {
            let mut created = HttpResponse::Created();
            created.insert_header((header::LOCATION, format!("/staff/{id}/photo")));
            created
        }
    };
    // No ETag here: what was stored is not what was sent (RFC 9110 §9.3.4).
    Ok(response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(described))
}

/// Removes a record's photo (its owner, or an administrator).
#[utoipa::path(
    delete, path = "/staff/{id}/photo", tag = "photos",
    params(("id" = i64, Path, description = "The record's id", minimum = 1)),
    security(("oauth2" = ["profile:write"]), ("oauth2" = ["directory:admin"])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "insufficient_scope, or not_owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such live record (not_found), or it has no photo (no_photo)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete(
    editor: Editor,
    id: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse> {
    let id = editable(&editor, &id, &state).await?;
    let now = state.clock.now();
    match state
        .db
        .remove_photo(id, actor(editor.principal()), now)
        .await?
    {
        PhotoRemoved::Removed => Ok(HttpResponse::NoContent().finish()),
        PhotoRemoved::NoPhoto => Err(ApiError::NoPhoto),
        PhotoRemoved::NotFound => Err(ApiError::NotFound),
    }
}

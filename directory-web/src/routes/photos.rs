//! Staff photos on the website: served from the site's own origin (`/staff/{id}/photo` and
//! `/staff/{id}/photo/thumb`, fetched from the API with the site's own token and kept in the
//! bounded [`crate::photo_cache`]), and the profile's upload (`POST /profile/photo`) and
//! removal (`POST /profile/photo/remove`), made with the member of staff's own token.
//!
//! A refused upload shows the profile page again with the reason beside the file field, in
//! plain words chosen from the API's problem code (never from its text), with the API's status.

use actix_session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::pages::with_app_token;
use super::profile::{own_record, profile_page};
use crate::api_client::ApiFailure;
use crate::api_client::photos::{Fetched, PhotoRefusal, PhotoSize};
use crate::error::WebError;
use crate::extract::{CsrfProtected, CurrentUser, PhotoUpload, SiteForm, Then, Upload};
use crate::respond::{private_html, see_other};
use crate::session::{self, SignedIn};
use crate::state::WebState;

/// `Cache-Control` of a photo: anyone may keep it (it is public), but must ask again before
/// each use, so a replaced or removed photo is not shown from a cache; asking again is a 304
/// while the ETag holds.
pub const PHOTO_CACHE_CONTROL: &str = "public, no-cache";

/// `GET /staff/{id}/photo`.
pub async fn photo(
    id: web::Path<String>,
    req: HttpRequest,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    serve(&id, &req, &state, PhotoSize::Full).await
}

/// `GET /staff/{id}/photo/thumb`.
pub async fn thumbnail(
    id: web::Path<String>,
    req: HttpRequest,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    serve(&id, &req, &state, PhotoSize::Thumbnail).await
}

/// Whether the browser's `If-None-Match` names `etag` (weak comparison, RFC 9110 §13.1.2).
fn browser_has(req: &HttpRequest, etag: &str) -> bool {
    let bare = |t: &str| t.strip_prefix("W/").unwrap_or(t).to_owned();
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || bare(t.trim()) == bare(etag))
}

async fn serve(
    id: &str,
    req: &HttpRequest,
    state: &WebState,
    size: PhotoSize,
) -> Result<HttpResponse, WebError> {
    let id: i64 = id
        .parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(WebError::NotFound)?;
    let now = state.clock.now();
    let cached = state.photos.get(id, size);
    let image = match cached {
        Some(entry) if entry.is_fresh(now) => entry.image,
        cached => {
            let known = cached.as_ref().map(|c| c.image.etag.clone());
            let fetched = with_app_token(state, async |token| {
                state.api.photo(&token, id, size, known.as_deref()).await
            })
            .await?;
            match (fetched, cached) {
                (Fetched::Image(image), _) => {
                    state.photos.put(id, size, image.clone(), now);
                    image
                }
                (Fetched::NotModified, Some(entry)) => {
                    state.photos.confirmed(id, size, now);
                    entry.image
                }
                (Fetched::NotModified, None) => {
                    return Err(WebError::Unavailable(
                        "a 304 for a photo not asked about".into(),
                    ));
                }
                (Fetched::Missing, _) => {
                    state.photos.forget(id);
                    return Err(WebError::NotFound);
                }
            }
        }
    };
    let current = browser_has(req, &image.etag);
    let mut response = if current {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, image.etag.as_str()))
        .insert_header((header::CACHE_CONTROL, PHOTO_CACHE_CONTROL));
    if current {
        return Ok(response.finish());
    }
    Ok(response
        .insert_header((header::CONTENT_TYPE, image.content_type.as_str()))
        .body(image.bytes))
}

/// Why a photo was not taken, in plain words, and the status the page is answered with.
fn refusal_words(refusal: PhotoRefusal) -> (&'static str, StatusCode) {
    match refusal {
        PhotoRefusal::TooLarge => (
            "This photo is larger than 5 MB. Choose a smaller file, or save it at a smaller size first.",
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        PhotoRefusal::UnsupportedType => (
            "This file is not a JPEG, PNG or WebP image. Save your photo in one of those formats and try again.",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        PhotoRefusal::TooManyPixels => (
            "This photo is more than 4096 × 4096 pixels. Make it smaller and try again.",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        PhotoRefusal::Unreadable => (
            "This file could not be read as an image: it may be damaged or incomplete. Save it again and try again.",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    }
}

/// The profile page again, with `message` beside the file field.
async fn refused(
    session: &Session,
    state: &WebState,
    user: &SignedIn,
    message: &str,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let Some((record, etag)) = own_record(session, state, user).await? else {
        return Ok(see_other("/sign-in"));
    };
    let mut page = profile_page(session, user, record, etag)?;
    page.photo_error = Some(message.to_owned());
    private_html(&page, status)
}

/// What a failed call to the API means for the member of staff.
fn failed(session: &Session, failure: ApiFailure) -> Result<HttpResponse, WebError> {
    match failure {
        ApiFailure::Unauthorized => {
            session::end(session);
            Ok(see_other("/sign-in"))
        }
        ApiFailure::NotFound => Err(WebError::NotFound),
        ApiFailure::BadInput(detail) => Err(WebError::BadRequest(detail)),
        ApiFailure::Unavailable(e) => Err(WebError::Unavailable(e)),
    }
}

/// `POST /profile/photo`: uploads the chosen file as the member of staff's photo, with their
/// own token (Post/Redirect/Get on success). The form is checked (origin, CSRF token) before
/// the file is read and before the sign-in is.
pub async fn upload(
    Then(PhotoUpload { upload, place }, CurrentUser(mut user)): Then<PhotoUpload, CurrentUser>,
    session: Session,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let (bytes, declared_type) = match upload {
        Upload::File {
            bytes,
            declared_type,
        } => (bytes, declared_type),
        Upload::NoFile => {
            let message = "Choose a photo to upload.";
            return refused(&session, &state, &user, message, StatusCode::BAD_REQUEST).await;
        }
        Upload::TooLarge => {
            let (message, status) = refusal_words(PhotoRefusal::TooLarge);
            return refused(&session, &state, &user, message, status).await;
        }
    };
    let Some((record, _)) = own_record(&session, &state, &user).await? else {
        return Ok(see_other("/sign-in"));
    };
    let outcome = state
        .api
        .put_own_photo(&user.token(), record.id, &declared_type, bytes)
        .await;
    // The file has been sent on: its place is free for the next.
    drop(place);
    match outcome {
        Ok(None) => {
            state.photos.forget(record.id);
            user.flash = Some("Your photo was saved.".into());
            session::set_signed_in(&session, &user)?;
            Ok(see_other("/profile"))
        }
        Ok(Some(refusal)) => {
            let (message, status) = refusal_words(refusal);
            refused(&session, &state, &user, message, status).await
        }
        Err(failure) => failed(&session, failure),
    }
}

/// The removal form: its CSRF token only.
#[derive(Deserialize)]
pub struct RemoveForm {
    csrf: String,
}

impl CsrfProtected for RemoveForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /profile/photo/remove`: removes the member of staff's photo, with their own token.
pub async fn remove(
    Then(SiteForm(_form), CurrentUser(mut user)): Then<SiteForm<RemoveForm>, CurrentUser>,
    session: Session,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let Some((record, _)) = own_record(&session, &state, &user).await? else {
        return Ok(see_other("/sign-in"));
    };
    match state.api.remove_own_photo(&user.token(), record.id).await {
        Ok(removed) => {
            state.photos.forget(record.id);
            user.flash = Some(if removed {
                "Your photo was removed.".into()
            } else {
                "You had no photo to remove.".into()
            });
            session::set_signed_in(&session, &user)?;
            Ok(see_other("/profile"))
        }
        Err(failure) => failed(&session, failure),
    }
}

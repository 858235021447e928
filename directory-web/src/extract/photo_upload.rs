//! The profile's photo form: a `multipart/form-data` body whose first field is the session's
//! CSRF token and whose file field is `photo`. A form of `application/x-www-form-urlencoded`
//! cannot carry a file, so [`super::SiteForm`] cannot read it; the same checks are made here,
//! in an order that buffers nothing for a request that fails them:
//!
//! 1. the form was sent from this site (Fetch Metadata, or `Origin`): else 403;
//! 2. a declared length over [`REFUSED_UNREAD_BYTES`] is answered as too large without reading;
//! 3. the first field must be `csrf` and hold the session's token (at most 256 bytes are read):
//!    else 403, before a byte of the file is looked at (browsers send fields in the order of
//!    the form, and the form puts the token first);
//! 4. someone must be signed in to the session (else 303 to the sign-in form, as
//!    [`super::CurrentUser`] answers; the handler's `CurrentUser` then checks the sign-in with
//!    the authorization server), and a place must be free among the uploads the site reads at
//!    once ([`MAX_UPLOADS_IN_PROGRESS`], else 503): the site never holds more than that many
//!    files, whoever sends them;
//! 5. the `photo` field is kept up to [`MAX_PHOTO_BYTES`]; beyond that the rest is read and
//!    dropped (so the browser sees the answer), never kept. The body deadline of every service
//!    (`service_kit::limits`) bounds how long that may take.

use actix_multipart::Multipart;
use actix_session::SessionExt as _;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt as _;
use tokio::sync::OwnedSemaphorePermit;

use super::Extracting;
use super::current_user::NotSignedIn;
use super::site_form::same_origin;
use crate::error::WebError;
use crate::session;
use crate::state::WebState;

/// The largest photo the site accepts (the API's own limit: 5 MB).
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;
/// Photo uploads the site reads and forwards at once (each holds up to [`MAX_PHOTO_BYTES`]).
pub const MAX_UPLOADS_IN_PROGRESS: usize = 16;
/// A body declared larger than this is not read at all.
pub const REFUSED_UNREAD_BYTES: u64 = 2 * MAX_PHOTO_BYTES as u64;
/// The most of a field other than the photo that is kept (the CSRF token, a submit button).
const MAX_FIELD_BYTES: usize = 256;

/// What the photo form brought.
#[derive(Debug)]
pub enum Upload {
    /// A file: its bytes and the type the browser declared for it.
    File {
        /// The file.
        bytes: Bytes,
        /// Its declared type (`application/octet-stream` when none): the API goes by content.
        declared_type: String,
    },
    /// No file was chosen.
    NoFile,
    /// The file (or the whole body) is over the limit.
    TooLarge,
}

/// The photo form, sent from this site with the session's CSRF token first (see the module
/// documentation). Refused with [`WebError::Forbidden`] (403), [`WebError::BadRequest`],
/// [`NotSignedIn`] or [`WebError::Unavailable`] (503).
#[derive(Debug)]
pub struct PhotoUpload {
    /// What the form brought.
    pub upload: Upload,
    /// The upload's place among those in progress: keep it until the file has been sent on.
    pub place: Option<OwnedSemaphorePermit>,
}

impl FromRequest for PhotoUpload {
    type Error = actix_web::Error;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let multipart = Multipart::new(req.headers(), payload.take());
        Box::pin(async move { read(&req, multipart).await })
    }
}

fn unreadable(e: impl std::fmt::Display) -> WebError {
    WebError::BadRequest(format!("The form could not be read: {e}."))
}

async fn read(
    req: &HttpRequest,
    mut multipart: Multipart,
) -> Result<PhotoUpload, actix_web::Error> {
    same_origin(req)?;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > REFUSED_UNREAD_BYTES) {
        return Ok(PhotoUpload {
            upload: Upload::TooLarge,
            place: None,
        });
    }
    // 3. The token first.
    let mut first = match multipart.next().await {
        Some(Ok(field)) => field,
        Some(Err(e)) => return Err(unreadable(e).into()),
        None => return Err(unreadable("it is empty").into()),
    };
    if first.name() != Some("csrf") {
        return Err(WebError::Forbidden.into());
    }
    let token = match first.bytes(MAX_FIELD_BYTES).await {
        Ok(Ok(token)) => token,
        Ok(Err(e)) => return Err(unreadable(e).into()),
        Err(_) => return Err(WebError::Forbidden.into()),
    };
    drop(first);
    let token = std::str::from_utf8(&token).map_err(|_| WebError::Forbidden)?;
    session::check_csrf(&req.get_session(), token)?;
    // 4. Someone signed in, and a place.
    if session::signed_in(&req.get_session()).is_none() {
        return Err(NotSignedIn::SignInFirst.into());
    }
    let state = req.app_data::<web::Data<WebState>>().ok_or_else(|| {
        WebError::Unexpected(anyhow::anyhow!("the website's state is not registered"))
    })?;
    let place = state
        .photo_uploads
        .clone()
        .try_acquire_owned()
        .map_err(|_| WebError::Unavailable("every photo upload place is taken".into()))?;
    // 5. The photo.
    let mut upload = Upload::NoFile;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(unreadable)?;
        if field.name() != Some("photo") || !matches!(upload, Upload::NoFile) {
            // Another field, or a second file: read and dropped.
            if let Ok(Err(e)) = field.bytes(MAX_FIELD_BYTES).await {
                return Err(unreadable(e).into());
            }
            continue;
        }
        let declared_type = field
            .content_type()
            .map_or("application/octet-stream".to_owned(), ToString::to_string);
        upload = match field.bytes(MAX_PHOTO_BYTES).await {
            Err(_) => Upload::TooLarge,
            Ok(Err(e)) => return Err(unreadable(e).into()),
            // A form sent with no file chosen has a `photo` part with no content.
            Ok(Ok(bytes)) if bytes.is_empty() => Upload::NoFile,
            Ok(Ok(bytes)) => Upload::File {
                bytes,
                declared_type,
            },
        };
    }
    Ok(PhotoUpload {
        upload,
        place: Some(place),
    })
}

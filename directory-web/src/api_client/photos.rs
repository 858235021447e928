//! Staff photos at the API, as the website calls it: a conditional read with the site's own
//! token (for the website's photo cache), and a member of staff's upload and removal of their
//! own with their token. A refusal is read from the problem's `code`, never from its words.

use secrecy::{ExposeSecret as _, SecretString};

use super::{Api, ApiFailure, problem_of};

/// The largest image the website takes from the API: the API stores photos of at most 512
/// pixels a side, far smaller; anything larger is not what it stores.
const MAX_FETCHED_BYTES: usize = 2 * 1024 * 1024;

/// Which of a record's two images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhotoSize {
    /// The photo (`/staff/{id}/photo`).
    Full,
    /// The thumbnail (`/staff/{id}/photo/thumbnail`).
    Thumbnail,
}

/// An image as the API sent it.
#[derive(Debug, Clone)]
pub struct FetchedImage {
    /// Its media type (one of the image types the site serves).
    pub content_type: String,
    /// Its ETag.
    pub etag: String,
    /// The image.
    pub bytes: actix_web::web::Bytes,
}

/// How a photo read ended.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// The image.
    Image(FetchedImage),
    /// The copy named by `If-None-Match` is current (304).
    NotModified,
    /// No such record, or it has no photo (404).
    Missing,
}

/// Why the API refused a photo, by the problem's code (or the status when it has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoRefusal {
    /// 413: over 5 MB.
    TooLarge,
    /// 415 `unsupported_photo_type`.
    UnsupportedType,
    /// 422 `photo_too_many_pixels`.
    TooManyPixels,
    /// 422 `corrupt_photo`, or a 422 the site does not know.
    Unreadable,
}

impl Api {
    /// Record `id`'s photo (or thumbnail), with `token` (the site's own), asking only for a
    /// newer one than `known` (an ETag) when given.
    pub async fn photo(
        &self,
        token: &SecretString,
        id: i64,
        size: PhotoSize,
        known: Option<&str>,
    ) -> Result<Fetched, ApiFailure> {
        let path = match size {
            PhotoSize::Full => format!("/staff/{id}/photo"),
            PhotoSize::Thumbnail => format!("/staff/{id}/photo/thumbnail"),
        };
        let mut request = self.authorized(reqwest::Method::GET, &path, token.expose_secret());
        if let Some(etag) = known {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let mut response = super::sent(request).await?;
        match response.status().as_u16() {
            200 => {}
            304 => return Ok(Fetched::NotModified),
            404 => return Ok(Fetched::Missing),
            401 => return Err(ApiFailure::Unauthorized),
            status => {
                return Err(ApiFailure::Unavailable(format!(
                    "the API answered {status}"
                )));
            }
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (etag, content_type) = (
            header(reqwest::header::ETAG),
            header(reqwest::header::CONTENT_TYPE),
        );
        let Some((etag, content_type)) = etag.zip(content_type.filter(|t| is_image_type(t))) else {
            return Err(ApiFailure::Unavailable(
                "the API sent a photo without an ETag or of a type the site does not serve".into(),
            ));
        };
        // Read at most MAX_FETCHED_BYTES, whatever the API declares.
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| ApiFailure::Unavailable(format!("unreadable photo: {e}")))?
        {
            if bytes.len() + chunk.len() > MAX_FETCHED_BYTES {
                return Err(ApiFailure::Unavailable(
                    "the API sent an oversized photo".into(),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Image(FetchedImage {
            content_type,
            etag,
            bytes: bytes.into(),
        }))
    }

    /// Uploads `bytes` as record `id`'s photo with the member of staff's own `token`, sending
    /// the type the browser declared (the API goes by the content). `Ok(None)` when stored.
    pub async fn put_own_photo(
        &self,
        token: &SecretString,
        id: i64,
        declared_type: &str,
        bytes: actix_web::web::Bytes,
    ) -> Result<Option<PhotoRefusal>, ApiFailure> {
        let response = super::sent(
            self.authorized(
                reqwest::Method::PUT,
                &format!("/staff/{id}/photo"),
                token.expose_secret(),
            )
            .header(reqwest::header::CONTENT_TYPE, declared_type)
            .body(bytes),
        )
        .await?;
        let status = response.status().as_u16();
        match status {
            200 | 201 => Ok(None),
            413 => Ok(Some(PhotoRefusal::TooLarge)),
            415 | 422 => {
                let problem = problem_of(response).await;
                Ok(Some(match (status, problem["code"].as_str()) {
                    (415, _) | (_, Some("unsupported_photo_type")) => PhotoRefusal::UnsupportedType,
                    (_, Some("photo_too_many_pixels")) => PhotoRefusal::TooManyPixels,
                    _ => PhotoRefusal::Unreadable,
                }))
            }
            401 => Err(ApiFailure::Unauthorized),
            404 => Err(ApiFailure::NotFound),
            400 | 403 => Err(super::bad_input(response, "refused").await),
            status => Err(ApiFailure::Unavailable(format!(
                "the API answered {status}"
            ))),
        }
    }

    /// Removes record `id`'s photo with the member of staff's own `token`: `true` when removed,
    /// `false` when there was none.
    pub async fn remove_own_photo(
        &self,
        token: &SecretString,
        id: i64,
    ) -> Result<bool, ApiFailure> {
        let response = super::sent(self.authorized(
            reqwest::Method::DELETE,
            &format!("/staff/{id}/photo"),
            token.expose_secret(),
        ))
        .await?;
        match response.status().as_u16() {
            204 => Ok(true),
            404 => match problem_of(response).await["code"].as_str() {
                Some("no_photo") => Ok(false),
                _ => Err(ApiFailure::NotFound),
            },
            401 => Err(ApiFailure::Unauthorized),
            400 | 403 => Err(super::bad_input(response, "refused").await),
            status => Err(ApiFailure::Unavailable(format!(
                "the API answered {status}"
            ))),
        }
    }
}

/// The media types the site serves photos as: the three the API may store.
pub fn is_image_type(content_type: &str) -> bool {
    matches!(content_type, "image/jpeg" | "image/png" | "image/webp")
}

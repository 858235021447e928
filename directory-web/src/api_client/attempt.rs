//! Requests `/try-it` sends on purpose, expecting the API to refuse them, and the API's
//! answer as it came: whatever its status, it is the lesson.

use super::{Api, ApiFailure};

/// A request `/try-it` sends on purpose, expecting the API to refuse it.
pub struct Attempt<'a> {
    /// `PATCH` or `POST`.
    pub method: reqwest::Method,
    /// The path, `/staff/1`.
    pub path: String,
    /// The bearer token, real or forged.
    pub token: &'a str,
    /// The `If-Match`, for an edit.
    pub if_match: Option<&'a str>,
    /// The JSON body.
    pub body: &'a serde_json::Value,
}

/// The API's answer to an [`Attempt`], as received.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    /// The status.
    pub status: u16,
    /// The status's reason phrase (`Forbidden`).
    pub reason: String,
    /// The `WWW-Authenticate` header, if any.
    pub www_authenticate: Option<String>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body, at most [`RawAnswer::MAX_BODY`] bytes of it (lossy UTF-8).
    pub body: String,
    /// Whether the body was longer, and cut.
    pub truncated: bool,
}

impl RawAnswer {
    /// The most of an answer's body the site reads: a problem document is a few hundred bytes.
    pub const MAX_BODY: usize = 8 * 1024;
}

impl Api {
    /// Sends `attempt` and returns the answer as it came, reading at most
    /// [`RawAnswer::MAX_BODY`] bytes of its body. Only no answer at all is a failure.
    pub async fn attempt(&self, attempt: &Attempt<'_>) -> Result<RawAnswer, ApiFailure> {
        let mut request = self
            .authorized(attempt.method.clone(), &attempt.path, attempt.token)
            .json(attempt.body);
        if let Some(tag) = attempt.if_match {
            request = request.header(reqwest::header::IF_MATCH, tag);
        }
        let mut response = super::sent(request).await?;
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let (www_authenticate, content_type) = (
            header(reqwest::header::WWW_AUTHENTICATE),
            header(reqwest::header::CONTENT_TYPE),
        );
        let status = response.status();
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| ApiFailure::Unavailable(e.to_string()))?
        {
            let room = RawAnswer::MAX_BODY - body.len();
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if chunk.len() > room {
                truncated = true;
                break;
            }
        }
        Ok(RawAnswer {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or_default().to_owned(),
            www_authenticate,
            content_type,
            body: String::from_utf8_lossy(&body).into_owned(),
            truncated,
        })
    }
}

//! Response headers that depend on who a page was rendered for and how the site is served:
//! pages rendered for a session are never stored by any cache, and over HTTPS every response
//! tells browsers to use nothing else (HSTS).

use actix_session::SessionExt as _;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

/// `Cache-Control` of every page rendered for a session: neither a shared cache nor the
/// browser's own may keep it (RFC 9111 §5.2.2.3 and §5.2.2.7; OWASP ASVS 14.3.2). Such a page
/// holds the person's name, their CSRF token, or their token's claims.
pub const PRIVATE_NO_STORE: &str = "private, no-store";

/// `Strict-Transport-Security` when the public URL is `https://` (RFC 6797): a year, the
/// usual minimum for preload lists, without `includeSubDomains` (the site cannot speak for
/// other hosts of its domain) and without `preload` (a domain owner's decision).
pub const HSTS: &str = "max-age=31536000";

/// Marks `private, no-store` every HTML page and redirect answered to a request whose session
/// holds anything (a CSRF token, a signed-in member of staff) before or after the handler:
/// the sign-in form, every signed-in page, the public pages as a signed-in person sees them.
/// Anonymous visitors without a session keep the public pages' own caching; the stylesheet and
/// icon keep theirs whoever asks.
pub async fn private_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let had_session = !req.get_session().entries().is_empty();
    let mut response = next.call(req).await?;
    let has_session = !response.request().get_session().entries().is_empty();
    let page = response.status().is_redirection()
        || response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
    if (had_session || has_session) && page {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(PRIVATE_NO_STORE),
        );
    }
    Ok(response)
}

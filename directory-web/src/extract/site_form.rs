//! A state-changing form: read from the body, then refused with 403 unless it was sent from
//! this site (Fetch Metadata, or `Origin`) and carries the session's CSRF token
//! (synchronizer-token pattern, compared in constant time: `crate::session::check_csrf`).

use actix_session::SessionExt as _;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use super::Extracting;
use crate::error::WebError;
use crate::session;

/// A form that carries the session's CSRF token in a field.
pub trait CsrfProtected {
    /// The CSRF token the form was sent with.
    fn csrf(&self) -> &str;
}

/// A form sent from this site with the session's CSRF token. A form that cannot be read is
/// refused as `web::Form` refuses it (400, or 413 when too large: see the site's `FormConfig`);
/// one from another site or without the token, with [`WebError::Forbidden`] (403).
#[derive(Debug)]
pub struct SiteForm<T>(pub T);

impl<T> FromRequest for SiteForm<T>
where
    T: DeserializeOwned + CsrfProtected + 'static,
{
    type Error = actix_web::Error;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<T>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let web::Form(form) = form.await?;
            same_origin(&req)?;
            session::check_csrf(&req.get_session(), form.csrf())?;
            Ok(SiteForm(form))
        })
    }
}

/// Refuses a state-changing request sent from another site. Browsers that send Fetch
/// Metadata are trusted on it (`same-origin`, or `none` for a user-initiated request);
/// otherwise an `Origin` header, when present, must be this site's.
pub(super) fn same_origin(req: &HttpRequest) -> Result<(), WebError> {
    if let Some(fetch_site) = req.headers().get("sec-fetch-site") {
        return match fetch_site.to_str() {
            Ok("same-origin" | "none") => Ok(()),
            _ => Err(WebError::Forbidden),
        };
    }
    if let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        let info = req.connection_info();
        let own = format!("{}://{}", info.scheme(), info.host());
        if origin != own {
            return Err(WebError::Forbidden);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[derive(serde::Deserialize)]
    struct Form {
        csrf: String,
        name: String,
    }

    impl CsrfProtected for Form {
        fn csrf(&self) -> &str {
            &self.csrf
        }
    }

    fn request(headers: &[(&str, &str)]) -> TestRequest {
        headers.iter().fold(
            TestRequest::post().insert_header((header::HOST, "staff.example.edu")),
            |req, &(name, value)| req.insert_header((name, value)),
        )
    }

    #[test]
    fn fetch_metadata_decides_when_the_browser_sends_it() {
        for (fetch_site, allowed) in [
            ("same-origin", true),
            ("none", true),
            ("same-site", false),
            ("cross-site", false),
        ] {
            // Fetch Metadata wins over an `Origin` that says otherwise.
            let req = request(&[
                ("sec-fetch-site", fetch_site),
                ("origin", "http://staff.example.edu"),
            ])
            .to_http_request();
            assert_eq!(same_origin(&req).is_ok(), allowed, "{fetch_site}");
        }
    }

    #[test]
    fn otherwise_the_origin_must_be_this_sites_when_there_is_one() {
        let own = request(&[("origin", "http://staff.example.edu")]).to_http_request();
        assert!(same_origin(&own).is_ok());
        let other = request(&[("origin", "http://evil.example")]).to_http_request();
        assert!(matches!(same_origin(&other), Err(WebError::Forbidden)));
        let other_scheme = request(&[("origin", "https://staff.example.edu")]).to_http_request();
        assert!(same_origin(&other_scheme).is_err());
        assert!(same_origin(&request(&[]).to_http_request()).is_ok());
    }

    /// `body` sent as a form by a session holding a CSRF token (`{token}` in `body` stands for
    /// it); the form, or the status it was refused with.
    async fn extract(headers: &[(&str, &str)], body: &str) -> Result<SiteForm<Form>, u16> {
        let (req, _) = request(headers)
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .insert_header((header::CONTENT_LENGTH, body.len()))
            .to_http_parts();
        let token = session::csrf_token(&req.get_session()).map_err(|_| 500_u16)?;
        let body = body.replace("{token}", &token);
        let mut payload = Payload::from(body.into_bytes());
        SiteForm::<Form>::from_request(&req, &mut payload)
            .await
            .map_err(|e| e.as_response_error().status_code().as_u16())
    }

    #[tokio::test]
    async fn a_form_from_this_site_with_the_sessions_token_is_accepted() {
        let form = extract(
            &[("sec-fetch-site", "same-origin")],
            "csrf={token}&name=Ada",
        )
        .await;
        assert!(matches!(form, Ok(SiteForm(Form { name, .. })) if name == "Ada"));
    }

    #[tokio::test]
    async fn a_form_without_the_token_or_from_another_site_is_forbidden() {
        let wrong_token = extract(&[("sec-fetch-site", "same-origin")], "csrf=guess&name=Ada");
        assert_eq!(wrong_token.await.err(), Some(403));
        let cross_site = extract(&[("sec-fetch-site", "cross-site")], "csrf={token}&name=Ada");
        assert_eq!(cross_site.await.err(), Some(403));
    }

    #[tokio::test]
    async fn a_form_that_cannot_be_read_is_refused_before_anything_else() {
        // No `name`: the form is refused as unreadable, even from another site.
        let unreadable = extract(&[("sec-fetch-site", "cross-site")], "csrf={token}");
        assert_eq!(unreadable.await.err(), Some(400));
    }
}

//! Who is calling, and what a state-changing form must carry, as actix extractors: a handler
//! names what it needs in its arguments instead of remembering to call a check.
//!
//! - [`CurrentUser`]: the signed-in member of staff (renewed, still active at the
//!   authorization server); anyone else is sent to the sign-in form. [`MaybeUser`] when a
//!   visitor who is not signed in is welcome too.
//! - [`SiteForm`]: a form sent from this site with the session's CSRF token.
//! - [`PhotoUpload`]: the profile's photo form (`multipart/form-data`), the same checks made
//!   before the file is read.
//! - [`Then`]: two extractors one after the other, for when a check must come first.

use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

mod current_user;
mod photo_upload;
mod site_form;

pub use current_user::{CurrentUser, MaybeUser, NotSignedIn};
pub use photo_upload::{MAX_PHOTO_BYTES, MAX_UPLOADS_IN_PROGRESS, PhotoUpload, Upload};
pub use site_form::{CsrfProtected, SiteForm};

/// The future of an extractor of this module.
type Extracting<T, E = actix_web::Error> = Pin<Box<dyn Future<Output = Result<T, E>>>>;

/// `A`, then `B` only once `A` has succeeded. actix extracts a handler's arguments side by
/// side, so a check that must come first goes first here: `Then<SiteForm<F>, CurrentUser>`
/// refuses a form from another site or without the CSRF token (403) before the session is
/// renewed or a visitor who is not signed in is redirected. `A` receives the request body.
pub struct Then<A, B>(pub A, pub B);

impl<A, B> FromRequest for Then<A, B>
where
    A: FromRequest + 'static,
    B: FromRequest + 'static,
{
    type Error = actix_web::Error;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let first = A::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let a = first.await.map_err(Into::into)?;
            let b = B::from_request(&req, &mut Payload::None)
                .await
                .map_err(Into::into)?;
            Ok(Then(a, b))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::future::{Ready, ready};

    use actix_web::test::TestRequest;

    use super::*;

    thread_local! {
        static SECOND_EXTRACTED: Cell<usize> = const { Cell::new(0) };
    }

    /// Succeeds when the request has an `x-first` header.
    struct First;

    impl FromRequest for First {
        type Error = actix_web::Error;
        type Future = Ready<Result<Self, actix_web::Error>>;

        fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
            ready(match req.headers().contains_key("x-first") {
                true => Ok(First),
                false => Err(actix_web::error::ErrorForbidden("first")),
            })
        }
    }

    /// Counts its extractions.
    struct Second;

    impl FromRequest for Second {
        type Error = actix_web::Error;
        type Future = Ready<Result<Self, actix_web::Error>>;

        fn from_request(_: &HttpRequest, _: &mut Payload) -> Self::Future {
            SECOND_EXTRACTED.set(SECOND_EXTRACTED.get() + 1);
            ready(Ok(Second))
        }
    }

    #[tokio::test]
    async fn the_second_extractor_runs_only_after_the_first_succeeded() {
        let (req, mut payload) = TestRequest::default().to_http_parts();
        let refused = Then::<First, Second>::from_request(&req, &mut payload).await;
        assert_eq!(
            refused.err().map(|e| e.as_response_error().status_code()),
            Some(actix_web::http::StatusCode::FORBIDDEN)
        );
        assert_eq!(SECOND_EXTRACTED.get(), 0);

        let (req, mut payload) = TestRequest::default()
            .insert_header(("x-first", "1"))
            .to_http_parts();
        let both = Then::<First, Second>::from_request(&req, &mut payload).await;
        assert!(matches!(both, Ok(Then(First, Second))));
        assert_eq!(SECOND_EXTRACTED.get(), 1);
    }
}

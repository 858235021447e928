//! The signed-in member of staff of a request, with a usable access token.
//!
//! Their access token is renewed with the refresh token when it is about to expire (once at a
//! time per session: see `crate::renewal`), and the authorization server is asked whether the
//! sign-in is still active, so a cookie replayed after sign-out, a changed password or a
//! disabled account ends the session here and now. A session that idled out, whose sign-in is
//! over, or that is no longer active is ended (its cookie removed). The cookie is written only
//! when its contents change.

use actix_session::{Session, SessionExt as _};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};

use super::Extracting;
use crate::error::WebError;
use crate::renewal::{self, Plan, Renewal};
use crate::respond::see_other;
use crate::session::{self, SignedIn};
use crate::state::WebState;

/// The signed-in member of staff. Anyone else is refused with [`NotSignedIn`]: 303 to
/// `/sign-in`, or 503 when the sign-in could not be checked.
#[derive(Debug)]
pub struct CurrentUser(pub SignedIn);

/// The signed-in member of staff, or `None` for a visitor who is not signed in. Fails (with a
/// [`WebError`]) only when the sign-in could not be checked.
#[derive(Debug)]
pub struct MaybeUser(pub Option<SignedIn>);

/// Why [`CurrentUser`] refused a request.
#[derive(Debug, thiserror::Error)]
pub enum NotSignedIn {
    /// Nobody is signed in, or the session just ended: 303 See Other to `/sign-in`,
    /// `Cache-Control: private, no-store`.
    #[error("not signed in")]
    SignInFirst,
    /// The sign-in could not be checked (the authorization server is out of reach, too many
    /// renewals in flight): the error's own page.
    #[error(transparent)]
    Failed(#[from] WebError),
}

impl ResponseError for NotSignedIn {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignInFirst => StatusCode::SEE_OTHER,
            Self::Failed(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::SignInFirst => see_other("/sign-in"),
            Self::Failed(e) => e.error_response(),
        }
    }
}

impl FromRequest for MaybeUser {
    type Error = WebError;
    type Future = Extracting<Self, WebError>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let state = req.app_data::<web::Data<WebState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                WebError::Unexpected(anyhow::anyhow!("the website's state is not registered"))
            })?;
            signed_in_now(&session, &state).await.map(MaybeUser)
        })
    }
}

impl FromRequest for CurrentUser {
    type Error = actix_web::Error;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let maybe = MaybeUser::from_request(req, payload);
        Box::pin(async move {
            match maybe.await {
                Ok(MaybeUser(Some(user))) => Ok(CurrentUser(user)),
                Ok(MaybeUser(None)) => Err(NotSignedIn::SignInFirst.into()),
                Err(e) => Err(NotSignedIn::Failed(e).into()),
            }
        })
    }
}

/// The signed-in member of staff of `session` at this moment, renewed if due; `None` when
/// nobody is, and the session is then ended.
async fn signed_in_now(session: &Session, state: &WebState) -> Result<Option<SignedIn>, WebError> {
    let Some(mut user) = session::signed_in(session) else {
        return Ok(None);
    };
    let now = state.clock.now();
    let changed = match renewal::plan(&user, now, state.idle_timeout_secs) {
        Plan::IdledOut => {
            session::end(session);
            return Ok(None);
        }
        Plan::Renew => match state.renewals.renew(&user).await {
            Renewal::Renewed(renewed) => {
                user = SignedIn {
                    flash: user.flash.take(),
                    ..renewed
                };
                true
            }
            Renewal::Over => {
                session::end(session);
                return Ok(None);
            }
            Renewal::Unavailable(e) => return Err(WebError::Unavailable(e)),
        },
        Plan::Touch => {
            user.last_seen = now;
            true
        }
        Plan::Keep => false,
    };
    // A cookie replayed after sign-out, or a sign-in ended at the authorization server
    // (password changed, account disabled), stops here, not when the access token expires.
    match state.users.is_active(&user).await {
        Ok(true) => {}
        Ok(false) => {
            session::end(session);
            return Ok(None);
        }
        Err(e) => return Err(WebError::Unavailable(e.to_string())),
    }
    if changed {
        session::set_signed_in(session, &user)?;
    }
    Ok(Some(user))
}

#[cfg(test)]
mod tests {
    use actix_web::http::header;

    use super::*;

    #[test]
    fn a_visitor_who_is_not_signed_in_is_sent_to_the_sign_in_form() {
        let refused = NotSignedIn::SignInFirst;
        assert_eq!(refused.status_code(), StatusCode::SEE_OTHER);
        let response = refused.error_response();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(header(header::LOCATION).as_deref(), Some("/sign-in"));
        assert_eq!(
            header(header::CACHE_CONTROL).as_deref(),
            Some(crate::headers::PRIVATE_NO_STORE)
        );
    }

    #[test]
    fn a_sign_in_that_could_not_be_checked_is_the_error_page() {
        let failed = NotSignedIn::from(WebError::Unavailable("connection refused".into()));
        assert_eq!(failed.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let response = failed.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key(header::RETRY_AFTER));
    }
}

//! Sign-out: the session ends here, and the sign-in at the authorization server (RFC 7009),
//! retried in the background when that server cannot confirm it (`crate::revocation`).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::error::WebError;
use crate::extract::{CsrfProtected, SiteForm};
use crate::renewal;
use crate::respond::{private_html, see_other};
use crate::session;
use crate::state::WebState;
use crate::views::{Account, ErrorPage};

/// What a person is told when sign-out could not reach the authorization server.
pub const SIGN_OUT_PENDING: &str = "You are signed out of this browser: it no longer holds your sign-in. But the university login server could not be reached to end the sign-in itself, so until then it stays valid there, and a copy of it taken from this browser could still be used. This site will keep trying to end it for about the next hour; you do not need to do anything.";

/// The sign-out form.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

impl CsrfProtected for CsrfForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /sign-out`: ends the session (its cookie is removed; no `Clear-Site-Data: "cookies"`,
/// which would also erase the device cookie: signing out ends a sign-in, not the device's
/// standing), and the sign-in at the authorization server (RFC 7009:
/// the refresh token, which ends the whole sign-in, then the access token). When the
/// authorization server cannot confirm it, the person is told so on a 503 page, never sent on
/// as if all were done, and the revocation is retried in the background
/// (`crate::revocation`).
///
/// The session is read as it is, not renewed: its tokens are about to be revoked.
pub async fn sign_out(
    SiteForm(_): SiteForm<CsrfForm>,
    session: Session,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let mut ended = true;
    if let Some(user) = session::signed_in(&session) {
        ended = state
            .revocations
            .revoke_now(
                state.users.as_ref(),
                renewal::held_tokens(&user),
                &user.username,
                state.clock.now(),
            )
            .await;
        tracing::info!(username = %user.username, ended_at_the_authorization_server = ended, "member of staff signed out");
    }
    session::end(&session);
    if ended {
        return Ok(see_other("/"));
    }
    private_html(
        &ErrorPage {
            title: "Signed out of this browser only — Staff directory".into(),
            token_used: "no token (nothing was fetched for this page)".into(),
            account: Account::default(),
            status: 503,
            heading: "Signed out of this browser, but not yet everywhere".into(),
            message: SIGN_OUT_PENDING.into(),
        },
        StatusCode::SERVICE_UNAVAILABLE,
    )
}

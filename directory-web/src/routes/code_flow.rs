//! The two ends of the authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636, RFC 9207):
//! `GET /sign-in/start` sends the browser to the authorization server's own sign-in page, and
//! `GET /sign-in/callback` takes its answer. The person's password is typed there, never here.
//!
//! What is decided (is this callback this browser's own answer? where may the person go
//! afterwards?) is `crate::code_flow`; the oauth2 crate makes the request and exchanges the
//! code (`crate::user_tokens`). Both routes exist only when `--sign-in-methods` offers the
//! code flow. Every answer here is `Cache-Control: private, no-store`.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::code_flow::{self, CallbackParams, Pending, Refusal};
use crate::error::WebError;
use crate::extract::MaybeUser;
use crate::respond::{private_html, see_other};
use crate::session;
use crate::state::WebState;
use crate::user_tokens::CodeExchangeError;
use crate::views::{Account, ErrorPage};

/// `GET /sign-in/start?return_to=/path`: a fresh `state` and PKCE verifier kept in this
/// browser's session, then 303 to the authorization server's authorization endpoint. A member
/// of staff already signed in goes straight to where they were going.
pub async fn start(
    req: HttpRequest,
    MaybeUser(user): MaybeUser,
    session: Session,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let requested = form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(name, _)| name == "return_to")
        .map(|(_, value)| value.into_owned());
    let return_to = code_flow::local_path(requested.as_deref());
    if user.is_some() {
        return Ok(see_other(&return_to));
    }
    let request = state.users.authorization_request();
    session::start_code_flow(
        &session,
        &Pending {
            state: request.state,
            verifier: request.verifier,
            return_to,
            started_at: state.clock.now(),
        },
    )?;
    tracing::info!("sign-in started: sent to the authorization server");
    Ok(see_other(&request.url))
}

/// A page saying why nobody was signed in.
fn refused_page(status: u16, heading: &str, message: &str) -> Result<HttpResponse, WebError> {
    private_html(
        &ErrorPage {
            title: format!("{heading} — Staff directory"),
            token_used: "no token (nothing was fetched for this page)".into(),
            account: Account::default(),
            status,
            heading: heading.into(),
            message: message.into(),
        },
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
    )
}

/// `GET /sign-in/callback?code=…&state=…&iss=…` (or `error=…`): checked against the sign-in
/// started in this browser (`state`, RFC 6749 §10.12) and the issuer (`iss`, RFC 9207 §2.4),
/// the code exchanged with the PKCE verifier, then the person is signed in exactly as with
/// the password grant (a new session identity, the device cookie when one was given) and sent
/// where they were going. Anything else signs no one in and says why.
pub async fn callback(
    req: HttpRequest,
    session: Session,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    // A `state` and a verifier serve one callback, whatever its outcome.
    let pending = session::take_code_flow(&session);
    let granted = CallbackParams::parse(req.query_string()).and_then(|params| {
        code_flow::check(pending.as_ref(), &params, &state.issuer, state.clock.now())
    });
    let granted = match granted {
        Ok(granted) => granted,
        Err(refusal) => {
            tracing::warn!(refusal = ?refusal, "sign-in callback refused");
            let (heading, message) = refusal.explained();
            let mut response = refused_page(refusal.status(), heading, message)?;
            if refusal == Refusal::Declined(code_flow::Declined::Unavailable) {
                response.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    actix_web::http::header::HeaderValue::from_static("30"),
                );
            }
            return Ok(response);
        }
    };
    match state
        .users
        .exchange_code(&granted.code, &granted.verifier)
        .await
    {
        Ok((user, device)) => {
            tracing::info!(username = ?user.username, grant = user.grant.grant_type(), "member of staff signed in");
            session::begin(&session, &user)?;
            let mut response = see_other(&granted.return_to);
            if let Some(device) = device {
                let mut remembered = state.devices.read(&req);
                remembered.remember(&user.username, &device);
                match state.devices.cookie(&remembered) {
                    Ok(cookie) => response
                        .add_cookie(&cookie)
                        .map_err(|e| WebError::Unexpected(anyhow::anyhow!("device cookie: {e}")))?,
                    Err(e) => tracing::warn!(error = %e, "could not write the device cookie"),
                }
            }
            Ok(response)
        }
        Err(CodeExchangeError::Refused(code)) => {
            tracing::warn!(error = %code, "the authorization server refused the code");
            refused_page(
                400,
                "The sign-in could not be completed",
                "Nobody was signed in: the university login did not accept this sign-in's code (it may have been used already, or have expired). Start again from the sign-in page.",
            )
        }
        Err(CodeExchangeError::Unavailable(e)) => Err(WebError::Unavailable(e)),
    }
}

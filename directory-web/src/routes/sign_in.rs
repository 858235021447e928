//! Staff sign-in: the page offering the ways in (the authorization code flow first, whose two
//! ends are `code_flow.rs`, then the password form), and the password grant behind the form.
//!
//! The form must come from this site with the session's CSRF token ([`SiteForm`]); every page
//! here is `Cache-Control: private, no-store`; the session identity is renewed at sign-in
//! (`crate::session::begin`). Two throttles stand in front of the password: failures per
//! visitor address here, and the username's lock at the authorization server, which is told
//! from a wrong password by its status (429) and passed on with its `Retry-After`.

use actix_session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;

use crate::error::WebError;
use crate::extract::{CsrfProtected, MaybeUser, SiteForm};
use crate::respond::{private_html, see_other};
use crate::session::{self, account};
use crate::state::WebState;
use crate::user_tokens::SignInError;
use crate::views::SignInPage;
use service_kit::address_throttle::client_address;

/// `GET /sign-in`: the ways in that `--sign-in-methods` offers; a member of staff already signed in goes to their profile.
pub async fn sign_in_form(
    MaybeUser(user): MaybeUser,
    session: Session,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    if user.is_some() {
        return Ok(see_other("/profile"));
    }
    let csrf = session::csrf_token(&session)?;
    private_html(
        &SignInPage {
            title: "Staff sign in — Staff directory".into(),
            token_used: "no token (nothing was fetched for this page)".into(),
            account: account(&session),
            code_flow: state.sign_in_methods.authorization_code(),
            password: state.sign_in_methods.password(),
            csrf,
            username: String::new(),
            error: None,
        },
        StatusCode::OK,
    )
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    csrf: String,
    username: String,
    password: String,
}

impl CsrfProtected for SignInForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// "Wait 3 minutes" for a wait of `secs` seconds (at least a minute).
fn wait_in_minutes(secs: u64) -> String {
    let minutes = secs.div_ceil(60).max(1);
    format!(
        "Wait {minutes} minute{}",
        if minutes == 1 { "" } else { "s" }
    )
}

/// `POST /sign-in`: the password grant, then a new session (routed only when
/// `--sign-in-methods` offers the password form).
pub async fn sign_in(
    req: HttpRequest,
    session: Session,
    SiteForm(form): SiteForm<SignInForm>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let username = form.username.trim().to_owned();
    let refused = |message: &str, status| -> Result<HttpResponse, WebError> {
        private_html(
            &SignInPage {
                title: "Staff sign in — Staff directory".into(),
                token_used: "no token (nothing was fetched for this page)".into(),
                account: account(&session),
                code_flow: state.sign_in_methods.authorization_code(),
                password: true,
                csrf: session::csrf_token(&session)?,
                username: username.chars().take(64).collect(),
                error: Some(message.to_owned()),
            },
            status,
        )
    };
    let failed = |message: &str| refused(message, StatusCode::OK);
    if username.is_empty() || form.password.is_empty() {
        return failed("Enter your username and your password.");
    }
    // A browser where this person signed in before (its device cookie holds their device
    // token) is exempt from the locks strangers cause: the address count here, and the
    // username's lock at the authorization server, which gives it a budget of its own.
    let mut remembered = state.devices.read(&req);
    let device_token = remembered.token_for(&username).map(str::to_owned);
    // Password spraying: many usernames from one address. Refused here, before the
    // authorization server is asked (which sees only this site's address).
    let address = client_address(&req, &state.trusted_proxies).filter(|_| device_token.is_none());
    let now = state.clock.now();
    if let Some(Err(retry_after)) = address.map(|a| state.sign_in_throttle.begin(a, now)) {
        state.metrics.sign_ins_throttled.inc();
        tracing::warn!(address = ?address, retry_after, "sign-in refused: too many failures from this address");
        let minutes = (retry_after + 59) / 60;
        let mut response = refused(
            &format!(
                "Too many failed sign-ins from your network. Wait {minutes} minute{}, then try again.",
                if minutes == 1 { "" } else { "s" }
            ),
            StatusCode::TOO_MANY_REQUESTS,
        )?;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
        return Ok(response);
    }
    let result = state
        .users
        .sign_in(
            &username,
            &SecretString::from(form.password),
            device_token.as_deref(),
        )
        .await;
    if !matches!(
        result,
        Err(SignInError::BadCredentials | SignInError::Throttled { .. })
    ) && let Some(address) = address
    {
        state.sign_in_throttle.not_a_failure(address);
    }
    match result {
        Ok((user, device)) => {
            tracing::info!(username = ?user.username, known_device = device_token.is_some(), "member of staff signed in");
            session::begin(&session, &user)?;
            let mut response = see_other("/profile");
            if let Some(device) = device {
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
        Err(SignInError::BadCredentials) => failed("Invalid username or password."),
        Err(SignInError::Throttled { retry_after }) => {
            // The authorization server's own 429 and Retry-After, passed on (RFC 6585 §4).
            let wait = retry_after.map_or_else(|| "Wait a few minutes".to_owned(), wait_in_minutes);
            let mut response = refused(
                &format!("Too many failed attempts for this account. {wait}, then try again."),
                StatusCode::TOO_MANY_REQUESTS,
            )?;
            if let Some(secs) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            }
            Ok(response)
        }
        Err(SignInError::Unavailable(e)) => Err(WebError::Unavailable(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_told_in_whole_minutes_rounded_up() {
        assert_eq!(wait_in_minutes(0), "Wait 1 minute");
        assert_eq!(wait_in_minutes(1), "Wait 1 minute");
        assert_eq!(wait_in_minutes(60), "Wait 1 minute");
        assert_eq!(wait_in_minutes(61), "Wait 2 minutes");
        assert_eq!(wait_in_minutes(900), "Wait 15 minutes");
    }
}

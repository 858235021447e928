//! `GET /oauth/authorize` (RFC 6749 §4.1.1, RFC 7636 §4.3): the sign-in page; and
//! `POST /oauth/authorize`: its form, which signs the person in and sends the browser back
//! to the client with a code (§4.1.2, RFC 9207), or back to the page with a message.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse, web};
use secrecy::SecretString;

use super::form_body::MAX_BODY_BYTES;
use super::sign_in_page::{
    DEVICE_COOKIE, FORM_COOKIE, SignInView, device_cookie, error_page, page_headers,
};
use crate::error::Error;
use crate::oauth::authorize::{
    AuthorizationRequest, AuthorizeError, AuthorizeErrorCode, error_location, response_location,
};
use crate::oauth::form::FormParams;
use crate::oauth::password::MAX_PASSWORD_BYTES;
use crate::state::AppState;

/// Shown when the form's CSRF check fails.
const FORGED: &str = "This sign-in form has expired or was not sent from this page. Go back to the application and start again.";
/// Shown when the request cannot be read at all.
const MALFORMED: &str =
    "The sign-in request is malformed: a parameter is repeated or badly encoded.";

/// The sign-in page, or the request's refusal.
pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    let Ok(params) = FormParams::parse(req.query_string().as_bytes()) else {
        return error_page(StatusCode::BAD_REQUEST, MALFORMED);
    };
    let request = match state.tokens.authorization_request(&params).await? {
        Ok(request) => request,
        Err(refusal) => return refuse(&state, refusal),
    };
    let held = req.cookie(FORM_COOKIE);
    let (nonce, token) = state
        .tokens
        .form_guard()
        .issue(held.as_ref().map(|c| c.value()), state.tokens.now())?;
    view(&state, &request, &params, (&nonce, &token), "", None).respond(StatusCode::OK)
}

/// The form: CSRF check, the request checked again, then the password.
pub async fn submit(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    let is_form = matches!(req.mime_type(), Ok(Some(m)) if m.essence_str() == "application/x-www-form-urlencoded");
    if !is_form {
        return error_page(StatusCode::UNSUPPORTED_MEDIA_TYPE, MALFORMED);
    }
    let body = payload
        .to_bytes_limited(MAX_BODY_BYTES)
        .await
        .map_err(|_| Error::BodyTooLarge)?
        .map_err(|_| Error::Unexpected(anyhow::anyhow!("the sign-in form could not be read")))?;
    let Ok(params) = FormParams::parse(&body) else {
        return error_page(StatusCode::BAD_REQUEST, MALFORMED);
    };
    let now = state.tokens.now();
    let nonce = req.cookie(FORM_COOKIE);
    let nonce = nonce.as_ref().map(|c| c.value());
    if !state
        .tokens
        .form_guard()
        .check(nonce, params.get("csrf"), now)
    {
        tracing::warn!("sign-in form refused: CSRF token missing, expired or not this browser's");
        return error_page(StatusCode::FORBIDDEN, FORGED);
    }
    let request = match state.tokens.authorization_request(&params).await? {
        Ok(request) => request,
        Err(refusal) => return refuse(&state, refusal),
    };
    if params.get("action") == Some("cancel") {
        // §4.1.2.1: the resource owner denied the request.
        return refuse(
            &state,
            AuthorizeError::Redirect {
                redirect_uri: request.redirect_uri,
                state: request.state,
                code: AuthorizeErrorCode::AccessDenied,
            },
        );
    }
    let (nonce, token) = state.tokens.form_guard().issue(nonce, now)?;
    let username = params.get("username").unwrap_or_default();
    let password = params.get("password").unwrap_or_default();
    let again = |message: &str, status: StatusCode| {
        view(
            &state,
            &request,
            &params,
            (&nonce, &token),
            username,
            Some(message),
        )
        .respond(status)
    };
    if username.is_empty() || password.is_empty() {
        return again("Enter your username and your password.", StatusCode::OK);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return again("The username or password is incorrect.", StatusCode::OK);
    }
    let device = req.cookie(DEVICE_COOKIE);
    let requester = req.conn_data::<service_kit::liveness::Liveness>();
    let issued = state
        .tokens
        .issue_code(
            &request,
            username,
            &SecretString::from(password),
            device.as_ref().map(|c| c.value()),
            requester,
        )
        .await;
    match issued {
        Ok(issued) => {
            use secrecy::ExposeSecret as _;
            let mut pairs = vec![("code", issued.code.expose_secret())];
            if let Some(s) = &request.state {
                pairs.push(("state", s.as_str()));
            }
            let location = response_location(&request.redirect_uri, &pairs, state.tokens.issuer());
            state.metrics.authorization_response("code");
            Ok(page_headers(StatusCode::SEE_OTHER, None)
                .cookie(device_cookie(issued.device_token, secure(&state)))
                .insert_header((header::LOCATION, location))
                .finish())
        }
        Err(Error::OAuth(e)) if e.retry_after.is_some() => {
            let seconds = e.retry_after.unwrap_or_default();
            let mut response = again(
                "Too many failed sign-in attempts. Wait a while, then try again.",
                StatusCode::TOO_MANY_REQUESTS,
            )?;
            if let Ok(value) = header::HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        Err(Error::OAuth(_)) => again("The username or password is incorrect.", StatusCode::OK),
        Err(Error::Overloaded) => {
            let mut response = again(
                "Too many people are signing in right now. Try again in a moment.",
                StatusCode::SERVICE_UNAVAILABLE,
            )?;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            Ok(response)
        }
        Err(e) => Err(e),
    }
}

/// Whether the cookies are `Secure`: when this server is reached over HTTPS.
fn secure(state: &AppState) -> bool {
    state.tokens.issuer().starts_with("https://")
}

fn view<'a>(
    state: &AppState,
    request: &'a AuthorizationRequest,
    params: &'a FormParams,
    csrf: (&'a str, &'a str),
    username: &'a str,
    error: Option<&'a str>,
) -> SignInView<'a> {
    SignInView {
        request,
        params,
        csrf,
        username,
        error,
        secure: secure(state),
    }
}

/// A refused request: the error page, or back to the client with `error`, `state`, `iss`.
fn refuse(state: &AppState, refusal: AuthorizeError) -> Result<HttpResponse, Error> {
    match refusal {
        AuthorizeError::Page(message) => error_page(StatusCode::BAD_REQUEST, message),
        AuthorizeError::Redirect {
            redirect_uri,
            state: client_state,
            code,
        } => {
            state.metrics.authorization_response(code.as_str());
            let location = error_location(
                &redirect_uri,
                code,
                client_state.as_deref(),
                state.tokens.issuer(),
            );
            Ok(page_headers(StatusCode::SEE_OTHER, None)
                .insert_header((header::LOCATION, location))
                .finish())
        }
    }
}

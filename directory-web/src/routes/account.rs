//! Staff sign-in (the password grant), editing one's own profile, and sign-out.
//!
//! Every form carries the session's CSRF token and must come from this site (`Origin`,
//! `Sec-Fetch-Site`); every page here is `Cache-Control: private, no-store`; the session identity is
//! renewed at sign-in; an idle session ends after the configured time.

use actix_session::Session;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use super::pages::{account, decoded_claims};
use crate::api::{ApiFailure, Saved, StaffRecord};
use crate::error::WebError;
use crate::headers::PRIVATE_NO_STORE;
use crate::renewal::{self, Plan, Renewal};
use crate::session::{self, SignedIn};
use crate::state::WebState;
use crate::user_tokens::SignInError;
use crate::views::{ConflictRow, ErrorPage, FieldMessage, ProfilePage, SignInPage};
use service_kit::address_throttle::client_address;

fn private_html(
    page: &impl Template,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, WebError> {
    let body = page
        .render()
        .map_err(|e| WebError::Unexpected(anyhow::anyhow!("template: {e}")))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, PRIVATE_NO_STORE))
        .body(body))
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, PRIVATE_NO_STORE))
        .finish()
}

/// Refuses a state-changing request sent from another site. Browsers that send Fetch
/// Metadata are trusted on it (`same-origin`, or `none` for a user-initiated request);
/// otherwise an `Origin` header, when present, must be this site's.
fn same_origin(req: &HttpRequest) -> Result<(), WebError> {
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

fn user_token_note(user: &SignedIn) -> String {
    format!(
        "your own token (password grant: you, {}, scope directory:read profile:write) — used for your requests only",
        user.username
    )
}

/// The signed-in member of staff for this request, with a usable access token: renewed with
/// the refresh token when it is about to expire (once at a time per session: see
/// `crate::renewal`). `None` when nobody is signed in, the session idled out, or the sign-in is
/// over; the session is then ended. The cookie is written only when its contents change.
pub async fn current_user(
    session: &Session,
    state: &WebState,
) -> Result<Option<SignedIn>, WebError> {
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

/// `GET /sign-in`.
pub async fn sign_in_form(
    session: Session,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    if current_user(&session, &state).await?.is_some() {
        return Ok(see_other("/profile"));
    }
    let csrf = session::csrf_token(&session)?;
    private_html(
        &SignInPage {
            title: "Staff sign in — Staff directory".into(),
            token_used: "no token (nothing was fetched for this page)".into(),
            account: account(&session),
            csrf,
            username: String::new(),
            error: None,
        },
        actix_web::http::StatusCode::OK,
    )
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    csrf: String,
    username: String,
    password: String,
}

/// `POST /sign-in`: the password grant, then a new session.
pub async fn sign_in(
    req: HttpRequest,
    session: Session,
    form: web::Form<SignInForm>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    same_origin(&req)?;
    session::check_csrf(&session, &form.csrf)?;
    let form = form.into_inner();
    let username = form.username.trim().to_owned();
    let refused = |message: &str, status| -> Result<HttpResponse, WebError> {
        private_html(
            &SignInPage {
                title: "Staff sign in — Staff directory".into(),
                token_used: "no token (nothing was fetched for this page)".into(),
                account: account(&session),
                csrf: session::csrf_token(&session)?,
                username: username.chars().take(64).collect(),
                error: Some(message.to_owned()),
            },
            status,
        )
    };
    let failed = |message: &str| refused(message, actix_web::http::StatusCode::OK);
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
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
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
            let wait = match retry_after {
                Some(secs) => {
                    let minutes = secs.div_ceil(60).max(1);
                    format!(
                        "Wait {minutes} minute{}",
                        if minutes == 1 { "" } else { "s" }
                    )
                }
                None => "Wait a few minutes".to_owned(),
            };
            let mut response = refused(
                &format!("Too many failed attempts for this account. {wait}, then try again."),
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
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

fn profile_page(
    session: &Session,
    user: &SignedIn,
    record: StaffRecord,
    etag: String,
) -> Result<ProfilePage, WebError> {
    Ok(ProfilePage {
        title: "Your profile — Staff directory".into(),
        token_used: user_token_note(user),
        account: account(session),
        csrf: session::csrf_token(session)?,
        id: record.id,
        etag,
        display_name: record.display_name,
        job_title: record.job_title,
        department: record.department,
        email: record.email,
        phone: record.phone,
        office: record.office,
        bio: record.bio,
        research_interests: record.research_interests,
        saved: None,
        errors: Vec::new(),
        conflict: Vec::new(),
    })
}

/// Reads the member of staff's own record with their own token; a refused token ends the
/// sign-in.
async fn own_record(
    session: &Session,
    state: &WebState,
    user: &SignedIn,
) -> Result<Option<(StaffRecord, String)>, WebError> {
    match state.api.me(&user.token()).await {
        Ok(found) => Ok(Some(found)),
        Err(ApiFailure::Unauthorized) => {
            session::end(session);
            Ok(None)
        }
        Err(ApiFailure::NotFound) => Err(WebError::NotFound),
        Err(ApiFailure::BadInput(e) | ApiFailure::Unavailable(e)) => Err(WebError::Unavailable(e)),
    }
}

/// `GET /profile`: the member of staff's own record, with their own token.
pub async fn profile(
    session: Session,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let Some(mut user) = current_user(&session, &state).await? else {
        return Ok(see_other("/sign-in"));
    };
    let Some((record, etag)) = own_record(&session, &state, &user).await? else {
        return Ok(see_other("/sign-in"));
    };
    let mut page = profile_page(&session, &user, record, etag)?;
    page.saved = user.flash.take();
    if page.saved.is_some() {
        // The message is shown once: the cookie changes only then.
        session::set_signed_in(&session, &user)?;
    }
    private_html(&page, actix_web::http::StatusCode::OK)
}

/// The profile form.
#[derive(Deserialize)]
pub struct ProfileForm {
    csrf: String,
    id: i64,
    etag: String,
    phone: String,
    office: String,
    bio: String,
    research_interests: String,
}

/// `POST /profile`: saves the staff-editable fields with the ETag the form was built from;
/// a conflict is shown beside the attempt, never overwritten (Post/Redirect/Get on success).
pub async fn save_profile(
    req: HttpRequest,
    session: Session,
    form: web::Form<ProfileForm>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    same_origin(&req)?;
    session::check_csrf(&session, &form.csrf)?;
    let Some(mut user) = current_user(&session, &state).await? else {
        return Ok(see_other("/sign-in"));
    };
    let form = form.into_inner();
    let fields = serde_json::json!({
        "phone": form.phone.trim(), "office": form.office.trim(),
        "bio": form.bio.trim(), "research_interests": form.research_interests.trim(),
    });
    let outcome = state
        .api
        .save_own(&user.token(), form.id, &form.etag, &fields)
        .await;
    match outcome {
        Ok(Saved::Done) => {
            user.flash = Some("Your profile was saved.".into());
            session::set_signed_in(&session, &user)?;
            Ok(see_other("/profile"))
        }
        Ok(Saved::Conflict) => {
            let Some((record, etag)) = own_record(&session, &state, &user).await? else {
                return Ok(see_other("/sign-in"));
            };
            let conflict = vec![
                ConflictRow {
                    label: "Phone".into(),
                    saved: record.phone.clone(),
                    attempted: form.phone.clone(),
                },
                ConflictRow {
                    label: "Office".into(),
                    saved: record.office.clone(),
                    attempted: form.office.clone(),
                },
                ConflictRow {
                    label: "Biography".into(),
                    saved: record.bio.clone(),
                    attempted: form.bio.clone(),
                },
                ConflictRow {
                    label: "Research interests".into(),
                    saved: record.research_interests.clone(),
                    attempted: form.research_interests.clone(),
                },
            ];
            // The form now edits the saved version; it shows the attempt so nothing is lost.
            let mut page = profile_page(&session, &user, record, etag)?;
            page.phone = form.phone;
            page.office = form.office;
            page.bio = form.bio;
            page.research_interests = form.research_interests;
            page.conflict = conflict;
            private_html(&page, actix_web::http::StatusCode::CONFLICT)
        }
        Ok(Saved::Invalid(errors)) => {
            let Some((record, _)) = own_record(&session, &state, &user).await? else {
                return Ok(see_other("/sign-in"));
            };
            let mut page = profile_page(&session, &user, record, form.etag)?;
            page.phone = form.phone;
            page.office = form.office;
            page.bio = form.bio;
            page.research_interests = form.research_interests;
            page.errors = errors
                .into_iter()
                .map(|(field, message)| FieldMessage { field, message })
                .collect();
            private_html(&page, actix_web::http::StatusCode::BAD_REQUEST)
        }
        Err(ApiFailure::Unauthorized) => {
            session::end(&session);
            Ok(see_other("/sign-in"))
        }
        Err(ApiFailure::NotFound) => Err(WebError::NotFound),
        Err(ApiFailure::BadInput(detail)) => Err(WebError::BadRequest(detail)),
        Err(ApiFailure::Unavailable(e)) => Err(WebError::Unavailable(e)),
    }
}

/// The sign-out form.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /sign-out`: ends the session (its cookie is removed; no `Clear-Site-Data: "cookies"`,
/// which would also erase the device cookie: signing out ends a sign-in, not the device's
/// standing), and the sign-in at the authorization server (RFC 7009:
/// the refresh token, which ends the whole sign-in, then the access token). When the
/// authorization server cannot confirm it, the person is told so on a 503 page, never sent on
/// as if all were done, and the revocation is retried in the background
/// (`crate::revocation`).
pub async fn sign_out(
    req: HttpRequest,
    session: Session,
    form: web::Form<CsrfForm>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    same_origin(&req)?;
    session::check_csrf(&session, &form.csrf)?;
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
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/"))
            .insert_header((header::CACHE_CONTROL, PRIVATE_NO_STORE))
            .finish());
    }
    let response = private_html(
        &ErrorPage {
            title: "Signed out of this browser only — Staff directory".into(),
            token_used: "no token (nothing was fetched for this page)".into(),
            account: crate::views::Account::default(),
            status: 503,
            heading: "Signed out of this browser, but not yet everywhere".into(),
            message: SIGN_OUT_PENDING.into(),
        },
        actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
    )?;
    Ok(response)
}

/// What a person is told when sign-out could not reach the authorization server.
pub const SIGN_OUT_PENDING: &str = "You are signed out of this browser: it no longer holds your sign-in. But the university login server could not be reached to end the sign-in itself, so until then it stays valid there, and a copy of it taken from this browser could still be used. This site will keep trying to end it for about the next hour; you do not need to do anything.";

/// The claims of the signed-in member of staff's token, for the teaching page.
pub async fn user_claims(session: &Session, state: &WebState) -> Vec<crate::views::Claim> {
    match current_user(session, state).await {
        Ok(Some(user)) => decoded_claims(&user.token()).unwrap_or_default(),
        Ok(None) => Vec::new(),
        Err(e) => {
            // The page still renders, without the visitor's own token; the reason is logged.
            tracing::warn!(error = %e, "the signed-in user's token could not be checked");
            Vec::new()
        }
    }
}

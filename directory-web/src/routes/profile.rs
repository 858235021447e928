//! A member of staff's own profile: shown and saved with their own token (from the password
//! grant or the authorization code grant, which the page names), never the site's. Saving is guarded by the record's ETag: a change made meanwhile is shown
//! beside the attempt, never overwritten. Every page here is `Cache-Control: private, no-store`.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::api_client::{ApiFailure, Saved, StaffRecord};
use crate::error::WebError;
use crate::extract::{CsrfProtected, CurrentUser, SiteForm, Then};
use crate::history;
use crate::respond::{private_html, see_other};
use crate::session::{self, SignInGrant, SignedIn, account};
use crate::state::WebState;
use crate::views::{ConflictRow, FieldMessage, ProfilePage};

fn user_token_note(user: &SignedIn) -> String {
    format!(
        "your own token ({} grant: you, {}, scope directory:read profile:write) — used for your requests only",
        match user.grant {
            SignInGrant::Password => "password",
            SignInGrant::AuthorizationCode => "authorization code",
        },
        user.username
    )
}

/// The profile page of `record`, as it is (no message, no error).
pub(super) fn profile_page(
    session: &Session,
    user: &SignedIn,
    record: StaffRecord,
    etag: String,
) -> Result<ProfilePage, WebError> {
    Ok(ProfilePage {
        title: "Your profile — Staff directory".into(),
        token_used: user_token_note(user),
        account: account(session),
        signed_in_with: user.grant.sentence().to_owned(),
        csrf: session::csrf_token(session)?,
        id: record.id,
        etag,
        initials: crate::views::initials(&record.display_name),
        display_name: record.display_name,
        job_title: record.job_title,
        department: record.department,
        email: record.email,
        phone: record.phone,
        office: record.office,
        bio: record.bio,
        has_photo: record.has_photo,
        photo_error: None,
        research_interests: record.research_interests,
        saved: None,
        errors: Vec::new(),
        conflict: Vec::new(),
        history: None,
        history_unavailable: false,
    })
}

/// The recent changes to the member of staff's own record, read with their own token, into
/// `page`. A failure leaves the rest of the page working and says so there.
async fn with_history(page: &mut ProfilePage, state: &WebState, user: &SignedIn) {
    match state.api.history(&user.token(), page.id).await {
        Ok(entries) => page.history = Some(history::recent(&entries, &user.username)),
        Err(e) => {
            tracing::warn!(error = %e, "the profile's history could not be read");
            page.history_unavailable = true;
        }
    }
}

/// Reads the member of staff's own record with their own token; a refused token ends the
/// sign-in.
pub(super) async fn own_record(
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
    CurrentUser(mut user): CurrentUser,
    session: Session,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let Some((record, etag)) = own_record(&session, &state, &user).await? else {
        return Ok(see_other("/sign-in"));
    };
    let mut page = profile_page(&session, &user, record, etag)?;
    with_history(&mut page, &state, &user).await;
    page.saved = user.flash.take();
    if page.saved.is_some() {
        // The message is shown once: the cookie changes only then.
        session::set_signed_in(&session, &user)?;
    }
    private_html(&page, StatusCode::OK)
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

impl CsrfProtected for ProfileForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl ProfileForm {
    /// The attempted values beside the saved ones, for a conflict.
    fn conflict_with(&self, saved: &StaffRecord) -> Vec<ConflictRow> {
        [
            ("Phone", &saved.phone, &self.phone),
            ("Office", &saved.office, &self.office),
            ("Biography", &saved.bio, &self.bio),
            (
                "Research interests",
                &saved.research_interests,
                &self.research_interests,
            ),
        ]
        .into_iter()
        .map(|(label, saved, attempted)| ConflictRow {
            label: label.into(),
            saved: saved.clone(),
            attempted: attempted.clone(),
        })
        .collect()
    }

    /// Shows the attempted values in `page`'s form, so nothing typed is lost.
    fn keep_attempt(self, page: &mut ProfilePage) {
        page.phone = self.phone;
        page.office = self.office;
        page.bio = self.bio;
        page.research_interests = self.research_interests;
    }
}

/// `POST /profile`: saves the staff-editable fields with the ETag the form was built from;
/// a conflict is shown beside the attempt, never overwritten (Post/Redirect/Get on success).
/// The form is checked (origin, CSRF token) before the sign-in is.
pub async fn save_profile(
    Then(SiteForm(form), CurrentUser(mut user)): Then<SiteForm<ProfileForm>, CurrentUser>,
    session: Session,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
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
            let conflict = form.conflict_with(&record);
            // The form now edits the saved version; it shows the attempt so nothing is lost.
            let mut page = profile_page(&session, &user, record, etag)?;
            form.keep_attempt(&mut page);
            page.conflict = conflict;
            private_html(&page, StatusCode::CONFLICT)
        }
        Ok(Saved::Invalid(errors)) => {
            let Some((record, _)) = own_record(&session, &state, &user).await? else {
                return Ok(see_other("/sign-in"));
            };
            let etag = form.etag.clone();
            let mut page = profile_page(&session, &user, record, etag)?;
            form.keep_attempt(&mut page);
            page.errors = errors
                .into_iter()
                .map(|(field, message)| FieldMessage { field, message })
                .collect();
            private_html(&page, StatusCode::BAD_REQUEST)
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

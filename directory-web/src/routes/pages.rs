//! The pages: the directory, a member of staff, and how it works. Every one of them fetches
//! its data with the site's own token and says so. `with_app_token` and `app_token_note` are
//! shared with `/try-it`.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;

use crate::api_client::ApiFailure;
use crate::claims::{Holder, comparison, decoded, may_do};
use crate::error::WebError;
use crate::extract::MaybeUser;
use crate::respond::html;
use crate::routes::browse::DirectoryQuery;
use crate::session::account;
use crate::state::WebState;
use crate::views::{
    DepartmentOption, DirectoryPage, HowItWorksPage, StaffPage, StaffSummary, initials,
};

/// Records per directory page (the API is asked for as many).
const PER_PAGE: i64 = 24;

fn failure(f: ApiFailure) -> WebError {
    match f {
        ApiFailure::NotFound => WebError::NotFound,
        ApiFailure::BadInput(detail) => WebError::BadRequest(detail),
        ApiFailure::Unauthorized => {
            WebError::Unavailable("the API refused the site's own token twice".into())
        }
        ApiFailure::Unavailable(e) => WebError::Unavailable(e),
    }
}

/// Calls the API with the site's own token, renewing it once if the API refuses it; a
/// failure is the error page's.
pub async fn with_app_token<T>(
    state: &WebState,
    call: impl AsyncFn(SecretString) -> Result<T, ApiFailure>,
) -> Result<T, WebError> {
    let token = state
        .token
        .get()
        .await
        .map_err(|e| WebError::Unavailable(e.to_string()))?;
    match call(token.clone()).await {
        Err(ApiFailure::Unauthorized) => {
            let renewed = state
                .token
                .renew_after_rejection(&token)
                .await
                .map_err(|e| WebError::Unavailable(e.to_string()))?;
            call(renewed).await.map_err(failure)
        }
        other => other.map_err(failure),
    }
}

/// "Data on this page was fetched with:" the site's own token, in words.
pub fn app_token_note(state: &WebState) -> String {
    format!(
        "the site's own token (client_credentials grant: client {}, scope directory:read) — not a visitor's",
        state.client_id
    )
}

/// `GET /`: the directory, with search, department filter, the A–Z of family names and
/// pagination.
pub async fn directory(
    req: HttpRequest,
    session: Session,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let query = DirectoryQuery::parse(&req)?;
    let (departments, results) = tokio::join!(
        with_app_token(&state, async |token| state.api.departments(&token).await),
        with_app_token(&state, async |token| state
            .api
            .search(
                &token,
                &query.q,
                &query.department,
                &query.initial,
                query.page
            )
            .await),
    );
    let (departments, results) = (departments?, results?);
    let pages = ((results.total + PER_PAGE - 1) / PER_PAGE).max(1);
    let page = DirectoryPage {
        title: if query.q.is_empty() {
            "Staff directory".to_owned()
        } else {
            format!("{} — Staff directory", query.q)
        },
        token_used: app_token_note(&state),
        account: account(&session),
        departments: departments
            .into_iter()
            .map(|d| DepartmentOption {
                selected: d.name == query.department,
                name: d.name,
                staff: d.staff,
            })
            .collect(),
        items: results
            .items
            .into_iter()
            .map(|r| StaffSummary {
                id: r.id,
                has_photo: r.has_photo,
                initials: initials(&r.display_name),
                display_name: r.display_name,
                job_title: r.job_title,
                department: r.department,
                email: r.email,
                phone: r.phone,
                office: r.office,
            })
            .collect(),
        total: results.total,
        page: query.page,
        pages,
        prev_link: (query.page > 1).then(|| query.page_link(query.page - 1)),
        next_link: (query.page < pages).then(|| query.page_link(query.page + 1)),
        alphabet: query.alphabet(&results.letters),
        everyone_link: query.link("", None),
        first_page_link: query.link(&query.initial, None),
        q: query.q,
        department: query.department,
        initial: query.initial,
    };
    html(&page)
}

/// `GET /staff/{id}`: one member of staff.
pub async fn staff(
    id: web::Path<String>,
    session: Session,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let id: i64 = id
        .parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(WebError::NotFound)?;
    let record = with_app_token(&state, async |token| state.api.staff(&token, id).await).await?;
    let page = StaffPage {
        title: format!("{} — Staff directory", record.display_name),
        token_used: app_token_note(&state),
        account: account(&session),
        id: record.id,
        has_photo: record.has_photo,
        initials: initials(&record.display_name),
        bio_paragraphs: record
            .bio
            .split('\n')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        research_interests: record
            .research_interests
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(str::to_owned)
            .collect(),
        display_name: record.display_name,
        job_title: record.job_title,
        department: record.department,
        email: record.email,
        phone: record.phone,
        office: record.office,
        updated_display: human_date(&record.updated_at),
        updated_at: record.updated_at,
    };
    html(&page)
}

/// "26 November 2026" for an RFC 3339 time (the date part; the raw value otherwise).
fn human_date(rfc3339: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let mut parts = rfc3339.get(..10).unwrap_or_default().split('-');
    let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next()) else {
        return rfc3339.to_owned();
    };
    match (month.parse::<usize>(), day.parse::<u32>()) {
        (Ok(m @ 1..=12), Ok(d)) => format!("{d} {} {year}", MONTHS[m - 1]),
        _ => rfc3339.to_owned(),
    }
}

/// `GET /how-it-works`: the two grants side by side, and the tokens compared claim by claim:
/// the site's own (live), the visitor's own when they are signed in (live), and the HR job's
/// (as documented: the site does not hold it). The live ones are decoded for display only
/// (RFC 9068 §6). The page renders even when the visitor's sign-in cannot be checked: without
/// their token, the reason logged.
pub async fn how_it_works(
    user: Result<MaybeUser, WebError>,
    session: Session,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let user = match user {
        Ok(MaybeUser(user)) => user,
        Err(e) => {
            tracing::warn!(error = %e, "the signed-in user's token could not be checked");
            None
        }
    };
    let person_claims = user.as_ref().and_then(|u| decoded(&u.token()));
    let (site_claims, app_token_problem) = match state.token.get().await {
        Ok(token) => match decoded(&token) {
            Some(claims) => (Some(claims), None),
            None => (None, Some("The site's token could not be decoded.".to_owned())),
        },
        Err(_) => (
            None,
            Some("The authorization server cannot be reached right now, so the site has no token to show.".to_owned()),
        ),
    };
    // The person's column is labelled with the username the session holds: the one the
    // authorization server vouched for at sign-in, not the token's decoded `sub`.
    let person = user.as_ref().filter(|_| person_claims.is_some());
    html(&HowItWorksPage {
        title: "How it works — Staff directory".to_owned(),
        token_used: app_token_note(&state),
        rows: comparison(site_claims.as_ref(), person_claims.as_ref()),
        may_do: [Holder::Site, Holder::Person, Holder::HrJob].map(may_do),
        signed_in_with: person.map(|u| u.grant.sentence().to_owned()),
        person: person.map(|u| u.username.clone()),
        account: account(&session),
        app_token_problem,
        issuer: state.issuer.clone(),
    })
}

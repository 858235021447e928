//! `GET /staff` (search, by initial, with the A–Z's letters when asked) and `GET /departments`:
//! the directory as a list.
//!
//! The query parameters are checked here and the text parsed into [`SearchWords`], so that
//! the store receives only words that cannot carry query syntax.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::field::FieldError;
use crate::domain::name::Initial;
use crate::domain::search::SearchWords;
use crate::domain::staff::StaffRecord;
use crate::error::{ApiError, Problem, Result};
use crate::extract::Reader;
use crate::state::ApiState;
use crate::store::search::SearchQuery;

/// Longest search text accepted.
const MAX_QUERY_CHARS: usize = 200;
/// Default and largest page sizes.
const DEFAULT_PER_PAGE: i64 = 20;
const MAX_PER_PAGE: i64 = 100;

/// `GET /staff` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find in name, job title, department or research interests (each as a prefix,
    /// all required, case- and accent-insensitive). At most 200 characters.
    #[param(max_length = 200)]
    q: Option<String>,
    /// Only this department (exact name, as listed by `/departments`).
    #[param(max_length = 100)]
    department: Option<String>,
    /// Only people whose family name starts with this letter (A to Z, either case; accents
    /// ignored: "Östberg" is under O). Empty means no filter.
    #[param(pattern = "^[A-Za-z]?$")]
    initial: Option<String>,
    /// `true`: also say which initials have anybody matching `q` and `department` (the
    /// response's `letters`, whatever `initial` asks for), for an A–Z bar.
    letters: Option<bool>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<i64>,
    /// Records per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i64>,
}

/// One page of search results.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StaffPage {
    /// The records of this page.
    pub items: Vec<StaffRecord>,
    /// This page's number, from 1.
    pub page: i64,
    /// Records per page.
    pub per_page: i64,
    /// Records matching in all.
    pub total: i64,
    /// Only when asked for (`letters=true`): the initials of family names that have anybody
    /// matching `q` and `department`, A to Z, with how many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub letters: Option<Vec<Letter>>,
}

/// An initial of the A–Z and how many people are under it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Letter {
    /// The letter, A to Z.
    #[schema(pattern = "^[A-Z]$")]
    pub letter: String,
    /// People under it (at least one).
    #[schema(minimum = 1)]
    pub staff: i64,
}

/// A department and how many people it has.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Department {
    /// Its name.
    pub name: String,
    /// Live records in it.
    pub staff: i64,
}

fn bad(field: &'static str, message: &str) -> ApiError {
    ApiError::InvalidInput(vec![FieldError {
        field,
        message: message.to_owned(),
    }])
}

/// Search the directory.
#[utoipa::path(
    get, path = "/staff", tag = "staff",
    params(SearchParams),
    security(("oauth2" = ["directory:read"])),
    responses(
        (status = 200, description = "A page of live records", body = StaffPage),
        (status = 400, description = "Bad parameters", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Token lacks directory:read", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    Reader(_caller): Reader,
    params: web::Query<SearchParams>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse> {
    let params = params.into_inner();
    let q = params.q.unwrap_or_default();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(bad("q", "must be at most 200 characters"));
    }
    let department = params.department.filter(|d| !d.is_empty());
    if department.as_ref().is_some_and(|d| d.chars().count() > 100) {
        return Err(bad("department", "must be at most 100 characters"));
    }
    let page = params.page.unwrap_or(1);
    if !(1..=1_000_000).contains(&page) {
        return Err(bad("page", "must be between 1 and 1000000"));
    }
    let per_page = params.per_page.unwrap_or(DEFAULT_PER_PAGE);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(bad("per_page", "must be between 1 and 100"));
    }
    let initial = match params.initial.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(Initial::parse(raw).map_err(|message| bad("initial", message))?),
    };
    let query = SearchQuery {
        words: SearchWords::parse(&q),
        department,
        initial,
        letters: params.letters.unwrap_or(false),
        page,
        per_page,
    };
    let found = state.db.search(&query).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .json(StaffPage {
            items: found.rows.into_iter().map(|r| r.record).collect(),
            page,
            per_page,
            total: found.total,
            letters: found.letters.map(|letters| {
                letters
                    .into_iter()
                    .map(|(i, staff)| Letter {
                        letter: i.letter().to_string(),
                        staff,
                    })
                    .collect()
            }),
        }))
}

/// The departments of the directory, with head counts (for the search filter).
#[utoipa::path(
    get, path = "/departments", tag = "staff",
    security(("oauth2" = ["directory:read"])),
    responses(
        (status = 200, description = "Departments by name", body = Vec<Department>),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Token lacks directory:read", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn departments(
    Reader(_caller): Reader,
    state: web::Data<ApiState>,
) -> Result<HttpResponse> {
    let list: Vec<Department> = state
        .db
        .departments()
        .await?
        .into_iter()
        .map(|(name, staff)| Department { name, staff })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .json(list))
}

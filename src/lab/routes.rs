//! The lab's routes: the directory API's `GET /staff`, `GET /staff/{id}`, `PATCH /staff/{id}`
//! and `POST /staff`, answering in the same shapes (records, pages, RFC 9457 problems,
//! `ETag`, `If-Match`), over the lab's own copy of the directory. Each handler asks only for
//! [`Signed`]: no scope, no kind of token, no owner, no HR-owned field is ever checked.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use directory_api::domain::field::FieldError;
use directory_api::domain::patch::{StaffPatch, StaffPatchRequest};
use directory_api::domain::search::SearchWords;
use directory_api::domain::staff::{NewStaff, NewStaffRequest};
use directory_api::error::{ApiError, Problem};
use directory_api::routes::preconditions::{IfMatch, if_match};
use directory_api::routes::search::StaffPage;
use directory_api::routes::{json_body, read_body};
use directory_api::store::row::StaffRow;
use serde::Deserialize;

use super::LabState;
use super::directory::{CreateError, Directory, Search};
use super::token::Signed;

/// Registers the four routes; any other method on them is a 405 naming the allowed ones.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/staff")
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(web::to(|| async {
                Err::<(), _>(LabError::from(ApiError::MethodNotAllowed("GET, POST")))
            })),
    )
    .service(
        web::resource("/staff/{id}")
            .route(web::get().to(get))
            .route(web::patch().to(patch))
            .default_service(web::to(|| async {
                Err::<(), _>(LabError::from(ApiError::MethodNotAllowed("GET, PATCH")))
            })),
    );
}

/// What a request to the lab can fail with: the real API's errors, answered as it answers
/// them, and one of the lab's own.
#[derive(Debug)]
pub enum LabError {
    /// Any of the real API's problems, with its status and headers.
    Api(ApiError),
    /// 409 `lab_full`: the lab holds its maximum number of records (the value), so that
    /// nothing a caller sends grows its memory without bound.
    Full(usize),
}

impl From<ApiError> for LabError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl std::fmt::Display for LabError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Api(e) => e.fmt(f),
            Self::Full(max) => write!(f, "the lab holds {max} records already"),
        }
    }
}

impl ResponseError for LabError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Api(e) => e.status_code(),
            Self::Full(_) => StatusCode::CONFLICT,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Api(e) => e.error_response(),
            Self::Full(max) => HttpResponse::Conflict()
                .content_type("application/problem+json")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(Problem {
                    type_: "urn:staff-directory:problem:lab_full".into(),
                    title: "The lab is full",
                    status: 409,
                    detail: format!(
                        "the lab holds at most {max} records; restart it to start again from the demo staff"
                    ),
                    code: "lab_full",
                    errors: None,
                    fields: None,
                }),
        }
    }
}

type Result<T, E = LabError> = std::result::Result<T, E>;

fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::Malformed("the staff id must be a positive integer".into()))
}

fn with_etag(mut response: actix_web::HttpResponseBuilder, row: &StaffRow) -> HttpResponse {
    response
        .insert_header((header::ETAG, row.etag()))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .json(&row.record)
}

/// The lab's directory, even if a handler panicked while holding it (it never does: the
/// records are plain values, valid between any two statements).
fn directory(state: &LabState) -> std::sync::MutexGuard<'_, Directory> {
    state
        .directory
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `GET /staff` parameters, bounded as the real API bounds them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    q: Option<String>,
    department: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

fn bad(field: &'static str, message: &str) -> ApiError {
    ApiError::InvalidInput(vec![FieldError {
        field,
        message: message.to_owned(),
    }])
}

/// `GET /staff`: one page of the lab's directory.
pub async fn list(
    _signed: Signed,
    params: web::Query<SearchParams>,
    state: web::Data<LabState>,
) -> Result<HttpResponse> {
    let params = params.into_inner();
    let q = params.q.unwrap_or_default();
    if q.chars().count() > 200 {
        return Err(bad("q", "must be at most 200 characters").into());
    }
    let department = params.department.filter(|d| !d.is_empty());
    if department.as_ref().is_some_and(|d| d.chars().count() > 100) {
        return Err(bad("department", "must be at most 100 characters").into());
    }
    let page = params.page.unwrap_or(1);
    if !(1..=1_000_000).contains(&page) {
        return Err(bad("page", "must be between 1 and 1000000").into());
    }
    let per_page = params.per_page.unwrap_or(20);
    if !(1..=100).contains(&per_page) {
        return Err(bad("per_page", "must be between 1 and 100").into());
    }
    let words = SearchWords::parse(&q);
    let (items, total) = directory(&state).search(&Search {
        words: &words,
        department: department.as_deref(),
        page: usize::try_from(page).unwrap_or(1),
        per_page: usize::try_from(per_page).unwrap_or(1),
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .json(StaffPage {
            items,
            page,
            per_page,
            total: i64::try_from(total).unwrap_or(i64::MAX),
            letters: None,
        }))
}

/// `GET /staff/{id}`: one record, with its `ETag`.
pub async fn get(
    _signed: Signed,
    id: web::Path<String>,
    state: web::Data<LabState>,
) -> Result<HttpResponse> {
    let id = parse_id(&id)?;
    let row = directory(&state)
        .get(id)
        .cloned()
        .ok_or(ApiError::NotFound)?;
    Ok(with_etag(HttpResponse::Ok(), &row))
}

/// `PATCH /staff/{id}`: any field of any record, for any signed token. The body's values and
/// the `If-Match` precondition are checked as the real API checks them (a precondition is
/// not a permission: the lab keeps it so the same requests work on both).
pub async fn patch(
    _signed: Signed,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<LabState>,
) -> Result<HttpResponse> {
    let id = parse_id(&id)?;
    let current = directory(&state)
        .get(id)
        .cloned()
        .ok_or(ApiError::NotFound)?;
    let body = read_body(payload).await?;
    let request: StaffPatchRequest = json_body(&req, &body)?;
    let patch = StaffPatch::parse(request).map_err(ApiError::InvalidInput)?;
    let precondition = match if_match(req.headers())? {
        None => return Err(ApiError::PreconditionRequired.into()),
        Some(IfMatch::Any) => return Err(ApiError::WildcardIfMatch.into()),
        Some(tags) => tags,
    };
    if !precondition.matches(&current.etag()) {
        return Err(ApiError::PreconditionFailed(current.etag()).into());
    }
    let diff = patch.diff(&current.record);
    let now = state.clock.now();
    match directory(&state).update(id, current.version, &diff, now) {
        Some(Ok(row)) => Ok(with_etag(HttpResponse::Ok(), &row)),
        Some(Err(etag)) => Err(ApiError::PreconditionFailed(etag).into()),
        None => Err(ApiError::NotFound.into()),
    }
}

/// `POST /staff`: a new record, for any signed token, until the lab is full.
pub async fn create(
    _signed: Signed,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<LabState>,
) -> Result<HttpResponse> {
    let body = read_body(payload).await?;
    let request: NewStaffRequest = json_body(&req, &body)?;
    let new = NewStaff::parse(&request).map_err(ApiError::InvalidInput)?;
    let now = state.clock.now();
    let row = match directory(&state).create(&new, now) {
        Ok(row) => row,
        Err(CreateError::Full(max)) => return Err(LabError::Full(max)),
        Err(CreateError::UsernameTaken) => return Err(ApiError::UsernameTaken.into()),
    };
    let mut created = HttpResponse::Created();
    created.insert_header((header::LOCATION, format!("/staff/{}", row.record.id)));
    Ok(with_etag(created, &row))
}

//! One record: `GET`, `PATCH` and `DELETE /staff/{id}`, `POST /staff`, `/staff/{id}/history`
//! and `/me`. The directory as a list (`GET /staff`, `/departments`) is in [`super::search`].
//!
//! Every handler names the kind of caller it accepts in its signature (see [`crate::auth`]).
//! Checks run in the order RFC 9110 §13.2.1 implies: authentication and authorization, then
//! existence, then the body, and only then the `If-Match` precondition.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::preconditions::{IfMatch, if_match};
use super::{json_body, read_body};
use crate::auth::{Principal, Scope, TokenKind};
use crate::domain::patch::{StaffPatch, StaffPatchRequest};
use crate::domain::staff::{HistoryEntry, NewStaff, NewStaffRequest, StaffRecord};
use crate::error::{ApiError, Problem, Result};
use crate::extract::{Administrator, Editor, HistoryViewer, Reader, StaffMember};
use crate::state::ApiState;
use crate::store::row::StaffRow;
use crate::store::staff::{Actor, Written};

/// Who writes, as the store records it.
pub(super) fn actor(p: &Principal) -> Actor<'_> {
    Actor {
        subject: &p.subject,
        client_id: &p.client_id,
        kind: p.kind.as_str(),
    }
}

/// A record's id from the path: a positive integer, or 400.
pub(super) fn parse_id(raw: &str) -> Result<i64> {
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

/// One member of staff. Administrators also see retired records.
#[utoipa::path(
    get, path = "/staff/{id}", tag = "staff",
    params(("id" = i64, Path, description = "The record's id", minimum = 1)),
    security(("oauth2" = ["directory:read"])),
    responses(
        (status = 200, description = "The record; its ETag is in the header", body = StaffRecord,
         headers(("ETag" = String, description = "Strong ETag of the record"))),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Token lacks directory:read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such live record", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    Reader(caller): Reader,
    id: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse> {
    let id = parse_id(&id)?;
    let admin = caller.kind == TokenKind::Client && caller.scopes.contains(Scope::DirectoryAdmin);
    let row = state.db.staff(id, admin).await?.ok_or(ApiError::NotFound)?;
    Ok(with_etag(HttpResponse::Ok(), &row))
}

/// The signed-in member of staff's own record (user tokens only).
#[utoipa::path(
    get, path = "/me", tag = "staff",
    security(("oauth2" = ["directory:read"])),
    responses(
        (status = 200, description = "The caller's record", body = StaffRecord,
         headers(("ETag" = String, description = "Strong ETag of the record"))),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A client's token, or no directory:read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The caller has no record", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn me(
    StaffMember(caller): StaffMember,
    state: web::Data<ApiState>,
) -> Result<HttpResponse> {
    let row = state
        .db
        .staff_by_username(&caller.subject)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(with_etag(HttpResponse::Ok(), &row))
}

/// Change a record: its owner (user token with profile:write; staff-editable fields only) or
/// an administrator (client token with directory:admin; every field). `If-Match` with the
/// record's ETag required (`*` refused).
#[utoipa::path(
    patch, path = "/staff/{id}", tag = "staff",
    params(
        ("id" = i64, Path, description = "The record's id", minimum = 1),
        ("If-Match" = String, Header, description = "The ETag of the record as last read (GET /staff/{id}); `*` is refused with 428"),
    ),
    request_body(content = StaffPatchRequest, content_type = "application/merge-patch+json"),
    security(("oauth2" = ["profile:write"]), ("oauth2" = ["directory:admin"])),
    responses(
        (status = 200, description = "The changed record", body = StaffRecord,
         headers(("ETag" = String, description = "Strong ETag of the new version"))),
        (status = 400, description = "Malformed id or body, or invalid values", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "insufficient_scope, not_owner or hr_owned_field", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such live record", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The record changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing, or `*` (the record's ETag is required)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch(
    editor: Editor,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ApiState>,
) -> Result<HttpResponse> {
    let id = parse_id(&id)?;
    let current = state.db.staff(id, false).await?.ok_or(ApiError::NotFound)?;
    editor.may_act_on(&current.record.username)?;
    let body = read_body(payload).await?;
    let request: StaffPatchRequest = json_body(&req, &body)?;
    let patch = StaffPatch::parse(request).map_err(ApiError::InvalidInput)?;
    if let Editor::Owner(_) = &editor {
        let hr_fields = patch.hr_owned_fields();
        if !hr_fields.is_empty() {
            return Err(ApiError::HrOwnedFields(hr_fields));
        }
    }
    // RFC 6585 §3: the lost-update guard needs the version the client read; `*` would pass
    // for any existing record (RFC 9110 §13.1.1), so it is refused like no If-Match at all.
    let precondition = match if_match(req.headers())? {
        None => return Err(ApiError::PreconditionRequired),
        Some(IfMatch::Any) => return Err(ApiError::WildcardIfMatch),
        Some(tags) => tags,
    };
    if !precondition.matches(&current.etag()) {
        return Err(ApiError::PreconditionFailed(current.etag()));
    }
    // The changes are computed from the version read above; the store writes them only if
    // the record is still at that version.
    let diff = patch.diff(&current.record);
    let now = state.clock.now();
    match state
        .db
        .update_staff(id, current.version, &diff, actor(editor.principal()), now)
        .await?
    {
        Written::Done(row) => Ok(with_etag(HttpResponse::Ok(), &row)),
        Written::NotFound => Err(ApiError::NotFound),
        Written::Stale(etag) => Err(ApiError::PreconditionFailed(etag)),
    }
}

/// Create a record (administrators only).
#[utoipa::path(
    post, path = "/staff", tag = "staff",
    request_body(content = NewStaffRequest, content_type = "application/json"),
    security(("oauth2" = ["directory:admin"])),
    responses(
        (status = 201, description = "Created", body = StaffRecord,
         headers(("ETag" = String, description = "Strong ETag"), ("Location" = String, description = "The record's URL"))),
        (status = 400, description = "Malformed body or invalid values", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Username taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    Administrator(caller): Administrator,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ApiState>,
) -> Result<HttpResponse> {
    let body = read_body(payload).await?;
    let request: NewStaffRequest = json_body(&req, &body)?;
    let new = NewStaff::parse(&request).map_err(ApiError::InvalidInput)?;
    let now = state.clock.now();
    let row = state
        .db
        .create_staff(&new, actor(&caller), now)
        .await?
        .map_err(|_| ApiError::UsernameTaken)?;
    let mut created = HttpResponse::Created();
    created.insert_header((header::LOCATION, format!("/staff/{}", row.record.id)));
    Ok(with_etag(created, &row))
}

/// Retire a record (administrators only): it leaves the directory; it and its history stay.
#[utoipa::path(
    delete, path = "/staff/{id}", tag = "staff",
    params(
        ("id" = i64, Path, description = "The record's id", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Optional: retire only if still at this ETag"),
    ),
    security(("oauth2" = ["directory:admin"])),
    responses(
        (status = 204, description = "Retired"),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such live record", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The record changed since it was read", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn retire(
    Administrator(caller): Administrator,
    id: web::Path<String>,
    req: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse> {
    let id = parse_id(&id)?;
    let current = state.db.staff(id, false).await?.ok_or(ApiError::NotFound)?;
    if let Some(precondition) = if_match(req.headers())?
        && !precondition.matches(&current.etag())
    {
        return Err(ApiError::PreconditionFailed(current.etag()));
    }
    let now = state.clock.now();
    match state
        .db
        .retire_staff(id, Some(current.version), actor(&caller), now)
        .await?
    {
        Written::Done(_) => Ok(HttpResponse::NoContent().finish()),
        Written::NotFound => Err(ApiError::NotFound),
        Written::Stale(etag) => Err(ApiError::PreconditionFailed(etag)),
    }
}

/// Every write to a record: who, when, which fields old -> new. Administrators read any
/// record's; a member of staff (a user token with `directory:read`) reads their own only.
#[utoipa::path(
    get, path = "/staff/{id}/history", tag = "staff",
    params(("id" = i64, Path, description = "The record's id", minimum = 1)),
    security(("oauth2" = ["directory:admin"]), ("oauth2" = ["directory:read"])),
    responses(
        (status = 200, description = "The history, oldest first", body = Vec<HistoryEntry>),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "insufficient_scope (a client without directory:admin), or not_owner (a member of staff asking for another's record)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn history(
    viewer: HistoryViewer,
    id: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse> {
    let id = parse_id(&id)?;
    let row = state.db.staff(id, true).await?.ok_or(ApiError::NotFound)?;
    viewer.may_read(&row.record.username)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(state.db.history(id).await?))
}

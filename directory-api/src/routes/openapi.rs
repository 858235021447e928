//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the handlers' annotations.

use actix_web::{HttpResponse, web};
use utoipa::OpenApi as _;
use utoipa::openapi::security::{
    ClientCredentials, Flow, OAuth2, Password, Scopes, SecurityScheme,
};

use crate::domain::field::FieldError;
use crate::domain::patch::StaffPatchRequest;
use crate::domain::staff::{FieldChange, HistoryEntry, NewStaffRequest, StaffRecord};
use crate::error::Problem;
use crate::state::ApiState;

use super::{photos, search, staff};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Staff Directory API",
        description = "Staff records behind OAuth 2.0 bearer tokens (RFC 6750, RFC 9068 JWTs). \
                       Client tokens and user tokens are told apart by the `token_kind` claim; \
                       errors are RFC 9457 problem documents."
    ),
    paths(search::list, staff::get, staff::me, staff::patch, staff::create, staff::retire, staff::history, search::departments,
          photos::get, photos::thumbnail, photos::put, photos::delete),
    components(schemas(
        StaffRecord, search::StaffPage, search::Letter, search::Department, NewStaffRequest, StaffPatchRequest,
        HistoryEntry, FieldChange, Problem, FieldError, photos::PhotoBytes, photos::StoredPhoto
    )),
    tags((name = "staff", description = "The staff directory"),
         (name = "photos", description = "Staff photos, stored re-encoded without metadata"))
)]
struct ApiDoc;

/// The document, with the OAuth 2.0 security scheme pointing at `issuer`'s token endpoint.
pub fn openapi(issuer: &str) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let token_url = format!("{issuer}/oauth/token");
    let scheme = SecurityScheme::OAuth2(OAuth2::with_description(
        [
            Flow::ClientCredentials(ClientCredentials::new(
                token_url.clone(),
                Scopes::from_iter([
                    ("directory:read", "Read the public directory"),
                    (
                        "directory:admin",
                        "Create, change and retire any record (machine clients only)",
                    ),
                ]),
            )),
            Flow::Password(Password::new(
                token_url,
                Scopes::from_iter([
                    ("directory:read", "Read the public directory"),
                    (
                        "profile:write",
                        "Change the staff-editable fields of one's own record",
                    ),
                ]),
            )),
        ],
        "Bearer JWT access tokens (RFC 9068) from the Staff Directory's authorization server.",
    ));
    if let Some(components) = doc.components.as_mut() {
        components.add_security_scheme("oauth2", scheme);
        // A patch must name at least one field (set here: the derive attribute for it emits
        // `maxProperties` in utoipa 5).
        if let Some(utoipa::openapi::RefOr::T(utoipa::openapi::Schema::Object(patch))) =
            components.schemas.get_mut("StaffPatchRequest")
        {
            patch.min_properties = Some(1);
        }
    }
    // Every operation may also meet an unavailable dependency (503: the database, or the
    // authorization server's keys not yet fetched) or an unexpected failure (500).
    for item in doc.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            for (status, description) in [
                (
                    "500",
                    "Unexpected failure (the cause is logged, never shown)",
                ),
                ("503", "A dependency is unavailable; see Retry-After"),
            ] {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| {
                        utoipa::openapi::ResponseBuilder::new()
                            .description(description)
                            .content(
                                "application/problem+json",
                                utoipa::openapi::ContentBuilder::new()
                                    .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                                    .build(),
                            )
                            .into()
                    });
            }
        }
    }
    doc
}

/// Serves the document.
pub async fn document(state: web::Data<ApiState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi_json.clone())
}

//! Who is calling, as extractors that let each handler state in its signature which kind of
//! caller it accepts; each authenticates the bearer token (RFC 6750) with the state's verifier.
//!
//! | extractor | accepts |
//! |---|---|
//! | [`Reader`] | any token with `directory:read` |
//! | [`StaffMember`] | a *user* token with `directory:read` (a client token is refused) |
//! | [`Administrator`] | a *client* token with `directory:admin` |
//! | [`Editor`] | an administrator, or a user token with `profile:write` (ownership is checked by the handler) |

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, web};

use crate::auth::{Principal, Scope, TokenKind};
use crate::error::ApiError;
use crate::state::ApiState;

/// The bearer token of a request (RFC 6750 §2.1), if it carries one. The scheme is matched
/// case-insensitively; any other scheme counts as no credentials (§3.1). Tokens in the URL
/// are ignored (OAuth 2.1: resource servers MUST ignore them).
fn bearer_token(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::InvalidAuthRequest(
            "more than one Authorization header was sent",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| ApiError::InvalidToken("the Authorization header is not ASCII"))?;
    let Some((scheme, token)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::InvalidToken("the bearer token is empty"));
    }
    Ok(Some(token))
}

/// Verifies the request's bearer token.
async fn authenticate(req: HttpRequest) -> Result<Principal, ApiError> {
    let state = req
        .app_data::<web::Data<ApiState>>()
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("API state missing")))?
        .clone();
    let token = bearer_token(&req)?
        .ok_or(ApiError::Unauthenticated)?
        .to_owned();
    let principal = state.verifier.verify(&token).await;
    match &principal {
        Ok(p) => {
            // For the metrics middleware: decisions are counted by kind of token.
            req.extensions_mut().insert(p.kind);
            tracing::debug!(kind = p.kind.as_str(), subject = %p.subject, client_id = %p.client_id, "token accepted");
        }
        Err(e) => tracing::info!(code = e.code(), "token refused"),
    }
    principal
}

type Extracting<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// Implements `FromRequest` for an extractor that authenticates the bearer token and then
/// decides, with its `authorize(Principal)`, whether the caller qualifies.
macro_rules! authorized_extractor {
    ($extractor:ident) => {
        impl FromRequest for $extractor {
            type Error = ApiError;
            type Future = Extracting<Self>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move { Self::authorize(authenticate(req).await?) })
            }
        }
    };
}

/// Any caller holding `directory:read`.
#[derive(Debug)]
pub struct Reader(pub Principal);

impl Reader {
    fn authorize(p: Principal) -> Result<Self, ApiError> {
        p.require(Scope::DirectoryRead)?;
        Ok(Self(p))
    }
}

authorized_extractor!(Reader);

/// A signed-in member of staff holding `directory:read`.
#[derive(Debug)]
pub struct StaffMember(pub Principal);

impl StaffMember {
    fn authorize(p: Principal) -> Result<Self, ApiError> {
        if p.kind != TokenKind::User {
            return Err(ApiError::UserTokenRequired);
        }
        p.require(Scope::DirectoryRead)?;
        Ok(Self(p))
    }
}

authorized_extractor!(StaffMember);

/// A machine client holding `directory:admin` (the HR import). A user token never qualifies,
/// whatever its scopes.
#[derive(Debug)]
pub struct Administrator(pub Principal);

impl Administrator {
    fn authorize(p: Principal) -> Result<Self, ApiError> {
        if p.kind != TokenKind::Client || !p.scopes.contains(Scope::DirectoryAdmin) {
            return Err(ApiError::InsufficientScope(Scope::DirectoryAdmin.as_str()));
        }
        Ok(Self(p))
    }
}

authorized_extractor!(Administrator);

/// Who may change a record: an administrator (any record, every field), or a member of staff
/// with `profile:write` (their own record, staff-editable fields; the handler checks both).
#[derive(Debug)]
pub enum Editor {
    /// A client token with `directory:admin`.
    Admin(Principal),
    /// A user token with `profile:write`.
    Owner(Principal),
}

impl Editor {
    /// The caller.
    pub fn principal(&self) -> &Principal {
        match self {
            Self::Admin(p) | Self::Owner(p) => p,
        }
    }

    /// `not_owner` unless the caller may act on the record of `username`: an administrator
    /// any, a member of staff their own.
    pub fn may_act_on(&self, username: &str) -> Result<(), ApiError> {
        match self {
            Self::Owner(p) => owns(p, username),
            Self::Admin(_) => Ok(()),
        }
    }
}

/// `not_owner` unless `caller` (a member of staff) is the record's `username`.
fn owns(caller: &Principal, username: &str) -> Result<(), ApiError> {
    if caller.subject == username {
        Ok(())
    } else {
        Err(ApiError::NotOwner)
    }
}

impl Editor {
    fn authorize(p: Principal) -> Result<Self, ApiError> {
        match p.kind {
            TokenKind::Client if p.scopes.contains(Scope::DirectoryAdmin) => Ok(Self::Admin(p)),
            // A client without admin scope, or a user without profile:write: editing a
            // profile takes a member of staff's token with profile:write (RFC 9700
            // §4.15: the kind of token is checked, not just `sub`).
            TokenKind::Client => Err(ApiError::InsufficientScope(Scope::ProfileWrite.as_str())),
            TokenKind::User => {
                p.require(Scope::ProfileWrite)?;
                Ok(Self::Owner(p))
            }
        }
    }
}

authorized_extractor!(Editor);

/// Who may read a record's history: an administrator (any record), or a member of staff
/// holding `directory:read` (their own record only; the handler checks the owner).
#[derive(Debug)]
pub enum HistoryViewer {
    /// A client token with `directory:admin`.
    Admin(Principal),
    /// A user token with `directory:read`.
    Owner(Principal),
}

impl HistoryViewer {
    fn authorize(p: Principal) -> Result<Self, ApiError> {
        match p.kind {
            TokenKind::Client if p.scopes.contains(Scope::DirectoryAdmin) => Ok(Self::Admin(p)),
            // A machine client reads histories only with the admin scope: the site's own
            // token never sees who changed what.
            TokenKind::Client => Err(ApiError::InsufficientScope(Scope::DirectoryAdmin.as_str())),
            TokenKind::User => {
                p.require(Scope::DirectoryRead)?;
                Ok(Self::Owner(p))
            }
        }
    }
}

impl HistoryViewer {
    /// `not_owner` unless the caller may read the history of `username`'s record.
    pub fn may_read(&self, username: &str) -> Result<(), ApiError> {
        match self {
            Self::Owner(p) => owns(p, username),
            Self::Admin(_) => Ok(()),
        }
    }
}

authorized_extractor!(HistoryViewer);

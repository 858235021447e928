//! `POST /oauth/revoke` (RFC 7009) and `POST /oauth/introspect` (RFC 7662).

use actix_web::{HttpRequest, HttpResponse, web};

use super::form_body::read_request;
use crate::error::{Error, no_store};
use crate::oauth::revocation::token_parameter;
use crate::state::AppState;

/// Revokes a token; 200 whether or not it was known (RFC 7009 §2.2).
pub async fn revoke(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    let result = async {
        let (params, presented) = read_request(&req, payload).await?;
        let client = state
            .tokens
            .authenticate_client(presented, state.client_address(&req))
            .await?;
        state
            .tokens
            .revoke(&client, token_parameter(&params)?)
            .await
    }
    .await;
    match result {
        Ok(()) => Ok(no_store(HttpResponse::Ok()).finish()),
        Err(e) => {
            state.metrics.token_error(e.code());
            Err(e)
        }
    }
}

/// Introspects a token for an authenticated client (RFC 7662 §2.1: the caller must be
/// authorized, so an unauthenticated call is `invalid_client`, never `{"active":false}`).
pub async fn introspect(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    let result = async {
        let (params, presented) = read_request(&req, payload).await?;
        let client = state
            .tokens
            .authenticate_client(presented, state.client_address(&req))
            .await?;
        state
            .tokens
            .introspect(&client, token_parameter(&params)?)
            .await
    }
    .await;
    match result {
        Ok(answer) => Ok(no_store(HttpResponse::Ok()).json(answer)),
        Err(e) => {
            state.metrics.token_error(e.code());
            Err(e)
        }
    }
}

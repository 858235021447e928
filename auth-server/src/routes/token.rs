//! `POST /oauth/token` (RFC 6749 §3.2).

use actix_web::{HttpRequest, HttpResponse, web};

use super::form_body::read_request;
use crate::error::{Error, no_store};
use crate::oauth::token_request::TokenRequest;
use crate::state::AppState;

/// Issues tokens for the three grants: the client is authenticated first, then the form is
/// parsed into a typed request for the grant ([`TokenRequest::parse`]).
pub async fn token(
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
        let (row, request) = TokenRequest::parse(&params, &client.policy)?;
        let requester = req.conn_data::<service_kit::liveness::Liveness>();
        state.tokens.token(&client, &row, request, requester).await
    }
    .await;
    match result {
        Ok(response) => Ok(no_store(HttpResponse::Ok()).json(response)),
        Err(e) => {
            state.metrics.token_error(e.code());
            Err(e)
        }
    }
}

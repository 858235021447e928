//! The oauth2 crate, configured as the web app will use it (no redirects, timeouts), obtains
//! tokens with all three grants; each validates against the published JWKS with exact `iss`,
//! `aud` and `typ` checks.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use oauth2::basic::BasicClient;
use oauth2::{
    ClientId, ClientSecret, ResourceOwnerPassword, ResourceOwnerUsername, Scope,
    TokenResponse as _, TokenUrl,
};
use serde_json::Value;

use crate::support::*;

async fn verify_with_jwks(s: &TestStack, jwt: &str) -> Value {
    let jwks: JwkSet = s
        .http
        .get(s.auth_url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    assert!(
        header
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"))
    );
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[s.auth.base_url.as_str()]);
    validation.set_audience(&["urn:staff-directory:api"]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    jsonwebtoken::decode::<Value>(jwt, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn the_oauth2_crate_obtains_tokens_with_all_three_grants() {
    let s = TestStack::start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let client = BasicClient::new(ClientId::new(s.web_client.id.clone()))
        .set_client_secret(ClientSecret::new(s.web_client.secret.clone()))
        .set_token_uri(TokenUrl::new(s.auth_url("/oauth/token")).unwrap());

    let app = client
        .exchange_client_credentials()
        .request_async(&http)
        .await
        .unwrap();
    assert!(app.refresh_token().is_none());
    let c = verify_with_jwks(&s, app.access_token().secret()).await;
    assert_eq!(c["token_kind"], "client");
    assert_eq!(c["sub"], "directory-web");

    let user = client
        .exchange_password(
            &ResourceOwnerUsername::new(ALICE.username.into()),
            &ResourceOwnerPassword::new(ALICE.password.into()),
        )
        .request_async(&http)
        .await
        .unwrap();
    let c = verify_with_jwks(&s, user.access_token().secret()).await;
    assert_eq!(c["token_kind"], "user");
    assert_eq!(c["sub"], "ajohnson");
    let scopes: Vec<String> = user
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, ["directory:read", "profile:write"]);

    let refreshed = client
        .exchange_refresh_token(user.refresh_token().unwrap())
        .add_scope(Scope::new("directory:read".into()))
        .request_async(&http)
        .await
        .unwrap();
    let c = verify_with_jwks(&s, refreshed.access_token().secret()).await;
    assert_eq!(c["scope"], "directory:read");
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        user.refresh_token().unwrap().secret()
    );

    // The crate surfaces RFC 6749 errors as typed server responses.
    let err = client
        .exchange_password(
            &ResourceOwnerUsername::new(ALICE.username.into()),
            &ResourceOwnerPassword::new("wrong-one".into()),
        )
        .request_async(&http)
        .await
        .unwrap_err();
    match err {
        oauth2::RequestTokenError::ServerResponse(e) => {
            assert_eq!(
                *e.error(),
                oauth2::basic::BasicErrorResponseType::InvalidGrant
            )
        }
        other => panic!("expected invalid_grant, got {other:?}"),
    }
}

//! SECURITY.md section D, and grant separation at the token endpoint: one client, two kinds
//! of token that can never be confused.

use auth_server::oauth::policy::{ClientPolicy, GrantPolicy, GrantType};
use auth_server::oauth::scope::ScopeSet;

use crate::support::*;

#[tokio::test]
async fn t28_a_client_token_has_the_client_as_subject_and_no_refresh_token() {
    let s = TestStack::start().await;
    let t = s.client_token(&s.web_client, None).await;
    assert!(t.get("refresh_token").is_none());
    let jwt = t["access_token"].as_str().unwrap();
    let h = jwt_header(jwt);
    assert_eq!(h["typ"], "at+jwt");
    assert_eq!(h["alg"], "EdDSA");
    assert!(h["kid"].is_string());
    let c = claims(jwt);
    assert_eq!(c["sub"], "directory-web");
    assert_eq!(c["client_id"], "directory-web");
    assert_eq!(c["token_kind"], "client");
    assert_eq!(c["aud"], "urn:staff-directory:api");
    assert_eq!(c["scope"], "directory:read");
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 900);
    assert!(c["jti"].is_string());
    assert!(c.get("sid").is_none());
}

#[tokio::test]
async fn the_hr_job_gets_admin_scope_for_itself() {
    let s = TestStack::start().await;
    let t = s.client_token(&s.hr_client, None).await;
    assert_eq!(t["scope"], "directory:read directory:admin");
    let t = s.client_token(&s.hr_client, Some("directory:read")).await;
    assert_eq!(t["scope"], "directory:read");
}

#[tokio::test]
async fn t26_a_client_not_registered_for_client_credentials_is_unauthorized_client() {
    let s = TestStack::start().await;
    let user_scopes = ScopeSet::parse("directory:read profile:write").unwrap();
    let mut policy = ClientPolicy::default();
    policy.set(GrantPolicy::new(GrantType::Password, user_scopes, user_scopes).unwrap());
    let signer_only = s.register_client("sign-in-only", policy).await;
    let r = s.client_credentials(&signer_only).await;
    assert_oauth_error(r, 400, "unauthorized_client").await;
}

#[tokio::test]
async fn t27_client_credentials_never_carries_profile_write_and_the_web_app_never_admin() {
    let s = TestStack::start().await;
    for (client, scope) in [
        (&s.web_client, "profile:write"),
        (&s.web_client, "directory:admin"),
        (&s.hr_client, "profile:write"),
        (&s.web_client, "directory:read profile:write"),
    ] {
        let r = s
            .token(
                client,
                &[("grant_type", "client_credentials"), ("scope", scope)],
            )
            .await;
        assert_oauth_error(r, 400, "invalid_scope").await;
    }
}

#[tokio::test]
async fn the_same_client_gets_distinct_client_and_user_tokens() {
    let s = TestStack::start().await;
    let app = s.client_token(&s.web_client, None).await;
    let user = s.user_tokens(ALICE).await;
    let (a, u) = (
        app["access_token"].as_str().unwrap(),
        user["access_token"].as_str().unwrap(),
    );
    assert_ne!(a, u);
    let (ca, cu) = (claims(a), claims(u));
    assert_eq!(ca["client_id"], cu["client_id"]);
    assert_eq!(ca["token_kind"], "client");
    assert_eq!(cu["token_kind"], "user");
    assert_ne!(ca["sub"], cu["sub"]);
    assert_eq!(ca["scope"], "directory:read");
    assert_eq!(cu["scope"], "directory:read profile:write");
    // Two client tokens issued in the same second still differ.
    let again = s.client_token(&s.web_client, None).await;
    assert_ne!(again["access_token"], app["access_token"]);
}

#[tokio::test]
async fn policy_rows_that_break_the_scope_rules_cannot_be_created() {
    let admin = ScopeSet::parse("directory:admin").unwrap();
    let write = ScopeSet::parse("profile:write").unwrap();
    assert!(GrantPolicy::new(GrantType::Password, admin, admin).is_err());
    assert!(GrantPolicy::new(GrantType::ClientCredentials, write, write).is_err());
    assert!(GrantPolicy::new(GrantType::RefreshToken, write, write).is_err());
}

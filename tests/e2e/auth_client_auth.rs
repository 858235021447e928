//! SECURITY.md section B: client authentication (RFC 6749 §2.3).

use auth_server::oauth::policy::{ClientPolicy, GrantPolicy, GrantType};
use auth_server::oauth::scope::ScopeSet;

use crate::support::*;

#[tokio::test]
async fn t14_a_wrong_secret_in_basic_is_401_with_a_basic_challenge() {
    let s = TestStack::start().await;
    let wrong = TestClient {
        id: s.web_client.id.clone(),
        secret: "not-the-secret".into(),
    };
    assert_oauth_error(s.client_credentials(&wrong).await, 401, "invalid_client").await;
}

#[tokio::test]
async fn t15_unknown_client_and_wrong_secret_look_the_same() {
    let s = TestStack::start().await;
    for auth in [Auth::Basic, Auth::Post] {
        let unknown = TestClient {
            id: "no-such-client".into(),
            secret: "x".repeat(43),
        };
        let wrong = TestClient {
            id: s.web_client.id.clone(),
            secret: "x".repeat(43),
        };
        let form = [("grant_type", "client_credentials")];
        let a = assert_oauth_error(
            s.post_form("/oauth/token", Some((&unknown, auth)), &form)
                .await,
            401,
            "invalid_client",
        )
        .await;
        let b = assert_oauth_error(
            s.post_form("/oauth/token", Some((&wrong, auth)), &form)
                .await,
            401,
            "invalid_client",
        )
        .await;
        assert_eq!(a, b, "{auth:?}");
    }
}

#[tokio::test]
async fn t16_basic_credentials_are_form_encoded_before_base64() {
    let s = TestStack::start().await;
    let read = ScopeSet::parse("directory:read").unwrap();
    let mut policy = ClientPolicy::default();
    policy.set(GrantPolicy::new(GrantType::ClientCredentials, read, read).unwrap());
    let odd = s.register_client("a:b%2B c+d", policy).await;
    let token = ok_json(s.client_credentials(&odd).await).await;
    assert_eq!(
        claims(token["access_token"].as_str().unwrap())["client_id"],
        "a:b%2B c+d"
    );
    // The naive encoding (no form-encoding inside Basic) must fail.
    let naive = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", odd.id, odd.secret)
        )
    );
    let r = s
        .http
        .post(s.auth_url("/oauth/token"))
        .header("Authorization", naive)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 401, "invalid_client").await;
}

#[tokio::test]
async fn t17_control_characters_in_client_id_are_invalid_request() {
    let s = TestStack::start().await;
    let r = s
        .http
        .post(s.auth_url("/oauth/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=directory-web%0D%0Ax&client_secret=abc")
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "invalid_request").await;
}

#[tokio::test]
async fn t18_h03_client_secret_guessing_is_throttled_but_the_right_secret_is_never_refused() {
    let s = TestStack::start().await;
    let wrong = s.web_client.guessing();
    for _ in 0..10 {
        assert_oauth_error(s.client_credentials(&wrong).await, 401, "invalid_client").await;
    }
    // The eleventh wrong secret from this address is throttled...
    let r = s.client_credentials(&wrong).await;
    let retry_after: i64 = header(&r, "retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after));
    assert_oauth_error(r, 429, "invalid_client").await;
    // ...but the website itself, behind the same address, still gets its token (h03): the
    // guessing must not take the site down.
    let token = s.client_token(&s.web_client, None).await;
    assert_eq!(token["scope"], "directory:read");
    // Other clients are unaffected.
    s.client_token(&s.hr_client, None).await;
    // Wrong secrets stay throttled until the window passes.
    assert_oauth_error(s.client_credentials(&wrong).await, 429, "invalid_client").await;
    s.auth.clock.advance(901);
    assert_oauth_error(s.client_credentials(&wrong).await, 401, "invalid_client").await;
}

#[tokio::test]
async fn t19_client_secrets_are_stored_only_as_sha256() {
    let s = TestStack::start().await;
    let record = s
        .auth
        .db
        .client(&auth_server::oauth::client_auth::ClientId::parse(&s.web_client.id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(record.secret_hash, s.web_client.secret);
    assert_eq!(
        record.secret_hash,
        auth_server::oauth::secrets::sha256_hex(&s.web_client.secret)
    );
    assert_eq!(s.web_client.secret.len(), 43, "256 bits, base64url");
}

#[tokio::test]
async fn client_secret_post_is_accepted() {
    let s = TestStack::start().await;
    let r = s
        .post_form(
            "/oauth/token",
            Some((&s.web_client, Auth::Post)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(ok_json(r).await["scope"], "directory:read");
}

#[tokio::test]
async fn t25_a_client_id_without_a_secret_never_authenticates() {
    let s = TestStack::start().await;
    let r = s
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "directory-web"),
            ],
        )
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
    let r = s
        .post_form(
            "/oauth/token",
            None,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
}

#[tokio::test]
async fn a_non_basic_authorization_scheme_is_invalid_client() {
    let s = TestStack::start().await;
    let r = s
        .http
        .post(s.auth_url("/oauth/token"))
        .header("Authorization", "Bearer abc")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 401, "invalid_client").await;
}

#[tokio::test]
async fn a_rotated_secret_stops_working_within_a_second() {
    let s = TestStack::start().await;
    // A success is remembered for the second it happened in, for this client and address.
    s.client_token(&s.hr_client, None).await;
    let id = auth_server::oauth::client_auth::ClientId::parse(&s.hr_client.id).unwrap();
    let new = auth_server::admin::rotate_client_secret(&s.auth.db, &id)
        .await
        .unwrap()
        .unwrap();
    s.auth.clock.advance(1);
    assert_oauth_error(
        s.client_credentials(&s.hr_client).await,
        401,
        "invalid_client",
    )
    .await;
    let rotated = TestClient {
        id: s.hr_client.id.clone(),
        secret: secrecy::ExposeSecret::expose_secret(&new).to_owned(),
    };
    s.client_token(&rotated, None).await;
}

#[tokio::test]
async fn t18_a_remembered_success_does_not_let_a_wrong_secret_through() {
    let s = TestStack::start().await;
    s.client_token(&s.web_client, None).await;
    let wrong = s.web_client.guessing();
    // The one-second memory of the real client's success answers only for its exact secret.
    for _ in 0..10 {
        assert_oauth_error(s.client_credentials(&wrong).await, 401, "invalid_client").await;
    }
    assert_oauth_error(s.client_credentials(&wrong).await, 429, "invalid_client").await;
    s.client_token(&s.web_client, None).await;
}

//! SECURITY.md section A: protocol hygiene of the token endpoint (RFC 6749 §3.2, §5).

use crate::support::*;

#[tokio::test]
async fn t01_missing_grant_type_is_invalid_request() {
    let s = TestStack::start().await;
    assert_oauth_error(s.token(&s.web_client, &[]).await, 400, "invalid_request").await;
}

#[tokio::test]
async fn t02_unknown_grant_types_are_unsupported() {
    let s = TestStack::start().await;
    for grant in ["implicit", "urn:x:foo", "CLIENT_CREDENTIALS"] {
        assert_oauth_error(
            s.token(&s.web_client, &[("grant_type", grant)]).await,
            400,
            "unsupported_grant_type",
        )
        .await;
    }
}

#[tokio::test]
async fn t03_a_repeated_parameter_is_invalid_request_and_issues_nothing() {
    let s = TestStack::start().await;
    for body in [
        "grant_type=password&grant_type=client_credentials",
        "grant_type=client_credentials&scope=directory:read&scope=directory:read",
        "grant_type=client_credentials&scope=&scope=directory:read",
    ] {
        let r = s
            .http
            .post(s.auth_url("/oauth/token"))
            .header(
                "Authorization",
                basic(&s.web_client.id, &s.web_client.secret),
            )
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let body = assert_oauth_error(r, 400, "invalid_request").await;
        assert!(body.get("access_token").is_none());
    }
}

#[tokio::test]
async fn t04_an_empty_scope_means_the_default_scope() {
    let s = TestStack::start().await;
    let token = ok_json(
        s.token(
            &s.hr_client,
            &[("grant_type", "client_credentials"), ("scope", "")],
        )
        .await,
    )
    .await;
    assert_eq!(token["scope"], "directory:read directory:admin");
}

#[tokio::test]
async fn t05_unknown_parameters_are_ignored() {
    let s = TestStack::start().await;
    let token = ok_json(
        s.token(
            &s.web_client,
            &[("grant_type", "client_credentials"), ("foo", "bar")],
        )
        .await,
    )
    .await;
    assert_eq!(token["token_type"], "Bearer");
}

#[tokio::test]
async fn t06_get_on_the_token_endpoint_is_405_with_allow_post() {
    let s = TestStack::start().await;
    let r = s
        .http
        .get(s.auth_url("/oauth/token?grant_type=client_credentials"))
        .header(
            "Authorization",
            basic(&s.web_client.id, &s.web_client.secret),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(header(&r, "allow"), Some("POST"));
    assert_no_store(&r);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert!(body.get("access_token").is_none());
}

#[tokio::test]
async fn t07_credentials_in_the_url_are_refused() {
    let s = TestStack::start().await;
    let url = format!(
        "/oauth/token?client_id={}&client_secret={}",
        s.web_client.id, s.web_client.secret
    );
    let r = s
        .http
        .post(s.auth_url(&url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "invalid_request").await;
}

#[tokio::test]
async fn t08_two_client_authentication_methods_are_invalid_request() {
    let s = TestStack::start().await;
    let r = s
        .http
        .post(s.auth_url("/oauth/token"))
        .header(
            "Authorization",
            basic(&s.web_client.id, &s.web_client.secret),
        )
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(encode_form(&[
            ("grant_type".into(), "client_credentials".into()),
            ("client_id".into(), s.web_client.id.clone()),
            ("client_secret".into(), s.web_client.secret.clone()),
        ]))
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "invalid_request").await;
}

#[tokio::test]
async fn t09_a_json_body_is_invalid_request() {
    let s = TestStack::start().await;
    let r = s
        .http
        .post(s.auth_url("/oauth/token"))
        .header(
            "Authorization",
            basic(&s.web_client.id, &s.web_client.secret),
        )
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "invalid_request").await;
}

#[tokio::test]
async fn t11_error_strings_never_reflect_hostile_input() {
    let s = TestStack::start().await;
    let hostile = "a\"\\\r\nb\té";
    let r = s.sign_in(hostile, "whatever-password").await;
    let body = assert_oauth_error(r, 400, "invalid_grant").await;
    assert!(!body.to_string().contains("a\\\""));
    let r = s
        .token(
            &s.web_client,
            &[("grant_type", "client_credentials"), ("scope", hostile)],
        )
        .await;
    assert_oauth_error(r, 400, "invalid_scope").await;
    let r = s.token(&s.web_client, &[("grant_type", hostile)]).await;
    assert_oauth_error(r, 400, "unsupported_grant_type").await;
}

#[tokio::test]
async fn t12_a_success_has_the_rfc_shape_and_no_store() {
    let s = TestStack::start().await;
    let r = s.client_credentials(&s.web_client).await;
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    let raw = {
        assert_no_store(&r);
        r.text().await.unwrap()
    };
    let token: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert!(token["access_token"].as_str().unwrap().len() > 100);
    assert!(
        token["token_type"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("bearer")
    );
    assert_eq!(token["expires_in"], 900);
    assert_eq!(token["scope"], "directory:read");
    // No duplicate keys: every key appears once in the raw text.
    for key in ["access_token", "token_type", "expires_in", "scope"] {
        assert_eq!(raw.matches(&format!("\"{key}\"")).count(), 1, "{key}");
    }
}

#[tokio::test]
async fn t13_oversized_bodies_are_413_without_hashing() {
    let s = TestStack::start().await;
    let huge = "a".repeat(10 * 1024 * 1024);
    let started = std::time::Instant::now();
    let r = s.sign_in(ALICE.username, &huge).await;
    assert_oauth_error(r, 413, "invalid_request").await;
    let megabyte = "p".repeat(1024 * 1024);
    let r = s.sign_in(ALICE.username, &megabyte).await;
    assert_oauth_error(r, 413, "invalid_request").await;
    // A password over 1 KiB that fits the body limit is refused before any hashing.
    let r = s.sign_in(ALICE.username, &"p".repeat(2000)).await;
    assert_oauth_error(r, 400, "invalid_request").await;
    // Refused fast: generous bound for a shared machine; Argon2 of 10 MB would take far longer.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn every_oauth_endpoint_refuses_other_methods_with_405() {
    let s = TestStack::start().await;
    for path in ["/oauth/token", "/oauth/revoke", "/oauth/introspect"] {
        for method in [
            reqwest::Method::GET,
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
        ] {
            let r = s
                .http
                .request(method.clone(), s.auth_url(path))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 405, "{method} {path}");
            assert_eq!(header(&r, "allow"), Some("POST"));
            assert_no_store(&r);
        }
    }
}

#[tokio::test]
async fn invalid_percent_encoding_is_invalid_request() {
    let s = TestStack::start().await;
    let r = s
        .http
        .post(s.auth_url("/oauth/token"))
        .header(
            "Authorization",
            basic(&s.web_client.id, &s.web_client.secret),
        )
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=password&username=ajohnson&password=%FF%FE")
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "invalid_request").await;
}

//! SECURITY.md section F (48–50): metadata (RFC 8414), JWKS (RFC 7517), key rotation; and
//! the health and metrics endpoints.

use serde_json::Value;

use crate::support::*;

async fn get_json(s: &TestStack, path: &str) -> Value {
    let r = s.http.get(s.auth_url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        header(&r, "content-type")
            .unwrap()
            .starts_with("application/json")
    );
    r.json().await.unwrap()
}

#[tokio::test]
async fn t48_metadata_lists_every_endpoint_grant_method_and_scope() {
    let s = TestStack::start().await;
    let m = get_json(&s, "/.well-known/oauth-authorization-server").await;
    let issuer = m["issuer"].as_str().unwrap();
    assert_eq!(issuer, s.auth.base_url);
    assert!(!issuer.contains('?') && !issuer.contains('#'));
    assert_eq!(m["token_endpoint"], format!("{issuer}/oauth/token"));
    assert_eq!(m["revocation_endpoint"], format!("{issuer}/oauth/revoke"));
    assert_eq!(
        m["introspection_endpoint"],
        format!("{issuer}/oauth/introspect")
    );
    assert_eq!(m["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    assert_eq!(
        m["grant_types_supported"],
        serde_json::json!([
            "authorization_code",
            "client_credentials",
            "password",
            "refresh_token"
        ])
    );
    assert_eq!(
        m["scopes_supported"],
        serde_json::json!(["directory:read", "profile:write", "directory:admin"])
    );
    for key in [
        "token_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
    ] {
        assert_eq!(
            m[key],
            serde_json::json!(["client_secret_basic", "client_secret_post"]),
            "{key}"
        );
    }
    // The issuer is byte-identical to `iss` in tokens.
    let t = s.client_token(&s.web_client, None).await;
    assert_eq!(claims(t["access_token"].as_str().unwrap())["iss"], issuer);
}

#[tokio::test]
async fn a_configured_issuer_is_used_in_metadata_and_tokens() {
    let s = TestStack::start_with(|settings| {
        settings.serve.issuer = Some("https://auth.example.edu".into())
    })
    .await;
    let m = get_json(&s, "/.well-known/oauth-authorization-server").await;
    assert_eq!(m["issuer"], "https://auth.example.edu");
    assert_eq!(
        m["jwks_uri"],
        "https://auth.example.edu/.well-known/jwks.json"
    );
    let t = s.client_token(&s.web_client, None).await;
    assert_eq!(
        claims(t["access_token"].as_str().unwrap())["iss"],
        "https://auth.example.edu"
    );
}

#[tokio::test]
async fn t49_the_jwks_holds_only_public_members() {
    let s = TestStack::start().await;
    let jwks = get_json(&s, "/.well-known/jwks.json").await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    for key in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "{private} published");
        }
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");
        assert_eq!(key["use"], "sig");
        assert!(key["kid"].is_string());
    }
    let t = s.client_token(&s.web_client, None).await;
    assert_eq!(
        jwt_header(t["access_token"].as_str().unwrap())["kid"],
        keys[0]["kid"]
    );
}

#[tokio::test]
async fn t50_a_rotated_key_stays_published_until_its_tokens_have_expired() {
    let s = TestStack::start().await;
    let old = s.client_token(&s.web_client, None).await;
    let old_jwt = old["access_token"].as_str().unwrap();
    let old_kid = jwt_header(old_jwt)["kid"].as_str().unwrap().to_owned();
    let now = crate::support::Clock::now(s.auth.clock.as_ref());
    let new_kid = auth_server::admin::rotate_keys(&s.auth.db, now)
        .await
        .unwrap();
    // Instances reload keys every 10 seconds: the new key is published at once...
    s.auth.clock.advance(11);
    let kids = |jwks: Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let published = kids(get_json(&s, "/.well-known/jwks.json").await);
    assert!(
        published.contains(&old_kid) && published.contains(&new_kid),
        "{published:?}"
    );
    // ...but signs only once it has been published for 20 seconds.
    let still_old = s.client_token(&s.web_client, None).await;
    assert_eq!(
        jwt_header(still_old["access_token"].as_str().unwrap())["kid"],
        old_kid.as_str()
    );
    s.auth.clock.advance(10);
    let new = s.client_token(&s.web_client, None).await;
    assert_eq!(
        jwt_header(new["access_token"].as_str().unwrap())["kid"],
        new_kid.as_str()
    );
    assert_eq!(s.introspect(&s.web_client, old_jwt).await["active"], true);
    // Past the longest token lifetime plus grace, the old key leaves the JWKS.
    s.auth.clock.advance(900 + 60);
    let published = kids(get_json(&s, "/.well-known/jwks.json").await);
    assert_eq!(published, vec![new_kid]);
    assert_eq!(
        s.introspect(&s.web_client, old_jwt).await,
        serde_json::json!({"active": false})
    );
}

#[tokio::test]
async fn keys_survive_a_restart_on_the_same_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/auth.db", dir.path().display());
    let mut kids = Vec::new();
    for _ in 0..2 {
        let app = auth_server::startup::Application::build(auth_server::config::Settings::new(
            url.clone(),
            "127.0.0.1:0".parse().unwrap(),
        ))
        .await
        .unwrap();
        let base = format!("http://{}", app.address());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let jwks: Value = reqwest::get(format!("{base}/.well-known/jwks.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        kids.push(jwks["keys"][0]["kid"].as_str().unwrap().to_owned());
        handle.stop(true).await;
    }
    assert_eq!(kids[0], kids[1]);
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let s = TestStack::start().await;
    let r = s.http.get(s.auth_url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = s.http.get(s.auth_url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    s.client_token(&s.web_client, None).await;
    assert_oauth_error(
        s.token(&s.web_client, &[("grant_type", "nope")]).await,
        400,
        "unsupported_grant_type",
    )
    .await;
    let text = text_of(&s.http, &s.auth_url("/metrics")).await;
    assert!(
        text.contains(
            r#"oauth_tokens_issued_total{grant="client_credentials",client="directory-web"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"oauth_token_errors_total{error="unsupported_grant_type"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"http_request_duration_seconds_count{route="/oauth/token",method="POST",status="200"} 1"#), "{text}");
}

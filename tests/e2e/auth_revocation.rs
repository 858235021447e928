//! SECURITY.md section F (39–47): revocation (RFC 7009) and introspection (RFC 7662).

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn t39_revocation_needs_client_authentication() {
    let s = TestStack::start().await;
    let r = s
        .post_form("/oauth/revoke", None, &[("token", "abc")])
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
}

#[tokio::test]
async fn t40_revocation_without_exactly_one_token_is_invalid_request() {
    let s = TestStack::start().await;
    let r = s
        .post_form("/oauth/revoke", Some((&s.web_client, Auth::Basic)), &[])
        .await;
    assert_oauth_error(r, 400, "invalid_request").await;
    let r = s
        .http
        .post(s.auth_url("/oauth/revoke"))
        .header(
            "Authorization",
            basic(&s.web_client.id, &s.web_client.secret),
        )
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("token=a&token=b")
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "invalid_request").await;
}

#[tokio::test]
async fn t41_revoking_an_unknown_token_is_200() {
    let s = TestStack::start().await;
    let r = s
        .post_form(
            "/oauth/revoke",
            Some((&s.web_client, Auth::Basic)),
            &[("token", "no-such-token")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_no_store(&r);
    assert_eq!(r.text().await.unwrap(), "");
}

#[tokio::test]
async fn t42_revoking_another_clients_token_answers_200_and_changes_nothing() {
    let s = TestStack::start().await;
    let user = s.user_tokens(ALICE).await;
    let hr_token = s.client_token(&s.hr_client, None).await;
    for token in [
        user["refresh_token"].as_str().unwrap(),
        user["access_token"].as_str().unwrap(),
    ] {
        let r = s
            .post_form(
                "/oauth/revoke",
                Some((&s.hr_client, Auth::Basic)),
                &[("token", token)],
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let r = s
        .post_form(
            "/oauth/revoke",
            Some((&s.web_client, Auth::Basic)),
            &[("token", hr_token["access_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(r.status(), 200);
    // Everything still works.
    assert_eq!(
        s.introspect(&s.web_client, user["access_token"].as_str().unwrap())
            .await["active"],
        true
    );
    assert_eq!(
        s.introspect(&s.hr_client, hr_token["access_token"].as_str().unwrap())
            .await["active"],
        true
    );
    ok_json(
        s.refresh(user["refresh_token"].as_str().unwrap(), None)
            .await,
    )
    .await;
}

#[tokio::test]
async fn t43_t44_a_wrong_hint_still_revokes_the_refresh_token_and_its_access_tokens() {
    let s = TestStack::start().await;
    let user = s.user_tokens(ALICE).await;
    let r = s
        .post_form(
            "/oauth/revoke",
            Some((&s.web_client, Auth::Post)),
            &[
                ("token", user["refresh_token"].as_str().unwrap()),
                ("token_type_hint", "access_token"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_oauth_error(
        s.refresh(user["refresh_token"].as_str().unwrap(), None)
            .await,
        400,
        "invalid_grant",
    )
    .await;
    assert_eq!(
        s.introspect(&s.web_client, user["access_token"].as_str().unwrap())
            .await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn t43_an_invalid_hint_is_ignored_and_access_tokens_can_be_revoked() {
    let s = TestStack::start().await;
    let app = s.client_token(&s.web_client, None).await;
    let token = app["access_token"].as_str().unwrap();
    assert_eq!(s.introspect(&s.web_client, token).await["active"], true);
    let r = s
        .post_form(
            "/oauth/revoke",
            Some((&s.web_client, Auth::Basic)),
            &[("token", token), ("token_type_hint", "banana")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        s.introspect(&s.web_client, token).await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn t46_introspection_needs_client_authentication() {
    let s = TestStack::start().await;
    let token = s.client_token(&s.web_client, None).await;
    let r = s
        .post_form(
            "/oauth/introspect",
            None,
            &[("token", token["access_token"].as_str().unwrap())],
        )
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
    let wrong = TestClient {
        id: s.web_client.id.clone(),
        secret: "wrong".into(),
    };
    let r = s
        .post_form(
            "/oauth/introspect",
            Some((&wrong, Auth::Basic)),
            &[("token", token["access_token"].as_str().unwrap())],
        )
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
}

#[tokio::test]
async fn t47_dead_tokens_introspect_as_exactly_active_false() {
    let s = TestStack::start().await;
    let user = s.user_tokens(ALICE).await;
    let expiring = s.client_token(&s.web_client, None).await;
    let other_clients = s.client_token(&s.hr_client, None).await;
    let garbage = "x".repeat(5000);
    for token in [
        "unknown",
        garbage.as_str(),
        other_clients["access_token"].as_str().unwrap(),
    ] {
        assert_eq!(
            s.introspect(&s.web_client, token).await,
            json!({"active": false}),
            "{token:.20}"
        );
    }
    s.auth.clock.advance(901);
    for token in [
        expiring["access_token"].as_str().unwrap(),
        user["access_token"].as_str().unwrap(),
    ] {
        assert_eq!(
            s.introspect(&s.web_client, token).await,
            json!({"active": false})
        );
    }
}

#[tokio::test]
async fn active_tokens_introspect_with_their_claims() {
    let s = TestStack::start().await;
    let user = s.user_tokens(ALICE).await;
    let a = s
        .introspect(&s.web_client, user["access_token"].as_str().unwrap())
        .await;
    assert_eq!(a["active"], true);
    assert_eq!(a["token_type"], "Bearer");
    assert_eq!(a["username"], "ajohnson");
    assert_eq!(a["sub"], "ajohnson");
    assert_eq!(a["token_kind"], "user");
    assert_eq!(a["client_id"], "directory-web");
    assert_eq!(a["scope"], "directory:read profile:write");
    assert_eq!(a["iss"], s.auth.base_url);
    let r = s
        .introspect(&s.web_client, user["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(r["active"], true);
    assert_eq!(r["token_type"], "refresh_token");
    let app = s.client_token(&s.hr_client, None).await;
    let c = s
        .introspect(&s.hr_client, app["access_token"].as_str().unwrap())
        .await;
    assert_eq!(c["token_kind"], "client");
    assert_eq!(c["sub"], "hr-sync");
    assert!(c.get("username").is_none());
}

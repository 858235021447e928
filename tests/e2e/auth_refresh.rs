//! SECURITY.md section E: the refresh-token grant (RFC 6749 §6), rotation and reuse
//! detection (RFC 9700 §4.14.2).

use auth_server::oauth::policy::{ClientPolicy, GrantPolicy, GrantType};
use auth_server::oauth::scope::ScopeSet;
use auth_server::oauth::username::Username;
use secrecy::SecretString;

use crate::support::*;

fn rt(tokens: &serde_json::Value) -> String {
    tokens["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_refresh_rotates_the_refresh_token_and_issues_a_user_token() {
    let s = TestStack::start().await;
    let first = s.user_tokens(ALICE).await;
    let second = ok_json(s.refresh(&rt(&first), None).await).await;
    assert_ne!(rt(&first), rt(&second));
    assert_eq!(second["scope"], "directory:read profile:write");
    let c = claims(second["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], "ajohnson");
    assert_eq!(c["token_kind"], "user");
    assert_eq!(
        c["sid"],
        claims(first["access_token"].as_str().unwrap())["sid"]
    );
    ok_json(s.refresh(&rt(&second), None).await).await;
}

#[tokio::test]
async fn t29_another_clients_refresh_token_is_invalid_grant() {
    let s = TestStack::start().await;
    let user_scopes = ScopeSet::parse("directory:read profile:write").unwrap();
    let mut policy = ClientPolicy::default();
    policy.set(GrantPolicy::new(GrantType::Password, user_scopes, user_scopes).unwrap());
    let other = s.register_client("other-web", policy).await;
    let tokens = s.user_tokens(ALICE).await;
    let r = s
        .token(
            &other,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt(&tokens)),
            ],
        )
        .await;
    assert_oauth_error(r, 400, "invalid_grant").await;
    // The token still works for its own client.
    ok_json(s.refresh(&rt(&tokens), None).await).await;
}

#[tokio::test]
async fn a_client_without_the_password_grant_cannot_refresh() {
    let s = TestStack::start().await;
    let tokens = s.user_tokens(ALICE).await;
    let r = s
        .token(
            &s.hr_client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt(&tokens)),
            ],
        )
        .await;
    assert_oauth_error(r, 400, "unauthorized_client").await;
}

#[tokio::test]
async fn t30_refresh_cannot_widen_the_scope() {
    let s = TestStack::start().await;
    let r = s
        .token(
            &s.web_client,
            &[
                ("grant_type", "password"),
                ("username", ALICE.username),
                ("password", ALICE.password),
                ("scope", "directory:read"),
            ],
        )
        .await;
    let tokens = ok_json(r).await;
    assert_oauth_error(
        s.refresh(&rt(&tokens), Some("profile:write")).await,
        400,
        "invalid_scope",
    )
    .await;
    assert_oauth_error(
        s.refresh(&rt(&tokens), Some("directory:admin")).await,
        400,
        "invalid_scope",
    )
    .await;
}

#[tokio::test]
async fn t31_refresh_may_narrow_and_the_new_refresh_token_keeps_the_original_scope() {
    let s = TestStack::start().await;
    let first = s.user_tokens(ALICE).await;
    let narrowed = ok_json(s.refresh(&rt(&first), Some("directory:read")).await).await;
    assert_eq!(narrowed["scope"], "directory:read");
    assert_eq!(
        claims(narrowed["access_token"].as_str().unwrap())["scope"],
        "directory:read"
    );
    let again = ok_json(s.refresh(&rt(&narrowed), None).await).await;
    assert_eq!(again["scope"], "directory:read profile:write");
}

#[tokio::test]
async fn t32_t33_a_reused_refresh_token_revokes_the_whole_sign_in() {
    let s = TestStack::start().await;
    let first = s.user_tokens(ALICE).await;
    let second = ok_json(s.refresh(&rt(&first), None).await).await;
    // Within two seconds a duplicate counts as the loser of a race: refused, nothing revoked.
    assert_oauth_error(s.refresh(&rt(&first), None).await, 400, "invalid_grant").await;
    assert_eq!(
        s.introspect(&s.web_client, &rt(&second)).await["active"],
        true
    );
    s.auth.clock.advance(3);
    // T32: the rotated-out token is refused...
    assert_oauth_error(s.refresh(&rt(&first), None).await, 400, "invalid_grant").await;
    // T33: ...and its reuse revoked the family: the current one is refused too.
    assert_oauth_error(s.refresh(&rt(&second), None).await, 400, "invalid_grant").await;
    // The access tokens of that sign-in are inactive at introspection.
    for t in [&first, &second] {
        let answer = s
            .introspect(&s.web_client, t["access_token"].as_str().unwrap())
            .await;
        assert_eq!(answer, serde_json::json!({"active": false}));
    }
    // A fresh sign-in is unaffected.
    s.user_tokens(ALICE).await;
}

#[tokio::test]
async fn t34_an_idle_refresh_token_expires_and_so_does_the_sign_in() {
    let s = TestStack::start().await;
    let tokens = s.user_tokens(ALICE).await;
    s.auth.clock.advance(8 * 3600);
    assert_oauth_error(s.refresh(&rt(&tokens), None).await, 400, "invalid_grant").await;

    // Used often enough never to idle out, a sign-in still ends at its absolute lifetime.
    let mut tokens = s.user_tokens(BEN).await;
    for _ in 0..4 {
        s.auth.clock.advance(6 * 3600 - 1);
        tokens = ok_json(s.refresh(&rt(&tokens), None).await).await;
    }
    s.auth.clock.advance(4);
    assert_oauth_error(s.refresh(&rt(&tokens), None).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn t35_disabling_a_user_or_changing_the_password_ends_their_refresh_tokens() {
    let s = TestStack::start().await;
    let alice = s.user_tokens(ALICE).await;
    let ben = s.user_tokens(BEN).await;
    let now = crate::support::Clock::now(s.auth.clock.as_ref());
    s.auth
        .db
        .disable_user(&Username::parse(ALICE.username).unwrap(), now)
        .await
        .unwrap();
    assert_oauth_error(s.refresh(&rt(&alice), None).await, 400, "invalid_grant").await;
    auth_server::admin::set_user_password(
        &s.auth.db,
        &Username::parse(BEN.username).unwrap(),
        &SecretString::from("a-brand-new-password"),
        now,
    )
    .await
    .unwrap();
    assert_oauth_error(s.refresh(&rt(&ben), None).await, 400, "invalid_grant").await;
    s.user_tokens(TestUser {
        username: BEN.username,
        password: "a-brand-new-password",
    })
    .await;
}

#[tokio::test]
async fn t36_the_same_refresh_token_twice_at_once_has_exactly_one_winner() {
    let s = TestStack::start().await;
    for _ in 0..3 {
        let tokens = s.user_tokens(ALICE).await;
        let token = rt(&tokens);
        let responses =
            futures_util::future::join_all((0..5).map(|_| s.refresh(&token, None))).await;
        let mut winners = Vec::new();
        for r in responses {
            match r.status().as_u16() {
                200 => winners.push(ok_json(r).await),
                400 => {
                    assert_oauth_error(r, 400, "invalid_grant").await;
                }
                other => panic!("unexpected status {other}"),
            }
        }
        assert_eq!(winners.len(), 1);
        // The winner's new refresh token stays valid: a race is not treated as theft.
        ok_json(s.refresh(&rt(&winners[0]), None).await).await;
    }
}

#[tokio::test]
async fn t37_an_access_token_or_garbage_is_not_a_refresh_token() {
    let s = TestStack::start().await;
    let tokens = s.user_tokens(ALICE).await;
    let garbage = "x".repeat(10 * 1024);
    for candidate in [
        tokens["access_token"].as_str().unwrap(),
        garbage.as_str(),
        "short",
    ] {
        assert_oauth_error(s.refresh(candidate, None).await, 400, "invalid_grant").await;
    }
    let r = s
        .token(&s.web_client, &[("grant_type", "refresh_token")])
        .await;
    assert_oauth_error(r, 400, "invalid_request").await;
}

#[tokio::test]
async fn t38_refresh_tokens_are_stored_hashed() {
    let s = TestStack::start().await;
    let tokens = s.user_tokens(ALICE).await;
    let token = rt(&tokens);
    assert!(
        s.auth
            .db
            .find_refresh_token(&token)
            .await
            .unwrap()
            .is_none(),
        "the raw token is not a key"
    );
    let found = s
        .auth
        .db
        .find_refresh_token(&auth_server::oauth::secrets::sha256_hex(&token))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.username, "ajohnson");
    assert_eq!(found.token_generation, 0);
}

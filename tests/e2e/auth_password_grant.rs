//! SECURITY.md section C: the password grant (RFC 6749 §4.3), throttling and hashing.

use auth_server::oauth::username::Username;
use secrecy::SecretString;

use crate::support::*;

#[tokio::test]
async fn a_member_of_staff_gets_a_user_token_and_a_refresh_token() {
    let s = TestStack::start().await;
    let t = s.user_tokens(ALICE).await;
    assert_eq!(t["scope"], "directory:read profile:write");
    assert_eq!(t["expires_in"], 300);
    let rt = t["refresh_token"].as_str().unwrap();
    assert!(rt.len() >= 43 && rt.bytes().all(|b| (0x20..=0x7E).contains(&b)));
    let c = claims(t["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], "ajohnson");
    assert_eq!(c["client_id"], "directory-web");
    assert_eq!(c["token_kind"], "user");
    assert_eq!(c["aud"], "urn:staff-directory:api");
    assert_eq!(c["iss"], s.auth.base_url);
    assert!(c["sid"].is_string());
}

#[tokio::test]
async fn usernames_are_case_insensitive_at_sign_in() {
    let s = TestStack::start().await;
    let t = ok_json(s.sign_in("AJohnson", ALICE.password).await).await;
    assert_eq!(
        claims(t["access_token"].as_str().unwrap())["sub"],
        "ajohnson"
    );
}

#[tokio::test]
async fn t20_wrong_password_and_unknown_user_give_the_same_answer() {
    let s = TestStack::start().await;
    let wrong = assert_oauth_error(
        s.sign_in(ALICE.username, "not-her-password").await,
        400,
        "invalid_grant",
    )
    .await;
    let unknown = assert_oauth_error(
        s.sign_in("nobody", "not-her-password").await,
        400,
        "invalid_grant",
    )
    .await;
    let malformed = assert_oauth_error(
        s.sign_in("no body!", "not-her-password").await,
        400,
        "invalid_grant",
    )
    .await;
    assert_eq!(wrong, unknown);
    assert_eq!(wrong, malformed);
}

#[tokio::test]
async fn t21_missing_username_or_password_is_invalid_request() {
    let s = TestStack::start().await;
    for form in [
        vec![("grant_type", "password"), ("password", ALICE.password)],
        vec![("grant_type", "password"), ("username", ALICE.username)],
        vec![
            ("grant_type", "password"),
            ("username", ALICE.username),
            ("password", ""),
        ],
    ] {
        assert_oauth_error(s.token(&s.web_client, &form).await, 400, "invalid_request").await;
    }
}

#[tokio::test]
async fn t22_a_client_without_the_password_grant_is_unauthorized_client() {
    let s = TestStack::start().await;
    let r = s
        .token(
            &s.hr_client,
            &[
                ("grant_type", "password"),
                ("username", ALICE.username),
                ("password", ALICE.password),
            ],
        )
        .await;
    assert_oauth_error(r, 400, "unauthorized_client").await;
}

#[tokio::test]
async fn t23_five_failures_lock_the_account_even_for_the_right_password() {
    let s = TestStack::start().await;
    for _ in 0..5 {
        assert_oauth_error(
            s.sign_in(ALICE.username, "wrong-password").await,
            400,
            "invalid_grant",
        )
        .await;
    }
    let locked = s.sign_in(ALICE.username, ALICE.password).await;
    // The manual clock has not moved since the first failure, so the whole window is left.
    assert_eq!(header(&locked, "retry-after"), Some("900"));
    let right = assert_oauth_error(locked, 429, "invalid_grant").await;
    let wrong = assert_oauth_error(
        s.sign_in(ALICE.username, "wrong-password").await,
        429,
        "invalid_grant",
    )
    .await;
    assert_eq!(
        right, wrong,
        "the lockout does not reveal whether the password was right"
    );
    // Unknown usernames lock the same way, so the lockout reveals no account.
    for _ in 0..5 {
        s.sign_in("ghost", "wrong-password").await;
    }
    assert_eq!(
        assert_oauth_error(s.sign_in("ghost", "x-password").await, 429, "invalid_grant").await,
        right
    );
    // Another user is unaffected.
    s.user_tokens(BEN).await;
    // Retry-After counts down from the first failure, not from the latest refusal.
    s.auth.clock.advance(600);
    let later = s.sign_in(ALICE.username, ALICE.password).await;
    assert_eq!(header(&later, "retry-after"), Some("300"));
    assert_oauth_error(later, 429, "invalid_grant").await;
    // The lock is time-boxed: once the failures leave the window, the right password works.
    s.auth.clock.advance(300 + 1);
    s.user_tokens(ALICE).await;
}

#[tokio::test]
async fn a_success_forgets_earlier_failures() {
    let s = TestStack::start().await;
    for _ in 0..4 {
        s.sign_in(ALICE.username, "wrong-password").await;
    }
    s.user_tokens(ALICE).await;
    for _ in 0..4 {
        assert_oauth_error(
            s.sign_in(ALICE.username, "wrong-password").await,
            400,
            "invalid_grant",
        )
        .await;
    }
    s.user_tokens(ALICE).await;
}

#[tokio::test]
async fn t84_parallel_guesses_get_no_more_checks_than_sequential_ones() {
    let s = TestStack::start().await;
    let attempts = (0..20).map(|_| s.sign_in(ALICE.username, "wrong-password"));
    let responses = futures_util::future::join_all(attempts).await;
    let mut checked = 0;
    let mut throttled = 0;
    for r in responses {
        match r.status().as_u16() {
            400 => checked += 1,
            429 => throttled += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(checked <= 5, "{checked} passwords were checked");
    assert_eq!(checked + throttled, 20);
    assert_oauth_error(
        s.sign_in(ALICE.username, ALICE.password).await,
        429,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn t24_scope_escalation_is_invalid_scope() {
    let s = TestStack::start().await;
    for scope in [
        "directory:read profile:write admin",
        "directory:admin",
        "directory:read directory:admin",
    ] {
        let r = s
            .token(
                &s.web_client,
                &[
                    ("grant_type", "password"),
                    ("username", ALICE.username),
                    ("password", ALICE.password),
                    ("scope", scope),
                ],
            )
            .await;
        assert_oauth_error(r, 400, "invalid_scope").await;
    }
}

#[tokio::test]
async fn a_user_may_ask_for_less_than_the_default() {
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
    let t = ok_json(r).await;
    assert_eq!(t["scope"], "directory:read");
    assert_eq!(
        claims(t["access_token"].as_str().unwrap())["scope"],
        "directory:read"
    );
}

#[tokio::test]
async fn t96_passwords_are_argon2id_and_verified_exactly_as_received() {
    let s = TestStack::start().await;
    let stored = s
        .auth
        .db
        .user(&Username::parse(ALICE.username).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored
            .password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        stored.password_hash
    );
    let now = crate::support::Clock::now(s.auth.clock.as_ref());
    let long_phrase = "correct horse battery staple and then some more words to reach 64";
    let two_hundred = "é".repeat(100);
    for (name, password) in [
        ("passphrase", long_phrase),
        ("twohundred", two_hundred.as_str()),
        ("spaced", "pw-with-space "),
    ] {
        auth_server::admin::create_user(
            &s.auth.db,
            &Username::parse(name).unwrap(),
            &SecretString::from(password),
            now,
        )
        .await
        .unwrap();
        s.user_tokens(TestUser {
            username: name,
            password,
        })
        .await;
    }
    assert_oauth_error(
        s.sign_in("spaced", "pw-with-space").await,
        400,
        "invalid_grant",
    )
    .await;
    assert_oauth_error(
        s.sign_in(ALICE.username, &format!("{} ", ALICE.password))
            .await,
        400,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in() {
    let s = TestStack::start().await;
    let now = crate::support::Clock::now(s.auth.clock.as_ref());
    assert!(
        s.auth
            .db
            .disable_user(&Username::parse(ALICE.username).unwrap(), now)
            .await
            .unwrap()
    );
    assert_oauth_error(
        s.sign_in(ALICE.username, ALICE.password).await,
        400,
        "invalid_grant",
    )
    .await;
}

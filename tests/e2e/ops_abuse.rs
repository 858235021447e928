//! Operations, abuse: password spraying from one address, client-secret guessing, oversized
//! bodies and slow clients, on every service.

use std::time::Duration;

use reqwest::Method;

use crate::support::*;

/// Posts the sign-in form as a visitor behind `forwarded_for` (sent as `X-Forwarded-For`).
async fn sign_in_from(
    b: &mut Browser<'_>,
    forwarded_for: &str,
    user: &str,
    password: &str,
) -> Page {
    let form = b.get("/sign-in").await;
    let csrf = hidden(&form.html, "csrf");
    b.send(
        Method::POST,
        "/sign-in",
        Some(&[("csrf", &csrf), ("username", user), ("password", password)]),
        &[("X-Forwarded-For", forwarded_for)],
    )
    .await
}

#[tokio::test]
async fn password_spraying_from_one_address_is_refused_at_the_website_without_asking_the_auth_server()
 {
    let s = TestStack::start().await;
    let web = s
        .start_web_configured(&s.api.base_url.clone(), |w| {
            w.serve.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        })
        .await;
    let mut sprayer = Browser::new(&web);
    for i in 0..20 {
        let page = sign_in_from(
            &mut sprayer,
            "203.0.113.7",
            &format!("user{i}"),
            "Winter2026!",
        )
        .await;
        assert_eq!(page.status, 200);
        assert!(
            page.html.contains("Invalid username or password."),
            "{}",
            page.html
        );
    }
    let auth_before = text_of(&s.http, &s.auth_url("/metrics")).await;
    assert_eq!(
        series(
            &auth_before,
            r#"oauth_token_errors_total{error="invalid_grant"}"#
        ),
        Some(20.0)
    );
    // Even the right password is refused from that address now, and the auth server is not asked.
    let refused = sign_in_from(&mut sprayer, "203.0.113.7", ALICE.username, ALICE.password).await;
    assert_eq!(refused.status, 429, "{}", refused.html);
    assert!(
        refused.html.contains(
            "Too many failed sign-ins from your network. Wait 15 minutes, then try again."
        ),
        "{}",
        refused.html
    );
    let auth_after = text_of(&s.http, &s.auth_url("/metrics")).await;
    assert_eq!(
        series(
            &auth_after,
            r#"oauth_token_errors_total{error="invalid_grant"}"#
        ),
        Some(20.0)
    );
    assert_eq!(
        series(
            &auth_after,
            r#"oauth_tokens_issued_total{grant="password",client="directory-web"}"#
        ),
        None
    );
    let web_metrics = text_of(&s.http, &web.url("/metrics")).await;
    assert_eq!(
        series(&web_metrics, "web_sign_ins_throttled_total"),
        Some(1.0)
    );

    // Retry-After counts down from the first failure.
    let mut again = Browser::new(&web);
    web.clock.advance(600);
    let later = {
        let form = again.get("/sign-in").await;
        let csrf = hidden(&form.html, "csrf");
        again
            .http
            .post(web.url("/sign-in"))
            .header("Cookie", again.cookie.clone().unwrap())
            .header("X-Forwarded-For", "203.0.113.7")
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", ALICE.username),
                ("password", ALICE.password),
            ])
            .send()
            .await
            .unwrap()
    };
    assert_eq!(later.status(), 429);
    assert_eq!(header(&later, "retry-after"), Some("300"));

    // Another address is unaffected; after the window the first may sign in again.
    let mut neighbour = Browser::new(&web);
    let ok = sign_in_from(
        &mut neighbour,
        "203.0.113.8",
        ALICE.username,
        ALICE.password,
    )
    .await;
    assert_eq!((ok.status, ok.location.as_deref()), (303, Some("/profile")));
    web.clock.advance(300);
    let mut back = Browser::new(&web);
    let ok = sign_in_from(&mut back, "203.0.113.7", BEN.username, BEN.password).await;
    assert_eq!((ok.status, ok.location.as_deref()), (303, Some("/profile")));
}

#[tokio::test]
async fn the_refusal_carries_retry_after_and_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy()
 {
    let s = TestStack::start().await;
    let web = s
        .start_web_configured(&s.api.base_url.clone(), |w| {
            w.serve.max_failed_sign_ins_per_address = 3;
        })
        .await;
    let mut b = Browser::new(&web);
    // A different X-Forwarded-For each time: not believed, the peer address counts.
    for i in 0..3 {
        let page = sign_in_from(&mut b, &format!("198.51.100.{i}"), "nobody", "x").await;
        assert_eq!(page.status, 200);
    }
    let form = b.get("/sign-in").await;
    let csrf = hidden(&form.html, "csrf");
    let r = b
        .http
        .post(web.url("/sign-in"))
        .header("Cookie", b.cookie.clone().unwrap())
        .header("X-Forwarded-For", "198.51.100.99")
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", ALICE.username),
            ("password", ALICE.password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "retry-after"), Some("900"));
    assert_eq!(header(&r, "cache-control"), Some("private, no-store"));
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Too many failed sign-ins from your network.")
    );
}

#[tokio::test]
async fn client_secret_guessing_is_answered_429_invalid_client_with_retry_after_and_counted() {
    let s = TestStack::start().await;
    let wrong = s.hr_client.guessing();
    for _ in 0..10 {
        assert_oauth_error(s.client_credentials(&wrong).await, 401, "invalid_client").await;
    }
    let r = s.client_credentials(&wrong).await;
    assert_eq!(header(&r, "retry-after"), Some("900"));
    let body = assert_oauth_error(r, 429, "invalid_client").await;
    assert!(body["error_description"].is_string(), "{body}");
    // The right secret is still accepted (h03).
    s.client_token(&s.hr_client, None).await;
    let text = text_of(&s.http, &s.auth_url("/metrics")).await;
    assert_eq!(
        series(&text, r#"oauth_throttled_total{kind="client"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(&text, r#"oauth_token_errors_total{error="invalid_client"}"#),
        Some(11.0),
        "{text}"
    );
    // The alert an operator watches: failures per registered client.
    assert_eq!(
        series(
            &text,
            r#"oauth_client_authentication_failures_total{client="hr-sync"}"#
        ),
        Some(11.0),
        "{text}"
    );
}

#[tokio::test]
async fn an_oversized_body_gets_413_in_each_services_own_error_format() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let big = big_form(17 * 1024);

    let auth = s
        .http
        .post(s.auth_url("/oauth/token"))
        .header("Authorization", basic(&s.hr_client.id, &s.hr_client.secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    let body = assert_oauth_error(auth, 413, "invalid_request").await;
    assert_eq!(body["error_description"], "the request body is too large");

    let hr = s.hr_token().await;
    let api = s
        .api(Method::POST, "/staff", Some(&hr))
        .header("Content-Type", "application/json")
        .body(format!("{{\"bio\":\"{}\"}}", "x".repeat(17 * 1024)))
        .send()
        .await
        .unwrap();
    assert_problem(api, 413, "payload_too_large").await;

    let mut b = Browser::new(&web);
    let form = b.get("/sign-in").await;
    let csrf = hidden(&form.html, "csrf");
    let page = b
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("username", "u"),
                ("password", &"p".repeat(17 * 1024)),
            ],
        )
        .await;
    assert_eq!(page.status, 413);
    assert!(
        page.html.contains("That form is too large"),
        "{}",
        page.html
    );
}

/// Generous: the services answer a stalled body after 10 s and a stalled head after 5 s.
const BOUND: Duration = Duration::from_secs(40);

fn assert_timed_out(what: &str, stalled: &Stalled) {
    assert!(
        stalled.answer.starts_with("HTTP/1.1 408"),
        "{what}: answered {:?} after {:?}",
        stalled.answer,
        stalled.elapsed
    );
    assert!(
        stalled.closed,
        "{what}: the connection stays open after {:?}",
        stalled.elapsed
    );
    assert!(
        stalled.elapsed < BOUND,
        "{what}: took {:?}",
        stalled.elapsed
    );
}

#[tokio::test]
async fn a_client_that_stalls_in_its_body_is_answered_408_and_disconnected_by_every_service() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let hr = s.hr_token().await;
    let mut b = Browser::new(&web);
    b.get("/sign-in").await;
    let cookie = b.cookie.clone().unwrap();
    let cases = [
        (
            "auth server",
            s.auth.base_url.clone(),
            format!(
                "POST /oauth/token HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=",
                basic(&s.hr_client.id, &s.hr_client.secret)
            ),
        ),
        (
            "API",
            s.api.base_url.clone(),
            format!(
                "POST /staff HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {hr}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"username\":"
            ),
        ),
        (
            "website",
            web.base_url.clone(),
            format!(
                "POST /sign-in HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ncsrf="
            ),
        ),
    ];
    let results = futures_util::future::join_all(
        cases
            .iter()
            .map(|(_, base, head)| stall_after(base, head, BOUND)),
    )
    .await;
    for ((what, _, _), stalled) in cases.iter().zip(&results) {
        assert_timed_out(what, stalled);
    }
}

#[tokio::test]
async fn a_client_that_stalls_in_its_request_head_is_answered_408_and_disconnected_by_every_service()
 {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let bases = [
        ("auth server", s.auth.base_url.clone()),
        ("API", s.api.base_url.clone()),
        ("website", web.base_url.clone()),
    ];
    let results = futures_util::future::join_all(
        bases
            .iter()
            .map(|(_, base)| stall_after(base, "GET /healthz HTTP/1.1\r\nHost: x\r\n", BOUND)),
    )
    .await;
    for ((what, _), stalled) in bases.iter().zip(&results) {
        assert_timed_out(what, stalled);
    }
}

#[tokio::test]
async fn parallel_sign_ins_from_one_address_cannot_slip_past_the_limit() {
    let s = TestStack::start().await;
    let web = s
        .start_web_configured(&s.api.base_url.clone(), |w| {
            w.serve.max_failed_sign_ins_per_address = 5;
        })
        .await;
    let mut visitors = Vec::new();
    for _ in 0..20 {
        let mut b = Browser::new(&web);
        let form = b.get("/sign-in").await;
        let csrf = hidden(&form.html, "csrf");
        visitors.push((b, csrf));
    }
    let pages = futures_util::future::join_all(visitors.iter_mut().enumerate().map(
        |(i, (b, csrf))| async move {
            let user = format!("sprayed{i}");
            b.post(
                "/sign-in",
                &[
                    ("csrf", csrf.as_str()),
                    ("username", &user),
                    ("password", "Spring2026!"),
                ],
            )
            .await
            .status
        },
    ))
    .await;
    assert_eq!(pages.iter().filter(|s| **s == 200).count(), 5, "{pages:?}");
    assert_eq!(pages.iter().filter(|s| **s == 429).count(), 15, "{pages:?}");
    let text = text_of(&s.http, &s.auth_url("/metrics")).await;
    assert_eq!(
        series(&text, r#"oauth_token_errors_total{error="invalid_grant"}"#),
        Some(5.0)
    );
}

//! Operations, observability: request ids carried from the website to the API and the
//! authorization server and into their log lines; the metrics each service exposes, moved by
//! real traffic; readiness that names the failing check.

use std::time::Duration;

use crate::support::*;

/// The `request_id` of the span a JSON log record was written in.
fn span_request_id(record: &serde_json::Value) -> Option<&str> {
    record["span"]["request_id"].as_str()
}

fn target(record: &serde_json::Value) -> &str {
    record["target"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_request_id_sent_to_the_website_reaches_the_api_and_the_auth_server_logs() {
    capture_logs();
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let id = format!(
        "{MARKER}{}",
        auth_server::oauth::secrets::random_b64(9).replace(['-', '_'], "x")
    );
    // A fresh site fetches its own token at the auth server, then reads the API.
    let r = s
        .http
        .get(web.url("/"))
        .header("X-Request-Id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-request-id"), Some(id.as_str()));
    let all_three = poll_within(Duration::from_secs(30), || {
        std::future::ready({
            let records = logged_with(&id);
            ["directory_web", "directory_api", "auth_server"]
                .iter()
                .all(|service| {
                    records.iter().any(|r| {
                        target(r).starts_with(service) && span_request_id(r) == Some(id.as_str())
                    })
                })
        })
    })
    .await;
    let records = logged_with(&id);
    assert!(
        all_three,
        "every service logs under the id; captured: {records:#?}"
    );
    // The auth server logged the token request, the API the page's read, under the id.
    assert!(
        records
            .iter()
            .any(|r| target(r).starts_with("auth_server") && r["span"]["route"] == "/oauth/token")
    );
    assert!(
        records
            .iter()
            .any(|r| target(r).starts_with("directory_api") && r["span"]["route"] == "/staff")
    );
}

#[tokio::test]
async fn a_signed_in_pages_request_id_reaches_the_introspection_and_the_apis_logs() {
    capture_logs();
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = signed_in(&web, ALICE).await;
    let id = format!(
        "{MARKER}profile-{}",
        auth_server::oauth::secrets::random_b64(9).replace(['-', '_'], "x")
    );
    let page = b
        .send(
            reqwest::Method::GET,
            "/profile",
            None,
            &[("X-Request-Id", &id)],
        )
        .await;
    assert_eq!(page.status, 200);
    let found = poll_within(Duration::from_secs(30), || {
        std::future::ready({
            let records = logged_with(&id);
            let at = |service: &str, route: &str| {
                records.iter().any(|r| {
                    target(r).starts_with(service)
                        && span_request_id(r) == Some(id.as_str())
                        && r["span"]["route"] == route
                })
            };
            at("auth_server", "/oauth/introspect") && at("directory_api", "/me")
        })
    })
    .await;
    assert!(found, "captured: {:#?}", logged_with(&id));
}

#[tokio::test]
async fn the_api_forwards_the_request_id_when_an_unknown_key_makes_it_fetch_the_keys() {
    capture_logs();
    let s = TestStack::start().await;
    let api = fresh_api(&s.auth.base_url, s.auth.clock.now(), |c| {
        c.serve.jwks_min_refetch_secs = 1;
    })
    .await;
    auth_server::admin::rotate_keys(&s.auth.db, s.auth.clock.now())
        .await
        .unwrap();
    // The auth server signs with a new key once it has been published for 20 s.
    s.auth.clock.advance(21);
    api.clock.advance(21);
    let token = s.user_token(ALICE).await;
    // The API refetches at most once a second: ask until it has fetched the new key.
    let prefix = format!(
        "{MARKER}jwks-{}-",
        auth_server::oauth::secrets::random_b64(6).replace(['-', '_'], "x")
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut accepted_as = None;
    for attempt in 0.. {
        let id = format!("{prefix}{attempt}");
        let r = s
            .http
            .get(format!("{}/me", api.base_url))
            .bearer_auth(&token)
            .header("X-Request-Id", &id)
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            accepted_as = Some(id);
            break;
        }
        assert_eq!(r.status(), 401);
        assert!(
            std::time::Instant::now() < deadline,
            "the new key was never fetched"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let id = accepted_as.unwrap();
    let fetched = poll_within(Duration::from_secs(30), || {
        std::future::ready({
            logged_with(&id).iter().any(|r| {
                target(r).starts_with("auth_server")
                    && span_request_id(r) == Some(id.as_str())
                    && r["span"]["route"] == "/.well-known/jwks.json"
            })
        })
    })
    .await;
    assert!(fetched, "captured: {:#?}", logged_with(&prefix));
}

#[tokio::test]
async fn each_service_returns_a_request_id_and_replaces_an_unsafe_one() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    for url in [
        web.url("/healthz"),
        s.api_url("/healthz"),
        s.auth_url("/healthz"),
    ] {
        let kept = s
            .http
            .get(&url)
            .header("X-Request-Id", "caller-chosen.id_1")
            .send()
            .await
            .unwrap();
        assert_eq!(kept.status(), 200);
        assert_eq!(header(&kept, "x-request-id"), Some("caller-chosen.id_1"));
        for unsafe_id in ["has space", "a\"quote", &"x".repeat(65)] {
            let replaced = s
                .http
                .get(&url)
                .header("X-Request-Id", unsafe_id)
                .send()
                .await
                .unwrap();
            let new = header(&replaced, "x-request-id").unwrap();
            assert_eq!(new.len(), 32, "{url}: {new}");
            assert!(new.bytes().all(|b| b.is_ascii_hexdigit()), "{url}: {new}");
        }
        let made = s.http.get(&url).send().await.unwrap();
        assert_eq!(header(&made, "x-request-id").unwrap().len(), 32, "{url}");
    }
}

#[tokio::test]
async fn each_binary_takes_its_log_format_from_a_flag() {
    use clap::Parser as _;
    let auth =
        auth_server::cli::Cli::try_parse_from(["auth-server", "--log-format", "json", "serve"])
            .unwrap();
    assert_eq!(auth.log_format, service_kit::telemetry::LogFormat::Json);
    let api =
        directory_api::cli::Cli::try_parse_from(["directory-api", "--log-format", "json", "serve"])
            .unwrap();
    assert_eq!(api.log_format, service_kit::telemetry::LogFormat::Json);
    let web = directory_web::cli::Cli::try_parse_from([
        "directory-web",
        "--log-format",
        "json",
        "--client-secret",
        "x",
    ])
    .unwrap();
    assert_eq!(web.log_format, service_kit::telemetry::LogFormat::Json);
    let err = directory_web::cli::Cli::try_parse_from(["directory-web", "--log-format", "xml"])
        .unwrap_err();
    assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
}

/// The value of the series `name{labels}` (exactly), or `None`.
#[tokio::test]
async fn the_auth_servers_metrics_count_tokens_errors_reuse_and_throttling() {
    let s = TestStack::start().await;
    s.client_token(&s.web_client, None).await;
    s.client_token(&s.hr_client, None).await;
    let first = s.user_tokens(ALICE).await;
    let old_refresh = first["refresh_token"].as_str().unwrap();
    ok_json(s.refresh(old_refresh, None).await).await;
    // Reuse of the rotated refresh token, after the grace for concurrent refreshes: detected,
    // the family revoked.
    s.auth
        .clock
        .advance(auth_server::config::DEFAULT_REFRESH_REUSE_GRACE_SECS + 1);
    assert_oauth_error(s.refresh(old_refresh, None).await, 400, "invalid_grant").await;
    // Ben's password guessed until the account is locked.
    for _ in 0..5 {
        assert_oauth_error(s.sign_in(BEN.username, "wrong").await, 400, "invalid_grant").await;
    }
    assert_oauth_error(
        s.sign_in(BEN.username, BEN.password).await,
        429,
        "invalid_grant",
    )
    .await;
    let wrong = s.hr_client.guessing();
    assert_oauth_error(s.client_credentials(&wrong).await, 401, "invalid_client").await;

    let text = text_of(&s.http, &s.auth_url("/metrics")).await;
    for (series_name, value) in [
        (
            r#"oauth_tokens_issued_total{grant="client_credentials",client="directory-web"}"#,
            1.0,
        ),
        (
            r#"oauth_tokens_issued_total{grant="client_credentials",client="hr-sync"}"#,
            1.0,
        ),
        (
            r#"oauth_tokens_issued_total{grant="password",client="directory-web"}"#,
            1.0,
        ),
        (
            r#"oauth_tokens_issued_total{grant="refresh_token",client="directory-web"}"#,
            1.0,
        ),
        // One reuse, five wrong passwords, one throttled sign-in.
        (r#"oauth_token_errors_total{error="invalid_grant"}"#, 7.0),
        (r#"oauth_token_errors_total{error="invalid_client"}"#, 1.0),
        ("oauth_refresh_token_reuse_detected_total", 1.0),
        (r#"oauth_throttled_total{kind="user"}"#, 1.0),
        (
            r#"http_request_duration_seconds_count{route="/oauth/token",method="POST",status="200"}"#,
            4.0,
        ),
        (
            r#"http_request_duration_seconds_count{route="/oauth/token",method="POST",status="429"}"#,
            1.0,
        ),
    ] {
        assert_eq!(
            series(&text, series_name),
            Some(value),
            "{series_name} in\n{text}"
        );
    }
}

#[tokio::test]
async fn the_apis_metrics_count_decisions_by_route_token_kind_and_outcome() {
    let s = TestStack::start().await;
    let client = s.web_app_token().await;
    let user = s.user_token(ALICE).await;
    let ben = s.staff_id(BEN.username).await;
    let read = s
        .api(reqwest::Method::GET, "/staff", Some(&client))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    assert_unauthenticated(
        s.api(reqwest::Method::GET, "/staff", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let history = s
        .api(
            reqwest::Method::GET,
            &format!("/staff/{ben}/history"),
            Some(&user),
        )
        .send()
        .await
        .unwrap();
    assert_problem(history, 403, "not_owner").await;
    let me = s
        .api(reqwest::Method::GET, "/me", Some(&user))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    let text = text_of(&s.http, &s.api_url("/metrics")).await;
    for (series_name, value) in [
        (
            r#"api_decisions_total{route="/staff",token_kind="client",outcome="allowed"}"#,
            1.0,
        ),
        (
            r#"api_decisions_total{route="/staff",token_kind="none",outcome="unauthenticated"}"#,
            1.0,
        ),
        (
            r#"api_decisions_total{route="/staff/{id}/history",token_kind="user",outcome="forbidden"}"#,
            1.0,
        ),
        (
            r#"api_decisions_total{route="/me",token_kind="user",outcome="allowed"}"#,
            1.0,
        ),
        (
            r#"http_request_duration_seconds_count{route="/staff",method="GET",status="200"}"#,
            1.0,
        ),
        (
            r#"http_request_duration_seconds_count{route="/staff",method="GET",status="401"}"#,
            1.0,
        ),
    ] {
        assert_eq!(
            series(&text, series_name),
            Some(value),
            "{series_name} in\n{text}"
        );
    }
}

#[tokio::test]
async fn the_websites_metrics_count_pages_and_its_own_token_requests() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    for _ in 0..2 {
        let r = s.http.get(web.url("/")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let missing = s.http.get(web.url("/staff/999999")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let text = text_of(&s.http, &web.url("/metrics")).await;
    for (series_name, value) in [
        (
            r#"http_request_duration_seconds_count{route="/",method="GET",status="200"}"#,
            2.0,
        ),
        (
            r#"http_request_duration_seconds_count{route="/staff/{id}",method="GET",status="404"}"#,
            1.0,
        ),
        ("web_app_token_requests_total", 1.0),
        ("web_sign_ins_throttled_total", 0.0),
    ] {
        assert_eq!(
            series(&text, series_name),
            Some(value),
            "{series_name} in\n{text}"
        );
    }
}

async fn readiness(http: &reqwest::Client, url: &str) -> (u16, Option<String>, serde_json::Value) {
    let r = http.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let retry_after = header(&r, "retry-after").map(str::to_owned);
    assert_eq!(
        header(&r, "content-type"),
        Some("application/json"),
        "{url}"
    );
    (status, retry_after, r.json().await.unwrap())
}

#[tokio::test]
async fn every_service_is_ready_when_its_checks_pass() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    for (url, checks) in [
        (
            s.auth_url("/readyz"),
            serde_json::json!({"database": "ok", "keys": "ok"}),
        ),
        (
            s.api_url("/readyz"),
            serde_json::json!({"database": "ok", "jwks": "ok"}),
        ),
        (
            web.url("/readyz"),
            serde_json::json!({"token": "ok", "api": "ok"}),
        ),
    ] {
        let (status, retry_after, body) = readiness(&s.http, &url).await;
        assert_eq!((status, retry_after), (200, None), "{url}: {body}");
        assert_eq!(
            body,
            serde_json::json!({"status": "ready", "checks": checks}),
            "{url}"
        );
    }
}

#[tokio::test]
async fn the_api_is_not_ready_until_it_has_fetched_the_signing_keys() {
    let s = TestStack::start().await;
    let api = fresh_api(&dead_address(), s.auth.clock.now(), |_| {}).await;
    let (status, retry_after, body) = readiness(&s.http, &format!("{}/readyz", api.base_url)).await;
    assert_eq!((status, retry_after.as_deref()), (503, Some("5")));
    assert_eq!(
        body,
        serde_json::json!({"status": "not ready", "checks": {"database": "ok", "jwks": "failing"}})
    );
}

#[tokio::test]
async fn the_website_is_not_ready_while_its_upstreams_are_out_of_reach() {
    let s = TestStack::start().await;
    let no_api = s.start_web_with_api(&dead_address()).await;
    let (status, retry_after, body) = readiness(&s.http, &no_api.url("/readyz")).await;
    assert_eq!((status, retry_after.as_deref()), (503, Some("5")));
    assert_eq!(
        body,
        serde_json::json!({"status": "not ready", "checks": {"token": "ok", "api": "failing"}})
    );
    s.auth.stop().await;
    let nothing = s.start_web().await;
    let (status, _, body) = readiness(&s.http, &nothing.url("/readyz")).await;
    assert_eq!(status, 503);
    assert_eq!(
        body,
        serde_json::json!({"status": "not ready", "checks": {"token": "failing", "api": "ok"}})
    );
}

#[tokio::test]
async fn the_auth_server_and_the_api_are_not_ready_without_their_database() {
    let http = reqwest::Client::new();
    let clock = std::sync::Arc::new(crate::support::ManualClock::starting_now());
    let auth_db = TestDb::fresh("ready_auth").await;
    let settings =
        auth_server::config::Settings::new(auth_db.url.clone(), "127.0.0.1:0".parse().unwrap());
    let auth = auth_server::startup::Application::build_with_clock(settings, clock.clone())
        .await
        .unwrap();
    let auth_base = format!("http://{}", auth.address());
    let (auth_pool, auth_handle) = (auth.db(), auth.handle());
    tokio::spawn(auth.run_until_stopped());

    let api_db = TestDb::fresh("ready_api").await;
    let settings = directory_api::config::Settings::new(
        api_db.url.clone(),
        "127.0.0.1:0".parse().unwrap(),
        auth_base.clone(),
    );
    let api = directory_api::startup::Application::build(settings)
        .await
        .unwrap();
    let api_base = format!("http://{}", api.address());
    let (api_pool, api_handle) = (api.db(), api.handle());
    tokio::spawn(api.run_until_stopped());

    assert_eq!(readiness(&http, &format!("{api_base}/readyz")).await.0, 200);
    assert_eq!(
        readiness(&http, &format!("{auth_base}/readyz")).await.0,
        200
    );
    auth_pool.close().await;
    api_pool.close().await;
    let (status, retry_after, body) = readiness(&http, &format!("{api_base}/readyz")).await;
    assert_eq!((status, retry_after.as_deref()), (503, Some("5")));
    assert_eq!(
        body,
        serde_json::json!({"status": "not ready", "checks": {"database": "failing", "jwks": "ok"}})
    );
    let (status, retry_after, body) = readiness(&http, &format!("{auth_base}/readyz")).await;
    assert_eq!((status, retry_after.as_deref()), (503, Some("5")));
    assert_eq!(body["status"], "not ready");
    assert_eq!(body["checks"]["database"], "failing", "{body}");
    // Liveness is not readiness: both processes still answer.
    for base in [&auth_base, &api_base] {
        assert_eq!(
            http.get(format!("{base}/healthz"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    api_handle.stop(false).await;
    auth_handle.stop(false).await;
}

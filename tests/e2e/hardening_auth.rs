//! The authorization server's side of the hardening issue: metrics labels (h02), the website's
//! client never locked out (h03), device tokens (h04), no rows for strangers (h05), the bounded
//! hashing queue (h06), trust in the issuer and keys at rest (h11), logs (h12) and the refresh
//! reuse grace (h13). Each case is in docs/security-checklist.md.

use std::time::Duration;

use reqwest::{Method, StatusCode};

use crate::support::*;

/// A password-grant request by the website's client, with a device token when given.
async fn sign_in_with_device(
    s: &TestStack,
    user: TestUser<'_>,
    device_token: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "password"),
        ("username", user.username),
        ("password", user.password),
    ];
    if let Some(token) = device_token {
        form.push(("device_token", token));
    }
    s.token(&s.web_client, &form).await
}

#[tokio::test]
async fn h02_invented_methods_and_unknown_paths_do_not_grow_the_auth_servers_metrics() {
    let s = TestStack::start().await;
    let before = text_of(&s.http, &s.auth_url("/metrics")).await;
    for i in 0..300 {
        let method =
            Method::from_bytes(format!("INVENTED{i}{}", "X".repeat(i % 50)).as_bytes()).unwrap();
        s.http
            .request(method, s.auth_url("/oauth/token"))
            .send()
            .await
            .unwrap();
        s.http
            .get(s.auth_url(&format!("/no/such/path/{i}")))
            .send()
            .await
            .unwrap();
    }
    let after = text_of(&s.http, &s.auth_url("/metrics")).await;
    assert!(
        !after.contains("INVENTED"),
        "an invented method became a label"
    );
    assert!(
        !after.contains("/no/such/path"),
        "a raw path became a label"
    );
    assert!(after.contains(r#"method="other""#), "{after}");
    assert!(after.contains(r#"route="unmatched""#), "{after}");
    // Two new series (other on the token route, GET on unmatched) of one histogram each.
    assert!(
        after.len() < before.len() + 8 * 1024,
        "metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
}

#[tokio::test]
async fn h02_metrics_bind_serves_metrics_on_a_separate_address_only() {
    let s = TestStack::start_with(|settings| {
        settings.serve.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let main = s.http.get(s.auth_url("/metrics")).send().await.unwrap();
    assert_eq!(main.status(), StatusCode::NOT_FOUND);
    let metrics_url = format!("http://{}/metrics", s.auth.metrics_address.unwrap());
    s.client_token(&s.web_client, None).await;
    let text = text_of(&s.http, &metrics_url).await;
    assert_eq!(
        series(
            &text,
            r#"oauth_tokens_issued_total{grant="client_credentials",client="directory-web"}"#
        ),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test]
async fn h03_wrong_secrets_are_counted_per_forwarded_address_from_trusted_proxies_only() {
    let s = TestStack::start_with(|settings| {
        settings.serve.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let guess = |from: &'static str| {
        s.http
            .post(s.auth_url("/oauth/token"))
            .header("Authorization", basic(&s.web_client.id, "guess"))
            .header("X-Forwarded-For", from)
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    for _ in 0..10 {
        assert_oauth_error(guess("203.0.113.9").await.unwrap(), 401, "invalid_client").await;
    }
    let r = guess("203.0.113.9").await.unwrap();
    assert!(header(&r, "retry-after").is_some());
    assert_oauth_error(r, 429, "invalid_client").await;
    // Another visitor behind the same proxy is not throttled by the first one's guesses.
    assert_oauth_error(guess("198.51.100.7").await.unwrap(), 401, "invalid_client").await;
    // And the real client, forwarded from the throttled address, is served.
    let real = s
        .http
        .post(s.auth_url("/oauth/token"))
        .header(
            "Authorization",
            basic(&s.web_client.id, &s.web_client.secret),
        )
        .header("X-Forwarded-For", "203.0.113.9")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(ok_json(real).await["scope"], "directory:read");
}

#[tokio::test]
async fn h04_a_browser_where_the_owner_signed_in_before_is_not_locked_out_by_a_stranger() {
    let s = TestStack::start().await;
    // Alice signs in once from her browser: the answer carries a device token.
    let first = ok_json(sign_in_with_device(&s, ALICE, None).await).await;
    let device = first["device_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_header(&device)["typ"], "device+jwt");
    // A stranger guesses her password five times.
    for _ in 0..5 {
        assert_oauth_error(
            sign_in_with_device(
                &s,
                TestUser {
                    username: ALICE.username,
                    password: "wrong-guess",
                },
                None,
            )
            .await,
            400,
            "invalid_grant",
        )
        .await;
    }
    // Unknown browsers are locked out, even with the right password...
    let r = sign_in_with_device(&s, ALICE, None).await;
    assert!(header(&r, "retry-after").is_some());
    assert_oauth_error(r, 429, "invalid_grant").await;
    // ...but Alice, from her browser, gets in at once, and her device token is renewed.
    let again = ok_json(sign_in_with_device(&s, ALICE, Some(&device)).await).await;
    assert!(again["access_token"].is_string());
    let renewed = again["device_token"].as_str().unwrap();
    // The lock strangers caused still holds for unknown browsers.
    assert_oauth_error(
        sign_in_with_device(&s, ALICE, None).await,
        429,
        "invalid_grant",
    )
    .await;
    // Alice's device token is hers alone: for Ben it is ignored, and Ben's own lock applies.
    for _ in 0..5 {
        sign_in_with_device(
            &s,
            TestUser {
                username: BEN.username,
                password: "wrong-guess",
            },
            None,
        )
        .await;
    }
    assert_oauth_error(
        sign_in_with_device(&s, BEN, Some(renewed)).await,
        429,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn h04_a_known_browser_has_its_own_small_budget_of_failures() {
    let s = TestStack::start().await;
    let device = ok_json(sign_in_with_device(&s, ALICE, None).await).await["device_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..5 {
        assert_oauth_error(
            sign_in_with_device(
                &s,
                TestUser {
                    username: ALICE.username,
                    password: "typo",
                },
                Some(&device),
            )
            .await,
            400,
            "invalid_grant",
        )
        .await;
    }
    // The device has used its budget: it waits, even with the right password...
    let r = sign_in_with_device(&s, ALICE, Some(&device)).await;
    let body = assert_oauth_error(r, 429, "invalid_grant").await;
    assert_eq!(
        body["error_description"],
        "too many failed sign-in attempts from this device; try again later"
    );
    // ...while its failures did not lock the account for other browsers.
    ok_json(sign_in_with_device(&s, ALICE, None).await).await;
    // A forged or altered device token is ignored: the attempt is a stranger's.
    let mut forged = device.clone();
    forged.pop();
    ok_json(sign_in_with_device(&s, ALICE, Some(&forged)).await).await;
    // The window passes: the device may try again.
    s.auth.clock.advance(901);
    ok_json(sign_in_with_device(&s, ALICE, Some(&device)).await).await;
}

#[tokio::test]
async fn h05_unknown_client_ids_write_no_rows_and_are_throttled_in_memory() {
    let s = TestStack::start().await;
    for i in 0..10 {
        let stranger = TestClient {
            id: format!("no-such-client-{i}"),
            secret: "x".into(),
        };
        assert_oauth_error(s.client_credentials(&stranger).await, 401, "invalid_client").await;
    }
    assert_eq!(s.auth.db.throttle_rows().await.unwrap(), 0);
    // The address has used its budget for unknown clients.
    let stranger = TestClient {
        id: "yet-another".into(),
        secret: "x".into(),
    };
    let r = s.client_credentials(&stranger).await;
    assert!(header(&r, "retry-after").is_some());
    assert_oauth_error(r, 429, "invalid_client").await;
    assert_eq!(s.auth.db.throttle_rows().await.unwrap(), 0);
    // Registered clients from the same address are unaffected.
    s.client_token(&s.hr_client, None).await;
    let text = text_of(&s.http, &s.auth_url("/metrics")).await;
    assert_eq!(
        series(
            &text,
            r#"oauth_client_authentication_failures_total{client="unknown"}"#
        ),
        Some(11.0),
        "{text}"
    );
}

#[tokio::test]
async fn h05_expired_throttle_rows_are_purged_on_a_timer() {
    let s = TestStack::start_with(|settings| {
        settings.serve.throttle_purge_secs = 1;
    })
    .await;
    sign_in_with_device(
        &s,
        TestUser {
            username: ALICE.username,
            password: "wrong-guess",
        },
        None,
    )
    .await;
    let wrong = s.hr_client.guessing();
    s.client_credentials(&wrong).await;
    assert_eq!(s.auth.db.throttle_rows().await.unwrap(), 2);
    // Nobody signs in; the windows end; the rows go by themselves.
    s.auth.clock.advance(901);
    poll_until("the expired throttle rows to be purged", || async {
        s.auth.db.throttle_rows().await.unwrap() == 0
    })
    .await;
}

#[tokio::test]
async fn h06_a_burst_beyond_the_hashing_queue_is_shed_with_503_and_the_server_recovers() {
    let s = TestStack::start_with(|settings| {
        settings.serve.password_hash_concurrency = Some(1);
        settings.serve.password_hash_queue = 2;
    })
    .await;
    // Distinct (unknown) usernames, so that no per-username lock interferes.
    let names: Vec<String> = (0..24).map(|i| format!("nobody-{i}")).collect();
    let burst = names.iter().map(|name| {
        sign_in_with_device(
            &s,
            TestUser {
                username: name.as_str(),
                password: "some password",
            },
            None,
        )
    });
    let answers = futures_util::future::join_all(burst).await;
    let mut shed = 0u32;
    let mut checked = 0;
    for r in answers {
        match r.status() {
            StatusCode::BAD_REQUEST => {
                assert_oauth_error(r, 400, "invalid_grant").await;
                checked += 1;
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(header(&r, "retry-after"), Some("1"));
                assert_no_store(&r);
                let body = r.json::<serde_json::Value>().await.unwrap();
                assert_eq!(body["error"], "temporarily_unavailable");
                shed += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(shed > 0, "nothing was shed");
    assert!(checked >= 1, "nothing was checked");
    // A shed attempt changed nothing: no row was written for it, only for the checked ones.
    let counted = raw_column(s.auth.db_url(), "SELECT subject FROM auth_throttle").await;
    assert_eq!(counted.len(), checked, "{counted:?}");
    // The burst is over: sign-ins are served again.
    ok_json(sign_in_with_device(&s, ALICE, None).await).await;
    let text = text_of(&s.http, &s.auth_url("/metrics")).await;
    assert_eq!(
        series(&text, "password_hashes_shed_total"),
        Some(f64::from(shed)),
        "{text}"
    );
}

#[tokio::test]
async fn h06_a_queued_hash_whose_requester_has_gone_is_skipped() {
    let s = TestStack::start_with(|settings| {
        settings.serve.password_hash_concurrency = Some(1);
        settings.serve.password_hash_queue = 64;
    })
    .await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(30))
        .build()
        .unwrap();
    // Distinct usernames, so that every request queues a hash (none is refused by a lock).
    let tries = std::sync::atomic::AtomicUsize::new(0);
    let burst = || {
        let t = tries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let names: Vec<String> = (0..40).map(|i| format!("impatient-{t}-{i}")).collect();
        let impatient = impatient.clone();
        let (url, auth) = (
            s.auth_url("/oauth/token"),
            basic(&s.web_client.id, &s.web_client.secret),
        );
        async move {
            let sent = names.iter().map(|name| {
                impatient
                    .post(&url)
                    .header("Authorization", &auth)
                    .form(&[
                        ("grant_type", "password"),
                        ("username", name.as_str()),
                        ("password", "some password"),
                    ])
                    .send()
            });
            futures_util::future::join_all(sent).await
        }
    };
    // On a loaded machine a whole burst can give up before the server has read any of it, so
    // that nothing was queued to skip: the burst is sent again until a skip is counted.
    poll_until(
        "a queued hash whose requester has gone to be skipped",
        || {
            let answers = burst();
            async {
                let gave_up = answers.await.iter().any(|r| r.is_err());
                // Each burst is given time for the hashing thread to reach what it queued.
                gave_up
                    && poll_within(Duration::from_secs(5), || async {
                        let text = text_of(&s.http, &s.auth_url("/metrics")).await;
                        series(&text, "password_hashes_skipped_total").is_some_and(|n| n >= 1.0)
                    })
                    .await
            }
        },
    )
    .await;
    ok_json(sign_in_with_device(&s, ALICE, None).await).await;
}

#[tokio::test]
async fn h11_the_auth_server_refuses_a_plain_http_issuer_that_is_not_loopback() {
    for issuer in ["http://auth.example.ac.uk", "http://10.1.2.3:8082"] {
        let db = TestDb::fresh("issuer").await;
        let mut settings =
            auth_server::config::Settings::new(db.url.clone(), "127.0.0.1:0".parse().unwrap());
        settings.serve.issuer = Some(issuer.into());
        let err = auth_server::startup::Application::build(settings)
            .await
            .err()
            .expect("a plain-http issuer off loopback is refused");
        let text = format!("{err:#}");
        assert!(text.contains(issuer) && text.contains("https://"), "{text}");
    }
    // Without --issuer, binding a public address would make one: refused too.
    let db = TestDb::fresh("issuer").await;
    let settings = auth_server::config::Settings::new(db.url.clone(), "0.0.0.0:0".parse().unwrap());
    assert!(
        auth_server::startup::Application::build(settings)
            .await
            .is_err()
    );
    // https anywhere, and http on loopback, are accepted.
    let db = TestDb::fresh("issuer").await;
    let mut settings =
        auth_server::config::Settings::new(db.url.clone(), "127.0.0.1:0".parse().unwrap());
    settings.serve.issuer = Some("https://auth.example.ac.uk".into());
    let app = auth_server::startup::Application::build(settings)
        .await
        .unwrap();
    assert_eq!(app.issuer(), "https://auth.example.ac.uk");
}

/// One text column of a query, read straight from the database, past the server's code.
async fn raw_column(url: &str, sql: &'static str) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let values = sqlx::query_scalar::<_, String>(sql)
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    values
}

#[tokio::test]
async fn h11_signing_keys_are_encrypted_at_rest_with_a_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let kek = dir.path().join("kek");
    std::fs::write(&kek, format!("{}\n", "5a".repeat(32))).unwrap();
    let db = TestDb::fresh("kek").await;
    // A database first written without encryption...
    let plain = auth_server::config::Settings::new(db.url.clone(), "127.0.0.1:0".parse().unwrap());
    drop(
        auth_server::startup::Application::build(plain)
            .await
            .unwrap(),
    );
    let keys = raw_column(&db.url, "SELECT private_key FROM signing_keys").await;
    assert!(keys.iter().all(|k| !k.starts_with("enc:v1:")), "{keys:?}");
    // ...is sealed when the server starts with a key-encryption key, and serves tokens.
    let mut sealed =
        auth_server::config::Settings::new(db.url.clone(), "127.0.0.1:0".parse().unwrap());
    sealed.key_encryption_key_file = Some(kek.clone());
    let app = auth_server::startup::Application::build(sealed.clone())
        .await
        .unwrap();
    let base = format!("http://{}", app.address());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let keys = raw_column(&db.url, "SELECT private_key FROM signing_keys").await;
    assert!(
        !keys.is_empty() && keys.iter().all(|k| k.starts_with("enc:v1:")),
        "{keys:?}"
    );
    let secrets = raw_column(&db.url, "SELECT value FROM server_secrets").await;
    assert!(
        secrets.iter().all(|v| v.starts_with("enc:v1:")),
        "{secrets:?}"
    );
    let jwks = reqwest::get(format!("{base}/.well-known/jwks.json"))
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    handle.stop(false).await;
    // Without the key file, or with another key, the server refuses to start, and says why.
    let without =
        auth_server::config::Settings::new(db.url.clone(), "127.0.0.1:0".parse().unwrap());
    let err = format!(
        "{:#}",
        auth_server::startup::Application::build(without)
            .await
            .err()
            .unwrap()
    );
    assert!(err.contains("--key-encryption-key-file"), "{err}");
    let other = dir.path().join("other");
    std::fs::write(&other, "a5".repeat(32)).unwrap();
    let mut wrong = sealed.clone();
    wrong.key_encryption_key_file = Some(other);
    let err = format!(
        "{:#}",
        auth_server::startup::Application::build(wrong)
            .await
            .err()
            .unwrap()
    );
    assert!(err.contains("cannot be decrypted"), "{err}");
}

#[tokio::test]
async fn h12_logs_hold_no_typed_unknown_username_and_quote_client_ids() {
    capture_logs();
    let s = TestStack::start().await;
    let rid = "ops-rid-h12-logs";
    // Someone types their password into the username box.
    let typed = "Tr0ub4dor&3 horse";
    let r = s
        .http
        .post(s.auth_url("/oauth/token"))
        .header("X-Request-Id", rid)
        .header(
            "Authorization",
            basic(&s.web_client.id, &s.web_client.secret),
        )
        .form(&[
            ("grant_type", "password"),
            ("username", typed),
            ("password", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "invalid_grant").await;
    // A client id that tries to plant a fake key=value pair in a text log line.
    let rid2 = "ops-rid-h12-client";
    let planted = "x admin=true";
    let r = s
        .http
        .post(s.auth_url("/oauth/token"))
        .header("X-Request-Id", rid2)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", planted),
            ("client_secret", "y"),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 401, "invalid_client").await;
    let lines = logged_with(rid);
    assert!(
        lines.iter().all(|l| !l.to_string().contains("Tr0ub4dor")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l["fields"]["username_hash"]
            .as_str()
            .is_some_and(|h| h.len() == 16)),
        "{lines:#?}"
    );
    let lines = logged_with(rid2);
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["client_id"] == format!("{planted:?}")),
        "the client id is logged quoted: {lines:#?}"
    );
}

#[tokio::test]
async fn h13_a_reuse_grace_of_zero_revokes_the_sign_in_on_any_replay() {
    let s = TestStack::start_with(|settings| {
        settings.serve.refresh_reuse_grace_secs = 0;
    })
    .await;
    let tokens = s.user_tokens(ALICE).await;
    let old = tokens["refresh_token"].as_str().unwrap();
    let rotated = ok_json(s.refresh(old, None).await).await;
    // The same second: with the default grace this would be forgiven; here it is reuse.
    assert_oauth_error(s.refresh(old, None).await, 400, "invalid_grant").await;
    assert_oauth_error(
        s.refresh(rotated["refresh_token"].as_str().unwrap(), None)
            .await,
        400,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn h13_within_the_default_grace_a_replay_is_refused_but_the_sign_in_lives() {
    let s = TestStack::start().await;
    let tokens = s.user_tokens(ALICE).await;
    let old = tokens["refresh_token"].as_str().unwrap();
    let rotated = ok_json(s.refresh(old, None).await).await;
    s.auth.clock.advance(2);
    assert_oauth_error(s.refresh(old, None).await, 400, "invalid_grant").await;
    let live = ok_json(
        s.refresh(rotated["refresh_token"].as_str().unwrap(), None)
            .await,
    )
    .await;
    // Past the grace, the same replay is reuse and ends the sign-in.
    s.auth.clock.advance(3);
    assert_oauth_error(
        s.refresh(rotated["refresh_token"].as_str().unwrap(), None)
            .await,
        400,
        "invalid_grant",
    )
    .await;
    assert_oauth_error(
        s.refresh(live["refresh_token"].as_str().unwrap(), None)
            .await,
        400,
        "invalid_grant",
    )
    .await;
}

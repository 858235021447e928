//! The authorization server's side of the authorization code flow with PKCE (RFC 6749 §4.1,
//! RFC 7636, RFC 9207), at the HTTP level: the sign-in page, its form, the redirect back, the
//! code exchange, and every refusal of issue 14.

use serde_json::Value;

use crate::support::requests::{
    Pkce, SignInPage, TEST_CALLBACK, authorization_code_grant, authorize_query, location_params,
    param, set_cookies, with_param,
};
use crate::support::*;

/// A stack whose web client has [`TEST_CALLBACK`] registered.
async fn stack() -> TestStack {
    let s = TestStack::start().await;
    s.register_redirect_uri(TEST_CALLBACK).await;
    s
}

fn query(s: &TestStack, pkce: &Pkce) -> Vec<(String, String)> {
    authorize_query(&s.web_client.id, TEST_CALLBACK, "state-1", pkce)
}

/// Asserts the headers of every page of the endpoint.
fn assert_page_headers(r: &reqwest::Response) {
    assert_no_store(r);
    let csp = header(r, "content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(header(r, "x-frame-options"), Some("DENY"));
    assert_eq!(header(r, "referrer-policy"), Some("no-referrer"));
}

/// Asserts an error page: `status`, the page's headers, and no redirect.
async fn assert_error_page(r: reqwest::Response, status: u16) -> String {
    assert_eq!(r.status().as_u16(), status);
    assert!(
        header(&r, "location").is_none(),
        "an error page never redirects"
    );
    assert_page_headers(&r);
    assert!(header(&r, "content-type").unwrap().starts_with("text/html"));
    r.text().await.unwrap()
}

/// Asserts a 303 back to [`TEST_CALLBACK`] with `error`, `state` and `iss`.
fn assert_error_redirect(s: &TestStack, r: &reqwest::Response, error: &str, state: Option<&str>) {
    assert_eq!(r.status(), 303);
    let (base, params) = location_params(r);
    assert_eq!(base, TEST_CALLBACK);
    assert_eq!(param(&params, "error"), Some(error));
    assert_eq!(param(&params, "state"), state);
    assert_eq!(param(&params, "iss"), Some(s.auth.base_url.as_str()));
    assert_eq!(param(&params, "code"), None);
}

#[tokio::test]
async fn code_flow_signs_a_person_in_and_issues_a_user_token_and_a_refresh_token() {
    let s = stack().await;
    let pkce = Pkce::new();
    let q = query(&s, &pkce);
    let r = s.authorize(&q).await;
    assert_page_headers(&r);
    let csp = header(&r, "content-security-policy").unwrap().to_owned();
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:9"),
        "{csp}"
    );
    let page = SignInPage::read(r).await;
    // It names the application and what it asks for, in plain words, with labelled fields.
    assert!(page.html.contains("directory-web"));
    assert!(page.html.contains("read the staff directory"));
    assert!(
        page.html
            .contains("change the fields of your own directory record")
    );
    assert!(page.html.contains(r#"<label for="username">"#));
    assert!(page.html.contains(r#"<label for="password">"#));
    assert!(page.cookies.starts_with("as-sign-in-form="));
    assert_eq!(page.field("state"), "state-1");
    assert_eq!(page.field("code_challenge"), pkce.challenge);
    // Its one stylesheet is served by the auth server itself (the CSP allows nothing else).
    let css = s
        .http
        .get(s.auth_url("/static/sign-in.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(
        header(&css, "content-type"),
        Some("text/css; charset=utf-8")
    );

    let r = s.submit_sign_in(&page.form(ALICE), &page.cookies).await;
    assert_eq!(r.status(), 303);
    assert_no_store(&r);
    assert!(set_cookies(&r).contains("as-device="));
    // Cookies ignore ports: none of the auth server's bears a name the website uses.
    for cookie in format!("{}; {}", page.cookies, set_cookies(&r)).split("; ") {
        let name = cookie.split('=').next().unwrap();
        assert!(name.starts_with("as-"), "{name}");
    }
    let (base, params) = location_params(&r);
    assert_eq!(base, TEST_CALLBACK);
    assert_eq!(param(&params, "state"), Some("state-1"));
    assert_eq!(param(&params, "iss"), Some(s.auth.base_url.as_str()));
    let code = param(&params, "code").unwrap();
    assert!(code.len() >= 22, "at least 128 bits");

    let tokens = ok_json(s.exchange_code(code, TEST_CALLBACK, &pkce.verifier).await).await;
    let access = tokens["access_token"].as_str().unwrap();
    let c = claims(access);
    assert_eq!(c["token_kind"], "user");
    assert_eq!(c["sub"], ALICE.username);
    assert_eq!(c["client_id"], s.web_client.id);
    assert_eq!(tokens["scope"], "directory:read profile:write");
    assert!(tokens["device_token"].is_null());
    let refresh = tokens["refresh_token"].as_str().unwrap();
    // The token works at the API, and the refresh token rotates like any other.
    let me = s.get_json("/me", Some(access)).await;
    assert_eq!(me["username"], ALICE.username);
    ok_json(s.refresh(refresh, None).await).await;
    let metrics = text_of(&s.http, &s.auth_url("/metrics")).await;
    assert_eq!(
        series(
            &metrics,
            r#"oauth_tokens_issued_total{grant="authorization_code",client="directory-web"}"#
        ),
        Some(1.0)
    );
}

#[tokio::test]
async fn the_code_flow_completes_with_the_oauth2_crate_as_client() {
    use oauth2::basic::BasicClient;
    use oauth2::{
        AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
        RedirectUrl, Scope, TokenResponse as _, TokenUrl,
    };
    let s = stack().await;
    let client = BasicClient::new(ClientId::new(s.web_client.id.clone()))
        .set_client_secret(ClientSecret::new(s.web_client.secret.clone()))
        .set_auth_uri(AuthUrl::new(s.auth_url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(s.auth_url("/oauth/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(TEST_CALLBACK.to_owned()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("directory:read".into()))
        .add_scope(Scope::new("profile:write".into()))
        .set_pkce_challenge(challenge)
        .url();
    let query: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let params = s.code_redirect(&query, BEN).await;
    assert_eq!(param(&params, "state"), Some(csrf.secret().as_str()));
    assert_eq!(param(&params, "iss"), Some(s.auth.base_url.as_str()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = client
        .exchange_code(AuthorizationCode::new(
            param(&params, "code").unwrap().into(),
        ))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(claims(token.access_token().secret())["sub"], BEN.username);
    assert!(token.refresh_token().is_some());
}

#[tokio::test]
async fn pkce_is_required_and_plain_is_refused_back_at_the_redirect_uri() {
    let s = stack().await;
    let pkce = Pkce::new();
    let q = query(&s, &pkce);
    for broken in [
        with_param(&q, "code_challenge", None),
        with_param(&q, "code_challenge_method", None),
        with_param(&q, "code_challenge_method", Some("plain")),
        with_param(&q, "code_challenge", Some("too-short")),
    ] {
        let r = s.authorize(&broken).await;
        assert_error_redirect(&s, &r, "invalid_request", Some("state-1"));
        assert_page_headers(&r);
    }
    let r = s
        .authorize(&with_param(&q, "response_type", Some("token")))
        .await;
    assert_error_redirect(&s, &r, "unsupported_response_type", Some("state-1"));
    let r = s
        .authorize(&with_param(&q, "scope", Some("directory:admin")))
        .await;
    assert_error_redirect(&s, &r, "invalid_scope", Some("state-1"));
    let r = s.authorize(&with_param(&q, "state", None)).await;
    assert_eq!(r.status(), 200, "state is optional");
}

#[tokio::test]
async fn a_wrong_or_missing_verifier_is_refused() {
    let s = stack().await;
    let pkce = Pkce::new();
    let code = s.code_for(ALICE, &pkce).await;
    let other = Pkce::new();
    assert_oauth_error(
        s.exchange_code(&code, TEST_CALLBACK, &other.verifier).await,
        400,
        "invalid_grant",
    )
    .await;
    assert_oauth_error(
        s.token(
            &s.web_client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", TEST_CALLBACK),
            ],
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    // The challenge itself is not a verifier (what `plain` would accept).
    assert_oauth_error(
        s.exchange_code(&code, TEST_CALLBACK, &pkce.challenge).await,
        400,
        "invalid_grant",
    )
    .await;
    // None of that used the code up.
    ok_json(s.exchange_code(&code, TEST_CALLBACK, &pkce.verifier).await).await;
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_its_first_use_issued() {
    let s = stack().await;
    let pkce = Pkce::new();
    let code = s.code_for(ALICE, &pkce).await;
    let first = ok_json(s.exchange_code(&code, TEST_CALLBACK, &pkce.verifier).await).await;
    assert_oauth_error(
        s.exchange_code(&code, TEST_CALLBACK, &pkce.verifier).await,
        400,
        "invalid_grant",
    )
    .await;
    // RFC 6749 §4.1.2: the refresh token and the access token the first use issued are dead.
    assert_oauth_error(
        s.refresh(first["refresh_token"].as_str().unwrap(), None)
            .await,
        400,
        "invalid_grant",
    )
    .await;
    let seen = s
        .introspect(&s.web_client, first["access_token"].as_str().unwrap())
        .await;
    assert_eq!(seen, serde_json::json!({"active": false}));
    let metrics = text_of(&s.http, &s.auth_url("/metrics")).await;
    assert_eq!(
        series(&metrics, "oauth_authorization_code_replays_total"),
        Some(1.0)
    );
}

#[tokio::test]
async fn a_code_is_bound_to_its_client_and_its_redirect_uri() {
    let s = stack().await;
    let pkce = Pkce::new();
    let code = s.code_for(ALICE, &pkce).await;
    let mut policy = staff_directory::demo::web_policy().unwrap();
    policy.password = None;
    let other = s.register_client("other-app", policy).await;
    assert_oauth_error(
        authorization_code_grant(
            &s.http,
            &s.auth.base_url,
            &other,
            &code,
            TEST_CALLBACK,
            &pkce.verifier,
        )
        .send()
        .await
        .unwrap(),
        400,
        "invalid_grant",
    )
    .await;
    for wrong in [
        "http://127.0.0.1:9/sign-in/callback?x=1",
        "http://127.0.0.1:9/other",
    ] {
        assert_oauth_error(
            s.exchange_code(&code, wrong, &pkce.verifier).await,
            400,
            "invalid_grant",
        )
        .await;
    }
    assert_oauth_error(
        s.token(
            &s.web_client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", &pkce.verifier),
            ],
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    // Still the one good redemption left: nothing above revoked or used it.
    ok_json(s.exchange_code(&code, TEST_CALLBACK, &pkce.verifier).await).await;
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let s = stack().await;
    let pkce = Pkce::new();
    let code = s.code_for(ALICE, &pkce).await;
    s.advance_clocks(60);
    assert_oauth_error(
        s.exchange_code(&code, TEST_CALLBACK, &pkce.verifier).await,
        400,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn unregistered_and_look_alike_redirect_uris_get_a_page_and_are_never_redirected_to() {
    let s = stack().await;
    let pkce = Pkce::new();
    let q = query(&s, &pkce);
    for uri in [
        "http://127.0.0.1:9/sign-in/callback/../x",
        "http://127.0.0.1:9/sign-in/callback?next=/x",
        "http://evil.example/sign-in/callback",
        "http://127.0.0.1:10/sign-in/callback",
        "http://localhost:9/sign-in/callback",
    ] {
        // Even with another error in the request, the page is shown, not a redirect.
        let broken = with_param(
            &with_param(&q, "redirect_uri", Some(uri)),
            "response_type",
            Some("token"),
        );
        let html = assert_error_page(s.authorize(&broken).await, 400).await;
        assert!(!html.contains("evil.example"), "the page never links to it");
    }
    assert_error_page(
        s.authorize(&with_param(&q, "redirect_uri", None)).await,
        400,
    )
    .await;
    assert_error_page(
        s.authorize(&with_param(&q, "client_id", Some("nobody")))
            .await,
        400,
    )
    .await;
    assert_error_page(s.authorize(&with_param(&q, "client_id", None)).await, 400).await;
    // A client without the grant (the HR job) gets the page too.
    let hr = with_param(&q, "client_id", Some(&s.hr_client.id));
    assert_error_page(s.authorize(&hr).await, 400).await;
    // A repeated parameter is malformed.
    let mut twice = q.clone();
    twice.push(("redirect_uri".into(), "http://evil.example/cb".into()));
    assert_error_page(s.authorize(&twice).await, 400).await;
}

#[tokio::test]
async fn the_sign_in_form_refuses_login_csrf() {
    let s = stack().await;
    let pkce = Pkce::new();
    let page = s.sign_in_page(&query(&s, &pkce)).await;
    // Another site can make a browser post the form, but not with this browser's cookie and
    // the token made for it.
    let other = s.sign_in_page(&query(&s, &pkce)).await;
    for (form, cookies) in [
        (page.form(ALICE), String::new()),
        (page.form(ALICE), other.cookies.clone()),
        (
            with_param(&page.form(ALICE), "csrf", None),
            page.cookies.clone(),
        ),
        (
            with_param(&page.form(ALICE), "csrf", Some("4102444800.AAAA")),
            page.cookies.clone(),
        ),
    ] {
        let html = assert_error_page(s.submit_sign_in(&form, &cookies).await, 403).await;
        assert!(html.contains("expired or was not sent from this page"));
    }
    // The form itself still works.
    let r = s.submit_sign_in(&page.form(ALICE), &page.cookies).await;
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn a_wrong_password_stays_on_the_page_with_a_clear_message_and_the_same_request() {
    let s = stack().await;
    let pkce = Pkce::new();
    let page = s.sign_in_page(&query(&s, &pkce)).await;
    let wrong = TestUser {
        username: ALICE.username,
        password: "not-her-password",
    };
    let r = s.submit_sign_in(&page.form(wrong), &page.cookies).await;
    assert_eq!(r.status(), 200);
    assert_page_headers(&r);
    let again = SignInPage::read(r).await;
    assert!(
        again
            .html
            .contains("The username or password is incorrect.")
    );
    assert!(again.html.contains(r#"role="alert""#));
    assert!(
        again
            .html
            .contains(&format!(r#"value="{}""#, ALICE.username))
    );
    assert_eq!(again.field("state"), "state-1");
    assert_eq!(again.field("code_challenge"), pkce.challenge);
    // Cancelling sends the person back with access_denied.
    let mut cancel = again.fields.clone();
    cancel.push(("action".into(), "cancel".into()));
    let r = s.submit_sign_in(&cancel, &page.cookies).await;
    assert_error_redirect(&s, &r, "access_denied", Some("state-1"));
}

#[tokio::test]
async fn the_sign_in_page_is_throttled_like_the_password_grant() {
    let s = stack().await;
    let pkce = Pkce::new();
    let page = s.sign_in_page(&query(&s, &pkce)).await;
    let wrong = TestUser {
        username: ALICE.username,
        password: "not-her-password",
    };
    // Failures on the page and through the password grant count together.
    for _ in 0..3 {
        let r = s.submit_sign_in(&page.form(wrong), &page.cookies).await;
        assert_eq!(r.status(), 200);
    }
    for _ in 0..2 {
        s.sign_in(ALICE.username, wrong.password).await;
    }
    let r = s.submit_sign_in(&page.form(ALICE), &page.cookies).await;
    assert_eq!(r.status(), 429);
    assert!(header(&r, "retry-after").is_some());
    assert!(header(&r, "location").is_none());
    let html = r.text().await.unwrap();
    assert!(html.contains("Too many failed sign-in attempts"));
    assert_oauth_error(
        s.sign_in(ALICE.username, ALICE.password).await,
        429,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn metadata_advertises_the_authorization_endpoint_pkce_and_iss() {
    let s = TestStack::start().await;
    let r = s
        .http
        .get(s.auth_url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    let m: Value = r.json().await.unwrap();
    assert_eq!(
        m["authorization_endpoint"],
        format!("{}/oauth/authorize", s.auth.base_url)
    );
    assert_eq!(m["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        m["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
    assert!(
        m["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&"authorization_code".into())
    );
}

#[tokio::test]
async fn a_code_of_a_person_disabled_since_it_was_issued_is_refused() {
    let s = stack().await;
    let pkce = Pkce::new();
    let code = s.code_for(ALICE, &pkce).await;
    let alice = auth_server::oauth::username::Username::parse(ALICE.username).unwrap();
    s.auth
        .db
        .disable_user(&alice, s.auth.clock.now())
        .await
        .unwrap();
    assert_oauth_error(
        s.exchange_code(&code, TEST_CALLBACK, &pkce.verifier).await,
        400,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn expired_codes_are_purged_on_the_timer() {
    let s = TestStack::start_with(|settings| settings.serve.throttle_purge_secs = 1).await;
    let pkce = Pkce::new();
    s.code_for(ALICE, &pkce).await;
    assert_eq!(s.auth.db.code_rows().await.unwrap(), 1);
    // Kept ten minutes past its expiry, so that a late replay is still recognised.
    s.advance_clocks(60 + 600 + 1);
    poll_until("the expired code to be purged", || async {
        s.auth.db.code_rows().await.unwrap() == 0
    })
    .await;
}

#[tokio::test]
async fn client_create_and_update_register_the_redirect_uris_the_page_accepts() {
    let s = TestStack::start().await;
    let url = s.auth.db_url().to_owned();
    let run = |args: &'static [&'static str]| admin(url.clone(), args);
    const FIRST: &str = "https://portal.example.edu/cb";
    const SECOND: &str = "https://portal.example.edu/cb2";
    assert!(
        run(&[
            "client",
            "create",
            "portal",
            "--authorization-code-scopes",
            "directory:read",
            "--redirect-uri",
            "http://portal.example.edu/cb",
        ])
        .await
        .is_err(),
        "cleartext off loopback"
    );
    run(&[
        "client",
        "create",
        "portal",
        "--authorization-code-scopes",
        "directory:read",
        "--redirect-uri",
        FIRST,
    ])
    .await
    .unwrap();
    let pkce = Pkce::new();
    let page = |uri: &str| authorize_query("portal", uri, "s", &pkce);
    assert_eq!(s.authorize(&page(FIRST)).await.status(), 200);
    run(&["client", "update", "portal", "--redirect-uri", SECOND])
        .await
        .unwrap();
    assert_error_page(s.authorize(&page(FIRST)).await, 400).await;
    assert_eq!(s.authorize(&page(SECOND)).await.status(), 200);
    assert!(
        run(&["client", "update", "nobody", "--redirect-uri", SECOND])
            .await
            .is_err()
    );
}

/// Runs an admin command of `auth-server` on the database at `db_url`.
async fn admin(db_url: String, args: &[&str]) -> anyhow::Result<()> {
    use clap::Parser as _;
    let mut argv = vec!["auth-server", "--database-url", db_url.as_str()];
    argv.extend_from_slice(args);
    auth_server::cli::run(auth_server::cli::Cli::try_parse_from(argv)?).await
}

#[tokio::test]
async fn the_demo_seeds_the_web_apps_redirect_uri_following_its_bind_address() {
    use auth_server::oauth::client_auth::ClientId;
    use auth_server::oauth::policy::GrantType;
    let db = TestDb::fresh("demo").await;
    let auth = staff_directory::seed::auth_database(&db.url).await.unwrap();
    let web = ClientId::parse(staff_directory::demo::WEB_CLIENT_ID).unwrap();
    staff_directory::demo::seed_auth_for(&auth, "127.0.0.1:9090".parse().unwrap(), 0)
        .await
        .unwrap();
    let uris = |list: Vec<auth_server::oauth::redirect_uri::RedirectUri>| {
        list.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    assert_eq!(
        uris(auth.redirect_uris(&web).await.unwrap()),
        ["http://127.0.0.1:9090/sign-in/callback"]
    );
    let record = auth.client(&web).await.unwrap().unwrap();
    let row = record.policy.row(GrantType::AuthorizationCode).unwrap();
    assert_eq!(row.allowed().to_string(), "directory:read profile:write");
    // Started again on the default address, the demo adds that one and changes nothing else.
    staff_directory::demo::seed_auth(&auth, 0).await.unwrap();
    assert_eq!(
        uris(auth.redirect_uris(&web).await.unwrap()),
        [
            "http://127.0.0.1:8080/sign-in/callback",
            "http://127.0.0.1:9090/sign-in/callback"
        ]
    );
    assert_eq!(
        auth.client(&web).await.unwrap().unwrap().secret_hash,
        record.secret_hash
    );
    auth.close().await;
}

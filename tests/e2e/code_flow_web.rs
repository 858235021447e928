//! The website's side of the authorization code flow with PKCE (issue 14): the sign-in page's
//! two ways in, `/sign-in/start`'s authorization request, the callback's refusals (forged
//! `state`, mix-up `iss`, errors, refused codes), `--sign-in-methods`, the return path that
//! never leaves the site, and the whole flow through the auth server's own page.

use clap::Parser as _;

use crate::support::requests::{SignInPage, location_params, param};
use crate::support::*;

/// The session is not signed in: the profile sends it to the sign-in page.
async fn assert_signed_out(b: &mut Browser<'_>) {
    let r = b.get("/profile").await;
    assert_eq!(r.status, 303, "{}", r.html);
    assert_eq!(r.location.as_deref(), Some("/sign-in"));
}

#[tokio::test]
async fn the_sign_in_page_offers_the_university_login_first_then_the_password_form() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let page = Browser::new(&web).get("/sign-in").await;
    assert_eq!(page.status, 200);
    let university = page
        .html
        .find("href=\"/sign-in/start\"")
        .expect("the university login is offered");
    let password = page
        .html
        .find("action=\"/sign-in\"")
        .expect("the password form is offered");
    assert!(university < password, "the code flow comes first");
    assert!(page.html.contains("Sign in with the university login"));
    // The password form says what it is.
    let form_part = &page.html[page.html.find("id=\"sign-in-password\"").unwrap()..];
    assert!(form_part.contains("2013 design") && form_part.contains("rfc9700#section-2.4"));
}

#[tokio::test]
async fn sign_in_start_redirects_with_s256_pkce_state_scopes_and_the_callback() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = Browser::new(&web);
    let first = start_code_flow(&mut b, None).await;
    assert_eq!(first.endpoint, s.auth_url("/oauth/authorize"));
    assert_eq!(first.param("response_type"), "code");
    assert_eq!(first.param("client_id"), s.web_client.id);
    assert_eq!(
        first.param("redirect_uri"),
        web.url("/sign-in/callback"),
        "the public URL with the real port"
    );
    assert_eq!(first.param("scope"), "directory:read profile:write");
    assert_eq!(first.param("code_challenge_method"), "S256");
    // RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters, no padding.
    let challenge = first.param("code_challenge");
    assert_eq!(challenge.len(), 43, "{challenge}");
    assert!(
        challenge
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    assert!(first.param("state").len() >= 22, "at least 128 bits");
    assert!(b.cookie.is_some(), "the state is held in the session");
    // Each start is a fresh state and a fresh verifier.
    let second = start_code_flow(&mut b, None).await;
    assert_ne!(first.param("state"), second.param("state"));
    assert_ne!(
        first.param("code_challenge"),
        second.param("code_challenge")
    );
    // The verifier never leaves the site before the token request.
    assert!(!second.location.contains("code_verifier"));
}

#[tokio::test]
async fn a_forged_or_missing_state_at_the_callback_signs_no_one_in() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let issuer = s.auth.base_url.clone();
    // No sign-in started in this browser at all.
    let mut stranger = Browser::new(&web);
    let r = stranger
        .get(&callback_path(&[
            ("code", "attackers-code"),
            ("state", "anything"),
            ("iss", issuer.as_str()),
        ]))
        .await;
    assert_eq!(r.status, 400, "{}", r.html);
    assert!(r.html.contains("was not started here"));
    assert_signed_out(&mut stranger).await;

    let mut b = Browser::new(&web);
    let started = start_code_flow(&mut b, None).await;
    for params in [
        vec![
            ("code", "attackers-code"),
            ("state", "forged"),
            ("iss", issuer.as_str()),
        ],
        vec![("code", "attackers-code"), ("iss", issuer.as_str())],
    ] {
        let r = b.get(&callback_path(&params)).await;
        assert_eq!(r.status, 400, "{}", r.html);
        assert!(r.html.contains("Nobody was signed in"));
        assert_signed_out(&mut b).await;
    }
    // A state serves one callback whatever its outcome: the genuine one is spent too.
    let r = b
        .get(&callback_path(&[
            ("code", "c"),
            ("state", started.param("state")),
            ("iss", issuer.as_str()),
        ]))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.html.contains("was not started here"));
}

#[tokio::test]
async fn a_wrong_or_missing_iss_at_the_callback_is_refused_as_a_mix_up() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = Browser::new(&web);
    let other_issuer = format!("{}/", s.auth.base_url);
    for iss in [
        Some("http://127.0.0.1:9"),
        Some(other_issuer.as_str()),
        None,
    ] {
        let started = start_code_flow(&mut b, None).await;
        let mut params = vec![("code", "some-code"), ("state", started.param("state"))];
        if let Some(iss) = iss {
            params.push(("iss", iss));
        }
        let r = b.get(&callback_path(&params)).await;
        assert_eq!(r.status, 400, "{iss:?}: {}", r.html);
        assert!(r.html.contains("wrong login server"), "{iss:?}");
        assert_signed_out(&mut b).await;
    }
}

#[tokio::test]
async fn an_error_or_a_refused_code_at_the_callback_is_a_clear_page() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let issuer = s.auth.base_url.clone();
    let mut b = Browser::new(&web);
    let started = start_code_flow(&mut b, None).await;
    let r = b
        .get(&callback_path(&[
            ("error", "access_denied"),
            ("error_description", "<script>alert(1)</script>"),
            ("state", started.param("state")),
            ("iss", issuer.as_str()),
        ]))
        .await;
    assert_eq!(r.status, 403, "{}", r.html);
    assert!(r.html.contains("You were not signed in"));
    assert!(
        !r.html.contains("alert(1)"),
        "another service's text is never shown"
    );
    assert_signed_out(&mut b).await;

    // A code the authorization server never issued: refused at the token endpoint.
    let started = start_code_flow(&mut b, None).await;
    let r = b
        .get(&callback_path(&[
            ("code", "never-issued"),
            ("state", started.param("state")),
            ("iss", issuer.as_str()),
        ]))
        .await;
    assert_eq!(r.status, 400, "{}", r.html);
    assert!(r.html.contains("could not be completed"));
    assert_signed_out(&mut b).await;
}

#[tokio::test]
async fn sign_in_methods_password_hides_the_code_flow_and_authorization_code_hides_the_form() {
    let s = TestStack::start().await;
    let password_only = s
        .start_web_configured(&s.api.base_url, |settings| {
            settings.serve.sign_in_methods = directory_web::config::SignInMethods::Password
        })
        .await;
    let mut b = Browser::new(&password_only);
    let page = b.get("/sign-in").await;
    assert_eq!(page.status, 200);
    assert!(!page.html.contains("/sign-in/start"));
    assert!(page.html.contains("action=\"/sign-in\""));
    assert_eq!(b.get("/sign-in/start").await.status, 404);
    assert_eq!(b.get("/sign-in/callback?code=c&state=s").await.status, 404);
    drop(b);
    signed_in(&password_only, ALICE).await;

    let code_only = s
        .start_web_configured(&s.api.base_url, |settings| {
            settings.serve.sign_in_methods = directory_web::config::SignInMethods::AuthorizationCode
        })
        .await;
    let mut b = Browser::new(&code_only);
    let page = b.get("/sign-in").await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("href=\"/sign-in/start\""));
    assert!(!page.html.contains("action=\"/sign-in\""));
    assert!(!page.html.contains("type=\"password\""));
    let r = b
        .post(
            "/sign-in",
            &[("username", ALICE.username), ("password", ALICE.password)],
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.html);
    start_code_flow(&mut b, None).await;

    // The flag: `both` unless told, and nothing but the three values.
    let parsed = |args: &[&str]| {
        directory_web::cli::Cli::try_parse_from(
            std::iter::once("directory-web").chain(args.iter().copied()),
        )
        .unwrap()
        .serve
        .sign_in_methods
    };
    assert_eq!(parsed(&[]), directory_web::config::SignInMethods::Both);
    assert_eq!(
        parsed(&["--sign-in-methods", "authorization-code"]),
        directory_web::config::SignInMethods::AuthorizationCode
    );
    assert!(
        directory_web::cli::Cli::try_parse_from(["directory-web", "--sign-in-methods", "implicit"])
            .is_err()
    );
}

#[tokio::test]
async fn open_redirect_attempts_in_the_return_path_end_on_a_local_path() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    // Signed in already, `/sign-in/start` goes straight to the return path: the same rule
    // that the callback applies.
    let mut b = signed_in(&web, ALICE).await;
    for (asked, landed) in [
        ("https://evil.example/", "/profile"),
        ("//evil.example/x", "/profile"),
        ("/\\evil.example", "/profile"),
        ("/%2F/evil.example", "/%2F/evil.example"),
        ("javascript:alert(1)", "/profile"),
        ("/staff/1", "/staff/1"),
        ("/?q=lab", "/?q=lab"),
    ] {
        let r = b
            .get(&format!(
                "/sign-in/start?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("return_to", asked)
                    .finish()
            ))
            .await;
        assert_eq!(r.status, 303, "{asked}");
        assert_eq!(r.location.as_deref(), Some(landed), "{asked}");
    }
}

/// Every cookie name the website uses, over HTTP and over HTTPS.
const WEBSITE_COOKIES: [&str; 4] = ["session", "__Host-session", "sd-device", "__Host-sd-device"];

/// The browser goes to the authorization server's own page (`started`), `user` signs in
/// there, and the authorization server sends the browser back: the callback's path on the
/// website, checked to come with the right `state` and `iss`.
async fn sign_in_at_the_university_login(
    s: &TestStack,
    web: &RunningService,
    started: &Started,
    user: TestUser<'_>,
) -> String {
    let page = SignInPage::read(s.http.get(&started.location).send().await.unwrap()).await;
    assert!(
        page.html.contains(&s.web_client.id),
        "the page names the site"
    );
    // Cookies ignore ports: none of the auth server's bears a name the website uses.
    for cookie in page.cookies.split("; ").filter(|c| !c.is_empty()) {
        let name = cookie.split('=').next().unwrap();
        assert!(!WEBSITE_COOKIES.contains(&name), "{cookie}");
    }
    let r = s.submit_sign_in(&page.form(user), &page.cookies).await;
    assert_eq!(r.status(), 303);
    let (base, params) = location_params(&r);
    assert_eq!(base, web.url("/sign-in/callback"));
    assert_eq!(param(&params, "state"), Some(started.param("state")));
    assert_eq!(param(&params, "iss"), Some(s.auth.base_url.as_str()));
    assert!(param(&params, "code").is_some());
    callback_path(&params)
}

#[tokio::test]
async fn the_whole_code_flow_signs_in_on_the_auth_servers_page_edits_and_signs_out() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = Browser::new(&web);
    let started = start_code_flow(&mut b, Some("/how-it-works")).await;
    let before = b.cookie.clone().unwrap();
    let callback = sign_in_at_the_university_login(&s, &web, &started, ALICE).await;
    let back = b.get(&callback).await;
    assert_eq!(back.status, 303, "{}", back.html);
    assert_eq!(back.location.as_deref(), Some("/how-it-works"));
    assert_ne!(b.cookie.clone().unwrap(), before, "the session is renewed");
    let session_cookie = b.cookie.clone().unwrap();
    assert!(WEBSITE_COOKIES.contains(&session_cookie.split('=').next().unwrap()));
    // The pages say how the person came in, and their token is theirs.
    let how = b.get("/how-it-works").await;
    assert_eq!(how.status, 200);
    assert!(how.html.contains("this site never saw your password"));
    let profile = b.get("/profile").await;
    assert_eq!(profile.status, 200, "{}", profile.html);
    assert!(profile.html.contains("Dr Alice Johnson"));
    assert!(
        profile
            .html
            .contains("authorization code grant: you, ajohnson")
    );
    // Editing works with the token the code bought.
    let csrf = hidden(&profile.html, "csrf");
    let (id, etag) = (hidden(&profile.html, "id"), hidden(&profile.html, "etag"));
    let r = b
        .post(
            "/profile",
            &[
                ("csrf", &csrf),
                ("id", &id),
                ("etag", &etag),
                ("phone", ""),
                ("office", "Room 14"),
                ("bio", "Signed in at the university login."),
                ("research_interests", "OAuth"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let after = b.get("/profile").await;
    assert!(after.html.contains("Your profile was saved."));
    assert!(after.html.contains("Signed in at the university login."));
    // The same answer again: its state is spent, and this browser stays signed in.
    let replay = b.get(&callback).await;
    assert_eq!(replay.status, 400);
    assert_eq!(b.get("/profile").await.status, 200);
    // Sign-out ends it.
    let r = b.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.html);
    assert_eq!(r.location.as_deref(), Some("/"));
    assert_signed_out(&mut b).await;
}

#[tokio::test]
async fn after_the_code_flow_a_foreign_return_path_lands_on_the_profile() {
    let s = TestStack::start().await;
    let web = s
        .start_web_configured(&s.api.base_url, |settings| {
            settings.serve.sign_in_methods = directory_web::config::SignInMethods::AuthorizationCode
        })
        .await;
    for (asked, landed) in [("//evil.example/", "/profile"), ("/staff/1", "/staff/1")] {
        let mut b = Browser::new(&web);
        let started = start_code_flow(&mut b, Some(asked)).await;
        let callback = sign_in_at_the_university_login(&s, &web, &started, BEN).await;
        let back = b.get(&callback).await;
        assert_eq!(back.status, 303, "{}", back.html);
        assert_eq!(back.location.as_deref(), Some(landed), "{asked}");
        let profile = b.get("/profile").await;
        assert!(profile.html.contains("Ben Okafor"));
    }
}

#[tokio::test]
async fn a_code_already_redeemed_signs_no_one_else_in() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut alice = Browser::new(&web);
    let started = start_code_flow(&mut alice, None).await;
    let callback = sign_in_at_the_university_login(&s, &web, &started, ALICE).await;
    assert_eq!(alice.get(&callback).await.status, 303);
    // A second browser with a sign-in of its own started, fed the code Alice's browser used.
    let mut other = Browser::new(&web);
    let theirs = start_code_flow(&mut other, None).await;
    let code = reqwest::Url::parse(&web.url(&callback))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let r = other
        .get(&callback_path(&[
            ("code", code.as_str()),
            ("state", theirs.param("state")),
            ("iss", s.auth.base_url.as_str()),
        ]))
        .await;
    assert_eq!(r.status, 400, "{}", r.html);
    assert!(r.html.contains("could not be completed"));
    assert_signed_out(&mut other).await;
}

#[tokio::test]
async fn cancelling_at_the_university_login_is_a_clear_page_and_signs_no_one_in() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = Browser::new(&web);
    let started = start_code_flow(&mut b, None).await;
    let page = SignInPage::read(s.http.get(&started.location).send().await.unwrap()).await;
    let mut form = page.fields.clone();
    form.push(("action".into(), "cancel".into()));
    let r = s.submit_sign_in(&form, &page.cookies).await;
    assert_eq!(r.status(), 303);
    let (base, params) = location_params(&r);
    assert_eq!(base, web.url("/sign-in/callback"));
    assert_eq!(param(&params, "error"), Some("access_denied"));
    let back = b.get(&callback_path(&params)).await;
    assert_eq!(back.status, 403, "{}", back.html);
    assert!(back.html.contains("You were not signed in"));
    assert_signed_out(&mut b).await;
}

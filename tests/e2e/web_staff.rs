//! A member of staff on the website: sign-in with the password grant (and what it refuses),
//! editing their own profile with their own token, conflicts, renewal, sign-out.

use reqwest::Method;

use crate::support::*;

#[tokio::test]
async fn t85_t87_t89_sign_in_needs_the_forms_token_and_renews_the_session() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = Browser::new(&web);
    // Login CSRF: a post without the pre-session token is refused.
    let r = b
        .post(
            "/sign-in",
            &[
                ("csrf", "forged"),
                ("username", ALICE.username),
                ("password", ALICE.password),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    let form = b.get("/sign-in").await;
    assert_eq!(form.status, 200);
    let cookie = form.set_cookie.clone().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    let pre_sign_in = b.cookie.clone().unwrap();
    let csrf = hidden(&form.html, "csrf");
    // Wrong password and unknown user: the same message, the same status.
    let wrong = b
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("username", ALICE.username),
                ("password", "nope-nope-nope"),
            ],
        )
        .await;
    let unknown = b
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("username", "nobody"),
                ("password", "nope-nope-nope"),
            ],
        )
        .await;
    assert_eq!((wrong.status, unknown.status), (200, 200));
    assert!(
        wrong.html.contains("Invalid username or password")
            && unknown.html.contains("Invalid username or password")
    );
    // Success: redirected to the profile, with a new session cookie.
    let ok = b
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("username", ALICE.username),
                ("password", ALICE.password),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_ne!(
        b.cookie.clone().unwrap(),
        pre_sign_in,
        "the session cookie is renewed at sign-in"
    );
    // The pre-sign-in cookie is not signed in.
    let mut replay = Browser::new(&web);
    replay.cookie = Some(pre_sign_in);
    assert_eq!(
        replay.get("/profile").await.location.as_deref(),
        Some("/sign-in")
    );
}

#[tokio::test]
async fn a_member_of_staff_edits_their_profile_with_their_own_token() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = signed_in(&web, ALICE).await;
    let profile = b.get("/profile").await;
    assert_eq!(profile.status, 200);
    assert!(profile.html.contains("your own token") && profile.html.contains("ajohnson"));
    assert!(profile.html.contains("Dr Alice Johnson"));
    let csrf = hidden(&profile.html, "csrf");
    let (id, etag) = (hidden(&profile.html, "id"), hidden(&profile.html, "etag"));
    let r = b
        .post(
            "/profile",
            &[
                ("csrf", &csrf),
                ("id", &id),
                ("etag", &etag),
                ("phone", "+1 555 0101 9999"),
                ("office", "Room 7"),
                ("bio", "Edited through the website."),
                ("research_interests", "OAuth, grant separation"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/profile"));
    let after = b.get("/profile").await;
    assert!(after.html.contains("Your profile was saved."));
    assert!(after.html.contains("Edited through the website."));
    // The public page (the site's own token) shows it to everyone.
    let public = reqwest::get(web.url(&format!("/staff/{id}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(public.contains("Edited through the website."));
    // Written as Alice, with the web app as the client.
    let hr = s.hr_token().await;
    let history: serde_json::Value = s.get_json(&format!("/staff/{id}/history"), Some(&hr)).await;
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["subject"], "ajohnson");
    assert_eq!(last["client_id"], "directory-web");
    assert_eq!(last["token_kind"], "user");
}

#[tokio::test]
async fn t83_a_conflict_is_shown_and_overwrites_nothing() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = signed_in(&web, ALICE).await;
    let tab = b.get("/profile").await;
    let (csrf, id, etag) = (
        hidden(&tab.html, "csrf"),
        hidden(&tab.html, "id"),
        hidden(&tab.html, "etag"),
    );
    let form = |bio: &'static str| {
        vec![
            ("phone", ""),
            ("office", "Room 1"),
            ("bio", bio),
            ("research_interests", ""),
        ]
    };
    let mut first = vec![
        ("csrf", csrf.as_str()),
        ("id", id.as_str()),
        ("etag", etag.as_str()),
    ];
    first.extend(form("From tab one."));
    assert_eq!(b.post("/profile", &first).await.status, 303);
    let mut second = vec![
        ("csrf", csrf.as_str()),
        ("id", id.as_str()),
        ("etag", etag.as_str()),
    ];
    second.extend(form("From tab two."));
    let conflict = b.post("/profile", &second).await;
    assert_eq!(conflict.status, 409);
    assert!(conflict.html.contains("changed while you were editing"));
    assert!(conflict.html.contains("From tab one.") && conflict.html.contains("From tab two."));
    let record = s
        .api
        .db
        .staff_by_username(ALICE.username)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.record.bio, "From tab one.",
        "tab one's save is not overwritten"
    );
}

#[tokio::test]
async fn t88_forms_without_the_token_or_from_another_site_are_refused() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = signed_in(&web, ALICE).await;
    let page = b.get("/profile").await;
    let (csrf, id, etag) = (
        hidden(&page.html, "csrf"),
        hidden(&page.html, "id"),
        hidden(&page.html, "etag"),
    );
    let fields = [
        ("id", id.as_str()),
        ("etag", etag.as_str()),
        ("phone", ""),
        ("office", "x"),
        ("bio", "csrf"),
        ("research_interests", ""),
    ];
    let mut no_token = fields.to_vec();
    no_token.push(("csrf", "wrong"));
    assert_eq!(b.post("/profile", &no_token).await.status, 403);
    let mut with_token = fields.to_vec();
    with_token.push(("csrf", csrf.as_str()));
    let cross = b
        .send(
            Method::POST,
            "/profile",
            Some(&with_token),
            &[("Sec-Fetch-Site", "cross-site")],
        )
        .await;
    assert_eq!(cross.status, 403);
    let evil = b
        .send(
            Method::POST,
            "/profile",
            Some(&with_token),
            &[("Origin", "https://evil.example")],
        )
        .await;
    assert_eq!(evil.status, 403);
    let record = s
        .api
        .db
        .staff_by_username(ALICE.username)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(record.record.bio, "csrf");
}

#[tokio::test]
async fn an_expired_access_token_is_renewed_without_the_user_noticing() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = signed_in(&web, ALICE).await;
    assert_eq!(b.get("/profile").await.status, 200);
    // Six minutes later the 5-minute access token has expired; the refresh token renews it.
    s.advance_clocks(6 * 60);
    web.clock.advance(6 * 60);
    let page = b.get("/profile").await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Dr Alice Johnson"));
}

#[tokio::test]
async fn a_sign_in_that_cannot_be_renewed_sends_the_user_to_sign_in() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = signed_in(&web, ALICE).await;
    // The user is disabled meanwhile: the refresh fails once the access token expires.
    let now = crate::support::Clock::now(s.auth.clock.as_ref());
    s.auth
        .db
        .disable_user(
            &auth_server::oauth::username::Username::parse(ALICE.username).unwrap(),
            now,
        )
        .await
        .unwrap();
    s.advance_clocks(6 * 60);
    web.clock.advance(6 * 60);
    assert_eq!(
        b.get("/profile").await.location.as_deref(),
        Some("/sign-in")
    );
    // An idle session ends too.
    let mut ben = signed_in(&web, BEN).await;
    web.clock.advance(31 * 60);
    assert_eq!(
        ben.get("/profile").await.location.as_deref(),
        Some("/sign-in")
    );
}

#[tokio::test]
async fn t91_sign_out_revokes_the_sign_in_and_clears_the_session() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = signed_in(&web, ALICE).await;
    let page = b.get("/profile").await;
    let csrf = hidden(&page.html, "csrf");
    let signed_in_cookie = b.cookie.clone().unwrap();
    let out = b
        .send(
            Method::POST,
            "/sign-out",
            Some(&[("csrf", csrf.as_str())]),
            &[],
        )
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/"));
    assert!(
        out.set_cookie.unwrap().contains("Max-Age=0"),
        "the cookie is expired"
    );
    assert_eq!(
        b.get("/profile").await.location.as_deref(),
        Some("/sign-in")
    );
    // The sign-in was revoked at the authorization server: a replayed copy of the old
    // cookie is signed out at once (the site asks the authorization server on every
    // signed-in page), not only when its access token expires.
    let mut replay = Browser::new(&web);
    replay.cookie = Some(signed_in_cookie);
    let replayed = replay.get("/profile").await;
    assert_eq!(
        replayed.location.as_deref(),
        Some("/sign-in"),
        "{} {}",
        replayed.status,
        replayed.html
    );
}

#[tokio::test]
async fn invalid_values_are_shown_beside_their_fields_and_pages_are_not_cached() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = signed_in(&web, ALICE).await;
    let r = b
        .http
        .get(web.url("/profile"))
        .header("Cookie", b.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    let page = r.text().await.unwrap();
    let (csrf, id, etag) = (
        hidden(&page, "csrf"),
        hidden(&page, "id"),
        hidden(&page, "etag"),
    );
    let r = b
        .post(
            "/profile",
            &[
                ("csrf", &csrf),
                ("id", &id),
                ("etag", &etag),
                ("phone", "call me maybe"),
                ("office", ""),
                ("bio", ""),
                ("research_interests", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.html.contains("class=\"field-error\" id=\"phone-error\""),
        "{}",
        r.html
    );
    assert!(
        r.html.contains("call me maybe"),
        "the attempt is kept in the form"
    );
    let record = s
        .api
        .db
        .staff_by_username(ALICE.username)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(record.record.phone, "call me maybe");
    let sign_in = reqwest::get(web.url("/sign-in")).await.unwrap();
    assert_eq!(sign_in.headers()["cache-control"], "private, no-store");
}

#[tokio::test]
async fn how_it_works_shows_both_tokens_side_by_side_when_signed_in() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = signed_in(&web, ALICE).await;
    let page = b.get("/how-it-works").await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("id=\"column-person\""));
    assert!(
        page.html.contains("&#34;ajohnson&#34;") || page.html.contains("&quot;ajohnson&quot;"),
        "Alice's sub"
    );
    assert!(page.html.contains("&#34;user&#34;") || page.html.contains("&quot;user&quot;"));
    assert!(page.html.contains("&#34;client&#34;") || page.html.contains("&quot;client&quot;"));
}

#[tokio::test]
async fn an_expired_refresh_token_sends_the_user_to_sign_in() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = signed_in(&web, ALICE).await;
    // A day later at the authorization server the sign-in (24 h at most) is over; the site's
    // access token has expired too, and its renewal fails.
    s.advance_clocks(25 * 3600);
    web.clock.advance(6 * 60);
    assert_eq!(
        b.get("/profile").await.location.as_deref(),
        Some("/sign-in")
    );
}

#[tokio::test]
async fn t87_over_https_the_session_cookie_is_secure_and_host_prefixed() {
    let s = TestStack::start().await;
    let web = s.start_web_over_https().await;
    let r = reqwest::get(web.url("/sign-in")).await.unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-session="), "{cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
}

//! `/try-it`: the guide's attacks run live by the website against the real API, with the
//! tokens it holds. Each must show the API's exact refusal (status and code), the request with
//! its token decoded (never a raw token), and change nothing; each is a CSRF-protected form;
//! a visitor cannot run the signed-in person's attacks.

use reqwest::Method;

use crate::support::*;

/// How many `method` requests the API has answered on `route`, from its metrics.
async fn api_requests(s: &TestStack, route: &str, method: &str) -> f64 {
    let text = text_of(&s.http, &s.api_url("/metrics")).await;
    text.lines()
        .filter(|l| {
            l.starts_with(&format!(
                "http_request_duration_seconds_count{{route=\"{route}\",method=\"{method}\""
            ))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Presses the button of `attack` on the page `b` has open (its CSRF token read from it).
async fn run(b: &mut Browser<'_>, attack: &str) -> Page {
    let page = b.get("/try-it").await;
    assert_eq!(page.status, 200);
    assert!(
        page.html
            .contains(&format!("name=\"attack\" value=\"{attack}\"")),
        "no button for {attack}"
    );
    let csrf = hidden(&page.html, "csrf");
    b.post("/try-it", &[("csrf", &csrf), ("attack", attack)])
        .await
}

/// Asserts the outcome page: refused as expected with `status` and `code`, shown with its
/// status line and the record (or the directory) unchanged; no raw token anywhere.
fn assert_refused(page: &Page, status: &str, code: &str) {
    assert_eq!(page.status, 200, "{}", page.html);
    let html = &page.html;
    assert!(html.contains(": refused, as expected</h2>"), "{html}");
    assert!(
        html.contains(&format!(
            "The API answered <code>{}</code> with <code>{code}</code>.",
            &status[..3]
        )),
        "{code} in {html}"
    );
    assert!(html.contains(&format!("HTTP/1.1 {status}")), "{status}");
    let afterwards = cell_like(html, "afterwards");
    assert!(
        afterwards.contains("nothing was written") || afterwards.contains("no record was created"),
        "{afterwards}"
    );
    assert_no_raw_token(html);
}

/// The text of the element with id `id` (up to its closing tag).
fn cell_like<'h>(html: &'h str, id: &str) -> &'h str {
    let start = html.find(&format!("id=\"{id}\"")).unwrap();
    let start = start + html[start..].find('>').unwrap() + 1;
    &html[start..start + html[start..].find("</").unwrap()]
}

/// No JWT (two base64url JSON objects and a dot) appears in `html`.
fn assert_no_raw_token(html: &str) {
    let jwt = regex::Regex::new(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}").unwrap();
    assert!(!jwt.is_match(html), "a raw token is shown");
}

#[tokio::test]
async fn a_visitor_tries_the_sites_own_token_and_forgeries_and_each_is_refused() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let before = all_records(&s).await;
    let mut b = Browser::new(&web);
    let page = b.get("/try-it").await;
    assert_eq!(page.status, 200);
    assert!(
        page.html
            .contains("<a href=\"/try-it\" aria-current=\"page\">Try it</a>")
    );
    // The person's attacks are explained, not offered.
    for person in [
        "person-edits-other",
        "person-hr-field",
        "person-creates-record",
    ] {
        assert!(page.html.contains(&format!("id=\"attack-{person}\"")));
        assert!(!page.html.contains(&format!("value=\"{person}\"")));
    }
    assert!(page.html.contains("Sign in to try it"));

    // (a) The site's own token edits a profile: the first record the directory lists.
    let first = before[0]["id"].as_i64().unwrap();
    let r = run(&mut b, "site-edits-profile").await;
    assert_refused(&r, "403 Forbidden", "insufficient_scope");
    let html = &r.html;
    assert!(html.contains(&format!("PATCH /staff/{first} HTTP/1.1")));
    assert!(html.contains("If-Match: &#34;v1&#34;") || html.contains("If-Match: &quot;v1&quot;"));
    assert!(html.contains(
        "WWW-Authenticate: Bearer realm=&#34;staff-directory&#34;, error=&#34;insufficient_scope&#34;, scope=&#34;profile:write&#34;"
    ));
    assert!(html.contains("&#34;code&#34;:&#34;insufficient_scope&#34;"));
    assert!(
        html.contains("&#34;scope&#34;: &#34;directory:read&#34;"),
        "decoded claims"
    );
    assert!(html.contains("&#34;sub&#34;: &#34;directory-web&#34;"));
    assert!(html.contains("64 bytes, not shown"));
    assert!(html.contains("directory-api/src/extract.rs (Editor)"));
    assert!(html.contains("docs/3-what-separation-stops.md, (a)"));
    assert!(html.contains(&format!("Record {first} is still at version &#34;v1&#34;")));

    // The admin API with the site's token.
    let r = run(&mut b, "site-creates-record").await;
    assert_refused(&r, "403 Forbidden", "insufficient_scope");
    assert!(r.html.contains("POST /staff HTTP/1.1"));
    assert!(r.html.contains("scope=&#34;directory:admin&#34;"));
    assert!(r.html.contains("finds nobody: no record was created"));

    // (f) The forgeries: each claims the HR job's scope; each is 401 invalid_token.
    let kid = jwt_header(&s.web_app_token().await)["kid"].clone();
    for (attack, shows) in [
        ("alg-none", "&#34;alg&#34;: &#34;none&#34;".to_owned()),
        ("changed-claim", "64 bytes, not shown".to_owned()),
        (
            "self-signed",
            format!("&#34;kid&#34;: {}", kid.to_string().replace('"', "&#34;")),
        ),
    ] {
        let r = run(&mut b, attack).await;
        assert_refused(&r, "401 Unauthorized", "invalid_token");
        assert!(r.html.contains(&shows), "{attack}: {shows}");
        assert!(
            r.html
                .contains("&#34;scope&#34;: &#34;directory:read directory:admin&#34;"),
            "{attack} claims the HR job's scope"
        );
        assert!(r.html.contains(
            "WWW-Authenticate: Bearer realm=&#34;staff-directory&#34;, error=&#34;invalid_token&#34;"
        ));
        assert!(r.html.contains("directory-api/src/auth/verify.rs"));
    }
    let r = run(&mut b, "alg-none").await;
    assert!(
        r.html
            .contains("none: the token ends with its claims and a dot")
    );

    // Nothing changed, and nobody was created.
    assert_eq!(all_records(&s).await, before);
    assert!(
        s.api
            .db
            .staff_by_username("intruder")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_signed_in_persons_token_is_refused_for_others_records_hr_fields_and_the_admin_api() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let before = all_records(&s).await;
    let alice = s.staff_id(ALICE.username).await;
    let mut b = signed_in(&web, ALICE).await;

    // (b) Someone else's record: the scope was enough, the owner is not.
    let r = run(&mut b, "person-edits-other").await;
    assert_refused(&r, "403 Forbidden", "not_owner");
    assert!(!r.html.contains(&format!("PATCH /staff/{alice} HTTP/1.1")));
    assert!(r.html.contains("&#34;sub&#34;: &#34;ajohnson&#34;"));
    assert!(r.html.contains("&#34;token_kind&#34;: &#34;user&#34;"));
    assert!(r.html.contains("directory-api/src/routes/staff.rs (patch)"));
    assert!(
        !r.html.contains("WWW-Authenticate:"),
        "no challenge: another token would not help"
    );

    // (c) An HR-owned field of her own record.
    let r = run(&mut b, "person-hr-field").await;
    assert_refused(&r, "403 Forbidden", "hr_owned_field");
    assert!(r.html.contains(&format!("PATCH /staff/{alice} HTTP/1.1")));
    assert!(
        r.html
            .contains("&#34;job_title&#34;: &#34;Professor and Vice-Chancellor&#34;")
    );

    // The admin API with a person's token.
    let r = run(&mut b, "person-creates-record").await;
    assert_refused(&r, "403 Forbidden", "insufficient_scope");
    assert!(r.html.contains("scope=&#34;directory:admin&#34;"));

    // Signed in, the site's own token is tried on her record.
    let r = run(&mut b, "site-edits-profile").await;
    assert_refused(&r, "403 Forbidden", "insufficient_scope");
    assert!(r.html.contains(&format!("PATCH /staff/{alice} HTTP/1.1")));
    assert!(r.html.contains("&#34;sub&#34;: &#34;directory-web&#34;"));

    assert_eq!(all_records(&s).await, before);
    assert!(
        s.api
            .db
            .staff_by_username("intruder")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn an_outcome_is_never_stored_and_a_visitor_cannot_run_a_persons_attack() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = Browser::new(&web);
    let page = b.get("/try-it").await;
    let csrf = hidden(&page.html, "csrf");
    let patches = api_requests(&s, "/staff/{id}", "PATCH").await;

    let r = b
        .post(
            "/try-it",
            &[("csrf", &csrf), ("attack", "person-edits-other")],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(r.html.contains(
        "uses your own token, and you are not signed in: sign in to try it. Nothing was sent."
    ));
    assert_eq!(api_requests(&s, "/staff/{id}", "PATCH").await, patches);

    // The outcome page is the session's: never stored.
    let r = b
        .http
        .post(web.url("/try-it"))
        .header("Cookie", b.cookie.clone().unwrap())
        .form(&[("csrf", csrf.as_str()), ("attack", "changed-claim")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "cache-control"), Some("private, no-store"));
    assert_eq!(
        api_requests(&s, "/staff/{id}", "PATCH").await,
        patches + 1.0
    );
    let get = b
        .http
        .get(web.url("/try-it"))
        .header("Cookie", b.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(header(&get, "cache-control"), Some("private, no-store"));

    // An attack that does not exist.
    let r = b
        .post("/try-it", &[("csrf", &csrf), ("attack", "drop-tables")])
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn a_try_without_the_csrf_token_or_from_another_site_is_refused_and_sends_nothing() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let before = all_records(&s).await;
    let mut b = Browser::new(&web);
    let page = b.get("/try-it").await;
    let csrf = hidden(&page.html, "csrf");
    let sent = api_requests(&s, "/staff/{id}", "PATCH").await;

    let wrong = b
        .post(
            "/try-it",
            &[("csrf", "guess"), ("attack", "site-edits-profile")],
        )
        .await;
    assert_eq!(wrong.status, 403);
    let missing = b.post("/try-it", &[("attack", "site-edits-profile")]).await;
    assert_eq!(
        missing.status, 400,
        "a form without its token is unreadable"
    );
    let form = [("csrf", csrf.as_str()), ("attack", "site-edits-profile")];
    let cross_site = b
        .send(
            Method::POST,
            "/try-it",
            Some(&form),
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(cross_site.status, 403);
    let other_origin = b
        .send(
            Method::POST,
            "/try-it",
            Some(&form),
            &[("origin", "http://evil.example")],
        )
        .await;
    assert_eq!(other_origin.status, 403);
    // Another browser, without this session.
    let mut stranger = Browser::new(&web);
    assert_eq!(stranger.post("/try-it", &form).await.status, 403);

    assert_eq!(api_requests(&s, "/staff/{id}", "PATCH").await, sent);
    assert_eq!(all_records(&s).await, before);
    // With the token, from this site, the same form runs.
    let ok = b
        .send(
            Method::POST,
            "/try-it",
            Some(&form),
            &[("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_refused(&ok, "403 Forbidden", "insufficient_scope");
}

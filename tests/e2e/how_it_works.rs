//! The how-it-works page: the site's, the signed-in person's and the HR job's tokens compared
//! claim by claim, each claim explained for the token it is in; and the session's label, which
//! comes from the authorization server's introspection answer, never from a decoded token.

use crate::support::*;

/// A cell's text without its markup.
fn text(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&#39;", "'").replace("&#34;", "\"")
}

#[tokio::test]
async fn signed_in_the_persons_sub_and_scope_are_explained_for_the_persons_token() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = signed_in(&web, ALICE).await;
    let page = b.get("/how-it-works").await;
    assert_eq!(page.status, 200);
    let html = &page.html;

    // Beside `sub: "ajohnson"`: the person, never the site-token wording.
    assert_eq!(claim_value(html, "person-sub"), "ajohnson");
    let sub = text(cell(html, "person-sub"));
    assert!(
        sub.contains("Subject: you. This token acts for you alone"),
        "{sub}"
    );
    assert!(!sub.contains("the site itself"), "{sub}");
    // Beside `directory:read profile:write`: one's own record, never "public directory only".
    assert_eq!(
        claim_value(html, "person-scope"),
        "directory:read profile:write"
    );
    let scope = text(cell(html, "person-scope"));
    assert!(scope.contains("of your own record only"), "{scope}");
    assert!(!scope.contains("reading the public directory"), "{scope}");
    assert_eq!(claim_value(html, "person-token_kind"), "user");
    assert!(text(cell(html, "person-sid")).contains("Your sign-in"));
    assert!(text(cell(html, "person-may-do")).contains("your own record"));

    // The site's own column keeps its own wording, in the same rows.
    assert_eq!(claim_value(html, "site-sub"), "directory-web");
    assert!(text(cell(html, "site-sub")).contains("Subject: the site itself."));
    assert!(text(cell(html, "site-scope")).contains("reading the public directory, nothing more"));
    assert!(text(cell(html, "site-sid")).contains("Not in this token."));

    // The column is labelled with the signed-in person, and how they came in.
    assert!(html.contains(
        "id=\"column-person\">Your token <span class=\"column-note\">live: you, ajohnson</span>"
    ));
    assert!(html.contains("You signed in with the password grant"));
    assert!(
        html.contains(
            "Decoded here for teaching; the site itself never relies on what it decodes."
        )
    );
}

#[tokio::test]
async fn the_hr_jobs_column_is_the_documented_shape_and_says_so() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let r = reqwest::get(web.url("/how-it-works")).await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains(
        "id=\"column-hr-job\">The HR job’s token <span class=\"column-note\">not held by this site, shown from the documentation</span>"
    ));
    assert_eq!(claim_value(&html, "hr-job-sub"), "hr-sync");
    assert_eq!(claim_value(&html, "hr-job-client_id"), "hr-sync");
    assert_eq!(
        claim_value(&html, "hr-job-scope"),
        "directory:read directory:admin"
    );
    assert_eq!(claim_value(&html, "hr-job-token_kind"), "client");
    let exp = text(cell(&html, "hr-job-exp"));
    assert!(exp.starts_with("iat + 900 (lifetime 900 s)"), "{exp}");
    // Never a live value: no issue time, no id of a real token.
    assert!(text(cell(&html, "hr-job-jti")).starts_with("a fresh random id"));
    assert!(text(cell(&html, "hr-job-sid")).contains("Not in this token."));
    // What the real HR token holds agrees with the documented column.
    let hr = claims(&s.hr_token().await);
    assert_eq!(hr["sub"], "hr-sync");
    assert_eq!(hr["scope"], "directory:read directory:admin");
    assert_eq!(hr["token_kind"], "client");
    assert_eq!(
        hr["exp"].as_i64().unwrap() - hr["iat"].as_i64().unwrap(),
        900
    );

    // A visitor: the site's live column and the HR job's, no person's.
    assert!(!html.contains("id=\"column-person\""));
    assert!(!html.contains("id=\"person-sub\""));
    assert_eq!(claim_value(&html, "site-scope"), "directory:read");
    let site_exp = claim_value(&html, "site-exp");
    assert!(site_exp.ends_with("(lifetime 900 s)"), "{site_exp}");
    assert!(html.contains("href=\"/try-it\""), "linked to /try-it");
}

#[tokio::test]
async fn the_session_is_labelled_with_the_username_introspection_gives_at_sign_in() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let introspections = || async {
        let text = text_of(&s.http, &s.auth_url("/metrics")).await;
        series(
            &text,
            r#"http_request_duration_seconds_count{route="/oauth/introspect",method="POST",status="200"}"#,
        )
        .unwrap_or(0.0)
    };
    let mut b = Browser::new(&web);
    let form = b.get("/sign-in").await;
    let csrf = hidden(&form.html, "csrf");
    let before = introspections().await;
    // Typed in another case: the session's name is the canonical one the authorization
    // server vouches for, asked once, at sign-in.
    let r = b
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("username", "AJohnson"),
                ("password", ALICE.password),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    assert_eq!(introspections().await, before + 1.0);
    let how = b.get("/how-it-works").await;
    assert!(
        how.html
            .contains("Your profile <span class=\"nav-user\">(ajohnson)</span>")
    );
    assert!(how.html.contains("live: you, ajohnson"));
    assert!(!how.html.contains("AJohnson"));
}

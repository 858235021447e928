//! Staff photos on the website (issue 16): shown on the cards, the staff page and the profile
//! with a meaningful `alt`, served from the site's own origin (the site's token, its bounded
//! cache, its own ETag and `Cache-Control`), a neutral placeholder otherwise; the profile's
//! upload form (`multipart/form-data`, CSRF token first, the site's own 5 MB limit) and its
//! remove button; refusals beside the field in plain words with the API's status.
//! docs/security-checklist.md, section L (p12–p16).

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::support::images::{self, SVG, jpeg, png};
use crate::support::*;

const ALICE_ALT: &str = "alt=\"Photo of Dr Alice Johnson\"";

async fn upload_with_api(s: &TestStack, id: i64, token: &str, body: Vec<u8>) {
    let r = s
        .api(Method::PUT, &format!("/staff/{id}/photo"), Some(token))
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(r.status() == 200 || r.status() == 201, "{}", r.status());
}

async fn web_get(web: &RunningService, path: &str, etag: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(web.url(path));
    if let Some(etag) = etag {
        request = request.header("If-None-Match", etag);
    }
    request.send().await.unwrap()
}

/// The form a browser sends from the profile page: the CSRF token, then the file.
fn photo_form<'a>(
    csrf: &str,
    file_name: &'a str,
    content_type: &'a str,
    bytes: Vec<u8>,
) -> Vec<Part<'a>> {
    vec![
        Part::field("csrf", csrf),
        Part::file("photo", file_name, content_type, bytes),
    ]
}

async fn history_actions(s: &TestStack, id: i64) -> Vec<Value> {
    let hr = s.hr_token().await;
    let entries = s.get_json(&format!("/staff/{id}/history"), Some(&hr)).await;
    entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("photo_"))
        .cloned()
        .collect()
}

#[tokio::test]
async fn p12_cards_the_staff_page_and_the_sites_own_photo_route() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let alice_id = s.staff_id(ALICE.username).await;
    let ben_id = s.staff_id(BEN.username).await;
    let alice = s.user_token(ALICE).await;
    upload_with_api(&s, alice_id, &alice, jpeg(1000, 1000)).await;

    let page = web_get(&web, "/?q=johnson", None).await;
    let csp = header(&page, "content-security-policy").unwrap().to_owned();
    assert!(csp.contains("img-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "<img class=\"avatar avatar-card\" src=\"/staff/{alice_id}/photo/thumb\" {ALICE_ALT}"
        )),
        "{html}"
    );
    let html = web_get(&web, "/?q=okafor", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(
            "<span class=\"avatar avatar-card avatar-initials\" aria-hidden=\"true\">BO</span>"
        ),
        "Ben has no photo: his initials, hidden from screen readers beside his name"
    );
    let html = web_get(&web, &format!("/staff/{alice_id}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("src=\"/staff/{alice_id}/photo\" {ALICE_ALT}")));
    let html = web_get(&web, &format!("/staff/{ben_id}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("avatar-initials\" aria-hidden=\"true\">BO</span>"));
    assert!(!html.contains("<img"), "no image for Ben");

    // The site's own route: the API's image and ETag, the site's caching headers.
    let reader = s.web_app_token().await;
    let from_api = s
        .api(
            Method::GET,
            &format!("/staff/{alice_id}/photo"),
            Some(&reader),
        )
        .send()
        .await
        .unwrap();
    let api_etag = header(&from_api, "etag").unwrap().to_owned();
    let api_bytes = from_api.bytes().await.unwrap();
    let r = web_get(&web, &format!("/staff/{alice_id}/photo"), None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), Some("image/jpeg"));
    assert_eq!(header(&r, "cache-control"), Some("public, no-cache"));
    assert_eq!(header(&r, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&r, "etag"), Some(api_etag.as_str()));
    assert!(header(&r, "set-cookie").is_none());
    assert_eq!(r.bytes().await.unwrap(), api_bytes);
    let r = web_get(&web, &format!("/staff/{alice_id}/photo"), Some(&api_etag)).await;
    assert_eq!(r.status(), 304);
    assert_eq!(header(&r, "etag"), Some(api_etag.as_str()));
    assert!(r.bytes().await.unwrap().is_empty());
    let r = web_get(&web, &format!("/staff/{alice_id}/photo/thumb"), None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(images::dimensions(&r.bytes().await.unwrap()), (96, 96));

    for path in [
        format!("/staff/{ben_id}/photo"),
        format!("/staff/{ben_id}/photo/thumb"),
        "/staff/0/photo".to_owned(),
        "/staff/abc/photo/thumb".to_owned(),
        "/staff/99999/photo".to_owned(),
    ] {
        let r = web_get(&web, &path, None).await;
        assert_eq!(r.status(), 404, "{path}");
        assert!(header(&r, "content-type").unwrap().starts_with("text/html"));
    }
}

#[tokio::test]
async fn p13_a_member_of_staff_uploads_and_removes_their_photo_on_the_profile() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let id = s.staff_id(ALICE.username).await;
    let mut b = signed_in(&web, ALICE).await;

    let profile = b.get("/profile").await;
    assert_eq!(profile.status, 200);
    let html = &profile.html;
    assert!(html.contains(
        "<form class=\"form\" method=\"post\" action=\"/profile/photo\" enctype=\"multipart/form-data\">"
    ));
    assert!(html.contains("<label for=\"photo\">Add a photo</label>"));
    assert!(html.contains("type=\"file\" id=\"photo\" name=\"photo\" accept=\"image/jpeg,image/png,image/webp\" required"));
    assert!(html.contains("aria-describedby=\"photo-hint\""));
    assert!(html.contains("avatar-initials\" aria-hidden=\"true\">AJ</span>"));
    assert!(
        !html.contains("/profile/photo/remove"),
        "nothing to remove yet"
    );
    // The photo form's token comes first, as the site reads it.
    let form = &html[html.find("action=\"/profile/photo\"").unwrap()..];
    assert!(form.find("name=\"csrf\"").unwrap() < form.find("name=\"photo\"").unwrap());

    let csrf = hidden(html, "csrf");
    let r = b
        .post_multipart(
            "/profile/photo",
            &photo_form(&csrf, "me.jpg", "image/jpeg", jpeg(900, 600)),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    assert_eq!(r.location.as_deref(), Some("/profile"));
    let profile = b.get("/profile").await;
    assert!(profile.html.contains("Your photo was saved."));
    assert!(
        profile
            .html
            .contains(&format!("src=\"/staff/{id}/photo\" {ALICE_ALT}"))
    );
    assert!(
        profile
            .html
            .contains("<label for=\"photo\">Replace your photo</label>")
    );
    assert!(profile.html.contains("action=\"/profile/photo/remove\""));

    // Made with Alice's own token, through the site's client.
    let actions = history_actions(&s, id).await;
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0]["action"], "photo_changed");
    assert_eq!(actions[0]["subject"], ALICE.username);
    assert_eq!(actions[0]["token_kind"], "user");
    assert_eq!(actions[0]["client_id"], s.web_client.id.as_str());
    let r = web_get(&web, &format!("/staff/{id}/photo"), None).await;
    assert_eq!(images::dimensions(&r.bytes().await.unwrap()), (512, 341));

    // A replacement shows at once on this site (it forgets its cached copy).
    let csrf = hidden(&profile.html, "csrf");
    let r = b
        .post_multipart(
            "/profile/photo",
            &photo_form(&csrf, "me.png", "image/png", png(200, 300)),
        )
        .await;
    assert_eq!(r.status, 303);
    let r = web_get(&web, &format!("/staff/{id}/photo"), None).await;
    assert_eq!(images::dimensions(&r.bytes().await.unwrap()), (200, 300));

    let r = b.post("/profile/photo/remove", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/profile"));
    let profile = b.get("/profile").await;
    assert!(profile.html.contains("Your photo was removed."));
    assert!(profile.html.contains("avatar-initials"));
    assert_eq!(
        web_get(&web, &format!("/staff/{id}/photo"), None)
            .await
            .status(),
        404
    );
    let r = b.post("/profile/photo/remove", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert!(
        b.get("/profile")
            .await
            .html
            .contains("You had no photo to remove.")
    );
    let actions = history_actions(&s, id).await;
    assert_eq!(actions.len(), 3);
    assert_eq!(actions[2]["action"], "photo_removed");
}

/// The profile page answered to a refused upload: the status, the message beside the field,
/// linked to the file input.
fn assert_refused(page: &Page, status: u16, words: &str) {
    assert_eq!(page.status, status, "{}", page.html);
    let error = format!("<p class=\"field-error\" id=\"photo-error\">{words}");
    assert!(page.html.contains(&error), "{}", page.html);
    let summary = format!("Your photo was not saved: <a href=\"#photo\">{words}");
    assert!(
        page.html.contains(&summary),
        "the summary at the top links to the field"
    );
    assert!(
        page.html
            .contains("aria-describedby=\"photo-hint photo-error\" aria-invalid=\"true\"")
    );
}

#[tokio::test]
async fn p14_refusals_appear_beside_the_field_in_plain_words_with_the_apis_status() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let id = s.staff_id(ALICE.username).await;
    let mut b = signed_in(&web, ALICE).await;
    let csrf = hidden(&b.get("/profile").await.html, "csrf");
    let whole = jpeg(300, 200);
    for (file, declared, bytes, status, words) in [
        (
            "photo.png",
            "image/png",
            SVG.as_bytes().to_vec(),
            415,
            "This file is not a JPEG, PNG or WebP image.",
        ),
        (
            "page.png",
            "image/png",
            images::HTML.as_bytes().to_vec(),
            415,
            "This file is not a JPEG, PNG or WebP image.",
        ),
        (
            "anim.gif",
            "image/gif",
            images::GIF.to_vec(),
            415,
            "This file is not a JPEG, PNG or WebP image.",
        ),
        (
            "bomb.png",
            "image/png",
            images::png_claiming(100_000, 100_000),
            422,
            "This photo is more than 4096 × 4096 pixels.",
        ),
        (
            "cut.jpg",
            "image/jpeg",
            whole[..whole.len() / 2].to_vec(),
            422,
            "This file could not be read as an image",
        ),
        (
            "",
            "application/octet-stream",
            Vec::new(),
            400,
            "Choose a photo to upload.",
        ),
        (
            "big.jpg",
            "image/jpeg",
            vec![0xFF; 6 * 1024 * 1024],
            413,
            "This photo is larger than 5 MB.",
        ),
    ] {
        let page = b
            .post_multipart("/profile/photo", &photo_form(&csrf, file, declared, bytes))
            .await;
        assert_refused(&page, status, words);
    }
    assert!(
        history_actions(&s, id).await.is_empty(),
        "nothing was stored"
    );

    // Declared far over the limit: answered without reading the body at all.
    let head = format!(
        "POST /profile/photo HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 50000000\r\n\r\n",
        web.base_url.trim_start_matches("http://"),
        b.cookie.clone().unwrap()
    );
    let stalled = stall_after(&web.base_url, &head, Duration::from_secs(5)).await;
    assert!(
        stalled.answer.starts_with("HTTP/1.1 413"),
        "{}",
        stalled.answer
    );
    assert!(
        stalled
            .answer
            .contains("id=\"photo-error\">This photo is larger than 5 MB.")
    );
}

#[tokio::test]
async fn p15_the_photo_forms_are_refused_without_their_token_or_from_another_site() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let id = s.staff_id(ALICE.username).await;
    let mut b = signed_in(&web, ALICE).await;
    let csrf = hidden(&b.get("/profile").await.html, "csrf");

    let wrong = b
        .post_multipart(
            "/profile/photo",
            &photo_form("guessed", "a.png", "image/png", png(10, 10)),
        )
        .await;
    assert_eq!(wrong.status, 403);
    // The token after the file: the file would have to be read before the token is known.
    let file_first = vec![
        Part::file("photo", "a.png", "image/png", png(10, 10)),
        Part::field("csrf", &csrf),
    ];
    assert_eq!(
        b.post_multipart("/profile/photo", &file_first).await.status,
        403
    );
    let (content_type, body) = multipart(&photo_form(&csrf, "a.png", "image/png", png(10, 10)));
    let cross_site = b
        .send_body(
            Method::POST,
            "/profile/photo",
            Some((content_type.clone(), body.clone())),
            &[("Sec-Fetch-Site", "cross-site")],
        )
        .await;
    assert_eq!(cross_site.status, 403);
    let other_origin = b
        .send_body(
            Method::POST,
            "/profile/photo",
            Some((content_type, body)),
            &[("Origin", "http://evil.example")],
        )
        .await;
    assert_eq!(other_origin.status, 403);
    let not_multipart = b
        .post("/profile/photo", &[("csrf", &csrf), ("photo", "x")])
        .await;
    assert_eq!(not_multipart.status, 400);
    assert_eq!(
        b.post("/profile/photo/remove", &[("csrf", "guessed")])
            .await
            .status,
        403
    );

    // A visitor with a session (and its token) but nobody signed in: sent to sign in before
    // the file is read.
    let mut visitor = Browser::new(&web);
    let visitor_csrf = hidden(&visitor.get("/sign-in").await.html, "csrf");
    let r = visitor
        .post_multipart(
            "/profile/photo",
            &photo_form(&visitor_csrf, "a.png", "image/png", png(10, 10)),
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/sign-in"));

    // Someone not signed in: no session, no token to match.
    let mut stranger = Browser::new(&web);
    let r = stranger
        .post_multipart(
            "/profile/photo",
            &photo_form(&csrf, "a.png", "image/png", png(10, 10)),
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(history_actions(&s, id).await.is_empty());
}

#[tokio::test]
async fn p16_the_sites_copy_is_revalidated_with_the_api_once_no_longer_fresh() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let id = s.staff_id(BEN.username).await;
    let hr = s.hr_token().await;
    upload_with_api(&s, id, &hr, png(100, 100)).await;
    let path = format!("/staff/{id}/photo");
    let first = web_get(&web, &path, None).await;
    let first_etag = header(&first, "etag").unwrap().to_owned();

    // Changed at the API, not through this site: the site's copy is served while fresh…
    upload_with_api(&s, id, &hr, png(120, 80)).await;
    let r = web_get(&web, &path, None).await;
    assert_eq!(header(&r, "etag"), Some(first_etag.as_str()));
    // …then revalidated: the new photo.
    web.clock.advance(directory_web::photo_cache::FRESH_SECS);
    let r = web_get(&web, &path, Some(&first_etag)).await;
    assert_eq!(r.status(), 200, "the browser's copy is no longer current");
    assert_ne!(header(&r, "etag").unwrap(), first_etag);
    assert_eq!(images::dimensions(&r.bytes().await.unwrap()), (120, 80));

    // Removed at the API: gone once revalidated.
    let r = s
        .api(Method::DELETE, &path, Some(&hr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    web.clock.advance(directory_web::photo_cache::FRESH_SECS);
    assert_eq!(web_get(&web, &path, None).await.status(), 404);
}

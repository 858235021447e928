//! The public website: a visitor browsing with the site's own token, and how the site keeps
//! that token (one request for many pages, renewal, outages).

use reqwest::Method;
use serde_json::json;

use crate::support::*;

async fn page(
    web: &RunningService,
    http: &reqwest::Client,
    path: &str,
) -> (u16, String, reqwest::header::HeaderMap) {
    let r = http.get(web.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.text().await.unwrap(), headers)
}

fn assert_security_headers(headers: &reqwest::header::HeaderMap) {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let csp = h("content-security-policy");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("referrer-policy"), "same-origin");
    assert_eq!(h("x-frame-options"), "DENY");
}

#[tokio::test]
async fn a_visitor_browses_searches_and_opens_a_page() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let (status, html, headers) = page(&web, &s.http, "/").await;
    assert_eq!(status, 200);
    assert_security_headers(&headers);
    assert!(
        html.contains("Dr Alice Johnson"),
        "the first page lists people"
    );
    assert!(html.contains("60 people"), "{html}");
    assert!(
        html.contains("the site&#39;s own token") || html.contains("the site's own token"),
        "every page says which token"
    );
    assert!(html.contains("/static/site.css"));

    let (status, html, _) = page(&web, &s.http, "/?q=okafor").await;
    assert_eq!(status, 200);
    assert!(html.contains("Ben Okafor") && html.contains("Dr Daniel Okafor"));
    assert!(html.contains("2 people"));
    let (_, html, _) = page(
        &web,
        &s.http,
        "/?q=okafor&department=School+of+Chemistry&utm_source=x",
    )
    .await;
    assert!(html.contains("Ben Okafor") && !html.contains("Daniel Okafor"));
    assert!(html.contains("1 person"), "{html}");

    let ben = s.staff_id(BEN.username).await;
    let (status, html, headers) = page(&web, &s.http, &format!("/staff/{ben}")).await;
    assert_eq!(status, 200);
    assert_security_headers(&headers);
    assert!(html.contains("Research Technician") && html.contains("bokafor@example.edu"));
    assert!(html.contains("NMR spectroscopy"));
    assert!(
        shows_a_readable_update_date(&html),
        "the last update is shown as a date people read"
    );

    let (status, css, headers) = page(&web, &s.http, "/static/site.css").await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(css.len() > 500);
    let (status, icon, headers) = page(&web, &s.http, "/favicon.ico").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/svg+xml");
    assert!(icon.starts_with("<svg"));
    let (status, html, _) = page(&web, &s.http, "/how-it-works").await;
    assert_eq!(status, 200);
    assert!(html.contains("directory:read") && html.contains("RFC 9700"));
    assert!(html.contains("client_credentials"));
    let app_token = s.web_app_token().await;
    assert!(
        !html.contains(&app_token[..40]),
        "the raw token is never shown"
    );
}

/// Whether the page shows "Last updated <day> <Month> <year>".
fn shows_a_readable_update_date(html: &str) -> bool {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    html.find("Last updated").is_some_and(|i| {
        MONTHS
            .iter()
            .any(|m| html[i..(i + 200).min(html.len())].contains(m))
    })
}

#[tokio::test]
async fn pagination_links_keep_the_search() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let (_, html, _) = page(&web, &s.http, "/").await;
    assert!(html.contains("Page 1 of 3"), "60 people, 24 a page");
    assert!(html.contains("/?page=2"));
    let (_, html, _) = page(&web, &s.http, "/?page=3").await;
    assert!(html.contains("Page 3 of 3") && html.contains("/?page=2"));
}

#[tokio::test]
async fn bad_addresses_get_clear_error_pages() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    for (path, status) in [
        ("/nowhere", 404),
        ("/staff/abc", 404),
        ("/staff/999999", 404),
        ("/?page=0", 400),
        ("/?page=x", 400),
    ] {
        let (got, html, headers) = page(&web, &s.http, path).await;
        assert_eq!(got, status, "{path}");
        assert!(
            html.contains("<html") && html.contains(&status.to_string()),
            "{path}: an HTML error page"
        );
        assert_security_headers(&headers);
    }
}

#[tokio::test]
async fn names_are_escaped_wherever_they_appear() {
    let s = TestStack::start().await;
    let hr = s.hr_token().await;
    let r = s
        .api(Method::POST, "/staff", Some(&hr))
        .json(&json!({"username": "xss", "display_name": "<script>alert(1)</script>", "job_title": "\"><img src=x onerror=alert(1)>",
                      "department": "School of Chemistry", "email": "xss@example.edu", "research_interests": "<b>bold</b>"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = s.staff_id("xss").await;
    let web = s.start_web().await;
    for path in [
        "/?department=School+of+Chemistry".to_owned(),
        format!("/staff/{id}"),
    ] {
        let (status, html, _) = page(&web, &s.http, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!html.contains("<script>alert"), "{path}");
        assert!(!html.contains("<img src=x"), "{path}");
        assert!(
            html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn five_hundred_concurrent_page_views_make_one_token_request() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let views = (0..500).map(|i| s.http.get(web.url(&format!("/?page={}", 1 + i % 3))).send());
    let responses = futures_util::future::join_all(views).await;
    assert!(
        responses
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.status() == 200))
    );
    assert_eq!(web_app_token_requests(&web, &s.http).await, 1);
}

#[tokio::test]
async fn the_sites_token_is_renewed_shortly_before_it_expires() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    assert_eq!(page(&web, &s.http, "/").await.0, 200);
    // 15 minutes, renewed 30 seconds before the end: at 14:40 the old one still serves.
    web.clock.advance(14 * 60 + 20);
    assert_eq!(page(&web, &s.http, "/").await.0, 200);
    assert_eq!(web_app_token_requests(&web, &s.http).await, 1);
    web.clock.advance(15);
    s.advance_clocks(14 * 60 + 35);
    assert_eq!(page(&web, &s.http, "/").await.0, 200);
    assert_eq!(web_app_token_requests(&web, &s.http).await, 2);
}

#[tokio::test]
async fn a_token_the_api_refuses_is_renewed_once() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    assert_eq!(page(&web, &s.http, "/").await.0, 200);
    // The API (and the issuer) are 20 minutes ahead: the API refuses the cached token, which
    // the site still believes valid. It renews once and the page is served.
    s.advance_clocks(20 * 60);
    assert_eq!(page(&web, &s.http, "/").await.0, 200);
    assert_eq!(web_app_token_requests(&web, &s.http).await, 2);
}

#[tokio::test]
async fn public_pages_survive_an_auth_server_outage_while_the_token_lasts() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    assert_eq!(page(&web, &s.http, "/").await.0, 200);
    s.auth.stop().await;
    let (status, html, _) = page(&web, &s.http, "/").await;
    assert_eq!(status, 200, "served with the cached token");
    assert!(html.contains("Dr Alice Johnson"));
    // Within the renewal margin the renewal fails, and the still-valid token is used.
    web.clock.advance(14 * 60 + 40);
    assert_eq!(page(&web, &s.http, "/").await.0, 200);
    // Once it has expired there is no token: the site says so with a 503 page.
    web.clock.advance(30);
    let (status, html, headers) = page(&web, &s.http, "/").await;
    assert_eq!(status, 503);
    assert!(headers.contains_key("retry-after"));
    assert!(html.contains("unavailable"));
}

#[tokio::test]
async fn an_unreachable_api_gives_the_503_page() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    assert_eq!(page(&web, &s.http, "/").await.0, 200);
    s.api.stop().await;
    for path in ["/", "/staff/1"] {
        let (status, html, headers) = page(&web, &s.http, path).await;
        assert_eq!(status, 503, "{path}");
        assert_eq!(headers["retry-after"], "30");
        assert!(html.contains("unavailable"));
        assert_security_headers(&headers);
    }
}

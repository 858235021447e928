//! The website's items of the hardening issue: session cookies written only when they change and
//! renewals made once (h07), sign-out that says when the sign-in could not be ended and retries
//! (h08), pages for a session never cached and HSTS over HTTPS (h09), colour contrast (h14), the
//! issuer rule (h11), metric labels and the separate metrics listener (h02); and a locked
//! account told by the authorization server's status, not its wording.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix_web::cookie::{Cookie, CookieJar, Key};
use base64::Engine as _;
use reqwest::Method;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::*;

// ---------- support ----------

/// The session key of the websites started here, so that a test can read what a cookie holds.
const SESSION_KEY: [u8; 64] = [42; 64];

/// A website for `s` whose authorization server is reached at `issuer` (a proxy in front of
/// the stack's), with a known session key.
async fn web_through(s: &TestStack, issuer: &str) -> RunningService {
    let api = s.api.base_url.clone();
    let issuer = issuer.to_owned();
    s.start_web_configured(&api, move |w| {
        w.serve.issuer = issuer;
        w.serve.session_key = Some(
            base64::engine::general_purpose::STANDARD
                .encode(SESSION_KEY)
                .into(),
        );
    })
    .await
}

/// The signed-in member of staff a session cookie holds (`name=value`, or a whole
/// `Set-Cookie`), decrypted with [`SESSION_KEY`].
fn signed_in_state(cookie: &str) -> serde_json::Value {
    let pair = cookie.split(';').next().unwrap();
    let encrypted = Cookie::parse_encoded(pair.to_owned()).unwrap();
    let name = encrypted.name().to_owned();
    let mut jar = CookieJar::new();
    jar.add_original(encrypted);
    let plain = jar
        .private(&Key::from(&SESSION_KEY))
        .get(&name)
        .expect("the cookie decrypts with the session key");
    let state: HashMap<String, String> = serde_json::from_str(plain.value()).unwrap();
    serde_json::from_str(&state["user"]).unwrap()
}

/// The refresh token a session cookie holds.
fn refresh_token_in(cookie: &str) -> String {
    signed_in_state(cookie)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

const REFRESHES: &str =
    r#"oauth_tokens_issued_total{grant="refresh_token",client="directory-web"}"#;
const REUSE: &str = "oauth_refresh_token_reuse_detected_total";

/// The auth server's count of `name` (0 when it has no such series yet).
async fn auth_count(s: &TestStack, name: &str) -> f64 {
    series(&text_of(&s.http, &s.auth_url("/metrics")).await, name).unwrap_or(0.0)
}

/// Whether the authorization server holds `token` active, asked as the website's client.
async fn active(s: &TestStack, token: &str) -> bool {
    s.introspect(&s.web_client, token).await["active"] == true
}

/// Moves every clock (the website's too) forward.
fn advance_all(s: &TestStack, web: &RunningService, seconds: i64) {
    s.advance_clocks(seconds);
    web.clock.advance(seconds);
}

/// `GET path` with `cookie`, following nothing.
async fn get_with(web: &RunningService, cookie: &str, path: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(web.url(path))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// A TCP proxy that holds every chunk a client sends for `delay` before passing it on, so that
/// a call to the authorization server through it is still in flight when another request
/// arrives.
struct SlowProxy {
    address: SocketAddr,
    accept: tokio::task::JoinHandle<()>,
}

impl SlowProxy {
    async fn start(target_base: &str, delay: Duration) -> SlowProxy {
        let target: SocketAddr = target_base.trim_start_matches("http://").parse().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let Ok(outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut from_client, mut to_client) = inbound.into_split();
                    let (mut from_server, mut to_server) = outbound.into_split();
                    let up = async {
                        let mut buf = vec![0u8; 16 * 1024];
                        while let Ok(n @ 1..) = from_client.read(&mut buf).await {
                            tokio::time::sleep(delay).await;
                            if to_server.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                        drop(to_server.shutdown().await);
                    };
                    let down = async {
                        drop(tokio::io::copy(&mut from_server, &mut to_client).await);
                        drop(to_client.shutdown().await);
                    };
                    tokio::join!(up, down);
                });
            }
        });
        SlowProxy { address, accept }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for SlowProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

// ---------- h07: the session cookie and renewals ----------

#[tokio::test]
async fn h07_a_page_view_that_changes_nothing_sets_no_cookie() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = signed_in(&web, ALICE).await;
    let id = s.staff_id(BEN.username).await;
    for path in [
        "/profile".to_owned(),
        "/".to_owned(),
        format!("/staff/{id}"),
        "/how-it-works".to_owned(),
        "/sign-in".to_owned(),
    ] {
        let page = b.get(&path).await;
        assert!(matches!(page.status, 200 | 303), "{path}: {}", page.status);
        assert_eq!(page.set_cookie, None, "{path} sets no cookie");
    }
    // A minute on, the idle clock moves: one signed-in page writes the cookie, the next ones
    // do not.
    advance_all(&s, &web, 61);
    let touched = b.get("/profile").await;
    assert_eq!(touched.status, 200);
    assert!(
        touched.set_cookie.is_some(),
        "last_seen moves once a minute"
    );
    let again = b.get("/profile").await;
    assert_eq!((again.status, again.set_cookie), (200, None));
}

#[tokio::test]
async fn h07_two_concurrent_page_views_that_need_a_renewal_make_one_refresh() {
    let s = TestStack::start().await;
    // Every call to the authorization server takes at least 500 ms, so that the second page
    // view arrives while the first one's renewal is still in flight.
    let slow = SlowProxy::start(&s.auth.base_url, Duration::from_millis(500)).await;
    let web = web_through(&s, &slow.url()).await;
    let b = signed_in(&web, ALICE).await;
    let cookie = b.cookie.clone().unwrap();
    let first_refresh_token = refresh_token_in(&cookie);
    advance_all(&s, &web, 6 * 60);
    let (one, two) = tokio::join!(
        get_with(&web, &cookie, "/profile"),
        get_with(&web, &cookie, "/profile")
    );
    let mut renewed = Vec::new();
    for page in [one, two] {
        assert_eq!(page.status(), 200, "both page views are served");
        renewed.push(header(&page, "set-cookie").unwrap().to_owned());
    }
    assert_eq!(auth_count(&s, REFRESHES).await, 1.0, "one refresh");
    assert_eq!(auth_count(&s, REUSE).await, 0.0, "no reuse detected");
    let (a, b) = (refresh_token_in(&renewed[0]), refresh_token_in(&renewed[1]));
    assert_eq!(a, b, "both views carry the one renewal's tokens");
    assert_ne!(a, first_refresh_token);
    assert!(active(&s, &a).await, "the new refresh token is live");
    // The next renewal, from either cookie, works.
    advance_all(&s, &web, 6 * 60);
    let later = get_with(&web, &renewed[1], "/profile").await;
    assert_eq!(later.status(), 200);
    assert_eq!(auth_count(&s, REFRESHES).await, 2.0);
    assert_eq!(auth_count(&s, REUSE).await, 0.0);
}

#[tokio::test]
async fn h07_a_slow_page_started_before_a_renewal_does_not_put_back_the_spent_refresh_token() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let b = signed_in(&web, ALICE).await;
    let before = b.cookie.clone().unwrap();
    // Tab B's page is served 250 s after sign-in, before the access token's renewal is due;
    // tab A's, 45 s later, renews it.
    advance_all(&s, &web, 250);
    let slow_tab = get_with(&web, &before, "/profile").await;
    assert_eq!(slow_tab.status(), 200);
    let slow_tab_cookie = header(&slow_tab, "set-cookie").map(str::to_owned);
    advance_all(&s, &web, 45);
    let renewing_tab = get_with(&web, &before, "/profile").await;
    assert_eq!(renewing_tab.status(), 200);
    let renewed = header(&renewing_tab, "set-cookie").unwrap().to_owned();
    // Tab B's response reaches the browser last: whatever cookie it set wins.
    let jar = slow_tab_cookie.unwrap_or(renewed);
    assert_eq!(auth_count(&s, REFRESHES).await, 1.0);
    // The next renewal uses what the browser holds: the live refresh token, not the spent one.
    advance_all(&s, &web, 6 * 60);
    let later = get_with(&web, &jar, "/profile").await;
    assert_eq!(
        later.status(),
        200,
        "{:?}",
        header(&later, "location").map(str::to_owned)
    );
    assert_eq!(auth_count(&s, REFRESHES).await, 2.0);
    assert_eq!(auth_count(&s, REUSE).await, 0.0, "no reuse detected");
}

#[tokio::test]
async fn h07_a_renewal_that_loses_ends_the_session_and_revokes_what_it_held() {
    // An old copy of the cookie, presented after its refresh token was spent by another renewal
    // (another instance's, a lost response's, a thief's), cannot be told from theft. The site
    // ends that session, and revokes the tokens it held: nothing usable is left behind.
    let s = TestStack::start().await;
    let web = web_through(&s, &s.auth.base_url.clone()).await;
    let b = signed_in(&web, ALICE).await;
    let old = b.cookie.clone().unwrap();
    let old_access = signed_in_state(&old)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    advance_all(&s, &web, 6 * 60);
    let renewed = get_with(&web, &old, "/profile").await;
    assert_eq!(renewed.status(), 200);
    let live = header(&renewed, "set-cookie").unwrap().to_owned();
    let live_refresh = refresh_token_in(&live);
    assert!(active(&s, &live_refresh).await);
    // The old copy, at once (within the authorization server's 2-second grace for concurrent
    // refreshes, so it answers invalid_grant without calling it reuse).
    let replayed = get_with(&web, &old, "/profile").await;
    assert_eq!(replayed.status(), 303);
    assert_eq!(header(&replayed, "location"), Some("/sign-in"));
    assert!(
        header(&replayed, "set-cookie").is_some_and(|c| c.contains("Max-Age=0")),
        "the session is ended"
    );
    assert_eq!(auth_count(&s, REUSE).await, 0.0);
    assert!(
        !active(&s, &old_access).await,
        "its access token is revoked"
    );
    assert!(
        !active(&s, &live_refresh).await,
        "revoking its refresh token ends the sign-in it belonged to"
    );
    let after = get_with(&web, &live, "/profile").await;
    assert_eq!(header(&after, "location"), Some("/sign-in"));
}

// ---------- h08: sign-out when the authorization server cannot be reached ----------

#[tokio::test]
async fn h08_sign_out_while_the_auth_server_is_unreachable_says_so_and_revokes_once_it_is_back() {
    let s = TestStack::start().await;
    let proxy = CutProxy::start(&s.auth.base_url).await;
    let web = web_through(&s, &proxy.url(&s.auth.base_url)).await;
    let mut b = signed_in(&web, ALICE).await;
    let held = signed_in_state(b.cookie.as_deref().unwrap());
    let refresh = held["refresh_token"].as_str().unwrap().to_owned();
    let access = held["access_token"].as_str().unwrap().to_owned();
    let csrf = hidden(&b.get("/profile").await.html, "csrf");

    proxy.cut().await;
    let r = b
        .http
        .post(web.url("/sign-out"))
        .header("Cookie", b.cookie.clone().unwrap())
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(header(&r, "cache-control"), Some("private, no-store"));
    // No Clear-Site-Data: "cookies", which would erase the device cookie too.
    assert_eq!(header(&r, "clear-site-data"), None);
    assert!(
        header(&r, "set-cookie").is_some_and(|c| c.contains("Max-Age=0")),
        "the browser's session is ended all the same"
    );
    assert_eq!(header(&r, "location"), None, "a page, not a redirect");
    let page = r.text().await.unwrap();
    for words in [
        "You are signed out of this browser",
        "the university login server could not be reached",
        "This site will keep trying to end it for about the next hour",
    ] {
        assert!(page.contains(words), "{words:?} in {page}");
    }
    assert!(
        active(&s, &refresh).await,
        "the sign-in is still live at the auth server"
    );
    let metrics = text_of(&s.http, &web.url("/metrics")).await;
    assert_eq!(series(&metrics, "web_revocations_pending"), Some(2.0));

    // The auth server is reachable again; the first retry is due 10 s after the failure.
    proxy.restore().await;
    web.clock.advance(10);
    let deadline = Instant::now() + Duration::from_secs(30);
    while active(&s, &refresh).await {
        assert!(
            Instant::now() < deadline,
            "the revocation was never retried"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    while active(&s, &access).await {
        assert!(Instant::now() < deadline, "the access token stays active");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = text_of(&s.http, &web.url("/metrics")).await;
        if series(&metrics, "web_revocations_pending") == Some(0.0) {
            assert_eq!(
                series(&metrics, "web_revocations_given_up_total"),
                Some(0.0)
            );
            break;
        }
        assert!(Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn h08_sign_out_with_the_auth_server_up_revokes_both_tokens_and_redirects() {
    let s = TestStack::start().await;
    let web = web_through(&s, &s.auth.base_url.clone()).await;
    let mut b = signed_in(&web, ALICE).await;
    let held = signed_in_state(b.cookie.as_deref().unwrap());
    let csrf = hidden(&b.get("/profile").await.html, "csrf");
    let out = b
        .send(
            Method::POST,
            "/sign-out",
            Some(&[("csrf", csrf.as_str())]),
            &[],
        )
        .await;
    assert_eq!((out.status, out.location.as_deref()), (303, Some("/")));
    for token in ["refresh_token", "access_token"] {
        assert!(!active(&s, held[token].as_str().unwrap()).await, "{token}");
    }
}

// ---------- h09: caching of pages rendered for a session, HSTS ----------

#[tokio::test]
async fn h09_pages_rendered_for_a_session_are_private_and_never_stored() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let b = signed_in(&web, ALICE).await;
    let cookie = b.cookie.clone().unwrap();
    let id = s.staff_id(BEN.username).await;
    for path in [
        "/".to_owned(),
        format!("/staff/{id}"),
        "/how-it-works".to_owned(),
        "/profile".to_owned(),
        "/sign-in".to_owned(),
        "/staff/999999".to_owned(),
    ] {
        let r = get_with(&web, &cookie, &path).await;
        assert!(
            matches!(r.status().as_u16(), 200 | 303 | 404),
            "{path}: {}",
            r.status()
        );
        assert_eq!(
            header(&r, "cache-control"),
            Some("private, no-store"),
            "{path}"
        );
    }
    // The sign-in form holds a CSRF token even for an anonymous visitor.
    let form = reqwest::get(web.url("/sign-in")).await.unwrap();
    assert_eq!(form.status(), 200);
    assert_eq!(header(&form, "cache-control"), Some("private, no-store"));
    // The stylesheet keeps its public caching whoever asks.
    let css = get_with(&web, &cookie, "/static/site.css").await;
    assert_eq!(header(&css, "cache-control"), Some("public, max-age=3600"));
}

#[tokio::test]
async fn h09_anonymous_public_pages_keep_their_caching() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let id = s.staff_id(BEN.username).await;
    for path in [
        "/".to_owned(),
        format!("/staff/{id}"),
        "/how-it-works".to_owned(),
    ] {
        let r = reqwest::get(web.url(&path)).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(header(&r, "cache-control"), None, "{path}: as before");
        assert_eq!(header(&r, "set-cookie"), None, "{path}: no session");
    }
    let css = reqwest::get(web.url("/static/site.css")).await.unwrap();
    assert_eq!(header(&css, "cache-control"), Some("public, max-age=3600"));
}

#[tokio::test]
async fn h09_hsts_is_sent_on_every_response_when_the_public_url_is_https() {
    let s = TestStack::start().await;
    let https = s.start_web_over_https().await;
    let http = s.start_web().await;
    for path in [
        "/",
        "/sign-in",
        "/how-it-works",
        "/healthz",
        "/metrics",
        "/static/site.css",
        "/no-such-page",
    ] {
        let r = reqwest::get(https.url(path)).await.unwrap();
        assert_eq!(
            header(&r, "strict-transport-security"),
            Some("max-age=31536000"),
            "{path}"
        );
        let r = reqwest::get(http.url(path)).await.unwrap();
        assert_eq!(header(&r, "strict-transport-security"), None, "{path}");
    }
}

// ---------- h14: colour contrast ----------

const SITE_CSS: &str = include_str!("../../directory-web/static/site.css");

/// WCAG 2.2 relative luminance of `#rrggbb`.
fn luminance(hex: &str) -> f64 {
    let hex = hex.trim().trim_start_matches('#');
    assert_eq!(hex.len(), 6, "a #rrggbb colour: {hex}");
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

/// WCAG 2.2 contrast ratio of two colours.
fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// `fg` drawn at `opacity` over `bg`, as a browser composites it.
fn over(fg: &str, bg: &str, opacity: f64) -> String {
    let rgb = |h: &str| {
        let h = h.trim_start_matches('#');
        [0, 2, 4].map(|i| f64::from(u8::from_str_radix(&h[i..i + 2], 16).unwrap()))
    };
    let (f, b) = (rgb(fg), rgb(bg));
    let mixed: Vec<String> = (0..3)
        .map(|i| {
            format!(
                "{:02x}",
                (opacity * f[i] + (1.0 - opacity) * b[i]).round() as u8
            )
        })
        .collect();
    format!("#{}", mixed.concat())
}

/// The custom properties set in `block` (`--name: #hex;`).
fn properties(block: &str) -> HashMap<String, String> {
    block
        .lines()
        .filter_map(|l| {
            let (name, value) = l.trim().strip_prefix("--")?.split_once(':')?;
            let value = value.trim().trim_end_matches(';').trim();
            value
                .starts_with('#')
                .then(|| (name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// The declarations of the first rule whose selector is exactly `selector`.
fn rule<'a>(css: &'a str, selector: &str) -> &'a str {
    let start = css
        .lines()
        .scan(0, |offset, line| {
            let at = *offset;
            *offset += line.len() + 1;
            Some((at, line))
        })
        .find(|(_, line)| {
            line.trim() == format!("{selector} {{")
                || line.trim().starts_with(&format!("{selector} {{ "))
        })
        .map(|(at, line)| at + line.find('{').unwrap() + 1)
        .unwrap_or_else(|| panic!("no rule {selector}"));
    let end = start + css[start..].find('}').unwrap();
    &css[start..end]
}

/// The value of `property` in a rule's declarations.
fn declared<'a>(declarations: &'a str, property: &str) -> Option<&'a str> {
    declarations.split(';').find_map(|d| {
        let (name, value) = d.split_once(':')?;
        (name.trim() == property).then(|| value.trim())
    })
}

/// A colour as written: `#rrggbb`, or `var(--name)` looked up in `theme`.
fn colour(value: &str, theme: &HashMap<String, String>) -> String {
    match value
        .strip_prefix("var(--")
        .and_then(|v| v.strip_suffix(')'))
    {
        Some(name) => theme
            .get(name)
            .unwrap_or_else(|| panic!("--{name} is not set"))
            .clone(),
        None => value.to_owned(),
    }
}

#[test]
fn h14_every_text_colour_pair_of_the_stylesheet_meets_wcag_aa_contrast() {
    let light = properties(rule(SITE_CSS, ":root"));
    let dark_start = SITE_CSS
        .find("@media (prefers-color-scheme: dark)")
        .unwrap();
    let mut dark = light.clone();
    dark.extend(properties(rule(&SITE_CSS[dark_start..], ":root")));
    let mut failures = Vec::new();
    let mut check = |what: String, fg: &str, bg: &str| {
        let ratio = contrast(fg, bg);
        if ratio < 4.5 {
            failures.push(format!("{what}: {fg} on {bg} is {ratio:.2}:1"));
        }
    };
    for (scheme, theme) in [("light", &light), ("dark", &dark)] {
        let v = |name: &str| theme[name].clone();
        // Body text, muted text, headings and links on every surface they are set on.
        for fg in ["text", "text-muted", "heading", "link"] {
            for bg in ["bg", "surface", "surface-2", "notice-bg", "warning-bg"] {
                check(format!("{scheme} --{fg} on --{bg}"), &v(fg), &v(bg));
            }
        }
        check(format!("{scheme} code"), &v("code-text"), &v("code-bg"));
        check(format!("{scheme} tags"), &v("tag-text"), &v("tag-bg"));
        // The disabled "previous page" (and "next page") link, with any opacity it is drawn at,
        // on the page and on a card.
        let disabled = rule(SITE_CSS, ".pager-link.is-disabled");
        let fg = colour(declared(disabled, "color").unwrap(), theme);
        let opacity: f64 = declared(disabled, "opacity").map_or(1.0, |o| o.parse().unwrap());
        for bg in ["bg", "surface"] {
            check(
                format!("{scheme} disabled pager link on --{bg} (opacity {opacity})"),
                &over(&fg, &v(bg), opacity),
                &v(bg),
            );
        }
    }
    // The header and footer, on navy in both schemes.
    let nav = colour(
        declared(rule(SITE_CSS, ".site-nav a"), "color").unwrap(),
        &light,
    );
    check("navigation".into(), &nav, &light["navy-900"]);
    let footer = colour(
        declared(rule(SITE_CSS, ".site-footer"), "color").unwrap(),
        &light,
    );
    check("footer".into(), &footer, &light["navy-950"]);
    for alert in [".alert-error", ".alert-success"] {
        let r = rule(SITE_CSS, alert);
        check(
            alert.into(),
            declared(r, "color").unwrap(),
            declared(r, "background").unwrap(),
        );
    }
    let error = declared(rule(SITE_CSS, ".field-error"), "color").unwrap();
    check("field error".into(), error, &light["surface"]);
    assert!(failures.is_empty(), "{failures:#?}");
}

/// axe-core's script: `AXE_CORE_JS` names it, or it is installed once with npm under `target/`.
pub(crate) fn axe_core_script() -> String {
    if let Ok(path) = std::env::var("AXE_CORE_JS") {
        return std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/axe-core");
    let script = dir.join("node_modules/axe-core/axe.min.js");
    if !script.exists() {
        let status = std::process::Command::new("npm")
            .args([
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
            ])
            .arg(&dir)
            .arg("axe-core@4")
            .status()
            .expect("npm is needed to fetch axe-core (or set AXE_CORE_JS)");
        assert!(status.success(), "npm install axe-core failed");
    }
    std::fs::read_to_string(&script).unwrap()
}

#[tokio::test]
#[ignore = "needs chromium, chromium-driver and axe-core (npm, or AXE_CORE_JS): run with --ignored"]
async fn h14_the_directorys_pages_pass_axe_cores_colour_contrast_rule_in_chromium() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let axe = axe_core_script();
    let (_driver, client) = crate::web_browser::chromium().await;
    let id = s.staff_id(ALICE.username).await;
    for path in [
        "/".to_owned(),
        "/?page=3".to_owned(),
        format!("/staff/{id}"),
        "/sign-in".to_owned(),
        "/how-it-works".to_owned(),
    ] {
        client.goto(&web.url(&path)).await.unwrap();
        // WebDriver scripts are not the page's: its CSP (no scripts at all) does not apply.
        client.execute(&axe, Vec::new()).await.unwrap();
        let violations = client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'rule', values: ['color-contrast'] } })
                    .then(r => done(JSON.stringify(r.violations.map(v => ({
                        id: v.id,
                        nodes: v.nodes.map(n => ({ target: n.target, summary: n.failureSummary }))
                    })))))
                    .catch(e => done('axe failed: ' + e));",
                Vec::new(),
            )
            .await
            .unwrap();
        let violations = violations.as_str().unwrap().to_owned();
        assert_eq!(violations, "[]", "{path}");
    }
    client.close().await.unwrap();
}

// ---------- h11: the issuer rule ----------

#[tokio::test]
async fn h11_the_website_refuses_a_plain_http_issuer_that_is_not_loopback() {
    let settings = |issuer: &str| {
        directory_web::config::Settings::new(
            "127.0.0.1:0".parse().unwrap(),
            "http://127.0.0.1:8081",
            issuer,
            "directory-web",
            "secret",
        )
    };
    let refused = directory_web::startup::Application::build(settings("http://auth.example.edu"))
        .await
        .err()
        .expect("a plain-http issuer off loopback is refused");
    let message = format!("{refused:#}");
    assert!(message.contains("\"http://auth.example.edu\""), "{message}");
    assert!(
        message.contains("plain http on a host that is not loopback")
            && message.contains("use https://"),
        "{message}"
    );
    for allowed in [
        "https://auth.example.edu",
        "http://127.0.0.1:8082",
        "http://localhost:8082",
        "http://[::1]:8082",
    ] {
        assert!(settings(allowed).validate().is_ok(), "{allowed}");
    }
}

// ---------- h02: metric labels, and the separate metrics listener ----------

/// The number of request series in the website's `/metrics` at `url`.
async fn request_series(s: &TestStack, url: &str) -> (usize, String) {
    let text = text_of(&s.http, url).await;
    let count = text
        .lines()
        .filter(|l| l.starts_with("http_request_duration_seconds_count{"))
        .count();
    (count, text)
}

#[tokio::test]
async fn h02_invented_methods_and_unknown_paths_do_not_grow_the_websites_metrics() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let send = async |round: usize| {
        for i in 0..20 {
            let method = Method::from_bytes(format!("XYZZY{round}X{i}").as_bytes()).unwrap();
            s.http.request(method, web.url("/")).send().await.unwrap();
            s.http
                .get(web.url(&format!("/invented-{round}-{i}")))
                .send()
                .await
                .unwrap();
        }
    };
    // The scrape itself is a series: have it before counting.
    request_series(&s, &web.url("/metrics")).await;
    send(1).await;
    let (after_one, text) = request_series(&s, &web.url("/metrics")).await;
    assert!(
        text.contains(r#"route="unmatched",method="GET",status="404""#),
        "{text}"
    );
    assert!(text.contains(r#"route="/",method="other""#), "{text}");
    assert!(
        !text.contains("XYZZY") && !text.contains("invented-"),
        "{text}"
    );
    send(2).await;
    let (after_two, text) = request_series(&s, &web.url("/metrics")).await;
    assert_eq!(after_two, after_one, "no new series: {text}");
    assert!(text.len() < 64 * 1024, "bounded: {} bytes", text.len());
}

#[tokio::test]
async fn h02_with_metrics_bind_metrics_are_served_only_on_their_own_address() {
    let s = TestStack::start().await;
    let mut settings = directory_web::config::Settings::new(
        "127.0.0.1:0".parse().unwrap(),
        &s.api.base_url,
        &s.auth.base_url,
        &s.web_client.id,
        &s.web_client.secret,
    );
    settings.serve.workers = Some(1);
    settings.serve.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    let app = directory_web::startup::Application::build(settings)
        .await
        .unwrap();
    let base = format!("http://{}", app.address());
    let metrics = format!("http://{}/metrics", app.metrics_address().unwrap());
    let handle = app.handle();
    let running = tokio::spawn(app.run_until_stopped());

    let home = s.http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let main = s.http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(main.status(), 404, "no /metrics on the public address");
    let (_, text) = request_series(&s, &metrics).await;
    assert!(
        text.contains(
            r#"http_request_duration_seconds_count{route="/",method="GET",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="unmatched",method="GET",status="404""#),
        "{text}"
    );
    let other = s
        .http
        .get(metrics.replace("/metrics", "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        404,
        "the metrics listener serves /metrics only"
    );

    // Stopping the website stops its metrics listener too.
    handle.stop(true).await;
    running.await.unwrap().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.http.get(&metrics).send().await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the metrics listener still answers"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------- a locked account: the status, not the wording ----------

/// Posts the sign-in form for `user` with `password` from a fresh browser.
async fn try_sign_in(web: &RunningService, user: &str, password: &str) -> reqwest::Response {
    let mut b = Browser::new(web);
    let form = b.get("/sign-in").await;
    let csrf = hidden(&form.html, "csrf");
    b.http
        .post(web.url("/sign-in"))
        .header("Cookie", b.cookie.clone().unwrap())
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_locked_account_is_told_by_the_auth_servers_429_and_retry_after_in_minutes() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    for _ in 0..5 {
        let wrong = try_sign_in(&web, ALICE.username, "wrong-password").await;
        assert_eq!(wrong.status(), 200);
        assert!(
            wrong
                .text()
                .await
                .unwrap()
                .contains("Invalid username or password.")
        );
    }
    let locked = try_sign_in(&web, ALICE.username, ALICE.password).await;
    assert_eq!(locked.status(), 429);
    assert_eq!(header(&locked, "retry-after"), Some("900"));
    assert_eq!(header(&locked, "cache-control"), Some("private, no-store"));
    let page = locked.text().await.unwrap();
    assert!(
        page.contains(
            "Too many failed attempts for this account. Wait 15 minutes, then try again."
        ),
        "{page}"
    );
    // Ten minutes on at the authorization server, five are left.
    s.auth.clock.advance(600);
    let later = try_sign_in(&web, ALICE.username, ALICE.password).await;
    assert_eq!(later.status(), 429);
    assert_eq!(header(&later, "retry-after"), Some("300"));
    assert!(
        later
            .text()
            .await
            .unwrap()
            .contains("Wait 5 minutes, then try again.")
    );
    // Another account is unaffected, and a wrong password there is just that.
    let ben = try_sign_in(&web, BEN.username, "wrong-password").await;
    assert_eq!(ben.status(), 200);
    assert!(
        ben.text()
            .await
            .unwrap()
            .contains("Invalid username or password.")
    );
}

/// Posts the sign-in form from `b` and returns the page.
async fn sign_in_page(b: &mut Browser<'_>, user: &str, password: &str) -> Page {
    let form = b.get("/sign-in").await;
    let csrf = hidden(&form.html, "csrf");
    b.post(
        "/sign-in",
        &[("csrf", &csrf), ("username", user), ("password", password)],
    )
    .await
}

#[tokio::test]
async fn h04_the_owner_signs_in_from_their_own_browser_while_a_stranger_on_the_same_network_is_throttled()
 {
    let s = TestStack::start().await;
    // Every browser here reaches the site from 127.0.0.1: one campus NAT.
    let web = s
        .start_web_configured(&s.api.base_url, |w| {
            w.serve.max_failed_sign_ins_per_address = 8
        })
        .await;
    // Alice signs in once from her own browser, then signs out: the device cookie stays.
    let mut alice = Browser::new(&web);
    let first = sign_in_page(&mut alice, ALICE.username, ALICE.password).await;
    assert_eq!(first.status, 303, "{}", first.html);
    let device = alice
        .device_cookie
        .clone()
        .expect("a device cookie after sign-in");
    assert!(device.starts_with("sd-device="), "{device}");
    let profile = alice.get("/profile").await;
    let csrf = hidden(&profile.html, "csrf");
    let out = alice.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(alice.cookie, None, "the session is over");
    assert_eq!(
        alice.device_cookie.as_deref(),
        Some(device.as_str()),
        "the device's standing is not"
    );
    // A stranger on the same network guesses her password until her account is locked...
    let mut stranger = Browser::new(&web);
    for _ in 0..5 {
        let r = sign_in_page(&mut stranger, ALICE.username, "wrong-guess").await;
        assert_eq!(r.status, 200);
        assert!(r.html.contains("Invalid username or password."));
    }
    let locked = sign_in_page(&mut stranger, ALICE.username, ALICE.password).await;
    assert_eq!(locked.status, 429, "unknown browsers stay locked out");
    // ...and sprays other names until the network address is throttled too.
    for i in 0..3 {
        sign_in_page(&mut stranger, &format!("nobody{i}"), "x").await;
    }
    let sprayed = sign_in_page(&mut stranger, BEN.username, BEN.password).await;
    assert_eq!(sprayed.status, 429);
    assert!(
        sprayed.html.contains("from your network"),
        "{}",
        sprayed.html
    );
    // Alice, from the browser she used before, gets in at once.
    let back = sign_in_page(&mut alice, ALICE.username, ALICE.password).await;
    assert_eq!(back.status, 303, "{}", back.html);
    assert_eq!(back.location.as_deref(), Some("/profile"));
    assert!(alice.cookie.is_some());
    // A device cookie is worth nothing for another person, or altered.
    let mut borrowed = Browser::new(&web);
    borrowed.device_cookie = Some(device.clone());
    assert_eq!(
        sign_in_page(&mut borrowed, BEN.username, BEN.password)
            .await
            .status,
        429
    );
    let mut forged = Browser::new(&web);
    forged.device_cookie = Some(format!("{device}x"));
    assert_eq!(
        sign_in_page(&mut forged, ALICE.username, ALICE.password)
            .await
            .status,
        429
    );
}

//! Accessible everywhere: every page of the website and of the authorization server, signed
//! out and signed in, has no axe-core violation of WCAG 2.0, 2.1 or 2.2 at level A or AA (the
//! standard the UK's Public Sector Bodies Accessibility Regulations 2018 point to), and a
//! member of staff can go the whole way with the keyboard alone: skip link, visible focus,
//! sign in, edit, sign out.
//!
//! Each page's status is checked over plain HTTP first (the browser does not show it), then
//! the page is shown in Chromium and checked there, where the stylesheet and the layout are
//! real. Saves `target/screenshots/keyboard-skip-link.png`.
//!
//! Like `web_browser.rs`, these need `chromium`, `chromium-driver` and npm (for axe-core):
//! `cargo test` lists them as ignored, and `.ci/run` runs them with `--ignored`.

use std::time::Duration;

use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::json;

use crate::support::*;

/// A page to check: its path on the website, the status it answers with, and a text that
/// shows it is the page meant.
struct Shown<'a> {
    path: String,
    status: u16,
    shows: &'a str,
}

fn shown(path: impl Into<String>, status: u16, shows: &str) -> Shown<'_> {
    Shown {
        path: path.into(),
        status,
        shows,
    }
}

/// The pages that need no form posted: the directory (whole, searched, filtered, with no
/// match, page 2), a staff page, how it works, try it, and the error pages.
fn pages_to_browse(staff_id: i64) -> Vec<Shown<'static>> {
    vec![
        shown("/", 200, "Find a member of staff"),
        shown("/?q=chem", 200, "found for “chem”"),
        shown(
            "/?department=School+of+Chemistry",
            200,
            "in School of Chemistry",
        ),
        shown("/?q=zzzzqx", 200, "No one matches"),
        shown("/?page=2", 200, "Page 2 of"),
        shown("/?initial=J", 200, "Johnson"),
        shown("/?initial=Q", 200, "No one matches"),
        shown(format!("/staff/{staff_id}"), 200, "Dr Alice Johnson"),
        shown("/how-it-works", 200, "How it works: two kinds of token"),
        shown("/try-it", 200, "Try it: the attacks, live"),
        shown("/staff/999999", 404, "Page not found"),
        shown("/no-such-page", 404, "Page not found"),
    ]
}

/// Shows `path` in the browser, checks it shows `shows`, and checks it with axe-core.
async fn check_in_browser(client: &Client, web: &RunningService, path: &str, shows: &str) {
    client.goto(&web.url(path)).await.unwrap();
    wait_for_text(client, shows).await;
    assert_accessible(client, path).await;
}

/// Signs in with the website's password form, in the browser.
async fn sign_in_with_password(client: &Client, web: &RunningService, user: TestUser<'_>) {
    client.goto(&web.url("/sign-in")).await.unwrap();
    type_into(client, "username", user.username).await;
    type_into(client, "password", user.password).await;
    click(client, "#sign-in-password button[type=submit]").await;
    wait_for_path(client, "/profile").await;
}

#[tokio::test]
#[ignore = "needs chromium, chromium-driver and axe-core (npm): run with --ignored"]
async fn every_page_signed_out_has_no_wcag_2_2_a_or_aa_violation() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let id = s.staff_id(ALICE.username).await;
    let mut pages = pages_to_browse(id);
    pages.extend([
        shown(
            "/sign-in",
            200,
            "Or: type your password into this site (the 2013 design)",
        ),
        shown(
            "/sign-in/callback?error=access_denied&state=x",
            400,
            "This sign-in was not started here",
        ),
    ]);
    let (_driver, client) = chromium().await;
    for page in &pages {
        let r = s.http.get(web.url(&page.path)).send().await.unwrap();
        assert_eq!(r.status(), page.status, "{}", page.path);
        assert!(
            r.text().await.unwrap().contains(page.shows),
            "{}",
            page.path
        );
        check_in_browser(&client, &web, &page.path, page.shows).await;
    }

    // Try it, after an attack with the site's own token.
    client.goto(&web.url("/try-it")).await.unwrap();
    click(&client, "#site-token button[name=attack]").await;
    wait_for_text(&client, "refused, as expected").await;
    assert_accessible(&client, "try it, after an attack with the site's token").await;

    // The website's password form, after a wrong password.
    sign_in_page_with(&client, &web, "not-the-password").await;
    wait_for_text(&client, "Invalid username or password.").await;
    assert_accessible(&client, "the sign-in page, after a wrong password").await;

    // The check itself sees a fault when there is one: the same page with the username's
    // label taken away.
    client
        .execute(
            "document.querySelector('label[for=username]').remove();",
            Vec::new(),
        )
        .await
        .unwrap();
    let found = axe_violations(&client, Rules::Wcag22AA).await;
    let ids: Vec<&str> = found.iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["label"], "{found:#?}");
    assert_eq!(found[0]["nodes"][0]["target"], json!(["#username"]));

    // The authorization server's own sign-in page, reached the way a visitor reaches it.
    client.goto(&web.url("/sign-in")).await.unwrap();
    click(&client, "#sign-in-university a.button").await;
    wait_for_path(&client, "/oauth/authorize").await;
    wait_for_text(&client, "is asking to").await;
    assert_accessible(&client, "the university login").await;
    // … showing a wrong password.
    type_into(&client, "username", ALICE.username).await;
    type_into(&client, "password", "not-the-password").await;
    click(&client, "button[value=sign-in]").await;
    wait_for_text(&client, "The username or password is incorrect.").await;
    assert_accessible(&client, "the university login, after a wrong password").await;
    // … and cancelled: the website's callback says nobody was signed in.
    click(&client, "button[value=cancel]").await;
    wait_for_path(&client, "/sign-in/callback").await;
    wait_for_text(&client, "You were not signed in").await;
    assert_accessible(&client, "the callback, after a cancelled sign-in").await;

    // The authorization server's error page: a redirect URI it does not know.
    let mut b = Browser::new(&web);
    let started = start_code_flow(&mut b, None).await;
    let mut unregistered = reqwest::Url::parse(&started.endpoint).unwrap();
    for (name, value) in &started.params {
        let value = match name.as_str() {
            "redirect_uri" => "http://evil.example/sign-in/callback",
            _ => value,
        };
        unregistered.query_pairs_mut().append_pair(name, value);
    }
    let r = s.http.get(unregistered.clone()).send().await.unwrap();
    assert_eq!(r.status(), 400);
    client.goto(unregistered.as_str()).await.unwrap();
    wait_for_text(&client, "This sign-in cannot go on").await;
    assert_accessible(&client, "the university login's error page").await;

    // The 503 page, with the API down.
    s.api.stop().await;
    let r = s.http.get(web.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    check_in_browser(&client, &web, "/", "The directory is unavailable").await;
    client.close().await.unwrap();
}

/// Posts the website's password form for Alice with `password`.
async fn sign_in_page_with(client: &Client, web: &RunningService, password: &str) {
    client.goto(&web.url("/sign-in")).await.unwrap();
    type_into(client, "username", ALICE.username).await;
    type_into(client, "password", password).await;
    click(client, "#sign-in-password button[type=submit]").await;
}

#[tokio::test]
#[ignore = "needs chromium, chromium-driver and axe-core (npm): run with --ignored"]
async fn every_page_signed_in_has_no_wcag_2_2_a_or_aa_violation() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let id = s.staff_id(ALICE.username).await;
    let mut pages = pages_to_browse(id);
    pages.push(shown("/profile", 200, "Recent changes to your record"));
    // The statuses, as a signed-in browser gets them.
    let mut b = signed_in(&web, ALICE).await;
    for page in &pages {
        let r = b.get(&page.path).await;
        assert_eq!(r.status, page.status, "{}", page.path);
        assert!(r.html.contains(page.shows), "{}", page.path);
    }
    let (_driver, client) = chromium().await;
    sign_in_with_password(&client, &web, ALICE).await;
    for page in &pages {
        check_in_browser(&client, &web, &page.path, page.shows).await;
        // (The error pages are drawn without the session: their header offers to sign in.)
        assert!(
            client.source().await.unwrap().contains("Sign out") || page.status == 404,
            "{} is shown signed in",
            page.path
        );
    }

    // Try it, after an attack with Alice's own token.
    client.goto(&web.url("/try-it")).await.unwrap();
    click(&client, "button[value=person-edits-other]").await;
    wait_for_text(&client, "refused, as expected").await;
    assert_accessible(&client, "try it, after an attack with your token").await;

    // The profile with a field's error: an office longer than the 100 characters allowed,
    // set as a script would (the field's own maxlength stops typing).
    client.goto(&web.url("/profile")).await.unwrap();
    client
        .execute(
            "document.getElementById('office').value = 'x'.repeat(101);",
            Vec::new(),
        )
        .await
        .unwrap();
    click(&client, "form[action='/profile'] .field-submit button").await;
    wait_for_text(&client, "id=\"office-error\"").await;
    assert_accessible(&client, "the profile, with a field's error").await;
    // The error is the field's description, not just text beside it, and the summary links
    // to the field by its label.
    let office = client.find(Locator::Id("office")).await.unwrap();
    assert_eq!(
        office.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(
        office.attr("aria-describedby").await.unwrap().as_deref(),
        Some("office-error")
    );
    let summary = client
        .find(Locator::Css(".alert-error a[href='#office']"))
        .await
        .unwrap();
    assert_eq!(summary.text().await.unwrap(), "Office");
    let phone = client.find(Locator::Id("phone")).await.unwrap();
    assert_eq!(phone.attr("aria-invalid").await.unwrap(), None);

    // The conflict page: HR changes the record between loading the form and saving it.
    client.goto(&web.url("/profile")).await.unwrap();
    let hr = s.hr_token().await;
    let etag = etag_of(&s, id, &hr).await;
    let r = patch(
        &s,
        id,
        Some(&hr),
        Some(&etag),
        json!({"office": "Changed by HR"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    type_into(&client, "bio", " And mine.").await;
    click(&client, "form[action='/profile'] .field-submit button").await;
    wait_for_text(&client, "Your profile changed while you were editing it").await;
    assert_accessible(&client, "the profile's conflict").await;

    // The 503 page, signed in, with the API down.
    s.api.stop().await;
    assert_eq!(b.get("/profile").await.status, 503);
    check_in_browser(&client, &web, "/profile", "The directory is unavailable").await;
    client.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs chromium, chromium-driver and axe-core (npm): run with --ignored"]
async fn the_pages_in_the_dark_colour_scheme_have_no_wcag_2_2_a_or_aa_violation() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let id = s.staff_id(ALICE.username).await;
    let (_driver, client) = chromium_with(&["--force-dark-mode"]).await;
    client.goto(&web.url("/")).await.unwrap();
    let dark = client
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches;",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(dark, json!(true), "the browser asks for the dark scheme");
    let mut pages = pages_to_browse(id);
    pages.push(shown("/sign-in", 200, "Sign in with the university login"));
    for page in &pages {
        check_in_browser(&client, &web, &page.path, page.shows).await;
    }
    client.goto(&web.url("/sign-in")).await.unwrap();
    click(&client, "#sign-in-university a.button").await;
    wait_for_path(&client, "/oauth/authorize").await;
    type_into(&client, "username", ALICE.username).await;
    type_into(&client, "password", "not-the-password").await;
    click(&client, "button[value=sign-in]").await;
    wait_for_text(&client, "The username or password is incorrect.").await;
    assert_accessible(
        &client,
        "the university login, dark, after a wrong password",
    )
    .await;

    sign_in_with_password(&client, &web, ALICE).await;
    client
        .execute(
            "document.getElementById('office').value = 'x'.repeat(101);",
            Vec::new(),
        )
        .await
        .unwrap();
    click(&client, "form[action='/profile'] .field-submit button").await;
    wait_for_text(&client, "id=\"office-error\"").await;
    assert_accessible(&client, "the profile, dark, with a field's error").await;
    check_in_browser(&client, &web, "/how-it-works", "live: you, ajohnson").await;
    client.goto(&web.url("/try-it")).await.unwrap();
    click(&client, "button[value=person-edits-other]").await;
    wait_for_text(&client, "refused, as expected").await;
    assert_accessible(&client, "try it, dark, after an attack").await;
    client.close().await.unwrap();
}

/// Fails unless the page the browser shows fits its window's width (WCAG 1.4.10 Reflow: at
/// 320 CSS pixels nothing but a code listing may scroll sideways); the message names the
/// elements that reach past the window's edge, innermost first. `what` names the page.
async fn assert_fits_the_width(client: &Client, what: &str) {
    let found = client
        .execute(
            "const d = document.documentElement;
             const edge = d.clientWidth + 0.5;
             const past = e => e.getBoundingClientRect().right > edge;
             const culprits = [...document.body.querySelectorAll('*')]
               .filter(e => past(e) && ![...e.children].some(past))
               .slice(0, 5)
               .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                 + ' ' + JSON.stringify((e.textContent || '').trim().slice(0, 40)));
             return { overflow: d.scrollWidth - d.clientWidth, width: innerWidth, culprits };",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        found["overflow"],
        json!(0),
        "{what} scrolls sideways at {} px: {:#}",
        found["width"],
        found["culprits"]
    );
}

#[tokio::test]
#[ignore = "needs chromium, chromium-driver and axe-core (npm): run with --ignored"]
async fn at_320_css_pixels_wide_no_page_scrolls_sideways() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let id = s.staff_id(ALICE.username).await;
    let (_driver, client) = chromium().await;
    client.set_window_size(320, 900).await.unwrap();
    let width = client
        .execute("return innerWidth;", Vec::new())
        .await
        .unwrap();
    assert_eq!(width, json!(320), "the window is as narrow as asked");
    let mut pages = pages_to_browse(id);
    pages.push(shown("/sign-in", 200, "Sign in with the university login"));
    for page in &pages {
        check_width_of(&client, &web, &page.path, page.shows).await;
    }
    click(&client, "#sign-in-university a.button").await;
    wait_for_path(&client, "/oauth/authorize").await;
    wait_for_text(&client, "is asking to").await;
    assert_fits_the_width(&client, "the university login").await;

    sign_in_with_password(&client, &web, ALICE).await;
    assert_fits_the_width(&client, "the profile").await;
    check_width_of(&client, &web, "/how-it-works", "live: you, ajohnson").await;
    client.goto(&web.url("/try-it")).await.unwrap();
    click(&client, "button[value=person-edits-other]").await;
    wait_for_text(&client, "refused, as expected").await;
    assert_fits_the_width(&client, "try it, after an attack").await;
    client.close().await.unwrap();
}

/// Shows `path`, waits for `shows`, and checks the page fits the window's width.
async fn check_width_of(client: &Client, web: &RunningService, path: &str, shows: &str) {
    client.goto(&web.url(path)).await.unwrap();
    wait_for_text(client, shows).await;
    assert_fits_the_width(client, path).await;
}

/// The focused element, as the keyboard journey sees it.
struct Focus {
    /// Its tag, id, name and text, to say which it is.
    described: String,
    /// Whether it matches the selector asked about.
    matches: bool,
    /// Whether its focus is drawn: an outline (style not `none`, width over 0) or a box shadow.
    drawn: bool,
    /// Whether it takes room on the page and lies in the window.
    in_view: bool,
}

/// What has the keyboard's focus, and whether it matches `selector`.
async fn focus(client: &Client, selector: &str) -> Focus {
    let found = client
        .execute(
            "const e = document.activeElement;
             const s = getComputedStyle(e);
             const r = e.getBoundingClientRect();
             return {
               described: e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                 + (e.name ? '[name=' + e.name + ']' : '') + ' '
                 + JSON.stringify((e.innerText || e.value || '').trim().slice(0, 50)),
               matches: e.matches(arguments[0]),
               drawn: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
                 || s.boxShadow !== 'none',
               in_view: r.width > 1 && r.height > 1 && r.bottom > 0 && r.top < innerHeight,
             };",
            vec![json!(selector)],
        )
        .await
        .unwrap();
    let field = |name: &str| found[name].as_bool().unwrap();
    Focus {
        described: found["described"].as_str().unwrap().to_owned(),
        matches: field("matches"),
        drawn: field("drawn"),
        in_view: field("in_view"),
    }
}

/// Sends `keys` to the focused element, as a keyboard would.
async fn press(client: &Client, keys: &str) {
    client
        .active_element()
        .await
        .unwrap()
        .send_keys(keys)
        .await
        .unwrap();
}

/// Presses `key` (Tab or Shift+Tab) until the focus is on what `selector` selects, at most
/// 40 times, checking that every element the focus lands on shows it and is in view.
async fn tab_to(client: &Client, key: &str, selector: &str) {
    let mut path = Vec::new();
    for _ in 0..40 {
        press(client, key).await;
        let f = focus(client, selector).await;
        assert!(f.drawn, "the focus on {} is not visible", f.described);
        assert!(f.in_view, "the focused {} is not in view", f.described);
        if f.matches {
            return;
        }
        path.push(f.described);
    }
    panic!("{selector} never had the focus; it went through {path:#?}");
}

/// Waits until the focus is on what `selector` selects.
async fn wait_for_focus(client: &Client, selector: &str) -> Focus {
    for _ in 0..100 {
        let f = focus(client, selector).await;
        if f.matches {
            return f;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the focus never reached {selector}: it is on {}",
        focus(client, selector).await.described
    );
}

/// From the top of the directory: the first Tab is on the skip link, shown and focused
/// visibly; Enter moves the focus to the main content, and the next Tab stays in it.
async fn skip_to_main_with_keys(client: &Client) {
    press(client, &Key::Tab).await;
    let f = focus(client, "a.skip-link[href='#main']").await;
    assert!(
        f.matches,
        "the first Tab is on the skip link, not {}",
        f.described
    );
    assert!(
        f.described.contains("Skip to main content"),
        "{}",
        f.described
    );
    assert!(f.drawn && f.in_view, "the skip link shows when focused");
    save_screenshot(client, "keyboard-skip-link").await;
    press(client, &Key::Enter).await;
    let f = wait_for_focus(client, "main#main").await;
    assert!(f.drawn, "the main content shows it has the focus");
    press(client, &Key::Tab).await;
    let f = focus(client, "main #q").await;
    assert!(
        f.matches,
        "after the skip link, Tab goes to the search box, not {}",
        f.described
    );
}

/// Back up to the header's sign-in link, then the password form, with keys only.
async fn sign_in_with_keys(client: &Client, user: TestUser<'_>) {
    tab_to(
        client,
        &(Key::Shift + &Key::Tab),
        ".site-nav a[href='/sign-in']",
    )
    .await;
    press(client, &Key::Enter).await;
    wait_for_path(client, "/sign-in").await;
    tab_to(client, &Key::Tab, "#username").await;
    press(client, user.username).await;
    press(client, &Key::Tab).await;
    assert!(
        focus(client, "#password").await.matches,
        "Tab goes on to the password"
    );
    press(client, user.password).await;
    press(client, &Key::Enter).await;
    wait_for_path(client, "/profile").await;
}

/// On the profile: replaces the biography with `bio` and saves with Enter on the button.
async fn edit_bio_with_keys(client: &Client, bio: &str) {
    tab_to(client, &Key::Tab, "#bio").await;
    press(client, &(Key::Control + "a")).await;
    press(client, bio).await;
    tab_to(
        client,
        &Key::Tab,
        "form[action='/profile'] .field-submit button",
    )
    .await;
    press(client, &Key::Enter).await;
    wait_for_text(client, "Your profile was saved.").await;
}

/// Uploads a photo on the profile: Tab to the file input, give it a file (as a keyboard user's
/// file chooser does), Tab to its button and press Enter.
async fn upload_photo_with_keys(client: &Client) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portrait.png");
    std::fs::write(&path, crate::support::images::png(640, 480)).unwrap();
    tab_to(client, &Key::Tab, "#photo").await;
    // WebDriver hands a file input's keys to its file chooser as a path, so the Tab that
    // leaves it is pressed on the keyboard itself (an input source), as a person would.
    press(client, path.to_str().unwrap()).await;
    let tab = char::from(Key::Tab);
    client
        .perform_actions(
            KeyActions::new("keyboard".into())
                .then(KeyAction::Down { value: tab })
                .then(KeyAction::Up { value: tab }),
        )
        .await
        .unwrap();
    let button = "form[action='/profile/photo'] .field-submit button";
    let f = wait_for_focus(client, button).await;
    assert!(f.drawn, "the focus on {} is not visible", f.described);
    press(client, &Key::Enter).await;
    wait_for_text(client, "Your photo was saved.").await;
    let shown = client
        .find(Locator::Css(".photo-card img"))
        .await
        .expect("the profile shows the uploaded photo");
    assert!(
        shown
            .attr("alt")
            .await
            .unwrap()
            .unwrap_or_default()
            .starts_with("Photo of")
    );
}

/// Signs out with the header's button, and lands on the directory signed out.
async fn sign_out_with_keys(client: &Client) {
    tab_to(client, &Key::Tab, ".nav-form button").await;
    press(client, &Key::Enter).await;
    wait_for_text(client, "Staff sign in").await;
    assert_eq!(client.current_url().await.unwrap().path(), "/");
}

#[tokio::test]
#[ignore = "needs chromium, chromium-driver and axe-core (npm): run with --ignored"]
async fn a_member_of_staff_signs_in_edits_and_signs_out_with_the_keyboard_alone() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let (_driver, client) = chromium().await;
    client.goto(&web.url("/")).await.unwrap();

    skip_to_main_with_keys(&client).await;
    sign_in_with_keys(&client, ALICE).await;
    upload_photo_with_keys(&client).await;
    edit_bio_with_keys(&client, "Edited with the keyboard alone.").await;
    let record = s
        .api
        .db
        .staff_by_username(ALICE.username)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.record.bio, "Edited with the keyboard alone.");
    sign_out_with_keys(&client).await;

    // Signed out for real: the profile sends the browser to sign in.
    client.goto(&web.url("/profile")).await.unwrap();
    wait_for_path(&client, "/sign-in").await;
    client.close().await.unwrap();
}

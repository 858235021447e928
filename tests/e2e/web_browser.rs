//! A real browser (Debian's headless Chromium, driven through chromedriver by fantoccini):
//! a member of staff signs in, edits their bio, sees it on the public page and signs out, once
//! with the password form (the password grant) and once on the university login, the
//! authorization server's own page (the authorization code grant with PKCE).
//! Then the teaching pages: how it works signed in (the three tokens compared) and `/try-it`
//! after an attack, each checked with axe-core for WCAG 2.2 A and AA.
//! Screenshots of the main pages are saved under `target/screenshots/`.
//!
//! It needs `chromium` and `chromium-driver`, which `.ci/run` installs; `cargo test` lists it
//! as ignored, and `.ci/run` runs it with `--ignored`.

use fantoccini::Locator;

use crate::support::*;

/// Saves the whole page, not just the window: the window is made as tall as the page for the
/// screenshot, then set back.
async fn save_full_page_screenshot(client: &fantoccini::Client, name: &str) {
    let height = client
        .execute("return document.documentElement.scrollHeight;", Vec::new())
        .await
        .unwrap()
        .as_u64()
        .unwrap();
    let (width, window_height) = {
        let (_, _, width, height) = client.get_window_rect().await.unwrap();
        (width as u32, height as u32)
    };
    // The window's frame takes some of its height: grow it until the page fits.
    client
        .set_window_size(width, height as u32 + 200)
        .await
        .unwrap();
    save_screenshot(client, name).await;
    client.set_window_size(width, window_height).await.unwrap();
}

/// Replaces the bio on the profile page with `bio`, saves, and waits for the confirmation.
async fn save_bio(client: &fantoccini::Client, bio: &str) {
    let field = client.find(Locator::Id("bio")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(bio).await.unwrap();
    click(client, "main form button[type=submit]").await;
    wait_for_text(client, "Your profile was saved.").await;
}

/// Signs out from the header, lands home, and finds the profile closed to it.
async fn sign_out(client: &fantoccini::Client, web: &RunningService) {
    click(client, ".nav-form button").await;
    wait_for_text(client, "Staff sign in").await;
    assert_eq!(
        client.current_url().await.unwrap().path(),
        "/",
        "signed out, back home"
    );
    client.goto(&web.url("/profile")).await.unwrap();
    wait_for_path(client, "/sign-in").await;
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver: .ci/run installs them and runs it with --ignored"]
async fn a_member_of_staff_edits_their_bio_in_a_real_browser() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let (_driver, client) = chromium().await;

    client.goto(&web.url("/")).await.unwrap();
    assert!(client.source().await.unwrap().contains("Dr Alice Johnson"));
    save_screenshot(&client, "directory").await;
    client.goto(&web.url("/how-it-works")).await.unwrap();
    save_screenshot(&client, "how-it-works").await;

    client.goto(&web.url("/sign-in")).await.unwrap();
    save_screenshot(&client, "sign-in").await;
    type_into(&client, "username", ALICE.username).await;
    type_into(&client, "password", ALICE.password).await;
    click(&client, "main form button[type=submit]").await;
    wait_for_path(&client, "/profile").await;

    let bio = client.find(Locator::Id("bio")).await.unwrap();
    bio.clear().await.unwrap();
    bio.send_keys("Edited in a real browser.").await.unwrap();
    save_screenshot(&client, "profile").await;
    click(&client, "main form button[type=submit]").await;
    wait_for_text(&client, "Your profile was saved.").await;
    assert_eq!(
        client.current_url().await.unwrap().path(),
        "/profile",
        "Post/Redirect/Get"
    );

    let id = s.staff_id(ALICE.username).await;
    client
        .goto(&web.url(&format!("/staff/{id}")))
        .await
        .unwrap();
    let public = client.source().await.unwrap();
    assert!(public.contains("Edited in a real browser."));
    assert!(
        public.contains("Your profile"),
        "the header shows the signed-in member of staff"
    );
    save_screenshot(&client, "staff-page").await;

    sign_out(&client, &web).await;
    client.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver: .ci/run installs them and runs it with --ignored"]
async fn a_member_of_staff_signs_in_on_the_university_login_in_a_real_browser() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let (_driver, client) = chromium().await;

    client.goto(&web.url("/sign-in")).await.unwrap();
    save_screenshot(&client, "sign-in-choice").await;
    click(&client, "#sign-in-university a.button").await;
    // The authorization server's own page: the website is not in the loop while the
    // password is typed.
    wait_for_path(&client, "/oauth/authorize").await;
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(&s.auth_url("/oauth/authorize")),
        "the browser is on the authorization server"
    );
    wait_for_text(&client, "is asking to").await;
    save_screenshot(&client, "auth-server-sign-in").await;
    type_into(&client, "username", ALICE.username).await;
    type_into(&client, "password", ALICE.password).await;
    click(&client, "button[value=sign-in]").await;
    // Back on the website, signed in, with the grant named.
    wait_for_path(&client, "/profile").await;
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(&web.url("/profile"))
    );
    wait_for_text(&client, "this site never saw your password").await;

    save_bio(&client, "Edited after the university login.").await;
    let id = s.staff_id(ALICE.username).await;
    client
        .goto(&web.url(&format!("/staff/{id}")))
        .await
        .unwrap();
    assert!(
        client
            .source()
            .await
            .unwrap()
            .contains("Edited after the university login.")
    );

    sign_out(&client, &web).await;
    client.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver: .ci/run installs them and runs it with --ignored"]
async fn the_three_tokens_and_a_live_attack_in_a_real_browser() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let before = all_records(&s).await;
    let (_driver, client) = chromium().await;

    client.goto(&web.url("/sign-in")).await.unwrap();
    type_into(&client, "username", ALICE.username).await;
    type_into(&client, "password", ALICE.password).await;
    click(&client, "#sign-in-password button[type=submit]").await;
    wait_for_path(&client, "/profile").await;

    // How it works, signed in: the three tokens side by side, the whole page.
    click(&client, ".site-nav a[href='/how-it-works']").await;
    wait_for_path(&client, "/how-it-works").await;
    wait_for_text(&client, "live: you, ajohnson").await;
    save_full_page_screenshot(&client, "how-it-works-signed-in").await;
    assert_accessible(&client, "how it works, signed in").await;

    // Try it, from the navigation: Alice's token on someone else's record.
    click(&client, ".site-nav a[href='/try-it']").await;
    wait_for_path(&client, "/try-it").await;
    assert_accessible(&client, "try it").await;
    click(&client, "button[value=person-edits-other]").await;
    wait_for_text(&client, "refused, as expected").await;
    let url = client.current_url().await.unwrap();
    assert_eq!(
        (url.path(), url.fragment()),
        ("/try-it", Some("result")),
        "the outcome is on the same page, scrolled to"
    );
    let source = client.source().await.unwrap();
    assert!(source.contains("The API answered <code>403</code> with <code>not_owner</code>."));
    assert_accessible(&client, "try it, after an attack").await;
    // Tall enough for the whole outcome: the request beside the answer.
    let (_, _, width, height) = client.get_window_rect().await.unwrap();
    client.set_window_size(width as u32, 1500).await.unwrap();
    client
        .execute(
            "document.getElementById('result').scrollIntoView();",
            Vec::new(),
        )
        .await
        .unwrap();
    save_screenshot(&client, "try-it").await;
    client
        .set_window_size(width as u32, height as u32)
        .await
        .unwrap();

    assert_eq!(all_records(&s).await, before, "trying changed nothing");
    sign_out(&client, &web).await;
    client.close().await.unwrap();
}

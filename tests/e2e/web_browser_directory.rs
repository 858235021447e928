//! The directory's A–Z bar in a real browser (Debian's headless Chromium, through
//! chromedriver): a visitor browses by the initial of family names, without JavaScript (the
//! site sends none), and axe-core finds nothing against WCAG 2.2 A and AA on the page. Saves
//! `target/screenshots/a-to-z.png`, the README's screenshot.
//!
//! Like `web_browser.rs`, it needs `chromium` and `chromium-driver`: `cargo test` lists it as
//! ignored, and `.ci/run` runs the ignored tests.

use std::time::Duration;

use fantoccini::Locator;

use crate::support::*;

/// Waits until the browser's address has `query` as its query string.
async fn wait_for_query(client: &fantoccini::Client, query: &str) {
    for _ in 0..100 {
        if client.current_url().await.unwrap().query() == Some(query) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the browser never reached ?{query}: it is at {}",
        client.current_url().await.unwrap()
    );
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver: .ci/run installs them and runs it with --ignored"]
async fn a_visitor_browses_the_directory_by_the_initial_of_family_names() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let (_driver, client) = chromium().await;

    client.goto(&web.url("/")).await.unwrap();
    let bar = client
        .find(Locator::Css(
            r#"nav[aria-label="Family names from A to Z"]"#,
        ))
        .await
        .unwrap();
    // The letters with nobody are no links: Q, U, X and Y in the demo.
    let links = bar.find_all(Locator::Css("a")).await.unwrap();
    assert_eq!(links.len(), 1 + 22, "All, and the letters with people");
    let plain = bar.find_all(Locator::Css(".alphabet-empty")).await.unwrap();
    let mut letters = Vec::new();
    for span in plain {
        // The letter, then its hidden "(nobody)" for screen readers.
        let text = span.text().await.unwrap();
        letters.push(text.chars().next().unwrap());
        assert!(text.ends_with("(nobody)"), "{text:?}");
    }
    assert_eq!(letters, ['Q', 'U', 'X', 'Y']);

    // Search, then pick a letter: the search is kept, and the letter is marked current.
    client
        .find(Locator::Id("q"))
        .await
        .unwrap()
        .send_keys("school")
        .await
        .unwrap();
    client
        .find(Locator::Css(".search-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_query(&client, "q=school&department=").await;
    client
        .find(Locator::Css(r#"nav.alphabet a[href$="initial=O"]"#))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_query(&client, "q=school&initial=O").await;
    let current = client
        .find(Locator::Css(r#"nav.alphabet [aria-current="page"]"#))
        .await
        .unwrap();
    assert!(current.text().await.unwrap().starts_with('O'));
    let heading = client
        .find(Locator::Id("results-heading"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        heading.ends_with("for “school” with a family name starting with O"),
        "{heading}"
    );
    let results = client
        .find(Locator::Css(".results"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(results.contains("Dr Owen O'Brien"), "{results}");
    save_screenshot(&client, "a-to-z").await;

    // WCAG 2.2 A and AA by axe-core: the bar with a current letter that is a link, and with
    // one that is not (nobody under Q).
    for path in [
        "/?q=school&initial=O",
        "/?department=School+of+Chemistry&initial=Q",
    ] {
        client.goto(&web.url(path)).await.unwrap();
        assert_accessible(&client, path).await;
    }
    client.close().await.unwrap();
}

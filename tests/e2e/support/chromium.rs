//! A real browser: Debian's headless Chromium driven through chromedriver by fantoccini, and
//! the few things the browser tests do with it (type, click, wait, keep a screenshot).
//!
//! The tests that use it need `chromium` and `chromium-driver`, which `.ci/run` installs;
//! `cargo test` lists them as ignored and `.ci/run` runs them with `--ignored`.

use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// A running chromedriver, killed when dropped.
pub struct Driver(std::process::Child);

impl Drop for Driver {
    fn drop(&mut self) {
        drop(self.0.kill());
        drop(self.0.wait());
    }
}

/// A chromedriver on a free port and a headless Chromium session through it.
pub async fn chromium() -> (Driver, Client) {
    chromium_with(&[]).await
}

/// [`chromium`], with Chromium's `extra` switches too (such as `--force-dark-mode`, which
/// makes pages see `prefers-color-scheme: dark`).
pub async fn chromium_with(extra: &[&str]) -> (Driver, Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = Driver(
        std::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver is not installed (apt-get install chromium chromium-driver)"),
    );
    let webdriver = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{webdriver}/status")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut args = vec![
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1100",
    ];
    args.extend(extra);
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({ "binary": "/usr/bin/chromium", "args": args }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&webdriver)
        .await
        .expect("chromedriver did not start a Chromium session");
    (driver, client)
}

/// Saves what the window shows as `target/screenshots/{name}.png`.
pub async fn save_screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// Waits until the browser's address has the path `path` (a form post and its redirect take a
/// moment); fails with what the page shows instead.
pub async fn wait_for_path(client: &Client, path: &str) {
    for _ in 0..100 {
        if client.current_url().await.unwrap().path() == path {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let source = client.source().await.unwrap_or_default();
    let start = source.find("<main").unwrap_or(0);
    panic!(
        "the browser never reached {path}: it is at {}, showing {}",
        client.current_url().await.unwrap(),
        &source[start..(start + 1500).min(source.len())]
    );
}

/// Waits until the page shows `text` (a form post and its redirect take a moment).
pub async fn wait_for_text(client: &Client, text: &str) {
    for _ in 0..100 {
        if client.source().await.unwrap_or_default().contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the page never showed {text:?}: it is at {}",
        client.current_url().await.unwrap()
    );
}

/// Types `text` into the field with the id `id`.
pub async fn type_into(client: &Client, id: &str, text: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// Clicks the element `css` selects.
pub async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

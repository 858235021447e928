//! A real browser (headless Chromium, as in `web_browser`) puts up a photo: a member of staff
//! signs in, chooses a file in the profile's file input, uploads it, and sees it on the
//! profile, on their public page and on their card in the directory, each image loaded from
//! the website's own origin under its Content-Security-Policy. The profile with its photo is
//! saved as `target/screenshots/profile-photo.png` (the copy in docs/screenshots/ comes from
//! it).
//!
//! Ignored like `web_browser`: it needs `chromium` and `chromium-driver` (`.ci/run` installs
//! them and runs every ignored test).

use std::time::Duration;

use fantoccini::{Client, Locator};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

use crate::support::*;

async fn wait_for_text(client: &Client, text: &str) {
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

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The natural width of the image `css` selects, once it has loaded (0 if it never does:
/// refused by the CSP, or not an image).
async fn loaded_width(client: &Client, css: &str) -> u32 {
    let image = client.find(Locator::Css(css)).await.unwrap();
    for _ in 0..100 {
        // WebDriver's own script, not the page's: the page's CSP forbids scripts, not this.
        let width = client
            .execute(
                "return arguments[0].naturalWidth;",
                vec![serde_json::to_value(&image).unwrap()],
            )
            .await
            .unwrap();
        if let Some(width @ 1..) = width.as_u64() {
            return width as u32;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    0
}

/// A portrait for the screenshot: a head and shoulders on a soft background.
fn portrait() -> Vec<u8> {
    let (w, h) = (600u32, 600u32);
    let image = RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let head = (fx - 300.0).powi(2) + (fy - 240.0).powi(2) < 110.0f32.powi(2);
        let shoulders =
            (fx - 300.0).powi(2) / 230.0f32.powi(2) + (fy - 600.0).powi(2) / 230.0f32.powi(2) < 1.0;
        if head {
            Rgb([224, 184, 150])
        } else if shoulders {
            Rgb([29, 68, 119])
        } else {
            Rgb([(200 + y / 12) as u8, (215 + y / 20) as u8, 235])
        }
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(image)
        .write_to(&mut std::io::Cursor::new(&mut out), ImageFormat::Jpeg)
        .unwrap();
    out
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver: .ci/run installs them and runs it with --ignored"]
async fn a_member_of_staff_puts_up_a_photo_in_a_real_browser() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let id = s.staff_id(ALICE.username).await;
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("alice.jpg");
    std::fs::write(&file, portrait()).unwrap();
    let (_driver, client) = chromium().await;

    client.goto(&web.url("/sign-in")).await.unwrap();
    for (field, value) in [("username", ALICE.username), ("password", ALICE.password)] {
        let input = client.find(Locator::Id(field)).await.unwrap();
        input.send_keys(value).await.unwrap();
    }
    click(&client, "#sign-in-password button[type=submit]").await;
    wait_for_text(&client, "Your photo").await;
    assert!(
        client
            .find(Locator::Css(".photo-card .avatar-initials"))
            .await
            .is_ok()
    );

    // Choosing the file is typing its path into the file input.
    let input = client.find(Locator::Id("photo")).await.unwrap();
    input.send_keys(&file.display().to_string()).await.unwrap();
    click(&client, "form[action='/profile/photo'] button[type=submit]").await;
    wait_for_text(&client, "Your photo was saved.").await;
    assert_eq!(client.current_url().await.unwrap().path(), "/profile");
    let photo = format!("img.avatar[src='/staff/{id}/photo'][alt='Photo of Dr Alice Johnson']");
    assert_eq!(
        loaded_width(&client, &photo).await,
        512,
        "re-encoded, fitted to 512"
    );
    client.set_window_size(1280, 2300).await.unwrap();
    let png = client.screenshot().await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("profile-photo.png"), png).unwrap();

    client
        .goto(&web.url(&format!("/staff/{id}")))
        .await
        .unwrap();
    assert_eq!(loaded_width(&client, &photo).await, 512);
    client.set_window_size(1280, 1100).await.unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join("staff-page-photo.png"), png).unwrap();
    client.goto(&web.url("/?q=johnson")).await.unwrap();
    let thumb =
        format!("img.avatar[src='/staff/{id}/photo/thumb'][alt='Photo of Dr Alice Johnson']");
    assert_eq!(loaded_width(&client, &thumb).await, 96);
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join("directory-photo.png"), png).unwrap();

    // Removing it brings the initials back.
    client.goto(&web.url("/profile")).await.unwrap();
    click(
        &client,
        "form[action='/profile/photo/remove'] button[type=submit]",
    )
    .await;
    wait_for_text(&client, "Your photo was removed.").await;
    assert!(
        client
            .find(Locator::Css(".photo-card .avatar-initials"))
            .await
            .is_ok()
    );
    client.close().await.unwrap();
}

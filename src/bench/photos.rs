//! The photo rows: what an upload costs (the API decodes and re-encodes every one, off its
//! async runtime, one per CPU), and photo reads at the API and at the website, each as a share
//! of its service's trivial endpoint measured in the same run.

use anyhow::Context as _;
use image::{DynamicImage, ImageFormat, RgbImage};

use super::Target;
use super::load::{Measured, Row, measure_closed_loop, percent};
use crate::demo;

/// Records given a photo (ids 1 to this), whose photos the read rows cycle through.
const PHOTOS: usize = 20;

/// A camera-sized picture (3000 × 2000, a JPEG of a few hundred kB with detail in every
/// block), as a member of staff would upload it.
fn camera_photo() -> anyhow::Result<Vec<u8>> {
    let image = RgbImage::from_fn(3000, 2000, |x, y| {
        let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) % 64;
        image::Rgb([
            ((x / 12) % 256) as u8,
            ((y / 8) % 256) as u8,
            ((x + y) % 192 + noise) as u8,
        ])
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(image)
        .write_to(&mut std::io::Cursor::new(&mut out), ImageFormat::Jpeg)
        .context("cannot encode the benchmark's photo")?;
    Ok(out)
}

/// The HR import's token (`directory:admin`), which may set anyone's photo.
async fn admin_token(target: &Target) -> anyhow::Result<String> {
    let token: serde_json::Value = target
        .http
        .post(format!("{}/oauth/token", target.auth))
        .basic_auth(demo::HR_CLIENT_ID, Some(demo::HR_CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(token["access_token"]
        .as_str()
        .context("the token response has no access_token")?
        .to_owned())
}

/// Uploads of a camera photo to records 1 to [`PHOTOS`] in turn, one connection per CPU (the
/// API decodes one per CPU): uploads per second, and each one's time.
pub async fn upload_row(target: &Target) -> anyhow::Result<Row> {
    let photo = std::sync::Arc::new(camera_photo()?);
    let token = admin_token(target).await?;
    let (http, api) = (target.http.clone(), target.api.clone());
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let kb = photo.len() / 1024;
    let put = move || {
        let id = 1 + next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % PHOTOS;
        http.put(format!("{api}/staff/{id}/photo"))
            .bearer_auth(&token)
            .header("Content-Type", "image/jpeg")
            .body(photo.as_ref().clone())
    };
    eprintln!("api: photo uploads…");
    let conns = target.cpus;
    let measured = measure_closed_loop(conns, target.seconds, put).await?;
    let each = (measured.rate > 0.0).then(|| conns as f64 * 1e3 / measured.rate);
    Ok(Row::new(
        format!("photo upload (decode + re-encode), {conns} conns"),
        measured,
        &each.map_or("—".to_owned(), |ms| {
            format!("{ms:.0} ms/CPU, 3000×2000 {kb} kB")
        }),
        "(cost)".into(),
    ))
}

/// Makes sure records 1 to [`PHOTOS`] have a photo (the website part may run without the
/// API part, whose upload row leaves them).
async fn ensure_photos(target: &Target) -> anyhow::Result<()> {
    let token = admin_token(target).await?;
    let photo = camera_photo()?;
    for id in 1..=PHOTOS {
        let url = format!("{}/staff/{id}/photo", target.api);
        let head = target.http.head(&url).bearer_auth(&token).send().await?;
        if head.status() == reqwest::StatusCode::NOT_FOUND {
            target
                .http
                .put(&url)
                .bearer_auth(&token)
                .body(photo.clone())
                .send()
                .await?
                .error_for_status()?;
        }
    }
    Ok(())
}

/// `GET /staff/{id}/photo` at the API with the website's token, as a share of its `healthz`.
pub async fn api_read_row(target: &Target, baseline: &Measured) -> anyhow::Result<Row> {
    ensure_photos(target).await?;
    let token = target.web_app_token().await?;
    let urls = (1..=PHOTOS)
        .map(|id| format!("{}/staff/{id}/photo", target.api))
        .collect();
    eprintln!("api: GET /staff/{{id}}/photo…");
    let n = target.connections;
    let reads = super::load::cycling(&target.http, urls, Some(token));
    let measured = measure_closed_loop(n, target.seconds, reads).await?;
    let ratio = baseline.share(&measured);
    Ok(Row::new(
        format!("API GET /staff/{{id}}/photo, {n} conns"),
        measured,
        &percent(ratio, "of API healthz"),
        "(no goal)".into(),
    ))
}

/// The website's `/staff/{id}/photo` (its cache, revalidated with the API every few seconds),
/// as a share of its `healthz`.
pub async fn web_read_row(target: &Target, baseline: &Measured) -> anyhow::Result<Row> {
    ensure_photos(target).await?;
    let urls = (1..=PHOTOS)
        .map(|id| format!("{}/staff/{id}/photo", target.web))
        .collect();
    eprintln!("web: photos…");
    let n = target.connections;
    let reads = super::load::cycling(&target.http, urls, None);
    let measured = measure_closed_loop(n, target.seconds, reads).await?;
    let ratio = baseline.share(&measured);
    Ok(Row::new(
        format!("web photo (/staff/{{id}}/photo), {n} conns"),
        measured,
        &percent(ratio, "of web healthz"),
        "(no goal)".into(),
    ))
}

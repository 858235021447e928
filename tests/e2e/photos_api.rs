//! Staff photos at the API (issue 16): who may change them, what is accepted (told by content,
//! whatever the declared type), what is refused and why (415, 422, 413 before the body is
//! read), what is stored (re-encoded, no metadata, fitted), how it is served (ETag, 304,
//! `Cache-Control`, `nosniff`), and what history says. docs/security-checklist.md, section L
//! (p01–p11).

use std::time::Duration;

use reqwest::{Method, Response};
use serde_json::Value;

use crate::support::images::{
    self, COMMENT_SECRET, EXIF_SECRET, GIF, HTML, SVG, jpeg, jpeg_markers, png, webp,
};
use crate::support::*;

async fn put_photo(
    s: &TestStack,
    id: i64,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> Response {
    s.api(Method::PUT, &format!("/staff/{id}/photo"), token)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn get_photo(s: &TestStack, path: &str, token: &str, etag: Option<&str>) -> Response {
    let mut request = s.api(Method::GET, path, Some(token));
    if let Some(etag) = etag {
        request = request.header("If-None-Match", etag);
    }
    request.send().await.unwrap()
}

async fn history(s: &TestStack, id: i64) -> Vec<Value> {
    let hr = s.hr_token().await;
    let entries = s.get_json(&format!("/staff/{id}/history"), Some(&hr)).await;
    entries.as_array().unwrap().clone()
}

async fn has_photo(s: &TestStack, id: i64) -> bool {
    let t = s.web_app_token().await;
    s.get_json(&format!("/staff/{id}"), Some(&t)).await["has_photo"]
        .as_bool()
        .unwrap()
}

#[tokio::test]
async fn p01_an_owner_uploads_a_photo_stored_fitted_and_served_with_its_etag() {
    let s = TestStack::start().await;
    let alice = s.user_token(ALICE).await;
    let reader = s.web_app_token().await;
    let id = s.staff_id(ALICE.username).await;
    assert!(!has_photo(&s, id).await);
    let before = s.api(Method::GET, &format!("/staff/{id}"), Some(&reader));
    let record_etag = header(&before.send().await.unwrap(), "etag")
        .unwrap()
        .to_owned();

    let r = put_photo(&s, id, Some(&alice), "image/jpeg", jpeg(1200, 800)).await;
    assert_eq!(r.status(), 201);
    let location = format!("/staff/{id}/photo");
    assert_eq!(header(&r, "location"), Some(location.as_str()));
    assert_eq!(header(&r, "cache-control"), Some("no-store"));
    assert!(
        header(&r, "etag").is_none(),
        "what was stored is not what was sent"
    );
    let stored: Value = r.json().await.unwrap();
    assert_eq!(stored["content_type"], "image/jpeg");
    assert_eq!(
        (stored["width"].as_u64(), stored["height"].as_u64()),
        (Some(512), Some(341))
    );
    assert_eq!(
        (
            stored["thumbnail_width"].as_u64(),
            stored["thumbnail_height"].as_u64()
        ),
        (Some(96), Some(64))
    );

    // The record says so, at a new version.
    assert!(has_photo(&s, id).await);
    let after = s.api(Method::GET, &format!("/staff/{id}"), Some(&reader));
    assert_ne!(
        header(&after.send().await.unwrap(), "etag").unwrap(),
        record_etag
    );

    let r = get_photo(&s, &location, &reader, None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), Some("image/jpeg"));
    assert_eq!(header(&r, "cache-control"), Some("private, no-cache"));
    assert_eq!(header(&r, "x-content-type-options"), Some("nosniff"));
    let etag = header(&r, "etag").unwrap().to_owned();
    assert_eq!(etag, stored["etag"].as_str().unwrap());
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong: {etag}"
    );
    let bytes = r.bytes().await.unwrap();
    assert_eq!(images::dimensions(&bytes), (512, 341));
    assert_eq!(bytes.len() as u64, stored["bytes"].as_u64().unwrap());

    // Revalidation: the copy held is current.
    let r = get_photo(&s, &location, &reader, Some(&etag)).await;
    assert_eq!(r.status(), 304);
    assert_eq!(header(&r, "etag"), Some(etag.as_str()));
    assert_eq!(header(&r, "cache-control"), Some("private, no-cache"));
    assert!(r.bytes().await.unwrap().is_empty());
    let r = get_photo(&s, &location, &reader, Some("\"something-else\"")).await;
    assert_eq!(r.status(), 200);
    let head = s
        .api(Method::HEAD, &location, Some(&reader))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "etag"), Some(etag.as_str()));

    // The thumbnail: its own address and ETag.
    let r = get_photo(&s, &format!("{location}/thumbnail"), &reader, None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), Some("image/jpeg"));
    assert_eq!(header(&r, "x-content-type-options"), Some("nosniff"));
    assert_ne!(header(&r, "etag").unwrap(), etag);
    assert_eq!(images::dimensions(&r.bytes().await.unwrap()), (96, 64));

    // Replacing: 200, a new ETag, and the old one no longer revalidates.
    let r = put_photo(&s, id, Some(&alice), "image/png", png(300, 400)).await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "location").is_none());
    let r = get_photo(&s, &location, &reader, Some(&etag)).await;
    assert_eq!(r.status(), 200);
    assert_ne!(header(&r, "etag").unwrap(), etag);
    assert_eq!(
        images::dimensions(&r.bytes().await.unwrap()),
        (300, 400),
        "small: kept"
    );
}

#[tokio::test]
async fn p02_jpeg_png_and_webp_are_told_by_content_whatever_the_declared_type() {
    let s = TestStack::start().await;
    let hr = s.hr_token().await;
    let reader = s.web_app_token().await;
    let id = s.staff_id(BEN.username).await;
    for (declared, body, size) in [
        ("image/jpeg", png(640, 480), (512, 384)),
        ("application/octet-stream", webp(200, 100), (200, 100)),
        ("text/plain", jpeg(100, 900), (57, 512)),
        ("image/gif", png(20, 20), (20, 20)),
    ] {
        let r = put_photo(&s, id, Some(&hr), declared, body).await;
        assert!(
            r.status() == 200 || r.status() == 201,
            "{declared}: {}",
            r.status()
        );
        let r = get_photo(&s, &format!("/staff/{id}/photo"), &reader, None).await;
        assert_eq!(header(&r, "content-type"), Some("image/jpeg"), "{declared}");
        assert_eq!(
            images::dimensions(&r.bytes().await.unwrap()),
            size,
            "{declared}"
        );
    }
}

#[tokio::test]
async fn p03_exif_comments_and_everything_but_pixels_are_gone_from_the_stored_photo() {
    let s = TestStack::start().await;
    let alice = s.user_token(ALICE).await;
    let reader = s.web_app_token().await;
    let id = s.staff_id(ALICE.username).await;
    let upload = images::jpeg_with_exif(800, 600);
    assert!(jpeg_markers(&upload).contains(&0xE1), "the upload has APP1");
    assert!(jpeg_markers(&upload).contains(&0xFE), "and a comment");
    let contains =
        |bytes: &[u8], text: &str| bytes.windows(text.len()).any(|w| w == text.as_bytes());
    assert!(contains(&upload, EXIF_SECRET));

    let r = put_photo(&s, id, Some(&alice), "image/jpeg", upload).await;
    assert_eq!(r.status(), 201);
    for path in [
        format!("/staff/{id}/photo"),
        format!("/staff/{id}/photo/thumbnail"),
    ] {
        let stored = get_photo(&s, &path, &reader, None)
            .await
            .bytes()
            .await
            .unwrap();
        let markers = jpeg_markers(&stored);
        assert!(
            !markers.contains(&0xE1),
            "no APP1 (EXIF, XMP) in {path}: {markers:x?}"
        );
        assert!(!markers.contains(&0xFE), "no comment in {path}");
        assert!(!markers.contains(&0xE2), "no APP2 (ICC) in {path}");
        for secret in [EXIF_SECRET, COMMENT_SECRET, "Exif", "SecretCam"] {
            assert!(!contains(&stored, secret), "{secret:?} survived in {path}");
        }
    }
    let stored = get_photo(&s, &format!("/staff/{id}/photo"), &reader, None).await;
    assert_eq!(
        images::dimensions(&stored.bytes().await.unwrap()),
        (512, 384)
    );
}

#[tokio::test]
async fn p04_svg_gif_html_text_and_nothing_are_415_with_the_reason() {
    let s = TestStack::start().await;
    let alice = s.user_token(ALICE).await;
    let id = s.staff_id(ALICE.username).await;
    let history_before = history(&s, id).await.len();
    for (declared, body, reason) in [
        (
            "image/svg+xml",
            SVG.as_bytes().to_vec(),
            "it is text (SVG, HTML or XML)",
        ),
        (
            "image/png",
            SVG.as_bytes().to_vec(),
            "it is text (SVG, HTML or XML)",
        ),
        ("image/gif", GIF.to_vec(), "it is a GIF"),
        (
            "image/png",
            HTML.as_bytes().to_vec(),
            "it is text (SVG, HTML or XML)",
        ),
        (
            "text/plain",
            b"just some text".to_vec(),
            "its type is not recognised",
        ),
        ("image/jpeg", Vec::new(), "the body is empty"),
        (
            "image/jpeg",
            b"II*\0\x08\0\0\0\0\0".to_vec(),
            "it is a TIFF",
        ),
        (
            "image/jpeg",
            b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0".to_vec(),
            "it is a BMP",
        ),
    ] {
        let r = put_photo(&s, id, Some(&alice), declared, body).await;
        let problem = assert_problem(r, 415, "unsupported_photo_type").await;
        assert_eq!(
            problem["type"],
            "urn:staff-directory:problem:unsupported_photo_type"
        );
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(reason), "{declared}: {detail}");
        assert!(
            detail.contains("send a JPEG, PNG or WebP image"),
            "{detail}"
        );
    }
    assert!(!has_photo(&s, id).await, "nothing was stored");
    assert_eq!(
        history(&s, id).await.len(),
        history_before,
        "nothing was recorded"
    );
}

#[tokio::test]
async fn p05_a_header_claiming_too_many_pixels_is_422_without_decoding_it() {
    let s = TestStack::start().await;
    let alice = s.user_token(ALICE).await;
    let id = s.staff_id(ALICE.username).await;
    let bomb = images::png_claiming(100_000, 100_000);
    assert!(bomb.len() < 1024, "a tiny file: {} bytes", bomb.len());
    let started = std::time::Instant::now();
    let r = put_photo(&s, id, Some(&alice), "image/png", bomb).await;
    let problem = assert_problem(r, 422, "photo_too_many_pixels").await;
    assert_eq!(
        problem["detail"],
        "the photo is 100000 × 100000 pixels is over 4096 × 4096"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused, not decoded"
    );
    // One pixel over, in a real image.
    let r = put_photo(&s, id, Some(&alice), "image/png", png(4097, 8)).await;
    let problem = assert_problem(r, 422, "photo_too_many_pixels").await;
    assert!(problem["detail"].as_str().unwrap().contains("4097 × 8"));
    assert!(!has_photo(&s, id).await);
}

#[tokio::test]
async fn p06_truncated_and_corrupt_images_are_422() {
    let s = TestStack::start().await;
    let alice = s.user_token(ALICE).await;
    let id = s.staff_id(ALICE.username).await;
    let whole = jpeg(400, 300);
    let png_whole = png(400, 300);
    for (name, body) in [
        ("truncated JPEG", whole[..whole.len() / 2].to_vec()),
        (
            "JPEG cut after its header",
            whole[..700.min(whole.len())].to_vec(),
        ),
        ("truncated PNG", png_whole[..png_whole.len() / 2].to_vec()),
        ("corrupt PNG pixels", images::png_with_corrupt_pixels()),
        ("a PNG signature alone", b"\x89PNG\r\n\x1a\n".to_vec()),
    ] {
        let r = put_photo(&s, id, Some(&alice), "image/jpeg", body).await;
        let problem = assert_problem(r, 422, "corrupt_photo").await;
        assert_eq!(
            problem["type"], "urn:staff-directory:problem:corrupt_photo",
            "{name}"
        );
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .starts_with("the image cannot be decoded"),
            "{name}: {problem}"
        );
    }
    assert!(!has_photo(&s, id).await);
}

#[tokio::test]
async fn p07_over_5_mb_is_413_before_the_body_is_read() {
    let s = TestStack::start().await;
    let alice = s.user_token(ALICE).await;
    let id = s.staff_id(ALICE.username).await;
    // The head alone, declaring 6 MB: answered at once, not after waiting for the body (the
    // body deadline is 10 s).
    let head = format!(
        "PUT /staff/{id}/photo HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {alice}\r\n\
         Content-Type: image/jpeg\r\nContent-Length: 6000000\r\n\r\n"
    );
    let stalled = stall_after(&s.api.base_url, &head, Duration::from_secs(5)).await;
    assert!(
        stalled.answer.starts_with("HTTP/1.1 413"),
        "{}",
        stalled.answer
    );
    assert!(stalled.answer.contains("application/problem+json"));
    assert!(stalled.answer.contains("\"code\":\"payload_too_large\""));
    assert!(stalled.answer.contains("a photo may be at most 5 MB"));
    assert!(stalled.elapsed < Duration::from_secs(5));

    // Without a declared length (chunked), reading stops at 5 MB: the rest is never read.
    let mut chunked = format!(
        "PUT /staff/{id}/photo HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {alice}\r\n\
         Content-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let chunk = "x".repeat(1024 * 1024);
    for _ in 0..6 {
        chunked.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    let stalled = stall_after(&s.api.base_url, &chunked, Duration::from_secs(5)).await;
    assert!(
        stalled.answer.starts_with("HTTP/1.1 413"),
        "{}",
        &stalled.answer[..200.min(stalled.answer.len())]
    );
    assert!(stalled.answer.contains("\"code\":\"payload_too_large\""));

    // Exactly at the limit the body is read (and then judged for what it is).
    let r = put_photo(
        &s,
        id,
        Some(&alice),
        "image/jpeg",
        vec![b'x'; 5 * 1024 * 1024],
    )
    .await;
    assert_problem(r, 415, "unsupported_photo_type").await;
    assert!(!has_photo(&s, id).await);
}

#[tokio::test]
async fn p08_only_the_owner_or_an_administrator_changes_a_photo() {
    let s = TestStack::start().await;
    let alice_id = s.staff_id(ALICE.username).await;
    let ben = s.user_token(BEN).await;
    let path = format!("/staff/{alice_id}/photo");
    // Someone else's record: the scope was sufficient, the record is not theirs.
    let r = put_photo(&s, alice_id, Some(&ben), "image/png", png(50, 50)).await;
    assert_problem(r, 403, "not_owner").await;
    // The site's own token, like PATCH: a person's profile:write is needed.
    let web = s.web_app_token().await;
    let r = put_photo(&s, alice_id, Some(&web), "image/png", png(50, 50)).await;
    assert_insufficient_scope(r, "profile:write").await;
    let r = put_photo(&s, alice_id, None, "image/png", png(50, 50)).await;
    assert_unauthenticated(r).await;
    let r = put_photo(&s, alice_id, Some("not.a.token"), "image/png", png(50, 50)).await;
    assert_invalid_token(r).await;
    assert!(!has_photo(&s, alice_id).await);

    // The HR import may; then the same refusals for removal.
    let hr = s.hr_token().await;
    let r = put_photo(&s, alice_id, Some(&hr), "image/png", png(50, 50)).await;
    assert_eq!(r.status(), 201);
    let delete = |token: Option<String>| {
        let request = s.api(Method::DELETE, &path, token.as_deref());
        async move { request.send().await.unwrap() }
    };
    assert_problem(delete(Some(ben.clone())).await, 403, "not_owner").await;
    assert_insufficient_scope(delete(Some(web.clone())).await, "profile:write").await;
    assert_unauthenticated(delete(None).await).await;
    assert!(has_photo(&s, alice_id).await);
    // Reading needs directory:read only, and a token.
    assert_eq!(get_photo(&s, &path, &ben, None).await.status(), 200);
    let r = s.api(Method::GET, &path, None).send().await.unwrap();
    assert_unauthenticated(r).await;

    // The owner removes it: 204, then 404 no_photo.
    let alice = s.user_token(ALICE).await;
    assert_eq!(delete(Some(alice.clone())).await.status(), 204);
    assert!(!has_photo(&s, alice_id).await);
    assert_problem(delete(Some(alice.clone())).await, 404, "no_photo").await;
    assert_problem(get_photo(&s, &path, &web, None).await, 404, "no_photo").await;
    let thumb = get_photo(&s, &format!("{path}/thumbnail"), &web, None).await;
    assert_problem(thumb, 404, "no_photo").await;
}

#[tokio::test]
async fn p09_history_records_photo_changes_and_who_never_the_bytes() {
    let s = TestStack::start().await;
    let alice = s.user_token(ALICE).await;
    let id = s.staff_id(ALICE.username).await;
    let r = put_photo(&s, id, Some(&alice), "image/jpeg", jpeg(300, 300)).await;
    let first: Value = r.json().await.unwrap();
    let hr = s.hr_token().await;
    let r = put_photo(&s, id, Some(&hr), "image/png", png(200, 200)).await;
    let second: Value = r.json().await.unwrap();
    let r = s.api(Method::DELETE, &format!("/staff/{id}/photo"), Some(&alice));
    assert_eq!(r.send().await.unwrap().status(), 204);

    let entries = history(&s, id).await;
    let photo: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("photo_"))
        .collect();
    assert_eq!(photo.len(), 3, "{entries:?}");
    assert_eq!(photo[0]["action"], "photo_changed");
    assert_eq!(photo[0]["subject"], ALICE.username);
    assert_eq!(photo[0]["client_id"], s.web_client.id.as_str());
    assert_eq!(photo[0]["token_kind"], "user");
    assert_eq!(
        photo[0]["changes"],
        serde_json::json!([{"field": "photo", "new": first["etag"]}])
    );
    assert_eq!(photo[1]["action"], "photo_changed");
    assert_eq!(photo[1]["subject"], s.hr_client.id.as_str());
    assert_eq!(photo[1]["token_kind"], "client");
    assert_eq!(
        photo[1]["changes"],
        serde_json::json!([{"field": "photo", "old": first["etag"], "new": second["etag"]}])
    );
    assert_eq!(photo[2]["action"], "photo_removed");
    assert_eq!(
        photo[2]["changes"],
        serde_json::json!([{"field": "photo", "old": second["etag"]}])
    );
    let text = serde_json::to_string(&entries).unwrap();
    assert!(
        text.len() < 8 * 1024,
        "no image in the history: {} bytes",
        text.len()
    );
}

#[tokio::test]
async fn p10_a_photo_change_is_a_new_version_and_a_retired_records_photo_hides_with_it() {
    let s = TestStack::start().await;
    let alice = s.user_token(ALICE).await;
    let id = s.staff_id(ALICE.username).await;
    let before = etag_of(&s, id, &alice).await;
    let r = put_photo(&s, id, Some(&alice), "image/png", png(64, 64)).await;
    assert_eq!(r.status(), 201);
    // An edit made with the ETag read before the upload is stale.
    let r = patch(
        &s,
        id,
        Some(&alice),
        Some(&before),
        serde_json::json!({"office": "B1"}),
    )
    .await;
    assert_eq!(r.status(), 412);

    let hr = s.hr_token().await;
    let r = s.api(Method::DELETE, &format!("/staff/{id}"), Some(&hr));
    assert_eq!(r.send().await.unwrap().status(), 204);
    let web = s.web_app_token().await;
    let path = format!("/staff/{id}/photo");
    assert_problem(get_photo(&s, &path, &web, None).await, 404, "not_found").await;
    let thumb = get_photo(&s, &format!("{path}/thumbnail"), &web, None).await;
    assert_problem(thumb, 404, "not_found").await;
    assert_eq!(
        get_photo(&s, &path, &hr, None).await.status(),
        200,
        "admins see it"
    );
    let r = put_photo(&s, id, Some(&hr), "image/png", png(64, 64)).await;
    assert_problem(r, 404, "not_found").await;
    let r = s
        .api(Method::DELETE, &path, Some(&hr))
        .send()
        .await
        .unwrap();
    assert_problem(r, 404, "not_found").await;
}

#[tokio::test]
async fn p11_bad_ids_other_methods_and_the_openapi_document() {
    let s = TestStack::start().await;
    let web = s.web_app_token().await;
    for path in [
        "/staff/0/photo",
        "/staff/abc/photo",
        "/staff/-1/photo/thumbnail",
    ] {
        assert_problem(
            get_photo(&s, path, &web, None).await,
            400,
            "malformed_request",
        )
        .await;
    }
    assert_problem(
        get_photo(&s, "/staff/999999/photo", &web, None).await,
        404,
        "not_found",
    )
    .await;
    let r = s
        .api(Method::POST, "/staff/1/photo", Some(&web))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "allow"), Some("GET, HEAD, PUT, DELETE"));
    assert_problem(r, 405, "method_not_allowed").await;
    let r = s
        .api(Method::PUT, "/staff/1/photo/thumbnail", Some(&web))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "allow"), Some("GET, HEAD"));

    let doc = s.get_json("/openapi.json", None).await;
    let paths = &doc["paths"];
    for method in ["get", "put", "delete"] {
        assert!(paths["/staff/{id}/photo"][method].is_object(), "{method}");
    }
    assert!(paths["/staff/{id}/photo/thumbnail"]["get"].is_object());
    let put = &paths["/staff/{id}/photo"]["put"];
    for status in ["200", "201", "403", "413", "415", "422", "503"] {
        assert!(
            put["responses"][status].is_object(),
            "PUT documents {status}"
        );
    }
    assert!(put["requestBody"]["content"]["image/webp"].is_object());
    let record = &doc["components"]["schemas"]["StaffRecord"];
    assert_eq!(record["properties"]["has_photo"]["type"], "boolean");
}

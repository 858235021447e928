//! The API calls that edit a staff record: read its `ETag`, then `PATCH` it.

use reqwest::Method;
use serde_json::Value;

use super::assertions::header;
use super::stack::TestStack;

/// The current `ETag` of record `id`, read with `token`.
pub async fn etag_of(s: &TestStack, id: i64, token: &str) -> String {
    let r = s
        .api(Method::GET, &format!("/staff/{id}"), Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    header(&r, "etag").unwrap().to_owned()
}

/// `PATCH /staff/{id}`, with a bearer token and an `If-Match` when given.
pub async fn patch(
    s: &TestStack,
    id: i64,
    token: Option<&str>,
    if_match: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut r = s
        .api(Method::PATCH, &format!("/staff/{id}"), token)
        .json(&body);
    if let Some(tag) = if_match {
        r = r.header("If-Match", tag);
    }
    r.send().await.unwrap()
}

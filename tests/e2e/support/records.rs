//! The API calls that read and edit staff records: every record at once, a record's `ETag`,
//! and `PATCH`.

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

/// Every live record as the HR job reads them (all fields, `updated_at` included), in the
/// directory's order: a write anywhere changes it.
pub async fn all_records(s: &TestStack) -> Vec<Value> {
    let token = s.hr_token().await;
    let mut records = Vec::new();
    for page in 1.. {
        let listing = s
            .get_json(&format!("/staff?per_page=100&page={page}"), Some(&token))
            .await;
        let items = listing["items"].as_array().unwrap().clone();
        if items.is_empty() {
            break;
        }
        records.extend(items);
    }
    assert!(records.len() > 10, "the demo staff are seeded");
    records
}

//! A member of staff's own history (issue 16): the API lets a user token read the history of
//! its own record and never another's (`403 not_owner`), and the profile page shows the recent
//! changes in plain words: when, what, and who (you, or the HR job).

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn a_member_of_staff_reads_their_own_history_and_never_anothers() {
    let s = TestStack::start().await;
    let (alice, ben) = (
        s.staff_id(ALICE.username).await,
        s.staff_id(BEN.username).await,
    );
    let token = s.user_token(ALICE).await;
    let get = |id: i64| {
        s.api(Method::GET, &format!("/staff/{id}/history"), Some(&token))
            .send()
    };
    // An HR change to Alice's record, so her history has a writer other than herself.
    let hr = s.hr_token().await;
    let record = s
        .api(Method::GET, &format!("/staff/{alice}"), Some(&hr))
        .send()
        .await
        .unwrap();
    let etag = header(&record, "etag").unwrap().to_owned();
    let r = s
        .api(Method::PATCH, &format!("/staff/{alice}"), Some(&hr))
        .header("if-match", etag)
        .header("content-type", "application/merge-patch+json")
        .json(&json!({"job_title": "Reader in Computer Science"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let own = get(alice).await.unwrap();
    assert_eq!(own.status(), 200);
    assert_eq!(header(&own, "cache-control"), Some("no-store"));
    let entries: Value = own.json().await.unwrap();
    let last = entries.as_array().unwrap().last().unwrap();
    assert_eq!(last["subject"], "hr-sync", "{entries}");
    assert_eq!(last["token_kind"], "client");
    assert_eq!(last["changes"][0]["field"], "job_title");

    // Ben's record: the scope is right, the record is not hers.
    assert_problem(get(ben).await.unwrap(), 403, "not_owner").await;
    // The site's own token never reads a history; nor does a missing id leak anything.
    let site = s.web_app_token().await;
    let r = s
        .api(Method::GET, &format!("/staff/{alice}/history"), Some(&site))
        .send()
        .await
        .unwrap();
    assert_insufficient_scope(r, "directory:admin").await;
    assert_problem(get(9_999_999).await.unwrap(), 404, "not_found").await;
    assert_problem(
        s.api(Method::GET, "/staff/abc/history", Some(&token))
            .send()
            .await
            .unwrap(),
        400,
        "malformed_request",
    )
    .await;
}

#[tokio::test]
async fn the_profile_page_shows_recent_changes_with_when_what_and_who() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut b = signed_in(&web, ALICE).await;
    let profile = b.get("/profile").await;
    let (csrf, id, etag) = (
        hidden(&profile.html, "csrf"),
        hidden(&profile.html, "id"),
        hidden(&profile.html, "etag"),
    );
    let r = b
        .post(
            "/profile",
            &[
                ("csrf", &csrf),
                ("id", &id),
                ("etag", &etag),
                ("phone", ""),
                ("office", "Room 12"),
                ("bio", ""),
                ("research_interests", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let after = b.get("/profile").await;
    assert!(
        after.html.contains("Recent changes to your record"),
        "{}",
        after.html
    );
    let table = after
        .html
        .split("class=\"history-table\"")
        .nth(1)
        .expect("the history table");
    let first_row = table.split("<tr>").nth(2).expect("a change");
    assert!(first_row.contains("office:"), "{first_row}");
    assert!(first_row.contains("“Room 12”"), "{first_row}");
    assert!(first_row.contains("<td>you</td>"), "{first_row}");
    assert!(first_row.contains("<time datetime=\""), "{first_row}");
    // Someone else's name never appears as the writer of Alice's changes.
    assert!(!table.contains("bokafor"));
}

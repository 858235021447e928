//! The nightly HR import: a machine client with no user, reconciling the directory with a
//! CSV export through the API, with its own `client_credentials` token.

use std::io::Write as _;

use reqwest::Method;
use serde_json::{Value, json};
use staff_directory::hr_sync::{self, HrSyncArgs, Summary};

use crate::support::*;

/// The demo staff as HR's export: every record of the seed, as CSV.
fn demo_rows() -> Vec<[String; 5]> {
    let seed: Vec<Value> =
        serde_json::from_str(include_str!("../../directory-api/seed/staff.json")).unwrap();
    seed.iter()
        .map(|r| {
            [
                "username",
                "display_name",
                "job_title",
                "department",
                "email",
            ]
            .map(|k| r[k].as_str().unwrap().to_owned())
        })
        .collect()
}

fn write_csv(rows: &[[String; 5]]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "username",
        "display_name",
        "job_title",
        "department",
        "email",
    ])
    .unwrap();
    for row in rows {
        w.write_record(row).unwrap();
    }
    file.write_all(&w.into_inner().unwrap()).unwrap();
    file
}

fn args(s: &TestStack, file: &tempfile::NamedTempFile) -> HrSyncArgs {
    HrSyncArgs {
        file: file.path().to_owned(),
        dry_run: false,
        force: false,
        max_retire_share: 0.10,
        client_id: s.hr_client.id.clone(),
        client_secret: secrecy::SecretString::from(s.hr_client.secret.clone()),
        token_url: s.auth_url("/oauth/token"),
        api_url: s.api.base_url.clone(),
        concurrency: 8,
    }
}

async fn live_count(s: &TestStack) -> i64 {
    let t = s.hr_token().await;
    let page: Value = s.get_json("/staff?per_page=1", Some(&t)).await;
    page["total"].as_i64().unwrap()
}

async fn record(s: &TestStack, username: &str) -> Value {
    let t = s.hr_token().await;
    let id = s.staff_id(username).await;
    s.get_json(&format!("/staff/{id}"), Some(&t)).await
}

#[tokio::test]
async fn a_ten_thousand_row_export_imports_and_then_changes_nothing() {
    let s = TestStack::start().await;
    let mut rows = demo_rows();
    for i in 0..(10_000 - rows.len()) {
        rows.push([
            format!("hr{i:05}"),
            format!("Person {i}"),
            "Lecturer".to_owned(),
            [
                "School of Chemistry",
                "School of Engineering",
                "Lincoln Business School",
            ][i % 3]
                .to_owned(),
            format!("hr{i:05}@example.edu"),
        ]);
    }
    let file = write_csv(&rows);
    let first = hr_sync::run(&args(&s, &file)).await.unwrap();
    assert_eq!(
        first,
        Summary {
            created: 10_000 - 60,
            updated: 0,
            retired: 0,
            unchanged: 60,
            failed: 0
        }
    );
    assert_eq!(live_count(&s).await, 10_000);
    let second = hr_sync::run(&args(&s, &file)).await.unwrap();
    assert_eq!(
        second,
        Summary {
            unchanged: 10_000,
            ..Summary::default()
        }
    );
    // Every write is in the history as the HR job's, a client acting for no user.
    let created = record(&s, "hr09000").await;
    let t = s.hr_token().await;
    let history: Value = s
        .get_json(&format!("/staff/{}/history", created["id"]), Some(&t))
        .await;
    assert_eq!(history[0]["subject"], "hr-sync");
    assert_eq!(history[0]["token_kind"], "client");
}

#[tokio::test]
async fn hr_changes_are_applied_and_a_staff_members_own_edit_survives() {
    let s = TestStack::start().await;
    // Alice edits her bio; HR then changes her title and someone leaves, someone joins.
    let alice = s.user_token(ALICE).await;
    let id = s.staff_id(ALICE.username).await;
    let r = s
        .api(Method::GET, &format!("/staff/{id}"), Some(&alice))
        .send()
        .await
        .unwrap();
    let tag = header(&r, "etag").unwrap().to_owned();
    let r = s
        .api(Method::PATCH, &format!("/staff/{id}"), Some(&alice))
        .header("If-Match", tag)
        .json(&json!({"bio": "Written by Alice herself."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut rows = demo_rows();
    for row in rows.iter_mut().filter(|r| r[0] == "ajohnson") {
        row[2] = "Reader in Cyber Security".into();
    }
    let leaver = rows.pop().unwrap();
    rows.push([
        "nnew".into(),
        "Nia New".into(),
        "Lecturer".into(),
        "School of Chemistry".into(),
        "nnew@example.edu".into(),
    ]);
    let file = write_csv(&rows);

    let mut dry = args(&s, &file);
    dry.dry_run = true;
    let planned = hr_sync::run(&dry).await.unwrap();
    assert_eq!(
        (planned.created, planned.updated, planned.retired),
        (1, 1, 1)
    );
    assert_eq!(
        record(&s, ALICE.username).await["job_title"],
        "Senior Lecturer in Cyber Security",
        "the dry run changed nothing"
    );
    assert_eq!(live_count(&s).await, 60);

    let done = hr_sync::run(&args(&s, &file)).await.unwrap();
    assert_eq!(
        done,
        Summary {
            created: 1,
            updated: 1,
            retired: 1,
            unchanged: 58,
            failed: 0
        }
    );
    let after = record(&s, ALICE.username).await;
    assert_eq!(after["job_title"], "Reader in Cyber Security");
    assert_eq!(
        after["bio"], "Written by Alice herself.",
        "the staff-edited field is untouched"
    );
    assert!(
        s.api
            .db
            .staff_by_username(&leaver[0])
            .await
            .unwrap()
            .is_none(),
        "the leaver is retired"
    );
    assert_eq!(hr_sync::run(&args(&s, &file)).await.unwrap().unchanged, 60);
}

#[tokio::test]
async fn a_malformed_export_changes_nothing_and_names_every_bad_line() {
    let s = TestStack::start().await;
    let mut rows = demo_rows();
    rows[3][4] = "not-an-email".into();
    rows[10][0] = "Bad Name".into();
    rows.push(rows[0].clone());
    let file = write_csv(&rows);
    let error = hr_sync::run(&args(&s, &file))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("3 bad line(s)"), "{error}");
    assert!(error.contains("nothing was changed"));
    assert_eq!(live_count(&s).await, 60);
    let lines = staff_directory::hr_sync::csv::parse(std::fs::File::open(file.path()).unwrap())
        .unwrap_err()
        .iter()
        .map(|e| e.line)
        .collect::<Vec<_>>();
    assert_eq!(
        lines,
        [5, 12, 62],
        "line numbers count the header as line 1"
    );
}

#[tokio::test]
async fn a_truncated_export_is_refused_unless_forced() {
    let s = TestStack::start().await;
    let rows = demo_rows();
    let file = write_csv(&rows[..30]);
    let error = hr_sync::run(&args(&s, &file))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("would retire 30 of 60"), "{error}");
    assert_eq!(live_count(&s).await, 60);
    let mut forced = args(&s, &file);
    forced.force = true;
    assert_eq!(hr_sync::run(&forced).await.unwrap().retired, 30);
    assert_eq!(live_count(&s).await, 30);
}

#[tokio::test]
async fn the_job_renews_its_token_when_it_expires_mid_run() {
    let s = TestStack::start().await;
    let client = hr_sync::client::DirectoryClient::new(
        &s.api.base_url,
        &s.auth_url("/oauth/token"),
        &s.hr_client.id,
        &secrecy::SecretString::from(s.hr_client.secret.clone()),
    )
    .unwrap();
    assert_eq!(client.all_records().await.unwrap().len(), 60);
    // The cached token (15 minutes) has expired; the API answers 401 and the job gets a new one.
    s.advance_clocks(16 * 60);
    assert_eq!(client.all_records().await.unwrap().len(), 60);
}

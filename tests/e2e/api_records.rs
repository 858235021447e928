//! Records at the API: search, input that is refused (and changes nothing), optimistic
//! concurrency (SECURITY.md section I) and the change history.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;

async fn get(s: &TestStack, path: &str, token: &str) -> reqwest::Response {
    s.api(Method::GET, path, Some(token)).send().await.unwrap()
}

async fn usernames(s: &TestStack, path: &str, token: &str) -> (Vec<String>, i64) {
    let r = get(s, path, token).await;
    assert_eq!(r.status(), 200, "{path}");
    let page: Value = r.json().await.unwrap();
    let names = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["username"].as_str().unwrap().to_owned())
        .collect();
    (names, page["total"].as_i64().unwrap())
}

/// A broad search is paged by walking the listing index on SQLite, a narrow one (or one page
/// holding every match) by sorting the matches: both must give the same records in the same
/// order (family name, then given names: the stored sort key), and every page the same total.
#[tokio::test]
async fn a_broad_search_pages_through_every_match_in_name_order_whichever_way_it_is_paged() {
    let s = TestStack::start().await;
    let t = s.web_app_token().await;
    let (all, total) = usernames(&s, "/staff?q=school&per_page=100", &t).await;
    assert!(total >= 40, "most demo staff are in a School: {total}");
    assert_eq!(all.len() as i64, total);
    let mut paged = Vec::new();
    for page in 1..=(total + 9) / 10 {
        let (names, page_total) =
            usernames(&s, &format!("/staff?q=school&per_page=10&page={page}"), &t).await;
        assert_eq!(page_total, total, "page {page}");
        paged.extend(names);
    }
    assert_eq!(paged, all);
    let listing: Value = s.get_json("/staff?q=school&per_page=100", Some(&t)).await;
    let names: Vec<(String, i64)> = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                directory_api::domain::name::sort_key(
                    i["family_name"].as_str().unwrap(),
                    i["display_name"].as_str().unwrap(),
                ),
                i["id"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "family-name order, then id");
}

#[tokio::test]
async fn search_covers_name_title_department_and_interests_case_insensitively() {
    let s = TestStack::start().await;
    let t = s.web_app_token().await;
    let (found, total) = usernames(&s, "/staff?q=MACHINE%20learning", &t).await;
    assert!(total >= 3, "{found:?}");
    for expected in ["mchen", "svarma", "jlindqvist"] {
        assert!(
            found.contains(&expected.to_owned()),
            "{expected} in {found:?}"
        );
    }
    let (found, _) = usernames(&s, "/staff?q=okafor", &t).await;
    assert_eq!(found.len(), 2, "{found:?}");
    let (found, _) = usernames(&s, "/staff?q=cyber%20secur", &t).await;
    assert!(
        found.contains(&"ajohnson".to_owned()),
        "prefix match: {found:?}"
    );
    let (found, total) = usernames(&s, "/staff?q=zzzznotaword", &t).await;
    assert!(found.is_empty() && total == 0);
}

/// The head counts the database keeps by trigger follow every kind of write: a new record, a
/// move to another department, a retirement, and an edit that changes neither.
#[tokio::test]
async fn department_head_counts_follow_creation_moves_and_retirement() {
    let s = TestStack::start().await;
    let (t, hr) = (s.web_app_token().await, s.hr_token().await);
    let counts = || async {
        let departments: Value = get(&s, "/departments", &t).await.json().await.unwrap();
        let of = |name: &str| {
            departments
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["name"] == name)
                .map_or(0, |d| d["staff"].as_i64().unwrap())
        };
        let (_, all) = usernames(&s, "/staff", &t).await;
        let (_, chemistry) = usernames(&s, "/staff?department=School%20of%20Chemistry", &t).await;
        assert_eq!(
            chemistry,
            of("School of Chemistry"),
            "listing and departments agree"
        );
        (all, of("School of Chemistry"), of("School of Robotics"))
    };
    let (all, chemistry, robotics) = counts().await;
    assert_eq!((all, robotics), (60, 0));

    let r = s
        .api(Method::POST, "/staff", Some(&hr))
        .json(&json!({
            "username": "rrobot", "display_name": "Rae Robot", "job_title": "Lecturer",
            "department": "School of Chemistry", "email": "rrobot@example.edu"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id: i64 = header(&r, "location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(counts().await, (all + 1, chemistry + 1, 0));

    let tag = etag_of(&s, id, &hr).await;
    let r = patch(
        &s,
        id,
        Some(&hr),
        Some(&tag),
        json!({"department": "School of Robotics"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(counts().await, (all + 1, chemistry, 1));

    let tag = etag_of(&s, id, &hr).await;
    let r = patch(
        &s,
        id,
        Some(&hr),
        Some(&tag),
        json!({"bio": "Builds robots."}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(counts().await, (all + 1, chemistry, 1));

    let r = s
        .api(Method::DELETE, &format!("/staff/{id}"), Some(&hr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let departments: Value = get(&s, "/departments", &t).await.json().await.unwrap();
    assert!(
        departments
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["name"] != "School of Robotics"),
        "a department with nobody left is not listed: {departments}"
    );
    assert_eq!(counts().await, (all, chemistry, 0));
}

#[tokio::test]
async fn the_department_filter_and_pagination_hold_together() {
    let s = TestStack::start().await;
    let t = s.web_app_token().await;
    let departments: Value = get(&s, "/departments", &t).await.json().await.unwrap();
    let chemistry = departments
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "School of Chemistry")
        .unwrap()["staff"]
        .as_i64()
        .unwrap();
    assert_eq!(departments.as_array().unwrap().len(), 8);
    let mut seen = Vec::new();
    for page in 1..=3 {
        let (names, total) = usernames(
            &s,
            &format!("/staff?department=School%20of%20Chemistry&per_page=3&page={page}"),
            &t,
        )
        .await;
        assert_eq!(total, chemistry);
        seen.extend(names);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len() as i64, chemistry.min(9), "pages do not overlap");
    let (names, _) = usernames(&s, "/staff?q=okafor&department=School%20of%20Chemistry", &t).await;
    assert_eq!(names, ["bokafor"]);
}

#[tokio::test]
async fn bad_query_parameters_are_400_and_say_why() {
    let s = TestStack::start().await;
    let t = s.web_app_token().await;
    let long = format!("/staff?q={}", "a".repeat(201));
    for path in [
        "/staff?page=0",
        "/staff?per_page=101",
        "/staff?per_page=0",
        "/staff?page=abc",
        "/staff?color=red",
        long.as_str(),
    ] {
        let r = get(&s, path, &t).await;
        assert_eq!(r.status(), 400, "{path}");
        let problem: Value = r.json().await.unwrap();
        assert!(
            ["invalid_input", "malformed_request"].contains(&problem["code"].as_str().unwrap()),
            "{path}: {problem}"
        );
    }
}

#[tokio::test]
async fn malformed_ids_are_400_and_unknown_ones_404() {
    let s = TestStack::start().await;
    let t = s.web_app_token().await;
    for id in ["abc", "0", "-1", "1.5", "99999999999999999999999"] {
        assert_problem(
            get(&s, &format!("/staff/{id}"), &t).await,
            400,
            "malformed_request",
        )
        .await;
    }
    assert_problem(get(&s, "/staff/987654", &t).await, 404, "not_found").await;
    assert_problem(get(&s, "/nowhere", &t).await, 404, "not_found").await;
    let r = s
        .api(Method::PUT, "/staff/1", Some(&t))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "allow"), Some("GET, HEAD, PATCH, DELETE"));
    assert_problem(r, 405, "method_not_allowed").await;
}

async fn alice_and_tag(s: &TestStack) -> (String, i64, String) {
    let token = s.user_token(ALICE).await;
    let id = s.staff_id(ALICE.username).await;
    let r = get(s, &format!("/staff/{id}"), &token).await;
    let tag = header(&r, "etag").unwrap().to_owned();
    (token, id, tag)
}

#[tokio::test]
async fn bad_bodies_are_refused_and_write_nothing() {
    let s = TestStack::start().await;
    let (token, id, tag) = alice_and_tag(&s).await;
    let path = format!("/staff/{id}");
    let send = |body: String, content_type: &'static str| {
        s.api(Method::PATCH, &path, Some(&token))
            .header("If-Match", tag.clone())
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    for (body, code) in [
        ("{\"bio\": ".to_owned(), "malformed_request"),
        ("{\"bio\": 5}".to_owned(), "malformed_request"),
        (
            "{\"favourite_colour\": \"blue\"}".to_owned(),
            "malformed_request",
        ),
        ("[]".to_owned(), "malformed_request"),
        (
            "{\"bio\": \"a\", \"bio\": \"b\"}".to_owned(),
            "malformed_request",
        ),
        ("{}".to_owned(), "invalid_input"),
        (
            json!({"bio": "x".repeat(2001)}).to_string(),
            "invalid_input",
        ),
        (
            json!({"phone": "call me maybe"}).to_string(),
            "invalid_input",
        ),
        (json!({"office": " padded"}).to_string(), "invalid_input"),
        (
            json!({"research_interests": "tab\there"}).to_string(),
            "invalid_input",
        ),
    ] {
        let r = send(body.clone(), "application/json").await.unwrap();
        let problem = assert_problem(r, 400, code).await;
        if code == "invalid_input" {
            assert!(
                problem["errors"][0]["field"].is_string(),
                "{body}: {problem}"
            );
        }
    }
    // T60: fields that are not editable at all are refused, never silently applied.
    let r = send(
        json!({"id": 99, "username": "mallory", "bio": "x"}).to_string(),
        "application/json",
    )
    .await
    .unwrap();
    assert_problem(r, 400, "malformed_request").await;
    let r = send(json!({"bio": "x"}).to_string(), "text/plain")
        .await
        .unwrap();
    assert_problem(r, 415, "unsupported_media_type").await;
    let r = send(
        json!({"bio": "x".repeat(20_000)}).to_string(),
        "application/json",
    )
    .await
    .unwrap();
    assert_problem(r, 413, "payload_too_large").await;
    let r = get(&s, &path, &token).await;
    assert_eq!(
        header(&r, "etag"),
        Some(tag.as_str()),
        "nothing was written"
    );
}

#[tokio::test]
async fn t78_t79_t80_if_match_is_required_strong_and_current() {
    let s = TestStack::start().await;
    let (token, id, tag) = alice_and_tag(&s).await;
    let path = format!("/staff/{id}");
    let r = s
        .api(Method::PATCH, &path, Some(&token))
        .json(&json!({"bio": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "cache-control"), Some("no-store"));
    let problem = assert_problem(r, 428, "precondition_required").await;
    assert!(problem["detail"].as_str().unwrap().contains("If-Match"));
    let weak = format!("W/{tag}");
    for stale in ["\"v0\"", weak.as_str(), "\"something-else\""] {
        let r = s
            .api(Method::PATCH, &path, Some(&token))
            .header("If-Match", stale)
            .json(&json!({"bio": "a"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            header(&r, "etag"),
            Some(tag.as_str()),
            "the current ETag is sent back"
        );
        assert_problem(r, 412, "precondition_failed").await;
    }
    let before = get(&s, &path, &token).await.text().await.unwrap();
    // `*` would match any version, skipping the check: refused like no If-Match (h10).
    let r = s
        .api(Method::PATCH, &path, Some(&token))
        .header("If-Match", "*")
        .json(&json!({"bio": "star"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 428, "precondition_required").await;
    assert_eq!(get(&s, &path, &token).await.text().await.unwrap(), before);
    let r = s
        .api(Method::PATCH, &path, Some(&token))
        .header("If-Match", tag.clone())
        .json(&json!({"bio": "current"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .api(Method::PATCH, &path, Some(&token))
        .header("If-Match", tag.clone())
        .json(&json!({"bio": "late"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 412, "precondition_failed").await;
    let after: Value = get(&s, &path, &token).await.json().await.unwrap();
    assert_eq!(after["bio"], "current");
    assert_ne!(before, after.to_string());
}

#[tokio::test]
async fn t81_concurrent_writers_with_one_etag_have_exactly_one_winner() {
    let s = TestStack::start().await;
    let (token, id, tag) = alice_and_tag(&s).await;
    let path = format!("/staff/{id}");
    let attempts = (0..32).map(|i| {
        s.api(Method::PATCH, &path, Some(&token))
            .header("If-Match", tag.clone())
            .json(&json!({"bio": format!("writer {i}")}))
            .send()
    });
    let responses = futures_util::future::join_all(attempts).await;
    let mut winners = Vec::new();
    for r in responses {
        let r = r.unwrap();
        match r.status().as_u16() {
            200 => winners.push(r.json::<Value>().await.unwrap()),
            412 => {
                assert_problem(r, 412, "precondition_failed").await;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(winners.len(), 1);
    let now: Value = get(&s, &path, &token).await.json().await.unwrap();
    assert_eq!(
        now["bio"], winners[0]["bio"],
        "the final state is the winner's"
    );
    let hr = s.hr_token().await;
    let history: Value = get(&s, &format!("{path}/history"), &hr)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        history
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["action"] == "update")
            .count(),
        1
    );
}

#[tokio::test]
async fn every_write_is_in_the_history_with_who_when_and_what() {
    let s = TestStack::start().await;
    let (token, id, tag) = alice_and_tag(&s).await;
    let path = format!("/staff/{id}");
    let old_bio = get(&s, &path, &token).await.json::<Value>().await.unwrap()["bio"].clone();
    let r = s
        .api(Method::PATCH, &path, Some(&token))
        .header("If-Match", tag)
        .json(&json!({"bio": "Edited by Alice"}))
        .send()
        .await
        .unwrap();
    let tag = header(&r, "etag").unwrap().to_owned();
    let hr = s.hr_token().await;
    let r = s
        .api(Method::PATCH, &path, Some(&hr))
        .header("If-Match", tag)
        .json(&json!({"job_title": "Reader in Cyber Security"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let history: Value = get(&s, &format!("{path}/history"), &hr)
        .await
        .json()
        .await
        .unwrap();
    let entries = history.as_array().unwrap();
    assert_eq!(entries.len(), 3, "{history}");
    assert_eq!(entries[0]["action"], "create");
    assert_eq!(entries[1]["action"], "update");
    assert_eq!(entries[1]["subject"], "ajohnson");
    assert_eq!(entries[1]["client_id"], "directory-web");
    assert_eq!(entries[1]["token_kind"], "user");
    assert_eq!(
        entries[1]["changes"],
        json!([{"field": "bio", "old": old_bio, "new": "Edited by Alice"}])
    );
    assert_eq!(entries[2]["subject"], "hr-sync");
    assert_eq!(entries[2]["token_kind"], "client");
    assert_eq!(entries[2]["changes"][0]["field"], "job_title");
    assert_eq!(entries[2]["changes"][0]["new"], "Reader in Cyber Security");
    assert!(entries[2]["at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn creation_validates_every_field_and_usernames_are_unique() {
    let s = TestStack::start().await;
    let hr = s.hr_token().await;
    let r = s
        .api(Method::POST, "/staff", Some(&hr))
        .json(&json!({"username": "Bad Name", "display_name": "", "job_title": "x", "department": "y", "email": "nope"}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(r, 400, "invalid_input").await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "display_name", "email"]);
    let r = s
        .api(Method::POST, "/staff", Some(&hr))
        .json(&json!({"username": "ajohnson", "display_name": "Another Alice", "job_title": "x", "department": "y", "email": "a@example.edu"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 409, "username_taken").await;
    let (_, total) = usernames(&s, "/staff", &hr).await;
    assert_eq!(total, 60, "nothing was created");
}

#[tokio::test]
async fn a_member_of_staff_without_a_record_has_no_me() {
    let s = TestStack::start().await;
    let now = crate::support::Clock::now(s.auth.clock.as_ref());
    auth_server::admin::create_user(
        &s.auth.db,
        &auth_server::oauth::username::Username::parse("newcomer").unwrap(),
        &secrecy::SecretString::from("newcomer-password"),
        now,
    )
    .await
    .unwrap();
    let token = s
        .user_token(TestUser {
            username: "newcomer",
            password: "newcomer-password",
        })
        .await;
    assert_problem(
        s.api(Method::GET, "/me", Some(&token))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn expired_tokens_are_refused_by_the_api() {
    let s = TestStack::start().await;
    let token = s.user_token(ALICE).await;
    assert_eq!(get(&s, "/me", &token).await.status(), 200);
    s.advance_clocks(300 + 31);
    assert_invalid_token(get(&s, "/me", &token).await).await;
}

#[tokio::test]
async fn a_merge_patch_null_clears_a_staff_field_and_cannot_clear_an_hr_one() {
    let s = TestStack::start().await;
    let (token, id, tag) = alice_and_tag(&s).await;
    let path = format!("/staff/{id}");
    let r = s
        .api(Method::PATCH, &path, Some(&token))
        .header("If-Match", tag.clone())
        .header("Content-Type", "application/merge-patch+json")
        .body(r#"{"phone": null, "office": "Room 1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tag = header(&r, "etag").unwrap().to_owned();
    let record: Value = r.json().await.unwrap();
    assert_eq!(record["phone"], "");
    assert_eq!(record["office"], "Room 1");
    let hr = s.hr_token().await;
    let r = s
        .api(Method::PATCH, &path, Some(&hr))
        .header("If-Match", tag)
        .json(&json!({"display_name": null}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(r, 400, "invalid_input").await;
    assert_eq!(problem["errors"][0]["field"], "display_name");
}

#[tokio::test]
async fn head_answers_wherever_get_does_and_an_empty_if_match_matches_nothing() {
    let s = TestStack::start().await;
    let (token, id, _) = alice_and_tag(&s).await;
    for path in [
        "/staff".to_owned(),
        format!("/staff/{id}"),
        "/me".to_owned(),
        "/departments".to_owned(),
    ] {
        let r = s
            .api(Method::HEAD, &path, Some(&token))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.text().await.unwrap().is_empty());
    }
    let r = s
        .api(Method::PATCH, &format!("/staff/{id}"), Some(&token))
        .header("If-Match", "")
        .json(&json!({"bio": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 412, "precondition_failed").await;
}

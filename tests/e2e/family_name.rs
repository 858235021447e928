//! Family names: the directory in family-name order (accents, case and apostrophes folded the
//! same way on SQLite and PostgreSQL), browsing by initial, the A–Z's letters, HR owning the
//! field (the API, the HR import with and without the column) and the migration that gave
//! existing records theirs.

use std::io::Write as _;

use reqwest::Method;
use serde_json::{Value, json};
use staff_directory::hr_sync::{self, HrSyncArgs, Summary};

use crate::support::*;

const NAMES: &str = "School of Names";

/// People whose order a reader knows, created by HR in a department of their own: username,
/// display name, and the family name when HR gives one apart from the display name.
const PEOPLE: [(&str, &str, Option<&str>); 7] = [
    ("zostberg", "Zoë Östberg", None),
    ("noconnor", "Niamh O'Connor", None),
    ("sobrien", "Seán Ó'Brien", None),
    ("boakes", "Bob oakes", None),
    ("aoakes", "Dr Anna Oakes", None),
    ("eohm", "Ezra Ohm", None),
    ("pdevries", "Pieter de Vries", Some("de Vries")),
];

/// The order a reader expects: de Vries under D, then the O's with Ó and Ö read as O, the
/// apostrophes ignored, case ignored, and given names (without titles) breaking the tie.
const EXPECTED: [&str; 7] = [
    "pdevries", "aoakes", "boakes", "sobrien", "noconnor", "eohm", "zostberg",
];

async fn create_people(s: &TestStack) {
    let hr = s.hr_token().await;
    for (username, display_name, family_name) in PEOPLE {
        let mut body = json!({
            "username": username, "display_name": display_name, "job_title": "Lecturer",
            "department": NAMES, "email": format!("{username}@example.edu"),
        });
        if let Some(family) = family_name {
            body["family_name"] = json!(family);
        }
        let r = s
            .api(Method::POST, "/staff", Some(&hr))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{username}");
    }
}

async fn listing(s: &TestStack, path: &str, token: &str) -> (Vec<String>, Value) {
    let r = s.api(Method::GET, path, Some(token)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    let page: Value = r.json().await.unwrap();
    let usernames = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["username"].as_str().unwrap().to_owned())
        .collect();
    (usernames, page)
}

fn department(path: &str) -> String {
    format!("{path}&department=School%20of%20Names")
}

#[tokio::test]
async fn the_directory_is_in_family_name_order_with_accents_case_and_apostrophes_folded() {
    let s = TestStack::start().await;
    create_people(&s).await;
    let t = s.web_app_token().await;
    // Listed (the listing index), found by a word (the full-text index), and page by page.
    let (listed, page) = listing(&s, &department("/staff?per_page=100"), &t).await;
    assert_eq!(listed, EXPECTED);
    assert_eq!(page["total"], 7);
    let (found, _) = listing(&s, "/staff?q=names&per_page=100", &t).await;
    assert_eq!(found, EXPECTED, "the same order through the search");
    let mut paged = Vec::new();
    for n in 1..=4 {
        let (names, page) =
            listing(&s, &department(&format!("/staff?per_page=2&page={n}")), &t).await;
        assert_eq!(page["total"], 7);
        paged.extend(names);
    }
    assert_eq!(paged, EXPECTED);
    // Records carry their family name: given, or the last word of the display name.
    let families: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["family_name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        families,
        [
            "de Vries", "Oakes", "oakes", "Ó'Brien", "O'Connor", "Ohm", "Östberg"
        ]
    );
    // The whole directory: the demo's O'Brien sits between Obi and Okafor, Johnson under J.
    let (all, _) = listing(&s, "/staff?per_page=100", &t).await;
    let at = |u: &str| all.iter().position(|x| x == u).unwrap();
    assert!(at("cobi") < at("obrien") && at("obrien") < at("sobrien"));
    assert!(at("noconnor") < at("bokafor"), "O'Connor before Okafor");
    assert!(at("zostberg") > at("dokafor"), "Östberg after Okafor");
}

#[tokio::test]
async fn initial_filters_by_the_folded_first_letter_of_the_family_name() {
    let s = TestStack::start().await;
    create_people(&s).await;
    let t = s.web_app_token().await;
    let (o, page) = listing(&s, &department("/staff?initial=O"), &t).await;
    assert_eq!(o, EXPECTED[1..], "Ó'Brien and Östberg are under O");
    assert_eq!(page["total"], 6);
    assert!(page.get("letters").is_none(), "letters only when asked for");
    let (lower, _) = listing(&s, &department("/staff?initial=o"), &t).await;
    assert_eq!(lower, o, "either case");
    let (d, page) = listing(&s, &department("/staff?initial=D"), &t).await;
    assert_eq!(
        (d, page["total"].as_i64()),
        (vec!["pdevries".to_owned()], Some(1))
    );
    let (none, page) = listing(&s, &department("/staff?initial=Q"), &t).await;
    assert!(none.is_empty() && page["total"] == 0);
    let (empty, page) = listing(&s, &department("/staff?initial="), &t).await;
    assert_eq!(
        (empty.len(), page["total"].as_i64()),
        (7, Some(7)),
        "empty: no filter"
    );
    // With a search (the full-text path) and paged.
    let (found, page) = listing(&s, "/staff?q=names&initial=O&per_page=4&page=2", &t).await;
    assert_eq!(
        (found, page["total"].as_i64()),
        (
            EXPECTED[5..].iter().map(|u| u.to_string()).collect(),
            Some(6)
        )
    );

    // The A–Z's letters: those with anybody for the search and department, whatever the
    // initial, and the total that of the initial asked for.
    let (_, page) = listing(&s, &department("/staff?letters=true&initial=O"), &t).await;
    assert_eq!(
        page["letters"],
        json!([{"letter": "D", "staff": 1}, {"letter": "O", "staff": 6}])
    );
    assert_eq!(page["total"], 6);
    let (_, page) = listing(&s, "/staff?q=names&letters=true", &t).await;
    assert_eq!(
        page["letters"],
        json!([{"letter": "D", "staff": 1}, {"letter": "O", "staff": 6}])
    );
    let (_, page) = listing(&s, "/staff?q=zzzznotaword&letters=true&initial=O", &t).await;
    assert_eq!(
        (page["letters"].clone(), page["total"].as_i64()),
        (json!([]), Some(0))
    );
    // Without filters: every live record under a letter, from the head counts.
    let (_, page) = listing(&s, "/staff?letters=true", &t).await;
    let letters = page["letters"].as_array().unwrap();
    let sum: i64 = letters.iter().map(|l| l["staff"].as_i64().unwrap()).sum();
    assert_eq!((sum, page["total"].as_i64()), (67, Some(67)));
    let j = letters.iter().find(|l| l["letter"] == "J").unwrap();
    let (js, page) = listing(&s, "/staff?initial=J&per_page=100", &t).await;
    assert_eq!(page["total"], j["staff"]);
    assert!(js.contains(&"ajohnson".to_owned()));
    assert!(letters.iter().all(|l| l["staff"].as_i64().unwrap() >= 1));

    // The head counts follow a retirement and a move.
    let hr = s.hr_token().await;
    let id = s.staff_id("eohm").await;
    let r = s
        .api(Method::DELETE, &format!("/staff/{id}"), Some(&hr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let id = s.staff_id("pdevries").await;
    let tag = etag_of(&s, id, &hr).await;
    let r = patch(
        &s,
        id,
        Some(&hr),
        Some(&tag),
        json!({"department": "School of Chemistry"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let (_, page) = listing(&s, &department("/staff?letters=true"), &t).await;
    assert_eq!(page["letters"], json!([{"letter": "O", "staff": 5}]));
    assert_eq!(page["total"], 5);
}

#[tokio::test]
async fn an_initial_that_is_not_one_letter_from_a_to_z_is_a_400_that_says_so() {
    let s = TestStack::start().await;
    let t = s.web_app_token().await;
    for bad in ["JO", "1", "%C3%96", "-", "%20", "jj"] {
        let r = s
            .api(Method::GET, &format!("/staff?initial={bad}"), Some(&t))
            .send()
            .await
            .unwrap();
        let problem = assert_problem(r, 400, "invalid_input").await;
        assert_eq!(problem["errors"][0]["field"], "initial", "{bad}");
        assert_eq!(
            problem["detail"], "initial: must be a single letter from A to Z",
            "{bad}"
        );
    }
    let r = s
        .api(Method::GET, "/staff?letters=maybe", Some(&t))
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, "malformed_request").await;
}

#[tokio::test]
async fn hr_sets_the_family_name_and_a_member_of_staff_cannot() {
    let s = TestStack::start().await;
    let (hr, t) = (s.hr_token().await, s.web_app_token().await);
    let alice = s.user_token(ALICE).await;
    let id = s.staff_id(ALICE.username).await;
    let record = s.get_json(&format!("/staff/{id}"), Some(&t)).await;
    assert_eq!(
        record["family_name"], "Johnson",
        "the migration's and the seed's"
    );

    // Her own token: a 403 naming the field, and nothing changes.
    let tag = etag_of(&s, id, &alice).await;
    let r = patch(
        &s,
        id,
        Some(&alice),
        Some(&tag),
        json!({"family_name": "Smith"}),
    )
    .await;
    let problem = assert_problem(r, 403, "hr_owned_field").await;
    assert_eq!(problem["fields"], json!(["family_name"]));
    assert_eq!(etag_of(&s, id, &t).await, tag, "nothing written");

    // HR: set apart from the display name, it moves her in the order and is in the history.
    let r = patch(
        &s,
        id,
        Some(&hr),
        Some(&tag),
        json!({"family_name": "Zed-Johnson"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(changed["family_name"], "Zed-Johnson");
    assert_eq!(changed["display_name"], "Dr Alice Johnson");
    let (zs, _) = listing(&s, "/staff?initial=Z", &t).await;
    assert!(zs.contains(&ALICE.username.to_owned()));
    let (js, _) = listing(&s, "/staff?initial=J&per_page=100", &t).await;
    assert!(!js.contains(&ALICE.username.to_owned()));
    let history = s.get_json(&format!("/staff/{id}/history"), Some(&hr)).await;
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["changes"],
        json!([{"field": "family_name", "old": "Johnson", "new": "Zed-Johnson"}])
    );
    assert_eq!(
        (last["subject"].as_str(), last["token_kind"].as_str()),
        (Some("hr-sync"), Some("client"))
    );

    // A family name set apart stays when the display name changes; empty is refused.
    let tag = etag_of(&s, id, &hr).await;
    let r = patch(
        &s,
        id,
        Some(&hr),
        Some(&tag),
        json!({"display_name": "Prof Alice Johnson"}),
    )
    .await;
    let changed: Value = r.json().await.unwrap();
    assert_eq!(changed["family_name"], "Zed-Johnson");
    let tag = etag_of(&s, id, &hr).await;
    let r = patch(&s, id, Some(&hr), Some(&tag), json!({"family_name": ""})).await;
    let problem = assert_problem(r, 400, "invalid_input").await;
    assert_eq!(
        problem["errors"],
        json!([{"field": "family_name", "message": "must not be empty"}])
    );

    // One that was the display name's last word follows a new display name.
    let ben = s.staff_id(BEN.username).await;
    let tag = etag_of(&s, ben, &hr).await;
    let r = patch(
        &s,
        ben,
        Some(&hr),
        Some(&tag),
        json!({"display_name": "Ben Okafor-Reid"}),
    )
    .await;
    let changed: Value = r.json().await.unwrap();
    assert_eq!(changed["family_name"], "Okafor-Reid");
    let history = s
        .get_json(&format!("/staff/{ben}/history"), Some(&hr))
        .await;
    let fields: Vec<&str> = history.as_array().unwrap().last().unwrap()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["display_name", "family_name"]);

    // Creation: given, kept; absent, the last word; recorded in the creation's history.
    let r = s
        .api(Method::POST, "/staff", Some(&hr))
        .json(
            &json!({"username": "ggm", "display_name": "Gabriel García Márquez",
                      "family_name": "García Márquez", "job_title": "Writer",
                      "department": "School of English", "email": "ggm@example.edu"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["family_name"], "García Márquez");
    let history = s
        .get_json(&format!("/staff/{}/history", created["id"]), Some(&hr))
        .await;
    assert!(
        history[0]["changes"]
            .as_array()
            .unwrap()
            .contains(&json!({"field": "family_name", "new": "García Márquez"}))
    );
    let r = s
        .api(Method::POST, "/staff", Some(&hr))
        .json(
            &json!({"username": "blank", "display_name": "Blank Family", "family_name": "",
                      "job_title": "Writer", "department": "School of English",
                      "email": "blank@example.edu"}),
        )
        .send()
        .await
        .unwrap();
    let problem = assert_problem(r, 400, "invalid_input").await;
    assert_eq!(problem["errors"][0]["field"], "family_name");
}

/// The demo staff as HR's export, with a `family_name` column or without.
fn export(with_family_name: bool, extra: &[[&str; 6]]) -> tempfile::NamedTempFile {
    let seed: Vec<Value> =
        serde_json::from_str(include_str!("../../directory-api/seed/staff.json")).unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut columns = vec![
        "username",
        "display_name",
        "job_title",
        "department",
        "email",
    ];
    if with_family_name {
        columns.push("family_name");
    }
    w.write_record(&columns).unwrap();
    for r in &seed {
        w.write_record(columns.iter().map(|c| r[*c].as_str().unwrap()))
            .unwrap();
    }
    for row in extra {
        w.write_record(&row[..columns.len()]).unwrap();
    }
    let mut file = tempfile::NamedTempFile::new().unwrap();
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
        concurrency: 4,
    }
}

#[tokio::test]
async fn the_hr_import_takes_the_family_name_column_when_there_is_one() {
    let s = TestStack::start().await;
    let t = s.web_app_token().await;
    let ggm = [
        "ggm",
        "Gabriel García Márquez",
        "Writer",
        "School of English",
        "ggm@example.edu",
        "García Márquez",
    ];
    // Without the column: the last word, which the demo records already have.
    let summary = hr_sync::run(&args(&s, &export(false, &[ggm])))
        .await
        .unwrap();
    assert_eq!(
        summary,
        Summary {
            created: 1,
            updated: 0,
            retired: 0,
            unchanged: 60,
            failed: 0
        }
    );
    let id = s.staff_id("ggm").await;
    assert_eq!(
        s.get_json(&format!("/staff/{id}"), Some(&t)).await["family_name"],
        "Márquez"
    );
    // With it: the file's family name wins, and only that record changes.
    let summary = hr_sync::run(&args(&s, &export(true, &[ggm])))
        .await
        .unwrap();
    assert_eq!(
        summary,
        Summary {
            created: 0,
            updated: 1,
            retired: 0,
            unchanged: 60,
            failed: 0
        }
    );
    let record = s.get_json(&format!("/staff/{id}"), Some(&t)).await;
    assert_eq!(record["family_name"], "García Márquez");
    let (gs, _) = listing(&s, "/staff?initial=G&per_page=100", &t).await;
    assert!(gs.contains(&"ggm".to_owned()));
    // An empty cell means "the last word" again.
    let blank = [
        "ggm",
        "Gabriel García Márquez",
        "Writer",
        "School of English",
        "ggm@example.edu",
        "",
    ];
    let summary = hr_sync::run(&args(&s, &export(true, &[blank])))
        .await
        .unwrap();
    assert_eq!(summary.updated, 1);
    assert_eq!(
        s.get_json(&format!("/staff/{id}"), Some(&t)).await["family_name"],
        "Márquez"
    );
}

/// A directory from before family names (migrations 0001 to 0003, records written by SQL as
/// they were then), then the service's own migration: every record gets the last word of its
/// display name and a place in the order, and the head counts of the A–Z agree.
#[tokio::test]
async fn the_migration_gives_existing_records_their_family_name_and_place() {
    let database = TestDb::fresh("api_before_0004").await;
    let url = service_kit::db::DatabaseUrl::from(database.url.as_str());
    let (pool, backend) = service_kit::db::connect(&url).await.unwrap();
    let migrator = match backend {
        service_kit::db::Backend::Sqlite => sqlx::migrate!("directory-api/migrations/sqlite"),
        service_kit::db::Backend::Postgres => sqlx::migrate!("directory-api/migrations/postgres"),
    };
    migrator.run_to(3, &pool).await.unwrap();
    for (username, display, retired) in [
        ("eostberg", "Dr Eva Östberg", None),
        ("sobrien", "Seán Ó'Brien", None),
        ("cher", "Cher", None),
        ("aoakes", "Anna Oakes", Some(1_700_000_100_i64)),
    ] {
        sqlx::query(
            "INSERT INTO staff (username, display_name, job_title, department, email, created_at, \
             updated_at, retired_at) VALUES ($1, $2, 'Lecturer', 'School of Names', $3, 1700000000, \
             1700000000, $4)",
        )
        .bind(username)
        .bind(display)
        .bind(format!("{username}@example.edu"))
        .bind(retired)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let s = TestStack::start().await;
    let clock = std::sync::Arc::new(ManualClock::at(s.api.clock.now()));
    let api = start_api(&database.url, &s.auth.base_url, clock, |_| {}).await;
    let t = s.web_app_token().await;
    let page: Value = s
        .http
        .get(api.url("/staff?letters=true&per_page=100"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got: Vec<(&str, &str)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["username"].as_str().unwrap(),
                i["family_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("cher", "Cher"),
            ("sobrien", "Ó'Brien"),
            ("eostberg", "Östberg")
        ]
    );
    assert_eq!(
        page["letters"],
        json!([{"letter": "C", "staff": 1}, {"letter": "O", "staff": 2}])
    );
    assert_eq!(page["total"], 3);
    let retired = s.hr_token().await;
    let record: Value = s
        .http
        .get(api.url("/staff/4"))
        .bearer_auth(&retired)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        record["family_name"], "Oakes",
        "retired records get theirs too"
    );
    api.stop().await;
    drop(database);
}

#[tokio::test]
async fn the_openapi_document_describes_the_family_name_the_initial_and_the_letters() {
    let s = TestStack::start().await;
    let doc = s.get_json("/openapi.json", None).await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["StaffRecord"]["properties"]["family_name"]["type"],
        "string"
    );
    assert!(
        schemas["StaffRecord"]["required"]
            .as_array()
            .unwrap()
            .contains(&json!("family_name"))
    );
    assert_eq!(
        schemas["NewStaffRequest"]["properties"]["family_name"]["maxLength"],
        100
    );
    assert!(
        !schemas["NewStaffRequest"]["required"]
            .as_array()
            .unwrap()
            .contains(&json!("family_name"))
    );
    assert_eq!(
        schemas["StaffPatchRequest"]["properties"]["family_name"]["minLength"],
        1
    );
    assert_eq!(
        schemas["Letter"]["properties"]["letter"]["pattern"],
        "^[A-Z]$"
    );
    assert_eq!(
        schemas["StaffPage"]["properties"]["letters"]["type"],
        json!(["array", "null"])
    );
    let params = doc["paths"]["/staff"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let param = |name: &str| params.iter().find(|p| p["name"] == name).unwrap().clone();
    assert_eq!(param("initial")["schema"]["pattern"], "^[A-Za-z]?$");
    assert_eq!(param("letters")["schema"]["type"], "boolean");
    assert_eq!(
        (
            param("initial")["required"].as_bool(),
            param("letters")["required"].as_bool()
        ),
        (Some(false), Some(false))
    );
}

async fn web_page(s: &TestStack, web: &RunningService, path: &str) -> (u16, String) {
    let r = s.http.get(web.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The letters in the website's A–Z bar that are links, and those that are not.
fn bar(html: &str) -> (Vec<char>, Vec<char>) {
    let start = html
        .find(r#"<nav class="alphabet" aria-label="Family names from A to Z">"#)
        .expect("the A–Z bar");
    let nav = &html[start..start + html[start..].find("</nav>").unwrap()];
    let (mut links, mut plain) = (Vec::new(), Vec::new());
    for letter in 'A'..='Z' {
        let as_text = format!(r#"<span class="alphabet-empty">{letter}<"#);
        let as_current_text =
            format!(r#"<span class="alphabet-empty" aria-current="page">{letter}<"#);
        if nav.contains(&as_text) || nav.contains(&as_current_text) {
            plain.push(letter);
        } else if regex::Regex::new(&format!(
            r#"<a href="[^"]*initial={letter}"( aria-current="page")?>{letter}<"#
        ))
        .unwrap()
        .is_match(nav)
        {
            links.push(letter);
        } else {
            panic!("{letter} is missing from the A–Z bar: {nav}");
        }
    }
    (links, plain)
}

#[tokio::test]
async fn the_website_shows_an_a_to_z_bar_whose_links_keep_the_search_and_department() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let (status, html) = web_page(&s, &web, "/").await;
    assert_eq!(status, 200);
    // The demo has nobody under Q, U, X or Y; Álvarez counts under A.
    let (links, plain) = bar(&html);
    assert_eq!(plain, ['Q', 'U', 'X', 'Y']);
    assert_eq!(links.len(), 22);
    assert!(html.contains(
        r#"<a href="/?initial=J">J<span class="visually-hidden"> (1 person)</span></a>"#
    ));
    assert!(html.contains(r#"<a class="alphabet-all" href="/" aria-current="page">All</a>"#));
    assert!(
        !html.contains(r#"name="initial""#),
        "no letter to keep in the search form"
    );

    // A search in a department: the letters of its results, each link keeping both and
    // starting again at page 1.
    let t = s.web_app_token().await;
    let api = s
        .get_json(
            "/staff?q=school&department=School%20of%20Chemistry&letters=true",
            Some(&t),
        )
        .await;
    let expected: Vec<char> = api["letters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["letter"].as_str().unwrap().chars().next().unwrap())
        .collect();
    let (status, html) = web_page(&s, &web, "/?q=school&department=School+of+Chemistry").await;
    assert_eq!(status, 200);
    let (links, _) = bar(&html);
    assert_eq!(links, expected);
    assert!(expected.len() >= 3 && expected.len() < 20, "{expected:?}");
    for letter in links {
        assert!(
            html.contains(&format!(
                r#"<a href="/?q=school&#38;department=School+of+Chemistry&#38;initial={letter}">{letter}<"#
            )),
            "{letter}"
        );
    }
    assert!(html.contains(r#"<a class="alphabet-all" href="/?q=school&#38;department=School+of+Chemistry" aria-current="page">All</a>"#));

    // One letter: marked current, named in the heading, kept by the search form and by
    // the pagination (26 people under Z: two pages of 24).
    let hr = s.hr_token().await;
    for i in 0..25 {
        let r = s
            .api(Method::POST, "/staff", Some(&hr))
            .json(&json!({"username": format!("zulu{i:02}"), "display_name": format!("Person{i:02} Zulu"),
                          "job_title": "Lecturer", "department": "School of Chemistry",
                          "email": format!("zulu{i:02}@example.edu")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let (status, html) = web_page(&s, &web, "/?initial=z").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<a href="/?initial=Z" aria-current="page">Z<span class="visually-hidden"> (26 people)</span></a>"#));
    assert!(html.contains("26 people found with a family name starting with Z"));
    assert!(html.contains(r#"<input type="hidden" name="initial" value="Z">"#));
    assert!(
        html.contains(
            r#"<a class="pager-link pager-next" href="/?initial=Z&#38;page=2" rel="next">"#
        )
    );
    assert!(html.contains("Yifan Zhang") && html.contains("Person00 Zulu"));
    assert!(!html.contains("Dr Alice Johnson"));
    let (_, html) = web_page(
        &s,
        &web,
        "/?department=School+of+Chemistry&initial=Z&page=2",
    )
    .await;
    assert!(html.contains(
        r#"<a class="pager-link pager-prev" href="/?department=School+of+Chemistry&#38;initial=Z&#38;page=1" rel="prev">"#
    ));
    assert!(html.contains("Person24 Zulu") && !html.contains("Person00 Zulu"));
    // A letter with nobody: plain text, marked current, and the page says so.
    let (status, html) = web_page(&s, &web, "/?initial=Q").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<span class="alphabet-empty" aria-current="page">Q<"#));
    assert!(html.contains("No one matches with a family name starting with Q"));

    // Not a letter from A to Z: a 400 page that says so.
    for bad in ["JO", "%C3%96", "1"] {
        let (status, html) = web_page(&s, &web, &format!("/?initial={bad}")).await;
        assert_eq!(status, 400, "{bad}");
        assert!(
            html.contains("The letter must be a single letter from A to Z."),
            "{bad}"
        );
    }
}

/// A search matching more people than the API counts one by one: its letters are those of
/// the department (or directory), and its total and pages stay exact.
#[tokio::test]
async fn a_broad_search_has_the_letters_of_the_directory() {
    let s = TestStack::start().await;
    let limit = directory_api::store::search::LETTERS_COUNTED_UP_TO;
    let crowd: Vec<_> = (0..=limit)
        .map(|i| {
            let request: directory_api::domain::staff::NewStaffRequest =
                serde_json::from_value(json!({
                    "username": format!("crowd{i:05}"), "display_name": format!("Crowdmember{i:05} Person"),
                    "job_title": "Lecturer", "department": "School of Crowds",
                    "email": format!("crowd{i:05}@example.edu"),
                }))
                .unwrap();
            directory_api::domain::staff::NewStaff::parse(&request).unwrap()
        })
        .collect();
    let actor = directory_api::store::staff::Actor {
        subject: "test",
        client_id: "test",
        kind: "seed",
    };
    let now = s.api.clock.now();
    assert_eq!(
        s.api
            .db
            .create_staff_many(&crowd, actor, now)
            .await
            .unwrap(),
        crowd.len()
    );
    let t = s.web_app_token().await;
    let (_, directory) = listing(&s, "/staff?letters=true&per_page=1", &t).await;
    let (_, page) = listing(&s, "/staff?q=person&letters=true&per_page=1", &t).await;
    assert_eq!(page["total"], limit + 1);
    assert_eq!(
        page["letters"], directory["letters"],
        "the directory's letters"
    );
    // One fewer match: counted one by one, so only P.
    let id = s.staff_id("crowd00000").await;
    let hr = s.hr_token().await;
    let r = s
        .api(Method::DELETE, &format!("/staff/{id}"), Some(&hr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (_, page) = listing(&s, "/staff?q=person&letters=true&per_page=1", &t).await;
    assert_eq!(page["letters"], json!([{"letter": "P", "staff": limit}]));
    let (_, page) = listing(
        &s,
        "/staff?q=person&initial=P&letters=true&per_page=1&page=2",
        &t,
    )
    .await;
    assert_eq!(page["total"], limit);
}

//! The directory API's items of the hardening issue: search that survives every kind of edit
//! (h01), `If-Match: *` refused (h10), trust in the issuer and in where its keys come from
//! (h11), and metrics whose labels come from fixed sets, on an address of their own if asked
//! (h02).

use std::net::SocketAddr;
use std::str::FromStr as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{
    ALICE, ApiDb, Clock as _, RunningService, TestStack, assert_problem, etag_of, fresh_api,
    header, patch, text_of,
};

// ---------------------------------------------------------------------------------------
// h01: search after edits.

/// The ids of the live records `GET /staff?q=` finds, and the `total` it reports.
async fn search(s: &TestStack, token: &str, q: &str) -> (Vec<i64>, i64) {
    let r = s
        .api(Method::GET, "/staff", Some(token))
        .query(&[("q", q), ("per_page", "100")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "search {q:?}");
    let page: Value = r.json().await.unwrap();
    let ids = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    (ids, page["total"].as_i64().unwrap())
}

/// Asserts that searching for each of `terms` finds record `id` (and counts it).
async fn assert_found_by(s: &TestStack, token: &str, id: i64, step: &str, terms: &[&str]) {
    for q in terms {
        let (ids, total) = search(s, token, q).await;
        assert!(
            ids.contains(&id),
            "{step}: searching for {q:?} does not find record {id} (found {ids:?})"
        );
        assert!(
            total >= i64::try_from(ids.len()).unwrap(),
            "{step}: {q:?}: total {total}"
        );
    }
}

/// Asserts that searching for each of `terms` does not find record `id`.
async fn assert_not_found_by(s: &TestStack, token: &str, id: i64, step: &str, terms: &[&str]) {
    for q in terms {
        let (ids, _) = search(s, token, q).await;
        assert!(
            !ids.contains(&id),
            "{step}: searching for {q:?} still finds record {id}"
        );
    }
}

/// `PATCH` with the record's current ETag, asserting a 200.
async fn patch_ok(s: &TestStack, id: i64, token: &str, body: Value) {
    let etag = etag_of(s, id, token).await;
    let r = patch(s, id, Some(token), Some(&etag), body.clone()).await;
    let status = r.status();
    assert_eq!(status, 200, "PATCH {body}: {}", r.text().await.unwrap());
}

#[tokio::test]
async fn h01_a_record_stays_findable_by_every_searchable_field_after_every_kind_of_edit() {
    let s = TestStack::start().await;
    let reader = s.web_app_token().await;
    let alice = s.user_token(ALICE).await;
    let hr = s.hr_token().await;
    let id = s.staff_id(ALICE.username).await;
    assert_found_by(
        &s,
        &reader,
        id,
        "as seeded",
        &["Johnson", "Senior Lecturer", "Computer Science", "OpenID"],
    )
    .await;

    // Staff fields with her own token: first the bio alone, which is not searchable.
    patch_ok(
        &s,
        id,
        &alice,
        json!({"bio": "Alice now writes about passkeys."}),
    )
    .await;
    assert_found_by(
        &s,
        &reader,
        id,
        "after a bio edit",
        &["Johnson", "Senior Lecturer", "Computer Science", "OpenID"],
    )
    .await;
    patch_ok(
        &s,
        id,
        &alice,
        json!({"research_interests": "verifiable credentials, zeppelin navigation"}),
    )
    .await;
    assert_found_by(
        &s,
        &reader,
        id,
        "after an interests edit",
        &["Johnson", "Senior Lecturer", "Computer Science", "zeppelin"],
    )
    .await;
    assert_not_found_by(&s, &reader, id, "after an interests edit", &["OpenID"]).await;
    patch_ok(
        &s,
        id,
        &alice,
        json!({"phone": "+1 555 0101 9999", "office": "Turing Building, room 1"}),
    )
    .await;
    assert_found_by(
        &s,
        &reader,
        id,
        "after a phone and office edit",
        &["Johnson", "Senior Lecturer", "Computer Science", "zeppelin"],
    )
    .await;

    // HR fields with the HR job's token.
    patch_ok(
        &s,
        id,
        &hr,
        json!({
            "display_name": "Dr Alice Whitfield",
            "job_title": "Reader in Usable Privacy",
            "department": "School of Cryptology",
        }),
    )
    .await;
    let now_searchable = [
        "Whitfield",
        "Usable Privacy",
        "Cryptology",
        "zeppelin",
        "Alice",
    ];
    assert_found_by(&s, &hr, id, "after an HR edit", &now_searchable).await;
    assert_found_by(&s, &reader, id, "after an HR edit", &now_searchable).await;
    assert_not_found_by(
        &s,
        &reader,
        id,
        "after an HR edit",
        &["Johnson", "Senior Lecturer", "Computer Science"],
    )
    .await;
    patch_ok(&s, id, &hr, json!({"email": "awhitfield@example.edu"})).await;
    assert_found_by(&s, &reader, id, "after an email edit", &now_searchable).await;

    // Retired: found by nothing, and counted by nothing. (The API has no way to un-retire.)
    let r = s
        .api(Method::DELETE, &format!("/staff/{id}"), Some(&hr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_not_found_by(&s, &reader, id, "after retiring", &now_searchable).await;
    assert_not_found_by(&s, &hr, id, "after retiring", &now_searchable).await;
    for unique in ["Whitfield", "Cryptology", "zeppelin"] {
        assert_eq!(search(&s, &reader, unique).await, (vec![], 0), "{unique}");
    }
}

/// A copy of the API's SQLite migrations up to `last` (what a database created by an
/// earlier release has applied).
fn sqlite_migrations_up_to(last: u32) -> tempfile::TempDir {
    let source =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("directory-api/migrations/sqlite");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let version: u32 = name.split('_').next().unwrap().parse().unwrap();
        if version <= last {
            std::fs::copy(&path, dir.path().join(&name)).unwrap();
        }
    }
    dir
}

/// SQLite only (the index damaged by the old triggers is SQLite's), whatever the backend of
/// the run.
#[tokio::test]
async fn h01_a_sqlite_search_index_damaged_by_the_old_triggers_is_rebuilt_by_the_migration() {
    let s = TestStack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/legacy.db", dir.path().display());
    let now = s.api.clock.now();

    // A database of the release before: migrations 0001 and 0002 only, then written to by
    // its statements (create, edit a bio, retire).
    let old = sqlite_migrations_up_to(2);
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(old.path())
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();
    for (username, name, title, interests) in [
        (
            "ajohnson",
            "Dr Alice Johnson",
            "Senior Lecturer in Cyber Security",
            "usable security",
        ),
        (
            "bokafor",
            "Ben Okafor",
            "Lecturer in Physical Chemistry",
            "spectroscopy",
        ),
        (
            "cretired",
            "Carol Quennell",
            "Emeritus Professor",
            "palaeography",
        ),
    ] {
        sqlx::query(
            "INSERT INTO staff (username, display_name, job_title, department, email, \
             research_interests, created_at, updated_at) VALUES ($1, $2, $3, 'School of Sciences', $4, $5, $6, $6)",
        )
        .bind(username)
        .bind(name)
        .bind(title)
        .bind(format!("{username}@example.edu"))
        .bind(interests)
        .bind(now)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    sqlx::query(
        "UPDATE staff SET bio = 'edited', version = version + 1 WHERE username = 'ajohnson'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE staff SET retired_at = $1, version = version + 1 WHERE username = 'cretired'",
    )
    .bind(now)
    .execute(&mut conn)
    .await
    .unwrap();
    let indexed = |word: &'static str| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM staff_fts WHERE staff_fts MATCH $1")
            .bind(word)
    };
    // The damage this repairs: the bio edit took her name out of the index.
    assert_eq!(indexed("johnson").fetch_one(&mut conn).await.unwrap(), 0);
    assert_eq!(indexed("okafor").fetch_one(&mut conn).await.unwrap(), 1);
    conn.close().await.unwrap();

    // The API of this release migrates the database at start.
    let mut settings = directory_api::config::Settings::new(
        url.clone(),
        "127.0.0.1:0".parse().unwrap(),
        s.auth.base_url.clone(),
    );
    settings.serve.workers = Some(1);
    let app = directory_api::startup::Application::build_with_clock(
        settings,
        Arc::new(crate::support::ManualClock::at(now)),
    )
    .await
    .unwrap();
    let base = format!("http://{}", app.address());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let reader = s.web_app_token().await;
    let find = |q: &'static str| {
        let (http, base, reader) = (s.http.clone(), base.clone(), reader.clone());
        async move {
            let r = http
                .get(format!("{base}/staff"))
                .query(&[("q", q)])
                .bearer_auth(reader)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let page: Value = r.json().await.unwrap();
            let names: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["username"].as_str().unwrap().to_owned())
                .collect();
            (names, page["total"].as_i64().unwrap())
        }
    };
    for q in ["Johnson", "Senior Lecturer", "usable security"] {
        assert_eq!(find(q).await, (vec!["ajohnson".to_owned()], 1), "{q}");
    }
    assert_eq!(find("Okafor").await, (vec!["bokafor".to_owned()], 1));
    // Rebuilt from the live records only: the retired one stays out.
    assert_eq!(find("Quennell").await, (vec![], 0));
    assert_eq!(find("palaeography").await, (vec![], 0));
    assert_eq!(find("Sciences").await.1, 2);

    // And edits made after the migration keep the index right.
    let hr = s.hr_token().await;
    let alice_etag = {
        let r = s
            .http
            .get(format!("{base}/staff/1"))
            .bearer_auth(&hr)
            .send()
            .await
            .unwrap();
        header(&r, "etag").unwrap().to_owned()
    };
    let r = s
        .http
        .patch(format!("{base}/staff/1"))
        .bearer_auth(&hr)
        .header("If-Match", alice_etag)
        .json(&json!({"email": "alice@example.edu"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(find("Johnson").await, (vec!["ajohnson".to_owned()], 1));
    handle.stop(false).await;
}

// ---------------------------------------------------------------------------------------
// h10: If-Match: *.

#[tokio::test]
async fn h10_if_match_star_on_a_patch_is_refused_with_428_asking_for_the_records_etag() {
    let s = TestStack::start().await;
    let alice = s.user_token(ALICE).await;
    let hr = s.hr_token().await;
    let id = s.staff_id(ALICE.username).await;
    let etag = etag_of(&s, id, &alice).await;
    let before = s.get_json(&format!("/staff/{id}"), Some(&alice)).await;

    // The shape of the 428 for a missing If-Match, which `*` must share.
    let missing = patch(&s, id, Some(&alice), None, json!({"bio": "lost"})).await;
    let missing = assert_problem(missing, 428, "precondition_required").await;

    for (who, token) in [("alice", &alice), ("hr", &hr)] {
        for value in ["*", " * ", &format!("{etag}, *"), &format!("*, {etag}")] {
            let r = patch(
                &s,
                id,
                Some(token),
                Some(value),
                json!({"bio": "overwritten"}),
            )
            .await;
            assert!(
                header(&r, "etag").is_none(),
                "{who} {value:?}: no ETag to copy"
            );
            assert_eq!(header(&r, "cache-control"), Some("no-store"));
            let problem = assert_problem(r, 428, "precondition_required").await;
            assert_eq!(problem["type"], missing["type"], "{who} {value:?}");
            assert_eq!(problem["type"], "about:blank");
            assert_eq!(problem["title"], "Precondition Required");
            assert_eq!(
                problem["detail"],
                "If-Match: * is not accepted: it matches any version, so a concurrent change would be overwritten; send If-Match with the record's ETag, as read with GET /staff/{id}",
                "{who} {value:?}"
            );
        }
    }
    // `*` in a header of its own, beside one with the right ETag.
    let r = s
        .api(Method::PATCH, &format!("/staff/{id}"), Some(&alice))
        .header("If-Match", etag.as_str())
        .header("If-Match", "*")
        .json(&json!({"bio": "overwritten"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 428, "precondition_required").await;

    // Nothing was written.
    assert_eq!(etag_of(&s, id, &alice).await, etag);
    assert_eq!(
        s.get_json(&format!("/staff/{id}"), Some(&alice)).await,
        before
    );
    // The record's own ETag still works.
    let r = patch(&s, id, Some(&alice), Some(&etag), json!({"bio": "mine"})).await;
    assert_eq!(r.status(), 200);

    // The OpenAPI document says so.
    let doc = s.get_json("/openapi.json", None).await;
    let operation = &doc["paths"]["/staff/{id}"]["patch"];
    assert!(
        operation["responses"]["428"]["description"]
            .as_str()
            .unwrap()
            .contains('*')
    );
    let if_match = operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "If-Match")
        .unwrap();
    assert!(
        if_match["description"]
            .as_str()
            .unwrap()
            .contains("`*` is refused with 428")
    );
}

// ---------------------------------------------------------------------------------------
// h11: trust in the issuer.

const PLAIN_HTTP_REFUSED: &str = "the issuer \"http://auth.example.ac.uk\" is plain http on a host that is not loopback: anyone on the network path could forge tokens; use https:// (http:// is allowed only for 127.0.0.0/8, [::1] and localhost)";

#[tokio::test]
async fn h11_the_api_refuses_to_start_with_a_plain_http_issuer_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/api.db", dir.path().display());
    for issuer in ["http://auth.example.ac.uk", "http://10.0.0.5:8082"] {
        let settings = directory_api::config::Settings::new(
            url.clone(),
            "127.0.0.1:0".parse().unwrap(),
            issuer,
        );
        let err = directory_api::startup::Application::build(settings)
            .await
            .err()
            .unwrap_or_else(|| panic!("{issuer} was accepted"));
        let message = format!("{err:#}");
        assert!(message.contains(issuer), "{message}");
        assert!(message.contains("use https://"), "{message}");
    }
    let settings = directory_api::config::Settings::new(
        url.clone(),
        "127.0.0.1:0".parse().unwrap(),
        "http://auth.example.ac.uk",
    );
    let err = directory_api::startup::Application::build(settings)
        .await
        .err()
        .unwrap();
    assert_eq!(format!("{err:#}"), PLAIN_HTTP_REFUSED);
    // Refused before the database is touched.
    assert!(!dir.path().join("api.db").exists());

    // The binary exits non-zero with the message.
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_staff-directory"))
            .args(["directory-api", "serve", "--bind", "127.0.0.1:0"])
            .args(["--issuer", "http://auth.example.ac.uk"])
            .env("API_DATABASE_URL", &url)
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "exit status {:?}", output.status);
    assert!(stderr.contains(PLAIN_HTTP_REFUSED), "{stderr}");
}

/// A listener on 127.0.0.1 that answers each request (one per connection) with the JSON
/// `answer(path)` gives, or 404, and logs the path of every request it was sent.
fn serve_json(
    listener: tokio::net::TcpListener,
    answer: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (log, answer) = (log.clone(), answer.clone());
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65536 {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split(' ').nth(1).unwrap_or("").to_owned();
                log.lock().unwrap().push(path.clone());
                let (status, body) = match answer(&path) {
                    Some(body) => ("200 OK", body),
                    None => ("404 Not Found", "{}".to_owned()),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    seen
}

/// An Ed25519 key pair the test controls, with the JWKS that publishes it.
struct TestKey {
    kid: String,
    key: EncodingKey,
    jwks: String,
}

impl TestKey {
    fn new() -> Self {
        let k = auth_server::oauth::keys::generate().unwrap();
        let jwks = json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "x": k.public_x, "kid": k.kid, "alg": "EdDSA", "use": "sig",
        }]})
        .to_string();
        Self {
            key: EncodingKey::from_ed_der(&STANDARD.decode(&k.private_pkcs8_b64).unwrap()),
            kid: k.kid,
            jwks,
        }
    }

    /// A read token from `issuer` for the API, valid at `now`, signed with this key.
    fn token(&self, issuer: &str, now: i64) -> String {
        let header = json!({"typ": "at+jwt", "alg": "EdDSA", "kid": self.kid});
        let claims = json!({
            "iss": issuer, "sub": "directory-web", "aud": "urn:staff-directory:api",
            "exp": now + 300, "iat": now, "jti": "h11", "client_id": "directory-web",
            "scope": "directory:read", "token_kind": "client",
        });
        let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let input = format!("{}.{}", b64(&header), b64(&claims));
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &self.key, Algorithm::EdDSA).unwrap();
        format!("{input}.{signature}")
    }
}

/// What an issuer's metadata says.
enum Metadata {
    /// `jwks_uri` on the issuer's own origin.
    OwnJwks,
    /// `jwks_uri` on another port of the same host.
    JwksElsewhere,
    /// Its own `jwks_uri`, but another `issuer`.
    OtherIssuer,
}

/// A fake issuer on 127.0.0.1 (metadata and JWKS publishing `key`) and a second listener that
/// publishes the same JWKS: the paths each was asked for, and the issuer URL.
async fn fake_issuer(
    key: &TestKey,
    metadata: Metadata,
) -> (String, Arc<Mutex<Vec<String>>>, Arc<Mutex<Vec<String>>>) {
    let issuer_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", issuer_listener.local_addr().unwrap());
    let other = format!("http://{}", other_listener.local_addr().unwrap());
    let document = match metadata {
        Metadata::OwnJwks => json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks.json")}),
        Metadata::JwksElsewhere => {
            json!({"issuer": issuer, "jwks_uri": format!("{other}/jwks.json")})
        }
        Metadata::OtherIssuer => {
            json!({"issuer": other, "jwks_uri": format!("{issuer}/jwks.json")})
        }
    }
    .to_string();
    let jwks = key.jwks.clone();
    let issuer_seen = serve_json(issuer_listener, move |path| match path {
        "/.well-known/oauth-authorization-server" => Some(document.clone()),
        "/jwks.json" => Some(jwks.clone()),
        _ => None,
    });
    let jwks = key.jwks.clone();
    let other_seen = serve_json(other_listener, move |path| {
        (path == "/jwks.json").then(|| jwks.clone())
    });
    (issuer, issuer_seen, other_seen)
}

/// `GET /staff` on `api` with `token`.
async fn read_with(api: &RunningService<ApiDb>, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/staff", api.base_url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Asserts the answer of an API that has no keys: 503 `unavailable`, `Retry-After`, no
/// challenge (the token may be good), and `/readyz` failing on the `jwks` check alone.
async fn assert_keyless(api: &RunningService<ApiDb>, token: &str) {
    let r = read_with(api, token).await;
    assert_eq!(header(&r, "retry-after"), Some("5"));
    assert!(header(&r, "www-authenticate").is_none());
    assert_problem(r, 503, "unavailable").await;
    let r = reqwest::get(format!("{}/readyz", api.base_url))
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(header(&r, "retry-after"), Some("5"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"status": "not ready", "checks": {"database": "ok", "jwks": "failing"}})
    );
}

#[tokio::test]
async fn h11_keys_are_fetched_from_a_jwks_uri_on_the_issuers_own_origin() {
    // The control: the fake issuer and its forged token work when the JWKS is its own.
    let key = TestKey::new();
    let (issuer, issuer_seen, other_seen) = fake_issuer(&key, Metadata::OwnJwks).await;
    let now = crate::support::SystemClock.now();
    let api = fresh_api(&issuer, now, |_| {}).await;
    assert_eq!(
        read_with(&api, &key.token(&issuer, now)).await.status(),
        200
    );
    assert!(
        issuer_seen
            .lock()
            .unwrap()
            .contains(&"/jwks.json".to_owned())
    );
    assert!(other_seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn h11_a_jwks_uri_on_another_origin_is_never_fetched_and_tokens_get_503() {
    let key = TestKey::new();
    let (issuer, issuer_seen, other_seen) = fake_issuer(&key, Metadata::JwksElsewhere).await;
    let now = crate::support::SystemClock.now();
    let api = fresh_api(&issuer, now, |c| c.serve.jwks_min_refetch_secs = 1).await;
    let token = key.token(&issuer, now);
    assert_keyless(&api, &token).await;
    // Past the refetch interval: the API asks the metadata again, and refuses it again.
    api.clock.advance(1);
    assert_keyless(&api, &token).await;
    let asked = issuer_seen.lock().unwrap().clone();
    assert!(
        asked
            .iter()
            .filter(|p| *p == "/.well-known/oauth-authorization-server")
            .count()
            >= 2,
        "{asked:?}"
    );
    assert!(!asked.contains(&"/jwks.json".to_owned()), "{asked:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        *other_seen.lock().unwrap(),
        Vec::<String>::new(),
        "the API connected to a jwks_uri off the issuer's origin"
    );
}

#[tokio::test]
async fn h11_metadata_naming_another_issuer_is_refused_and_its_keys_never_fetched() {
    let key = TestKey::new();
    let (issuer, issuer_seen, other_seen) = fake_issuer(&key, Metadata::OtherIssuer).await;
    let now = crate::support::SystemClock.now();
    let api = fresh_api(&issuer, now, |_| {}).await;
    assert_keyless(&api, &key.token(&issuer, now)).await;
    let asked = issuer_seen.lock().unwrap().clone();
    assert!(
        asked.contains(&"/.well-known/oauth-authorization-server".to_owned()),
        "{asked:?}"
    );
    assert!(!asked.contains(&"/jwks.json".to_owned()), "{asked:?}");
    assert!(other_seen.lock().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// h02: metrics labels and --metrics-bind.

/// The number of request-latency series in an exposition.
fn latency_series(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with("http_request_duration_seconds_count{"))
        .count()
}

#[tokio::test]
async fn h02_invented_methods_and_unknown_paths_leave_the_apis_metrics_bounded() {
    let s = TestStack::start().await;
    let id = s.staff_id(ALICE.username).await;
    let invented = |i: usize| {
        let name = if i.is_multiple_of(10) {
            format!("LONGINVENTED{}{i}", "Q".repeat(500))
        } else {
            format!("XYZINVENTED{i:03}")
        };
        Method::from_bytes(name.as_bytes()).unwrap()
    };
    let unknown_path = |i: usize| {
        format!(
            "/nothere-{}/{i}",
            auth_server::oauth::secrets::random_b64(9).replace(['-', '_'], "x")
        )
    };
    // Once each, so that the series these requests fall into exist before measuring.
    let targets = |i: usize| match i % 3 {
        0 => "/staff".to_owned(),
        1 => format!("/staff/{id}"),
        _ => unknown_path(i),
    };
    for i in 0..3 {
        s.http
            .request(invented(1000 + i), s.api_url(&targets(i)))
            .send()
            .await
            .unwrap();
    }
    s.http
        .get(s.api_url(&unknown_path(0)))
        .send()
        .await
        .unwrap();
    let before = text_of(&s.http, &s.api_url("/metrics")).await;

    for i in 0..300 {
        let r = s
            .http
            .request(invented(i), s.api_url(&targets(i)))
            .send()
            .await
            .unwrap();
        assert!(
            r.status() == 404 || r.status() == 405 || r.status() == 400,
            "{}",
            r.status()
        );
        let r = s
            .http
            .get(s.api_url(&unknown_path(i)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
    let after = text_of(&s.http, &s.api_url("/metrics")).await;

    assert!(after.contains("method=\"other\""), "{after}");
    assert!(after.contains("route=\"unmatched\""), "{after}");
    assert!(
        after.contains("route=\"/staff/{id}\",method=\"other\",status=\"405\""),
        "{after}"
    );
    for invented_text in ["XYZINVENTED", "LONGINVENTED", "nothere"] {
        assert!(
            !after.contains(invented_text),
            "{invented_text} became a label"
        );
    }
    // The second scrape adds one series at most (GET /metrics itself, counted after the first).
    assert!(
        latency_series(&after) <= latency_series(&before) + 1,
        "{} series before, {} after",
        latency_series(&before),
        latency_series(&after)
    );
    assert!(
        after.len() < before.len() + 4096,
        "the exposition grew from {} to {} bytes",
        before.len(),
        after.len()
    );
    assert!(after.len() < 64 * 1024, "{} bytes", after.len());
}

#[tokio::test]
async fn h02_metrics_bind_serves_metrics_on_its_own_address_and_the_main_one_answers_404() {
    let s = TestStack::start().await;
    assert_eq!(
        s.api.metrics_address, None,
        "unset: /metrics stays on the main address"
    );
    assert!(!text_of(&s.http, &s.api_url("/metrics")).await.is_empty());

    let now = s.api.clock.now();
    let api = fresh_api(&s.auth.base_url, now, |c| {
        c.serve.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let metrics: SocketAddr = api.metrics_address.expect("a metrics address");
    assert_ne!(format!("http://{metrics}"), api.base_url);
    let r = s
        .http
        .get(format!("{}/metrics", api.base_url))
        .send()
        .await
        .unwrap();
    assert_problem(r, 404, "not_found").await;
    let reader = s.web_app_token().await;
    let r = s
        .http
        .get(format!("{}/staff", api.base_url))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let r = s
        .http
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        header(&r, "content-type")
            .unwrap()
            .starts_with("application/openmetrics-text"),
    );
    let text = r.text().await.unwrap();
    assert!(
        text.contains("route=\"unmatched\",method=\"GET\",status=\"404\""),
        "{text}"
    );
    assert!(
        text.contains("route=\"/staff\",method=\"GET\",status=\"200\""),
        "{text}"
    );
    // The metrics listener serves nothing else.
    for path in ["/staff", "/healthz", "/"] {
        let r = s
            .http
            .get(format!("http://{metrics}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }

    // It stops with the service.
    api.stop().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(metrics).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the metrics listener outlived the API"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

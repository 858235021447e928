//! `staff-directory lab`, the deliberately naive resource server of
//! `docs/5-attacks-you-can-try.md`: it listens on loopback only and says what it is, serves a
//! copy of the demo directory to any signed token, lets through exactly the attacks the guide
//! says it lets through (and refuses the two a signature check stops), never touches the real
//! directory, and bounds what it is sent.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use staff_directory::lab::{Lab, Settings, WARNING};

use crate::support::{
    ALICE, Clock as _, ManualClock, RunningService, TestStack, assert_insufficient_scope,
    assert_invalid_token, assert_problem, assert_unauthenticated, claims, dead_address, header,
    start_lab,
};

const GUIDE: &str = include_str!("../../docs/5-attacks-you-can-try.md");

/// A lab trusting the stack's auth server, on its clock.
async fn lab_for(s: &TestStack) -> RunningService {
    start_lab(
        &s.auth.base_url,
        Arc::new(ManualClock::at(s.auth.clock.now())),
        |_| {},
    )
    .await
}

/// A request to `server` (the lab's or the API's base URL) with `token` as bearer.
fn call(
    s: &TestStack,
    server: &str,
    method: Method,
    path: &str,
    token: &str,
) -> reqwest::RequestBuilder {
    s.http
        .request(method, format!("{server}{path}"))
        .bearer_auth(token)
}

/// `PATCH path` on `server` with `token`, naming the record's current `ETag` as read with
/// `reader` (a token the server lets read).
async fn patch(
    s: &TestStack,
    server: &str,
    path: &str,
    token: &str,
    reader: &str,
    body: Value,
) -> Response {
    let read = call(s, server, Method::GET, path, reader)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let etag = header(&read, "etag").unwrap().to_owned();
    call(s, server, Method::PATCH, path, token)
        .header("If-Match", etag)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `base64url(header).base64url(claims).signature` with `key` and `alg`.
fn sign(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).unwrap();
    format!("{input}.{signature}")
}

/// The auth server's active signing key: its `kid` and private key.
async fn real_key(s: &TestStack) -> (String, EncodingKey) {
    let keys = s.auth.db.all_keys().await.unwrap();
    let active = keys
        .iter()
        .filter(|k| k.retired_at.is_none())
        .max_by_key(|k| k.created_at)
        .unwrap();
    let der = STANDARD.decode(&active.private_key).unwrap();
    (active.kid.clone(), EncodingKey::from_ed_der(&der))
}

/// The forgeries of the guide, from Alice's genuine token: `alg: none` claiming Ben, her token
/// with `sub` changed to Ben's, and the `alg: none` claims signed with a key of the attacker's
/// own under the real key's `kid`.
async fn forgeries(s: &TestStack, alice: &str) -> (String, String, String) {
    let mut ben = claims(alice);
    ben["sub"] = json!("bokafor");
    let none = format!(
        "{}.{}.",
        b64(br#"{"typ":"at+jwt","alg":"none"}"#),
        b64(ben.to_string().as_bytes())
    );
    let parts: Vec<&str> = alice.split('.').collect();
    let changed = format!(
        "{}.{}.{}",
        parts[0],
        b64(ben.to_string().as_bytes()),
        parts[2]
    );
    let (kid, _) = real_key(s).await;
    let attacker = auth_server::oauth::keys::generate().unwrap();
    let attacker = EncodingKey::from_ed_der(&STANDARD.decode(attacker.private_pkcs8_b64).unwrap());
    let own_key = sign(
        &json!({"typ": "at+jwt", "alg": "EdDSA", "kid": kid}),
        &ben,
        &attacker,
        Algorithm::EdDSA,
    );
    (none, changed, own_key)
}

/// The problem's `detail` of a 401 `invalid_token`.
async fn invalid_token_reason(response: Response) -> String {
    assert_invalid_token(response).await["detail"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_lab_refuses_any_address_that_is_not_loopback() {
    // The issuer is never reached: the address is refused first.
    let issuer = dead_address();
    for bind in ["0.0.0.0:0", "10.0.0.1:8083", "[::]:8083"] {
        let output = tokio::time::timeout(
            Duration::from_secs(60),
            tokio::process::Command::new(env!("CARGO_BIN_EXE_staff-directory"))
                .args(["lab", "--bind", bind, "--issuer", &issuer])
                .output(),
        )
        .await
        .unwrap()
        .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        assert_eq!(output.status.code(), Some(1), "{bind}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "the lab refuses to listen on {bind}: it is a deliberately naive resource server"
            )),
            "{bind}: {stderr}"
        );
        assert!(stdout.contains(WARNING[0]), "{bind}: {stdout}");
        assert!(!stdout.contains("  lab  "), "{bind} never served: {stdout}");
    }
}

#[tokio::test]
async fn the_lab_will_not_start_without_the_auth_servers_keys() {
    let bind = "127.0.0.1:0".parse().unwrap();
    let err = Lab::build(Settings::new(bind, &dead_address()))
        .await
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("start the demo first (`cargo run`)"),
        "{err:#}"
    );
    let err = Lab::build(Settings::new(bind, "http://auth.example.ac.uk"))
        .await
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("plain http"), "{err:#}");
}

#[tokio::test]
async fn the_lab_says_what_it_is_serves_and_stops_on_ctrl_c() {
    let s = TestStack::start().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_staff-directory"))
        .args(["lab", "--issuer", &s.auth.base_url])
        .env("LAB_BIND", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut banner = Vec::new();
    let url = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                child.kill().ok();
                panic!("the lab never said where it listens: {banner:?}")
            });
        if let Some(rest) = line.strip_prefix("  lab           ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
        banner.push(line);
    };
    // It says what it is before anything else, in the words the guide quotes.
    assert_eq!(banner[0], "");
    assert_eq!(&banner[1..=WARNING.len()], WARNING);
    for line in WARNING {
        assert!(GUIDE.contains(line), "the guide quotes {line:?}");
    }
    let alice = s.user_token(ALICE).await;
    let r = s
        .http
        .get(format!("{url}/staff/1"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["username"], "ajohnson");

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut exited = None;
    for _ in 0..200 {
        exited = child.try_wait().unwrap();
        if exited.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let exited = exited.unwrap_or_else(|| {
        child.kill().ok();
        panic!("the lab did not stop on Ctrl-C")
    });
    assert!(exited.success(), "{exited:?}");
    let rest: Vec<String> = lines.try_iter().collect();
    assert_eq!(rest.last().map(String::as_str), Some("stopped"), "{rest:?}");
}

#[tokio::test]
async fn the_lab_serves_a_copy_of_the_demo_directory_to_any_signed_token() {
    let s = TestStack::start().await;
    let lab = lab_for(&s).await;
    let app = s.web_app_token().await;
    let record = |v: Value| {
        let mut v = v;
        v.as_object_mut().unwrap().remove("updated_at");
        v
    };
    for id in [1, 9, 60] {
        let path = format!("/staff/{id}");
        let from_lab = call(&s, &lab.base_url, Method::GET, &path, &app)
            .send()
            .await
            .unwrap();
        assert_eq!(from_lab.status(), 200);
        assert_eq!(header(&from_lab, "etag"), Some("\"v1\""));
        let from_api = call(&s, &s.api.base_url, Method::GET, &path, &app)
            .send()
            .await
            .unwrap();
        assert_eq!(
            record(from_lab.json().await.unwrap()),
            record(from_api.json().await.unwrap())
        );
    }
    let ids = |page: Value| -> Vec<i64> {
        let mut ids: Vec<i64> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        ids.sort_unstable();
        ids
    };
    for query in [
        "/staff?q=okafor",
        "/staff?department=School%20of%20Chemistry&per_page=100",
    ] {
        let from_lab: Value = call(&s, &lab.base_url, Method::GET, query, &app)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let from_api: Value = call(&s, &s.api.base_url, Method::GET, query, &app)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(from_lab["total"], from_api["total"], "{query}");
        assert_eq!(ids(from_lab), ids(from_api), "{query}");
    }
    let all: Value = call(&s, &lab.base_url, Method::GET, "/staff", &app)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            all["total"].as_i64(),
            all["items"].as_array().unwrap().len()
        ),
        (Some(60), 20)
    );

    // What is not a signed token, or not a request it serves, is refused as the API refuses it.
    let r = s.http.get(lab.url("/staff/1")).send().await.unwrap();
    assert_unauthenticated(r).await;
    let r = call(&s, &lab.base_url, Method::GET, "/staff/1", "not-a-jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(invalid_token_reason(r).await, "the token is not a JWT");
    let r = call(&s, &lab.base_url, Method::GET, "/staff/abc", &app)
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, "malformed_request").await;
    let r = call(&s, &lab.base_url, Method::GET, "/staff/61", &app)
        .send()
        .await
        .unwrap();
    assert_problem(r, 404, "not_found").await;
    let r = call(&s, &lab.base_url, Method::DELETE, "/staff/1", &app)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "allow"), Some("GET, PATCH"));
    assert_problem(r, 405, "method_not_allowed").await;
    let r = call(&s, &lab.base_url, Method::GET, "/staff?sort=name", &app)
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, "malformed_request").await;
    let r = call(&s, &lab.base_url, Method::GET, "/staff/1/history", &app)
        .send()
        .await
        .unwrap();
    assert_problem(r, 404, "not_found").await;
    let r = patch(
        &s,
        &lab.base_url,
        "/staff/1",
        &app,
        &app,
        json!({"bio": "x", "nickname": "y"}),
    )
    .await;
    assert_problem(r, 400, "malformed_request").await;
    let r = call(&s, &lab.base_url, Method::PATCH, "/staff/1", &app)
        .json(&json!({"bio": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 428, "precondition_required").await;
    let taken = json!({"username": "ajohnson", "display_name": "A Johnson", "job_title": "Copy",
        "department": "Copies", "email": "copy@example.edu"});
    let r = call(&s, &lab.base_url, Method::POST, "/staff", &app)
        .json(&taken)
        .send()
        .await
        .unwrap();
    assert_problem(r, 409, "username_taken").await;
}

#[tokio::test]
async fn the_lab_lets_through_exactly_the_attacks_the_guide_says_and_the_api_refuses_them_all() {
    let s = TestStack::start().await;
    let lab = lab_for(&s).await;
    let app = s.web_app_token().await;
    let alice = s.user_token(ALICE).await;
    let (none, changed, own_key) = forgeries(&s, &alice).await;

    // 1. The website's own token edits a profile.
    let body = json!({"bio": "Defaced with the website's own token"});
    let r = patch(&s, &lab.base_url, "/staff/1", &app, &app, body.clone()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "etag"), Some("\"v2\""));
    assert_eq!(r.json::<Value>().await.unwrap()["bio"], body["bio"]);
    let r = patch(&s, &s.api.base_url, "/staff/1", &app, &app, body).await;
    assert_insufficient_scope(r, "profile:write").await;

    // 2. Alice edits Ben's record.
    let body = json!({"bio": "Ben has left the university."});
    let r = patch(&s, &lab.base_url, "/staff/9", &alice, &app, body.clone()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["bio"], body["bio"]);
    let r = patch(&s, &s.api.base_url, "/staff/9", &alice, &app, body).await;
    assert!(header(&r, "www-authenticate").is_none());
    assert_problem(r, 403, "not_owner").await;

    // 3. Alice changes an HR-owned field of her own record.
    let body = json!({"job_title": "Professor of Cyber Security"});
    let r = patch(&s, &lab.base_url, "/staff/1", &alice, &app, body.clone()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["job_title"],
        body["job_title"]
    );
    let r = patch(&s, &s.api.base_url, "/staff/1", &alice, &app, body).await;
    assert_eq!(
        assert_problem(r, 403, "hr_owned_field").await["fields"],
        json!(["job_title"])
    );

    // 4. Alice's token on the admin API.
    let person = json!({"username": "dfake", "display_name": "Dr Dee Fake", "job_title": "Dean",
        "department": "School of Computer Science", "email": "dfake@example.edu"});
    let r = call(&s, &lab.base_url, Method::POST, "/staff", &alice)
        .json(&person)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(header(&r, "location"), Some("/staff/61"));
    let r = call(&s, &s.api.base_url, Method::POST, "/staff", &alice)
        .json(&person)
        .send()
        .await
        .unwrap();
    assert_insufficient_scope(r, "directory:admin").await;

    // 5. alg: none.
    let body = json!({"office": "Somewhere else entirely"});
    let r = patch(&s, &lab.base_url, "/staff/9", &none, &app, body.clone()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["office"], body["office"]);
    let r = patch(&s, &s.api.base_url, "/staff/9", &none, &app, body).await;
    assert_eq!(
        invalid_token_reason(r).await,
        "the token's algorithm is not accepted"
    );

    // 6 and 7. A changed claim, a key of one's own: the signature check does its one job.
    for forged in [&changed, &own_key] {
        let body = json!({"office": "Changed by a forgery"});
        for server in [&lab.base_url, &s.api.base_url] {
            let r = patch(&s, server, "/staff/9", forged, &app, body.clone()).await;
            assert_eq!(
                invalid_token_reason(r).await,
                "the token's signature is invalid"
            );
        }
    }

    // Beyond the guide, the rest of its table: a token the real key signed with no claim at
    // all, long expired, typed as some other JWT, passes the lab; the real API refuses it.
    let (kid, real) = real_key(&s).await;
    let bare = sign(
        &json!({"typ": "JWT", "alg": "EdDSA", "kid": kid}),
        &json!({"exp": 1}),
        &real,
        Algorithm::EdDSA,
    );
    let r = call(&s, &lab.base_url, Method::GET, "/staff/1", &bare)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = call(&s, &s.api.base_url, Method::GET, "/staff/1", &bare)
        .send()
        .await
        .unwrap();
    assert_eq!(
        invalid_token_reason(r).await,
        "the token is not an access token (typ)"
    );
    // The header names the algorithm, but a key fits only its own: HMAC keyed with the public
    // key (the "key confusion" attack) is refused.
    let jwks: Value = s
        .http
        .get(s.auth_url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public_x = jwks["keys"][0]["x"].as_str().unwrap().to_owned();
    let hmac = sign(
        &json!({"typ": "at+jwt", "alg": "HS256", "kid": kid}),
        &claims(&alice),
        &EncodingKey::from_secret(public_x.as_bytes()),
        Algorithm::HS256,
    );
    let r = call(&s, &lab.base_url, Method::GET, "/staff/1", &hmac)
        .send()
        .await
        .unwrap();
    assert_eq!(
        invalid_token_reason(r).await,
        "the token's algorithm does not fit the key"
    );

    // Nothing of it reached the real directory: Alice's record as seeded, no record 61, and
    // no write in the history but the record's creation.
    let hr = s.hr_token().await;
    let record = s.get_json("/staff/1", Some(&app)).await;
    assert_eq!(record["job_title"], "Senior Lecturer in Cyber Security");
    assert!(
        record["bio"]
            .as_str()
            .unwrap()
            .starts_with("Alice Johnson leads")
    );
    assert_eq!(
        s.get_json("/staff?per_page=1", Some(&app)).await["total"],
        60
    );
    for id in [1, 9] {
        let history = s.get_json(&format!("/staff/{id}/history"), Some(&hr)).await;
        let actions: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["create"], "record {id}");
    }
    let r = s
        .api(Method::GET, "/staff/61", Some(&app))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_lab_bounds_what_it_is_sent() {
    let s = TestStack::start().await;
    let lab = lab_for(&s).await;
    let token = s.web_app_token().await;
    let big = json!({"bio": "x".repeat(17 * 1024)});
    let r = patch(&s, &lab.base_url, "/staff/1", &token, &token, big.clone()).await;
    assert_problem(r, 413, "payload_too_large").await;
    let r = call(&s, &lab.base_url, Method::POST, "/staff", &token)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_problem(r, 413, "payload_too_large").await;
    let r = patch(
        &s,
        &lab.base_url,
        "/staff/1",
        &token,
        &token,
        json!({"bio": "x".repeat(2001)}),
    )
    .await;
    assert_eq!(
        assert_problem(r, 400, "invalid_input").await["errors"][0]["field"],
        "bio"
    );
    let r = call(
        &s,
        &lab.base_url,
        Method::GET,
        "/staff?per_page=101",
        &token,
    )
    .send()
    .await
    .unwrap();
    assert_problem(r, 400, "invalid_input").await;
    let r = call(
        &s,
        &lab.base_url,
        Method::GET,
        &format!("/staff?q={}", "a".repeat(201)),
        &token,
    )
    .send()
    .await
    .unwrap();
    assert_problem(r, 400, "invalid_input").await;

    // Records up to the cap, then a refusal that says so; the 60 demo staff count.
    let max = staff_directory::lab::directory::MAX_RECORDS;
    let person = |n: usize| {
        json!({"username": format!("extra{n}"), "display_name": format!("Extra {n}"),
        "job_title": "Visitor", "department": "Visitors", "email": format!("extra{n}@example.edu")})
    };
    for n in 61..=max {
        let r = call(&s, &lab.base_url, Method::POST, "/staff", &token)
            .json(&person(n))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "record {n}");
    }
    let r = call(&s, &lab.base_url, Method::POST, "/staff", &token)
        .json(&person(max + 1))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(r, 409, "lab_full").await;
    assert_eq!(problem["type"], "urn:staff-directory:problem:lab_full");
    assert_eq!(
        problem["detail"],
        format!(
            "the lab holds at most {max} records; restart it to start again from the demo staff"
        )
    );
    let r = call(&s, &lab.base_url, Method::POST, "/staff", &token)
        .json(&person(61))
        .send()
        .await
        .unwrap();
    assert_problem(r, 409, "lab_full").await;
    let all: Value = call(&s, &lab.base_url, Method::GET, "/staff?per_page=1", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"].as_u64(), Some(max as u64));
}

//! Faults (issue 8), each a test: the API killed with SIGKILL during a stream of edits, the
//! authorization server down, the database down, and signing keys rotated under load.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection as _;

use crate::support::*;

/// One writer's edits of one record: the bios it was told were saved, and the one it sent last
/// (which may or may not have been saved when the API died).
struct Edits {
    id: i64,
    acknowledged: Vec<String>,
    in_flight: Option<String>,
}

/// Edits record `id` again and again through `base`, each PATCH with the ETag the previous
/// answer gave, until the API stops answering.
async fn edit_until_the_api_dies(
    base: String,
    token: String,
    id: i64,
    acked: Arc<AtomicUsize>,
) -> Edits {
    let http = fresh_connections();
    let r = http
        .get(format!("{base}/staff/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut etag = header(&r, "etag").unwrap().to_owned();
    let mut edits = Edits {
        id,
        acknowledged: Vec::new(),
        in_flight: None,
    };
    for i in 0.. {
        let bio = format!("record {id}, edit {i}");
        edits.in_flight = Some(bio.clone());
        let sent = http
            .request(Method::PATCH, format!("{base}/staff/{id}"))
            .bearer_auth(&token)
            .header("If-Match", &etag)
            .json(&json!({ "bio": bio }))
            .send()
            .await;
        let Ok(r) = sent else { break };
        // A response cut short by the kill counts as not acknowledged.
        let status = r.status();
        let Some(next) = header(&r, "etag").map(str::to_owned) else {
            break;
        };
        if r.bytes().await.is_err() {
            break;
        }
        assert_eq!(status, 200, "edit {i} of record {id}");
        etag = next;
        edits.acknowledged.push(bio);
        edits.in_flight = None;
        acked.fetch_add(1, Ordering::Relaxed);
    }
    edits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_api_during_a_stream_of_acknowledged_edits_loses_none_of_them() {
    let d = Deployment::new().await;
    let clock = Arc::new(ManualClock::starting_now());
    let auth = auth_instance(&d.auth_db.url, "127.0.0.1:0".parse().unwrap(), None, clock).await;
    let mut api = spawn_api(&d.api_db.url, "127.0.0.1:0", &auth.base_url, &[]).await;
    let http = fresh_connections();
    let token = token_from(client_credentials(&http, &auth.base_url, &d.hr_client)).await;
    let acked = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = [2, 3, 4]
        .into_iter()
        .map(|id| {
            tokio::spawn(edit_until_the_api_dies(
                api.base(),
                token.clone(),
                id,
                acked.clone(),
            ))
        })
        .collect();
    poll_until("30 acknowledged edits", || {
        let acked = acked.clone();
        async move { acked.load(Ordering::Relaxed) >= 30 }
    })
    .await;
    api.kill9();
    let mut edits = Vec::new();
    for writer in writers {
        edits.push(writer.await.unwrap());
    }
    assert!(edits.iter().map(|e| e.acknowledged.len()).sum::<usize>() >= 30);

    let api = spawn_api(&d.api_db.url, "127.0.0.1:0", &auth.base_url, &[]).await;
    for e in &edits {
        let history: Value = http
            .get(format!("{}/staff/{}/history", api.base(), e.id))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let saved: Vec<String> = history
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["action"] == "update")
            .flat_map(|entry| entry["changes"].as_array().cloned().unwrap_or_default())
            .filter(|c| c["field"] == "bio")
            .map(|c| c["new"].as_str().unwrap_or_default().to_owned())
            .collect();
        // Every acknowledged edit is there, in order; at most the one in flight follows.
        assert!(
            saved.len() >= e.acknowledged.len(),
            "record {}: {saved:?}",
            e.id
        );
        assert_eq!(
            saved[..e.acknowledged.len()],
            e.acknowledged[..],
            "record {}",
            e.id
        );
        let extra = &saved[e.acknowledged.len()..];
        assert!(
            extra.is_empty() || (extra.len() == 1 && Some(&extra[0]) == e.in_flight.as_ref()),
            "record {}: unexpected edits after the acknowledged ones: {extra:?}",
            e.id
        );
        let record: Value = http
            .get(format!("{}/staff/{}", api.base(), e.id))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // A writer whose first edit was still in flight at the kill saved nothing: its record
        // keeps the bio it had.
        if let Some(last) = saved.last() {
            assert_eq!(
                record["bio"].as_str(),
                Some(last.as_str()),
                "record {}",
                e.id
            );
        }
    }
}

#[tokio::test]
async fn with_the_auth_server_down_the_api_and_the_website_go_on_until_tokens_expire_then_recover()
{
    let d = Deployment::new().await;
    let clock = Arc::new(ManualClock::starting_now());
    let auth = auth_instance(
        &d.auth_db.url,
        "127.0.0.1:0".parse().unwrap(),
        None,
        clock.clone(),
    )
    .await;
    let (issuer, address) = (auth.base_url.clone(), auth.address);
    let api = start_api(&d.api_db.url, &issuer, clock.clone(), |_| {}).await;
    let web = start_web(&api.base_url, &issuer, &d.web_client, clock.clone(), |_| {}).await;
    let http = fresh_connections();
    let hr = token_from(client_credentials(&http, &issuer, &d.hr_client)).await;
    let alice = token_from(password_grant(&http, &issuer, &d.web_client, ALICE)).await;
    let get = |url: String, token: Option<String>| {
        let http = http.clone();
        async move {
            let mut request = http.get(url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send().await.unwrap()
        }
    };
    assert_eq!(get(web.url("/"), None).await.status(), 200);

    auth.stop().await;
    assert!(http.get(format!("{issuer}/healthz")).send().await.is_err());
    // The API validates with the keys it has; the site serves with the token it has.
    assert_eq!(
        get(api.url("/staff/1"), Some(hr.clone())).await.status(),
        200
    );
    let me = get(api.url("/me"), Some(alice.clone())).await;
    assert_eq!(me.status(), 200);
    assert_eq!(
        me.json::<Value>().await.unwrap()["username"],
        ALICE.username
    );
    assert_eq!(get(api.url("/readyz"), None).await.status(), 200);
    for path in ["/", "/staff/1", "/how-it-works"] {
        assert_eq!(get(web.url(path), None).await.status(), 200, "{path}");
    }
    // Time passes: Alice's token (5 minutes) and the site's (15 minutes) expire; the API
    // still judges tokens without the auth server, the site can no longer fetch data.
    clock.advance(15 * 60 + 1);
    let expired = get(api.url("/me"), Some(alice.clone())).await;
    assert_eq!(expired.status(), 401);
    assert!(
        header(&expired, "www-authenticate").is_some_and(|c| c.contains("error=\"invalid_token\""))
    );
    let page = get(web.url("/"), None).await;
    assert_eq!(page.status(), 503);
    assert!(header(&page, "retry-after").is_some());

    // The auth server comes back at its address: both recover without a restart.
    let auth = auth_instance(&d.auth_db.url, address, None, clock.clone()).await;
    assert_eq!(auth.base_url, issuer);
    poll_until("the website to serve again", || {
        let page = get(web.url("/"), None);
        async move { page.await.status() == 200 }
    })
    .await;
    let hr = token_from(client_credentials(&http, &issuer, &d.hr_client)).await;
    assert_eq!(get(api.url("/staff/1"), Some(hr)).await.status(), 200);
    let alice = token_from(password_grant(&http, &issuer, &d.web_client, ALICE)).await;
    assert_eq!(get(api.url("/me"), Some(alice)).await.status(), 200);
}

/// Asserts the API's 503: problem document, `unavailable`, `Retry-After`.
async fn assert_api_unavailable(response: reqwest::Response) {
    assert_eq!(header(&response, "retry-after"), Some("5"));
    assert_problem(response, 503, "unavailable").await;
}

/// Asserts the auth server's 503: RFC 6749 error JSON, `temporarily_unavailable`,
/// `Retry-After`, no-store.
async fn assert_auth_unavailable(response: reqwest::Response) {
    assert_eq!(response.status(), 503);
    assert_no_store(&response);
    assert_eq!(header(&response, "retry-after"), Some("5"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_database_down_both_services_answer_503_with_retry_after_and_recover_without_a_restart()
 {
    let d = Deployment::new().await;
    if on_postgres() {
        database_cut_off_on_postgres(&d).await;
    } else {
        database_locked_on_sqlite(&d).await;
    }
}

/// PostgreSQL: both services reach the server through a proxy, which is cut (new connections
/// refused, open ones broken) and later restored.
async fn database_cut_off_on_postgres(d: &Deployment) {
    let proxy = CutProxy::start(&d.auth_db.url).await;
    let clock = Arc::new(ManualClock::starting_now());
    let auth = auth_instance(
        &proxy.url(&d.auth_db.url),
        "127.0.0.1:0".parse().unwrap(),
        None,
        clock.clone(),
    )
    .await;
    let api = start_api(
        &proxy.url(&d.api_db.url),
        &auth.base_url,
        clock.clone(),
        |_| {},
    )
    .await;
    let web = start_web(&api.base_url, &auth.base_url, &d.web_client, clock, |_| {}).await;
    let http = fresh_connections();
    let page = || http.get(web.url("/")).send();
    assert_eq!(page().await.unwrap().status(), 200);
    let token = token_from(client_credentials(&http, &auth.base_url, &d.hr_client)).await;
    let read = || http.get(api.url("/staff/1")).bearer_auth(&token).send();
    assert_eq!(read().await.unwrap().status(), 200);

    proxy.cut().await;
    assert_api_unavailable(read().await.unwrap()).await;
    let write = http
        .request(Method::PATCH, api.url("/staff/1"))
        .bearer_auth(&token)
        .header("If-Match", "\"v1\"")
        .json(&json!({"office": "Unreachable"}))
        .send()
        .await
        .unwrap();
    assert_api_unavailable(write).await;
    // A sign-in needs the database (a client token may come from the auth server's one-second
    // cache of client records).
    assert_auth_unavailable(
        password_grant(&http, &auth.base_url, &d.web_client, ALICE)
            .send()
            .await
            .unwrap(),
    )
    .await;
    for service in [&auth, &api] {
        let ready = http.get(service.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 503);
        assert_eq!(header(&ready, "retry-after"), Some("5"));
    }
    // The website, whose API cannot answer, says so.
    let unavailable = page().await.unwrap();
    assert_eq!(unavailable.status(), 503);
    assert_eq!(header(&unavailable, "retry-after"), Some("30"));

    proxy.restore().await;
    poll_until("the API to read again", || async {
        read().await.is_ok_and(|r| r.status() == 200)
    })
    .await;
    poll_until("the auth server to sign in again", || async {
        password_grant(&http, &auth.base_url, &d.web_client, ALICE)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    for service in [&auth, &api] {
        assert_eq!(
            http.get(service.url("/readyz"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    assert_eq!(page().await.unwrap().status(), 200);
}

/// SQLite: the database files are locked by another process (a stuck writer, a backup taking
/// a write lock) for longer than the services wait for a lock. Writes cannot proceed; reads
/// still can (WAL).
async fn database_locked_on_sqlite(d: &Deployment) {
    let clock = Arc::new(ManualClock::starting_now());
    let auth = auth_instance(
        &d.auth_db.url,
        "127.0.0.1:0".parse().unwrap(),
        None,
        clock.clone(),
    )
    .await;
    let api = start_api(&d.api_db.url, &auth.base_url, clock.clone(), |_| {}).await;
    let web = start_web(&api.base_url, &auth.base_url, &d.web_client, clock, |_| {}).await;
    let http = fresh_connections();
    let token = token_from(client_credentials(&http, &auth.base_url, &d.hr_client)).await;
    let etag = header(
        &http
            .get(api.url("/staff/1"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        "etag",
    )
    .unwrap()
    .to_owned();
    let write = || {
        http.request(Method::PATCH, api.url("/staff/1"))
            .bearer_auth(&token)
            .header("If-Match", &etag)
            .json(&json!({"office": "Room 101"}))
            .send()
    };

    let mut locks = Vec::new();
    for url in [&d.api_db.url, &d.auth_db.url] {
        let mut lock = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::raw_sql("BEGIN EXCLUSIVE")
            .execute(&mut lock)
            .await
            .unwrap();
        locks.push(lock);
    }
    assert_api_unavailable(write().await.unwrap()).await;
    let sign_in = password_grant(&http, &auth.base_url, &d.web_client, ALICE)
        .send()
        .await
        .unwrap();
    assert_auth_unavailable(sign_in).await;
    // Reads go on, and so do the public pages.
    assert_eq!(
        http.get(web.url("/staff/1")).send().await.unwrap().status(),
        200
    );
    let read = http
        .get(api.url("/staff/1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);

    for mut lock in locks {
        sqlx::raw_sql("ROLLBACK").execute(&mut lock).await.unwrap();
        lock.close().await.unwrap();
    }
    let r = write().await.unwrap();
    assert_eq!(r.status(), 200);
    token_from(password_grant(&http, &auth.base_url, &d.web_client, ALICE)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_keys_twice_under_load_fails_no_request() {
    let d = Deployment::new().await;
    let clock = Arc::new(ManualClock::starting_now());
    let auth = auth_instance(
        &d.auth_db.url,
        "127.0.0.1:0".parse().unwrap(),
        None,
        clock.clone(),
    )
    .await;
    // See the key rotation test of `ops_scale_out`: a refetch each second at ten times speed.
    let api = start_api(&d.api_db.url, &auth.base_url, clock.clone(), |s| {
        s.serve.jwks_min_refetch_secs = 1;
    })
    .await;
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let kids = Arc::new(std::sync::Mutex::new(HashSet::<String>::new()));
    let mut streams = Vec::new();
    for n in 0..3 {
        let (stop, failures, kids) = (stop.clone(), failures.clone(), kids.clone());
        let (auth, api) = (auth.base_url.clone(), api.base_url.clone());
        let (hr, web) = (d.hr_client.clone(), d.web_client.clone());
        streams.push(tokio::spawn(async move {
            let http = fresh_connections();
            let mut requests = 0u32;
            while !stop.load(Ordering::Relaxed) {
                requests += 1;
                let token = if n == 2 && requests.is_multiple_of(5) {
                    password_grant(&http, &auth, &web, ALICE).send().await
                } else {
                    client_credentials(&http, &auth, &hr).send().await
                };
                let token = match token {
                    Ok(r) if r.status() == 200 => r.json::<Value>().await.unwrap()["access_token"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                    other => {
                        failures.lock().unwrap().push(format!("token: {other:?}"));
                        continue;
                    }
                };
                let kid = jwt_header(&token)["kid"].as_str().unwrap().to_owned();
                let path = if token_is_users(&token) {
                    "/me"
                } else {
                    "/staff/1"
                };
                match http
                    .get(format!("{api}{path}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 200 => {
                        kids.lock().unwrap().insert(kid);
                    }
                    other => failures
                        .lock()
                        .unwrap()
                        .push(format!("GET {path} with kid {kid}: {other:?}")),
                }
            }
        }));
    }
    let db = auth_server::store::Db::connect(&d.auth_db.url)
        .await
        .unwrap();
    let _time = FastTime::start(vec![clock.clone()]);
    for rotation in 0..2 {
        let kid = auth_server::admin::rotate_keys(&db, clock.now())
            .await
            .unwrap();
        let kids = kids.clone();
        poll_until(&format!("rotation {rotation}'s key to sign"), || {
            let kids = kids.clone();
            let kid = kid.clone();
            async move { kids.lock().unwrap().contains(&kid) }
        })
        .await;
    }
    stop.store(true, Ordering::Relaxed);
    for stream in streams {
        stream.await.unwrap();
    }
    db.close().await;
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed: {failures:#?}",
        failures.len()
    );
    assert_eq!(
        kids.lock().unwrap().len(),
        3,
        "tokens of three keys were used"
    );
}

fn token_is_users(token: &str) -> bool {
    crate::support::claims(token)["sub"] == ALICE.username
}

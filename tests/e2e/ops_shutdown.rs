//! Graceful shutdown (issue 8): on SIGTERM a service stops accepting connections, finishes the
//! requests in flight within its bound, closes its database pool and exits 0; a rolling
//! restart of one instance at a time behind a load balancer fails no request.
//!
//! The services run as their own processes (the launcher's `auth-server`, `directory-api` and
//! `directory-web` subcommands) so that they receive a real signal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::*;

/// The bound of a graceful stop (every service has the same), and how much longer a loaded
/// machine may take to end the process.
const BOUND: Duration = Duration::from_secs(directory_api::startup::SHUTDOWN_TIMEOUT_SECS);
const SLACK: Duration = Duration::from_secs(30);

/// Instances behind a load balancer drain for two seconds on SIGTERM: twenty of its readiness
/// checks (every 100 ms) see the 503 before the listener closes.
const DRAIN: &[&str] = &["--shutdown-drain-secs", "2"];

/// Opens a connection and proves a worker serves it (a complete request answered first), so
/// that what follows on it is a request in flight, not a connection waiting in the backlog.
async fn served_connection(process: &Process) -> TcpStream {
    let mut stream = TcpStream::connect(process.address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("\r\n\r\nok") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the connection closed before /healthz answered");
        seen.extend_from_slice(&buf[..n]);
    }
    stream
}

/// Sends the head of a request announcing `length` bytes of body with `Expect: 100-continue`,
/// and waits for the `100 Continue`: the server sends it as it starts serving the request, so
/// the request is then in flight (not bytes the server has yet to read).
async fn start_request(stream: &mut TcpStream, head: &str, length: usize) {
    stream
        .write_all(
            format!("{head}Content-Length: {length}\r\nExpect: 100-continue\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("100 Continue\r\n\r\n") {
        let n = tokio::time::timeout(PATIENCE, stream.read(&mut buf))
            .await
            .expect("no 100 Continue")
            .unwrap();
        assert!(
            n > 0,
            "closed before 100 Continue: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
}

/// Everything the server sends until it closes the connection.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the server neither answered nor closed")
        .ok();
    String::from_utf8_lossy(&answer).into_owned()
}

/// Sends SIGTERM while the request `head` + the first half of `body` is in flight, checks that
/// new connections are refused while the process still finishes that request, sends the rest,
/// and returns the answer. The process must then exit 0 within the bound.
async fn answer_across_sigterm(process: &mut Process, head: &str, body: &str) -> String {
    let mut stream = served_connection(process).await;
    let (first, rest) = body.split_at(body.len() / 2);
    start_request(&mut stream, head, body.len()).await;
    stream.write_all(first.as_bytes()).await.unwrap();
    let stopping = Instant::now();
    process.sigterm();
    // The listener closes at once, although a request is still being served.
    let address = process.address;
    poll_until("new connections to be refused", || async move {
        TcpStream::connect(address).await.is_err()
    })
    .await;
    assert!(
        process.is_running(),
        "the process exited with a request in flight:\n{}",
        process.log()
    );
    stream.write_all(rest.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut stream).await;
    let status = process
        .exited_within(BOUND + SLACK)
        .await
        .unwrap_or_else(|| panic!("the {} did not exit after SIGTERM", process.name));
    assert!(status.success(), "exit status {status}:\n{}", process.log());
    assert!(stopping.elapsed() < BOUND + SLACK);
    assert!(
        process
            .log()
            .contains("stopped: requests in flight finished"),
        "{}",
        process.log()
    );
    answer
}

fn status_line(answer: &str) -> &str {
    answer.lines().next().unwrap_or_default()
}

fn has_header(answer: &str, line: &str) -> bool {
    let head = answer.split("\r\n\r\n").next().unwrap_or_default();
    head.lines().any(|l| l.eq_ignore_ascii_case(line))
}

#[tokio::test]
async fn on_sigterm_the_api_refuses_new_connections_and_finishes_the_edit_in_flight() {
    let d = Deployment::new().await;
    let clock = Arc::new(ManualClock::starting_now());
    let auth = auth_instance(&d.auth_db.url, "127.0.0.1:0".parse().unwrap(), None, clock).await;
    let mut api = spawn_api(&d.api_db.url, "127.0.0.1:0", &auth.base_url, &[]).await;
    let http = fresh_connections();
    let hr = token_from(client_credentials(&http, &auth.base_url, &d.hr_client)).await;
    let r = http
        .get(format!("{}/staff/1", api.base()))
        .bearer_auth(&hr)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();

    let body = json!({"bio": "Written while the API was stopping"}).to_string();
    let head = format!(
        "PATCH /staff/1 HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {hr}\r\n\
         If-Match: {etag}\r\nContent-Type: application/json\r\n"
    );
    let answer = answer_across_sigterm(&mut api, &head, &body).await;
    assert_eq!(status_line(&answer), "HTTP/1.1 200 OK", "{answer}");
    assert!(
        has_header(&answer, "connection: close"),
        "a stopping server ends keep-alive: {answer}"
    );

    // The edit was committed before the pool closed: a new instance sees it.
    let api = spawn_api(&d.api_db.url, "127.0.0.1:0", &auth.base_url, &[]).await;
    let record: Value = http
        .get(format!("{}/staff/1", api.base()))
        .bearer_auth(&hr)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(record["bio"], "Written while the API was stopping");
}

#[tokio::test]
async fn on_sigterm_the_auth_server_finishes_the_token_request_in_flight() {
    let d = Deployment::new().await;
    let mut auth = spawn_auth(&d.auth_db.url, "127.0.0.1:0", None, &[]).await;
    let body = "grant_type=client_credentials&scope=directory%3Aread";
    let head = format!(
        "POST /oauth/token HTTP/1.1\r\nHost: test\r\nAuthorization: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n",
        basic(&d.hr_client.id, &d.hr_client.secret)
    );
    let answer = answer_across_sigterm(&mut auth, &head, body).await;
    assert_eq!(status_line(&answer), "HTTP/1.1 200 OK", "{answer}");
    assert!(has_header(&answer, "cache-control: no-store"), "{answer}");
    assert!(answer.contains("\"access_token\""), "{answer}");
}

#[tokio::test]
async fn on_sigterm_the_website_finishes_the_sign_in_in_flight() {
    let d = Deployment::new().await;
    let clock = Arc::new(ManualClock::starting_now());
    let auth = auth_instance(
        &d.auth_db.url,
        "127.0.0.1:0".parse().unwrap(),
        None,
        clock.clone(),
    )
    .await;
    let api = start_api(&d.api_db.url, &auth.base_url, clock, |_| {}).await;
    let mut web = spawn_web(
        &api.base_url,
        &auth.base_url,
        &d.web_client,
        "127.0.0.1:0",
        &[],
    )
    .await;
    // A sign-in form, its CSRF token and session cookie, then the sign-in posted across SIGTERM.
    let http = fresh_connections();
    let form = http
        .get(format!("{}/sign-in", web.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let cookie = form.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = crate::support::hidden(&form.text().await.unwrap(), "csrf");
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrf", csrf.as_str()),
            ("username", ALICE.username),
            ("password", ALICE.password),
        ])
        .finish();
    let head = format!(
        "POST /sign-in HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n",
        web.address
    );
    let answer = answer_across_sigterm(&mut web, &head, &body).await;
    assert_eq!(status_line(&answer), "HTTP/1.1 303 See Other", "{answer}");
    assert!(has_header(&answer, "location: /profile"), "{answer}");
}

#[tokio::test]
async fn a_request_that_outlasts_the_bound_is_dropped_and_the_api_still_exits() {
    let d = Deployment::new().await;
    let clock = Arc::new(ManualClock::starting_now());
    let auth = auth_instance(&d.auth_db.url, "127.0.0.1:0".parse().unwrap(), None, clock).await;
    let mut api = spawn_api(&d.api_db.url, "127.0.0.1:0", &auth.base_url, &[]).await;
    let http = fresh_connections();
    let hr = token_from(client_credentials(&http, &auth.base_url, &d.hr_client)).await;
    let mut stream = served_connection(&api).await;
    // A body that never finishes arriving.
    let head = format!(
        "PATCH /staff/1 HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {hr}\r\n\
         If-Match: \"v1\"\r\nContent-Type: application/json\r\n"
    );
    start_request(&mut stream, &head, 100).await;
    stream.write_all(b"{\"bio\":").await.unwrap();
    let stopping = Instant::now();
    api.sigterm();
    let status = api
        .exited_within(BOUND + SLACK)
        .await
        .expect("the API did not exit within its shutdown bound");
    assert!(status.success(), "exit status {status}:\n{}", api.log());
    assert!(stopping.elapsed() < BOUND + SLACK);
    // The request was dropped, never answered as if it had succeeded.
    let answer = read_to_close(&mut stream).await;
    assert!(!answer.contains("200 OK"), "{answer}");
}

/// A request to make for a base URL; the `usize` numbers the requests.
type Request = dyn Fn(&reqwest::Client, &str, usize) -> reqwest::RequestBuilder + Send + Sync;

#[tokio::test]
async fn with_a_drain_time_a_stopping_api_turns_unready_first_and_still_serves_meanwhile() {
    let d = Deployment::new().await;
    let clock = Arc::new(ManualClock::starting_now());
    let auth = auth_instance(&d.auth_db.url, "127.0.0.1:0".parse().unwrap(), None, clock).await;
    let mut api = spawn_api(
        &d.api_db.url,
        "127.0.0.1:0",
        &auth.base_url,
        &["--shutdown-drain-secs", "3"],
    )
    .await;
    let http = fresh_connections();
    let token = token_from(client_credentials(&http, &auth.base_url, &d.hr_client)).await;
    let stopping = Instant::now();
    api.sigterm();
    let ready = format!("{}/readyz", api.base());
    poll_until("readiness to fail", || {
        let (http, ready) = (http.clone(), ready.clone());
        async move {
            http.get(ready)
                .send()
                .await
                .is_ok_and(|r| r.status() == 503)
        }
    })
    .await;
    let r = http.get(&ready).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"status": "draining"})
    );
    // A request on a new connection is still served while the load balancer catches up.
    let served = http
        .get(format!("{}/staff/1", api.base()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    let status = api
        .exited_within(Duration::from_secs(3) + BOUND + SLACK)
        .await
        .expect("the API did not stop after draining");
    assert!(status.success(), "exit status {status}:\n{}", api.log());
    assert!(
        stopping.elapsed() >= Duration::from_secs(3),
        "it drained first"
    );
}

#[tokio::test]
async fn ctrl_c_cuts_a_drain_short_and_stops_at_once() {
    let d = Deployment::new().await;
    let clock = Arc::new(ManualClock::starting_now());
    let auth = auth_instance(&d.auth_db.url, "127.0.0.1:0".parse().unwrap(), None, clock).await;
    let mut api = spawn_api(
        &d.api_db.url,
        "127.0.0.1:0",
        &auth.base_url,
        &["--shutdown-drain-secs", "600"],
    )
    .await;
    api.sigterm();
    let ready = format!("{}/readyz", api.base());
    let http = fresh_connections();
    poll_until("readiness to fail", || {
        let (http, ready) = (http.clone(), ready.clone());
        async move {
            http.get(ready)
                .send()
                .await
                .is_ok_and(|r| r.status() == 503)
        }
    })
    .await;
    api.sigint();
    let status = api
        .exited_within(SLACK)
        .await
        .expect("Ctrl-C did not end the ten-minute drain");
    assert!(status.success(), "exit status {status}:\n{}", api.log());
    assert!(api.log().contains("SIGINT while draining"), "{}", api.log());
}

/// Lets the traffic run on the restarted instances a little, stops it, and checks that no
/// request failed and that both instances answered.
async fn no_request_failed(
    stop: &AtomicBool,
    traffic: tokio::task::JoinHandle<(Vec<usize>, Vec<String>)>,
) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let (answered, failures) = traffic.await.unwrap();
    assert!(
        failures.is_empty(),
        "{} failed: {failures:#?}",
        failures.len()
    );
    assert!(
        answered.iter().all(|&n| n > 0),
        "both instances answered: {answered:?}"
    );
}

/// Runs `streams` concurrent streams of requests through `lb` until `stop`, returning how
/// many requests each instance answered and every failure.
async fn stream_until(
    lb: Arc<RoundRobin>,
    stop: Arc<AtomicBool>,
    streams: usize,
    request: Arc<Request>,
) -> (Vec<usize>, Vec<String>) {
    let mut tasks = Vec::new();
    for n in 0..streams {
        let (lb, stop, request) = (lb.clone(), stop.clone(), request.clone());
        tasks.push(tokio::spawn(async move {
            let mut answered = vec![0usize; 2];
            let mut failures = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let result = lb
                    .send(|http, base| request(http, base, n * 1_000 + i))
                    .await;
                match result {
                    Ok((instance, r)) if r.status() == 200 => {
                        answered[instance] += 1;
                    }
                    Ok((instance, r)) => failures.push(format!(
                        "instance {instance}: {} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    )),
                    Err(e) => failures.push(e),
                }
            }
            (answered, failures)
        }));
    }
    let mut answered = vec![0usize; 2];
    let mut failures = Vec::new();
    for task in tasks {
        let (a, f) = task.await.unwrap();
        answered[0] += a[0];
        answered[1] += a[1];
        failures.extend(f);
    }
    (answered, failures)
}

/// Restarts each of `instances` in turn with `restart` (SIGTERM, wait for exit 0 within the
/// bound, start again on the same address, wait until ready), while traffic runs.
async fn restart_each<F, Fut>(instances: &mut [Process], restart: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Process>,
{
    for instance in instances.iter_mut() {
        let address = instance.address.to_string();
        instance.sigterm();
        let status = instance
            .exited_within(Duration::from_secs(2) + BOUND + SLACK)
            .await
            .expect("an instance did not stop within its bound");
        assert!(
            status.success(),
            "exit status {status}:\n{}",
            instance.log()
        );
        *instance = restart(address).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_of_two_api_instances_fails_no_request() {
    let d = Deployment::new().await;
    let clock = Arc::new(ManualClock::starting_now());
    let auth = auth_instance(&d.auth_db.url, "127.0.0.1:0".parse().unwrap(), None, clock).await;
    let mut apis = vec![
        spawn_api(&d.api_db.url, "127.0.0.1:0", &auth.base_url, DRAIN).await,
        spawn_api(&d.api_db.url, "127.0.0.1:0", &auth.base_url, DRAIN).await,
    ];
    let http = fresh_connections();
    let token = token_from(client_credentials(&http, &auth.base_url, &d.hr_client)).await;
    let lb = Arc::new(RoundRobin::new(apis.iter().map(Process::base).collect()));
    let stop = Arc::new(AtomicBool::new(false));
    // Reads of records and searches, from three streams at once.
    let read: Arc<Request> = {
        let token = token.clone();
        Arc::new(move |http: &reqwest::Client, base: &str, i: usize| {
            let path = if i.is_multiple_of(3) {
                "/staff?q=chemistry".to_owned()
            } else {
                format!("/staff/{}", 1 + i % 40)
            };
            http.get(format!("{base}{path}")).bearer_auth(&token)
        })
    };
    let traffic = tokio::spawn(stream_until(lb.clone(), stop.clone(), 3, read));
    let address_of = |p: &Process| p.address.to_string();
    let before: Vec<String> = apis.iter().map(address_of).collect();
    let issuer = auth.base_url.clone();
    let db = d.api_db.url.clone();
    restart_each(&mut apis, |address| {
        let (db, issuer) = (db.clone(), issuer.clone());
        async move { spawn_api(&db, &address, &issuer, DRAIN).await }
    })
    .await;
    assert_eq!(before, apis.iter().map(address_of).collect::<Vec<_>>());
    no_request_failed(&stop, traffic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_of_two_auth_server_instances_fails_no_token_request() {
    let d = Deployment::new().await;
    let issuer = "https://auth.staff-directory.test";
    let mut auths = vec![
        spawn_auth(&d.auth_db.url, "127.0.0.1:0", Some(issuer), DRAIN).await,
        spawn_auth(&d.auth_db.url, "127.0.0.1:0", Some(issuer), DRAIN).await,
    ];
    let lb = Arc::new(RoundRobin::new(auths.iter().map(Process::base).collect()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: [TestClient; 2] = [d.hr_client.clone(), d.web_client.clone()];
    // Client tokens from two streams, and a sign-in (Argon2) now and then.
    let web = d.web_client.clone();
    let tokens: Arc<Request> = Arc::new(move |http: &reqwest::Client, base: &str, i: usize| {
        if i.is_multiple_of(10) {
            password_grant(http, base, &web, ALICE)
        } else {
            client_credentials(http, base, &clients[i % 2])
        }
    });
    let traffic = tokio::spawn(stream_until(lb.clone(), stop.clone(), 2, tokens));
    let db = d.auth_db.url.clone();
    restart_each(&mut auths, |address| {
        let db = db.clone();
        async move { spawn_auth(&db, &address, Some(issuer), DRAIN).await }
    })
    .await;
    no_request_failed(&stop, traffic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_of_two_website_instances_fails_no_page() {
    let d = Deployment::new().await;
    let clock = Arc::new(ManualClock::starting_now());
    let any = "127.0.0.1:0".parse().unwrap();
    let auth = auth_instance(&d.auth_db.url, any, None, clock.clone()).await;
    let api = start_api(&d.api_db.url, &auth.base_url, clock, |_| {}).await;
    let mut webs = vec![
        spawn_web(
            &api.base_url,
            &auth.base_url,
            &d.web_client,
            "127.0.0.1:0",
            DRAIN,
        )
        .await,
        spawn_web(
            &api.base_url,
            &auth.base_url,
            &d.web_client,
            "127.0.0.1:0",
            DRAIN,
        )
        .await,
    ];
    let lb = Arc::new(RoundRobin::new(webs.iter().map(Process::base).collect()));
    let stop = Arc::new(AtomicBool::new(false));
    let pages: Arc<Request> = Arc::new(|http: &reqwest::Client, base: &str, i: usize| {
        let path = if i.is_multiple_of(2) {
            "/?q=chemistry".to_owned()
        } else {
            format!("/staff/{}", 1 + i % 40)
        };
        http.get(format!("{base}{path}"))
    });
    let traffic = tokio::spawn(stream_until(lb.clone(), stop.clone(), 2, pages));
    let (api_url, issuer, web) = (
        api.base_url.clone(),
        auth.base_url.clone(),
        d.web_client.clone(),
    );
    restart_each(&mut webs, |address| {
        let (api_url, issuer, web) = (api_url.clone(), issuer.clone(), web.clone());
        async move { spawn_web(&api_url, &issuer, &web, &address, DRAIN).await }
    })
    .await;
    no_request_failed(&stop, traffic).await;
}

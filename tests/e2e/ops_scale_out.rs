//! Scale-out (issue 8): two instances of each service on one database, and what must hold
//! across them because no state that matters lives in a process: refresh-token reuse
//! detection, sign-in throttling, key rotation and ETag conflicts.
//!
//! With `TEST_DATABASE_URL` the instances share one PostgreSQL database (the way to scale out
//! across machines). Without it they share one SQLite file, which is how two instances run on
//! one machine: the same tests run, and must pass, on both; neither run skips them.

use std::process::Command;
use std::sync::Arc;

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;

/// Two authorization servers and two APIs on one deployment's databases, all on one clock. Both
/// authorization servers carry the first one's issuer identifier, which the APIs trust. (The
/// websites keep no state but their sessions, in cookies: see the last test.)
struct TwoOfEach {
    d: Deployment,
    clock: Arc<ManualClock>,
    auth: [RunningService; 2],
    api: [RunningService; 2],
    http: reqwest::Client,
}

impl TwoOfEach {
    async fn start() -> TwoOfEach {
        Self::start_with(|_| {}).await
    }

    async fn start_with(configure: impl Fn(&mut directory_api::config::Settings)) -> TwoOfEach {
        let d = Deployment::new().await;
        let clock = Arc::new(ManualClock::starting_now());
        let any = "127.0.0.1:0".parse().unwrap();
        let first = auth_instance(&d.auth_db.url, any, None, clock.clone()).await;
        let issuer = first.base_url.clone();
        let second = auth_instance(&d.auth_db.url, any, Some(&issuer), clock.clone()).await;
        let api = [
            start_api(&d.api_db.url, &issuer, clock.clone(), &configure).await,
            start_api(&d.api_db.url, &issuer, clock.clone(), &configure).await,
        ];
        TwoOfEach {
            d,
            clock,
            auth: [first, second],
            api,
            http: fresh_connections(),
        }
    }

    async fn hr_token(&self, auth: usize) -> String {
        token_from(client_credentials(
            &self.http,
            &self.auth[auth].base_url,
            &self.d.hr_client,
        ))
        .await
    }

    async fn api_get(&self, api: usize, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.api[api].url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_refresh_token_reused_on_the_other_instance_ends_the_whole_sign_in() {
    let s = TwoOfEach::start().await;
    let signed_in: Value = password_grant(&s.http, &s.auth[0].base_url, &s.d.web_client, ALICE)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = signed_in["refresh_token"].as_str().unwrap().to_owned();
    // Instance 2 rotates the refresh token that instance 1 issued.
    let r = refresh_grant(&s.http, &s.auth[1].base_url, &s.d.web_client, &first)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let second = r.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The used one presented again, to instance 1, once the two seconds in which a duplicate
    // counts as the loser of a concurrent refresh are over: reuse, RFC 9700 §4.14.2.
    s.clock.advance(3);
    let reuse = refresh_grant(&s.http, &s.auth[0].base_url, &s.d.web_client, &first)
        .send()
        .await
        .unwrap();
    assert_oauth_error(reuse, 400, "invalid_grant").await;
    // The whole family is revoked, on both instances: the newest token is dead too.
    for auth in &s.auth {
        let r = refresh_grant(&s.http, &auth.base_url, &s.d.web_client, &second)
            .send()
            .await
            .unwrap();
        assert_oauth_error(r, 400, "invalid_grant").await;
    }
}

#[tokio::test]
async fn failed_sign_ins_spread_over_two_instances_lock_the_username_on_both() {
    let s = TwoOfEach::start().await;
    for attempt in 0..5 {
        let r = password_grant(
            &s.http,
            &s.auth[attempt % 2].base_url,
            &s.d.web_client,
            TestUser {
                username: ALICE.username,
                password: "wrong-password",
            },
        )
        .send()
        .await
        .unwrap();
        assert_oauth_error(r, 400, "invalid_grant").await;
    }
    for auth in &s.auth {
        let locked = password_grant(&s.http, &auth.base_url, &s.d.web_client, ALICE)
            .send()
            .await
            .unwrap();
        assert_eq!(header(&locked, "retry-after"), Some("900"));
        assert_oauth_error(locked, 429, "invalid_grant").await;
        // Another member of staff is unaffected on either instance.
        let ben = password_grant(&s.http, &auth.base_url, &s.d.web_client, BEN)
            .send()
            .await
            .unwrap();
        access_token(ben).await;
    }
    // The lock ends for both once the failures leave the window.
    s.clock.advance(900 + 1);
    for auth in &s.auth {
        token_from(password_grant(
            &s.http,
            &auth.base_url,
            &s.d.web_client,
            ALICE,
        ))
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotated_with_the_admin_command_signs_on_both_instances_and_verifies_on_both_apis() {
    // The APIs may refetch keys every second: with time running ten times faster below, that
    // keeps the production ratio of their refetch interval (10 s) to the activation delay (20 s).
    let s = TwoOfEach::start_with(|settings| settings.serve.jwks_min_refetch_secs = 1).await;
    let old_token = s.hr_token(0).await;
    let old_kid = jwt_header(&old_token)["kid"].as_str().unwrap().to_owned();
    for api in 0..2 {
        assert_eq!(s.api_get(api, "/staff/1", &old_token).await.status(), 200);
    }

    // `auth-server keys rotate`, as an operator runs it, against the shared database.
    let out = Command::new(env!("CARGO_BIN_EXE_staff-directory"))
        .args([
            "auth-server",
            "--database-url",
            &s.d.auth_db.url,
            "keys",
            "rotate",
        ])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    let new_kid = printed
        .split_whitespace()
        .nth(3)
        .unwrap_or_else(|| panic!("no key id in {printed:?}"))
        .to_owned();
    assert_ne!(new_kid, old_kid);

    let _time = FastTime::start(vec![s.clock.clone()]);
    // Until both instances sign with the new key, every token either issues is accepted by
    // both APIs at its first presentation.
    let deadline = std::time::Instant::now() + PATIENCE;
    let mut presented = 0;
    loop {
        let mut switched = true;
        for auth in 0..2 {
            let token = s.hr_token(auth).await;
            for api in 0..2 {
                let r = s.api_get(api, "/staff/1", &token).await;
                assert_eq!(
                    r.status(),
                    200,
                    "a token of instance {auth} (kid {}) at API {api}",
                    jwt_header(&token)["kid"]
                );
                presented += 1;
            }
            switched &= jwt_header(&token)["kid"] == new_kid.as_str();
        }
        if switched {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the instances never signed with the new key"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(presented >= 4);
    // Both instances publish both keys: tokens signed with the old one are still good.
    for auth in &s.auth {
        let jwks: Value = s
            .http
            .get(auth.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert!(
            kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
            "{kids:?}"
        );
    }
    for api in 0..2 {
        assert_eq!(s.api_get(api, "/staff/1", &old_token).await.status(), 200);
    }
}

#[tokio::test]
async fn two_writers_with_one_etag_on_two_api_instances_get_one_200_and_one_412() {
    let s = TwoOfEach::start().await;
    let token = s.hr_token(0).await;
    for round in 0..5 {
        let r = s.api_get(round % 2, "/staff/7", &token).await;
        assert_eq!(r.status(), 200);
        let etag = header(&r, "etag").unwrap().to_owned();
        let write = |api: usize| {
            s.http
                .request(Method::PATCH, s.api[api].url("/staff/7"))
                .bearer_auth(&token)
                .header("If-Match", &etag)
                .json(&json!({"office": format!("Room {round}-{api}")}))
                .send()
        };
        let (one, two) = tokio::join!(write(0), write(1));
        let (one, two) = (one.unwrap(), two.unwrap());
        let (winner, loser, won_by) = match (one.status().as_u16(), two.status().as_u16()) {
            (200, 412) => (one, two, 0),
            (412, 200) => (two, one, 1),
            other => panic!("round {round}: expected one 200 and one 412, got {other:?}"),
        };
        let current = header(&winner, "etag").unwrap().to_owned();
        assert_ne!(current, etag);
        assert_eq!(header(&loser, "etag"), Some(current.as_str()));
        assert_problem(loser, 412, "precondition_failed").await;
        let record: Value = s
            .api_get(1 - won_by, "/staff/7", &token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(record["office"], format!("Room {round}-{won_by}"));
    }
}

#[tokio::test]
async fn a_member_of_staff_signed_in_on_one_website_instance_is_signed_in_on_the_other() {
    let s = TwoOfEach::start().await;
    // Every instance is given the same session key (64 random bytes, base64).
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
    let mut web = Vec::new();
    for api in &s.api {
        let key = key.clone();
        web.push(
            start_web(
                &api.base_url,
                &s.auth[0].base_url,
                &s.d.web_client,
                s.clock.clone(),
                |w| {
                    w.serve.session_key = Some(key.into());
                },
            )
            .await,
        );
    }
    let form = s.http.get(web[0].url("/sign-in")).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let cookie = first_cookie(&form);
    let csrf = crate::support::hidden(&form.text().await.unwrap(), "csrf");
    let signed_in = s
        .http
        .post(web[0].url("/sign-in"))
        .header("Cookie", cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", ALICE.username),
            ("password", ALICE.password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(header(&signed_in, "location"), Some("/profile"));
    let session = first_cookie(&signed_in);
    // The other instance reads the session and shows Alice her own record.
    let profile = s
        .http
        .get(web[1].url("/profile"))
        .header("Cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), 200);
    assert!(profile.text().await.unwrap().contains("Dr Alice Johnson"));
}

/// The `name=value` of a response's session cookie (a sign-in also sets the device cookie).
fn first_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|pair| !pair.starts_with("sd-device="))
        .unwrap()
}

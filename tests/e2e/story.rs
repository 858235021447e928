//! The grant-separation story, told once per caller from start to finish: the visitor who
//! browses with the site's own token, the member of staff who edits only their own record
//! with their own token, the HR job that administers the directory as a client with no
//! user, and the attacker who is stopped at every door. Each case is tested in detail
//! elsewhere; here they are read end to end.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn visitor_browses_with_the_sites_own_token() {
    let s = TestStack::start().await;
    let web = s.start_web().await;
    let mut visitor = Browser::new(&web);

    // The visitor opens the directory: everyone is listed, and the page says whose token
    // fetched the data.
    let home = visitor.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.html.contains("Dr Alice Johnson") && home.html.contains("60 people"));
    assert!(home.html.contains(
        "fetched with: the site&#39;s own token (client_credentials grant: client directory-web"
    ));

    // They search for a name, and open one member of staff's page.
    let search = visitor.get("/?q=okafor").await;
    assert_eq!(search.status, 200);
    assert!(search.html.contains("Ben Okafor") && search.html.contains("2 people"));
    let ben = s.staff_id(BEN.username).await;
    let page = visitor.get(&format!("/staff/{ben}")).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("Research Technician") && page.html.contains("bokafor@example.edu"));

    // Behind those three pages the site asked the authorization server for one token, its
    // own, with the client_credentials grant...
    assert_eq!(web_app_token_requests(&web, &s.http).await, 1);

    // ...and the teaching page shows what that token says: the site is its subject, it is a
    // client's token, and it may only read.
    let how = visitor.get("/how-it-works").await;
    assert_eq!(how.status, 200);
    assert_eq!(claim_value(&how.html, "site-sub"), "directory-web");
    assert_eq!(claim_value(&how.html, "site-client_id"), "directory-web");
    assert_eq!(claim_value(&how.html, "site-token_kind"), "client");
    assert_eq!(claim_value(&how.html, "site-scope"), "directory:read");
    assert!(
        !how.html.contains("id=\"column-person\""),
        "a visitor has no token of their own"
    );

    // Editing a profile needs a person: the visitor is sent to sign in.
    let profile = visitor.get("/profile").await;
    assert_eq!(profile.status, 303);
    assert_eq!(profile.location.as_deref(), Some("/sign-in"));
    assert_eq!(web_app_token_requests(&web, &s.http).await, 1);
}

#[tokio::test]
async fn staff_member_edits_only_their_own_profile_with_their_own_token() {
    let s = TestStack::start().await;
    let web = s.start_web().await;

    // Alice signs in on the website; the site uses the password grant on her behalf.
    let mut alice = signed_in(&web, ALICE).await;

    // Her profile page is fetched with her own token.
    let profile = alice.get("/profile").await;
    assert_eq!(profile.status, 200);
    assert!(profile.html.contains("your own token") && profile.html.contains("Dr Alice Johnson"));

    // She adds a research interest and rewrites her bio, keeping her phone and office.
    let interests = format!(
        "{}, grant separation",
        hidden(&profile.html, "research_interests")
    );
    let saved = alice
        .post(
            "/profile",
            &[
                ("csrf", &hidden(&profile.html, "csrf")),
                ("id", &hidden(&profile.html, "id")),
                ("etag", &hidden(&profile.html, "etag")),
                ("phone", &hidden(&profile.html, "phone")),
                ("office", &hidden(&profile.html, "office")),
                ("bio", "Alice also tells the directory story end to end."),
                ("research_interests", &interests),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert_eq!(saved.location.as_deref(), Some("/profile"));
    assert!(
        alice
            .get("/profile")
            .await
            .html
            .contains("Your profile was saved.")
    );

    // Anyone browsing the public directory (the site's own token) finds the change.
    let mut visitor = Browser::new(&web);
    let found = visitor.get("/?q=grant+separation").await;
    assert!(found.html.contains("Dr Alice Johnson") && found.html.contains("1 person"));
    let id = s.staff_id(ALICE.username).await;
    let public = visitor.get(&format!("/staff/{id}")).await;
    assert!(
        public
            .html
            .contains("Alice also tells the directory story end to end.")
    );

    // The site used a person's token for her: she is its subject and it may write profiles.
    let how = alice.get("/how-it-works").await;
    assert_eq!(claim_value(&how.html, "person-sub"), "ajohnson");
    assert_eq!(claim_value(&how.html, "person-token_kind"), "user");
    assert_eq!(
        claim_value(&how.html, "person-scope"),
        "directory:read profile:write"
    );

    // The history records the write as hers, made through the web app.
    let history = json_of(
        s.api(
            Method::GET,
            &format!("/staff/{id}/history"),
            Some(&s.hr_token().await),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(last["subject"], "ajohnson");
    assert_eq!(last["client_id"], "directory-web");
    assert_eq!(last["token_kind"], "user");

    // With a token from that same grant she goes to the API directly, and tries Ben's record:
    // her scope is enough, but the record is not hers.
    let token = s.user_token(ALICE).await;
    let ben = s.staff_id(BEN.username).await;
    let bens_tag = etag_of(&s, ben, &token).await;
    let r = patch(
        &s,
        ben,
        Some(&token),
        Some(&bens_tag),
        json!({"bio": "Written by Alice."}),
    )
    .await;
    assert!(
        header(&r, "www-authenticate").is_none(),
        "the scope was sufficient"
    );
    assert_problem(r, 403, "not_owner").await;

    // On her own record, her job title belongs to HR: refused, not silently dropped.
    let her_tag = etag_of(&s, id, &token).await;
    let r = patch(
        &s,
        id,
        Some(&token),
        Some(&her_tag),
        json!({"job_title": "Vice-Chancellor"}),
    )
    .await;
    assert_problem(r, 403, "hr_owned_field").await;

    // Neither attempt wrote anything.
    assert_eq!(etag_of(&s, ben, &token).await, bens_tag);
    assert_eq!(etag_of(&s, id, &token).await, her_tag);
}

#[tokio::test]
async fn hr_job_imports_with_admin_scope_and_no_user() {
    let s = TestStack::start().await;

    // The HR job asks for a token for itself: client_credentials, read and admin, no refresh
    // token, and a client's token with the job as its subject.
    let issued = s.client_token(&s.hr_client, None).await;
    assert_eq!(issued["scope"], "directory:read directory:admin");
    assert!(issued.get("refresh_token").is_none());
    let hr = issued["access_token"].as_str().unwrap().to_owned();
    let c = claims(&hr);
    assert_eq!(c["sub"], "hr-sync");
    assert_eq!(c["token_kind"], "client");

    // A new member of staff joins: HR creates the record, and the public directory (the
    // site's own token) shows it.
    let r = s
        .api(Method::POST, "/staff", Some(&hr))
        .json(&json!({
            "username": "nnew", "display_name": "Nia New", "job_title": "Lecturer",
            "department": "School of Chemistry", "email": "nnew@example.edu"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let nia = header(&r, "location").unwrap().to_owned();
    let site = s.web_app_token().await;
    let r = s.api(Method::GET, &nia, Some(&site)).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // HR may change HR-owned fields of anyone's record.
    let ben = s.staff_id(BEN.username).await;
    let tag = etag_of(&s, ben, &hr).await;
    let r = patch(
        &s,
        ben,
        Some(&hr),
        Some(&tag),
        json!({"job_title": "Senior Research Technician"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(json_of(r).await["job_title"], "Senior Research Technician");

    // Nia leaves: HR retires her record. It leaves the public directory, HR keeps it.
    let r = s.api(Method::DELETE, &nia, Some(&hr)).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = s.api(Method::GET, &nia, Some(&site)).send().await.unwrap();
    assert_problem(r, 404, "not_found").await;
    let kept = json_of(s.api(Method::GET, &nia, Some(&hr)).send().await.unwrap()).await;
    assert!(kept["retired_at"].is_string());

    // The history names the job as a client acting for no user.
    let history = json_of(
        s.api(Method::GET, &format!("{nia}/history"), Some(&hr))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let entries = history.as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "retire"]);
    assert!(
        entries
            .iter()
            .all(|h| h["subject"] == "hr-sync" && h["token_kind"] == "client")
    );

    // The job cannot sign anyone in: the password grant is not one of its grants.
    let r = s
        .token(
            &s.hr_client,
            &[
                ("grant_type", "password"),
                ("username", ALICE.username),
                ("password", ALICE.password),
            ],
        )
        .await;
    assert_oauth_error(r, 400, "unauthorized_client").await;

    // And its token is a machine's: a route for a person refuses it.
    let r = s.api(Method::GET, "/me", Some(&hr)).send().await.unwrap();
    assert!(header(&r, "www-authenticate").is_none());
    assert_problem(r, 403, "user_token_required").await;
}

#[tokio::test]
async fn attacker_is_stopped_at_every_door() {
    let s = TestStack::start().await;
    let alice = s.staff_id(ALICE.username).await;
    let site = s.web_app_token().await;
    let tag = etag_of(&s, alice, &site).await;

    // Door 1: the site's own token, lifted from the web app, cannot edit a profile.
    let r = patch(
        &s,
        alice,
        Some(&site),
        Some(&tag),
        json!({"bio": "Defaced."}),
    )
    .await;
    assert_insufficient_scope(r, "profile:write").await;

    // Door 2: forged tokens. The attacker copies the claims of a real token of Alice's and
    // sends them unsigned (`alg: none`), then signed with a key of their own under the
    // issuer's `kid`. Both are refused as invalid tokens, with the Bearer challenge.
    let real = s.user_token(ALICE).await;
    let kid = jwt_header(&real)["kid"].as_str().unwrap().to_owned();
    let payload = claims(&real);
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"typ": "at+jwt", "alg": "none", "kid": kid})),
        b64(&payload)
    );
    let r = patch(
        &s,
        alice,
        Some(&unsigned),
        Some(&tag),
        json!({"bio": "Defaced."}),
    )
    .await;
    assert_invalid_token(r).await;
    let own_key = auth_server::oauth::keys::generate().unwrap();
    let own_key = EncodingKey::from_ed_der(&STANDARD.decode(own_key.private_pkcs8_b64).unwrap());
    let input = format!(
        "{}.{}",
        b64(&json!({"typ": "at+jwt", "alg": "EdDSA", "kid": kid})),
        b64(&payload)
    );
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &own_key, Algorithm::EdDSA);
    let wrong_key = format!("{input}.{}", signature.unwrap());
    let r = patch(
        &s,
        alice,
        Some(&wrong_key),
        Some(&tag),
        json!({"bio": "Defaced."}),
    )
    .await;
    assert_invalid_token(r).await;

    // Door 3: a stolen refresh token. Alice refreshes as usual; later the thief replays the
    // one she has already used. It is refused, and the whole sign-in is revoked, so Alice's
    // current refresh token dies with it. (A replay within two seconds would count as a race
    // between her own tabs, hence the clocks move on.)
    let first = s.user_tokens(ALICE).await;
    let stolen = first["refresh_token"].as_str().unwrap();
    let second = ok_json(s.refresh(stolen, None).await).await;
    s.advance_clocks(3);
    assert_oauth_error(s.refresh(stolen, None).await, 400, "invalid_grant").await;
    let current = second["refresh_token"].as_str().unwrap();
    assert_oauth_error(s.refresh(current, None).await, 400, "invalid_grant").await;
    let answer = s
        .introspect(&s.web_client, second["access_token"].as_str().unwrap())
        .await;
    assert_eq!(answer, json!({"active": false}));

    // Door 4: even a valid token of Alice's must say which version it is changing: none is
    // 428, an out-of-date one is 412.
    let token = s.user_token(ALICE).await;
    let r = patch(&s, alice, Some(&token), None, json!({"bio": "Defaced."})).await;
    assert_problem(r, 428, "precondition_required").await;
    let r = patch(
        &s,
        alice,
        Some(&token),
        Some("\"v0\""),
        json!({"bio": "Defaced."}),
    )
    .await;
    assert_problem(r, 412, "precondition_failed").await;

    // Door 5: bad input is refused whole: wrong types, fields nobody may set, invalid values.
    for (body, code) in [
        (json!({"bio": 5}), "malformed_request"),
        (
            json!({"username": "mallory", "bio": "x"}),
            "malformed_request",
        ),
        (
            json!({"phone": "call me maybe", "bio": "x"}),
            "invalid_input",
        ),
    ] {
        let r = patch(&s, alice, Some(&token), Some(&tag), body).await;
        assert_problem(r, 400, code).await;
    }

    // Behind every door, Alice's record is exactly as it was.
    assert_eq!(etag_of(&s, alice, &site).await, tag);
}

// ---------------------------------------------------------------------------------------
// The props of the stories.

/// The value the teaching page shows for the first `claim` in `html` (a string claim,
/// without its JSON quotes).
async fn json_of(response: reqwest::Response) -> Value {
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

//! The grant-separation matrix at the API: no token, the web app's own token, a member of
//! staff's token (on their own record and on someone else's), the HR job's token — against
//! every endpoint, each answer checked for its status and its challenge or problem type.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;

/// The four callers of the matrix.
struct Callers {
    app: String,
    alice: String,
    hr: String,
}

async fn callers(s: &TestStack) -> Callers {
    Callers {
        app: s.web_app_token().await,
        alice: s.user_token(ALICE).await,
        hr: s.hr_token().await,
    }
}

#[tokio::test]
async fn reading_the_directory_needs_a_token_of_either_kind() {
    let s = TestStack::start().await;
    let c = callers(&s).await;
    let alice = s.staff_id(ALICE.username).await;
    for path in [
        "/staff".to_owned(),
        format!("/staff/{alice}"),
        "/departments".to_owned(),
    ] {
        assert_unauthenticated(s.api(Method::GET, &path, None).send().await.unwrap()).await;
        for token in [&c.app, &c.alice, &c.hr] {
            let r = s.api(Method::GET, &path, Some(token)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
        }
    }
    let page: Value = s.get_json("/staff", Some(&c.app)).await;
    assert_eq!(page["total"], 60);
    assert_eq!(page["items"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn me_is_for_a_member_of_staffs_token_only() {
    let s = TestStack::start().await;
    let c = callers(&s).await;
    assert_unauthenticated(s.api(Method::GET, "/me", None).send().await.unwrap()).await;
    for token in [&c.app, &c.hr] {
        let r = s.api(Method::GET, "/me", Some(token)).send().await.unwrap();
        assert!(header(&r, "www-authenticate").is_none());
        assert_problem(r, 403, "user_token_required").await;
    }
    let r = s
        .api(Method::GET, "/me", Some(&c.alice))
        .send()
        .await
        .unwrap();
    assert!(header(&r, "etag").is_some());
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["username"], "ajohnson");
    assert_eq!(me["display_name"], "Dr Alice Johnson");
}

#[tokio::test]
async fn t56_the_web_apps_own_token_cannot_edit_any_profile() {
    let s = TestStack::start().await;
    let c = callers(&s).await;
    let alice = s.staff_id(ALICE.username).await;
    let tag = etag_of(&s, alice, &c.app).await;
    let r = patch(
        &s,
        alice,
        Some(&c.app),
        Some(&tag),
        json!({"bio": "written by the app"}),
    )
    .await;
    assert_insufficient_scope(r, "profile:write").await;
    assert_eq!(etag_of(&s, alice, &c.app).await, tag, "nothing written");
}

#[tokio::test]
async fn a_member_of_staff_edits_their_own_staff_fields() {
    let s = TestStack::start().await;
    let c = callers(&s).await;
    let alice = s.staff_id(ALICE.username).await;
    let tag = etag_of(&s, alice, &c.alice).await;
    let r = patch(
        &s,
        alice,
        Some(&c.alice),
        Some(&tag),
        json!({"bio": "New bio.\nSecond line.", "office": "Room 101"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let new_tag = header(&r, "etag").unwrap().to_owned();
    assert_ne!(new_tag, tag);
    let record: Value = r.json().await.unwrap();
    assert_eq!(record["bio"], "New bio.\nSecond line.");
    assert_eq!(record["office"], "Room 101");
    // Everyone sees the change, with the new ETag.
    assert_eq!(etag_of(&s, alice, &c.app).await, new_tag);
}

#[tokio::test]
async fn t58_a_member_of_staff_cannot_edit_someone_elses_record() {
    let s = TestStack::start().await;
    let c = callers(&s).await;
    let ben = s.staff_id(BEN.username).await;
    let tag = etag_of(&s, ben, &c.alice).await;
    let r = patch(
        &s,
        ben,
        Some(&c.alice),
        Some(&tag),
        json!({"bio": "hijacked"}),
    )
    .await;
    assert!(
        header(&r, "www-authenticate").is_none(),
        "the scope was sufficient"
    );
    let problem = assert_problem(r, 403, "not_owner").await;
    assert_eq!(problem["type"], "urn:staff-directory:problem:not_owner");
    assert_eq!(
        etag_of(&s, ben, &c.hr).await,
        tag,
        "Ben's record is unchanged"
    );
}

#[tokio::test]
async fn a_member_of_staff_cannot_change_hr_owned_fields() {
    let s = TestStack::start().await;
    let c = callers(&s).await;
    let alice = s.staff_id(ALICE.username).await;
    let tag = etag_of(&s, alice, &c.alice).await;
    for body in [
        json!({"job_title": "Vice-Chancellor"}),
        json!({"display_name": "Prof Alice Johnson", "bio": "fine"}),
        json!({"email": "alice@evil.example"}),
        json!({"department": "School of Chemistry"}),
    ] {
        let r = patch(&s, alice, Some(&c.alice), Some(&tag), body).await;
        let problem = assert_problem(r, 403, "hr_owned_field").await;
        assert!(problem["fields"].as_array().is_some_and(|f| !f.is_empty()));
    }
    assert_eq!(
        etag_of(&s, alice, &c.alice).await,
        tag,
        "nothing written, not even the bio"
    );
}

#[tokio::test]
async fn the_hr_job_may_change_every_field_of_any_record() {
    let s = TestStack::start().await;
    let c = callers(&s).await;
    let ben = s.staff_id(BEN.username).await;
    let tag = etag_of(&s, ben, &c.hr).await;
    let r = patch(
        &s,
        ben,
        Some(&c.hr),
        Some(&tag),
        json!({"job_title": "Senior Research Technician", "phone": "+1 555 0100 0000"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let record: Value = r.json().await.unwrap();
    assert_eq!(record["job_title"], "Senior Research Technician");
}

#[tokio::test]
async fn creating_and_retiring_are_for_the_hr_job_only_and_a_history_for_it_or_its_owner() {
    let s = TestStack::start().await;
    let c = callers(&s).await;
    let alice = s.staff_id(ALICE.username).await;
    let new = json!({
        "username": "nnew", "display_name": "Nia New", "job_title": "Lecturer",
        "department": "School of Chemistry", "email": "nnew@example.edu"
    });
    assert_unauthenticated(
        s.api(Method::POST, "/staff", None)
            .json(&new)
            .send()
            .await
            .unwrap(),
    )
    .await;
    for token in [&c.app, &c.alice] {
        let r = s
            .api(Method::POST, "/staff", Some(token))
            .json(&new)
            .send()
            .await
            .unwrap();
        assert_insufficient_scope(r, "directory:admin").await;
        let r = s
            .api(Method::DELETE, &format!("/staff/{alice}"), Some(token))
            .send()
            .await
            .unwrap();
        assert_insufficient_scope(r, "directory:admin").await;
    }
    // A history: the site's token never; Alice her own (200), never Ben's (403 not_owner).
    let history = |token: &str, id: i64| {
        s.api(Method::GET, &format!("/staff/{id}/history"), Some(token))
            .send()
    };
    let ben = s.staff_id(BEN.username).await;
    for id in [alice, ben] {
        assert_insufficient_scope(history(&c.app, id).await.unwrap(), "directory:admin").await;
    }
    let own = history(&c.alice, alice).await.unwrap();
    assert_eq!(own.status(), 200);
    assert_eq!(header(&own, "cache-control"), Some("no-store"));
    let entries: Value = own.json().await.unwrap();
    assert_eq!(entries[0]["action"], "create", "{entries}");
    assert_problem(history(&c.alice, ben).await.unwrap(), 403, "not_owner").await;
    let missing = history(&c.alice, 999_999).await.unwrap();
    assert_problem(missing, 404, "not_found").await;
    let r = s
        .api(Method::POST, "/staff", Some(&c.hr))
        .json(&new)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let location = header(&r, "location").unwrap().to_owned();
    let created: Value = r.json().await.unwrap();
    assert_eq!(location, format!("/staff/{}", created["id"]));
    let r = s
        .api(Method::GET, &location, Some(&c.app))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .api(Method::DELETE, &location, Some(&c.hr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // Retired: gone from the public directory, kept for HR, history intact.
    let r = s
        .api(Method::GET, &location, Some(&c.app))
        .send()
        .await
        .unwrap();
    assert_problem(r, 404, "not_found").await;
    let kept: Value = s.get_json(&location, Some(&c.hr)).await;
    assert!(kept["retired_at"].is_string());
    let history: Value = s
        .get_json(&format!("{location}/history"), Some(&c.hr))
        .await;
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "retire"]);
    let r = s
        .api(Method::DELETE, &location, Some(&c.hr))
        .send()
        .await
        .unwrap();
    assert_problem(r, 404, "not_found").await;
}

#[tokio::test]
async fn t57_a_client_token_never_passes_as_the_user_it_is_named_after() {
    let s = TestStack::start().await;
    let alice = s.staff_id(ALICE.username).await;
    // A token that says it is a client's, yet whose subject is Alice's username and which
    // carries profile:write: validly signed by the real key, as a misconfigured or rogue
    // issuer might mint. The API checks the kind of token, not just `sub`.
    let now = crate::support::Clock::now(s.auth.clock.as_ref());
    let forged = sign_with_issuer_key(
        &s,
        json!({
            "iss": s.auth.base_url, "sub": "ajohnson", "aud": "urn:staff-directory:api",
            "exp": now + 300, "iat": now, "nbf": now, "jti": "forged-1",
            "client_id": "ajohnson", "scope": "directory:read profile:write", "token_kind": "client"
        }),
    )
    .await;
    let tag = etag_of(&s, alice, &forged).await;
    let r = patch(
        &s,
        alice,
        Some(&forged),
        Some(&tag),
        json!({"bio": "impersonated"}),
    )
    .await;
    assert_insufficient_scope(r, "profile:write").await;
    let r = s
        .api(Method::GET, "/me", Some(&forged))
        .send()
        .await
        .unwrap();
    assert_problem(r, 403, "user_token_required").await;
}

#[tokio::test]
async fn t82_authorization_failures_win_over_preconditions() {
    let s = TestStack::start().await;
    let c = callers(&s).await;
    let ben = s.staff_id(BEN.username).await;
    let stale = "\"v0\"";
    assert_unauthenticated(patch(&s, ben, None, Some(stale), json!({"bio": "x"})).await).await;
    let r = patch(&s, ben, Some(&c.alice), Some(stale), json!({"bio": "x"})).await;
    assert_problem(r, 403, "not_owner").await;
    let r = patch(&s, 999_999, Some(&c.hr), Some(stale), json!({"bio": "x"})).await;
    assert_problem(r, 404, "not_found").await;
}

#[tokio::test]
async fn the_openapi_document_is_public_and_describes_the_security() {
    let s = TestStack::start().await;
    let r = s
        .api(Method::GET, "/openapi.json", None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let flows = &doc["components"]["securitySchemes"]["oauth2"]["flows"];
    assert_eq!(
        flows["clientCredentials"]["tokenUrl"],
        format!("{}/oauth/token", s.auth.base_url)
    );
    assert!(flows["password"]["scopes"]["profile:write"].is_string());
    assert_eq!(
        doc["paths"]["/staff/{id}"]["patch"]["security"],
        json!([{"oauth2": ["profile:write"]}, {"oauth2": ["directory:admin"]}])
    );
    for status in ["401", "403", "404", "412", "428"] {
        assert!(
            doc["paths"]["/staff/{id}"]["patch"]["responses"][status].is_object(),
            "{status}"
        );
    }
}

/// Signs `claims` with the auth server's active key, as the auth server itself would.
pub async fn sign_with_issuer_key(s: &TestStack, claims: Value) -> String {
    use base64::Engine as _;
    let keys = s.auth.db.all_keys().await.unwrap();
    let key = keys.iter().find(|k| k.retired_at.is_none()).unwrap();
    let der = base64::engine::general_purpose::STANDARD
        .decode(&key.private_key)
        .unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.typ = Some("at+jwt".into());
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_der(&der),
    )
    .unwrap()
}

//! The admin commands of `auth-server`, driven through their command-line parser.

use auth_server::cli::Cli;
use auth_server::oauth::client_auth::ClientId;
use clap::Parser as _;

use crate::support::*;

async fn run(db_url: &str, args: &[&str]) -> anyhow::Result<()> {
    let mut argv = vec!["auth-server", "--database-url", db_url];
    argv.extend_from_slice(args);
    auth_server::cli::run(Cli::try_parse_from(argv)?).await
}

#[tokio::test]
async fn client_create_list_rotate_and_delete() {
    let db = TestDb::fresh("admin").await;
    run(
        &db.url,
        &[
            "client",
            "create",
            "reports",
            "--client-credentials-scopes",
            "directory:read directory:admin",
            "--client-credentials-default-scopes",
            "directory:read",
        ],
    )
    .await
    .unwrap();
    let store = auth_server::store::Db::connect(&db.url).await.unwrap();
    let id = ClientId::parse("reports").unwrap();
    let record = store.client(&id).await.unwrap().unwrap();
    let row = record.policy.client_credentials.unwrap();
    assert_eq!(row.allowed().to_string(), "directory:read directory:admin");
    assert_eq!(row.default_scopes().to_string(), "directory:read");
    assert!(record.policy.password.is_none());
    run(&db.url, &["client", "list"]).await.unwrap();
    let before = record.secret_hash;
    run(&db.url, &["client", "rotate-secret", "reports"])
        .await
        .unwrap();
    assert_ne!(
        store.client(&id).await.unwrap().unwrap().secret_hash,
        before
    );
    run(&db.url, &["client", "delete", "reports"])
        .await
        .unwrap();
    assert!(store.client(&id).await.unwrap().is_none());
    assert!(
        run(&db.url, &["client", "delete", "reports"])
            .await
            .is_err()
    );
}

#[tokio::test]
async fn client_create_refuses_policies_that_break_the_scope_rules() {
    let db = TestDb::fresh("admin").await;
    for args in [
        vec![
            "client",
            "create",
            "bad",
            "--client-credentials-scopes",
            "profile:write",
        ],
        vec![
            "client",
            "create",
            "bad",
            "--password-grant-scopes",
            "directory:admin",
        ],
        vec![
            "client",
            "create",
            "bad",
            "--client-credentials-scopes",
            "nonsense",
        ],
        vec!["client", "create", "bad"],
    ] {
        assert!(run(&db.url, &args).await.is_err(), "{args:?}");
    }
    let store = auth_server::store::Db::connect(&db.url).await.unwrap();
    assert!(store.list_clients().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_client_id_cannot_equal_a_username_nor_the_reverse() {
    let s = TestStack::start().await;
    let read = auth_server::oauth::scope::ScopeSet::parse("directory:read").unwrap();
    let mut policy = auth_server::oauth::policy::ClientPolicy::default();
    policy.set(
        auth_server::oauth::policy::GrantPolicy::new(
            auth_server::oauth::policy::GrantType::ClientCredentials,
            read,
            read,
        )
        .unwrap(),
    );
    let now = crate::support::Clock::now(s.auth.clock.as_ref());
    let taken = auth_server::admin::create_client(
        &s.auth.db,
        &ClientId::parse(ALICE.username).unwrap(),
        &policy,
        now,
    )
    .await;
    assert!(matches!(
        taken,
        Err(auth_server::store::clients::CreateClientError::Taken(_))
    ));
    let taken = auth_server::admin::create_user(
        &s.auth.db,
        &auth_server::oauth::username::Username::parse("hr-sync").unwrap(),
        &secrecy::SecretString::from("long-enough-password"),
        now,
    )
    .await;
    assert!(matches!(
        taken,
        Err(auth_server::admin::UserError::Create(_))
    ));
}

#[tokio::test]
async fn keys_rotate_and_list_and_users_list_and_disable() {
    let s = TestStack::start().await;
    let url = s.auth.db.clone();
    drop(url);
    let db = TestDb::fresh("admin").await;
    run(&db.url, &["keys", "list"]).await.unwrap();
    run(&db.url, &["keys", "rotate"]).await.unwrap();
    run(&db.url, &["keys", "rotate"]).await.unwrap();
    let store = auth_server::store::Db::connect(&db.url).await.unwrap();
    let keys = store.all_keys().await.unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys.iter().filter(|k| k.retired_at.is_none()).count(), 1);
    run(&db.url, &["keys", "list"]).await.unwrap();
    run(&db.url, &["user", "list"]).await.unwrap();
    assert!(run(&db.url, &["user", "disable", "nobody"]).await.is_err());
    assert!(
        run(&db.url, &["user", "create", "Not Valid"])
            .await
            .is_err()
    );
}

#[tokio::test]
async fn new_passwords_must_have_eight_characters() {
    let db = TestDb::fresh("admin").await;
    let store = auth_server::store::Db::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let result = auth_server::admin::create_user(
        &store,
        &auth_server::oauth::username::Username::parse("shorty").unwrap(),
        &secrecy::SecretString::from("short"),
        0,
    )
    .await;
    assert!(matches!(
        result,
        Err(auth_server::admin::UserError::Policy(_))
    ));
}

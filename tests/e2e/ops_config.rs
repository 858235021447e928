//! Operations, configuration: each service's settings are checked at start with a clear
//! message, secrets come from the environment or from files, and no secret reaches `Debug`
//! output or a log line.

use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::Parser as _;
use secrecy::ExposeSecret as _;

use crate::support::*;

fn web(args: &[&str]) -> directory_web::config::Settings {
    let mut all = vec!["directory-web"];
    all.extend_from_slice(args);
    directory_web::config::Settings {
        serve: directory_web::cli::Cli::try_parse_from(all).unwrap().serve,
    }
}

fn web_error(args: &[&str]) -> String {
    format!("{:#}", web(args).validate().unwrap_err())
}

#[test]
fn the_website_names_a_missing_client_secret() {
    assert_eq!(
        web_error(&[]),
        "the site's client secret is missing: set WEB_CLIENT_SECRET or WEB_CLIENT_SECRET_FILE (--client-secret or --client-secret-file)"
    );
}

#[test]
fn the_website_names_a_bad_url() {
    assert_eq!(
        web_error(&["--client-secret", "s", "--api-url", "not a url"]),
        "the API URL is not a valid URL (relative URL without a base): \"not a url\""
    );
    assert_eq!(
        web_error(&["--client-secret", "s", "--issuer", "ftp://auth.example"]),
        "the issuer must be an http(s) URL without a trailing slash (got \"ftp://auth.example\")"
    );
    assert_eq!(
        web_error(&[
            "--client-secret",
            "s",
            "--public-url",
            "https://www.example/"
        ]),
        "the public URL must be an http(s) URL without a trailing slash (got \"https://www.example/\")"
    );
}

#[test]
fn the_website_names_an_unreadable_secret_file() {
    assert_eq!(
        web_error(&["--client-secret-file", "/nonexistent/client-secret"]),
        "cannot read the client secret file /nonexistent/client-secret: No such file or directory (os error 2)"
    );
    assert_eq!(
        web_error(&[
            "--client-secret",
            "s",
            "--session-key-file",
            "/nonexistent/key"
        ]),
        "cannot read the session key file /nonexistent/key: No such file or directory (os error 2)"
    );
    let dir = tempfile::tempdir().unwrap();
    let empty = file_with(&dir, "empty", " \n");
    assert_eq!(
        web_error(&["--client-secret-file", empty.to_str().unwrap()]),
        format!("the client secret file {} is empty", empty.display())
    );
}

#[test]
fn a_secret_is_given_once_either_directly_or_by_file() {
    let err = directory_web::cli::Cli::try_parse_from([
        "directory-web",
        "--client-secret",
        "s",
        "--client-secret-file",
        "/x",
    ])
    .unwrap_err();
    assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
}

#[test]
fn the_websites_secrets_come_from_files_and_never_show_in_debug_output() {
    let dir = tempfile::tempdir().unwrap();
    let secret = file_with(&dir, "secret", "file-secret-7f3a9c\n");
    let key = "k".repeat(88);
    let key_file = file_with(&dir, "key", &key);
    let settings = web(&[
        "--client-secret-file",
        secret.to_str().unwrap(),
        "--session-key-file",
        key_file.to_str().unwrap(),
    ]);
    settings.validate().unwrap();
    assert_eq!(
        settings.client_secret().unwrap().expose_secret(),
        "file-secret-7f3a9c"
    );
    assert_eq!(
        settings.session_key().unwrap().unwrap().expose_secret(),
        key
    );
    let direct = web(&["--client-secret", "flag-secret-51d2", "--session-key", &key]);
    for shown in [format!("{settings:?}"), format!("{direct:?}")] {
        for secret in ["file-secret-7f3a9c", "flag-secret-51d2", &key] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}

#[test]
fn database_passwords_never_show_in_the_auth_servers_or_the_apis_debug_output() {
    let url = "postgres://app:db-password-83c1@db.internal:5432/auth";
    let auth =
        auth_server::cli::Cli::try_parse_from(["auth-server", "--database-url", url, "serve"])
            .unwrap();
    let api =
        directory_api::cli::Cli::try_parse_from(["directory-api", "--database-url", url, "serve"])
            .unwrap();
    let auth_settings = auth_server::config::Settings::new(url, "127.0.0.1:0".parse().unwrap());
    let api_settings =
        directory_api::config::Settings::new(url, "127.0.0.1:0".parse().unwrap(), "http://a");
    for shown in [
        format!("{auth:?}"),
        format!("{api:?}"),
        format!("{auth_settings:?}"),
        format!("{api_settings:?}"),
    ] {
        assert!(!shown.contains("db-password-83c1"), "{shown}");
        assert!(
            shown.contains("postgres://app:[REDACTED]@db.internal:5432/auth"),
            "{shown}"
        );
    }
    // The real URL is still there for connecting.
    assert_eq!(auth.database_url.expose_secret(), url);
}

#[tokio::test]
async fn the_auth_server_and_the_api_name_a_bad_url_at_start() {
    let mut auth =
        auth_server::config::Settings::new("sqlite::memory:", "127.0.0.1:0".parse().unwrap());
    auth.serve.issuer = Some("https://auth.example/".into());
    let err = auth_server::startup::Application::build(auth)
        .await
        .err()
        .unwrap();
    assert_eq!(
        format!("{err:#}"),
        "the issuer must be an http(s) URL with no query, fragment or trailing slash (RFC 8414 §2)"
    );
    let auth = auth_server::config::Settings::new(
        "mysql://app:pw@db/auth",
        "127.0.0.1:0".parse().unwrap(),
    );
    let err = auth_server::startup::Application::build(auth)
        .await
        .err()
        .unwrap();
    assert_eq!(
        format!("{err:#}"),
        "unsupported database URL: it must start with sqlite: or postgres:"
    );
    let api = directory_api::config::Settings::new(
        "sqlite::memory:",
        "127.0.0.1:0".parse().unwrap(),
        "auth.example",
    );
    let err = directory_api::startup::Application::build(api)
        .await
        .err()
        .unwrap();
    assert_eq!(
        format!("{err:#}"),
        "the issuer must be an http(s) URL with no query, fragment or trailing slash (got \"auth.example\")"
    );
}

/// Runs `staff-directory <args>` with JSON logs, reads its standard error until a line
/// contains `until` or the process exits (at most 60 s), kills it, and returns what it wrote.
fn stderr_of(args: &[&str], envs: &[(&str, &str)], until: &str) -> String {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_staff-directory"))
        .args(args)
        .envs(envs.iter().copied())
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let done = line.contains(until);
                seen.push_str(&line);
                seen.push('\n');
                if done {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    child.kill().ok();
    child.wait().ok();
    seen
}

#[test]
fn the_websites_startup_logs_do_not_contain_its_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let secret = file_with(&dir, "secret", "startup-secret-4b7e\n");
    let key = "q".repeat(88);
    let logs = stderr_of(
        &[
            "directory-web",
            "--bind",
            "127.0.0.1:0",
            "--api-url",
            &dead_address(),
            "--issuer",
            &dead_address(),
            "--client-secret-file",
            secret.to_str().unwrap(),
        ],
        &[("WEB_SESSION_KEY", &key)],
        "website listening",
    );
    assert!(logs.contains("website listening"), "{logs}");
    // The settings are logged at start, secrets redacted.
    assert!(logs.contains("\"message\":\"starting\""), "{logs}");
    assert!(logs.contains("[REDACTED]"), "{logs}");
    for line in logs.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|_| panic!("not JSON: {line}"));
    }
    assert!(!logs.contains("startup-secret-4b7e"), "{logs}");
    assert!(!logs.contains(&key), "{logs}");
}

#[test]
fn the_auth_servers_startup_logs_do_not_contain_its_database_password() {
    let url = format!(
        "postgres://app:pg-password-9d0e@{}/auth",
        dead_address().trim_start_matches("http://")
    );
    let logs = stderr_of(
        &[
            "auth-server",
            "--database-url",
            &url,
            "serve",
            "--bind",
            "127.0.0.1:0",
        ],
        &[],
        "Error",
    );
    assert!(logs.contains("postgres://app:[REDACTED]@"), "{logs}");
    assert!(!logs.contains("pg-password-9d0e"), "{logs}");
}

#[test]
fn the_auth_server_and_the_api_read_their_database_url_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = "postgres://app:file-password-2c8b@db.internal/auth";
    let file = file_with(&dir, "db-url", &format!("{url}\n"));
    let path = file.to_str().unwrap();
    let auth = auth_server::cli::Cli::try_parse_from([
        "auth-server",
        "--database-url-file",
        path,
        "serve",
    ])
    .unwrap();
    assert_eq!(auth.database_url().unwrap().expose_secret(), url);
    let api = directory_api::cli::Cli::try_parse_from([
        "directory-api",
        "--database-url-file",
        path,
        "migrate",
    ])
    .unwrap();
    assert_eq!(api.database_url().unwrap().expose_secret(), url);
    assert!(!format!("{:?}", auth.database_url().unwrap()).contains("file-password-2c8b"));
    let missing = auth_server::cli::Cli::try_parse_from([
        "auth-server",
        "--database-url-file",
        "/nonexistent/db-url",
        "serve",
    ])
    .unwrap();
    assert_eq!(
        format!("{:#}", missing.database_url().unwrap_err()),
        "cannot read the database URL file /nonexistent/db-url: No such file or directory (os error 2)"
    );
    let both = directory_api::cli::Cli::try_parse_from([
        "directory-api",
        "--database-url",
        url,
        "--database-url-file",
        path,
        "serve",
    ])
    .unwrap_err();
    assert_eq!(both.kind(), clap::error::ErrorKind::ArgumentConflict);
}

/// Each service's process limits glibc's allocator arenas to two (service_kit::arenas: each
/// thread's arena kept its freed pages, and the API's memory under the soak was 78 MB instead
/// of 53), by running itself again with `MALLOC_ARENA_MAX`; an operator's own value is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_service_process_limits_its_allocator_arenas_unless_the_operator_did() {
    let d = Deployment::new().await;
    let args = auth_args(&d.auth_db.url, "127.0.0.1:0", None, &[]);
    let ours = Process::spawn("auth server", &args).await;
    assert_eq!(ours.environment("MALLOC_ARENA_MAX").as_deref(), Some("2"));
    let healthz = fresh_connections()
        .get(format!("{}/healthz", ours.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(healthz.status(), 200, "the process that ran again serves");
    drop(ours);
    let theirs = Process::spawn_with_env("auth server", &args, &[("MALLOC_ARENA_MAX", "4")]).await;
    assert_eq!(theirs.environment("MALLOC_ARENA_MAX").as_deref(), Some("4"));
}

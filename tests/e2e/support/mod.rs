//! Everything the end-to-end tests stand on, one module per thing it gives:
//!
//! - [`service`]: one in-process handle for any of the three services ([`RunningService`]) and
//!   the one function that starts each of them — the only place naming their settings and
//!   start-up — and the lab of the guide (`staff-directory lab`);
//! - [`stack`]: [`TestStack`], an auth server and an API with fresh databases and the
//!   design's clients and people, and websites on demand;
//! - [`database`]: a throwaway database (SQLite file, or PostgreSQL with `TEST_DATABASE_URL`);
//! - [`seed`]: the people ([`TestUser`]) and client registrations ([`TestClient`]) tests
//!   start from, seeded through `staff_directory::seed`;
//! - [`requests`]: the one set of token-request builders, and the stack's shortcuts;
//! - [`assertions`]: OAuth errors, bearer challenges, problems, no-store headers;
//! - [`jwt`]: a token's header and claims, unverified;
//! - [`browser`]: a cookie-keeping browser for the website;
//! - [`chromium`]: a real browser (headless Chromium through chromedriver) and what the
//!   browser tests do with it;
//! - [`axe`]: axe-core's accessibility checks on the page that browser shows;
//! - [`code_flow`]: the authorization code flow as a browser goes through it;
//! - [`images`]: image files for the photo tests, real and hostile;
//! - [`records`]: every record at once, a record's `ETag`, and patching it;
//! - [`metrics`]: reading Prometheus text;
//! - [`logs`]: the services' log lines captured in this process;
//! - [`poll`]: waiting until something holds;
//! - [`deployment`], [`process`], [`balancer`], [`proxy`]: several instances on one database,
//!   services as processes of their own, a load balancer, a PostgreSQL link that can be cut;
//! - [`tcp`], [`files`]: raw connections that stall, files for a service to read.

pub mod assertions;
pub mod axe;
pub mod balancer;
pub mod browser;
pub mod chromium;
pub mod code_flow;
pub mod database;
pub mod deployment;
pub mod files;
pub mod images;
pub mod jwt;
pub mod logs;
pub mod metrics;
pub mod poll;
pub mod process;
pub mod proxy;
pub mod records;
pub mod requests;
pub mod seed;
pub mod service;
pub mod stack;
pub mod tcp;

pub use assertions::{
    assert_insufficient_scope, assert_invalid_token, assert_no_store, assert_oauth_error,
    assert_problem, assert_unauthenticated, header, ok_json,
};
pub use axe::{Rules, assert_accessible, axe_violations};
pub use balancer::RoundRobin;
pub use browser::{Browser, Page, Part, cell, claim_value, hidden, multipart, signed_in};
pub use chromium::{
    chromium, chromium_with, click, save_screenshot, type_into, wait_for_path, wait_for_text,
};
pub use code_flow::{Started, callback_path, start_code_flow};
pub use database::{TestDb, on_postgres};
pub use deployment::{Deployment, FastTime, auth_instance, fresh_connections};
pub use files::file_with;
pub use jwt::{claims, jwt_header};
pub use logs::{MARKER, capture_logs, logged_with};
pub use metrics::{series, text_of, web_app_token_requests};
pub use poll::{PATIENCE, poll_until, poll_within};
pub use process::{Process, auth_args, spawn_api, spawn_auth, spawn_web};
pub use proxy::CutProxy;
pub use records::{all_records, etag_of, patch};
pub use requests::{
    Auth, access_token, basic, big_form, client_credentials, encode_form, password_grant,
    refresh_grant, token_from,
};
pub use seed::{ALICE, BEN, TestClient, TestUser, demo_auth_database, demo_web_client};
pub use service::{
    ApiDb, Clock, ManualClock, RunningService, SystemClock, start_api, start_auth, start_lab,
    start_web,
};
pub use stack::{TestStack, fresh_api};
pub use tcp::{Stalled, dead_address, stall_after};

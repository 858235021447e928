//! End-to-end tests: the real services on port 0 with their own throwaway databases, real
//! HTTP between them. SQLite always; PostgreSQL too when `TEST_DATABASE_URL` is a
//! `postgres://` URL (each test then creates its own database on that server).
//!
//! Tests that cover a case of docs/security-checklist.md name it (`t14_…`, `h04_…`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

mod api_authorization;
mod api_records;
mod api_token_attacks;
mod auth_admin;
mod auth_client_auth;
mod auth_client_credentials;
mod auth_discovery;
mod auth_oauth2_crate;
mod auth_password_grant;
mod auth_refresh;
mod auth_revocation;
mod auth_token_endpoint;
mod code_flow_auth;
mod code_flow_web;
mod codebase;
mod docs_walkthrough;
mod family_name;
mod hardening_api;
mod hardening_auth;
mod hardening_web;
mod how_it_works;
mod hr_sync;
mod lab;
mod launcher;
mod ops_abuse;
mod ops_config;
mod ops_faults;
mod ops_observability;
mod ops_scale_out;
mod ops_shutdown;
mod own_history;
mod photos_api;
mod photos_web;
mod security_checklist;
mod story;
mod try_it;
mod web_accessibility;
mod web_browser;
mod web_browser_directory;
mod web_browser_photos;
mod web_public;
mod web_staff;

//! The parsing of token requests: each grant's parameters, and the order of its refusals.

use secrecy::ExposeSecret as _;

use super::*;
use crate::oauth::error::ErrorCode;

fn set(s: &str) -> ScopeSet {
    ScopeSet::parse(s).unwrap()
}

/// A client that may use every grant.
fn everything() -> ClientPolicy {
    let mut policy = ClientPolicy::default();
    policy.set(
        GrantPolicy::new(
            GrantType::ClientCredentials,
            set("directory:read"),
            set("directory:read"),
        )
        .unwrap(),
    );
    policy.set(
        GrantPolicy::new(
            GrantType::Password,
            set("directory:read profile:write"),
            set("directory:read"),
        )
        .unwrap(),
    );
    policy
}

fn parse(body: &str, policy: &ClientPolicy) -> Result<TokenRequest, OAuthError> {
    let params = FormParams::parse(body.as_bytes())?;
    TokenRequest::parse(&params, policy).map(|(_, request)| request)
}

fn error(body: &str, policy: &ClientPolicy) -> (ErrorCode, &'static str) {
    let e = parse(body, policy).unwrap_err();
    (e.code, e.description)
}

#[test]
fn each_grant_gets_exactly_its_parameters() {
    let p = everything();
    let cc = parse(
        "grant_type=client_credentials&username=x&scope=directory:read",
        &p,
    );
    assert!(matches!(
        cc.unwrap(),
        TokenRequest::ClientCredentials { scope: Some(s) } if s == set("directory:read")
    ));
    let pw = parse(
        "grant_type=password&username=alice&password=a+b%26c&device_token=d&refresh_token=r",
        &p,
    )
    .unwrap();
    let TokenRequest::Password {
        username,
        password,
        scope,
        device,
    } = pw
    else {
        panic!("not a password request");
    };
    assert_eq!(username, "alice");
    assert_eq!(password.expose_secret(), "a b&c");
    assert_eq!(scope, None);
    assert_eq!(device.as_deref(), Some("d"));
    let rt = parse("grant_type=refresh_token&refresh_token=r1&scope=", &p).unwrap();
    let TokenRequest::RefreshToken {
        refresh_token,
        scope,
    } = rt
    else {
        panic!("not a refresh request");
    };
    assert_eq!(refresh_token.expose_secret(), "r1");
    // §3.2: an empty parameter is an omitted one.
    assert_eq!(scope, None);
}

#[test]
fn the_grant_type_is_required_and_must_be_supported() {
    let p = everything();
    assert_eq!(
        error("username=alice", &p),
        (
            ErrorCode::InvalidRequest,
            "the grant_type parameter is missing"
        )
    );
    assert_eq!(
        error("grant_type=implicit&code=x", &p).0,
        ErrorCode::UnsupportedGrantType
    );
}

#[test]
fn a_grant_the_client_may_not_use_is_refused_before_its_parameters_are_read() {
    let none = ClientPolicy::default();
    assert_eq!(
        error("grant_type=password", &none).0,
        ErrorCode::UnauthorizedClient
    );
    assert_eq!(
        error("grant_type=refresh_token", &none).0,
        ErrorCode::UnauthorizedClient
    );
    assert_eq!(
        error("grant_type=client_credentials&scope=nonsense", &none).0,
        ErrorCode::UnauthorizedClient
    );
}

#[test]
fn missing_parameters_are_invalid_request_in_order() {
    let p = everything();
    assert_eq!(
        error("grant_type=password&password=x", &p),
        (
            ErrorCode::InvalidRequest,
            "the username parameter is missing"
        )
    );
    assert_eq!(
        error("grant_type=password&username=alice&password=", &p),
        (
            ErrorCode::InvalidRequest,
            "the password parameter is missing"
        )
    );
    assert_eq!(
        error("grant_type=refresh_token&scope=directory:read", &p),
        (
            ErrorCode::InvalidRequest,
            "the refresh_token parameter is missing"
        )
    );
}

#[test]
fn a_password_too_long_is_refused_before_the_scope_is_read() {
    let p = everything();
    let body = format!(
        "grant_type=password&username=alice&password={}&scope=nonsense",
        "a".repeat(MAX_PASSWORD_BYTES + 1)
    );
    assert_eq!(
        error(&body, &p),
        (ErrorCode::InvalidRequest, "the password is too long")
    );
    let longest = format!(
        "grant_type=password&username=alice&password={}",
        "a".repeat(MAX_PASSWORD_BYTES)
    );
    assert!(parse(&longest, &p).is_ok());
}

#[test]
fn a_code_exchange_needs_its_code_redirect_uri_and_a_well_formed_verifier_in_order() {
    let mut p = everything();
    assert_eq!(
        error("grant_type=authorization_code", &p).0,
        ErrorCode::UnauthorizedClient
    );
    p.set(
        GrantPolicy::new(
            GrantType::AuthorizationCode,
            set("directory:read profile:write"),
            set("directory:read"),
        )
        .unwrap(),
    );
    let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    assert_eq!(
        error(
            &format!("grant_type=authorization_code&redirect_uri=x&code_verifier={v}"),
            &p
        ),
        (ErrorCode::InvalidRequest, "the code parameter is missing")
    );
    assert_eq!(
        error(
            &format!("grant_type=authorization_code&code=c&code_verifier={v}"),
            &p
        ),
        (
            ErrorCode::InvalidRequest,
            "the redirect_uri parameter is missing"
        )
    );
    assert_eq!(
        error("grant_type=authorization_code&code=c&redirect_uri=x", &p),
        (
            ErrorCode::InvalidRequest,
            "the code_verifier parameter is missing"
        )
    );
    assert_eq!(
        error(
            "grant_type=authorization_code&code=c&redirect_uri=x&code_verifier=short",
            &p
        ),
        (
            ErrorCode::InvalidRequest,
            "the code_verifier parameter is malformed"
        )
    );
    let ok = parse(
        &format!("grant_type=authorization_code&code=c&redirect_uri=x&code_verifier={v}"),
        &p,
    )
    .unwrap();
    assert!(matches!(
        ok,
        TokenRequest::AuthorizationCode { redirect_uri, .. } if redirect_uri == "x"
    ));
}

#[test]
fn a_malformed_scope_is_invalid_scope() {
    let p = everything();
    assert_eq!(
        error("grant_type=client_credentials&scope=nonsense", &p).0,
        ErrorCode::InvalidScope
    );
}

#[test]
fn repeated_parameters_never_reach_a_grant() {
    let e = FormParams::parse(b"grant_type=password&username=a&username=b").unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRequest);
}

#[test]
fn debug_shows_no_credentials() {
    let request = parse(
        "grant_type=password&username=alice&password=hunter22&device_token=dt",
        &everything(),
    )
    .unwrap();
    let shown = format!("{request:?}");
    assert!(!shown.contains("alice") && !shown.contains("hunter22") && !shown.contains("dt\""));
}

//! The authorization endpoint's request (RFC 6749 §4.1.1 with PKCE, RFC 7636 §4.3), checked
//! in the order that decides where an error may go, and the response's redirect (§4.1.2,
//! RFC 9207). No HTTP types here.
//!
//! Until the client and its redirect URI are known good, an error is shown on this server's
//! own page and never redirected (§4.1.2.1, RFC 9700 §4.11: an open redirector otherwise);
//! after that, errors go back to the redirect URI with `error`, `state` and `iss`.

use super::client_auth::ClientId;
use super::form::FormParams;
use super::pkce::CodeChallenge;
use super::policy::{GrantPolicy, GrantType};
use super::redirect_uri::RedirectUri;
use super::scope::ScopeSet;
use crate::store::clients::ClientRecord;

/// How long an authorization code may be redeemed, in seconds (RFC 6749 §4.1.2 recommends
/// at most 10 minutes; one is plenty for a redirect).
pub const CODE_LIFETIME_SECS: i64 = 60;

/// The longest `state` sent back.
const MAX_STATE_BYTES: usize = 1024;

/// The parameters of an authorization request, carried unchanged from the page's GET to its
/// form's POST as hidden fields.
pub const REQUEST_PARAMETERS: [&str; 7] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

/// An error of the authorization endpoint (RFC 6749 §4.1.2.1, RFC 7636 §4.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizeErrorCode {
    /// A parameter is missing, repeated or malformed, PKCE is missing or not `S256`.
    InvalidRequest,
    /// The client may not use this grant.
    UnauthorizedClient,
    /// The person refused, or could not be signed in.
    AccessDenied,
    /// A `response_type` other than `code`.
    UnsupportedResponseType,
    /// A scope outside the client's row, or malformed.
    InvalidScope,
    /// Something failed on this side.
    ServerError,
    /// Overloaded or the database is out of reach.
    TemporarilyUnavailable,
}

impl AuthorizeErrorCode {
    /// The RFC string of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

/// Why an authorization request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Shown on this server's page, never redirected: the client or the redirect URI is not
    /// known good. The text is fixed and shown.
    Page(&'static str),
    /// Sent back to the registered redirect URI with `error` and `state`.
    Redirect {
        /// The registered URI the request named.
        redirect_uri: RedirectUri,
        /// The request's `state`, to send back.
        state: Option<String>,
        /// The error.
        code: AuthorizeErrorCode,
    },
}

/// A checked authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    /// The client asking.
    pub client: ClientRecord,
    /// Its `authorization_code` row.
    pub row: GrantPolicy,
    /// The registered redirect URI the request named, exactly.
    pub redirect_uri: RedirectUri,
    /// The `state`, sent back unchanged.
    pub state: Option<String>,
    /// The scope that will be granted: the request's, or the row's defaults (§3.3).
    pub scope: ScopeSet,
    /// The PKCE `S256` challenge.
    pub code_challenge: CodeChallenge,
}

/// The client id of an authorization request; a missing or malformed one is a page error.
pub fn client_id(params: &FormParams) -> Result<ClientId, AuthorizeError> {
    let id = params.get("client_id").ok_or(AuthorizeError::Page(
        "The request does not say which application is asking.",
    ))?;
    ClientId::parse(id).map_err(|_| AuthorizeError::Page("The request names no known application."))
}

/// Checks an authorization request of `client` (looked up by [`client_id`]; `None` when
/// unknown), whose registered redirect URIs are `registered`, in this order:
///
/// 1. the client is known and may use the grant, and `redirect_uri` is present and equal to
///    one registered (page errors, §3.1.2.4, §4.1.2.1);
/// 2. `state` is at most 1 KiB (`invalid_request`, sent back without it);
/// 3. `response_type` is `code` (`invalid_request` when missing, else
///    `unsupported_response_type`);
/// 4. PKCE: `code_challenge_method` is `S256` and `code_challenge` is one (`invalid_request`,
///    RFC 7636 §4.4.1; `plain` is refused: RFC 9700 §2.1.1);
/// 5. `scope` is well formed and within the client's row (`invalid_scope`).
pub fn check(
    params: &FormParams,
    client: Option<ClientRecord>,
    registered: &[RedirectUri],
) -> Result<AuthorizationRequest, AuthorizeError> {
    let client = client.ok_or(AuthorizeError::Page(
        "The request names no known application.",
    ))?;
    let row = *client
        .policy
        .row(GrantType::AuthorizationCode)
        .map_err(|_| AuthorizeError::Page("This application may not sign people in here."))?;
    let requested = params.get("redirect_uri").ok_or(AuthorizeError::Page(
        "The request does not say where to send you back.",
    ))?;
    let redirect_uri = registered
        .iter()
        .find(|r| r.matches(requested))
        .cloned()
        .ok_or(AuthorizeError::Page(
            "The request asks to send you back to an address this application did not register.",
        ))?;
    let fail = |state: Option<String>, code| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state,
        code,
    };
    let state = match params.get("state") {
        Some(s) if s.len() > MAX_STATE_BYTES => {
            return Err(fail(None, AuthorizeErrorCode::InvalidRequest));
        }
        other => other.map(str::to_owned),
    };
    match params.get("response_type") {
        None => return Err(fail(state, AuthorizeErrorCode::InvalidRequest)),
        Some("code") => {}
        Some(_) => return Err(fail(state, AuthorizeErrorCode::UnsupportedResponseType)),
    }
    let code_challenge = match (
        params.get("code_challenge_method"),
        params
            .get("code_challenge")
            .and_then(CodeChallenge::parse_s256),
    ) {
        (Some("S256"), Some(challenge)) => challenge,
        _ => return Err(fail(state, AuthorizeErrorCode::InvalidRequest)),
    };
    let scope = params
        .get("scope")
        .map(ScopeSet::parse)
        .transpose()
        .ok()
        .and_then(|requested| row.grant_scope(requested).ok());
    let Some(scope) = scope else {
        return Err(fail(state, AuthorizeErrorCode::InvalidScope));
    };
    Ok(AuthorizationRequest {
        client,
        row,
        redirect_uri,
        state,
        scope,
        code_challenge,
    })
}

/// Where the person's browser goes back to: `redirect_uri` with `pairs` added to its query
/// (§4.1.2: "MUST retain" the registered query), then `iss` (RFC 9207 §2).
pub fn response_location(redirect_uri: &RedirectUri, pairs: &[(&str, &str)], iss: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    query.append_pair("iss", iss);
    let uri = redirect_uri.as_str();
    let separator = match uri.find('?') {
        None => "?",
        Some(at) if at + 1 == uri.len() => "",
        Some(_) => "&",
    };
    format!("{uri}{separator}{}", query.finish())
}

/// The error response's location (§4.1.2.1): `error`, then `state` when the request had one.
pub fn error_location(
    redirect_uri: &RedirectUri,
    code: AuthorizeErrorCode,
    state: Option<&str>,
    iss: &str,
) -> String {
    let mut pairs = vec![("error", code.as_str())];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    response_location(redirect_uri, &pairs, iss)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::policy::ClientPolicy;

    const CB: &str = "http://127.0.0.1:8080/sign-in/callback";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn set(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }

    fn client(with_grant: bool) -> ClientRecord {
        let mut policy = ClientPolicy::default();
        if with_grant {
            policy.set(
                GrantPolicy::new(
                    GrantType::AuthorizationCode,
                    set("directory:read profile:write"),
                    set("directory:read profile:write"),
                )
                .unwrap(),
            );
        }
        ClientRecord {
            client_id: ClientId::parse("directory-web").unwrap(),
            secret_hash: String::new(),
            policy,
            created_at: 0,
        }
    }

    fn registered() -> Vec<RedirectUri> {
        vec![RedirectUri::parse(CB).unwrap()]
    }

    fn query(extra: &str) -> String {
        format!(
            "response_type=code&client_id=directory-web&redirect_uri={}&state=s1&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
            form_urlencoded::byte_serialize(CB.as_bytes()).collect::<String>()
        )
    }

    fn run(q: &str, with_grant: bool) -> Result<AuthorizationRequest, AuthorizeError> {
        let params = FormParams::parse(q.as_bytes()).unwrap();
        check(&params, Some(client(with_grant)), &registered())
    }

    fn redirected(q: &str) -> (AuthorizeErrorCode, Option<String>) {
        match run(q, true) {
            Err(AuthorizeError::Redirect { code, state, .. }) => (code, state),
            other => panic!("not redirected: {other:?}"),
        }
    }

    #[test]
    fn a_good_request_gets_the_rows_defaults_or_what_it_asks_within_them() {
        let ok = run(&query(""), true).unwrap();
        assert_eq!(ok.scope, set("directory:read profile:write"));
        assert_eq!(ok.state.as_deref(), Some("s1"));
        assert_eq!(ok.redirect_uri.as_str(), CB);
        let narrow = run(&query("&scope=directory:read"), true).unwrap();
        assert_eq!(narrow.scope, set("directory:read"));
    }

    #[test]
    fn unknown_clients_clients_without_the_grant_and_bad_redirect_uris_get_a_page() {
        let params = FormParams::parse(query("").as_bytes()).unwrap();
        assert!(matches!(
            check(&params, None, &registered()),
            Err(AuthorizeError::Page(_))
        ));
        assert!(matches!(
            run(&query(""), false),
            Err(AuthorizeError::Page(_))
        ));
        for bad in [
            "http://127.0.0.1:8080/sign-in/callback/../x",
            "http://127.0.0.1:8080/sign-in/callback?x=1",
            "http://evil.example/sign-in/callback",
            "http://127.0.0.1:9999/sign-in/callback",
        ] {
            let q = query("").replace(
                &form_urlencoded::byte_serialize(CB.as_bytes()).collect::<String>(),
                &form_urlencoded::byte_serialize(bad.as_bytes()).collect::<String>(),
            );
            assert!(
                matches!(run(&q, true), Err(AuthorizeError::Page(_))),
                "{bad}"
            );
        }
        let missing = query("").replace("redirect_uri=", "other=");
        assert!(matches!(run(&missing, true), Err(AuthorizeError::Page(_))));
        // Even a bad response_type is not redirected while the redirect URI is unknown.
        let both = missing.replace("response_type=code", "response_type=token");
        assert!(matches!(run(&both, true), Err(AuthorizeError::Page(_))));
    }

    #[test]
    fn once_the_redirect_uri_is_good_errors_go_back_with_state() {
        use AuthorizeErrorCode::*;
        let s = Some("s1".to_owned());
        assert_eq!(
            redirected(&query("").replace("response_type=code", "response_type=token")),
            (UnsupportedResponseType, s.clone())
        );
        assert_eq!(
            redirected(&query("").replace("response_type=code&", "")),
            (InvalidRequest, s.clone())
        );
        assert_eq!(
            redirected(&query("").replace("&code_challenge_method=S256", "")),
            (InvalidRequest, s.clone())
        );
        assert_eq!(
            redirected(
                &query("").replace("code_challenge_method=S256", "code_challenge_method=plain")
            ),
            (InvalidRequest, s.clone())
        );
        assert_eq!(
            redirected(&query("").replace(CHALLENGE, "short")),
            (InvalidRequest, s.clone())
        );
        assert_eq!(
            redirected(&query("&scope=directory:admin")),
            (InvalidScope, s.clone())
        );
        assert_eq!(redirected(&query("&scope=a%20%20b")), (InvalidScope, s));
        let long_state = query("").replace("state=s1", &format!("state={}", "x".repeat(1025)));
        assert_eq!(redirected(&long_state), (InvalidRequest, None));
    }

    #[test]
    fn the_response_keeps_the_registered_query_and_adds_iss() {
        let plain = RedirectUri::parse(CB).unwrap();
        assert_eq!(
            response_location(
                &plain,
                &[("code", "c 1"), ("state", "a&b")],
                "http://127.0.0.1:8082"
            ),
            format!("{CB}?code=c+1&state=a%26b&iss=http%3A%2F%2F127.0.0.1%3A8082")
        );
        let with_query = RedirectUri::parse("https://app.example/cb?tenant=1").unwrap();
        assert_eq!(
            error_location(
                &with_query,
                AuthorizeErrorCode::AccessDenied,
                None,
                "https://as"
            ),
            "https://app.example/cb?tenant=1&error=access_denied&iss=https%3A%2F%2Fas"
        );
    }
}

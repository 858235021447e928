//! What `/try-it` shows of an attack: the exact request, its token decoded (header and claims,
//! never the token itself), and the API's exact answer; and whether the answer is the refusal
//! expected, told by its status, the `error` of its `WWW-Authenticate` challenge and its
//! problem's `code`, never by its human-readable text.

use crate::api_client::RawAnswer;
use crate::claims::decode_part;

use super::Expected;

/// A token as the page shows it: its header and claims decoded, its signature described.
/// Decoded here for teaching only; nothing is decided from it.
#[derive(Debug, Clone)]
pub struct ShownToken {
    /// The header, as indented JSON.
    pub header: String,
    /// The claims, as indented JSON.
    pub claims: String,
    /// The signature, described (its length), never shown.
    pub signature: String,
}

/// One JWT part as indented JSON, or a note when it is not a JSON object.
fn pretty(part: Option<&str>) -> String {
    part.and_then(decode_part)
        .and_then(|object| serde_json::to_string_pretty(&object).ok())
        .unwrap_or_else(|| "(not a JSON object)".to_owned())
}

/// `token` decoded for display.
pub fn shown_token(token: &str) -> ShownToken {
    let mut parts = token.split('.');
    let (header, claims, signature) = (parts.next(), parts.next(), parts.next());
    let signature = match signature.map(|s| s.len() * 3 / 4) {
        None | Some(0) => "none: the token ends with its claims and a dot".to_owned(),
        Some(bytes) => format!("{bytes} bytes, not shown"),
    };
    ShownToken {
        header: pretty(header),
        claims: pretty(claims),
        signature,
    }
}

/// The request an attack sent, as the page shows it.
#[derive(Debug, Clone)]
pub struct ShownRequest {
    /// The request line, `PATCH /staff/1 HTTP/1.1`.
    pub line: String,
    /// Its headers, `name: value`, the bearer token standing for the decoded one below.
    pub headers: Vec<String>,
    /// The token it carried, decoded.
    pub token: ShownToken,
    /// Its JSON body, indented.
    pub body: String,
}

/// The request `method path` with `token` as bearer, `if_match` when given, and `body`.
pub fn shown_request(
    method: &str,
    path: &str,
    token: &str,
    if_match: Option<&str>,
    body: &serde_json::Value,
) -> ShownRequest {
    let mut headers = vec![
        "Authorization: Bearer ‹the token below, shown decoded: never the raw string›".to_owned(),
    ];
    if let Some(tag) = if_match {
        headers.push(format!("If-Match: {tag}"));
    }
    headers.push("Content-Type: application/json".to_owned());
    ShownRequest {
        line: format!("{method} {path} HTTP/1.1"),
        headers,
        token: shown_token(token),
        body: serde_json::to_string_pretty(body).unwrap_or_default(),
    }
}

/// The `error` parameter of a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3), if any.
pub fn challenge_error(challenge: &str) -> Option<&str> {
    let mut rest = challenge;
    while let Some(at) = rest.find("error=\"") {
        let before = rest[..at].chars().next_back();
        let value = &rest[at + "error=\"".len()..];
        if matches!(before, Some(' ' | ',')) {
            return value.split('"').next();
        }
        rest = value;
    }
    None
}

/// The `code` of an RFC 9457 problem document (this API's stable code), if the body is one.
pub fn problem_code(body: &str) -> Option<String> {
    let problem: serde_json::Value = serde_json::from_str(body).ok()?;
    problem["code"].as_str().map(str::to_owned)
}

/// The API's answer, as the page shows it.
#[derive(Debug, Clone)]
pub struct ShownAnswer {
    /// The status line, `HTTP/1.1 403 Forbidden`.
    pub line: String,
    /// Its `WWW-Authenticate` and `Content-Type` headers, `name: value`.
    pub headers: Vec<String>,
    /// Its body, as received (cut short past the size the site reads).
    pub body: String,
    /// The status.
    pub status: u16,
    /// The challenge's `error`, or else the problem's `code`, if any.
    pub code: Option<String>,
    /// Whether it is the refusal expected.
    pub as_expected: bool,
}

/// `answer` shown, and judged against `expected`: the status must match, and the code must be
/// the challenge's `error` or the problem's `code`.
pub fn shown_answer(answer: &RawAnswer, expected: Expected) -> ShownAnswer {
    let challenge = answer
        .www_authenticate
        .as_deref()
        .and_then(challenge_error)
        .map(str::to_owned);
    let problem = problem_code(&answer.body);
    let as_expected = answer.status == expected.status
        && [&challenge, &problem]
            .into_iter()
            .any(|code| code.as_deref() == Some(expected.code));
    let mut headers = Vec::new();
    if let Some(challenge) = &answer.www_authenticate {
        headers.push(format!("WWW-Authenticate: {challenge}"));
    }
    if let Some(content_type) = &answer.content_type {
        headers.push(format!("Content-Type: {content_type}"));
    }
    let mut body = answer.body.clone();
    if answer.truncated {
        body.push_str("… (cut short)");
    }
    ShownAnswer {
        line: format!("HTTP/1.1 {} {}", answer.status, answer.reason),
        headers,
        body,
        status: answer.status,
        code: challenge.or(problem),
        as_expected,
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    const SECRET_LOOKING: &str =
        "c2lnbmF0dXJlLWJ5dGVzLXRoYXQtbXVzdC1uZXZlci1iZS1zaG93bi1hbnl3aGVyZQ";

    fn token() -> String {
        format!(
            "{}.{}.{SECRET_LOOKING}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA","typ":"at+jwt","kid":"k1"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"sub":"ajohnson","scope":"directory:read profile:write"}"#),
        )
    }

    #[test]
    fn a_request_shows_its_token_decoded_and_never_raw() {
        let token = token();
        let shown = shown_request(
            "PATCH",
            "/staff/1",
            &token,
            Some("\"v3\""),
            &serde_json::json!({"bio": "x"}),
        );
        let everything = format!(
            "{} {:?} {} {} {} {}",
            shown.line,
            shown.headers,
            shown.token.header,
            shown.token.claims,
            shown.token.signature,
            shown.body
        );
        for part in token.split('.') {
            assert!(!everything.contains(part), "a raw part is shown: {part}");
        }
        assert_eq!(shown.line, "PATCH /staff/1 HTTP/1.1");
        assert!(shown.headers.contains(&"If-Match: \"v3\"".to_owned()));
        assert!(shown.token.claims.contains("\"sub\": \"ajohnson\""));
        assert!(shown.token.header.contains("\"kid\": \"k1\""));
        assert_eq!(shown.token.signature, "49 bytes, not shown");
        assert!(shown_token("a.b.").signature.starts_with("none"));
        assert_eq!(shown_token("junk").claims, "(not a JSON object)");
    }

    #[test]
    fn the_challenge_error_is_its_own_parameter_not_a_lookalike() {
        let scope =
            r#"Bearer realm="staff-directory", error="insufficient_scope", scope="profile:write""#;
        assert_eq!(challenge_error(scope), Some("insufficient_scope"));
        let described = r#"Bearer realm="x", error_description="an error=\"fake\" inside", error="invalid_token""#;
        assert_eq!(challenge_error(described), Some("invalid_token"));
        assert_eq!(challenge_error(r#"Bearer realm="staff-directory""#), None);
        assert_eq!(challenge_error(r#"Bearer xerror="no""#), None);
    }

    fn answer(status: u16, challenge: Option<&str>, body: &str) -> RawAnswer {
        RawAnswer {
            status,
            reason: "Forbidden".into(),
            www_authenticate: challenge.map(str::to_owned),
            content_type: Some("application/problem+json".into()),
            body: body.into(),
            truncated: false,
        }
    }

    #[test]
    fn an_answer_is_as_expected_only_with_the_right_status_and_code() {
        let expected = Expected {
            status: 403,
            code: "not_owner",
        };
        let owner = answer(
            403,
            None,
            r#"{"code":"not_owner","detail":"insufficient_scope"}"#,
        );
        let shown = shown_answer(&owner, expected);
        assert!(shown.as_expected);
        assert_eq!(shown.code.as_deref(), Some("not_owner"));
        assert_eq!(shown.line, "HTTP/1.1 403 Forbidden");
        // The human-readable detail is never read as the code.
        let by_detail = answer(403, None, r#"{"code":"other","detail":"not_owner"}"#);
        assert!(!shown_answer(&by_detail, expected).as_expected);
        let wrong_status = answer(401, None, r#"{"code":"not_owner"}"#);
        assert!(!shown_answer(&wrong_status, expected).as_expected);
        let scope = answer(
            403,
            Some(
                r#"Bearer realm="staff-directory", error="insufficient_scope", scope="profile:write""#,
            ),
            "not json",
        );
        let shown = shown_answer(
            &scope,
            Expected {
                status: 403,
                code: "insufficient_scope",
            },
        );
        assert!(shown.as_expected);
        assert!(shown.headers[0].starts_with("WWW-Authenticate: Bearer"));
    }
}

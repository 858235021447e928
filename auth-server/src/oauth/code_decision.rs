//! Whether a presented authorization code may be redeemed (RFC 6749 §4.1.3, RFC 7636 §4.6):
//! a pure decision, given the stored code and `now`, so that every refusal is unit-tested
//! without a clock or a database.

use super::pkce::CodeVerifier;
use crate::store::codes::CodeRecord;

/// What to do with a presented code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeDecision {
    /// Every binding holds: redeem it (atomically, see `store::codes`).
    Redeem,
    /// `invalid_grant`, and nothing else happens; the reason is for the log only.
    Refuse(&'static str),
    /// The code was redeemed before: `invalid_grant`, and what the first redemption issued is
    /// revoked (RFC 6749 §4.1.2: "If an authorization code is used more than once, the
    /// authorization server MUST deny the request and SHOULD revoke (when possible) all
    /// tokens previously issued based on that authorization code").
    Replay,
}

/// Decides, in this order: the code must have been issued to the authenticated client
/// (§4.1.3; another client's presentation changes nothing, so a leaked code cannot be used to
/// revoke its owner's sign-in); used before is a replay; then it must be unexpired, the
/// `redirect_uri` must be identical to the authorization request's (§4.1.3), and the verifier
/// must match the `S256` challenge (RFC 7636 §4.6).
pub fn decide(
    code: &CodeRecord,
    client_id: &str,
    redirect_uri: &str,
    verifier: &CodeVerifier,
    now: i64,
) -> CodeDecision {
    if code.client_id != client_id {
        CodeDecision::Refuse("issued to another client")
    } else if code.used_at.is_some() {
        CodeDecision::Replay
    } else if now >= code.expires_at {
        CodeDecision::Refuse("expired")
    } else if code.redirect_uri != redirect_uri {
        CodeDecision::Refuse("another redirect_uri")
    } else if !code.code_challenge.is_met_by(verifier) {
        CodeDecision::Refuse("the code_verifier does not match the code_challenge")
    } else {
        CodeDecision::Redeem
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::pkce::CodeChallenge;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const CB: &str = "http://127.0.0.1:8080/sign-in/callback";

    fn code() -> CodeRecord {
        CodeRecord {
            client_id: "directory-web".into(),
            redirect_uri: CB.into(),
            code_challenge: CodeChallenge::stored(CHALLENGE.into()),
            username: "ajohnson".into(),
            scope: "directory:read profile:write".into(),
            expires_at: 1060,
            used_at: None,
            family_id: None,
            access: None,
        }
    }

    fn verifier(s: &str) -> CodeVerifier {
        CodeVerifier::parse(s).unwrap()
    }

    #[test]
    fn a_fresh_code_with_every_binding_is_redeemed_until_it_expires() {
        let v = verifier(VERIFIER);
        assert_eq!(
            decide(&code(), "directory-web", CB, &v, 1000),
            CodeDecision::Redeem
        );
        assert_eq!(
            decide(&code(), "directory-web", CB, &v, 1059),
            CodeDecision::Redeem
        );
        assert_eq!(
            decide(&code(), "directory-web", CB, &v, 1060),
            CodeDecision::Refuse("expired")
        );
    }

    #[test]
    fn each_binding_is_checked() {
        let v = verifier(VERIFIER);
        assert!(matches!(
            decide(&code(), "hr-sync", CB, &v, 1000),
            CodeDecision::Refuse(_)
        ));
        assert!(matches!(
            decide(&code(), "directory-web", &format!("{CB}?x=1"), &v, 1000),
            CodeDecision::Refuse(_)
        ));
        let wrong = verifier(&"a".repeat(43));
        assert!(matches!(
            decide(&code(), "directory-web", CB, &wrong, 1000),
            CodeDecision::Refuse(_)
        ));
    }

    #[test]
    fn a_second_use_by_its_client_is_a_replay_even_when_expired_but_another_clients_is_not() {
        let used = CodeRecord {
            used_at: Some(1001),
            ..code()
        };
        let v = verifier(VERIFIER);
        assert_eq!(
            decide(&used, "directory-web", CB, &v, 1002),
            CodeDecision::Replay
        );
        assert_eq!(
            decide(
                &used,
                "directory-web",
                "x",
                &verifier(&"b".repeat(50)),
                2000
            ),
            CodeDecision::Replay
        );
        assert_eq!(
            decide(&used, "hr-sync", CB, &v, 1002),
            CodeDecision::Refuse("issued to another client")
        );
    }
}

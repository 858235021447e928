//! Proof Key for Code Exchange (RFC 7636), `S256` only: the challenge a client sends to the
//! authorization endpoint and the verifier it later proves it holds at the token endpoint.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Whether `s` is 43 to 128 characters of the unreserved set
/// `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"` (RFC 7636 §4.1 `code-verifier`, and the
/// same grammar for a challenge, §4.2).
fn is_unreserved_43_to_128(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An `S256` code challenge: BASE64URL(SHA256(verifier)) without padding, so exactly 43
/// characters of the base64url alphabet (RFC 7636 §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// The challenge as sent, when it can be an `S256` one; `None` otherwise.
    pub fn parse_s256(s: &str) -> Option<Self> {
        (s.len() == 43
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')))
        .then(|| Self(s.to_owned()))
    }

    /// A challenge as stored with a code (checked when it was stored).
    pub fn stored(s: String) -> Self {
        Self(s)
    }

    /// The challenge text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `verifier` is the one this challenge was made from (RFC 7636 §4.6), compared
    /// in constant time.
    pub fn is_met_by(&self, verifier: &CodeVerifier) -> bool {
        let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.0.as_bytes()));
        bool::from(computed.as_bytes().ct_eq(self.0.as_bytes()))
    }
}

/// A `code_verifier` of the token request (RFC 7636 §4.1, §4.5).
pub struct CodeVerifier(String);

/// Never shows the verifier.
impl std::fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeVerifier([REDACTED])")
    }
}

impl CodeVerifier {
    /// The verifier as sent, when it follows the grammar of RFC 7636 §4.1.
    pub fn parse(s: &str) -> Option<Self> {
        is_unreserved_43_to_128(s).then(|| Self(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_verifies_and_nothing_else_does() {
        let challenge = CodeChallenge::parse_s256(CHALLENGE).unwrap();
        assert!(challenge.is_met_by(&CodeVerifier::parse(VERIFIER).unwrap()));
        let other = format!("{}A", &VERIFIER[..42]);
        assert!(!challenge.is_met_by(&CodeVerifier::parse(&other).unwrap()));
        // `plain` would send the verifier itself as the challenge: it never verifies.
        let plain = CodeChallenge::parse_s256(VERIFIER).unwrap();
        assert!(!plain.is_met_by(&CodeVerifier::parse(VERIFIER).unwrap()));
    }

    #[test]
    fn grammar_of_verifiers_and_challenges() {
        assert!(CodeVerifier::parse(&"a".repeat(42)).is_none());
        assert!(CodeVerifier::parse(&"a".repeat(43)).is_some());
        assert!(CodeVerifier::parse(&"~._-".repeat(32)).is_some());
        assert!(CodeVerifier::parse(&"a".repeat(129)).is_none());
        assert!(CodeVerifier::parse(&format!("{}+", "a".repeat(43))).is_none());
        assert!(CodeChallenge::parse_s256(&"a".repeat(44)).is_none());
        assert!(CodeChallenge::parse_s256(&format!("{}=", "a".repeat(42))).is_none());
        assert!(CodeChallenge::parse_s256(&format!("{}~", "a".repeat(42))).is_none());
    }

    #[test]
    fn debug_hides_the_verifier() {
        let shown = format!("{:?}", CodeVerifier::parse(VERIFIER).unwrap());
        assert!(!shown.contains(VERIFIER));
    }
}

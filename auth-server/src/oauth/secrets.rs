//! Generated secrets and opaque tokens: randomness, hashing at rest, constant-time checks.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use rand::rngs::OsRng;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// 32 random bytes from the operating system's CSPRNG, base64url without padding
/// (43 characters, 256 bits): client secrets and refresh tokens. RFC 6749 §10.10 asks for a
/// guessing probability of at most 2^-160; this gives 2^-256.
pub fn random_token() -> String {
    random_b64(32)
}

/// `n` random bytes, base64url without padding.
pub fn random_b64(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a high-entropy secret, as lowercase hex. A fast hash is right here: the input
/// has 256 bits of entropy, so there is nothing for a slow hash to protect.
pub fn sha256_hex(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `presented` hashes to `stored_hex`, compared in constant time.
pub fn verify_sha256(presented: &str, stored_hex: &str) -> bool {
    let computed = sha256_hex(presented);
    bool::from(computed.as_bytes().ct_eq(stored_hex.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_vschar() {
        let t = random_token();
        assert_eq!(t.len(), 43);
        assert!(t.bytes().all(|b| (0x20..=0x7E).contains(&b)));
        assert_ne!(t, random_token());
    }

    #[test]
    fn hash_verifies_only_the_same_secret() {
        let h = sha256_hex("abc");
        assert!(verify_sha256("abc", &h));
        assert!(!verify_sha256("abd", &h));
    }
}

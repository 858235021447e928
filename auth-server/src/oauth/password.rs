//! Users' passwords: the policy for new ones, and Argon2id with OWASP's parameters, hashed and
//! verified on the calling thread. Sign-ins never call these directly: they go through the
//! hashing threads of [`super::hashing`], which call them.

use std::cell::RefCell;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::rngs::OsRng;
use subtle::ConstantTimeEq as _;

/// The longest password accepted, in bytes; longer ones are refused before any hashing
/// (the "long password denial of service" of OWASP's Authentication Cheat Sheet).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The shortest password a user may be given (ASVS 6.2.1).
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Why a new password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// More than [`MAX_PASSWORD_BYTES`] bytes.
    #[error("a password may have at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
}

/// Checks a new password against the policy: length only, no composition rules, no trimming.
pub fn check_new_password(password: &str) -> Result<(), PasswordPolicyError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Err(PasswordPolicyError::TooShort)
    } else if password.len() > MAX_PASSWORD_BYTES {
        Err(PasswordPolicyError::TooLong)
    } else {
        Ok(())
    }
}

/// Argon2id, m = 19456 KiB, t = 2, p = 1: the OWASP Password Storage Cheat Sheet minimum.
fn argon2() -> anyhow::Result<Argon2<'static>> {
    let params =
        Params::new(19_456, 2, 1, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` with a fresh salt, on the calling thread, into a PHC string.
pub fn hash_now(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2 hash: {e}"))?;
    Ok(hash.to_string())
}

thread_local! {
    /// This thread's Argon2 working memory (19 MiB), reused from one verification to the next
    /// and kept for the thread's life: allocating it afresh costs page faults and zeroing, a
    /// fifth of the work of a hash, and makes the process's memory grow (the figures are in
    /// [`super::hashing`]).
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Verifies `password` against a PHC string, on the calling thread, with the parameters the
/// string records, using this thread's reusable working memory; the outputs are compared in
/// constant time.
pub fn verify_now(password: &str, phc: &str) -> anyhow::Result<bool> {
    let unreadable = |e: &dyn std::fmt::Display| anyhow::anyhow!("stored hash unreadable: {e}");
    let parsed = PasswordHash::new(phc).map_err(|e| unreadable(&e))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        anyhow::bail!("stored hash has no salt or no output");
    };
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| unreadable(&e))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| unreadable(&e))?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|e| unreadable(&e))?;
    let mut salt_buffer = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_buffer)
        .map_err(|e| unreadable(&e))?;
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut computed = vec![0u8; expected.len()];
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut computed,
                &mut memory[..blocks],
            )
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    })?;
    Ok(bool::from(expected.as_bytes().ct_eq(&computed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_counts_characters_and_bytes() {
        assert_eq!(
            check_new_password("short"),
            Err(PasswordPolicyError::TooShort)
        );
        assert!(check_new_password("éééééééé").is_ok());
        assert_eq!(
            check_new_password(&"a".repeat(1025)),
            Err(PasswordPolicyError::TooLong)
        );
    }

    #[test]
    fn verifies_exactly_as_received_on_the_calling_thread() {
        let hash = hash_now("pw-correct").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_now("pw-correct", &hash).unwrap());
        assert!(!verify_now("pw-correct ", &hash).unwrap());
        assert!(verify_now("pw-correct", "not a phc string").is_err());
    }
}

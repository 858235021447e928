//! Users' passwords: Argon2id with OWASP's parameters, computed on the blocking pool with a
//! bound on how many run at once, so a flood of sign-ins cannot starve other requests.

use std::sync::Arc;

use anyhow::Context as _;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use secrecy::{ExposeSecret as _, SecretString};
use tokio::sync::Semaphore;

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

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2 hash: {e}"))?;
    Ok(hash.to_string())
}

fn verify_blocking(password: &str, phc: &str) -> anyhow::Result<bool> {
    let parsed =
        PasswordHash::new(phc).map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
    Ok(argon2()?
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// Hashes and verifies passwords off the async runtime, at most `concurrency` at a time.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// A hash of a random password with the same parameters, verified against when the
    /// username is unknown, so that an unknown user costs exactly one hash too.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("available_permits", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl Passwords {
    /// A hasher allowing `concurrency` hashes at once (at least one).
    pub async fn new(concurrency: usize) -> anyhow::Result<Self> {
        let dummy = super::secrets::random_token();
        let dummy_hash = tokio::task::spawn_blocking(move || hash_blocking(&dummy))
            .await
            .context("password hashing task failed")??;
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Hashes a new password (the caller has checked the policy).
    pub async fn hash(&self, password: &SecretString) -> anyhow::Result<String> {
        let password = password.clone();
        self.run(move || hash_blocking(password.expose_secret()))
            .await
    }

    /// Verifies `password` against `stored` (a PHC string), or against the dummy hash when
    /// the user is unknown, in which case the answer is always `false`.
    pub async fn verify(
        &self,
        password: &SecretString,
        stored: Option<&str>,
    ) -> anyhow::Result<bool> {
        let password = password.clone();
        let known = stored.is_some();
        let phc: Arc<str> = stored
            .map(Arc::from)
            .unwrap_or_else(|| self.dummy_hash.clone());
        let ok = self
            .run(move || verify_blocking(password.expose_secret(), &phc))
            .await?;
        Ok(ok && known)
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .context("password hasher closed")?;
        tokio::task::spawn_blocking(f)
            .await
            .context("password hashing task failed")?
    }
}

/// Raw verification with the same parameters, for benchmarks: verifies `password` against
/// `phc` on the calling thread.
pub fn verify_now(password: &str, phc: &str) -> anyhow::Result<bool> {
    verify_blocking(password, phc)
}

/// Raw hashing with the same parameters, on the calling thread.
pub fn hash_now(password: &str) -> anyhow::Result<String> {
    hash_blocking(password)
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

    #[tokio::test]
    async fn verifies_exactly_as_received() {
        let p = Passwords::new(1).await.unwrap();
        let hash = p.hash(&SecretString::from("pw-correct")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            p.verify(&SecretString::from("pw-correct"), Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !p.verify(&SecretString::from("pw-correct "), Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !p.verify(&SecretString::from("pw-correct"), None)
                .await
                .unwrap()
        );
    }
}

//! Encryption at rest of the server's own secrets (the signing keys' private halves and the
//! device-token key), with a key-encryption key read from a file (`--key-encryption-key-file`).
//!
//! Whoever reads the private signing key can mint any token, so a copy of the database (a
//! backup, a replica, a stolen disk) should not be enough. With a key-encryption key (KEK),
//! each secret is sealed with AES-256-GCM under a fresh 96-bit nonce, with the row's name
//! (the key id) as associated data, so a sealed value cannot be moved to another row. The KEK
//! lives outside the database (a mounted secret file); without it the values are stored as
//! before, in plain text. Sealed values are written `enc:v1:` + base64(nonce ‖ ciphertext).

use std::path::Path;

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore as _;

/// The prefix of a sealed value.
const PREFIX: &str = "enc:v1:";
const NONCE_BYTES: usize = 12;

/// The key-encryption key. Its bytes never reach `Debug` or a log.
#[derive(Clone)]
pub struct KeyEncryptionKey(Aes256Gcm);

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryptionKey([REDACTED])")
    }
}

impl KeyEncryptionKey {
    /// Reads a KEK file: 32 bytes written as 64 hex digits or as base64 (surrounding white
    /// space ignored).
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("cannot read the key-encryption key file {}", path.display())
        })?;
        Self::parse(text.trim())
            .with_context(|| format!("the key-encryption key file {} is unusable", path.display()))
    }

    /// Parses 32 bytes from 64 hex digits or base64.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()?
        } else {
            STANDARD
                .decode(text)
                .context("expected 64 hex digits or base64")?
        };
        anyhow::ensure!(
            bytes.len() == 32,
            "a key-encryption key is 32 bytes (got {}); make one with `openssl rand -hex 32`",
            bytes.len()
        );
        let cipher =
            Aes256Gcm::new_from_slice(&bytes).map_err(|_| anyhow::anyhow!("key length"))?;
        Ok(Self(cipher))
    }

    /// Seals `plaintext` for the row named `name`.
    pub fn seal(&self, name: &str, plaintext: &str) -> anyhow::Result<String> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .0
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: name.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(format!("{PREFIX}{}", STANDARD.encode(sealed)))
    }

    fn open_sealed(&self, name: &str, sealed: &str) -> anyhow::Result<String> {
        let bytes = STANDARD
            .decode(sealed)
            .with_context(|| format!("the sealed secret {name} is not base64"))?;
        anyhow::ensure!(
            bytes.len() > NONCE_BYTES,
            "the sealed secret {name} is truncated"
        );
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce
            .try_into()
            .map_err(|_| anyhow::anyhow!("the sealed secret {name} is truncated"))?;
        let plaintext = self
            .0
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: name.as_bytes(),
                },
            )
            .map_err(|_| {
                anyhow::anyhow!(
                    "the secret {name} cannot be decrypted with this key-encryption key (wrong key, or the value was altered)"
                )
            })?;
        String::from_utf8(plaintext).context("a decrypted secret is not text")
    }
}

/// Whether a stored value is sealed.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// Seals `plaintext` when a KEK is configured, else returns it as it is.
pub fn seal(kek: Option<&KeyEncryptionKey>, name: &str, plaintext: &str) -> anyhow::Result<String> {
    match kek {
        Some(kek) => kek.seal(name, plaintext),
        None => Ok(plaintext.to_owned()),
    }
}

/// The plain value of a stored one: opened with the KEK when sealed (an error without it);
/// a plain value is returned as it is, whether or not a KEK is configured (databases written
/// before the KEK was configured; the server seals them at start).
pub fn open(kek: Option<&KeyEncryptionKey>, name: &str, stored: &str) -> anyhow::Result<String> {
    match (stored.strip_prefix(PREFIX), kek) {
        (Some(sealed), Some(kek)) => kek.open_sealed(name, sealed),
        (Some(_), None) => anyhow::bail!(
            "the stored secret {name} is encrypted: start with --key-encryption-key-file (AUTH_KEY_ENCRYPTION_KEY_FILE) naming its key"
        ),
        (None, _) => Ok(stored.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek() -> KeyEncryptionKey {
        KeyEncryptionKey::parse(&"ab".repeat(32)).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_its_row() {
        let sealed = kek().seal("kid-1", "private").unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("private"));
        assert_eq!(open(Some(&kek()), "kid-1", &sealed).unwrap(), "private");
        assert!(open(Some(&kek()), "kid-2", &sealed).is_err());
        let other = KeyEncryptionKey::parse(&"cd".repeat(32)).unwrap();
        assert!(open(Some(&other), "kid-1", &sealed).is_err());
        let err = open(None, "kid-1", &sealed).unwrap_err().to_string();
        assert!(err.contains("--key-encryption-key-file"), "{err}");
    }

    #[test]
    fn plain_values_pass_through_and_nonces_differ() {
        assert_eq!(open(Some(&kek()), "k", "plain").unwrap(), "plain");
        assert_ne!(kek().seal("k", "x").unwrap(), kek().seal("k", "x").unwrap());
    }

    #[test]
    fn the_key_file_takes_hex_or_base64_of_32_bytes() {
        assert!(KeyEncryptionKey::parse(&STANDARD.encode([7u8; 32])).is_ok());
        assert!(KeyEncryptionKey::parse(&"ab".repeat(16)).is_err());
        assert!(KeyEncryptionKey::parse("not a key").is_err());
        assert_eq!(format!("{:?}", kek()), "KeyEncryptionKey([REDACTED])");
    }
}

//! Usernames: the stable login of a member of staff, also carried by their directory record.

use std::fmt;

/// A username: 1 to 64 characters of `a-z 0-9 . _ -`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

/// A string that cannot be a username.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a username is 1 to 64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
)]
pub struct InvalidUsername;

impl Username {
    /// Parses a username exactly as given (for admin commands).
    pub fn parse(s: &str) -> Result<Self, InvalidUsername> {
        let valid = (1..=64).contains(&s.len())
            && s.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && s.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidUsername)
        }
    }

    /// Parses what a person typed at sign-in: ASCII letters are folded to lower case, so that
    /// `AJohnson` signs in (and is throttled) as `ajohnson`.
    pub fn parse_login(s: &str) -> Result<Self, InvalidUsername> {
        Self::parse(&s.to_ascii_lowercase())
    }

    /// The username as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_logins_and_refuses_the_rest() {
        assert!(Username::parse("ajohnson").is_ok());
        assert!(Username::parse("a.b-c_1").is_ok());
        assert!(Username::parse("AJohnson").is_err());
        assert_eq!(
            Username::parse_login("AJohnson").unwrap().as_str(),
            "ajohnson"
        );
        for bad in ["", "-a", "a b", "a\r\nb", "é", &"a".repeat(65)] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }
}

//! Bearer tokens (RFC 6750) turned into principals: the scopes and kinds of token the API
//! knows, the verification of a token ([`verify`]) against the authorization server's keys
//! ([`keys`]). The extractors that let each handler name the caller it accepts are
//! `crate::extract`'s.

mod discovery;
pub mod keys;
pub mod verify;

use serde::Deserialize;

use crate::error::ApiError;

/// A scope of the directory API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Read the public directory.
    DirectoryRead,
    /// Change one's own staff-editable fields.
    ProfileWrite,
    /// Create, change and retire any record.
    DirectoryAdmin,
}

impl Scope {
    /// The wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DirectoryRead => "directory:read",
            Self::ProfileWrite => "profile:write",
            Self::DirectoryAdmin => "directory:admin",
        }
    }
}

/// The scopes of a token. Scopes this API does not know are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScopeSet {
    read: bool,
    write: bool,
    admin: bool,
}

impl ScopeSet {
    /// Parses a space-delimited `scope` claim; `None` if it breaks RFC 6749 §3.3's grammar.
    pub fn parse(s: &str) -> Option<Self> {
        let mut set = Self::default();
        for token in s.split(' ') {
            let well_formed = !token.is_empty()
                && token
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
            if !well_formed {
                return None;
            }
            match token {
                "directory:read" => set.read = true,
                "profile:write" => set.write = true,
                "directory:admin" => set.admin = true,
                _ => {}
            }
        }
        Some(set)
    }

    /// Whether the set holds `scope`.
    pub fn contains(self, scope: Scope) -> bool {
        match scope {
            Scope::DirectoryRead => self.read,
            Scope::ProfileWrite => self.write,
            Scope::DirectoryAdmin => self.admin,
        }
    }
}

/// Whose token it is, as the authorization server stated it (never guessed from `sub`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// A client acting for itself.
    Client,
    /// A member of staff.
    User,
}

impl TokenKind {
    /// `client` or `user`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::User => "user",
        }
    }
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Client or user.
    pub kind: TokenKind,
    /// The username (user tokens) or the client id (client tokens).
    pub subject: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Its scopes.
    pub scopes: ScopeSet,
}

impl Principal {
    /// `Ok` if the token holds `scope`, else 403 `insufficient_scope` naming it.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(ApiError::InsufficientScope(scope.as_str()))
        }
    }
}

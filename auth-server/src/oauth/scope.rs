//! Scopes of the directory API and sets of them (RFC 6749 §3.3).

use std::fmt;

use super::error::OAuthError;

/// A scope the directory API understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read the public directory.
    DirectoryRead,
    /// Change the staff-editable fields of one's own record (resource-owner grants only).
    ProfileWrite,
    /// Create, update and retire any record (client_credentials only).
    DirectoryAdmin,
}

impl Scope {
    /// Every scope, in canonical order.
    pub const ALL: [Scope; 3] = [
        Scope::DirectoryRead,
        Scope::ProfileWrite,
        Scope::DirectoryAdmin,
    ];

    /// The scope-token as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DirectoryRead => "directory:read",
            Self::ProfileWrite => "profile:write",
            Self::DirectoryAdmin => "directory:admin",
        }
    }

    /// The scope named by `token`, if it is one of ours (scope-tokens are case-sensitive).
    pub fn from_token(token: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == token)
    }

    fn bit(self) -> u8 {
        match self {
            Self::DirectoryRead => 1,
            Self::ProfileWrite => 2,
            Self::DirectoryAdmin => 4,
        }
    }
}

/// A set of scopes; `Display` is the space-delimited wire form in canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ScopeSet(u8);

/// Why a scope string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// The string breaks the `scope-token` grammar of RFC 6749 §3.3.
    #[error("the scope is malformed")]
    Malformed,
    /// A well-formed token that names no scope of this server.
    #[error("the scope names an unknown scope")]
    Unknown,
}

impl From<ScopeError> for OAuthError {
    fn from(e: ScopeError) -> Self {
        match e {
            ScopeError::Malformed => OAuthError::invalid_scope("the scope parameter is malformed"),
            ScopeError::Unknown => OAuthError::invalid_scope("the scope names an unknown scope"),
        }
    }
}

impl ScopeSet {
    /// The empty set.
    pub const EMPTY: ScopeSet = ScopeSet(0);

    /// Parses a space-delimited scope string (RFC 6749 §3.3).
    ///
    /// `scope = scope-token *( SP scope-token )`, `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`:
    /// exactly one space between tokens, none leading or trailing.
    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        let well_formed = |token: &str| {
            !token.is_empty()
                && token
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
        };
        // The whole string is checked against the grammar before any token is looked up, so
        // a malformed string is always reported as malformed.
        if !s.split(' ').all(well_formed) {
            return Err(ScopeError::Malformed);
        }
        s.split(' ')
            .map(|token| Scope::from_token(token).ok_or(ScopeError::Unknown))
            .collect()
    }

    /// This set with `scope` added.
    pub fn with(self, scope: Scope) -> Self {
        ScopeSet(self.0 | scope.bit())
    }

    /// Whether `scope` is in the set.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether every scope of `self` is in `other`.
    pub fn is_subset_of(self, other: ScopeSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The scopes of the set, in canonical order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        iter.into_iter().fold(ScopeSet::EMPTY, ScopeSet::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_in_canonical_order() {
        let set = ScopeSet::parse("profile:write directory:read").unwrap();
        assert_eq!(set.to_string(), "directory:read profile:write");
    }

    #[test]
    fn refuses_bad_grammar_and_unknown_scopes() {
        for bad in [
            "",
            " directory:read",
            "directory:read ",
            "a  b",
            "a\"b",
            "a\\b",
            "é",
            "a\tb",
        ] {
            assert_eq!(ScopeSet::parse(bad), Err(ScopeError::Malformed), "{bad:?}");
        }
        assert_eq!(ScopeSet::parse("admin"), Err(ScopeError::Unknown));
        assert_eq!(ScopeSet::parse("Directory:Read"), Err(ScopeError::Unknown));
    }

    #[test]
    fn subset() {
        let read = ScopeSet::parse("directory:read").unwrap();
        let both = ScopeSet::parse("directory:read profile:write").unwrap();
        assert!(read.is_subset_of(both));
        assert!(!both.is_subset_of(read));
        assert!(ScopeSet::EMPTY.is_subset_of(read));
    }
}

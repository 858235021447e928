//! Scope policy as data: which scopes each client may obtain with each grant it may use.

use std::fmt;
use std::str::FromStr;

use super::error::{ErrorCode, OAuthError};
use super::scope::{Scope, ScopeSet};

/// A grant type of the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantType {
    /// RFC 6749 §4.4: the client acting for itself.
    ClientCredentials,
    /// RFC 6749 §4.3: resource-owner password credentials (a first-party client only).
    Password,
    /// RFC 6749 §6: renewing a resource owner's access token.
    RefreshToken,
    /// RFC 6749 §4.1 with PKCE (RFC 7636): the person signs in on this server's own page and
    /// the client exchanges the code it gets back.
    AuthorizationCode,
}

impl GrantType {
    /// The grant types this server supports, as listed in its metadata.
    pub const ALL: [GrantType; 4] = [
        GrantType::AuthorizationCode,
        GrantType::ClientCredentials,
        GrantType::Password,
        GrantType::RefreshToken,
    ];

    /// The `grant_type` value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
            Self::RefreshToken => "refresh_token",
            Self::AuthorizationCode => "authorization_code",
        }
    }

    /// Whether tokens of this grant act for a resource owner (a person).
    pub fn has_resource_owner(self) -> bool {
        !matches!(self, Self::ClientCredentials)
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GrantType {
    type Err = OAuthError;

    fn from_str(s: &str) -> Result<Self, OAuthError> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                "the grant_type is not supported by this server",
            ))
    }
}

/// Why a policy row cannot exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A row must allow at least one scope.
    #[error("a grant must allow at least one scope")]
    Empty,
    /// The defaults must be allowed scopes.
    #[error("the default scopes must be a subset of the allowed scopes")]
    DefaultNotAllowed,
    /// `profile:write` needs a resource owner; `directory:admin` must never reach a person's token.
    #[error("scope {scope} cannot be issued with the {grant} grant")]
    ScopeForbiddenForGrant {
        /// The offending scope.
        scope: &'static str,
        /// The grant it was given to.
        grant: &'static str,
    },
    /// Refresh tokens inherit the row of the grant that signed the person in; they have no
    /// row of their own.
    #[error("the refresh_token grant follows the sign-in grant's row and has none of its own")]
    RefreshHasNoRow,
}

/// Whether `scope` may ever be issued through `grant`, whatever a client's row says.
///
/// `profile:write` acts on the caller's own record, so it needs a resource owner;
/// `directory:admin` is for machine jobs only and never reaches a person's token.
pub fn scope_permitted_for_grant(scope: Scope, grant: GrantType) -> bool {
    match scope {
        Scope::DirectoryRead => true,
        Scope::ProfileWrite => grant.has_resource_owner(),
        Scope::DirectoryAdmin => grant == GrantType::ClientCredentials,
    }
}

/// One row of the policy: the scopes a client may get with one grant, and its defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantPolicy {
    grant: GrantType,
    allowed: ScopeSet,
    default: ScopeSet,
}

impl GrantPolicy {
    /// A row, refused when it breaks the rules of [`scope_permitted_for_grant`].
    pub fn new(
        grant: GrantType,
        allowed: ScopeSet,
        default: ScopeSet,
    ) -> Result<Self, PolicyError> {
        if grant == GrantType::RefreshToken {
            return Err(PolicyError::RefreshHasNoRow);
        }
        if allowed.is_empty() || default.is_empty() {
            return Err(PolicyError::Empty);
        }
        if !default.is_subset_of(allowed) {
            return Err(PolicyError::DefaultNotAllowed);
        }
        if let Some(scope) = allowed
            .iter()
            .find(|s| !scope_permitted_for_grant(*s, grant))
        {
            return Err(PolicyError::ScopeForbiddenForGrant {
                scope: scope.as_str(),
                grant: grant.as_str(),
            });
        }
        Ok(Self {
            grant,
            allowed,
            default,
        })
    }

    /// The grant of this row.
    pub fn grant(&self) -> GrantType {
        self.grant
    }

    /// The scopes the client may ask for.
    pub fn allowed(&self) -> ScopeSet {
        self.allowed
    }

    /// The scopes granted when the request names none.
    pub fn default_scopes(&self) -> ScopeSet {
        self.default
    }

    /// The scope to grant for a request (RFC 6749 §3.3): the defaults when none was asked
    /// for, the request itself when it is within the row, `invalid_scope` otherwise.
    pub fn grant_scope(&self, requested: Option<ScopeSet>) -> Result<ScopeSet, OAuthError> {
        match requested {
            None => Ok(self.default),
            Some(req) if req.is_subset_of(self.allowed) => Ok(req),
            Some(_) => Err(OAuthError::invalid_scope(
                "the requested scope exceeds what this client may obtain with this grant",
            )),
        }
    }
}

/// Every row of one client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientPolicy {
    /// The `client_credentials` row, if the client may use that grant.
    pub client_credentials: Option<GrantPolicy>,
    /// The `password` row, if the client may sign users in (and then refresh their tokens).
    pub password: Option<GrantPolicy>,
    /// The `authorization_code` row, if the client may send people to this server's sign-in
    /// page (and then refresh their tokens).
    pub authorization_code: Option<GrantPolicy>,
}

impl ClientPolicy {
    /// Adds a row, replacing any for the same grant.
    pub fn set(&mut self, row: GrantPolicy) {
        match row.grant {
            GrantType::ClientCredentials => self.client_credentials = Some(row),
            GrantType::Password | GrantType::RefreshToken => self.password = Some(row),
            GrantType::AuthorizationCode => self.authorization_code = Some(row),
        }
    }

    /// The row that governs `grant`. Refresh tokens are only ever issued with a person's
    /// sign-in, so refresh follows the password row, or the authorization_code row for a
    /// client without a password row; a refresh never widens the family's own scope either
    /// (`grants::refresh_token`). `unauthorized_client` when there is none.
    pub fn row(&self, grant: GrantType) -> Result<&GrantPolicy, OAuthError> {
        let row = match grant {
            GrantType::ClientCredentials => self.client_credentials.as_ref(),
            GrantType::Password => self.password.as_ref(),
            GrantType::AuthorizationCode => self.authorization_code.as_ref(),
            GrantType::RefreshToken => self.password.as_ref().or(self.authorization_code.as_ref()),
        };
        row.ok_or(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client is not allowed to use this grant type",
        ))
    }

    /// The rows, for listing.
    pub fn rows(&self) -> impl Iterator<Item = &GrantPolicy> {
        self.client_credentials
            .iter()
            .chain(self.password.iter())
            .chain(self.authorization_code.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }

    #[test]
    fn profile_write_needs_a_resource_owner_and_admin_needs_a_machine() {
        assert!(matches!(
            GrantPolicy::new(
                GrantType::ClientCredentials,
                set("profile:write"),
                set("profile:write")
            ),
            Err(PolicyError::ScopeForbiddenForGrant { .. })
        ));
        assert!(matches!(
            GrantPolicy::new(
                GrantType::Password,
                set("directory:admin"),
                set("directory:admin")
            ),
            Err(PolicyError::ScopeForbiddenForGrant { .. })
        ));
        assert!(
            GrantPolicy::new(
                GrantType::Password,
                set("directory:read profile:write"),
                set("directory:read")
            )
            .is_ok()
        );
    }

    #[test]
    fn defaults_apply_when_no_scope_is_requested() {
        let row = GrantPolicy::new(
            GrantType::ClientCredentials,
            set("directory:read directory:admin"),
            set("directory:read"),
        )
        .unwrap();
        assert_eq!(row.grant_scope(None).unwrap(), set("directory:read"));
        assert_eq!(
            row.grant_scope(Some(set("directory:admin"))).unwrap(),
            set("directory:admin")
        );
        assert_eq!(
            row.grant_scope(Some(set("profile:write")))
                .unwrap_err()
                .code,
            ErrorCode::InvalidScope
        );
    }

    #[test]
    fn the_authorization_code_row_follows_the_same_two_rules_and_governs_refresh_without_a_password_row()
     {
        assert!(matches!(
            GrantPolicy::new(
                GrantType::AuthorizationCode,
                set("directory:read directory:admin"),
                set("directory:read")
            ),
            Err(PolicyError::ScopeForbiddenForGrant { .. })
        ));
        let row = GrantPolicy::new(
            GrantType::AuthorizationCode,
            set("directory:read profile:write"),
            set("directory:read profile:write"),
        )
        .unwrap();
        let mut policy = ClientPolicy::default();
        policy.set(row);
        assert_eq!(policy.row(GrantType::RefreshToken).unwrap(), &row);
        assert_eq!(
            policy.row(GrantType::Password).unwrap_err().code,
            ErrorCode::UnauthorizedClient
        );
        assert_eq!(policy.rows().count(), 1);
    }

    #[test]
    fn a_missing_row_is_unauthorized_client() {
        let policy = ClientPolicy::default();
        assert_eq!(
            policy.row(GrantType::Password).unwrap_err().code,
            ErrorCode::UnauthorizedClient
        );
    }
}

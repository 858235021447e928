//! A database URL, which may hold a password: a secret type that shows the password nowhere
//! (`Debug` and `Display` redact it) and gives the URL itself only to whoever connects.

use secrecy::{ExposeSecret as _, SecretString};

/// The database URL to use: the contents of `file` (surrounding whitespace ignored) when one
/// is given, so that a URL holding a password can come from a mounted secret; else `url`.
pub fn url_from(url: &DatabaseUrl, file: Option<&std::path::Path>) -> anyhow::Result<DatabaseUrl> {
    let Some(path) = file else {
        return Ok(url.clone());
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!("cannot read the database URL file {}: {e}", path.display())
    })?;
    let value = text.trim();
    anyhow::ensure!(
        !value.is_empty(),
        "the database URL file {} is empty",
        path.display()
    );
    Ok(DatabaseUrl::from(value))
}

/// A database URL, which may hold a password (`postgres://user:password@host/db`): shown by
/// `Debug` and `Display` with the password replaced, so settings can be logged.
///
/// The URL is held as a [`SecretString`] (wiped from memory when dropped) and has no `Deref` to
/// `str`: code that needs the text asks for it by name, [`DatabaseUrl::expose_secret`].
#[derive(Clone)]
pub struct DatabaseUrl(SecretString);

impl DatabaseUrl {
    /// The URL itself, password included: only for connecting.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// The backend the URL names, if it is one the services support.
    pub fn backend(&self) -> Option<super::Backend> {
        let url = self.expose_secret();
        if url.starts_with("sqlite:") {
            Some(super::Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(super::Backend::Postgres)
        } else {
            None
        }
    }

    /// The URL with any password replaced by `[REDACTED]`.
    pub fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.expose_secret().split_once("://") else {
            return self.expose_secret().to_owned();
        };
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:[REDACTED]@{host}{path}"),
                None => self.expose_secret().to_owned(),
            },
            None => self.expose_secret().to_owned(),
        }
    }
}

impl From<String> for DatabaseUrl {
    fn from(url: String) -> Self {
        Self(SecretString::from(url))
    }
}

impl From<&String> for DatabaseUrl {
    fn from(url: &String) -> Self {
        Self::from(url.as_str())
    }
}

impl From<&DatabaseUrl> for DatabaseUrl {
    fn from(url: &DatabaseUrl) -> Self {
        url.clone()
    }
}

impl From<&str> for DatabaseUrl {
    fn from(url: &str) -> Self {
        Self(SecretString::from(url))
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(url))
    }
}

impl PartialEq for DatabaseUrl {
    fn eq(&self, other: &Self) -> bool {
        self.expose_secret() == other.expose_secret()
    }
}

impl Eq for DatabaseUrl {}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod url_tests {
    use super::DatabaseUrl;

    #[test]
    fn passwords_never_show() {
        let url = DatabaseUrl::from("postgres://app:s3cret@db:5432/auth?sslmode=require");
        assert_eq!(
            format!("{url:?} {url}"),
            "\"postgres://app:[REDACTED]@db:5432/auth?sslmode=require\" postgres://app:[REDACTED]@db:5432/auth?sslmode=require"
        );
        assert_eq!(
            DatabaseUrl::from("sqlite://data/auth.db").redacted(),
            "sqlite://data/auth.db"
        );
    }
}

//! Strict parsing of `application/x-www-form-urlencoded` request bodies (RFC 6749 §3.2).

use std::collections::HashMap;

use super::error::OAuthError;

/// The parameters of a form body, each present at most once and never empty.
#[derive(Debug, Default)]
pub struct FormParams(HashMap<String, String>);

impl FormParams {
    /// Parses a form body.
    ///
    /// - RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once":
    ///   a repeated name is `invalid_request`, even when one of the values is empty.
    /// - RFC 6749 §3.2: "Parameters sent without a value MUST be treated as if they were
    ///   omitted": empty values are dropped.
    /// - Percent-decoding must produce UTF-8; anything else is `invalid_request` rather than a
    ///   lossy replacement, so that a password is verified exactly as received.
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut seen: HashMap<String, String> = HashMap::new();
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            let name = decode(name)?;
            let value = decode(value)?;
            if seen.insert(name, value).is_some() {
                return Err(OAuthError::invalid_request(
                    "a request parameter was included more than once",
                ));
            }
        }
        seen.retain(|_, v| !v.is_empty());
        Ok(Self(seen))
    }

    /// The value of `name`, if present and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The value of `name`, or `invalid_request` with `missing` as the description.
    pub fn require(&self, name: &str, missing: &'static str) -> Result<&str, OAuthError> {
        self.get(name).ok_or(OAuthError::invalid_request(missing))
    }

    /// Whether `name` was sent with a value.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

/// Decodes one name or value: `+` is a space, then percent-decoding, then strict UTF-8.
pub fn decode(raw: &[u8]) -> Result<String, OAuthError> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&plus_as_space)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| OAuthError::invalid_request("the request body is not valid UTF-8 form data"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent() {
        let p = FormParams::parse(b"a=b+c%2Bd&e=%C3%A9").unwrap();
        assert_eq!(p.get("a"), Some("b c+d"));
        assert_eq!(p.get("e"), Some("é"));
    }

    #[test]
    fn repeated_parameters_are_refused_and_empty_ones_dropped() {
        assert!(FormParams::parse(b"a=1&a=2").is_err());
        assert!(FormParams::parse(b"a=&a=2").is_err());
        let p = FormParams::parse(b"scope=&x=1").unwrap();
        assert_eq!(p.get("scope"), None);
        assert!(!p.contains("scope"));
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert!(FormParams::parse(b"password=%FF").is_err());
    }
}

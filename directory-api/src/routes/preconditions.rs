//! Conditional requests: the `If-Match` precondition (RFC 9110 §13.1.1) that guards writes
//! against lost updates, and `If-None-Match` (§13.1.2) that lets a cached photo be revalidated.

use actix_web::http::header::{self, HeaderMap};

use crate::error::{ApiError, Result};

/// An `If-Match` precondition (RFC 9110 §13.1.1).
#[derive(Debug, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current representation.
    Any,
    /// A list of entity tags; weak ones never match (strong comparison).
    Tags(Vec<String>),
}

impl IfMatch {
    /// Whether the record's current strong ETag `current` meets the condition.
    pub fn matches(&self, current: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Tags(tags) => tags.iter().any(|t| !t.starts_with("W/") && t == current),
        }
    }
}

/// The `If-Match` condition of a request's headers; `None` when there is no such header.
pub fn if_match(headers: &HeaderMap) -> Result<Option<IfMatch>> {
    let mut tags = Vec::new();
    let mut any = false;
    let mut present = false;
    for value in headers.get_all(header::IF_MATCH) {
        present = true;
        let value = value
            .to_str()
            .map_err(|_| ApiError::Malformed("the If-Match header is not ASCII".into()))?;
        for tag in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if tag == "*" {
                any = true;
            } else {
                tags.push(tag.to_owned());
            }
        }
    }
    // An If-Match header with no entity tag in it is a condition nothing meets.
    Ok(match (any, present) {
        (true, _) => Some(IfMatch::Any),
        (false, true) => Some(IfMatch::Tags(tags)),
        (false, false) => None,
    })
}

/// Whether an `If-None-Match` of `headers` names `current` (weak comparison, RFC 9110
/// §13.1.2: `W/` is ignored; `*` matches any current representation): the client's copy is
/// current, and a `GET` is answered 304. A header that is not ASCII matches nothing.
pub fn none_match_fails(headers: &HeaderMap, current: &str) -> bool {
    let bare = |t: &str| t.strip_prefix("W/").unwrap_or(t).to_owned();
    let current = bare(current);
    headers
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || bare(tag) == current)
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(
                HeaderName::from_static("if-match"),
                HeaderValue::from_bytes(v).unwrap(),
            );
        }
        map
    }

    fn parsed(values: &[&[u8]]) -> Option<IfMatch> {
        if_match(&headers(values)).unwrap()
    }

    #[test]
    fn no_header_no_condition() {
        assert_eq!(parsed(&[]), None);
    }

    #[test]
    fn tags_from_every_header_line_are_collected() {
        let condition = parsed(&[b"\"v1\", \"v2\"", b"\"v3\""]).unwrap();
        assert_eq!(
            condition,
            IfMatch::Tags(vec!["\"v1\"".into(), "\"v2\"".into(), "\"v3\"".into()])
        );
        assert!(condition.matches("\"v3\""));
        assert!(!condition.matches("\"v4\""));
    }

    #[test]
    fn comparison_is_strong_so_weak_tags_never_match() {
        let condition = parsed(&[b"W/\"v1\""]).unwrap();
        assert!(!condition.matches("\"v1\""));
        assert!(!condition.matches("W/\"v1\""));
    }

    #[test]
    fn a_star_anywhere_is_any() {
        assert_eq!(parsed(&[b"*"]), Some(IfMatch::Any));
        assert_eq!(parsed(&[b"\"v1\", *"]), Some(IfMatch::Any));
        assert!(IfMatch::Any.matches("\"v9\""));
    }

    #[test]
    fn a_header_with_no_tag_is_a_condition_nothing_meets() {
        let condition = parsed(&[b" , "]).unwrap();
        assert_eq!(condition, IfMatch::Tags(Vec::new()));
        assert!(!condition.matches("\"v1\""));
    }

    #[test]
    fn a_header_that_is_not_ascii_is_malformed() {
        assert!(matches!(
            if_match(&headers(&[b"\"v\xe9\""])),
            Err(ApiError::Malformed(_))
        ));
    }

    #[test]
    fn if_none_match_compares_weakly_and_a_star_matches() {
        let none_match = |v: &[u8]| {
            let mut map = HeaderMap::new();
            map.append(
                HeaderName::from_static("if-none-match"),
                HeaderValue::from_bytes(v).unwrap(),
            );
            none_match_fails(&map, "\"abc\"")
        };
        assert!(none_match(b"\"abc\""));
        assert!(none_match(b"W/\"abc\""));
        assert!(none_match(b"\"x\", \"abc\""));
        assert!(none_match(b"*"));
        assert!(!none_match(b"\"abd\""));
        assert!(!none_match(b"\"ab\xe9\""));
        assert!(!none_match_fails(&HeaderMap::new(), "\"abc\""));
    }
}

//! Where a person goes once signed in: a path on this site, never another origin (RFC 9700
//! §4.11, open redirection), whatever the `return_to` of `/sign-in/start` asked for.

/// Where a person goes after signing in when nowhere else was asked for.
pub const DEFAULT_RETURN_PATH: &str = "/profile";

/// The longest return path kept.
const MAX_RETURN_PATH_BYTES: usize = 512;

/// `requested` if it is a path on this site, else [`DEFAULT_RETURN_PATH`]: the return path
/// comes from a URL anyone can craft, so it must never name another origin (an open
/// redirect, RFC 9700 §4.11). A local path starts with one `/` followed by something other
/// than `/` or `\` (browsers read `//host` and `/\host` as another host), holds no `\`, no
/// whitespace and no control character, is not a sign-in page itself, and is short.
pub fn local_path(requested: Option<&str>) -> String {
    let Some(path) = requested else {
        return DEFAULT_RETURN_PATH.to_owned();
    };
    let mut chars = path.chars();
    let local = chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && path.len() <= MAX_RETURN_PATH_BYTES
        && !path
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
        && !path.starts_with("/sign-in")
        && !path.starts_with("/sign-out");
    if local {
        path.to_owned()
    } else {
        DEFAULT_RETURN_PATH.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_local_path_is_a_place_to_return_to() {
        for local in ["/", "/profile", "/staff/7?x=1#top", "/how-it-works"] {
            assert_eq!(local_path(Some(local)), local);
        }
        for foreign in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "/x\\y",
            "evil.example",
            "javascript:alert(1)",
            "/\t/evil.example",
            "/ /evil.example",
            "/sign-in/start",
            "/sign-out",
            "",
        ] {
            assert_eq!(
                local_path(Some(foreign)),
                DEFAULT_RETURN_PATH,
                "{foreign:?}"
            );
        }
        assert_eq!(local_path(None), DEFAULT_RETURN_PATH);
        assert_eq!(
            local_path(Some(&format!("/{}", "a".repeat(600)))),
            DEFAULT_RETURN_PATH
        );
    }
}

//! The fields of a staff record, who owns each, and how a value for it is parsed.

use std::fmt;

use serde::Serialize;
use utoipa::ToSchema;

/// Who may change a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Human resources (`directory:admin` tokens): name, family name, title, department, email.
    Hr,
    /// The member of staff themselves (`profile:write`), and HR.
    Staff,
}

/// A field of a staff record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The stable login linking the record to its sign-in; set at creation, never changed.
    Username,
    /// Name as shown, with any title ("Dr Alice Johnson").
    DisplayName,
    /// The family name the directory is ordered and browsed by ("Johnson"; by default the
    /// last word of the display name, see [`super::name::last_word`]).
    FamilyName,
    /// Job title.
    JobTitle,
    /// School or department.
    Department,
    /// Work email address.
    Email,
    /// Work phone.
    Phone,
    /// Office location.
    Office,
    /// A short biography; may span lines.
    Bio,
    /// Research interests, comma-separated.
    ResearchInterests,
}

/// How one field is constrained.
struct Rule {
    name: &'static str,
    owner: Owner,
    max_chars: usize,
    required: bool,
    multiline: bool,
}

impl Field {
    /// The fields that a PATCH may change, in record order.
    pub const EDITABLE: [Field; 9] = [
        Field::DisplayName,
        Field::FamilyName,
        Field::JobTitle,
        Field::Department,
        Field::Email,
        Field::Phone,
        Field::Office,
        Field::Bio,
        Field::ResearchInterests,
    ];

    fn rule(self) -> Rule {
        let (name, owner, max_chars, required, multiline) = match self {
            Field::Username => ("username", Owner::Hr, 64, true, false),
            Field::DisplayName => ("display_name", Owner::Hr, 100, true, false),
            Field::FamilyName => ("family_name", Owner::Hr, 100, true, false),
            Field::JobTitle => ("job_title", Owner::Hr, 100, true, false),
            Field::Department => ("department", Owner::Hr, 100, true, false),
            Field::Email => ("email", Owner::Hr, 254, true, false),
            Field::Phone => ("phone", Owner::Staff, 40, false, false),
            Field::Office => ("office", Owner::Staff, 100, false, false),
            Field::Bio => ("bio", Owner::Staff, 2000, false, true),
            Field::ResearchInterests => ("research_interests", Owner::Staff, 500, false, false),
        };
        Rule {
            name,
            owner,
            max_chars,
            required,
            multiline,
        }
    }

    /// The field's JSON name.
    pub fn name(self) -> &'static str {
        self.rule().name
    }

    /// Who may change it.
    pub fn owner(self) -> Owner {
        self.rule().owner
    }

    /// The longest value accepted, in characters.
    pub fn max_chars(self) -> usize {
        self.rule().max_chars
    }

    /// Parses a value for this field: at most [`Field::max_chars`] characters, no leading or
    /// trailing spaces, no control characters (the bio may hold line breaks; `\r\n` becomes
    /// `\n`), non-empty when required, and the field's own syntax (username, email, phone).
    pub fn parse(self, raw: &str) -> Result<String, FieldError> {
        let rule = self.rule();
        let fail = |message: String| FieldError {
            field: rule.name,
            message,
        };
        let value = if rule.multiline {
            raw.replace("\r\n", "\n")
        } else {
            raw.to_owned()
        };
        let chars = value.chars().count();
        if chars > rule.max_chars {
            return Err(fail(format!(
                "must be at most {} characters (got {chars})",
                rule.max_chars
            )));
        }
        if rule.required && value.is_empty() {
            return Err(fail("must not be empty".into()));
        }
        if value.trim() != value {
            return Err(fail("must not start or end with spaces".into()));
        }
        if value
            .chars()
            .any(|c| c.is_control() && !(rule.multiline && c == '\n'))
        {
            return Err(fail("must not contain control characters".into()));
        }
        match self {
            Field::Username if !is_username(&value) => Err(fail(
                "must be 1 to 64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit".into(),
            )),
            Field::Email if !is_email(&value) => Err(fail("must be an email address such as name@example.edu".into())),
            Field::Phone if !value.chars().all(|c| c.is_ascii_digit() || " +-().x".contains(c)) => {
                Err(fail("may contain only digits, spaces and + - ( ) . x".into()))
            }
            _ => Ok(value),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn is_username(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

/// A deliberately plain check: one `@`, a local part, a dotted domain, no spaces or quotes.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let atom = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
    };
    (1..=64).contains(&local.len())
        && atom(local)
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// Why a value was refused, for the `errors` member of a problem response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's JSON name.
    pub field: &'static str,
    /// What is wrong with the value.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_or_say_why_not() {
        assert_eq!(
            Field::DisplayName.parse("Dr Alice Johnson").unwrap(),
            "Dr Alice Johnson"
        );
        assert!(Field::DisplayName.parse("").is_err());
        assert!(Field::DisplayName.parse(" padded").is_err());
        assert!(Field::DisplayName.parse("a\u{0}b").is_err());
        assert!(Field::DisplayName.parse(&"x".repeat(101)).is_err());
        assert_eq!(
            Field::Bio.parse("line one\r\nline two").unwrap(),
            "line one\nline two"
        );
        assert!(Field::Office.parse("line\nbreak").is_err());
        assert_eq!(Field::Phone.parse("").unwrap(), "");
        assert!(Field::Phone.parse("call me").is_err());
        assert!(Field::Email.parse("alice@example.edu").is_ok());
        for bad in [
            "alice",
            "alice@",
            "@example.edu",
            "a b@example.edu",
            "alice@example",
            "a@b@c.edu",
        ] {
            assert!(Field::Email.parse(bad).is_err(), "{bad}");
        }
        assert!(Field::Username.parse("ajohnson").is_ok());
        assert!(Field::Username.parse("AJohnson").is_err());
    }

    #[test]
    fn hr_owns_name_title_department_and_email() {
        let hr: Vec<_> = Field::EDITABLE
            .iter()
            .filter(|f| f.owner() == Owner::Hr)
            .map(|f| f.name())
            .collect();
        assert_eq!(
            hr,
            [
                "display_name",
                "family_name",
                "job_title",
                "department",
                "email"
            ]
        );
    }
}

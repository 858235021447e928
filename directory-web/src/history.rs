//! A member of staff's own history, in plain words: the API's `GET /staff/{id}/history` (read
//! with their own token, which the API allows for their own record only) turned into "when,
//! what, who" lines for the profile page, newest first.

use serde::Deserialize;

/// How many changes the profile page shows.
pub const SHOWN: usize = 10;

/// Values longer than this are cut (with "…") in the page.
const VALUE_CHARS: usize = 60;

/// One write to the record, as the API returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct HistoryEntry {
    /// `create`, `update` or `retire` (or another action the API adds later).
    pub action: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The token's subject: a username, or a client id for a client's token.
    pub subject: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// `user` or `client`.
    pub token_kind: String,
    /// The fields that changed.
    #[serde(default)]
    pub changes: Vec<FieldChange>,
}

/// One field's change.
#[derive(Debug, Clone, Deserialize)]
pub struct FieldChange {
    /// The field's JSON name.
    pub field: String,
    /// The value before, if any.
    #[serde(default)]
    pub old: Option<String>,
    /// The value after, if any.
    #[serde(default)]
    pub new: Option<String>,
}

/// One line of the profile page's "recent changes".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeLine {
    /// When, as `2026-12-04 16:50 UTC`.
    pub when: String,
    /// The RFC 3339 time, for `<time datetime>`.
    pub datetime: String,
    /// What changed, in words.
    pub what: String,
    /// Who: "you", or the administrative client.
    pub who: String,
}

/// The field's name in words.
fn label(field: &str) -> String {
    match field {
        "display_name" => "name".into(),
        "family_name" => "family name".into(),
        "job_title" => "job title".into(),
        "bio" => "biography".into(),
        "research_interests" => "research interests".into(),
        other => other.replace('_', " "),
    }
}

/// `value` for the page: empty as "(empty)", long ones cut.
fn shown(value: Option<&str>) -> String {
    match value {
        None | Some("") => "(empty)".into(),
        Some(v) if v.chars().count() > VALUE_CHARS => {
            format!("“{}…”", v.chars().take(VALUE_CHARS).collect::<String>())
        }
        Some(v) => format!("“{v}”"),
    }
}

fn what(entry: &HistoryEntry) -> String {
    match entry.action.as_str() {
        "create" => "your record was created".into(),
        "retire" => "your record was retired from the directory".into(),
        _ if entry.changes.is_empty() => format!("{} (no field changed)", entry.action),
        _ => entry
            .changes
            .iter()
            .map(|c| {
                format!(
                    "{}: {} → {}",
                    label(&c.field),
                    shown(c.old.as_deref()),
                    shown(c.new.as_deref())
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn who(entry: &HistoryEntry, username: &str) -> String {
    match entry.token_kind.as_str() {
        "user" if entry.subject == username => "you".into(),
        "user" => format!("{} (a member of staff)", entry.subject),
        _ => format!(
            "{}, a system with HR's administrative access (such as the HR import)",
            entry.client_id
        ),
    }
}

/// `2026-12-04T16:50:12Z` as `2026-12-04 16:50 UTC`; anything else as it is.
fn when(at: &str) -> String {
    match (at.get(..10), at.get(11..16), at.ends_with('Z')) {
        (Some(day), Some(time), true) if at.as_bytes().get(10) == Some(&b'T') => {
            format!("{day} {time} UTC")
        }
        _ => at.to_owned(),
    }
}

/// The newest [`SHOWN`] entries of `entries` (oldest first, as the API sends them) for
/// `username`'s profile page, newest first.
pub fn recent(entries: &[HistoryEntry], username: &str) -> Vec<ChangeLine> {
    entries
        .iter()
        .rev()
        .take(SHOWN)
        .map(|e| ChangeLine {
            when: when(&e.at),
            datetime: e.at.clone(),
            what: what(e),
            who: who(e, username),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        action: &str,
        kind: &str,
        subject: &str,
        changes: &[(&str, &str, &str)],
    ) -> HistoryEntry {
        HistoryEntry {
            action: action.into(),
            at: "2026-12-04T16:50:12Z".into(),
            subject: subject.into(),
            client_id: if kind == "user" {
                "directory-web"
            } else {
                subject
            }
            .into(),
            token_kind: kind.into(),
            changes: changes
                .iter()
                .map(|(f, o, n)| FieldChange {
                    field: (*f).into(),
                    old: Some((*o).into()),
                    new: Some((*n).into()),
                })
                .collect(),
        }
    }

    #[test]
    fn changes_read_as_when_what_and_who_newest_first() {
        let entries = [
            entry("create", "client", "hr-sync", &[]),
            entry(
                "update",
                "user",
                "ajohnson",
                &[("phone", "", "01522 886001"), ("bio", "Old", "New")],
            ),
            entry(
                "update",
                "client",
                "hr-sync",
                &[("job_title", "Lecturer", "Reader")],
            ),
        ];
        let lines = recent(&entries, "ajohnson");
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].what, "job title: “Lecturer” → “Reader”");
        assert_eq!(
            lines[0].who,
            "hr-sync, a system with HR's administrative access (such as the HR import)"
        );
        assert_eq!(
            lines[1].what,
            "phone: (empty) → “01522 886001”; biography: “Old” → “New”"
        );
        assert_eq!(lines[1].who, "you");
        assert_eq!(lines[2].what, "your record was created");
        assert_eq!(lines[0].when, "2026-12-04 16:50 UTC");
        assert_eq!(lines[0].datetime, "2026-12-04T16:50:12Z");
    }

    #[test]
    fn only_the_newest_are_shown_and_long_values_are_cut() {
        let long = "x".repeat(200);
        let mut entries: Vec<HistoryEntry> = (0..15)
            .map(|i| {
                entry(
                    "update",
                    "user",
                    "ajohnson",
                    &[("office", "A", &format!("Room {i}"))],
                )
            })
            .collect();
        entries.push(entry("update", "user", "ajohnson", &[("bio", "", &long)]));
        let lines = recent(&entries, "ajohnson");
        assert_eq!(lines.len(), SHOWN);
        assert!(lines[0].what.ends_with("…”"), "{}", lines[0].what);
        assert!(lines[0].what.chars().count() < 100);
        assert_eq!(lines[1].what, "office: “A” → “Room 14”");
    }

    #[test]
    fn an_unexpected_time_is_shown_as_sent() {
        assert_eq!(when("yesterday"), "yesterday");
        assert_eq!(when(""), "");
    }
}

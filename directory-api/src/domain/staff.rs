//! A staff record, the request that creates one and its parsed form, and its history.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::field::{Field, FieldError};
use super::name::last_word;

/// A staff record as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StaffRecord {
    /// The record's id.
    pub id: i64,
    /// The member of staff's login (their sign-in's `sub`).
    pub username: String,
    /// Name as shown, with any title.
    pub display_name: String,
    /// Family name: the directory is ordered and browsed (`initial`) by it.
    pub family_name: String,
    /// Job title.
    pub job_title: String,
    /// School or department.
    pub department: String,
    /// Work email.
    pub email: String,
    /// Work phone (may be empty).
    pub phone: String,
    /// Office (may be empty).
    pub office: String,
    /// Biography (may be empty; may span lines).
    pub bio: String,
    /// Research interests, comma-separated (may be empty).
    pub research_interests: String,
    /// Whether the record has a photo (`GET /staff/{id}/photo`).
    #[serde(default)]
    pub has_photo: bool,
    /// When the record last changed (RFC 3339, UTC); a photo's change or removal counts.
    pub updated_at: String,
    /// When the record was retired, if it was (only administrators see retired records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<String>,
}

impl StaffRecord {
    /// The value of an editable field.
    pub fn value(&self, field: Field) -> &str {
        match field {
            Field::Username => &self.username,
            Field::DisplayName => &self.display_name,
            Field::FamilyName => &self.family_name,
            Field::JobTitle => &self.job_title,
            Field::Department => &self.department,
            Field::Email => &self.email,
            Field::Phone => &self.phone,
            Field::Office => &self.office,
            Field::Bio => &self.bio,
            Field::ResearchInterests => &self.research_interests,
        }
    }

    /// Sets a field's value (to an already parsed one).
    pub(crate) fn set(&mut self, field: Field, value: String) {
        let slot = match field {
            Field::Username => &mut self.username,
            Field::DisplayName => &mut self.display_name,
            Field::FamilyName => &mut self.family_name,
            Field::JobTitle => &mut self.job_title,
            Field::Department => &mut self.department,
            Field::Email => &mut self.email,
            Field::Phone => &mut self.phone,
            Field::Office => &mut self.office,
            Field::Bio => &mut self.bio,
            Field::ResearchInterests => &mut self.research_interests,
        };
        *slot = value;
    }
}

/// `POST /staff`: a new record. Optional fields default to empty.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaffRequest {
    /// Login of the member of staff (a-z, 0-9, '.', '_', '-'; at most 64).
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$"
    )]
    pub username: String,
    /// Name as shown (1 to 100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: String,
    /// Family name (1 to 100 characters); when absent, the last word of the display name.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    pub family_name: Option<String>,
    /// Job title (1 to 100).
    #[schema(min_length = 1, max_length = 100)]
    pub job_title: String,
    /// School or department (1 to 100).
    #[schema(min_length = 1, max_length = 100)]
    pub department: String,
    /// Work email (at most 254).
    #[schema(format = "email", min_length = 3, max_length = 254)]
    pub email: String,
    /// Work phone (at most 40: digits, spaces, + - ( ) . x).
    #[serde(default)]
    #[schema(max_length = 40, pattern = r"^[0-9 +()\-.x]*$")]
    pub phone: String,
    /// Office (at most 100).
    #[serde(default)]
    #[schema(max_length = 100)]
    pub office: String,
    /// Biography (at most 2000; may span lines).
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub bio: String,
    /// Research interests (at most 500).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub research_interests: String,
}

/// A new record whose every field parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaff {
    values: BTreeMap<&'static str, String>,
}

impl NewStaff {
    /// Parses every field, reporting every bad one. Without a family name, the display
    /// name's last word is the family name.
    pub fn parse(req: &NewStaffRequest) -> Result<Self, Vec<FieldError>> {
        let family_name = req
            .family_name
            .as_deref()
            .unwrap_or_else(|| last_word(&req.display_name));
        let raw: [(Field, &str); 10] = [
            (Field::Username, &req.username),
            (Field::DisplayName, &req.display_name),
            (Field::FamilyName, family_name),
            (Field::JobTitle, &req.job_title),
            (Field::Department, &req.department),
            (Field::Email, &req.email),
            (Field::Phone, &req.phone),
            (Field::Office, &req.office),
            (Field::Bio, &req.bio),
            (Field::ResearchInterests, &req.research_interests),
        ];
        let mut values = BTreeMap::new();
        let mut errors = Vec::new();
        for (field, value) in raw {
            // The display name's own error says it all: an implied family name adds nothing.
            if field == Field::FamilyName
                && req.family_name.is_none()
                && errors
                    .iter()
                    .any(|e: &FieldError| e.field == "display_name")
            {
                continue;
            }
            match field.parse(value) {
                Ok(v) => {
                    values.insert(field.name(), v);
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(Self { values })
        } else {
            Err(errors)
        }
    }

    /// The parsed value of `field`.
    pub fn get(&self, field: Field) -> &str {
        self.values.get(field.name()).map_or("", String::as_str)
    }

    /// The `create` history entry's changes: every field that has a value, absent -> value,
    /// the username first, then in record order.
    pub fn creation_changes(&self) -> Vec<FieldChange> {
        std::iter::once(Field::Username)
            .chain(Field::EDITABLE)
            .filter(|f| !self.get(*f).is_empty())
            .map(|f| FieldChange {
                field: f.name().to_owned(),
                old: None,
                new: Some(self.get(f).to_owned()),
            })
            .collect()
    }
}

/// One field's change in a history entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldChange {
    /// The field's JSON name.
    pub field: String,
    /// The value before (absent on creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    /// The value after (absent on retirement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

/// One write to a record: who, when, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// `create`, `update`, `retire`, `photo_changed` or `photo_removed` (the photo's changes
    /// name the field `photo`, its old and new ETags: never the image).
    pub action: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The token's subject: a username, or a client id for client tokens.
    pub subject: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// `user` or `client`.
    pub token_kind: String,
    /// The fields that changed, old -> new.
    pub changes: Vec<FieldChange>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_creation_records_every_field_with_a_value_username_first() {
        let request: NewStaffRequest = serde_json::from_str(
            r#"{"username": "bsmith", "display_name": "Ben Smith", "job_title": "Technician",
                "department": "Physics", "email": "ben@example.edu", "office": "Lab 3"}"#,
        )
        .unwrap();
        let new = NewStaff::parse(&request).unwrap();
        let changes = new.creation_changes();
        let fields: Vec<_> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "username",
                "display_name",
                "family_name",
                "job_title",
                "department",
                "email",
                "office"
            ]
        );
        assert!(changes.iter().all(|c| c.old.is_none()));
        assert_eq!(changes[0].new.as_deref(), Some("bsmith"));
        assert_eq!(
            new.get(Field::FamilyName),
            "Smith",
            "the last word, by default"
        );
    }

    #[test]
    fn a_family_name_given_is_kept_and_checked() {
        let with = |family: &str| {
            let request: NewStaffRequest = serde_json::from_value(serde_json::json!({
                "username": "ggm", "display_name": "Gabriel García Márquez", "family_name": family,
                "job_title": "Writer", "department": "English", "email": "ggm@example.edu",
            }))
            .unwrap();
            NewStaff::parse(&request)
        };
        assert_eq!(
            with("García Márquez").unwrap().get(Field::FamilyName),
            "García Márquez"
        );
        let errors = with("").unwrap_err();
        assert_eq!(errors[0].field, "family_name");
        assert_eq!(errors[0].message, "must not be empty");
        assert_eq!(with(&"x".repeat(101)).unwrap_err()[0].field, "family_name");
    }

    #[test]
    fn every_bad_field_of_a_new_record_is_reported() {
        let request: NewStaffRequest = serde_json::from_str(
            r#"{"username": "B Smith", "display_name": "", "job_title": "T",
                "department": "D", "email": "nope"}"#,
        )
        .unwrap();
        let fields: Vec<_> = NewStaff::parse(&request)
            .unwrap_err()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["username", "display_name", "email"]);
    }
}

//! A staff record, the requests that create and change one, and their parsed forms.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::field::{Field, FieldError, Owner};

/// A staff record as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StaffRecord {
    /// The record's id.
    pub id: i64,
    /// The member of staff's login (their sign-in's `sub`).
    pub username: String,
    /// Name as shown, with any title.
    pub display_name: String,
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
    /// When the record last changed (RFC 3339, UTC).
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
            Field::JobTitle => &self.job_title,
            Field::Department => &self.department,
            Field::Email => &self.email,
            Field::Phone => &self.phone,
            Field::Office => &self.office,
            Field::Bio => &self.bio,
            Field::ResearchInterests => &self.research_interests,
        }
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

/// `PATCH /staff/{id}`: the fields to change, as a JSON merge patch (RFC 7396): an absent
/// member stays as it is; `null` clears a staff-editable field (the HR-owned ones cannot be
/// empty). Staff may change phone, office, bio and research interests; the rest is HR's.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffPatchRequest {
    /// New display name (HR only; 1 to 100 characters).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub display_name: Option<Option<String>>,
    /// New job title (HR only; 1 to 100 characters).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub job_title: Option<Option<String>>,
    /// New department (HR only; 1 to 100 characters).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub department: Option<Option<String>>,
    /// New email (HR only; at most 254 characters).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = "email", max_length = 254)]
    pub email: Option<Option<String>>,
    /// New phone (at most 40: digits, spaces, + - ( ) . x); empty or null clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 40, pattern = r"^[0-9 +()\-.x]*$")]
    pub phone: Option<Option<String>>,
    /// New office (at most 100); empty or null clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub office: Option<Option<String>>,
    /// New biography (at most 2000; may span lines); empty or null clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub bio: Option<Option<String>>,
    /// New research interests (at most 500); empty or null clears them.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub research_interests: Option<Option<String>>,
}

/// A member that is present: `Some(None)` for `null`, `Some(Some(v))` for a value (absent
/// members are `None` through `#[serde(default)]`).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// A new record whose every field parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaff {
    values: BTreeMap<&'static str, String>,
}

impl NewStaff {
    /// Parses every field, reporting every bad one.
    pub fn parse(req: &NewStaffRequest) -> Result<Self, Vec<FieldError>> {
        let raw = [
            (Field::Username, &req.username),
            (Field::DisplayName, &req.display_name),
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
}

/// A change whose every field parsed: the fields to set, in record order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffPatch {
    changes: Vec<(Field, String)>,
}

impl StaffPatch {
    /// Parses every present field, reporting every bad one. An empty patch is refused.
    pub fn parse(req: StaffPatchRequest) -> Result<Self, Vec<FieldError>> {
        let raw = [
            (Field::DisplayName, req.display_name),
            (Field::JobTitle, req.job_title),
            (Field::Department, req.department),
            (Field::Email, req.email),
            (Field::Phone, req.phone),
            (Field::Office, req.office),
            (Field::Bio, req.bio),
            (Field::ResearchInterests, req.research_interests),
        ];
        let mut changes = Vec::new();
        let mut errors = Vec::new();
        for (field, value) in raw {
            // `null` clears (RFC 7396): the same as an empty value, which required fields refuse.
            if let Some(value) = value {
                match field.parse(value.as_deref().unwrap_or("")) {
                    Ok(v) => changes.push((field, v)),
                    Err(e) => errors.push(e),
                }
            }
        }
        if changes.is_empty() && errors.is_empty() {
            errors.push(FieldError {
                field: "body",
                message: "name at least one field to change".into(),
            });
        }
        if errors.is_empty() {
            Ok(Self { changes })
        } else {
            Err(errors)
        }
    }

    /// The fields it changes that only HR may change.
    pub fn hr_owned_fields(&self) -> Vec<&'static str> {
        self.changes
            .iter()
            .filter(|(f, _)| f.owner() == Owner::Hr)
            .map(|(f, _)| f.name())
            .collect()
    }

    /// The changes, in record order.
    pub fn changes(&self) -> &[(Field, String)] {
        &self.changes
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
    /// `create`, `update` or `retire`.
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

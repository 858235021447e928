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
    pub username: String,
    /// Name as shown (at most 100 characters).
    pub display_name: String,
    /// Job title (at most 100).
    pub job_title: String,
    /// School or department (at most 100).
    pub department: String,
    /// Work email (at most 254).
    pub email: String,
    /// Work phone (at most 40).
    #[serde(default)]
    pub phone: String,
    /// Office (at most 100).
    #[serde(default)]
    pub office: String,
    /// Biography (at most 2000).
    #[serde(default)]
    pub bio: String,
    /// Research interests (at most 500).
    #[serde(default)]
    pub research_interests: String,
}

/// `PATCH /staff/{id}`: the fields to change (JSON merge patch; absent fields stay as they
/// are). Staff may change phone, office, bio and research interests; the rest is HR's.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffPatchRequest {
    /// New display name (HR only).
    pub display_name: Option<String>,
    /// New job title (HR only).
    pub job_title: Option<String>,
    /// New department (HR only).
    pub department: Option<String>,
    /// New email (HR only).
    pub email: Option<String>,
    /// New phone; empty clears it.
    pub phone: Option<String>,
    /// New office; empty clears it.
    pub office: Option<String>,
    /// New biography; empty clears it.
    pub bio: Option<String>,
    /// New research interests; empty clears them.
    pub research_interests: Option<String>,
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
            if let Some(value) = value {
                match field.parse(&value) {
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

//! A change to a record: the `PATCH` body as sent, its parsed form, and what it does to one
//! version of a record ([`StaffPatch::diff`]: the values to write and the history's changes).

use serde::Deserialize;
use utoipa::ToSchema;

use super::field::{Field, FieldError, Owner};
use super::name::last_word;
use super::staff::{FieldChange, StaffRecord};

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
    /// New family name (HR only; 1 to 100 characters). When a patch changes the display name
    /// but not the family name, a family name that was the old display name's last word
    /// follows to the new one's; one set apart from the display name is kept.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub family_name: Option<Option<String>>,
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
            (Field::FamilyName, req.family_name),
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
    /// What this patch does to `current`: every editable field's value afterwards, and the
    /// fields whose value changes, old -> new, in record order (a field set to the value it
    /// already has is written but is no change). The store applies it only to the version of
    /// the record it was computed from (compare-and-set), so the changes recorded are the
    /// changes made.
    pub fn diff(&self, current: &StaffRecord) -> StaffDiff {
        let mut after = current.clone();
        let mut changes = Vec::new();
        for (field, value) in &self.followed(current) {
            let old = current.value(*field);
            if old != value {
                changes.push(FieldChange {
                    field: field.name().to_owned(),
                    old: Some(old.to_owned()),
                    new: Some(value.clone()),
                });
            }
            after.set(*field, value.clone());
        }
        StaffDiff { after, changes }
    }
}

impl StaffPatch {
    /// The changes with the family name following a new display name: when the patch sets
    /// the display name and not the family name, and the family name is the last word of the
    /// current display name (as it is unless HR set it apart), it becomes the new display
    /// name's last word, in record order.
    fn followed(&self, current: &StaffRecord) -> Vec<(Field, String)> {
        let mut changes = self.changes.clone();
        let sets = |f: Field| changes.iter().any(|(field, _)| *field == f);
        if sets(Field::FamilyName) || current.family_name != last_word(&current.display_name) {
            return changes;
        }
        let new_display = changes
            .iter()
            .find(|(f, _)| *f == Field::DisplayName)
            .map(|(_, v)| last_word(v).to_owned());
        if let Some(family) = new_display {
            let at = changes
                .iter()
                .position(|(f, _)| *f == Field::DisplayName)
                .map_or(0, |i| i + 1);
            changes.insert(at, (Field::FamilyName, family));
        }
        changes
    }
}

/// What a [`StaffPatch`] does to one version of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffDiff {
    after: StaffRecord,
    changes: Vec<FieldChange>,
}

impl StaffDiff {
    /// The record as the patch leaves it (its `updated_at` and version are the store's).
    pub fn after(&self) -> &StaffRecord {
        &self.after
    }

    /// The fields whose value changes, old -> new, in record order: the history entry's
    /// `changes` (empty when every value was already as asked).
    pub fn changes(&self) -> &[FieldChange] {
        &self.changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> StaffRecord {
        StaffRecord {
            id: 7,
            username: "ajohnson".into(),
            display_name: "Dr Alice Johnson".into(),
            family_name: "Johnson".into(),
            job_title: "Lecturer".into(),
            department: "Physics".into(),
            email: "alice@example.edu".into(),
            phone: "+44 1234".into(),
            office: "Room 1".into(),
            bio: "".into(),
            research_interests: "optics".into(),
            has_photo: false,
            updated_at: "2026-01-01T00:00:00Z".into(),
            retired_at: None,
        }
    }

    fn patch(json: &str) -> Result<StaffPatch, Vec<FieldError>> {
        StaffPatch::parse(serde_json::from_str(json).unwrap())
    }

    fn change(field: &str, old: &str, new: &str) -> FieldChange {
        FieldChange {
            field: field.into(),
            old: Some(old.into()),
            new: Some(new.into()),
        }
    }

    #[test]
    fn a_diff_lists_the_fields_that_change_old_to_new_in_record_order() {
        let diff =
            patch(r#"{"research_interests": "lasers", "office": "Room 2", "phone": "+44 1234"}"#)
                .unwrap()
                .diff(&record());
        assert_eq!(
            diff.changes(),
            [
                change("office", "Room 1", "Room 2"),
                change("research_interests", "optics", "lasers"),
            ]
        );
        let mut expected = record();
        expected.office = "Room 2".into();
        expected.research_interests = "lasers".into();
        assert_eq!(diff.after(), &expected);
    }

    #[test]
    fn setting_a_field_to_its_value_is_no_change() {
        let diff = patch(r#"{"office": "Room 1", "bio": ""}"#)
            .unwrap()
            .diff(&record());
        assert!(diff.changes().is_empty());
        assert_eq!(diff.after(), &record());
    }

    #[test]
    fn null_clears_a_staff_field_and_the_diff_says_so() {
        let diff = patch(r#"{"phone": null}"#).unwrap().diff(&record());
        assert_eq!(diff.changes(), [change("phone", "+44 1234", "")]);
        assert_eq!(diff.after().phone, "");
    }

    #[test]
    fn an_hr_patch_changes_hr_fields_and_leaves_the_username() {
        let p = patch(r#"{"display_name": "Prof Alice Johnson", "department": "Optics"}"#).unwrap();
        assert_eq!(p.hr_owned_fields(), ["display_name", "department"]);
        let diff = p.diff(&record());
        assert_eq!(
            diff.changes(),
            [
                change("display_name", "Dr Alice Johnson", "Prof Alice Johnson"),
                change("department", "Physics", "Optics"),
            ]
        );
        assert_eq!(diff.after().username, "ajohnson");
        assert_eq!(diff.after().id, 7);
    }

    #[test]
    fn a_family_name_that_was_the_last_word_follows_a_new_display_name() {
        let diff = patch(r#"{"display_name": "Dr Alice Johnson-Reid"}"#)
            .unwrap()
            .diff(&record());
        assert_eq!(
            diff.changes(),
            [
                change("display_name", "Dr Alice Johnson", "Dr Alice Johnson-Reid"),
                change("family_name", "Johnson", "Johnson-Reid"),
            ]
        );
        assert_eq!(diff.after().family_name, "Johnson-Reid");
    }

    #[test]
    fn a_family_name_set_apart_is_kept_and_one_given_wins() {
        let mut apart = record();
        apart.display_name = "Gabriel García Márquez".into();
        apart.family_name = "García Márquez".into();
        let diff = patch(r#"{"display_name": "Prof Gabriel García Márquez"}"#)
            .unwrap()
            .diff(&apart);
        assert_eq!(diff.after().family_name, "García Márquez");
        assert_eq!(diff.changes().len(), 1);
        let diff = patch(r#"{"display_name": "Alice Reid", "family_name": "Johnson Reid"}"#)
            .unwrap()
            .diff(&record());
        assert_eq!(diff.after().family_name, "Johnson Reid");
        let p = patch(r#"{"family_name": "Johnson"}"#).unwrap();
        assert_eq!(p.hr_owned_fields(), ["family_name"]);
        assert!(p.diff(&record()).changes().is_empty());
        assert_eq!(
            patch(r#"{"family_name": null}"#).unwrap_err()[0].field,
            "family_name"
        );
    }

    #[test]
    fn patches_that_name_nothing_or_clear_an_hr_field_are_refused() {
        assert_eq!(patch("{}").unwrap_err()[0].field, "body");
        assert_eq!(patch(r#"{"email": null}"#).unwrap_err()[0].field, "email");
        assert!(
            patch(r#"{"phone": null, "office": "Room 1"}"#)
                .unwrap()
                .hr_owned_fields()
                .is_empty()
        );
    }
}

//! The lab's own copy of the directory: the demo staff, in memory, bounded.
//!
//! It starts as the demo launcher seeds the real directory (`directory_api::seed`), in the same
//! order, so record 1 is Alice and record 9 is Ben in both. Values are parsed with the real
//! API's own field rules, so every record stays as small as the API allows; the number of
//! records is capped ([`MAX_RECORDS`]). Nothing is ever written anywhere else.

use directory_api::domain::patch::StaffDiff;
use directory_api::domain::search::SearchWords;
use directory_api::domain::staff::{NewStaff, StaffRecord};
use directory_api::domain::time::rfc3339;
use directory_api::store::row::StaffRow;

/// The most records the lab holds by default, the 60 demo staff included.
pub const MAX_RECORDS: usize = 200;

/// Why a record could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateError {
    /// The lab already holds its maximum number of records.
    Full(usize),
    /// A record with this username exists.
    UsernameTaken,
}

/// The in-memory directory.
#[derive(Debug, Clone)]
pub struct Directory {
    rows: Vec<StaffRow>,
    max_records: usize,
}

/// A search: the words (each a prefix of a word of the name, title, department or interests),
/// an exact department, and the page.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    /// The words, all required.
    pub words: &'a SearchWords,
    /// Only this department.
    pub department: Option<&'a str>,
    /// 1-based page.
    pub page: usize,
    /// Records per page.
    pub per_page: usize,
}

impl Directory {
    /// The demo staff, as of `now`, in a directory that holds at most `max_records`.
    pub fn demo(now: i64, max_records: usize) -> anyhow::Result<Self> {
        let mut directory = Self {
            rows: Vec::new(),
            max_records,
        };
        for new in directory_api::seed::demo_staff()? {
            directory
                .create(&new, now)
                .map_err(|e| anyhow::anyhow!("the demo staff do not fit in the lab: {e:?}"))?;
        }
        Ok(directory)
    }

    /// How many records it holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The record `id`.
    pub fn get(&self, id: i64) -> Option<&StaffRow> {
        usize::try_from(id)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| self.rows.get(i))
    }

    /// One page of the records matching `search`, by display name, and how many match.
    pub fn search(&self, search: &Search<'_>) -> (Vec<StaffRecord>, usize) {
        let mut matching: Vec<&StaffRecord> = self
            .rows
            .iter()
            .map(|row| &row.record)
            .filter(|r| search.department.is_none_or(|d| r.department == d))
            .filter(|r| matches_words(r, search.words))
            .collect();
        matching.sort_by(|a, b| (&a.display_name, a.id).cmp(&(&b.display_name, b.id)));
        let total = matching.len();
        let page = matching
            .into_iter()
            .skip(
                search
                    .page
                    .saturating_sub(1)
                    .saturating_mul(search.per_page),
            )
            .take(search.per_page)
            .cloned()
            .collect();
        (page, total)
    }

    /// Writes `diff` to record `id`, which must still be at `version` (the caller computed the
    /// diff from that version); `None` when there is no such record.
    pub fn update(
        &mut self,
        id: i64,
        version: i64,
        diff: &StaffDiff,
        now: i64,
    ) -> Option<Result<StaffRow, String>> {
        let row = usize::try_from(id)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| self.rows.get_mut(i))?;
        if row.version != version {
            return Some(Err(row.etag()));
        }
        row.record = StaffRecord {
            updated_at: rfc3339(now),
            ..diff.after().clone()
        };
        row.version += 1;
        Some(Ok(row.clone()))
    }

    /// Adds a record, unless the lab is full or the username is taken.
    pub fn create(&mut self, new: &NewStaff, now: i64) -> Result<StaffRow, CreateError> {
        use directory_api::domain::field::Field;
        if self.rows.len() >= self.max_records {
            return Err(CreateError::Full(self.max_records));
        }
        let username = new.get(Field::Username);
        if self.rows.iter().any(|r| r.record.username == username) {
            return Err(CreateError::UsernameTaken);
        }
        let id =
            i64::try_from(self.rows.len()).map_err(|_| CreateError::Full(self.max_records))? + 1;
        let value = |field: Field| new.get(field).to_owned();
        let row = StaffRow {
            record: StaffRecord {
                id,
                username: username.to_owned(),
                display_name: value(Field::DisplayName),
                family_name: value(Field::FamilyName),
                job_title: value(Field::JobTitle),
                department: value(Field::Department),
                email: value(Field::Email),
                phone: value(Field::Phone),
                office: value(Field::Office),
                bio: value(Field::Bio),
                research_interests: value(Field::ResearchInterests),
                has_photo: false,
                updated_at: rfc3339(now),
                retired_at: None,
            },
            version: 1,
        };
        self.rows.push(row.clone());
        Ok(row)
    }
}

/// Whether every word is the start of a word of the record's name, title, department or
/// interests (case-insensitive; a plainer match than the real API's full-text index).
fn matches_words(record: &StaffRecord, words: &SearchWords) -> bool {
    let text = [
        &record.display_name,
        &record.job_title,
        &record.department,
        &record.research_interests,
    ]
    .map(|field| field.to_lowercase());
    words.words().iter().all(|word| {
        text.iter().any(|field| {
            field
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w.starts_with(word.as_str()))
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use directory_api::domain::patch::{StaffPatch, StaffPatchRequest};
    use directory_api::domain::staff::NewStaffRequest;

    use super::*;

    const T0: i64 = 1_780_000_000;

    fn new_staff(username: &str) -> NewStaff {
        let request: NewStaffRequest = serde_json::from_value(serde_json::json!({
            "username": username, "display_name": "Zed Example", "job_title": "Technician",
            "department": "Physics", "email": "zed@example.edu"
        }))
        .unwrap();
        NewStaff::parse(&request).unwrap()
    }

    fn search<'a>(words: &'a SearchWords, department: Option<&'a str>) -> Search<'a> {
        Search {
            words,
            department,
            page: 1,
            per_page: 100,
        }
    }

    #[test]
    fn the_copy_holds_the_demo_staff_in_the_seed_order() {
        let directory = Directory::demo(T0, MAX_RECORDS).unwrap();
        assert_eq!(directory.len(), 60);
        assert_eq!(directory.get(1).unwrap().record.username, "ajohnson");
        assert_eq!(directory.get(9).unwrap().record.username, "bokafor");
        assert_eq!(directory.get(1).unwrap().etag(), "\"v1\"");
        assert_eq!(directory.get(1).unwrap().record.updated_at, rfc3339(T0));
        assert!(directory.get(0).is_none());
        assert!(directory.get(61).is_none());
        assert!(directory.get(-1).is_none());
    }

    #[test]
    fn searches_match_word_prefixes_and_departments_and_pages() {
        let directory = Directory::demo(T0, MAX_RECORDS).unwrap();
        let words = SearchWords::parse("ALICE john");
        let (found, total) = directory.search(&search(&words, None));
        assert_eq!(total, 1);
        assert_eq!(found[0].username, "ajohnson");
        let none = SearchWords::parse("");
        let (chemists, total) = directory.search(&search(&none, Some("School of Chemistry")));
        assert_eq!(total, chemists.len());
        assert!(chemists.iter().any(|r| r.username == "bokafor"));
        assert!(
            chemists
                .iter()
                .all(|r| r.department == "School of Chemistry")
        );
        let page = Search {
            words: &none,
            department: None,
            page: 3,
            per_page: 25,
        };
        let (last, total) = directory.search(&page);
        assert_eq!((last.len(), total), (10, 60));
    }

    #[test]
    fn an_update_needs_the_version_it_was_computed_from() {
        let mut directory = Directory::demo(T0, MAX_RECORDS).unwrap();
        let request: StaffPatchRequest =
            serde_json::from_str(r#"{"job_title": "Professor"}"#).unwrap();
        let diff = StaffPatch::parse(request)
            .unwrap()
            .diff(&directory.get(1).unwrap().record);
        let row = directory.update(1, 1, &diff, T0 + 5).unwrap().unwrap();
        assert_eq!(row.record.job_title, "Professor");
        assert_eq!(row.record.updated_at, rfc3339(T0 + 5));
        assert_eq!(row.etag(), "\"v2\"");
        assert_eq!(
            directory.update(1, 1, &diff, T0 + 6).unwrap().unwrap_err(),
            "\"v2\""
        );
        assert!(directory.update(99, 1, &diff, T0).is_none());
    }

    #[test]
    fn creation_stops_at_the_cap_and_at_a_taken_username() {
        let mut directory = Directory::demo(T0, 62).unwrap();
        assert_eq!(
            directory.create(&new_staff("ajohnson"), T0).unwrap_err(),
            CreateError::UsernameTaken
        );
        assert_eq!(
            directory.create(&new_staff("zed1"), T0).unwrap().record.id,
            61
        );
        assert_eq!(
            directory.create(&new_staff("zed2"), T0).unwrap().record.id,
            62
        );
        assert_eq!(
            directory.create(&new_staff("zed3"), T0).unwrap_err(),
            CreateError::Full(62)
        );
        assert_eq!(directory.len(), 62);
        assert!(Directory::demo(T0, 59).is_err());
    }
}

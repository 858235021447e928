//! Reading the HR export: a CSV file with the header `username,display_name,job_title,
//! department,email` (any order) and optionally `family_name`, every row validated before
//! anything is changed.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use directory_api::domain::field::Field;
use directory_api::domain::name::last_word;

/// The columns the file must have, exactly (besides the optional [`Field::FamilyName`]).
pub const COLUMNS: [Field; 5] = [
    Field::Username,
    Field::DisplayName,
    Field::JobTitle,
    Field::Department,
    Field::Email,
];

/// One person in the HR export, every field parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HrRow {
    /// The line of the file it came from.
    pub line: u64,
    /// Their login.
    pub username: String,
    /// The HR-owned fields, in [`COLUMNS`] order after the username, then the family name:
    /// the file's, or the display name's last word when the file has no `family_name` column
    /// or leaves the cell empty.
    pub values: Vec<(Field, String)>,
}

/// Why a line of the file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The line (1 is the header).
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parses the whole file: all rows, or every error found (with its line number).
pub fn parse(reader: impl Read) -> Result<Vec<HrRow>, Vec<LineError>> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(reader);
    let header = match csv.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![LineError {
                line: 1,
                message: format!("unreadable header: {e}"),
            }]);
        }
    };
    let mut positions = HashMap::new();
    let mut errors = Vec::new();
    let known = COLUMNS.iter().chain([&Field::FamilyName]);
    for (i, name) in header.iter().enumerate() {
        match known.clone().find(|f| f.name() == name.trim()) {
            Some(field) if positions.insert(*field, i).is_some() => errors.push(LineError {
                line: 1,
                message: format!("the column {name} appears twice"),
            }),
            Some(_) => {}
            None => errors.push(LineError {
                line: 1,
                message: format!("unknown column {name:?}; the columns are username, display_name, job_title, department, email and optionally family_name"),
            }),
        }
    }
    for field in COLUMNS {
        if !positions.contains_key(&field) {
            errors.push(LineError {
                line: 1,
                message: format!("the column {} is missing", field.name()),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for record in csv.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(LineError {
                    line,
                    message: match e.kind() {
                        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => {
                            format!("{len} fields where the header has {expected_len}")
                        }
                        _ => format!("unreadable: {e}"),
                    },
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let mut values = Vec::new();
        let mut username = String::new();
        let cell = |field: Field| {
            positions
                .get(&field)
                .and_then(|i| record.get(*i))
                .unwrap_or("")
        };
        let family_name = match cell(Field::FamilyName) {
            "" => last_word(cell(Field::DisplayName)),
            given => given,
        };
        let raw = COLUMNS
            .iter()
            .map(|f| (*f, cell(*f)))
            .chain([(Field::FamilyName, family_name)]);
        for (field, raw) in raw {
            // A family name implied by a bad display name adds nothing to the display name's error.
            if field == Field::FamilyName
                && cell(Field::FamilyName).is_empty()
                && Field::DisplayName.parse(cell(Field::DisplayName)).is_err()
            {
                continue;
            }
            match field.parse(raw) {
                Ok(v) if field == Field::Username => username = v,
                Ok(v) => values.push((field, v)),
                Err(e) => errors.push(LineError {
                    line,
                    message: format!("{}: {}", e.field, e.message),
                }),
            }
        }
        if !username.is_empty() && !seen.insert(username.clone()) {
            errors.push(LineError {
                line,
                message: format!("username {username} appears earlier in the file"),
            });
        }
        rows.push(HrRow {
            line,
            username,
            values,
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_in_any_order_and_quoted_fields() {
        let file = "email,username,job_title,department,display_name\n\
                    ajohnson@example.edu,ajohnson,\"Lecturer, Cyber Security\",School of Computer Science,Dr Alice Johnson\n";
        let rows = parse(file.as_bytes()).unwrap();
        assert_eq!(rows[0].username, "ajohnson");
        assert!(
            rows[0]
                .values
                .contains(&(Field::JobTitle, "Lecturer, Cyber Security".into()))
        );
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let file = "username,display_name,job_title,department,email\n\
                    ok,Ok Person,Lecturer,School,ok@example.edu\n\
                    Bad Name,X,Lecturer,School,bad@example.edu\n\
                    ok,Again,Lecturer,School,again@example.edu\n\
                    short,row\n\
                    mail,Mail Person,Lecturer,School,not-an-email\n";
        let errors = parse(file.as_bytes()).unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6], "{errors:?}");
    }

    #[test]
    fn the_family_name_is_the_files_or_the_display_names_last_word() {
        let family = |file: &str| -> Vec<String> {
            parse(file.as_bytes())
                .unwrap()
                .iter()
                .map(|r| {
                    r.values
                        .iter()
                        .find(|(f, _)| *f == Field::FamilyName)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                })
                .collect()
        };
        let without = "username,display_name,job_title,department,email\n\
                       ajohnson,Dr Alice Johnson,Lecturer,School,a@example.edu\n";
        assert_eq!(family(without), ["Johnson"]);
        let with = "username,family_name,display_name,job_title,department,email\n\
                    ggm,García Márquez,Gabriel García Márquez,Writer,English,g@example.edu\n\
                    ajohnson,,Dr Alice Johnson,Lecturer,School,a@example.edu\n";
        assert_eq!(family(with), ["García Márquez", "Johnson"]);
        let bad = "username,display_name,family_name,job_title,department,email\n\
                   x,X Person, padded,Lecturer,School,x@example.edu\n";
        let errors = parse(bad.as_bytes()).unwrap_err();
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].message.starts_with("family_name:"), "{errors:?}");
    }

    #[test]
    fn the_header_must_name_exactly_the_columns() {
        let errors = parse("username,display_name,title\n".as_bytes()).unwrap_err();
        assert!(errors.iter().all(|e| e.line == 1));
        assert!(errors.len() >= 3);
    }
}

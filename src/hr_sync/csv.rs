//! Reading the HR export: a CSV file with the header `username,display_name,job_title,
//! department,email` (any order), every row validated before anything is changed.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use directory_api::domain::field::Field;

/// The columns the file must have, exactly.
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
    /// The HR-owned fields, in [`COLUMNS`] order after the username.
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
    for (i, name) in header.iter().enumerate() {
        match COLUMNS.iter().find(|f| f.name() == name.trim()) {
            Some(field) if positions.insert(*field, i).is_some() => errors.push(LineError {
                line: 1,
                message: format!("the column {name} appears twice"),
            }),
            Some(_) => {}
            None => errors.push(LineError {
                line: 1,
                message: format!("unknown column {name:?}; the columns are username, display_name, job_title, department, email"),
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
        for field in COLUMNS {
            let raw = positions
                .get(&field)
                .and_then(|i| record.get(*i))
                .unwrap_or("");
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
    fn the_header_must_name_exactly_the_columns() {
        let errors = parse("username,display_name,title\n".as_bytes()).unwrap_err();
        assert!(errors.iter().all(|e| e.line == 1));
        assert!(errors.len() >= 3);
    }
}

//! Reconciling the HR export with the directory: what to create, update and retire. Pure: the
//! directory as read, the file as parsed, in; the actions out.

use std::collections::HashMap;

use directory_api::domain::field::Field;
use directory_api::domain::staff::StaffRecord;

use super::csv::HrRow;

/// One change to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Someone new in the file.
    Create(HrRow),
    /// HR-owned fields that differ (staff-edited fields are never touched).
    Update {
        /// The record.
        id: i64,
        /// Its username.
        username: String,
        /// The fields to set, with their old values.
        changes: Vec<(Field, String, String)>,
    },
    /// Someone no longer in the file.
    Retire {
        /// The record.
        id: i64,
        /// Its username.
        username: String,
    },
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Create(row) => write!(f, "create {}", row.username),
            Action::Update {
                username, changes, ..
            } => {
                write!(f, "update {username}:")?;
                for (field, old, new) in changes {
                    write!(f, " {field} {old:?} -> {new:?};")?;
                }
                Ok(())
            }
            Action::Retire { username, .. } => write!(f, "retire {username}"),
        }
    }
}

/// The plan of a run.
#[derive(Debug, Default)]
pub struct Plan {
    /// The changes, creations first, retirements last.
    pub actions: Vec<Action>,
    /// Rows already in step.
    pub unchanged: usize,
}

impl Plan {
    /// How many records the plan retires.
    pub fn retirements(&self) -> usize {
        self.actions
            .iter()
            .filter(|a| matches!(a, Action::Retire { .. }))
            .count()
    }
}

/// Compares the file with the live directory.
pub fn plan(file: &[HrRow], directory: &[StaffRecord]) -> Plan {
    let by_username: HashMap<&str, &StaffRecord> =
        directory.iter().map(|r| (r.username.as_str(), r)).collect();
    let mut plan = Plan::default();
    let mut updates = Vec::new();
    for row in file {
        match by_username.get(row.username.as_str()) {
            None => plan.actions.push(Action::Create(row.clone())),
            Some(record) => {
                let changes: Vec<(Field, String, String)> = row
                    .values
                    .iter()
                    .filter(|(field, value)| record.value(*field) != value)
                    .map(|(field, value)| (*field, record.value(*field).to_owned(), value.clone()))
                    .collect();
                if changes.is_empty() {
                    plan.unchanged += 1;
                } else {
                    updates.push(Action::Update {
                        id: record.id,
                        username: record.username.clone(),
                        changes,
                    });
                }
            }
        }
    }
    plan.actions.extend(updates);
    let in_file: std::collections::HashSet<&str> =
        file.iter().map(|r| r.username.as_str()).collect();
    for record in directory {
        if !in_file.contains(record.username.as_str()) {
            plan.actions.push(Action::Retire {
                id: record.id,
                username: record.username.clone(),
            });
        }
    }
    plan
}

//! The pages, as askama templates: each struct is the data one page shows. Every page says
//! which token fetched its data (`token_used`).

use askama::Template;

use crate::claims::ClaimRow;
use crate::history::ChangeLine;
use crate::try_it::Attack;
use crate::try_it::shown::{ShownAnswer, ShownRequest};

/// The visitor's account state, for the header of every page.
#[derive(Debug, Clone, Default)]
pub struct Account {
    /// The signed-in member of staff, if any.
    pub username: Option<String>,
    /// The session's CSRF token (for the sign-out form; empty when signed out).
    pub csrf: String,
}

/// A field's error on a form.
#[derive(Debug, Clone)]
pub struct FieldMessage {
    /// The field's name.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FieldMessage {
    /// The field's label, as the form shows it: the error summary links to the field by it.
    pub fn label(&self) -> &str {
        match self.field.as_str() {
            "phone" => "Phone",
            "office" => "Office",
            "bio" => "Biography",
            "research_interests" => "Research interests",
            other => other,
        }
    }
}

/// One department in the search filter.
#[derive(Debug, Clone)]
pub struct DepartmentOption {
    /// Its name.
    pub name: String,
    /// How many people it has.
    pub staff: i64,
    /// Whether it is the current filter.
    pub selected: bool,
}

/// One member of staff in the directory list.
#[derive(Debug, Clone)]
pub struct StaffSummary {
    /// Record id (the link is `/staff/{id}`).
    pub id: i64,
    /// Name as shown.
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
    /// Whether there is a photo (its thumbnail is `/staff/{id}/photo/thumb`).
    pub has_photo: bool,
    /// The initials shown instead when there is none.
    pub initials: String,
}

/// `/`: the directory, with search, department filter and pagination.
#[derive(Template)]
#[template(path = "directory.html")]
pub struct DirectoryPage {
    /// The page title.
    pub title: String,
    /// Which token fetched the data, in words.
    pub token_used: String,
    /// The visitor\'s account state.
    pub account: Account,
    /// The search text as typed.
    pub q: String,
    /// The department filter ("" for all).
    pub department: String,
    /// Every department, for the filter.
    pub departments: Vec<DepartmentOption>,
    /// This page of results.
    pub items: Vec<StaffSummary>,
    /// Matches in all.
    pub total: i64,
    /// This page's number, from 1.
    pub page: i64,
    /// Pages in all (at least 1).
    pub pages: i64,
    /// Link to the previous page, if any (already URL-encoded).
    pub prev_link: Option<String>,
    /// Link to the next page, if any (already URL-encoded).
    pub next_link: Option<String>,
    /// The initial of family names shown ("" for everyone), A to Z.
    pub initial: String,
    /// The A–Z bar.
    pub alphabet: Vec<AlphabetLetter>,
    /// The same search and department with every letter (already URL-encoded).
    pub everyone_link: String,
    /// The first page of these results (already URL-encoded).
    pub first_page_link: String,
}

/// One letter of the directory's A–Z bar.
pub struct AlphabetLetter {
    /// A to Z.
    pub letter: char,
    /// The directory under this letter (already URL-encoded); none when nobody is under it.
    pub link: Option<String>,
    /// How many people are under it.
    pub staff: i64,
    /// Whether it is the letter shown.
    pub current: bool,
}

/// `/staff/{id}`: one member of staff.
#[derive(Template)]
#[template(path = "staff.html")]
pub struct StaffPage {
    /// The page title.
    pub title: String,
    /// Which token fetched the data, in words.
    pub token_used: String,
    /// The visitor\'s account state.
    pub account: Account,
    /// Record id (the photo is `/staff/{id}/photo`).
    pub id: i64,
    /// Whether there is a photo.
    pub has_photo: bool,
    /// The initials shown instead when there is none.
    pub initials: String,
    /// Name as shown.
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
    /// The biography, one entry per paragraph (may be empty).
    pub bio_paragraphs: Vec<String>,
    /// Research interests, one entry each (may be empty).
    pub research_interests: Vec<String>,
    /// When the record last changed (RFC 3339).
    pub updated_at: String,
    /// The same, for people ("26 November 2026").
    pub updated_display: String,
}

/// The initials of a name, for the placeholder shown when someone has no photo: the first
/// letters of the first and last words, titles (Dr, Prof…) left out.
pub fn initials(name: &str) -> String {
    const TITLES: [&str; 8] = ["dr", "prof", "professor", "mr", "mrs", "ms", "miss", "mx"];
    let words: Vec<&str> = name
        .split_whitespace()
        .filter(|w| !TITLES.contains(&w.trim_end_matches('.').to_lowercase().as_str()))
        .collect();
    let first_letter = |w: &str| w.chars().find(|c| c.is_alphanumeric());
    let letters = match words.as_slice() {
        [] => Vec::new(),
        [only] => vec![first_letter(only)],
        [first, .., last] => vec![first_letter(first), first_letter(last)],
    };
    letters
        .into_iter()
        .flatten()
        .flat_map(char::to_uppercase)
        .collect()
}

/// `/how-it-works`: the two grants side by side, and the site's, the signed-in person's and
/// the HR job's tokens compared claim by claim (live and decoded for the two the site holds,
/// never the tokens themselves; the HR job's as documented).
#[derive(Template)]
#[template(path = "how_it_works.html")]
pub struct HowItWorksPage {
    /// The page title.
    pub title: String,
    /// Which token fetched the data, in words.
    pub token_used: String,
    /// The visitor\'s account state.
    pub account: Account,
    /// The comparison, claim by claim.
    pub rows: Vec<ClaimRow>,
    /// What each token may do: the site's, the person's, the HR job's.
    pub may_do: [&'static str; 3],
    /// Why the app's token could not be shown, if it could not.
    pub app_token_problem: Option<String>,
    /// The authorization server's issuer, for the links to its metadata.
    pub issuer: String,
    /// The signed-in member of staff's username (as the authorization server gave it at
    /// sign-in), when someone is signed in and their token can be shown.
    pub person: Option<String>,
    /// Which grant the signed-in member of staff signed in with, in a sentence.
    pub signed_in_with: Option<String>,
}

/// The outcome of one attack on `/try-it`.
#[derive(Debug, Clone)]
pub struct TryItResult {
    /// The attack.
    pub attack: Attack,
    /// The request sent.
    pub request: ShownRequest,
    /// The API's answer.
    pub answer: ShownAnswer,
    /// What was checked afterwards ("Record 4 is still at version "v1": nothing was written.").
    pub afterwards: String,
    /// Whether that check found nothing changed.
    pub unchanged: bool,
}

/// `/try-it`: the guide's attacks, each a button; after one has run, its request and the API's
/// answer.
#[derive(Template)]
#[template(path = "try_it.html")]
pub struct TryItPage {
    /// The page title.
    pub title: String,
    /// Which token fetched the data, in words.
    pub token_used: String,
    /// The visitor's account state.
    pub account: Account,
    /// The forms' CSRF token.
    pub csrf: String,
    /// Whether a member of staff is signed in (their attacks are offered).
    pub signed_in: bool,
    /// The attacks with the site's own token.
    pub site_attacks: Vec<Attack>,
    /// The attacks with the signed-in person's token.
    pub person_attacks: Vec<Attack>,
    /// The attack just run, if any.
    pub result: Option<TryItResult>,
    /// Why an attack was not run, if it was not.
    pub refusal: Option<String>,
}

/// Any error page (404, 500, 503…).
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// The page title.
    pub title: String,
    /// Which token fetched the data, in words ("no data was fetched" here).
    pub token_used: String,
    /// The visitor\'s account state.
    pub account: Account,
    /// The HTTP status.
    pub status: u16,
    /// A short heading.
    pub heading: String,
    /// What happened and what to do, in a sentence or two.
    pub message: String,
}

/// `/sign-in`: the ways in, the authorization code flow first, then the password form, each
/// shown only when `--sign-in-methods` offers it.
#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    /// The page title.
    pub title: String,
    /// Which token fetched the data, in words.
    pub token_used: String,
    /// The visitor's account state.
    pub account: Account,
    /// Whether "Sign in with the university login" (`/sign-in/start`) is offered.
    pub code_flow: bool,
    /// Whether the password form is offered.
    pub password: bool,
    /// The form's CSRF token.
    pub csrf: String,
    /// The username as typed (kept after a failed attempt).
    pub username: String,
    /// Why the last attempt failed, if it did.
    pub error: Option<String>,
}

/// One field's value on both sides of a conflict.
#[derive(Debug, Clone)]
pub struct ConflictRow {
    /// The field's label.
    pub label: String,
    /// The value now saved.
    pub saved: String,
    /// The value the member of staff tried to save.
    pub attempted: String,
}

impl ProfilePage {
    /// The error of `field`, to show beside it.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// `/profile`: edit one's own record (staff-editable fields).
#[derive(Template)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    /// The page title.
    pub title: String,
    /// Which token fetched the data, in words.
    pub token_used: String,
    /// The visitor's account state.
    pub account: Account,
    /// Which grant they signed in with, in a sentence.
    pub signed_in_with: String,
    /// The form's CSRF token.
    pub csrf: String,
    /// The record's id.
    pub id: i64,
    /// The ETag the form edits (sent back as If-Match).
    pub etag: String,
    /// HR-owned, shown read-only.
    pub display_name: String,
    /// HR-owned.
    pub job_title: String,
    /// HR-owned.
    pub department: String,
    /// HR-owned.
    pub email: String,
    /// Editable.
    pub phone: String,
    /// Editable.
    pub office: String,
    /// Editable.
    pub bio: String,
    /// Editable.
    pub research_interests: String,
    /// A success message, after a save.
    pub saved: Option<String>,
    /// Errors by field, after a refused save.
    pub errors: Vec<FieldMessage>,
    /// Whether the record has a photo.
    pub has_photo: bool,
    /// The initials shown instead when there is none.
    pub initials: String,
    /// Why the last photo upload was refused, in plain words, shown beside the file field.
    pub photo_error: Option<String>,
    /// When someone else changed the record meanwhile: both versions, field by field.
    pub conflict: Vec<ConflictRow>,
    /// The recent changes to the record, newest first, when they were read.
    pub history: Option<Vec<ChangeLine>>,
    /// Why the recent changes are not shown, when they could not be read.
    pub history_unavailable: bool,
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_leave_titles_out() {
        assert_eq!(initials("Dr Alice Johnson"), "AJ");
        assert_eq!(initials("Prof. María José de la Fuente"), "MF");
        assert_eq!(initials("Ben Okafor"), "BO");
        assert_eq!(initials("Ōsaka"), "Ō");
        assert_eq!(initials("Dr"), "");
        assert_eq!(initials("  "), "");
    }
}

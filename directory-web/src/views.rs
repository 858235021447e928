//! The pages, as askama templates: each struct is the data one page shows. Every page says
//! which token fetched its data (`token_used`).

use askama::Template;

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
}

/// `/`: the directory, with search, department filter and pagination.
#[derive(Template)]
#[template(path = "directory.html")]
pub struct DirectoryPage {
    /// The page title.
    pub title: String,
    /// Which token fetched the data, in words.
    pub token_used: String,
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
}

/// `/staff/{id}`: one member of staff.
#[derive(Template)]
#[template(path = "staff.html")]
pub struct StaffPage {
    /// The page title.
    pub title: String,
    /// Which token fetched the data, in words.
    pub token_used: String,
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
}

/// One claim of a decoded token, for the teaching page.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The claim's name (`iss`, `sub`, `scope`…).
    pub name: String,
    /// Its value, as JSON text.
    pub value: String,
    /// What it means, in a sentence.
    pub meaning: String,
}

/// `/how-it-works`: the two grants side by side, with the live, decoded claims of the app's
/// own token (never the token itself).
#[derive(Template)]
#[template(path = "how_it_works.html")]
pub struct HowItWorksPage {
    /// The page title.
    pub title: String,
    /// Which token fetched the data, in words.
    pub token_used: String,
    /// The claims of the app's own token, if it could be had.
    pub app_claims: Vec<Claim>,
    /// Why the app's token could not be shown, if it could not.
    pub app_token_problem: Option<String>,
    /// The authorization server's issuer, for the links to its metadata.
    pub issuer: String,
}

/// Any error page (404, 500, 503…).
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// The page title.
    pub title: String,
    /// Which token fetched the data, in words ("no data was fetched" here).
    pub token_used: String,
    /// The HTTP status.
    pub status: u16,
    /// A short heading.
    pub heading: String,
    /// What happened and what to do, in a sentence or two.
    pub message: String,
}

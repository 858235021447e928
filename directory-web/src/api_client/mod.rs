//! The directory API as the website calls it: its records, and how each of its answers is
//! read (`ApiFailure`, `Saved`); staff photos are [`photos`]'. Every call carries the page's
//! request id ([`crate::outbound::request_id_header`]).

pub mod photos;

use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::history::HistoryEntry;
use crate::outbound::request_id_header;

mod attempt;

pub use attempt::{Attempt, RawAnswer};

/// A staff record as the API returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct StaffRecord {
    /// Id.
    pub id: i64,
    /// Login.
    pub username: String,
    /// Name as shown.
    pub display_name: String,
    /// Job title.
    pub job_title: String,
    /// School or department.
    pub department: String,
    /// Work email.
    pub email: String,
    /// Work phone.
    pub phone: String,
    /// Office.
    pub office: String,
    /// Biography.
    pub bio: String,
    /// Research interests, comma-separated.
    pub research_interests: String,
    /// Whether the record has a photo.
    #[serde(default)]
    pub has_photo: bool,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// One page of search results.
#[derive(Debug, Clone, Deserialize)]
pub struct StaffPage {
    /// The records.
    pub items: Vec<StaffRecord>,
    /// Page number.
    pub page: i64,
    /// Records per page.
    pub per_page: i64,
    /// Matches in all.
    pub total: i64,
    /// The initials that have anybody matching the search and department (asked for with
    /// `letters=true`), A to Z.
    #[serde(default)]
    pub letters: Vec<Letter>,
}

/// An initial of the A–Z bar with how many people are under it.
#[derive(Debug, Clone, Deserialize)]
pub struct Letter {
    /// The letter, A to Z.
    pub letter: String,
    /// People under it.
    pub staff: i64,
}

/// A department with its head count.
#[derive(Debug, Clone, Deserialize)]
pub struct Department {
    /// Name.
    pub name: String,
    /// Live records.
    pub staff: i64,
}

/// How a call to the API failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiFailure {
    /// 401: the token was refused.
    #[error("the API refused the token")]
    Unauthorized,
    /// 404.
    #[error("not found")]
    NotFound,
    /// 400: the API found the request's input wrong; its detail is kept.
    #[error("the API refused the input: {0}")]
    BadInput(String),
    /// The API could not be reached or answered 5xx.
    #[error("the API is unavailable: {0}")]
    Unavailable(String),
}

/// A client of the directory API.
pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// Sends `request`; a request that reaches no answer is [`ApiFailure::Unavailable`].
async fn sent(request: reqwest::RequestBuilder) -> Result<reqwest::Response, ApiFailure> {
    request
        .send()
        .await
        .map_err(|e| ApiFailure::Unavailable(e.to_string()))
}

impl Api {
    /// A client for the API at `base`.
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Self {
            http,
            base: base.to_owned(),
        })
    }

    /// A request to the API's `path` with the bearer `token` and the page's request id.
    fn authorized(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .headers(request_id_header())
    }

    async fn get<T: DeserializeOwned>(
        &self,
        token: &SecretString,
        path_and_query: &str,
    ) -> Result<T, ApiFailure> {
        let response =
            sent(self.authorized(reqwest::Method::GET, path_and_query, token.expose_secret()))
                .await?;
        match response.status().as_u16() {
            200 => response
                .json()
                .await
                .map_err(|e| ApiFailure::Unavailable(format!("unreadable answer: {e}"))),
            401 => Err(ApiFailure::Unauthorized),
            404 => Err(ApiFailure::NotFound),
            400 => Err(bad_input(response, "bad input").await),
            status => Err(ApiFailure::Unavailable(format!(
                "the API answered {status}"
            ))),
        }
    }

    /// Whether the API answers its liveness check (`GET /healthz`), for readiness.
    pub async fn alive(&self) -> Result<(), ApiFailure> {
        let response = sent(
            self.http
                .get(format!("{}/healthz", self.base))
                .headers(request_id_header())
                .timeout(Duration::from_secs(2)),
        )
        .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(ApiFailure::Unavailable(format!(
                "the API answered {}",
                response.status()
            )))
        }
    }

    /// A page of the directory (of one initial of family names, unless `initial` is empty),
    /// with the initials that have anybody.
    pub async fn search(
        &self,
        token: &SecretString,
        q: &str,
        department: &str,
        initial: &str,
        page: i64,
    ) -> Result<StaffPage, ApiFailure> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("q", q)
            .append_pair("department", department)
            .append_pair("initial", initial)
            .append_pair("letters", "true")
            .append_pair("page", &page.to_string())
            .append_pair("per_page", "24")
            .finish();
        self.get(token, &format!("/staff?{query}")).await
    }

    /// One record.
    pub async fn staff(&self, token: &SecretString, id: i64) -> Result<StaffRecord, ApiFailure> {
        self.get(token, &format!("/staff/{id}")).await
    }

    /// The departments.
    pub async fn departments(&self, token: &SecretString) -> Result<Vec<Department>, ApiFailure> {
        self.get(token, "/departments").await
    }

    /// The history of record `id`, oldest first (`GET /staff/{id}/history`: the API allows a
    /// member of staff's token their own record's only).
    pub async fn history(
        &self,
        token: &SecretString,
        id: i64,
    ) -> Result<Vec<HistoryEntry>, ApiFailure> {
        self.get(token, &format!("/staff/{id}/history")).await
    }
}

/// How saving one's own profile ended.
#[derive(Debug)]
pub enum Saved {
    /// Saved.
    Done,
    /// The record changed since it was read (412): nothing was written.
    Conflict,
    /// Values refused by the API (400), by field.
    Invalid(Vec<(String, String)>),
}

impl Api {
    /// The caller's own record and its ETag (`GET /me` with the member of staff's token).
    pub async fn me(&self, token: &SecretString) -> Result<(StaffRecord, String), ApiFailure> {
        self.versioned(token, "/me").await
    }

    /// One record and its ETag (`GET /staff/{id}`).
    pub async fn version(
        &self,
        token: &SecretString,
        id: i64,
    ) -> Result<(StaffRecord, String), ApiFailure> {
        self.versioned(token, &format!("/staff/{id}")).await
    }

    /// The record at `path` and its ETag.
    async fn versioned(
        &self,
        token: &SecretString,
        path: &str,
    ) -> Result<(StaffRecord, String), ApiFailure> {
        let response =
            sent(self.authorized(reqwest::Method::GET, path, token.expose_secret())).await?;
        match response.status().as_u16() {
            200 => {
                let etag = response
                    .headers()
                    .get(reqwest::header::ETAG)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let record = response
                    .json()
                    .await
                    .map_err(|e| ApiFailure::Unavailable(format!("unreadable answer: {e}")))?;
                Ok((record, etag))
            }
            401 => Err(ApiFailure::Unauthorized),
            404 => Err(ApiFailure::NotFound),
            status => Err(ApiFailure::Unavailable(format!(
                "the API answered {status}"
            ))),
        }
    }

    /// Saves the staff-editable fields of the caller's own record, if it is still at `etag`.
    pub async fn save_own(
        &self,
        token: &SecretString,
        id: i64,
        etag: &str,
        fields: &serde_json::Value,
    ) -> Result<Saved, ApiFailure> {
        let response = sent(
            self.authorized(
                reqwest::Method::PATCH,
                &format!("/staff/{id}"),
                token.expose_secret(),
            )
            .header(reqwest::header::IF_MATCH, etag)
            .json(fields),
        )
        .await?;
        match response.status().as_u16() {
            200 => Ok(Saved::Done),
            412 | 428 => Ok(Saved::Conflict),
            400 => {
                let problem = problem_of(response).await;
                let errors = problem["errors"]
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .map(|e| {
                                (
                                    e["field"].as_str().unwrap_or("form").to_owned(),
                                    e["message"].as_str().unwrap_or("invalid").to_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_else(|| {
                        vec![(
                            "form".to_owned(),
                            problem["detail"].as_str().unwrap_or("invalid").to_owned(),
                        )]
                    });
                Ok(Saved::Invalid(errors))
            }
            401 => Err(ApiFailure::Unauthorized),
            404 => Err(ApiFailure::NotFound),
            403 => Err(bad_input(response, "refused").await),
            status => Err(ApiFailure::Unavailable(format!(
                "the API answered {status}"
            ))),
        }
    }
}

/// A refusal the visitor can act on: the problem's `detail`, or `fallback` when it has none.
async fn bad_input(response: reqwest::Response, fallback: &str) -> ApiFailure {
    let problem = problem_of(response).await;
    ApiFailure::BadInput(problem["detail"].as_str().unwrap_or(fallback).to_owned())
}

/// The problem document (RFC 9457) of an error answer. One the API cannot have sent (not JSON)
/// is logged and read as an empty problem, so the visitor sees the generic message.
async fn problem_of(response: reqwest::Response) -> serde_json::Value {
    match response.json().await {
        Ok(problem) => problem,
        Err(e) => {
            tracing::warn!(error = %e, "the API's error answer is not a readable problem document");
            serde_json::Value::Null
        }
    }
}

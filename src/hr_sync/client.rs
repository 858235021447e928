//! The HR job's view of the directory API: its own `client_credentials` token (renewed when
//! it expires or is refused), and requests retried with backoff when the failure is transient.

use std::time::Duration;

use anyhow::Context as _;
use directory_api::domain::staff::StaffRecord;
use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, EndpointNotSet, EndpointSet, TokenResponse as _, TokenUrl};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

type OAuthClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Attempts per request when the failure is transient (5xx, 429, connection errors).
const ATTEMPTS: u32 = 4;
/// The first pause between attempts; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// A client of the directory API acting as the HR job.
pub struct DirectoryClient {
    http: reqwest::Client,
    api: String,
    oauth: OAuthClient,
    token: Mutex<Option<SecretString>>,
}

#[derive(Deserialize)]
struct Page {
    items: Vec<StaffRecord>,
    total: i64,
}

impl DirectoryClient {
    /// A client for `api`, getting tokens from `token_url` as `client_id`.
    pub fn new(
        api: &str,
        token_url: &str,
        client_id: &str,
        client_secret: &SecretString,
    ) -> anyhow::Result<Self> {
        // Timeouts, and no redirects: the oauth2 crate's advice against SSRF.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let oauth = BasicClient::new(ClientId::new(client_id.to_owned()))
            .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_owned()))
            .set_token_uri(
                TokenUrl::new(token_url.to_owned()).context("the token URL is malformed")?,
            );
        Ok(Self {
            http,
            api: api.trim_end_matches('/').to_owned(),
            oauth,
            token: Mutex::new(None),
        })
    }

    /// The current token, fetched if there is none (or `renew`).
    async fn token(&self, renew: bool) -> anyhow::Result<SecretString> {
        let mut token = self.token.lock().await;
        if let Some(t) = token.as_ref().filter(|_| !renew) {
            return Ok(t.clone());
        }
        let response = self
            .oauth
            .exchange_client_credentials()
            .request_async(&self.http)
            .await
            .map_err(|e| anyhow::anyhow!("cannot get the HR job's token: {e}"))?;
        let fresh = SecretString::from(response.access_token().secret().to_owned());
        *token = Some(fresh.clone());
        Ok(fresh)
    }

    /// Sends a request built by `build`, renewing the token once on a 401 and retrying
    /// transient failures with exponential backoff. Other answers are returned as they are.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> anyhow::Result<Response> {
        let url = format!("{}{path}", self.api);
        let mut renewed = false;
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self.token(false).await?;
            let result = build(
                self.http
                    .request(method.clone(), &url)
                    .bearer_auth(token.expose_secret()),
            )
            .send()
            .await;
            let transient = match &result {
                Ok(r) if r.status() == StatusCode::UNAUTHORIZED && !renewed => {
                    // Expired mid-run (or revoked): one new token, then the same request.
                    renewed = true;
                    self.token(true).await?;
                    attempt -= 1;
                    continue;
                }
                Ok(r) => {
                    r.status().is_server_error() || r.status() == StatusCode::TOO_MANY_REQUESTS
                }
                Err(e) => e.is_connect() || e.is_timeout() || e.is_request(),
            };
            if !transient || attempt >= ATTEMPTS {
                return result.with_context(|| format!("{method} {path} failed"));
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }

    /// Every live record, page by page.
    pub async fn all_records(&self) -> anyhow::Result<Vec<StaffRecord>> {
        let mut records = Vec::new();
        for page in 1.. {
            let response = self
                .send(
                    Method::GET,
                    &format!("/staff?per_page=100&page={page}"),
                    |r| r,
                )
                .await?;
            let page: Page = expect(response, StatusCode::OK).await?.json().await?;
            let done = page.items.is_empty()
                || records.len() + page.items.len() >= usize::try_from(page.total).unwrap_or(0);
            records.extend(page.items);
            if done {
                break;
            }
        }
        Ok(records)
    }

    /// One record and its ETag.
    pub async fn record(&self, id: i64) -> anyhow::Result<(StaffRecord, String)> {
        let response = expect(
            self.send(Method::GET, &format!("/staff/{id}"), |r| r)
                .await?,
            StatusCode::OK,
        )
        .await?;
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .context("the record came without an ETag")?
            .to_owned();
        Ok((response.json().await?, etag))
    }
}

/// The response if it has `status`; otherwise an error quoting the problem's detail.
pub async fn expect(response: Response, status: StatusCode) -> anyhow::Result<Response> {
    if response.status() == status {
        return Ok(response);
    }
    let got = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let detail = body["detail"].as_str().unwrap_or("no detail");
    anyhow::bail!("the API answered {got}: {detail}")
}

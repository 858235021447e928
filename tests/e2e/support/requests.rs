//! The one set of OAuth request builders (token grants, introspection, any form POST to the
//! auth server) and the [`TestStack`] shortcuts that send them to the stack's auth server.

use base64::Engine as _;
use reqwest::Response;
use serde_json::Value;

use super::assertions::ok_json;
use super::seed::{TestClient, TestUser};
use super::stack::TestStack;

/// How a client authenticates in a request.
#[derive(Clone, Copy, Debug)]
pub enum Auth {
    /// `client_secret_basic`, form-encoded per RFC 6749 Appendix B.
    Basic,
    /// `client_secret_post`.
    Post,
}

/// `application/x-www-form-urlencoded` serialisation.
pub fn encode_form(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The `Authorization: Basic` value of RFC 6749 §2.3.1: id and secret form-encoded first.
pub fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", enc(id), enc(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// A form POST to `url`, the client (if any) authenticating as `auth` says.
pub fn form_post(
    http: &reqwest::Client,
    url: &str,
    client: Option<(&TestClient, Auth)>,
    form: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    let mut pairs: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut request = http.post(url);
    match client {
        Some((c, Auth::Basic)) => {
            request = request.header("Authorization", basic(&c.id, &c.secret))
        }
        Some((c, Auth::Post)) => {
            pairs.push(("client_id".into(), c.id.clone()));
            pairs.push(("client_secret".into(), c.secret.clone()));
        }
        None => {}
    }
    request
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(encode_form(&pairs))
}

/// A token request to the auth server at `auth_url`, `client_secret_basic`.
pub fn token_request(
    http: &reqwest::Client,
    auth_url: &str,
    client: &TestClient,
    form: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    form_post(
        http,
        &format!("{auth_url}/oauth/token"),
        Some((client, Auth::Basic)),
        form,
    )
}

/// A `client_credentials` request for `client`.
pub fn client_credentials(
    http: &reqwest::Client,
    auth_url: &str,
    client: &TestClient,
) -> reqwest::RequestBuilder {
    token_request(
        http,
        auth_url,
        client,
        &[("grant_type", "client_credentials")],
    )
}

/// A password-grant request for `user` through `client` (the web app's).
pub fn password_grant(
    http: &reqwest::Client,
    auth_url: &str,
    client: &TestClient,
    user: TestUser<'_>,
) -> reqwest::RequestBuilder {
    token_request(
        http,
        auth_url,
        client,
        &[
            ("grant_type", "password"),
            ("username", user.username),
            ("password", user.password),
        ],
    )
}

/// A refresh request by `client` (the web app's).
pub fn refresh_grant(
    http: &reqwest::Client,
    auth_url: &str,
    client: &TestClient,
    refresh_token: &str,
) -> reqwest::RequestBuilder {
    token_request(
        http,
        auth_url,
        client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
}

/// The access token of a successful token response.
pub async fn access_token(response: Response) -> String {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// Sends a token request and returns the access token of its 200 answer.
pub async fn token_from(request: reqwest::RequestBuilder) -> String {
    access_token(request.send().await.unwrap()).await
}

/// A body of `n` bytes of `a=xxxx…` form data.
pub fn big_form(n: usize) -> String {
    let mut body = String::from("a=");
    body.push_str(&"x".repeat(n));
    body
}

/// Shortcuts that send these requests to the stack's auth server.
impl TestStack {
    /// POSTs a form to an auth-server endpoint, the client authenticating as `auth` says.
    pub async fn post_form(
        &self,
        path: &str,
        client: Option<(&TestClient, Auth)>,
        form: &[(&str, &str)],
    ) -> Response {
        form_post(&self.http, &self.auth_url(path), client, form)
            .send()
            .await
            .unwrap()
    }

    /// POSTs `form` to `/oauth/token` as `client` (`client_secret_basic`), answer unchecked.
    pub async fn token(&self, client: &TestClient, form: &[(&str, &str)]) -> Response {
        token_request(&self.http, &self.auth.base_url, client, form)
            .send()
            .await
            .unwrap()
    }

    /// A `client_credentials` request authenticated as `client`, answer unchecked.
    pub async fn client_credentials(&self, client: &TestClient) -> Response {
        client_credentials(&self.http, &self.auth.base_url, client)
            .send()
            .await
            .unwrap()
    }

    /// A client_credentials token, asserting success.
    pub async fn client_token(&self, client: &TestClient, scope: Option<&str>) -> Value {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        ok_json(self.token(client, &form).await).await
    }

    /// The web app's own access token.
    pub async fn web_app_token(&self) -> String {
        self.client_token(&self.web_client, None).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The HR job's access token.
    pub async fn hr_token(&self) -> String {
        self.client_token(&self.hr_client, None).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Signs a user in through the web client, returning the raw response.
    pub async fn sign_in(&self, username: &str, password: &str) -> Response {
        self.token(
            &self.web_client,
            &[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Signs `user` in, asserting success; the token response.
    pub async fn user_tokens(&self, user: TestUser<'_>) -> Value {
        ok_json(self.sign_in(user.username, user.password).await).await
    }

    /// A member of staff's access token.
    pub async fn user_token(&self, user: TestUser<'_>) -> String {
        self.user_tokens(user).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Refreshes with the web client.
    pub async fn refresh(&self, refresh_token: &str, scope: Option<&str>) -> Response {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        self.token(&self.web_client, &form).await
    }

    /// Introspects `token` as `client`, asserting a 200.
    pub async fn introspect(&self, client: &TestClient, token: &str) -> Value {
        ok_json(
            self.post_form(
                "/oauth/introspect",
                Some((client, Auth::Basic)),
                &[("token", token)],
            )
            .await,
        )
        .await
    }
}

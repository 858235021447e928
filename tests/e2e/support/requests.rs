//! The one set of OAuth request builders (token grants, introspection, any form POST to the
//! auth server; the authorization request, its sign-in page's form and the code exchange) and
//! the [`TestStack`] shortcuts that send them to the stack's auth server.

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

/// A redirect URI the code-flow tests register for the web app's client when they need no
/// website: nothing listens there, and nothing ever fetches it (the tests follow no redirect).
pub const TEST_CALLBACK: &str = "http://127.0.0.1:9/sign-in/callback";

/// A PKCE pair (RFC 7636): a random verifier and its `S256` challenge.
pub struct Pkce {
    /// The `code_verifier`.
    pub verifier: String,
    /// The `code_challenge` (method `S256`).
    pub challenge: String,
}

impl Pkce {
    /// A fresh pair, made by the oauth2 crate.
    pub fn new() -> Pkce {
        let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
        Pkce {
            verifier: verifier.secret().clone(),
            challenge: challenge.as_str().to_owned(),
        }
    }
}

/// The query of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3) of `client_id`
/// for `redirect_uri`, with `state` and `pkce`'s challenge; tests edit the pairs to break it.
pub fn authorize_query(
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    pkce: &Pkce,
) -> Vec<(String, String)> {
    [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("state", state),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `pairs` with `name` set to `value` (`None`: removed).
pub fn with_param(
    pairs: &[(String, String)],
    name: &str,
    value: Option<&str>,
) -> Vec<(String, String)> {
    let mut out: Vec<_> = pairs.iter().filter(|(k, _)| k != name).cloned().collect();
    if let Some(v) = value {
        out.push((name.to_owned(), v.to_owned()));
    }
    out
}

/// An `authorization_code` token request (RFC 6749 §4.1.3, RFC 7636 §4.5) by `client`.
pub fn authorization_code_grant(
    http: &reqwest::Client,
    auth_url: &str,
    client: &TestClient,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> reqwest::RequestBuilder {
    token_request(
        http,
        auth_url,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ],
    )
}

/// The auth server's sign-in page as a browser got it: its HTML, its form's hidden fields,
/// and the form cookie it set.
#[derive(Debug)]
pub struct SignInPage {
    /// The page.
    pub html: String,
    /// Every hidden field of the form, unescaped.
    pub fields: Vec<(String, String)>,
    /// The `Cookie` header value a browser would send back (`name=value` of each cookie set).
    pub cookies: String,
}

/// Undoes askama's HTML escaping.
fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

impl SignInPage {
    /// Reads the page of a 200 answer.
    pub async fn read(response: Response) -> SignInPage {
        assert_eq!(response.status(), 200);
        let cookies = set_cookies(&response);
        let html = response.text().await.unwrap();
        let re =
            regex::Regex::new(r#"<input type="hidden" name="([^"]+)" value="([^"]*)">"#).unwrap();
        let fields = re
            .captures_iter(&html)
            .map(|c| (c[1].to_owned(), unescape(&c[2])))
            .collect();
        SignInPage {
            html,
            fields,
            cookies,
        }
    }

    /// The hidden field `name`.
    pub fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no hidden field {name}"))
    }

    /// The form as a browser posts it for `user`: the hidden fields, username and password.
    pub fn form(&self, user: TestUser<'_>) -> Vec<(String, String)> {
        let mut form = self.fields.clone();
        form.push(("username".into(), user.username.into()));
        form.push(("password".into(), user.password.into()));
        form
    }
}

/// The `name=value` pairs of every `Set-Cookie` of `response`, as a `Cookie` header.
pub fn set_cookies(response: &Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The query parameters of a `Location` header, and the part before the `?`.
pub fn location_params(response: &Response) -> (String, Vec<(String, String)>) {
    let location = response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location in a {}", response.status()))
        .to_str()
        .unwrap();
    let (base, query) = location.split_once('?').unwrap_or((location, ""));
    let params = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    (base.to_owned(), params)
}

/// The value of `name` among `params`, if present.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
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

    /// `GET /oauth/authorize?{query}`, answer unchecked (no redirect followed).
    pub async fn authorize(&self, query: &[(String, String)]) -> Response {
        self.http
            .get(format!(
                "{}?{}",
                self.auth_url("/oauth/authorize"),
                encode_form(query)
            ))
            .send()
            .await
            .unwrap()
    }

    /// `POST /oauth/authorize` with `form`, sending `cookies` (a `Cookie` header value).
    pub async fn submit_sign_in(&self, form: &[(String, String)], cookies: &str) -> Response {
        let mut request = self
            .http
            .post(self.auth_url("/oauth/authorize"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(encode_form(form));
        if !cookies.is_empty() {
            request = request.header("Cookie", cookies);
        }
        request.send().await.unwrap()
    }

    /// The sign-in page of `query`, asserting it is shown.
    pub async fn sign_in_page(&self, query: &[(String, String)]) -> SignInPage {
        SignInPage::read(self.authorize(query).await).await
    }

    /// Signs `user` in on the auth server's page for `query` and returns the 303's `Location`
    /// parameters, asserting the redirect goes to `redirect_uri`.
    pub async fn code_redirect(
        &self,
        query: &[(String, String)],
        user: TestUser<'_>,
    ) -> Vec<(String, String)> {
        let page = self.sign_in_page(query).await;
        let r = self.submit_sign_in(&page.form(user), &page.cookies).await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
        let (base, params) = location_params(&r);
        assert_eq!(base, param(query, "redirect_uri").unwrap());
        params
    }

    /// A code for `user` through the web client at [`TEST_CALLBACK`] (registered here) with
    /// `pkce`.
    pub async fn code_for(&self, user: TestUser<'_>, pkce: &Pkce) -> String {
        self.register_redirect_uri(TEST_CALLBACK).await;
        let query = authorize_query(&self.web_client.id, TEST_CALLBACK, "st", pkce);
        let params = self.code_redirect(&query, user).await;
        param(&params, "code").unwrap().to_owned()
    }

    /// Exchanges `code` as the web client, answer unchecked.
    pub async fn exchange_code(&self, code: &str, redirect_uri: &str, verifier: &str) -> Response {
        authorization_code_grant(
            &self.http,
            &self.auth.base_url,
            &self.web_client,
            code,
            redirect_uri,
            verifier,
        )
        .send()
        .await
        .unwrap()
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

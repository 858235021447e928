//! A whole authorization-code sign-in, as a browser and the website make it, measured end to
//! end: `GET /oauth/authorize` (the sign-in page and its form cookie), `POST /oauth/authorize`
//! (the password: one Argon2 verification), the `303` with the code, and `POST /oauth/token`
//! with the code and its PKCE verifier. Each connection cycles through the fixture's users.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use oauth2::url::Url;
use oauth2::{CsrfToken, PkceCodeChallenge};
use secrecy::ExposeSecret as _;

use super::Target;
use super::load::{Measured, Sample, Window};
use crate::demo;

/// The form cookie of the authorization server's sign-in page.
const FORM_COOKIE: &str = "as-sign-in-form";

/// Code-flow sign-ins per second over the measured window, on `target.connections`
/// connections.
pub async fn sign_ins(target: &Target) -> anyhow::Result<Measured> {
    let redirect_uri = demo::web_redirect_uri(directory_web::config::DEFAULT_BIND.parse()?)?;
    let redirect_uri = redirect_uri.to_string();
    let window = Window::after_warm_up(target.seconds);
    let usernames = Arc::new(target.fixture.usernames.clone());
    let next = Arc::new(AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..target.connections {
        let flow = Flow {
            http: target.http.clone(),
            auth: target.auth.clone(),
            redirect_uri: redirect_uri.clone(),
            password: target.fixture.password.expose_secret().to_owned(),
        };
        let (usernames, next) = (usernames.clone(), next.clone());
        set.spawn(async move {
            let mut sample = Sample::default();
            while Instant::now() < window.end {
                let i = next.fetch_add(1, Ordering::Relaxed) % usernames.len();
                let username = &usernames[i];
                let started = Instant::now();
                let outcome = flow.sign_in(username).await;
                sample.record(window, started, outcome);
            }
            sample
        });
    }
    let mut total = Sample::default();
    while let Some(sample) = set.join_next().await {
        total.merge(sample.map_err(|e| anyhow::anyhow!("a code-flow task failed: {e}"))?);
    }
    Ok(total.summarise(window))
}

/// What one sign-in needs.
struct Flow {
    http: reqwest::Client,
    auth: String,
    redirect_uri: String,
    password: String,
}

impl Flow {
    /// One whole sign-in; an error says which step failed.
    async fn sign_in(&self, username: &str) -> Result<(), String> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = CsrfToken::new_random();
        let request = [
            ("response_type", "code"),
            ("client_id", demo::WEB_CLIENT_ID),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("scope", "directory:read profile:write"),
            ("state", state.secret().as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        let endpoint = format!("{}/oauth/authorize", self.auth);
        let page = self
            .http
            .get(&endpoint)
            .query(&request)
            .send()
            .await
            .map_err(|e| format!("the sign-in page: {e}"))?;
        let cookie = form_cookie(&page).ok_or("the sign-in page set no form cookie")?;
        let html = page.text().await.map_err(|e| format!("the page: {e}"))?;
        let csrf = hidden_csrf(&html).ok_or("the sign-in page has no csrf field")?;
        let mut form: Vec<(&str, &str)> = request.to_vec();
        form.extend([
            ("csrf", csrf),
            ("username", username),
            ("password", self.password.as_str()),
            ("action", "sign-in"),
        ]);
        let answer = self
            .http
            .post(&endpoint)
            .header(reqwest::header::COOKIE, cookie)
            .form(&form)
            .send()
            .await
            .map_err(|e| format!("the sign-in form: {e}"))?;
        if answer.status() != reqwest::StatusCode::SEE_OTHER {
            return Err(format!("the sign-in form answered {}", answer.status()));
        }
        let location = answer
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Url::parse(v).ok())
            .ok_or("the 303 has no usable Location")?;
        let code = location
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .ok_or("the redirect carries no code")?;
        let token = self
            .http
            .post(format!("{}/oauth/token", self.auth))
            .basic_auth(demo::WEB_CLIENT_ID, Some(demo::WEB_CLIENT_SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", self.redirect_uri.as_str()),
                ("code_verifier", verifier.secret().as_str()),
            ])
            .send()
            .await
            .map_err(|e| format!("the code exchange: {e}"))?;
        let status = token.status();
        let _ = token
            .bytes()
            .await
            .map_err(|e| format!("the tokens: {e}"))?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the code exchange answered {status}"))
        }
    }
}

/// `as-sign-in-form=…` as a `Cookie` header value, from the page's `Set-Cookie`.
fn form_cookie(page: &reqwest::Response) -> Option<String> {
    page.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with(&format!("{FORM_COOKIE}=")))
        .map(str::to_owned)
}

/// The hidden `csrf` field's value.
fn hidden_csrf(html: &str) -> Option<&str> {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker)? + marker.len();
    let len = html[start..].find('"')?;
    Some(&html[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_field_is_read_from_the_page() {
        let html =
            r#"<form><input type="hidden" name="csrf" value="123.abc_-"><input name="x"></form>"#;
        assert_eq!(hidden_csrf(html), Some("123.abc_-"));
        assert_eq!(hidden_csrf("<form></form>"), None);
    }
}

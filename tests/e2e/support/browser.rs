//! A browser for the website: its cookies, its pages, and signing in.

use reqwest::Method;

use super::seed::TestUser;
use super::service::RunningService;

/// A browser with the site's two cookies (the session, and the device cookie a sign-in
/// leaves), following no redirects.
pub struct Browser<'a> {
    web: &'a RunningService,
    /// Its HTTP client (no redirects followed, no cookie store: the cookies are kept here).
    pub http: reqwest::Client,
    /// The session cookie, `name=value`.
    pub cookie: Option<String>,
    /// The device cookie, `name=value`, once a sign-in here has succeeded.
    pub device_cookie: Option<String>,
}

/// What the browser got back.
pub struct Page {
    /// The status code.
    pub status: u16,
    /// The `Location` header, on a redirect.
    pub location: Option<String>,
    /// The session cookie's `Set-Cookie` header, when the answer set one.
    pub set_cookie: Option<String>,
    /// The body.
    pub html: String,
}

impl<'a> Browser<'a> {
    /// A browser for the website `web`, with no cookies yet.
    pub fn new(web: &'a RunningService) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            web,
            http,
            cookie: None,
            device_cookie: None,
        }
    }

    /// Sends `method path`, with the form `form` when given and the `extra` headers, keeping
    /// the cookies the answer sets (and forgetting those it clears).
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        form: Option<&[(&str, &str)]>,
        extra: &[(&str, &str)],
    ) -> Page {
        let body = form.map(|form| {
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish();
            (
                "application/x-www-form-urlencoded".to_owned(),
                body.into_bytes(),
            )
        });
        self.send_body(method, path, body, extra).await
    }

    /// `POST path` with a `multipart/form-data` body of `parts`, in their order, as a browser
    /// sends a form with `enctype="multipart/form-data"`.
    pub async fn post_multipart(&mut self, path: &str, parts: &[Part<'_>]) -> Page {
        let (content_type, body) = multipart(parts);
        self.send_body(Method::POST, path, Some((content_type, body)), &[])
            .await
    }

    /// Sends `method path` with `body` (its content type and bytes) when given and the `extra`
    /// headers, keeping the cookies the answer sets (and forgetting those it clears).
    pub async fn send_body(
        &mut self,
        method: Method,
        path: &str,
        body: Option<(String, Vec<u8>)>,
        extra: &[(&str, &str)],
    ) -> Page {
        let mut request = self.http.request(method, self.web.url(path));
        let sent: Vec<&str> = [&self.cookie, &self.device_cookie]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if !sent.is_empty() {
            request = request.header("Cookie", sent.join("; "));
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        if let Some((content_type, body)) = body {
            request = request.header("Content-Type", content_type).body(body);
        }
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let mut set_cookie = None;
        for set in r.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap().to_owned();
            let pair = set.split(';').next().unwrap().to_owned();
            let emptied = pair
                .split_once('=')
                .is_none_or(|(_, value)| value.is_empty());
            let kept = if emptied || set.contains("Max-Age=0") {
                None
            } else {
                Some(pair.clone())
            };
            if pair.contains("sd-device=") {
                self.device_cookie = kept;
            } else {
                self.cookie = kept;
                set_cookie = Some(set);
            }
        }
        Page {
            status,
            location,
            set_cookie,
            html: r.text().await.unwrap(),
        }
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, None, &[]).await
    }

    /// `POST path` with `form`.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, Some(form), &[]).await
    }
}

/// One part of a `multipart/form-data` body: a field, or a file when it has a file name.
pub struct Part<'a> {
    /// The field's name.
    pub name: &'a str,
    /// The file's name, for a file.
    pub file_name: Option<&'a str>,
    /// The part's `Content-Type`, when it has one.
    pub content_type: Option<&'a str>,
    /// Its content.
    pub bytes: Vec<u8>,
}

impl<'a> Part<'a> {
    /// A text field.
    pub fn field(name: &'a str, value: &str) -> Self {
        Self {
            name,
            file_name: None,
            content_type: None,
            bytes: value.as_bytes().to_vec(),
        }
    }

    /// A file.
    pub fn file(name: &'a str, file_name: &'a str, content_type: &'a str, bytes: Vec<u8>) -> Self {
        Self {
            name,
            file_name: Some(file_name),
            content_type: Some(content_type),
            bytes,
        }
    }
}

/// The `Content-Type` (with its boundary) and the body of a `multipart/form-data` form
/// (RFC 7578).
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "----e2e-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", part.name);
        if let Some(file_name) = part.file_name {
            disposition.push_str(&format!("; filename=\"{file_name}\""));
        }
        body.extend_from_slice(format!("{disposition}\r\n").as_bytes());
        if let Some(content_type) = part.content_type {
            body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&part.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The value of a hidden input in a page (an ETag's quotes unescaped).
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in page"))
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end]
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
}

/// The inner HTML of the table cell whose id is `id`, up to its `</td>`.
pub fn cell<'h>(html: &'h str, id: &str) -> &'h str {
    let marker = format!("id=\"{id}\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no cell {id} in page"));
    let start = start + html[start..].find('>').unwrap() + 1;
    let end = start + html[start..].find("</td>").unwrap();
    &html[start..end]
}

/// The value a how-it-works cell shows (`site-sub`, `person-scope`…): the text of its
/// `<code>`, unescaped, its JSON quotes removed.
pub fn claim_value(html: &str, id: &str) -> String {
    let cell = cell(html, id);
    let value = &cell[cell
        .find("<code>")
        .unwrap_or_else(|| panic!("no value in {id}: {cell}"))
        + "<code>".len()..];
    let value = &value[..value.find("</code>").unwrap()];
    value
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .trim_matches('"')
        .to_owned()
}

/// A browser signed in on the website as `user`.
pub async fn signed_in<'a>(web: &'a RunningService, user: TestUser<'_>) -> Browser<'a> {
    let mut b = Browser::new(web);
    let form = b.get("/sign-in").await;
    let csrf = hidden(&form.html, "csrf");
    let r = b
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("username", user.username),
                ("password", user.password),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    assert_eq!(r.location.as_deref(), Some("/profile"));
    b
}

//! The authorization code flow as a browser goes through it: starting on the website, and
//! reading the authorization request it sends the browser to.

use std::collections::HashMap;

use super::browser::Browser;

/// An authorization request the website sent the browser to.
pub struct Started {
    /// The whole `Location`.
    pub location: String,
    /// The URL without its query (`{issuer}/oauth/authorize`).
    pub endpoint: String,
    /// Its query parameters (each given once: a repeat fails the test).
    pub params: HashMap<String, String>,
}

impl Started {
    /// The parameter `name`.
    pub fn param(&self, name: &str) -> &str {
        self.params
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in {}", self.location))
    }
}

/// Reads an authorization request URL.
pub fn authorization_request(location: &str) -> Started {
    let url = reqwest::Url::parse(location).unwrap();
    let mut params = HashMap::new();
    for (name, value) in url.query_pairs() {
        let repeated = params.insert(name.into_owned(), value.into_owned());
        assert!(repeated.is_none(), "a parameter is repeated in {location}");
    }
    let mut endpoint = url.clone();
    endpoint.set_query(None);
    Started {
        location: location.to_owned(),
        endpoint: endpoint.to_string(),
        params,
    }
}

/// `GET /sign-in/start` (with `return_to` when given) on the website: a 303 to the
/// authorization server, read.
pub async fn start_code_flow(browser: &mut Browser<'_>, return_to: Option<&str>) -> Started {
    let path = match return_to {
        Some(to) => format!(
            "/sign-in/start?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("return_to", to)
                .finish()
        ),
        None => "/sign-in/start".to_owned(),
    };
    let r = browser.get(&path).await;
    assert_eq!(r.status, 303, "{}", r.html);
    authorization_request(r.location.as_deref().unwrap())
}

/// The callback path with these query parameters.
pub fn callback_path<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    format!(
        "/sign-in/callback?{}",
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish()
    )
}

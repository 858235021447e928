//! Reading Prometheus text: a page of metrics, one series, the website's token counter.

use super::service::RunningService;

/// The site's count of token requests, from its `/metrics`.
pub async fn web_app_token_requests(web: &RunningService, http: &reqwest::Client) -> u64 {
    let text = text_of(http, &web.url("/metrics")).await;
    text.lines()
        .find_map(|l| l.strip_prefix("web_app_token_requests_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no token counter in {text}"))
}

/// The value of a Prometheus series in `text`: a name with no labels, or a name with exactly
/// these labels.
pub fn series(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(name_and_labels)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    })
}

/// The body of `GET url`, which must answer 200 (a `/metrics` page, say).
pub async fn text_of(http: &reqwest::Client, url: &str) -> String {
    let r = http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "GET {url}");
    r.text().await.unwrap()
}

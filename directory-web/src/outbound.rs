//! Outbound HTTP calls of the website carry the request id of the page being rendered
//! (`X-Request-Id`), so that the API and the authorization server log a call under the same
//! id as the page: for plain reqwest calls ([`request_id_header`]) and for the oauth2 crate's
//! ([`forwarding_client`]).

/// The `X-Request-Id` of the page being rendered, for an outbound call: the API and the
/// authorization server then log the call under the same id as the page.
pub fn request_id_header() -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(value) = service_kit::request_id::current()
        .and_then(|id| reqwest::header::HeaderValue::from_str(id.as_str()).ok())
    {
        headers.insert(service_kit::request_id::HEADER, value);
    }
    headers
}

/// A call made by [`forwarding_client`].
pub type OAuthCall<'a> = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<oauth2::HttpResponse, oauth2::HttpClientError<reqwest::Error>>,
            > + Send
            + Sync
            + 'a,
    >,
>;

/// An HTTP client for the oauth2 crate that forwards the page's request id, as
/// [`request_id_header`] does for plain calls. A type rather than a closure, so that the oauth2
/// crate's futures over it are provably `Send` (a renewal runs in its own task).
#[derive(Clone, Copy)]
pub struct ForwardingClient<'a>(&'a reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for ForwardingClient<'_> {
    type Error = oauth2::HttpClientError<reqwest::Error>;
    type Future = OAuthCall<'c>;

    fn call(&'c self, mut request: oauth2::HttpRequest) -> Self::Future {
        if let Some(value) = service_kit::request_id::current()
            .and_then(|id| oauth2::http::HeaderValue::from_str(id.as_str()).ok())
        {
            request
                .headers_mut()
                .insert(service_kit::request_id::HEADER, value);
        }
        oauth2::AsyncHttpClient::call(self.0, request)
    }
}

/// The oauth2 crate's HTTP client over `http` (see [`ForwardingClient`]).
pub fn forwarding_client(http: &reqwest::Client) -> ForwardingClient<'_> {
    ForwardingClient(http)
}

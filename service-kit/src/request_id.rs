//! Request ids: each request carries one id from the website to the API and the authorization
//! server, so that the log lines of one visitor's page can be found in all three services.
//!
//! The [`RequestIds`] middleware takes the caller's `X-Request-Id` when it is short and made of
//! safe characters (anything else could forge or break log lines), or makes a new one; returns
//! it on the response; records it in the request's `tracing` span, so every log line written
//! while the request is handled carries it; and makes it readable with [`current`] by outbound
//! HTTP calls, which forward it. The id is kept in a task-local rather than passed through every
//! signature because it is context for logs, never an input to any decision.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;

use actix_web::HttpMessage as _;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderName, HeaderValue};
use rand::Rng as _;
use tracing::Instrument as _;

/// The header that carries the id, in and out.
pub const HEADER: &str = "x-request-id";

/// The longest id accepted from a caller.
pub const MAX_LEN: usize = 64;

tokio::task_local! {
    static CURRENT: RequestId;
}

/// One request's id: 1 to [`MAX_LEN`] characters of `A-Z a-z 0-9 . _ -`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// The id a caller sent, if it is acceptable.
    pub fn parse(s: &str) -> Option<Self> {
        let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        ((1..=MAX_LEN).contains(&s.len()) && s.chars().all(safe)).then(|| Self(s.to_owned()))
    }

    /// A new random id (128 bits, hexadecimal).
    pub fn generate() -> Self {
        let bits: u128 = rand::thread_rng().r#gen();
        Self(format!("{bits:032x}"))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of the request being handled by the current task, if any.
pub fn current() -> Option<RequestId> {
    CURRENT.try_with(Clone::clone).ok()
}

/// The middleware (see the module documentation). Register it outermost (last `wrap`), so
/// that every other middleware's log lines carry the id too.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestIds;

impl<S, B> Transform<S, ServiceRequest> for RequestIds
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = RequestIdMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestIdMiddleware {
            service: Rc::new(service),
        }))
    }
}

/// The running form of [`RequestIds`].
#[derive(Debug)]
pub struct RequestIdMiddleware<S> {
    service: Rc<S>,
}

type BoxedResponse<B> = Pin<Box<dyn Future<Output = Result<ServiceResponse<B>, actix_web::Error>>>>;

impl<S, B> Service<ServiceRequest> for RequestIdMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = BoxedResponse<B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let id = req
            .headers()
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(RequestId::parse)
            .unwrap_or_else(RequestId::generate);
        req.extensions_mut().insert(id.clone());
        // The route pattern, never the raw path or query: no secret reaches a log line.
        let route = req
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        let span = tracing::info_span!("request", request_id = %id, method = %req.method(), route = %route);
        let response = {
            let _entered = span.enter();
            CURRENT.sync_scope(id.clone(), || self.service.call(req))
        };
        let value = HeaderValue::from_str(id.as_str()).ok();
        Box::pin(
            CURRENT.scope(
                id,
                async move {
                    let mut response = response.await?;
                    if let Some(value) = value {
                        response
                            .headers_mut()
                            .insert(HeaderName::from_static(HEADER), value);
                    }
                    Ok(response)
                }
                .instrument(span),
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_ids_are_kept_and_others_refused() {
        assert_eq!(
            RequestId::parse("web-1.a_B").map(|i| i.0),
            Some("web-1.a_B".to_owned())
        );
        for bad in ["", "a b", "a\nb", "ä", "{x}", &"a".repeat(65)] {
            assert_eq!(RequestId::parse(bad), None, "{bad:?}");
        }
        assert!(RequestId::parse(&"a".repeat(64)).is_some());
    }

    #[test]
    fn generated_ids_are_acceptable_and_distinct() {
        let a = RequestId::generate();
        assert_eq!(RequestId::parse(a.as_str()), Some(a.clone()));
        assert_ne!(a, RequestId::generate());
    }
}

//! Bounds on slow clients, the same in every service.
//!
//! A client that stalls while sending its request head is answered `408` by actix-web after
//! [`HEADER_TIMEOUT`] (`client_request_timeout`). A client that sends its head and then stalls
//! in the body is what [`BodyDeadline`] bounds: the body must arrive within [`BODY_TIMEOUT`] of
//! the request's start, or the handler's read fails and the client is answered `408 Request
//! Timeout` and disconnected. Idle keep-alive connections close after [`KEEP_ALIVE`].

use std::cell::Cell;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::EitherBody;
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use actix_web::{HttpMessage as _, HttpResponse};
use futures_core::Stream;

/// How long a client may take to send its request head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client may take to send its whole body, from the start of the request.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle keep-alive connection stays open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// How long a connection being shut down may take to close.
pub const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The body-deadline middleware (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline {
    limit: Duration,
}

impl Default for BodyDeadline {
    fn default() -> Self {
        Self {
            limit: BODY_TIMEOUT,
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for BodyDeadline
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = BodyDeadlineMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(BodyDeadlineMiddleware {
            service: Rc::new(service),
            limit: self.limit,
        }))
    }
}

/// The running form of [`BodyDeadline`].
#[derive(Debug)]
pub struct BodyDeadlineMiddleware<S> {
    service: Rc<S>,
    limit: Duration,
}

type BoxedResponse<B> =
    Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>>>>;

impl<S, B> Service<ServiceRequest> for BodyDeadlineMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = BoxedResponse<B>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let timed_out = Rc::new(Cell::new(false));
        let body = DeadlineStream {
            inner: req.take_payload(),
            deadline: tokio::time::Instant::now() + self.limit,
            sleep: None,
            timed_out: timed_out.clone(),
        };
        req.set_payload(Payload::Stream {
            payload: Box::pin(body),
        });
        let response = self.service.call(req);
        Box::pin(async move {
            let response = response.await?;
            if !timed_out.get() {
                return Ok(response.map_into_left_body());
            }
            tracing::warn!("the client was too slow sending its request body");
            let timeout = HttpResponse::RequestTimeout()
                .force_close()
                .content_type("text/plain; charset=utf-8")
                .body("the request body did not arrive in time");
            Ok(response.into_response(timeout).map_into_right_body())
        })
    }
}

/// A request body that fails once its deadline has passed.
struct DeadlineStream {
    inner: Payload,
    deadline: tokio::time::Instant,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    timed_out: Rc<Cell<bool>>,
}

impl Stream for DeadlineStream {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        // Only a body still awaited needs a timer.
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.timed_out.set(true);
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

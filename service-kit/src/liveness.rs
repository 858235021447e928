//! Whether the client that sent a request is still connected.
//!
//! actix-web keeps running a handler after its client has gone (actix/actix-web#3462), so
//! work queued for a request (a password hash) would be done for nobody. Each connection
//! keeps a duplicate of its socket, taken when it is accepted (`HttpServer::on_connect`), and
//! work can ask [`Liveness::hung_up`] just before it starts: a non-blocking peek that reads
//! end-of-stream only once the client has closed its side.

use std::any::Any;
use std::os::fd::AsFd as _;
use std::sync::Arc;

use actix_web::dev::Extensions;

/// A handle on one connection's socket, kept in the connection's extensions.
#[derive(Debug, Clone)]
pub struct Liveness(Arc<std::net::TcpStream>);

impl Liveness {
    /// Whether the client has closed the connection (its end-of-stream is waiting to be
    /// read). Data or nothing at all both mean it is still there.
    pub fn hung_up(&self) -> bool {
        let mut byte = [0u8; 1];
        matches!(self.0.peek(&mut byte), Ok(0))
    }
}

/// For `HttpServer::on_connect`: keeps a duplicate of a TCP connection's socket in its
/// extensions. (The duplicate shares the original's non-blocking mode.)
pub fn on_connect(connection: &dyn Any, extensions: &mut Extensions) {
    let Some(tcp) = connection.downcast_ref::<tokio::net::TcpStream>() else {
        return;
    };
    match tcp.as_fd().try_clone_to_owned() {
        Ok(fd) => {
            extensions.insert(Liveness(Arc::new(std::net::TcpStream::from(fd))));
        }
        Err(e) => tracing::debug!(error = %e, "cannot watch a connection for hang-ups"),
    }
}

//! Raw TCP: an address where nothing listens, and a client that sends part of a request and
//! stalls.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A loopback address where nothing listens (bound, then released).
pub fn dead_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

/// What a stalling client saw: everything the server sent, whether it then closed the
/// connection, and how long that took.
pub struct Stalled {
    /// Everything the server sent.
    pub answer: String,
    /// Whether the server closed the connection.
    pub closed: bool,
    /// How long the reading lasted.
    pub elapsed: Duration,
}

/// Opens a connection to `base` (`http://host:port`), sends `head` (and nothing after it),
/// then reads until the server closes the connection or `bound` passes.
pub async fn stall_after(base: &str, head: &str, bound: Duration) -> Stalled {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    let start = Instant::now();
    let mut answer = Vec::new();
    let mut closed = false;
    let mut buf = [0u8; 4096];
    while start.elapsed() < bound {
        let left = bound.saturating_sub(start.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    Stalled {
        answer: String::from_utf8_lossy(&answer).into_owned(),
        closed,
        elapsed: start.elapsed(),
    }
}

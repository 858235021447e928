//! A TCP proxy between the services and PostgreSQL that can be cut and restored.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

/// A TCP proxy between the services and PostgreSQL. Cutting it closes its listener (new
/// connections are refused, as by a stopped server) and drops every open connection (as a
/// crashed server or a broken network does); restoring it listens again on the same address.
pub struct CutProxy {
    address: SocketAddr,
    target: SocketAddr,
    accept: Mutex<Option<JoinHandle<()>>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl CutProxy {
    /// A proxy to the server of the PostgreSQL URL `url`.
    pub async fn start(url: &str) -> CutProxy {
        let (_, authority) = split_authority(url);
        let target = tokio::net::lookup_host(authority)
            .await
            .unwrap()
            .next()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = CutProxy {
            address: listener.local_addr().unwrap(),
            target,
            accept: Mutex::new(None),
            connections: Arc::new(Mutex::new(Vec::new())),
        };
        proxy.serve(listener);
        proxy
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url(&self, url: &str) -> String {
        let (prefix, authority) = split_authority(url);
        url.replacen(
            &format!("{prefix}{authority}"),
            &format!("{prefix}{}", self.address),
            1,
        )
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let (target, connections) = (self.target, self.connections.clone());
        *self.accept.lock().unwrap() = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let piping = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        drop(tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await);
                    }
                });
                connections.lock().unwrap().push(piping);
            }
        }));
    }

    /// Cuts the database off: refuses new connections and breaks the open ones.
    pub async fn cut(&self) {
        let accept = self.accept.lock().unwrap().take();
        if let Some(accept) = accept {
            accept.abort();
            drop(accept.await);
        }
        let open: Vec<_> = std::mem::take(&mut *self.connections.lock().unwrap());
        for connection in open {
            connection.abort();
            drop(connection.await);
        }
    }

    /// Lets the database be reached again.
    pub async fn restore(&self) {
        let listener = tokio::net::TcpListener::bind(self.address).await.unwrap();
        self.serve(listener);
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        if let Some(accept) = self.accept.lock().unwrap().take() {
            accept.abort();
        }
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}

/// `("postgres://user@", "host:port")` from a URL.
fn split_authority(url: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let authority_and_user = rest.split('/').next().unwrap();
    let (user, host) = match authority_and_user.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host.to_owned()),
        None => (String::new(), authority_and_user.to_owned()),
    };
    let host = if host.contains(':') {
        host
    } else {
        format!("{host}:5432")
    };
    (format!("{scheme}://{user}"), host)
}

//! `staff-directory lab`: a deliberately naive resource server, for teaching only.
//!
//! It stands beside a running demo and does what many tutorials do: it checks a bearer token's
//! signature against the demo's authorization server and nothing else. It serves the directory
//! API's routes (`GET /staff`, `GET /staff/{id}`, `PATCH /staff/{id}`, `POST /staff`) over its
//! own in-memory copy of the demo staff, so the guide (`docs/5-attacks-you-can-try.md`) can show
//! each attack succeeding here and refused by the real API, and nothing it lets through touches
//! real data.
//!
//! What it checks and skips is [`token`]'s; its copy of the directory, bounded, is
//! [`directory`]'s; the routes are [`routes`]'. It listens on loopback addresses only
//! ([`require_loopback`]): anyone who can reach it can fool it.

pub mod directory;
pub mod routes;
pub mod token;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use directory_api::auth::keys::{KeyCache, KeySource};
use directory_api::error::ApiError;
use service_kit::clock::{Clock, SystemClock};

use self::directory::Directory;

/// The lab's default address, beside the demo's 8080, 8081 and 8082.
pub const DEFAULT_BIND: &str = "127.0.0.1:8083";

/// What the lab is, printed before anything else whenever it starts.
pub const WARNING: [&str; 4] = [
    "!! staff-directory lab: a deliberately naive resource server, for teaching only. Never deploy it. !!",
    "It checks only a token's signature, with the algorithm the token itself names (so \"alg\": \"none\"",
    "passes), and never its issuer, audience, type, expiry, scope, kind of token or owner. Anyone who",
    "can reach it can change its data: its own in-memory copy of the demo staff.",
];

/// Options of `staff-directory lab`.
#[derive(Debug, Clone, clap::Args)]
pub struct LabArgs {
    /// Address to listen on: loopback only (127.0.0.0/8 or `[::1]`); any other is refused.
    #[arg(long, env = "LAB_BIND", default_value = DEFAULT_BIND)]
    pub bind: SocketAddr,

    /// The demo's authorization server, whose published keys (found through its metadata)
    /// check the signatures.
    #[arg(long, env = "LAB_ISSUER", default_value = directory_api::config::DEFAULT_ISSUER)]
    pub issuer: String,
}

/// What [`Lab::build`] takes.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on (loopback only; port 0 for any free one).
    pub bind: SocketAddr,
    /// The authorization server whose keys are trusted.
    pub issuer: String,
    /// The most records the lab holds (the 60 demo staff included); `POST /staff` beyond it
    /// is refused.
    pub max_records: usize,
}

impl Settings {
    /// The lab at `bind`, trusting `issuer`, holding at most [`directory::MAX_RECORDS`].
    pub fn new(bind: SocketAddr, issuer: &str) -> Self {
        Self {
            bind,
            issuer: issuer.to_owned(),
            max_records: directory::MAX_RECORDS,
        }
    }
}

/// Refuses any address that is not loopback: a server that believes every signed token must
/// never be reachable from another machine.
pub fn require_loopback(bind: SocketAddr) -> anyhow::Result<()> {
    anyhow::ensure!(
        bind.ip().is_loopback(),
        "the lab refuses to listen on {bind}: it is a deliberately naive resource server that \
         anyone who can reach it can fool, so it listens only on a loopback address \
         (127.0.0.1 or [::1]), never on {}",
        if bind.ip().is_unspecified() {
            "every interface"
        } else {
            "an address other machines can reach"
        }
    );
    Ok(())
}

/// What every handler of the lab shares.
pub struct LabState {
    /// The authorization server's published keys (fetched through its metadata, cached).
    pub keys: KeyCache,
    /// The lab's own copy of the directory.
    pub directory: Mutex<Directory>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// A built, bound, not yet running lab.
pub struct Lab {
    server: Server,
    address: SocketAddr,
}

impl Lab {
    /// Builds the lab on the system clock.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Builds the lab: refuses a non-loopback address, fetches the authorization server's
    /// keys (it must be running: the lab is useless without them), copies the demo staff and
    /// binds the listener.
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        require_loopback(settings.bind)?;
        service_kit::issuer::check_issuer(&settings.issuer)?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let keys = KeyCache::new(
            KeySource {
                issuer: settings.issuer.clone(),
                min_refetch: Duration::from_secs(10),
                max_age: Duration::from_secs(300),
            },
            http,
            clock.clone(),
        );
        keys.refresh().await.with_context(|| {
            format!(
                "cannot fetch the signing keys of the authorization server {}: start the demo first (`cargo run`), or name its issuer with --issuer",
                settings.issuer
            )
        })?;
        let directory = Directory::demo(clock.now(), settings.max_records)?;
        let state = web::Data::new(LabState {
            keys,
            directory: Mutex::new(directory),
            clock,
        });
        let listener = std::net::TcpListener::bind(settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let address = listener.local_addr()?;
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(
                    web::QueryConfig::default().error_handler(|e: QueryPayloadError, _| {
                        ApiError::Malformed(format!("the query parameters are invalid: {e}")).into()
                    }),
                )
                .app_data(web::PathConfig::default().error_handler(|e: PathError, _| {
                    ApiError::Malformed(format!("the path is invalid: {e}")).into()
                }))
                .configure(routes::configure)
                .default_service(web::to(|| async { Err::<(), _>(ApiError::NotFound) }))
                .wrap(service_kit::limits::BodyDeadline::default())
        })
        .workers(1)
        .listen(listener)?
        .client_request_timeout(service_kit::limits::HEADER_TIMEOUT)
        .client_disconnect_timeout(service_kit::limits::DISCONNECT_TIMEOUT)
        .keep_alive(service_kit::limits::KEEP_ALIVE)
        .shutdown_timeout(service_kit::shutdown::SHUTDOWN_TIMEOUT_SECS)
        // The launcher stops it on Ctrl-C; in-process tests stop it with its handle.
        .disable_signals()
        .run();
        Ok(Self { server, address })
    }

    /// The bound address (its real port when 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// A handle that stops the lab.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// `staff-directory lab`: says what it is, starts, and serves until Ctrl-C or SIGTERM.
pub async fn run(args: LabArgs) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    println!();
    for line in WARNING {
        println!("{line}");
    }
    println!();
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let lab = Lab::build(Settings::new(args.bind, &args.issuer)).await?;
    let url = format!("http://{}", lab.address());
    let handle = lab.handle();
    let stopper = tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        handle.stop(true).await;
    });
    println!("  lab           {url}   (loopback only; press Ctrl-C to stop)");
    println!("  trusting      the keys of {}", args.issuer);
    println!(
        "  serving       GET /staff, GET /staff/{{id}}, PATCH /staff/{{id}}, POST /staff over its own \
         in-memory copy of the demo staff (at most {} records); nothing reaches the real directory",
        directory::MAX_RECORDS
    );
    println!("  the guide     docs/5-attacks-you-can-try.md");
    println!();
    let result = lab.run_until_stopped().await;
    stopper.abort();
    result.context("the lab failed")?;
    println!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn only_loopback_addresses_are_accepted() {
        for ok in [
            "127.0.0.1:8083",
            "127.0.0.1:0",
            "127.1.2.3:80",
            "[::1]:8083",
        ] {
            assert!(require_loopback(ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for refused in [
            "0.0.0.0:8083",
            "[::]:8083",
            "10.0.0.1:8083",
            "192.168.1.20:8083",
            "[::ffff:127.0.0.1]:8083",
        ] {
            let err = require_loopback(refused.parse().unwrap()).unwrap_err();
            assert!(
                err.to_string().starts_with(&format!(
                    "the lab refuses to listen on {}",
                    refused.parse::<SocketAddr>().unwrap()
                )),
                "{err}"
            );
        }
        let err = require_loopback("0.0.0.0:0".parse().unwrap()).unwrap_err();
        assert!(
            err.to_string().ends_with("never on every interface"),
            "{err}"
        );
    }
}

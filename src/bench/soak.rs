//! The mixed soak: every kind of traffic at once for minutes, while each service's resident
//! memory is sampled every second; memory must stay under its ceiling and flat.

use std::time::{Duration, Instant};

use super::Target;
use super::load::{Row, Sample, Window, closed_loop, cycling};
use super::procs::Service;

/// Resident memory allowed to each service, in bytes.
const RESIDENT_CEILING: u64 = 64 * 1000 * 1000;
/// Growth from the second quarter of the soak to the last still called flat: the larger of
/// this share of the second quarter's mean and [`FLAT_SLACK`]. The first quarter is the
/// warm-up of memory: SQLite's page caches and the allocator's arenas fill as new pages and
/// threads are touched, up to their bounds; a leak keeps growing after it.
const FLAT_SHARE: f64 = 0.05;
/// See [`FLAT_SHARE`].
const FLAT_SLACK: u64 = 2 * 1000 * 1000;

/// Runs the soak for `length` and returns its traffic row and one memory row per service.
pub async fn measure(
    target: &Target,
    services: &[Service; 3],
    length: Duration,
) -> anyhow::Result<Vec<Row>> {
    eprintln!("soak: mixed traffic for {} s…", length.as_secs());
    let token = Some(target.web_app_token().await?);
    let http = &target.http;
    let (api, web) = (&target.api, &target.web);
    let window = Window {
        start: Instant::now() + super::load::WARM_UP,
        end: Instant::now() + super::load::WARM_UP + length,
    };
    let staff_pages: Vec<String> = (1..=60).map(|id| format!("{web}/staff/{id}")).collect();
    let directory_pages = vec![format!("{web}/?q=lecturer"), format!("{web}/?page=3")];
    let reads = target.read_urls();
    let searches: Vec<String> = super::api::SEARCHES
        .iter()
        .map(|q| format!("{api}/staff?{q}"))
        .collect();
    // One user signing in again and again: sequential, so never throttled.
    let sign_ins = target.sign_ins(target.fixture.usernames.iter().take(1).cloned().collect());
    let sampling = sample_memory(services, window);
    let (staff, directory, read, search, token, sign_in, memory) = tokio::join!(
        closed_loop(8, None, window, cycling(http, staff_pages, None)),
        closed_loop(2, None, window, cycling(http, directory_pages, None)),
        closed_loop(8, None, window, cycling(http, reads, token.clone())),
        closed_loop(2, None, window, cycling(http, searches, token)),
        closed_loop(4, None, window, target.client_credentials()),
        closed_loop(1, None, window, sign_ins),
        sampling,
    );
    let mut traffic = Sample::default();
    for part in [staff?, directory?, read?, search?, token?, sign_in?] {
        traffic.merge(part);
    }
    let mut rows = vec![Row::new(
        format!(
            "mixed soak, {} s, 25 conns over all services",
            length.as_secs()
        ),
        traffic.summarise(window),
        "—",
        "(no errors)".into(),
    )];
    for (service, samples) in services.iter().zip(memory?) {
        rows.push(memory_row(service.name, &samples));
    }
    Ok(rows)
}

/// Each service's resident bytes, once a second through the window.
async fn sample_memory(services: &[Service; 3], window: Window) -> anyhow::Result<[Vec<u64>; 3]> {
    let mut samples: [Vec<u64>; 3] = Default::default();
    tokio::time::sleep_until(window.start.into()).await;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    while Instant::now() < window.end {
        tick.tick().await;
        for (service, samples) in services.iter().zip(samples.iter_mut()) {
            samples.push(service.resident_bytes()?);
        }
    }
    Ok(samples)
}

fn memory_row(name: &str, samples: &[u64]) -> Row {
    let quarter = (samples.len() / 4).max(1);
    let mean = |s: &[u64]| s.iter().sum::<u64>() as f64 / s.len().max(1) as f64;
    let first = mean(samples.get(quarter..2 * quarter).unwrap_or(samples));
    let last = mean(
        samples
            .get(samples.len().saturating_sub(quarter)..)
            .unwrap_or(samples),
    );
    let peak = samples.iter().copied().max().unwrap_or(0);
    let growth = last - first;
    let allowed = (first * FLAT_SHARE).max(FLAT_SLACK as f64);
    let mb = |b: f64| b / 1e6;
    let verdict = match (
        samples.is_empty(),
        peak <= RESIDENT_CEILING,
        growth <= allowed,
    ) {
        (true, _, _) => "no data",
        (false, true, true) => "ok",
        (false, false, _) => "MISSED (peak)",
        (false, true, false) => "MISSED (growth)",
    };
    Row::finding(
        format!("soak: {name} resident memory"),
        format!(
            "peak {:.1} MB, {:+.1} MB 2nd→last ¼",
            mb(peak as f64),
            mb(growth)
        ),
        format!("≤{} MB and flat: {verdict}", RESIDENT_CEILING / 1_000_000),
    )
}

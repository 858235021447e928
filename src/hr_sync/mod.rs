//! `hr-sync`: the nightly HR import, a machine client with no user. It holds `directory:admin`
//! through the `client_credentials` grant and reconciles the directory with HR's export:
//! creates people new in the file, updates the HR-owned fields that changed (never what staff
//! edited), retires people no longer in it.

pub mod client;
pub mod csv;
pub mod plan;

use std::path::PathBuf;

use anyhow::Context as _;
use directory_api::domain::field::Field;
use futures_util::StreamExt as _;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;

use self::client::{DirectoryClient, expect};
use self::plan::{Action, Plan};

/// Options of `hr-sync`.
#[derive(Debug, clap::Args)]
pub struct HrSyncArgs {
    /// The HR export: CSV with the header username,display_name,job_title,department,email
    /// and optionally family_name (else the last word of the display name).
    pub file: PathBuf,

    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Retire even when the file would retire more than --max-retire-share of the directory
    /// (a truncated export looks exactly like that).
    #[arg(long)]
    pub force: bool,

    /// The largest share of the directory one run may retire without --force.
    #[arg(long, env = "HR_SYNC_MAX_RETIRE_SHARE", default_value_t = 0.10)]
    pub max_retire_share: f64,

    /// The client id of the HR job.
    #[arg(long, env = "HR_SYNC_CLIENT_ID", default_value = crate::demo::HR_CLIENT_ID)]
    pub client_id: String,

    /// The client secret of the HR job (default: the demo's).
    #[arg(long, env = "HR_SYNC_CLIENT_SECRET", default_value = crate::demo::HR_CLIENT_SECRET, hide_default_value = true)]
    pub client_secret: SecretString,

    /// The authorization server's token endpoint.
    #[arg(
        long,
        env = "HR_SYNC_TOKEN_URL",
        default_value = "http://127.0.0.1:8082/oauth/token"
    )]
    pub token_url: String,

    /// The directory API.
    #[arg(long, env = "HR_SYNC_API_URL", default_value = "http://127.0.0.1:8081")]
    pub api_url: String,

    /// Changes sent at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Records created.
    pub created: usize,
    /// Records updated.
    pub updated: usize,
    /// Records retired.
    pub retired: usize,
    /// Rows already in step.
    pub unchanged: usize,
    /// Changes that failed.
    pub failed: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "created {}, updated {}, retired {}, unchanged {}, failed {}",
            self.created, self.updated, self.retired, self.unchanged, self.failed
        )
    }
}

/// Runs the import. A file with any bad row, or a plan retiring too much, changes nothing.
pub async fn run(args: &HrSyncArgs) -> anyhow::Result<Summary> {
    anyhow::ensure!(
        (1..=64).contains(&args.concurrency),
        "the concurrency must be between 1 and 64"
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.max_retire_share),
        "--max-retire-share is a share between 0 and 1"
    );
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let rows = match csv::parse(std::io::BufReader::new(file)) {
        Ok(rows) => rows,
        Err(errors) => {
            for e in &errors {
                eprintln!("{}: {e}", args.file.display());
            }
            anyhow::bail!(
                "{} bad line(s) in {}: nothing was changed",
                errors.len(),
                args.file.display()
            );
        }
    };
    let client = DirectoryClient::new(
        &args.api_url,
        &args.token_url,
        &args.client_id,
        &args.client_secret,
    )?;
    let directory = client.all_records().await?;
    let plan = plan::plan(&rows, &directory);
    let retiring = plan.retirements();
    let limit = (directory.len() as f64 * args.max_retire_share).floor() as usize;
    if retiring > limit && !args.force {
        anyhow::bail!(
            "the file would retire {retiring} of {} records, more than the allowed {:.0}% ({limit}); \
             is the export truncated? Nothing was changed; use --force if this is intended",
            directory.len(),
            args.max_retire_share * 100.0
        );
    }
    if args.dry_run {
        for action in &plan.actions {
            println!("would {action}");
        }
        let count = |f: fn(&Action) -> bool| plan.actions.iter().filter(|a| f(a)).count();
        return Ok(Summary {
            created: count(|a| matches!(a, Action::Create(_))),
            updated: count(|a| matches!(a, Action::Update { .. })),
            retired: count(|a| matches!(a, Action::Retire { .. })),
            unchanged: plan.unchanged,
            failed: 0,
        });
    }
    apply(&client, plan, args.concurrency).await
}

/// What one change came to.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Created,
    Updated,
    Retired,
    /// Someone else had already made the change.
    Unchanged,
}

async fn apply(
    client: &DirectoryClient,
    plan: Plan,
    concurrency: usize,
) -> anyhow::Result<Summary> {
    let progress = indicatif::ProgressBar::new(plan.actions.len() as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} changes ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let summary = std::sync::Mutex::new(Summary {
        unchanged: plan.unchanged,
        ..Summary::default()
    });
    futures_util::stream::iter(plan.actions.iter())
        .for_each_concurrent(concurrency, |action| {
            let (summary, progress) = (&summary, &progress);
            async move {
                let outcome = match action {
                    Action::Create(row) => create(client, row).await.map(|()| Outcome::Created),
                    Action::Update {
                        id,
                        username,
                        changes,
                    } => update(client, *id, username, changes).await,
                    Action::Retire { id, .. } => {
                        retire(client, *id).await.map(|()| Outcome::Retired)
                    }
                };
                if let Err(e) = &outcome {
                    progress.suspend(|| eprintln!("failed to {action}: {e:#}"));
                }
                if let Ok(mut s) = summary.lock() {
                    match outcome {
                        Ok(Outcome::Created) => s.created += 1,
                        Ok(Outcome::Updated) => s.updated += 1,
                        Ok(Outcome::Retired) => s.retired += 1,
                        Ok(Outcome::Unchanged) => s.unchanged += 1,
                        Err(_) => s.failed += 1,
                    }
                }
                progress.inc(1);
            }
        })
        .await;
    progress.finish_and_clear();
    summary
        .into_inner()
        .map_err(|_| anyhow::anyhow!("the summary was poisoned"))
}

async fn create(client: &DirectoryClient, row: &csv::HrRow) -> anyhow::Result<()> {
    let mut body = serde_json::Map::new();
    body.insert("username".into(), row.username.clone().into());
    for (field, value) in &row.values {
        body.insert(field.name().into(), value.clone().into());
    }
    let body = serde_json::Value::Object(body);
    let response = client
        .send(Method::POST, "/staff", |r| r.json(&body))
        .await?;
    expect(response, StatusCode::CREATED).await?;
    Ok(())
}

/// Sets the HR-owned fields the plan changes, with the record's ETag. When someone edits the
/// record meanwhile (412), it is read again and only the HR fields still differing are sent:
/// their edit survives.
async fn update(
    client: &DirectoryClient,
    id: i64,
    username: &str,
    changes: &[(Field, String, String)],
) -> anyhow::Result<Outcome> {
    for _ in 0..5 {
        let (current, etag) = client.record(id).await?;
        anyhow::ensure!(
            current.username == username,
            "record {id} is no longer {username}"
        );
        let body: serde_json::Map<String, serde_json::Value> = changes
            .iter()
            .filter(|(field, _, new)| current.value(*field) != new)
            .map(|(field, _, new)| {
                (
                    field.name().to_owned(),
                    serde_json::Value::from(new.clone()),
                )
            })
            .collect();
        if body.is_empty() {
            return Ok(Outcome::Unchanged);
        }
        let body = serde_json::Value::Object(body);
        let response = client
            .send(Method::PATCH, &format!("/staff/{id}"), |r| {
                r.header("If-Match", etag.as_str()).json(&body)
            })
            .await?;
        if response.status() == StatusCode::PRECONDITION_FAILED {
            continue;
        }
        expect(response, StatusCode::OK).await?;
        return Ok(Outcome::Updated);
    }
    anyhow::bail!("record {id} kept changing; gave up after 5 attempts")
}

async fn retire(client: &DirectoryClient, id: i64) -> anyhow::Result<()> {
    let response = client
        .send(Method::DELETE, &format!("/staff/{id}"), |r| r)
        .await?;
    expect(response, StatusCode::NO_CONTENT).await?;
    Ok(())
}

//! The commands of the `directory-api` binary.

use crate::clock::{Clock as _, SystemClock};
use crate::config::{Cli, Command, Settings};
use crate::startup::Application;
use crate::store::Db;

/// Runs a command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let database_url = cli.database_url()?;
    match cli.command {
        Command::Serve(serve) => {
            let app = Application::build(Settings {
                database_url,
                serve,
            })
            .await?;
            tracing::info!(address = %app.address(), "directory API listening");
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let db = Db::connect(&database_url).await?;
            db.migrate().await?;
            db.close().await;
            println!("migrations applied");
        }
        Command::SeedDemo => {
            let db = Db::connect(&database_url).await?;
            db.migrate().await?;
            let added = crate::seed::seed_demo(&db, SystemClock.now()).await?;
            db.close().await;
            println!("{added} demo records added");
        }
    }
    Ok(())
}

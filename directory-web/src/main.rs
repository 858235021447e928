//! `directory-web`: the website.

use clap::Parser as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = directory_web::config::Settings::parse();
    directory_web::telemetry::init(settings.log_format, "info");
    let app = directory_web::startup::Application::build(settings).await?;
    tracing::info!(address = %app.address(), "website listening");
    app.run_until_stopped().await?;
    Ok(())
}

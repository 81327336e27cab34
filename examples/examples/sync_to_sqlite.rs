//! Syncs a Jenkins server (jobs, every build, artifacts, Pipeline stages) into an SQLite file,
//! incrementally: run it again and only what changed is read. Then keeps the `ci_runs`,
//! `ci_steps` and `ci_daily` views current.
//!
//! ```sh
//! JENKINS_URL=https://ci.example.com/ JENKINS_USER=alice JENKINS_API_TOKEN=... \
//!     cargo run -p cidata-cli --example sync_to_sqlite -- ci.db
//! ```

use std::sync::Arc;

use cidata_jenkins::Jenkins;
use cidata_sources::jenkins::{JenkinsSource, view_parts};
use cidata_sync::{DestinationUrl, Engine};
use cidata_wfapi::Wfapi;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ci.db".to_owned());
    let url = std::env::var("JENKINS_URL").map_err(|_| "set JENKINS_URL")?;
    let mut builder = Jenkins::builder(url);
    if let (Ok(user), Ok(token)) = (
        std::env::var("JENKINS_USER"),
        std::env::var("JENKINS_API_TOKEN"),
    ) {
        builder = builder.basic_auth(user, token);
    }
    let source = JenkinsSource::new(Wfapi::new(builder.build()?));
    let destination = DestinationUrl::Sqlite(db.clone().into());
    let stats = Engine::new()
        .run(Arc::new(source), destination.open()?)
        .await?;
    println!(
        "{} rows written, {} requests, {} builds still running",
        stats.rows_upserted(),
        stats.requests,
        stats.non_final
    );
    // The destination is blocking: views off the async runtime's thread.
    tokio::task::spawn_blocking(move || -> cidata_sync::Result<()> {
        let mut db = destination.open()?;
        cidata_sync::views::refresh(db.as_mut(), &view_parts())?;
        Ok(())
    })
    .await??;
    println!("views ci_runs, ci_steps and ci_daily of {db} are current");
    Ok(())
}

//! Lists a CircleCI project's newest pipelines with their workflows.
//!
//! ```sh
//! CIRCLECI_TOKEN=... cargo run -p cidata-cli --example list_circleci_pipelines -- gh/acme/web 20
//! ```
//!
//! `CIRCLECI_URL` points it at another server (CircleCI server, or `ci-sync simulate`'s).

use cidata_circleci::{CircleCi, ProjectSlug};
use futures::{StreamExt, TryStreamExt};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let slug: ProjectSlug = args
        .next()
        .ok_or("usage: list_circleci_pipelines PROJECT_SLUG [COUNT]")?
        .parse()?;
    let count: usize = args.next().map_or(Ok(10), |n| n.parse())?;
    let mut builder = CircleCi::builder()
        .token(std::env::var("CIRCLECI_TOKEN").map_err(|_| "set CIRCLECI_TOKEN")?);
    if let Ok(url) = std::env::var("CIRCLECI_URL") {
        builder = builder.base_url(url);
    }
    let circleci = builder.build()?;
    // Newest first; stop after `count`, so only the pages needed are read.
    let pipelines: Vec<_> = circleci
        .pipelines(&slug, None)
        .take(count)
        .try_collect()
        .await?;
    for pipeline in pipelines {
        let id = pipeline.id.clone().unwrap_or_default();
        let workflows: Vec<_> = circleci.workflows(&id).try_collect().await?;
        let statuses: Vec<String> = workflows
            .iter()
            .map(|w| {
                format!(
                    "{}={}",
                    w.name.as_deref().unwrap_or("?"),
                    w.status.as_ref().map_or("?", |s| s.as_str())
                )
            })
            .collect();
        println!(
            "#{}\t{}\t{}",
            pipeline.number.unwrap_or_default(),
            pipeline.state.as_ref().map_or("?", |s| s.as_str()),
            statuses.join(" ")
        );
    }
    Ok(())
}

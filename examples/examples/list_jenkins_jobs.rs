//! Lists every job of a Jenkins server, through folders, with its last build.
//!
//! ```sh
//! JENKINS_URL=https://ci.example.com/ JENKINS_USER=alice JENKINS_API_TOKEN=... \
//!     cargo run -p cidata-cli --example list_jenkins_jobs
//! ```

use cidata_jenkins::Jenkins;
use futures::TryStreamExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("JENKINS_URL").map_err(|_| "set JENKINS_URL")?;
    let mut builder = Jenkins::builder(url);
    if let (Ok(user), Ok(token)) = (
        std::env::var("JENKINS_USER"),
        std::env::var("JENKINS_API_TOKEN"),
    ) {
        builder = builder.basic_auth(user, token);
    }
    let jenkins = builder.build()?;
    let mut jobs = std::pin::pin!(jenkins.jobs());
    while let Some(entry) = jobs.try_next().await? {
        let last = entry
            .job
            .last_build_number()
            .map_or("-".to_owned(), |n| format!("#{n}"));
        println!(
            "{}\t{}\t{}",
            entry.path,
            entry.job.color.as_deref().unwrap_or("folder"),
            last
        );
    }
    Ok(())
}

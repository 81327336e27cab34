//! Prints a build's console log, following it while the build runs (`tail -f`), in constant
//! memory whatever its size.
//!
//! ```sh
//! JENKINS_URL=https://ci.example.com/ JENKINS_USER=alice JENKINS_API_TOKEN=... \
//!     cargo run -p cidata-cli --example tail_jenkins_log -- team/app 42
//! ```

use std::io::Write;

use cidata_jenkins::{ConsoleOptions, Jenkins, JobPath};
use futures::TryStreamExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(job), Some(number)) = (args.next(), args.next()) else {
        return Err("usage: tail_jenkins_log JOB_FULL_NAME BUILD_NUMBER".into());
    };
    let url = std::env::var("JENKINS_URL").map_err(|_| "set JENKINS_URL")?;
    let mut builder = Jenkins::builder(url);
    if let (Ok(user), Ok(token)) = (
        std::env::var("JENKINS_USER"),
        std::env::var("JENKINS_API_TOKEN"),
    ) {
        builder = builder.basic_auth(user, token);
    }
    let jenkins = builder.build()?;
    let job = JobPath::from_full_name(&job)?;
    let mut log = std::pin::pin!(jenkins.console(&job, number.parse()?, ConsoleOptions::follow()));
    let mut stdout = std::io::stdout().lock();
    while let Some(chunk) = log.try_next().await? {
        stdout.write_all(&chunk.bytes)?;
    }
    stdout.flush()?;
    Ok(())
}

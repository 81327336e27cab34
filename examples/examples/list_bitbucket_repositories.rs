//! Lists a Bitbucket workspace's repositories, most recently updated first.
//!
//! ```sh
//! BITBUCKET_ACCESS_TOKEN=... cargo run -p cidata-cli --example list_bitbucket_repositories -- acme
//! ```
//!
//! `BITBUCKET_URL` points it at another server (`ci-sync simulate`'s, for one).

use cidata_bitbucket::{Bitbucket, Query};
use futures::TryStreamExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let workspace = std::env::args()
        .nth(1)
        .ok_or("usage: list_bitbucket_repositories WORKSPACE")?;
    let token =
        std::env::var("BITBUCKET_ACCESS_TOKEN").map_err(|_| "set BITBUCKET_ACCESS_TOKEN")?;
    let mut builder = Bitbucket::builder().access_token(token);
    if let Ok(url) = std::env::var("BITBUCKET_URL") {
        builder = builder.base_url(url);
    }
    let bitbucket = builder.build()?;
    let newest_first = Query::new().sort_desc("updated_on");
    let mut repositories = std::pin::pin!(bitbucket.repositories(&workspace, &newest_first));
    while let Some(repo) = repositories.try_next().await? {
        println!(
            "{}\t{}\t{}",
            repo.full_name.as_deref().unwrap_or("?"),
            repo.updated_on.as_deref().unwrap_or("?"),
            repo.language.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

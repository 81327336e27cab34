//! The sources of the CI data SDK's sync engine ([`cidata_sync`]): Jenkins (with its Pipeline
//! stages), CircleCI and Bitbucket Cloud, each in one module with its tables, its saved state,
//! its decisions and the driver that does the requests through its client crate.
//!
//! The client crates (`cidata-jenkins`, `cidata-wfapi`, `cidata-circleci`, `cidata-bitbucket`)
//! do not depend on the sync engine; this crate joins them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use cidata_circleci::CircleCi;
//! use cidata_sources::circleci::CircleCiSource;
//! let circleci = CircleCi::builder().token("...").build()?;
//! let source = CircleCiSource::new(circleci, vec!["gh/acme/web".parse()?]);
//! let destination = cidata_sync::SqliteDestination::open("ci-sync.db")?;
//! let stats = cidata_sync::Engine::new()
//!     .run(std::sync::Arc::new(source), Box::new(destination))
//!     .await?;
//! println!("{} rows, {} requests", stats.rows_upserted(), stats.requests);
//! # Ok(()) }
//! ```

pub mod bitbucket;
pub mod circleci;
pub mod jenkins;

/// Every source's parts of the `ci_runs`, `ci_steps` views (see [`cidata_sync::views`]).
pub fn view_parts() -> Vec<cidata_sync::views::ViewPart> {
    let mut parts = jenkins::view_parts();
    parts.extend(circleci::view_parts());
    parts.extend(bitbucket::view_parts());
    parts
}

// The README's example is compiled as a doc test, exactly as displayed.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

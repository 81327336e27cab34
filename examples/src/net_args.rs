//! `--timeout`, `--retries` and `--max-response-mb`: how long the read commands wait for a server
//! and how often they try again, the same for every system.

use std::time::Duration;

use cidata_core::RetryPolicy;
use clap::Args;

use crate::cli_error::CliError;

/// The network settings of a read command (global: before or after the subcommand).
#[derive(Debug, Clone, Args)]
pub struct NetArgs {
    /// Seconds one request may take before it is abandoned (and retried), 1 to 86400.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, global = true)]
    timeout: u64,
    /// How many times a failed read is tried again (timeouts, 5xx, 429, broken connections).
    #[arg(long, value_name = "N", default_value_t = 2, global = true)]
    retries: u32,
    /// The largest JSON response accepted, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64, global = true)]
    max_response_mb: usize,
    /// Also trust the CA certificates of this PEM file (a company CA), besides the system's.
    #[arg(long, value_name = "PEM", global = true)]
    ca_file: Option<std::path::PathBuf>,
}

impl NetArgs {
    /// The request deadline, checked.
    pub fn timeout(&self) -> Result<Duration, CliError> {
        if (1..=86_400).contains(&self.timeout) {
            Ok(Duration::from_secs(self.timeout))
        } else {
            Err(CliError::Usage(format!(
                "--timeout {}: give 1 to 86400 seconds",
                self.timeout
            )))
        }
    }

    /// The retry policy: the default backoff with `--retries` more attempts.
    pub fn retry(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.retries.saturating_add(1),
            ..RetryPolicy::default()
        }
    }

    /// The CA bundle of `--ca-file`, read (with its warning), if given.
    pub fn ca_bundle(&self) -> Result<Option<Vec<u8>>, CliError> {
        self.ca_file
            .as_deref()
            .map(|path| read_ca_bundle("--ca-file", path))
            .transpose()
    }

    /// The response cap in bytes.
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_mb.max(1).saturating_mul(1024 * 1024)
    }
}

/// Reads a CA bundle named by `setting` (`--ca-file`, `[jenkins] ca_file`), warning loudly: every
/// certificate it holds may vouch for any server this run talks to.
pub fn read_ca_bundle(setting: &str, path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    let pem = std::fs::read(path)
        .map_err(|e| CliError::Usage(format!("{setting} {}: {e}", path.display())))?;
    if !pem
        .windows(b"-----BEGIN CERTIFICATE-----".len())
        .any(|w| w == b"-----BEGIN CERTIFICATE-----")
    {
        return Err(CliError::Usage(format!(
            "{setting} {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
            path.display()
        )));
    }
    tracing::warn!(
        "{setting} {}: trusting its certificates besides the system's; anyone holding one of their keys can pose as the server",
        path.display()
    );
    Ok(pem)
}

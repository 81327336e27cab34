//! Users, CSRF crumbs, API tokens and test reports.

use std::fmt;

use cidata_core::SecretString;
use serde::{Deserialize, Serialize};

use super::raw::{raw_model, vec_or_null};

/// A CSRF crumb (`/crumbIssuer/api/json`). It is bound to the web session of the response that
/// issued it, so it is sent back together with that session's cookie.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Crumb {
    /// The crumb's value.
    pub crumb: String,
    /// The header to send it in, usually `Jenkins-Crumb`.
    pub crumb_request_field: String,
}

impl fmt::Debug for Crumb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Crumb {{ field: {:?}, crumb: [redacted] }}",
            self.crumb_request_field
        )
    }
}

raw_model! {
    /// A user (`/user/NAME/api/json`, `/me/api/json`).
    pub struct User {
        /// The Java class, `hudson.model.User`.
        #[serde(rename = "_class")]
        pub class: Option<String>,
        /// The user id.
        pub id: Option<String>,
        /// The display name.
        pub full_name: Option<String>,
        /// The user's page.
        pub absolute_url: Option<String>,
        /// The description.
        pub description: Option<String>,
    }
}

/// The answer to generating an API token: the token value is a secret and never prints.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApiTokenResponse {
    /// `ok` on success.
    pub status: Option<String>,
    /// The token.
    pub data: Option<ApiToken>,
}

/// A new API token.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApiToken {
    /// The name given to the token.
    pub token_name: Option<String>,
    /// Its id (to revoke it).
    pub token_uuid: Option<String>,
    /// Its value, shown once.
    pub token_value: SecretString,
}

raw_model! {
    /// A build's test report (`/job/X/N/testReport/api/json`, `hudson.tasks.junit.TestResult`).
    pub struct TestReport {
        /// The Java class.
        #[serde(rename = "_class")]
        pub class: Option<String>,
        /// Total time in seconds.
        pub duration: Option<f64>,
        /// Whether no test ran.
        pub empty: Option<bool>,
        /// Failed tests.
        pub fail_count: Option<u64>,
        /// Passed tests.
        pub pass_count: Option<u64>,
        /// Skipped tests.
        pub skip_count: Option<u64>,
        /// The suites.
        #[serde(deserialize_with = "vec_or_null")]
        pub suites: Vec<TestSuite>,
    }
}

/// A test suite of a report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct TestSuite {
    /// The suite's name.
    pub name: Option<String>,
    /// Its id.
    pub id: Option<String>,
    /// Time in seconds.
    pub duration: Option<f64>,
    /// When it ran, as the report says.
    pub timestamp: Option<String>,
    /// The cases.
    #[serde(deserialize_with = "vec_or_null")]
    pub cases: Vec<TestCase>,
}

/// A test case of a suite.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct TestCase {
    /// The test's class.
    pub class_name: Option<String>,
    /// The test's name.
    pub name: Option<String>,
    /// `PASSED`, `FAILED`, `SKIPPED`, `FIXED`, `REGRESSION`.
    pub status: Option<String>,
    /// Time in seconds.
    pub duration: Option<f64>,
    /// Whether it was skipped.
    pub skipped: Option<bool>,
    /// Why it was skipped.
    pub skipped_message: Option<String>,
    /// The failure message.
    pub error_details: Option<String>,
    /// The failure's stack trace.
    pub error_stack_trace: Option<String>,
    /// Builds it has been failing for.
    pub age: Option<u64>,
    /// The build it first failed in.
    pub failed_since: Option<u64>,
    /// Its standard output.
    pub stdout: Option<String>,
    /// Its standard error.
    pub stderr: Option<String>,
}

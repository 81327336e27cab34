//! Small shapes that many models share.

use serde::{Deserialize, Serialize};

/// A reference to a build: `{number, url}` (as in `lastBuild`, `builds`, queue `executable`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct BuildRef {
    /// The Java class of the build.
    #[serde(rename = "_class")]
    pub class: Option<String>,
    /// The build number.
    pub number: Option<u64>,
    /// The build's URL as the server built it (may be stale: rebase before use).
    pub url: Option<String>,
}

/// A reference to a user: `{absoluteUrl, fullName}` (culprits, change set authors).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct UserRef {
    /// The user's page.
    pub absolute_url: Option<String>,
    /// The user's full name.
    pub full_name: Option<String>,
}

/// A weather report of a job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct HealthReport {
    /// What the score means.
    pub description: Option<String>,
    /// The icon's CSS class.
    pub icon_class_name: Option<String>,
    /// The icon's file.
    pub icon_url: Option<String>,
    /// 0 (stormy) to 100 (sunny).
    pub score: Option<i64>,
}

//! Archived artifacts of a build.

use super::raw::raw_model;

raw_model! {
    /// An archived file of a build. `relative_path` is not encoded: build its URL with
    /// `Jenkins::artifact_url`, which encodes each segment.
    pub struct Artifact {
        /// The file's name.
        pub file_name: Option<String>,
        /// The path below the build's `artifact/` folder, `/`-separated.
        pub relative_path: Option<String>,
        /// The path the UI shows (shortened when unambiguous).
        pub display_path: Option<String>,
    }
}

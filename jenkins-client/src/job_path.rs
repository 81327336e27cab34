//! Where a job lives: its chain of folder names, and the `job/a/job/b/` path that addresses it.

use std::fmt;
use std::str::FromStr;

/// Percent-encodes one URL path segment (a job name, an artifact path segment): everything but
/// RFC 3986's unreserved characters, so a space is `%20` (never `+`), a `/` inside a name is
/// `%2F`, and an already-encoded multibranch name `feature%2Fx` becomes `feature%252Fx`, exactly
/// as Jenkins addresses it.
pub use cidata_core::encode_segment;
use cidata_core::{BaseUrl, Error, ErrorKind, Result};
use percent_encoding::percent_decode_str;

/// The path of a job through its folders, as the raw names Jenkins shows in `name`.
///
/// ```
/// use cidata_jenkins::JobPath;
/// let path = JobPath::from_full_name("team/app/feature%2Fx").unwrap();
/// assert_eq!(path.segments(), ["team", "app", "feature%2Fx"]);
/// assert_eq!(path.url_path(), "job/team/job/app/job/feature%252Fx/");
/// assert_eq!(path.full_name(), "team/app/feature%2Fx");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct JobPath {
    segments: Vec<String>,
}

impl JobPath {
    /// The root of the server (no job). Listings start here.
    pub fn root() -> JobPath {
        JobPath::default()
    }

    /// From a full name such as `team/app/main` (Jenkins' `fullName`): split on `/`.
    ///
    /// Names of multibranch branches arrive already encoded (`feature%2Fx`) and stay as they are.
    pub fn from_full_name(full_name: &str) -> Result<JobPath> {
        let trimmed = full_name.trim_matches('/');
        if trimmed.is_empty() {
            return Err(Error::new(ErrorKind::InvalidInput, "an empty job name"));
        }
        JobPath::from_segments(trimmed.split('/'))
    }

    /// From the names of the folders and the job, outermost first. A segment may hold any
    /// character, `/` included; an empty, `.` or `..` segment is an error.
    pub fn from_segments<I, S>(segments: I) -> Result<JobPath>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let segments: Vec<String> = segments.into_iter().map(Into::into).collect();
        if let Some(bad) = segments
            .iter()
            .find(|s| s.is_empty() || *s == "." || *s == "..")
        {
            // Jenkins refuses these names too, and URLs would read them as directory steps.
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "a job path cannot have an empty, `.` or `..` segment ({bad:?} in {segments:?})"
                ),
            ));
        }
        Ok(JobPath { segments })
    }

    /// From any URL that points to a job or into one (`.../job/a/job/b/42/console`), whatever origin
    /// it carries: the context path of `base` is removed and the `job/NAME` pairs are read.
    pub fn from_url(url: &str, base: &BaseUrl) -> Result<JobPath> {
        JobPath::from_build_url(url, base).map(|(path, _)| path)
    }

    /// From a URL into a job or one of its builds: the job's path, and the build number when one
    /// follows the `job/NAME` pairs (`.../job/app/42/console` gives `app` and `Some(42)`).
    ///
    /// ```
    /// use cidata_core::BaseUrl;
    /// use cidata_jenkins::JobPath;
    /// let base = BaseUrl::parse("https://ci.example.com/jenkins/").unwrap();
    /// let (job, build) = JobPath::from_build_url("https://ci.example.com/jenkins/job/team/job/app/42/console", &base).unwrap();
    /// assert_eq!((job.full_name().as_str(), build), ("team/app", Some(42)));
    /// ```
    pub fn from_build_url(url: &str, base: &BaseUrl) -> Result<(JobPath, Option<u64>)> {
        let rebased = base.rebase(url)?;
        let path = rebased.path();
        let context = base.context_path();
        let rest = path
            .strip_prefix(context)
            .unwrap_or(path.trim_start_matches('/'));
        let mut parts = rest.split('/').peekable();
        let mut segments = Vec::new();
        while parts.peek() == Some(&"job") {
            parts.next();
            match parts.next() {
                Some(name) if !name.is_empty() => {
                    segments.push(percent_decode_str(name).decode_utf8_lossy().into_owned())
                }
                _ => break,
            }
        }
        if segments.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "`{rebased}` is not the URL of a job (no `job/NAME` after the context path)"
                ),
            ));
        }
        let number = parts.next().and_then(|p| p.parse().ok());
        Ok((JobPath { segments }, number))
    }

    /// The raw names, outermost first.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// Whether this is the root (no segment).
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// The job's own name (the last segment); empty for the root.
    pub fn name(&self) -> &str {
        self.segments.last().map(String::as_str).unwrap_or("")
    }

    /// Segments joined with `/`, as Jenkins' `fullName`.
    pub fn full_name(&self) -> String {
        self.segments.join("/")
    }

    /// The enclosing folder, or `None` for a top-level job and the root.
    pub fn parent(&self) -> Option<JobPath> {
        (self.segments.len() > 1).then(|| JobPath {
            segments: self.segments[..self.segments.len() - 1].to_vec(),
        })
    }

    /// This path with `name` appended.
    pub fn child(&self, name: impl Into<String>) -> JobPath {
        let mut segments = self.segments.clone();
        segments.push(name.into());
        JobPath { segments }
    }

    /// The path relative to the server root: `job/a/job/b/` (empty for the root), every segment
    /// percent-encoded.
    pub fn url_path(&self) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            out.push_str("job/");
            out.push_str(&encode_segment(segment));
            out.push('/');
        }
        out
    }
}

/// The full name; width, fill and alignment apply (`{:<30}`).
impl fmt::Display for JobPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.full_name())
    }
}

impl fmt::Debug for JobPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JobPath({:?})", self.full_name())
    }
}

impl FromStr for JobPath {
    type Err = Error;
    fn from_str(s: &str) -> Result<JobPath> {
        JobPath::from_full_name(s)
    }
}

impl TryFrom<&str> for JobPath {
    type Error = Error;
    fn try_from(s: &str) -> Result<JobPath> {
        JobPath::from_full_name(s)
    }
}

impl TryFrom<&String> for JobPath {
    type Error = Error;
    fn try_from(s: &String) -> Result<JobPath> {
        JobPath::from_full_name(s)
    }
}

impl From<&JobPath> for JobPath {
    fn from(p: &JobPath) -> JobPath {
        p.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> BaseUrl {
        BaseUrl::parse("https://ci.example.com/jenkins/").unwrap()
    }

    #[test]
    fn encodes_spaces_non_ascii_and_encoded_names() {
        let p = JobPath::from_segments(["My Folder", "déploiement", "feature%2Fx", "a/b"]).unwrap();
        assert_eq!(
            p.url_path(),
            "job/My%20Folder/job/d%C3%A9ploiement/job/feature%252Fx/job/a%2Fb/"
        );
    }

    #[test]
    fn from_url_reads_job_pairs_on_any_origin() {
        let p = JobPath::from_url(
            "http://0.0.0.0:8080/job/Level1/job/feature%252Fgithub-commands/12/console",
            &base(),
        )
        .unwrap();
        assert_eq!(p.segments(), ["Level1", "feature%2Fgithub-commands"]);
        let p = JobPath::from_url(
            "https://ci.example.com/jenkins/job/Test%20Project/",
            &base(),
        )
        .unwrap();
        assert_eq!(p.full_name(), "Test Project");
        assert!(JobPath::from_url("https://ci.example.com/jenkins/view/all/", &base()).is_err());
        let (p, n) = JobPath::from_build_url(
            "https://ci.example.com/jenkins/job/team/job/app/42/console",
            &base(),
        )
        .unwrap();
        assert_eq!((p.full_name().as_str(), n), ("team/app", Some(42)));
        let (_, n) =
            JobPath::from_build_url("https://ci.example.com/jenkins/job/app/lastBuild/", &base())
                .unwrap();
        assert_eq!(n, None);
    }

    #[test]
    fn display_honours_width_and_alignment() {
        let p = JobPath::from_full_name("team/app").unwrap();
        assert_eq!(format!("[{p:>10}]"), "[  team/app]");
        assert_eq!(format!("[{p:-<10}]"), "[team/app--]");
        assert_eq!(format!("{p}"), "team/app");
    }

    #[test]
    fn full_name_rules() {
        assert!(JobPath::from_full_name("").is_err());
        assert!(JobPath::from_full_name("a//b").is_err());
        assert!(JobPath::from_full_name("a/../b").is_err());
        assert!(JobPath::from_segments(["."]).is_err());
        let p: JobPath = "/team/app/".parse().unwrap();
        assert_eq!(p.segments(), ["team", "app"]);
        assert_eq!(p.parent().unwrap().full_name(), "team");
        assert_eq!(p.name(), "app");
        assert_eq!(p.child("main").full_name(), "team/app/main");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn url_round_trip_keeps_any_segment(
                segments in proptest::collection::vec("\\PC{1,12}".prop_filter("not a dot step", |s| s != "." && s != ".."), 1..5)
            ) {
                let path = JobPath::from_segments(segments.clone()).unwrap();
                let url = format!("http://stale.example:8080/ctx/{}", path.url_path());
                let back = JobPath::from_url(&url, &BaseUrl::parse("https://ci.example.com/ctx/").unwrap()).unwrap();
                prop_assert_eq!(back.segments(), segments.as_slice());
            }

            #[test]
            fn full_name_round_trip(
                segments in proptest::collection::vec("[^/]{1,12}".prop_filter("not a dot step", |s| s != "." && s != ".."), 1..5)
            ) {
                let full = segments.join("/");
                let path = JobPath::from_full_name(&full).unwrap();
                prop_assert_eq!(path.full_name(), full);
                prop_assert_eq!(path.segments(), segments.as_slice());
            }

            #[test]
            fn encoded_paths_hold_only_safe_characters(segment in "\\PC{1,16}") {
                let encoded = encode_segment(&segment);
                prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
                prop_assert!(!encoded.contains('+'));
            }
        }
    }
}

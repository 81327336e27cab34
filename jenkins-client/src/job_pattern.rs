//! Glob patterns over jobs' full names, to include or exclude jobs: `team/*`, `**/main`, `app-?`.

use std::fmt;
use std::str::FromStr;

use cidata_core::{Error, ErrorKind, Result};

use crate::JobPath;

/// A pattern over full names, segment by segment: `*` matches any run of characters within a
/// segment, `?` one character, and a segment `**` any number of segments (none included).
///
/// ```
/// use cidata_jenkins::{JobPath, JobPattern};
/// let p: JobPattern = "team/**/main".parse().unwrap();
/// assert!(p.matches(&JobPath::from_full_name("team/app/main").unwrap()));
/// assert!(p.matches(&JobPath::from_full_name("team/main").unwrap()));
/// assert!(!p.matches(&JobPath::from_full_name("other/app/main").unwrap()));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct JobPattern {
    text: String,
    segments: Vec<String>,
}

impl JobPattern {
    /// Parses a pattern; an empty one, or one with an empty segment, is an error.
    pub fn parse(pattern: &str) -> Result<JobPattern> {
        let trimmed = pattern.trim().trim_matches('/');
        let segments: Vec<String> = trimmed.split('/').map(str::to_owned).collect();
        if trimmed.is_empty() || segments.iter().any(String::is_empty) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("`{pattern}` is not a job pattern (like `team/*` or `**/main`)"),
            ));
        }
        Ok(JobPattern {
            text: trimmed.to_owned(),
            segments,
        })
    }

    /// Whether the job's full name matches.
    pub fn matches(&self, job: &JobPath) -> bool {
        let names: Vec<&str> = job.segments().iter().map(String::as_str).collect();
        let pattern: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        matches_segments(&pattern, &names)
    }
}

fn matches_segments(pattern: &[&str], names: &[&str]) -> bool {
    match pattern.split_first() {
        None => names.is_empty(),
        Some((&"**", rest)) => (0..=names.len()).any(|skip| matches_segments(rest, &names[skip..])),
        Some((first, rest)) => names.split_first().is_some_and(|(name, more)| {
            matches_segment(first, name) && matches_segments(rest, more)
        }),
    }
}

/// `*` and `?` within one segment, by dynamic programming over characters.
fn matches_segment(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let mut reach = vec![false; n.len() + 1];
    reach[0] = true;
    for &pc in &p {
        let mut next = vec![false; n.len() + 1];
        for i in 0..=n.len() {
            if !reach[i] {
                continue;
            }
            match pc {
                '*' => {
                    for slot in &mut next[i..] {
                        *slot = true;
                    }
                    break;
                }
                '?' if i < n.len() => next[i + 1] = true,
                c if i < n.len() && n[i] == c => next[i + 1] = true,
                _ => {}
            }
        }
        reach = next;
    }
    reach[n.len()]
}

impl fmt::Display for JobPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for JobPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JobPattern({:?})", self.text)
    }
}

impl FromStr for JobPattern {
    type Err = Error;
    fn from_str(s: &str) -> Result<JobPattern> {
        JobPattern::parse(s)
    }
}

/// Include and exclude patterns: a job is selected when it matches an include (or there are
/// none) and no exclude.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Jobs to keep; empty keeps all.
    pub include: Vec<JobPattern>,
    /// Jobs to drop.
    pub exclude: Vec<JobPattern>,
}

impl JobFilter {
    /// Whether the job is selected.
    pub fn selects(&self, job: &JobPath) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| p.matches(job)))
            && !self.exclude.iter().any(|p| p.matches(job))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(p: &str, name: &str) -> bool {
        JobPattern::parse(p)
            .unwrap()
            .matches(&JobPath::from_full_name(name).unwrap())
    }

    #[test]
    fn segment_wildcards() {
        assert!(m("team/*", "team/app"));
        assert!(!m("team/*", "team/app/main"));
        assert!(m("team/**", "team/app/main"));
        assert!(m("team/**", "team"));
        assert!(m("**/main", "main"));
        assert!(m("*/app-?", "x/app-1"));
        assert!(!m("*/app-?", "x/app-10"));
        assert!(m("déploi*", "déploiement"));
        assert!(m("*feature%2F*", "feature%2Fx"));
        assert!(JobPattern::parse("").is_err() && JobPattern::parse("a//b").is_err());
    }

    #[test]
    fn filters() {
        let f = JobFilter {
            include: vec!["team/**".parse().unwrap()],
            exclude: vec!["**/sandbox*".parse().unwrap()],
        };
        assert!(f.selects(&JobPath::from_full_name("team/app").unwrap()));
        assert!(!f.selects(&JobPath::from_full_name("team/sandbox-1").unwrap()));
        assert!(!f.selects(&JobPath::from_full_name("other").unwrap()));
        assert!(JobFilter::default().selects(&JobPath::from_full_name("any/thing").unwrap()));
    }

    proptest! {
        #[test]
        fn a_name_matches_itself_and_star_matches_any_segment(name in "[a-z0-9 ._-]{1,10}") {
            prop_assert!(matches_segment(&name, &name));
            prop_assert!(matches_segment("*", &name));
            let prefix = format!("{}*", name);
            prop_assert!(matches_segment(&prefix, &name));
        }
    }
}

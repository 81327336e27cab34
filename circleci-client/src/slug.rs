//! Project slugs: `gh/org/repo`, `bb/org/repo`, `circleci/<org uuid>/<project uuid>`.

use std::fmt;
use std::str::FromStr;

use cidata_core::{Error, ErrorKind, Result};

/// Encodes a value as one URL path segment (`/` included): a slug is one segment
/// (`gh%2Forg%2Frepo`), as Prism and some proxies refuse raw slashes there.
pub(crate) use cidata_core::encode_segment as segment;

/// The version control system part of a slug, as CircleCI spells it.
const VCS: [&str; 5] = ["gh", "github", "bb", "bitbucket", "circleci"];

/// A checked project slug: `vcs/org/project`, the way CircleCI names a project in paths.
///
/// ```
/// use cidata_circleci::ProjectSlug;
/// let slug: ProjectSlug = "gh/acme/web".parse().unwrap();
/// assert_eq!(slug.org(), "acme");
/// assert_eq!(slug.path_segment(), "gh%2Facme%2Fweb");
/// assert!("acme/web".parse::<ProjectSlug>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProjectSlug {
    slug: String,
}

impl ProjectSlug {
    /// Parses `vcs/org/project` where `vcs` is `gh`, `github`, `bb`, `bitbucket` or `circleci`
    /// (GitLab and GitHub App projects: `circleci/<org id>/<project id>`).
    pub fn parse(slug: &str) -> Result<ProjectSlug> {
        let bad = |why: &str| {
            Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "`{slug}` is not a project slug ({why}; expected `gh/org/repo`, `bb/org/repo` or `circleci/<org id>/<project id>`)"
                ),
            )
        };
        let parts: Vec<&str> = slug.split('/').collect();
        let [vcs, org, project] = parts.as_slice() else {
            return Err(bad("it needs three parts"));
        };
        if !VCS.contains(vcs) {
            return Err(bad(&format!("unknown version control `{vcs}`")));
        }
        if [org, project]
            .iter()
            .any(|p| p.is_empty() || p.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(bad("an empty part or a blank in one"));
        }
        Ok(ProjectSlug {
            slug: slug.to_owned(),
        })
    }

    /// The slug as given (`gh/org/repo`).
    pub fn as_str(&self) -> &str {
        &self.slug
    }

    /// The version control part: `gh`, `github`, `bb`, `bitbucket` or `circleci`.
    pub fn vcs(&self) -> &str {
        self.parts().0
    }

    /// The organization part.
    pub fn org(&self) -> &str {
        self.parts().1
    }

    /// The project (repository) part.
    pub fn project(&self) -> &str {
        self.parts().2
    }

    /// The slug as one percent-encoded path segment (`gh%2Forg%2Frepo`).
    pub fn path_segment(&self) -> String {
        segment(&self.slug)
    }

    /// The same project as CircleCI writes it in responses: `github` → `gh`, `bitbucket` → `bb`
    /// (asking for `project/github/...` returns `gh/...` in `project_slug`).
    pub fn canonical(&self) -> ProjectSlug {
        let (vcs, org, project) = self.parts();
        let vcs = match vcs {
            "github" => "gh",
            "bitbucket" => "bb",
            other => other,
        };
        ProjectSlug {
            slug: format!("{vcs}/{org}/{project}"),
        }
    }

    fn parts(&self) -> (&str, &str, &str) {
        let mut parts = self.slug.splitn(3, '/');
        let vcs = parts.next().unwrap_or_default();
        let org = parts.next().unwrap_or_default();
        (vcs, org, parts.next().unwrap_or_default())
    }
}

impl FromStr for ProjectSlug {
    type Err = Error;
    fn from_str(s: &str) -> Result<ProjectSlug> {
        ProjectSlug::parse(s)
    }
}

impl fmt::Display for ProjectSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.slug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_vcs_and_bad_slugs() {
        for ok in [
            "gh/acme/web",
            "github/acme/web.site",
            "bb/acme/web",
            "bitbucket/acme/web",
            "circleci/8e4z1Akd74woxagxnvLT5q/V29Cenkg8EaiSZARmWm8Lz",
        ] {
            assert_eq!(ProjectSlug::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "gh/acme",
            "gh/acme/web/x",
            "gl/acme/web",
            "gh//web",
            "gh/a b/web",
        ] {
            let err = ProjectSlug::parse(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
        assert_eq!(
            ProjectSlug::parse("github/a/b")
                .unwrap()
                .canonical()
                .as_str(),
            "gh/a/b"
        );
    }

    proptest! {
        /// The encoded slug is one segment that decodes back to the slug.
        #[test]
        fn the_path_segment_is_one_segment_that_decodes_back(
            vcs in prop::sample::select(VCS.to_vec()),
            org in "[^/\\s\\p{Cc}]{1,12}",
            project in "[^/\\s\\p{Cc}]{1,12}",
        ) {
            let text = format!("{vcs}/{org}/{project}");
            let slug = ProjectSlug::parse(&text).unwrap();
            let encoded = slug.path_segment();
            prop_assert!(!encoded.contains('/') && !encoded.contains('?') && !encoded.contains('#'));
            let decoded = percent_encoding::percent_decode_str(&encoded).decode_utf8().unwrap();
            prop_assert_eq!(decoded, text.as_str());
            prop_assert_eq!((slug.vcs(), slug.org(), slug.project()), (vcs, org.as_str(), project.as_str()));
        }
    }
}

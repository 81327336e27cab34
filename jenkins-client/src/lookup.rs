//! Finding the job a person typed: `feature/login` for the multibranch branch Jenkins names
//! `feature%2Flogin`, and, when nothing fits, the folder that exists and what it holds.

use cidata_core::{Error, ErrorKind, Result};
use serde::Deserialize;

use crate::models::Job;
use crate::models::raw::vec_or_null;
use crate::{Jenkins, JobPath, Tree};

/// How many folders one lookup lists at most: a typed name with many `/` could otherwise fan out.
const MAX_FOLDERS_LISTED: usize = 32;

/// What a name typed by a person refers to on the server.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum JobLookup {
    /// One job or folder fits. `job` holds its `_class`, name, first and last build numbers, and
    /// for a folder the names of its children.
    Found {
        /// The job's exact path (branch names encoded as Jenkins names them).
        path: JobPath,
        /// What the lookup read of it (boxed: a `Job` is large beside the other variants).
        job: Box<Job>,
    },
    /// Nothing fits: `folder` exists (the root when it has no segment) but holds nothing named `name`.
    Missing {
        /// The deepest folder of the typed name that exists.
        folder: JobPath,
        /// The name not found in it.
        name: String,
        /// The names `folder` does hold.
        children: Vec<String>,
    },
    /// Several jobs fit, such as a folder `feature` holding `login` and a branch `feature%2Flogin`.
    Ambiguous(Vec<JobPath>),
}

#[derive(Deserialize)]
struct Children {
    #[serde(default, deserialize_with = "vec_or_null")]
    jobs: Vec<Job>,
}

impl Jenkins {
    /// Finds the job a person typed as a full name (`team/app/feature/login`). A `/` may separate
    /// folders or belong to a multibranch branch's name (`feature%2Flogin` on the server): every
    /// reading is tried, folder by folder. Costs one request per folder listed, so it is meant for
    /// when the direct path answered 404, to retry with the right path or to say what exists.
    ///
    /// ```no_run
    /// # async fn demo(jenkins: cidata_jenkins::Jenkins) -> cidata_jenkins::Result<()> {
    /// use cidata_jenkins::JobLookup;
    /// match jenkins.lookup_job("web/feature/login").await? {
    ///     JobLookup::Found { path, .. } => println!("it is {path}"),
    ///     JobLookup::Missing { folder, name, children } => {
    ///         println!("`{folder}` has no `{name}`; it holds {}", children.join(", "))
    ///     }
    ///     JobLookup::Ambiguous(paths) => println!("{} jobs fit", paths.len()),
    ///     _ => {}
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn lookup_job(&self, typed: &str) -> Result<JobLookup> {
        let segments: Vec<&str> = typed.trim_matches('/').split('/').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("`{typed}` is not a job name (an empty name or an empty folder level)"),
            ));
        }
        let fields = Tree::fields(["name"])
            .nested("firstBuild", Tree::fields(["number"]))
            .nested("lastBuild", Tree::fields(["number"]))
            .nested("jobs", Tree::fields(["name"]));
        let tree = Tree::new().nested("jobs", fields);
        let mut found: Vec<(JobPath, Job)> = Vec::new();
        // The deepest point where nothing fitted: (segments consumed, folder, its children).
        let mut missing: Option<(usize, JobPath, Vec<String>)> = None;
        let mut stack = vec![(JobPath::root(), 0usize)];
        let mut listed = 0;
        while let Some((folder, at)) = stack.pop() {
            if listed == MAX_FOLDERS_LISTED {
                break;
            }
            listed += 1;
            let children: Children = self.get_json(&folder.url_path(), Some(&tree)).await?;
            let mut fitted = false;
            // `a/b/c` below a folder may be a child `a`, a branch `a%2Fb`, or a branch `a%2Fb%2Fc`.
            for end in at + 1..=segments.len() {
                let name = segments[at..end].join("%2F");
                let Some(child) = children
                    .jobs
                    .iter()
                    .find(|c| c.name.as_deref() == Some(&name))
                else {
                    continue;
                };
                fitted = true;
                let path = folder.child(name);
                if end == segments.len() {
                    found.push((path, child.clone()));
                } else {
                    stack.push((path, end));
                }
            }
            if !fitted && missing.as_ref().is_none_or(|(deepest, ..)| at > *deepest) {
                let names = children
                    .jobs
                    .iter()
                    .filter_map(|c| c.name.clone())
                    .collect();
                missing = Some((at, folder, names));
            }
        }
        Ok(match found.len() {
            1 => {
                let (path, job) = found.remove(0);
                JobLookup::Found {
                    path,
                    job: Box::new(job),
                }
            }
            0 => {
                let (at, folder, children) = missing.unwrap_or((0, JobPath::root(), Vec::new()));
                JobLookup::Missing {
                    folder,
                    name: segments[at].to_owned(),
                    children,
                }
            }
            _ => JobLookup::Ambiguous(found.into_iter().map(|(p, _)| p).collect()),
        })
    }
}

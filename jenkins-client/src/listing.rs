//! Streams over everything a server holds: all jobs through every folder, all builds of a job,
//! queue items, nodes.

use std::collections::VecDeque;

use cidata_core::{Cursor, Error, ErrorKind, Next, Page, PageLimits, Result, items, paginate};
use futures::{Stream, TryStreamExt, stream};
use serde::Deserialize;

use crate::models::{Build, Computer, ComputerSet, Job};
use crate::{Field, Jenkins, JobPath, Range, Tree};

/// A job found by [`Jenkins::jobs`], with the path it was found at.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JobEntry {
    /// Where the job lives (folder names and its own name).
    pub path: JobPath,
    /// The job, with the fields the listing asked for. Its children are yielded as entries of their
    /// own, so its `jobs` is emptied (`Some(vec![])` for a container; `raw` still holds them).
    pub job: Job,
}

/// A listing of a job's builds, newest first, paged with `allBuilds[...]{M,N}`.
///
/// ```no_run
/// # async fn demo(jenkins: cidata_jenkins::Jenkins) -> cidata_jenkins::Result<()> {
/// use futures::TryStreamExt;
/// let job = cidata_jenkins::JobPath::from_full_name("team/app")?;
/// // The 5 newest builds in one small request, then pages of the client's size.
/// let newest: Vec<_> = jenkins.build_listing(&job).first_page_size(5).stream().try_take_while(|b| {
///     futures::future::ready(Ok(b.number.unwrap_or(0) > 1200))
/// }).try_collect().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct BuildListing {
    jenkins: Jenkins,
    prefix: String,
    fields: Tree,
    skip: u64,
    page_size: u64,
    first_page_size: Option<u64>,
}

impl BuildListing {
    /// The fields of each build (default: [`default_build_fields`]).
    pub fn fields(mut self, fields: Tree) -> Self {
        self.fields = fields;
        self
    }

    /// Starts at the `skip`-th newest build.
    pub fn skip(mut self, skip: u64) -> Self {
        self.skip = skip;
        self
    }

    /// Builds per page (default: the client's page size).
    pub fn page_size(mut self, size: u64) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// The size of the first page only: small when only the newest few builds are wanted.
    pub fn first_page_size(mut self, size: u64) -> Self {
        self.first_page_size = Some(size.max(1));
        self
    }

    /// The builds, newest first, each once.
    pub fn stream(self) -> impl Stream<Item = Result<Build>> + Send + 'static {
        let BuildListing {
            jenkins,
            prefix,
            fields,
            skip,
            page_size,
            first_page_size,
        } = self;
        let first = first_page_size.unwrap_or(page_size);
        // The lowest build number seen so far: a page that brings none lower brings nothing new
        // (a server that ignores `{M,N}` answers the same page forever), so it ends the listing.
        let lowest = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(u64::MAX));
        let pages = paginate(
            jenkins.base().clone(),
            PageLimits::default(),
            move |cursor: Option<Cursor>| {
                let jenkins = jenkins.clone();
                let prefix = prefix.clone();
                let fields = fields.clone();
                let lowest = lowest.clone();
                async move {
                    let (start, size) = match cursor {
                        None => (skip, first),
                        Some(Cursor::Token(t)) => {
                            let start = t
                                .parse()
                                .map_err(|_| Error::new(ErrorKind::InvalidInput, "bad offset"))?;
                            (start, page_size)
                        }
                        Some(Cursor::Link(_)) => {
                            return Err(Error::new(
                                ErrorKind::Protocol,
                                "build pages are addressed by offset, not by link",
                            ));
                        }
                    };
                    let tree = Tree::new().nested_range(
                        "allBuilds",
                        fields,
                        Range::Between(start, start + size),
                    );
                    let url = jenkins.api_url(&prefix, Some(&tree))?;
                    let page: BuildsResponse = jenkins.http().get_json(url.clone()).await?;
                    // The listing's contract is newest first: a page whose numbers rise is from a
                    // server that lists oldest first, and paging it by offset from the newest
                    // would skip builds, so it is an error, not a listing to trust.
                    if let Some(pair) = rising_pair(&page.all_builds) {
                        return Err(Error::new(
                            ErrorKind::Protocol,
                            format!(
                                "the builds are not listed newest first (#{} before #{}): the listing cannot be trusted",
                                pair.0, pair.1
                            ),
                        )
                        .with_request("GET", &url));
                    }
                    let full = page.all_builds.len() as u64 >= size;
                    let page_lowest = page.all_builds.iter().filter_map(|b| b.number).min();
                    let before = lowest.fetch_min(
                        page_lowest.unwrap_or(u64::MAX),
                        std::sync::atomic::Ordering::Relaxed,
                    );
                    let progressed = page_lowest.is_some_and(|n| n < before);
                    // A page that brings no lower number comes from a server that ignores
                    // `{M,N}`: its `allBuilds` is then the whole list, already given by the
                    // first page, so the listing is complete and ends here.
                    if !progressed && start > skip {
                        return Ok(Page::new(Vec::new(), Next::End));
                    }
                    let next = if full {
                        Next::Token((start + size).to_string())
                    } else {
                        Next::End
                    };
                    let keys = page
                        .all_builds
                        .iter()
                        .map(|b| b.number.unwrap_or(u64::MAX))
                        .collect();
                    Ok(Page::new(page.all_builds, next).with_keys(keys))
                }
            },
        );
        // Builds come newest first with falling numbers: a number not below the last one yielded
        // is a repeat, shifted into this page by builds that started meanwhile.
        let mut last: Option<u64> = None;
        items(pages).try_filter(move |b| {
            let fresh = match (b.number, last) {
                (Some(n), Some(prev)) if n >= prev => false,
                (Some(n), _) => {
                    last = Some(n);
                    true
                }
                (None, _) => true,
            };
            futures::future::ready(fresh)
        })
    }
}

/// Two neighbouring builds of a page whose numbers rise (newest first means falling), if any.
fn rising_pair(builds: &[Build]) -> Option<(u64, u64)> {
    let numbers: Vec<u64> = builds.iter().filter_map(|b| b.number).collect();
    numbers
        .windows(2)
        .find(|w| w[1] >= w[0])
        .map(|w| (w[0], w[1]))
}

/// The fields listed for every job by default: enough to tell what changed since a last look.
pub fn default_job_fields() -> Tree {
    Tree::fields([
        "name",
        "url",
        "color",
        "fullName",
        "displayName",
        "buildable",
        "inQueue",
        "nextBuildNumber",
    ])
    .nested("lastBuild", Tree::fields(["number"]))
    .nested("lastCompletedBuild", Tree::fields(["number"]))
}

/// The fields listed for every build by default: the build, its artifacts, and the actions that
/// carry causes, parameters, test counts, the git revision and queue timings.
pub fn default_build_fields() -> Tree {
    let actions = Tree::new()
        .nested(
            "causes",
            Tree::fields([
                "shortDescription",
                "userId",
                "userName",
                "upstreamProject",
                "upstreamBuild",
                "upstreamUrl",
            ]),
        )
        .nested("parameters", Tree::fields(["name", "value"]))
        .field("failCount")
        .field("skipCount")
        .field("totalCount")
        .field("urlName")
        .nested(
            "lastBuiltRevision",
            Tree::fields(["SHA1"]).nested("branch", Tree::fields(["SHA1", "name"])),
        )
        .field("remoteUrls")
        .field("queuingDurationMillis")
        .field("totalDurationMillis");
    Tree::fields([
        "number",
        "id",
        "url",
        "result",
        "building",
        "inProgress",
        "timestamp",
        "duration",
        "estimatedDuration",
        "queueId",
        "displayName",
        "description",
        "builtOn",
        "keepLog",
    ])
    .nested(
        "artifacts",
        Tree::fields(["fileName", "relativePath", "displayPath"]),
    )
    .nested("actions", actions)
}

/// The `jobs[...]` tree nested `levels` deep; the innermost level asks only whether a job has any
/// child (`jobs[name]{0,1}`), so that the walk knows where to descend with a new request.
pub(crate) fn nested_jobs_tree(fields: &Tree, levels: u32) -> Tree {
    let probe = Field::new("jobs")
        .children(Tree::fields(["name"]))
        .range(Range::To(1));
    let mut inner = fields.clone().with(probe);
    for _ in 1..levels {
        inner = fields.clone().nested("jobs", inner);
    }
    Tree::new().nested("jobs", inner)
}

// The list keys are required: a body without them (`{}`, `{"jobs": null}`, an error object sent
// with status 200) is a decode error naming the URL, never "no jobs" (which would delete them all).
#[derive(Deserialize)]
struct JobsResponse {
    jobs: Vec<Job>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BuildsResponse {
    all_builds: Vec<Build>,
}

impl Jenkins {
    /// Every job on the server, recursively through folders, multibranch projects and organization
    /// folders, parents before children. One request covers [`folder_depth`] levels
    /// (default 5); deeper folders are listed with one more request each.
    ///
    /// [`folder_depth`]: crate::JenkinsBuilder::folder_depth
    pub fn jobs(&self) -> impl Stream<Item = Result<JobEntry>> + Send + 'static {
        self.jobs_with(default_job_fields())
    }

    /// Like [`Jenkins::jobs`], listing the fields of `fields` for each job (the `jobs` nesting is added).
    pub fn jobs_with(&self, fields: Tree) -> impl Stream<Item = Result<JobEntry>> + Send + 'static {
        self.jobs_under(JobPath::root(), fields)
    }

    /// The jobs below one folder, recursively.
    pub fn jobs_under(
        &self,
        folder: JobPath,
        fields: Tree,
    ) -> impl Stream<Item = Result<JobEntry>> + Send + 'static {
        let jenkins = self.clone();
        let levels = self.folder_depth;
        let tree = nested_jobs_tree(&fields, levels);
        async_stream::try_stream! {
            // A folder that lists itself (a hostile or broken server) would be walked forever:
            // a job URL seen twice, or a nesting deeper than any real server's, stops the walk.
            let mut urls = std::collections::HashSet::new();
            let mut folders = VecDeque::from([folder]);
            while let Some(folder) = folders.pop_front() {
                let response: JobsResponse = jenkins.get_json(&folder.url_path(), Some(&tree)).await?;
                // Depth-first, parents first: a stack of (parent path, job, levels left below it).
                let mut stack: Vec<(JobPath, Job, u32)> =
                    response.jobs.into_iter().rev().map(|j| (folder.clone(), j, levels)).collect();
                while let Some((parent, mut job, left)) = stack.pop() {
                    let path = job_path_in(&jenkins, &parent, &job)?;
                    check_walk(&mut urls, &path, &job)?;
                    let kids = job.jobs.take();
                    job.jobs = kids.as_ref().map(|_| Vec::new());
                    match kids {
                        Some(kids) if left > 1 => {
                            stack.extend(kids.into_iter().rev().map(|k| (path.clone(), k, left - 1)));
                        }
                        // The probe level: children exist beyond this response; list them next.
                        Some(kids) if !kids.is_empty() => folders.push_back(path.clone()),
                        _ => {}
                    }
                    yield JobEntry { path, job };
                }
            }
        }
    }

    /// Every build of a job, newest first, paged with `allBuilds[...]{M,N}` (never the `builds`
    /// field, which Jenkins caps at 100). Each build is yielded once even if new builds start while
    /// the listing runs.
    pub fn builds(&self, job: &JobPath) -> impl Stream<Item = Result<Build>> + Send + 'static {
        self.build_listing(job).stream()
    }

    /// Like [`Jenkins::builds`] with the fields of `fields` for each build.
    pub fn builds_with(
        &self,
        job: &JobPath,
        fields: Tree,
    ) -> impl Stream<Item = Result<Build>> + Send + 'static {
        self.build_listing(job).fields(fields).stream()
    }

    /// A listing of a job's builds to tune: fields, a first page of another size, an offset.
    pub fn build_listing(&self, job: &JobPath) -> BuildListing {
        BuildListing {
            jenkins: self.clone(),
            prefix: job.url_path(),
            fields: default_build_fields(),
            skip: 0,
            page_size: u64::from(self.page_size),
            first_page_size: None,
        }
    }

    /// The nodes (`/computer/api/json`), controller first.
    pub fn computers(
        &self,
        tree: Option<Tree>,
    ) -> impl Stream<Item = Result<Computer>> + Send + 'static {
        let jenkins = self.clone();
        stream::once(async move {
            let set: ComputerSet = jenkins.get_json("computer/", tree.as_ref()).await?;
            Ok::<_, Error>(stream::iter(set.computer.into_iter().map(Ok)))
        })
        .try_flatten()
    }

    /// The items of the queue, oldest first.
    pub fn queue_items(
        &self,
        tree: Option<Tree>,
    ) -> impl Stream<Item = Result<crate::models::QueueItem>> + Send + 'static {
        let jenkins = self.clone();
        stream::once(async move {
            let queue = jenkins.queue(tree.as_ref()).await?;
            Ok::<_, Error>(stream::iter(queue.items.into_iter().map(Ok)))
        })
        .try_flatten()
    }
}

/// Folders nest at most this deep; real servers stay far below.
pub const MAX_FOLDER_NESTING: usize = 64;

/// Refuses a job whose URL was already walked (a folder that contains itself) or that nests
/// deeper than [`MAX_FOLDER_NESTING`].
fn check_walk(
    urls: &mut std::collections::HashSet<String>,
    path: &JobPath,
    job: &Job,
) -> Result<()> {
    if path.segments().len() > MAX_FOLDER_NESTING {
        return Err(Error::new(
            ErrorKind::Protocol,
            format!(
                "folders nest deeper than {MAX_FOLDER_NESTING} levels at `{}`: a folder that contains itself?",
                path.segments()[..3].join("/")
            ),
        ));
    }
    if let Some(url) = &job.url
        && !urls.insert(url.trim_end_matches('/').to_owned())
    {
        return Err(Error::new(
            ErrorKind::Protocol,
            format!(
                "the job listing repeats `{url}` (at `{path}`): a folder that contains itself?"
            ),
        ));
    }
    Ok(())
}

/// The path of `job` listed under `parent`: its `name`, or failing that its URL.
fn job_path_in(jenkins: &Jenkins, parent: &JobPath, job: &Job) -> Result<JobPath> {
    if let Some(name) = job.name.as_deref().filter(|n| !n.is_empty()) {
        return Ok(parent.child(name));
    }
    if let Some(url) = &job.url {
        return JobPath::from_url(url, jenkins.base());
    }
    Err(Error::new(
        ErrorKind::Decode,
        format!(
            "a job under `{parent}` has neither `name` nor `url`: {}",
            job.raw.get()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_tree_has_probe_at_the_bottom() {
        let t = nested_jobs_tree(&Tree::fields(["name"]), 3);
        assert_eq!(
            t.to_string(),
            "jobs[name,jobs[name,jobs[name,jobs[name]{,1}]]]"
        );
        let t = nested_jobs_tree(&Tree::fields(["name", "url"]), 1);
        assert_eq!(t.to_string(), "jobs[name,url,jobs[name]{,1}]");
    }

    #[test]
    fn default_build_tree_parses_back() {
        let t =
            Tree::new().nested_range("allBuilds", default_build_fields(), Range::Between(0, 100));
        assert_eq!(Tree::parse(&t.to_string()).unwrap(), t);
    }
}

//! `Wfapi`: every endpoint of the Pipeline REST API by path, beside navigation by link.

use bytes::Bytes;
use cidata_core::{Error, ErrorKind, Result, Url};
use cidata_jenkins::models::{BuildKind, JobKind};
use cidata_jenkins::{ConsoleOptions, Jenkins, JobPath, Tree};
use futures::{Stream, TryStreamExt, stream};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::models::{
    Artifact, ChangeSet, JobDescription, NodeDescription, NodeLog, PendingInputAction, Run,
};

/// The Pipeline REST API of one Jenkins server, on top of a [`Jenkins`] client (same connection,
/// auth, retries, crumbs and origin guard).
///
/// ```no_run
/// # async fn demo() -> cidata_wfapi::Result<()> {
/// use futures::TryStreamExt;
/// use cidata_jenkins::{Jenkins, JobPath};
/// use cidata_wfapi::Wfapi;
/// let wfapi = Wfapi::new(Jenkins::builder("https://ci.example.com/").basic_auth("alice", "token").build()?);
/// let job = JobPath::from_full_name("team/app/main")?;
/// let runs: Vec<_> = wfapi.all_runs(&job).try_collect().await?;
/// for run in &runs {
///     let failed = run.stages.iter().find(|s| s.error.is_some());
///     println!("{:?} {:?} failed at {:?}", run.name, run.status, failed.and_then(|s| s.name.as_deref()));
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Wfapi {
    jenkins: Jenkins,
}

impl AsRef<Jenkins> for Wfapi {
    fn as_ref(&self) -> &Jenkins {
        &self.jenkins
    }
}

/// Options of `/job/X/wfapi/runs`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RunsQuery {
    /// Stop at the run of this name (`#12`): the runs newer than it and itself. The server
    /// still answers at most 11 runs, and all of them when no run has this name (a custom
    /// display name, a deleted build).
    pub since: Option<String>,
    /// Include each stage's flow nodes.
    pub full_stages: bool,
}

impl RunsQuery {
    /// The runs down to the one named `name` (`#12`), itself included.
    pub fn since(mut self, name: impl Into<String>) -> Self {
        self.since = Some(name.into());
        self
    }

    /// Asks for each stage's flow nodes.
    pub fn full_stages(mut self, full: bool) -> Self {
        self.full_stages = full;
        self
    }
}

#[derive(Deserialize)]
struct ClassOnly {
    #[serde(rename = "_class")]
    class: Option<String>,
}

impl Wfapi {
    /// Wraps a Jenkins client.
    pub fn new(jenkins: Jenkins) -> Wfapi {
        Wfapi { jenkins }
    }

    /// The Jenkins client underneath.
    pub fn jenkins(&self) -> &Jenkins {
        &self.jenkins
    }

    fn run_prefix(job: &JobPath, number: u64) -> String {
        format!("{}{number}/", job.url_path())
    }

    /// GETs a wfapi URL below `prefix` (a job's or a run's); a 404 where the classic API knows the
    /// job or build is reported as [`ErrorKind::NotSupported`] ("not a Pipeline").
    async fn get<T: DeserializeOwned>(
        &self,
        prefix: &str,
        what: &str,
        query: &[(&str, &str)],
    ) -> Result<T> {
        let mut url = self.jenkins.url(&format!("{prefix}wfapi/{what}"))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        match self.jenkins.http().get_json(url.clone()).await {
            Err(e) if e.is_not_found() => Err(self.explain_not_found(prefix, e, &url).await),
            other => other,
        }
    }

    /// A wfapi 404 on something the classic API knows: a freestyle job or build has no Pipeline
    /// data, and a Pipeline job or run whose wfapi is missing means the plugin is not installed.
    async fn explain_not_found(&self, prefix: &str, original: Error, url: &Url) -> Error {
        let tree = Tree::fields(["name"]);
        let Ok(found) = self
            .jenkins
            .get_json::<ClassOnly>(prefix, Some(&tree))
            .await
        else {
            return original;
        };
        let class = found.class.unwrap_or_default();
        let pipeline = JobKind::from_server(&class) == JobKind::Pipeline
            || BuildKind::from_server(&class) == BuildKind::Pipeline;
        let message = if pipeline {
            "this is a Pipeline, but the server does not serve the Pipeline REST API: install the \
             `pipeline-rest-api` plugin (Pipeline: REST API)"
                .to_owned()
        } else if class.is_empty() {
            "not a Pipeline (the server names no class): the Pipeline REST API serves Pipelines only"
                .to_owned()
        } else {
            format!("`{class}` is not a Pipeline: the Pipeline REST API serves Pipelines only")
        };
        Error::new(ErrorKind::NotSupported, message)
            .with_request("GET", url)
            .with_source(original)
    }

    /// `/job/X/wfapi/describe`.
    pub async fn describe_job(&self, job: &JobPath) -> Result<JobDescription> {
        self.get(&job.url_path(), "describe", &[]).await
    }

    /// `/job/X/wfapi/runs`: the newest runs (the server returns at most 10; see [`Wfapi::all_runs`]).
    pub async fn runs(&self, job: &JobPath, query: &RunsQuery) -> Result<Vec<Run>> {
        let mut params = Vec::new();
        if let Some(since) = &query.since {
            params.push(("since", since.as_str()));
        }
        if query.full_stages {
            params.push(("fullStages", "true"));
        }
        self.get(&job.url_path(), "runs", &params).await
    }

    /// `/job/X/N/wfapi/describe`: one run with its stages.
    ///
    /// A body with none of `id`, `name` and `status` (`{}`, an error object sent with status 200)
    /// is a [`Decode`](cidata_core::ErrorKind::Decode) error, not a run without stages.
    pub async fn run(&self, job: &JobPath, number: u64) -> Result<Run> {
        let prefix = Self::run_prefix(job, number);
        let run: Run = self.get(&prefix, "describe", &[]).await?;
        if run.id.is_none() && run.name.is_none() && run.status.is_none() {
            let url = self.jenkins.url(&format!("{prefix}wfapi/describe"))?;
            return Err(Error::new(
                ErrorKind::Decode,
                "the run description has none of `id`, `name`, `status`",
            )
            .with_request("GET", &url)
            .with_body(
                serde_json::to_string(&run.extra)
                    .unwrap_or_default()
                    .as_bytes(),
            ));
        }
        Ok(run)
    }

    /// `/job/X/N/execution/node/ID/wfapi/describe`: a stage with its flow nodes, or a step.
    pub async fn node(&self, job: &JobPath, number: u64, node_id: &str) -> Result<NodeDescription> {
        let prefix = format!(
            "{}execution/node/{}/",
            Self::run_prefix(job, number),
            cidata_jenkins::encode_segment(node_id)
        );
        self.get(&prefix, "describe", &[]).await
    }

    /// `/job/X/N/execution/node/ID/wfapi/log`: the start of a step's log.
    pub async fn node_log(&self, job: &JobPath, number: u64, node_id: &str) -> Result<NodeLog> {
        let prefix = format!(
            "{}execution/node/{}/",
            Self::run_prefix(job, number),
            cidata_jenkins::encode_segment(node_id)
        );
        self.get(&prefix, "log", &[]).await
    }

    /// `/job/X/N/wfapi/artifacts`.
    pub async fn artifacts(&self, job: &JobPath, number: u64) -> Result<Vec<Artifact>> {
        self.get(&Self::run_prefix(job, number), "artifacts", &[])
            .await
    }

    /// `/job/X/N/wfapi/pendingInputActions`: the `input` steps waiting for an answer.
    pub async fn pending_input_actions(
        &self,
        job: &JobPath,
        number: u64,
    ) -> Result<Vec<PendingInputAction>> {
        self.get(&Self::run_prefix(job, number), "pendingInputActions", &[])
            .await
    }

    /// `/job/X/N/wfapi/changesets`.
    pub async fn changesets(&self, job: &JobPath, number: u64) -> Result<Vec<ChangeSet>> {
        self.get(&Self::run_prefix(job, number), "changesets", &[])
            .await
    }

    /// Every run of a Pipeline job, newest first, not only the 10 that `/wfapi/runs` returns: the
    /// build numbers come from the classic API (`allBuilds{M,N}`), and each run is described with
    /// `/N/wfapi/describe`, with the client's concurrency in flight.
    pub fn all_runs(&self, job: &JobPath) -> impl Stream<Item = Result<Run>> + Send + 'static {
        let numbers = self.jenkins.builds_with(job, Tree::fields(["number"]));
        let wfapi = self.clone();
        let job = job.clone();
        let concurrency = self.jenkins.concurrency();
        numbers
            .try_filter_map(|b| futures::future::ready(Ok(b.number)))
            .map_ok(move |number| {
                let wfapi = wfapi.clone();
                let job = job.clone();
                async move { wfapi.run(&job, number).await }
            })
            .try_buffered(concurrency)
    }

    /// The whole log of a step: the text of `log` when it is complete, else the step's log read in
    /// full from its console URL (`consoleUrl` + `/logText/progressiveText`), streamed.
    pub fn full_node_log(
        &self,
        log: &NodeLog,
    ) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        let complete = log.has_more != Some(true);
        let text = log.text.clone().unwrap_or_default();
        let console = log.console_url.clone();
        let jenkins = self.jenkins.clone();
        let stream: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>> =
            match (complete, console) {
                (true, _) => Box::pin(stream::iter([Ok(Bytes::from(text))])),
                (false, None) => Box::pin(stream::iter([Err(Error::new(
                    ErrorKind::Protocol,
                    "the node log says `hasMore` but gives no `consoleUrl`",
                ))])),
                (false, Some(console)) => {
                    let url = jenkins.base().same_origin(&format!(
                        "{}/logText/progressiveText",
                        console.trim_end_matches('/')
                    ));
                    Box::pin(
                        jenkins
                            .progressive_text(url, ConsoleOptions::snapshot())
                            .try_filter_map(|chunk| {
                                futures::future::ready(Ok(
                                    (!chunk.bytes.is_empty()).then_some(chunk.bytes)
                                ))
                            }),
                    )
                }
            };
        stream
    }

    /// Answers an `input` step: proceed. Parameters missing from `values` get their defaults, as
    /// Jenkins' own form sends them (a pipeline would otherwise receive `null`); a name the input
    /// does not ask for is an [`ErrorKind::InvalidInput`] error before anything is sent. Values go
    /// in the `json` form field, as the form does. Never retried; crumbs as the client is set up.
    pub async fn proceed_input(
        &self,
        action: &PendingInputAction,
        values: &[(&str, serde_json::Value)],
    ) -> Result<()> {
        let href = action.proceed_url.as_deref().ok_or_else(|| {
            Error::new(ErrorKind::Protocol, "the pending input has no `proceedUrl`")
        })?;
        let url = self.jenkins.base().same_origin(href)?;
        let values = action.complete_values(values)?;
        let parameters: Vec<serde_json::Value> = values
            .iter()
            .map(|(name, value)| serde_json::json!({ "name": name, "value": value }))
            .collect();
        let json = serde_json::json!({ "parameter": parameters }).to_string();
        let proceed = action
            .proceed_text
            .clone()
            .unwrap_or_else(|| "Proceed".to_owned());
        let form: Vec<(&str, &str)> = if href.contains("proceedEmpty") && values.is_empty() {
            Vec::new()
        } else {
            vec![("proceed", proceed.as_str()), ("json", json.as_str())]
        };
        self.jenkins.post(url, &form).await.map(drop)
    }

    /// Aborts an `input` step (and so the run).
    pub async fn abort_input(&self, action: &PendingInputAction) -> Result<()> {
        let href = action.abort_url.as_deref().ok_or_else(|| {
            Error::new(ErrorKind::Protocol, "the pending input has no `abortUrl`")
        })?;
        let url = self.jenkins.base().same_origin(href)?;
        self.jenkins.post(url, &[]).await.map(drop)
    }
}

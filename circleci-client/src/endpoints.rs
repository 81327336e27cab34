//! Every endpoint this crate models: lists as streams, single reads, and actions.

use cidata_core::Result;
use futures::Stream;

use crate::models::{
    ActionResponse, Artifact, CheckoutKey, Collaboration, EnvVar, FlakyTests, InsightsSummary, Job,
    JobDetails, JobRun, Pipeline, PipelineConfig, Project, TestMetadata, TestMetrics,
    TriggeredPipeline, User, Workflow, WorkflowRun,
};
use crate::slug::segment;
use crate::{CircleCi, ProjectSlug};

/// What to run when triggering a pipeline: a branch or a tag, and pipeline parameters.
#[derive(Debug, Clone, Default)]
pub struct TriggerOptions {
    /// The branch to build (the default branch when neither branch nor tag is given).
    pub branch: Option<String>,
    /// The tag to build.
    pub tag: Option<String>,
    /// Pipeline parameters, by name (strings, numbers, booleans).
    pub parameters: Vec<(String, serde_json::Value)>,
}

/// How to rerun a workflow.
#[derive(Debug, Clone, Default)]
pub struct RerunOptions {
    /// Only the failed jobs and what depends on them.
    pub from_failed: bool,
    /// With SSH enabled.
    pub enable_ssh: bool,
    /// Only these jobs (ids).
    pub jobs: Vec<String>,
}

/// The window of an insights request.
#[derive(Debug, Clone, Default)]
pub struct InsightsQuery {
    /// One branch (the default branch when neither this nor `all_branches`).
    pub branch: Option<String>,
    /// Every branch.
    pub all_branches: bool,
    /// From this time (RFC 3339), for workflow runs.
    pub start_date: Option<String>,
    /// Up to this time (RFC 3339), for workflow runs.
    pub end_date: Option<String>,
}

impl InsightsQuery {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(b) = &self.branch {
            q.push(("branch", b.clone()));
        }
        if self.all_branches {
            q.push(("all-branches", "true".to_owned()));
        }
        if let Some(d) = &self.start_date {
            q.push(("start-date", d.clone()));
        }
        if let Some(d) = &self.end_date {
            q.push(("end-date", d.clone()));
        }
        q
    }
}

impl CircleCi {
    /// The pipelines of a project, newest first, optionally of one branch.
    pub fn pipelines(
        &self,
        project: &ProjectSlug,
        branch: Option<&str>,
    ) -> impl Stream<Item = Result<Pipeline>> + Send + 'static {
        let query = branch
            .map(|b| vec![("branch", b.to_owned())])
            .unwrap_or_default();
        self.list(
            format!("project/{}/pipeline", project.path_segment()),
            query,
        )
    }

    /// The pipelines of an organization (`gh/acme`), newest first; `mine` for only the
    /// authenticated user's.
    pub fn organization_pipelines(
        &self,
        org_slug: &str,
        mine: bool,
    ) -> impl Stream<Item = Result<Pipeline>> + Send + 'static {
        let mut query = vec![("org-slug", org_slug.to_owned())];
        if mine {
            query.push(("mine", "true".to_owned()));
        }
        self.list("pipeline".to_owned(), query)
    }

    /// The workflows of a pipeline (a rerun adds one of the same name, listed first).
    pub fn workflows(
        &self,
        pipeline_id: &str,
    ) -> impl Stream<Item = Result<Workflow>> + Send + 'static {
        self.list(
            format!("pipeline/{}/workflow", segment(pipeline_id)),
            Vec::new(),
        )
    }

    /// The jobs of a workflow, approval jobs included.
    pub fn workflow_jobs(
        &self,
        workflow_id: &str,
    ) -> impl Stream<Item = Result<Job>> + Send + 'static {
        self.list(format!("workflow/{}/job", segment(workflow_id)), Vec::new())
    }

    /// The artifacts of a job.
    pub fn artifacts(
        &self,
        project: &ProjectSlug,
        job_number: u64,
    ) -> impl Stream<Item = Result<Artifact>> + Send + 'static {
        self.list(
            format!("project/{}/{job_number}/artifacts", project.path_segment()),
            Vec::new(),
        )
    }

    /// The test results a job stored.
    pub fn tests(
        &self,
        project: &ProjectSlug,
        job_number: u64,
    ) -> impl Stream<Item = Result<TestMetadata>> + Send + 'static {
        self.list(
            format!("project/{}/{job_number}/tests", project.path_segment()),
            Vec::new(),
        )
    }

    /// Recent runs of a workflow (by name), newest first, from insights: a cheap way to see
    /// reruns in old pipelines. CircleCI server installations may not have insights (404).
    pub fn workflow_runs(
        &self,
        project: &ProjectSlug,
        workflow_name: &str,
        query: &InsightsQuery,
    ) -> impl Stream<Item = Result<WorkflowRun>> + Send + 'static {
        self.list(
            format!(
                "insights/{}/workflows/{}",
                project.path_segment(),
                segment(workflow_name)
            ),
            query.pairs(),
        )
    }

    /// The insights summary of every workflow of a project.
    pub fn workflow_summaries(
        &self,
        project: &ProjectSlug,
        query: &InsightsQuery,
    ) -> impl Stream<Item = Result<InsightsSummary>> + Send + 'static {
        self.list(
            format!("insights/{}/workflows", project.path_segment()),
            query.pairs(),
        )
    }

    /// The insights summary of every job of a workflow.
    pub fn job_summaries(
        &self,
        project: &ProjectSlug,
        workflow_name: &str,
        query: &InsightsQuery,
    ) -> impl Stream<Item = Result<InsightsSummary>> + Send + 'static {
        self.list(
            format!(
                "insights/{}/workflows/{}/jobs",
                project.path_segment(),
                segment(workflow_name)
            ),
            query.pairs(),
        )
    }

    /// Recent runs of a job of a workflow, newest first, from insights (recorded from the service
    /// in 2020; the 2025 specification no longer lists it, so servers may answer 404).
    pub fn job_runs(
        &self,
        project: &ProjectSlug,
        workflow_name: &str,
        job_name: &str,
        query: &InsightsQuery,
    ) -> impl Stream<Item = Result<JobRun>> + Send + 'static {
        self.list(
            format!(
                "insights/{}/workflows/{}/jobs/{}",
                project.path_segment(),
                segment(workflow_name),
                segment(job_name)
            ),
            query.pairs(),
        )
    }

    /// The environment variables of a project (values masked by the server).
    pub fn env_vars(
        &self,
        project: &ProjectSlug,
    ) -> impl Stream<Item = Result<EnvVar>> + Send + 'static {
        self.list(
            format!("project/{}/envvar", project.path_segment()),
            Vec::new(),
        )
    }

    /// The checkout keys of a project.
    pub fn checkout_keys(
        &self,
        project: &ProjectSlug,
    ) -> impl Stream<Item = Result<CheckoutKey>> + Send + 'static {
        self.list(
            format!("project/{}/checkout-key", project.path_segment()),
            Vec::new(),
        )
    }

    /// The flaky tests of a project.
    pub async fn flaky_tests(&self, project: &ProjectSlug) -> Result<FlakyTests> {
        self.get_json(
            &format!("insights/{}/flaky-tests", project.path_segment()),
            &[],
        )
        .await
    }

    /// Test metrics of a workflow: the most failed and the slowest tests.
    pub async fn test_metrics(
        &self,
        project: &ProjectSlug,
        workflow_name: &str,
        query: &InsightsQuery,
    ) -> Result<TestMetrics> {
        let pairs = query.pairs();
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.get_json(
            &format!(
                "insights/{}/workflows/{}/test-metrics",
                project.path_segment(),
                segment(workflow_name)
            ),
            &pairs,
        )
        .await
    }

    /// The organizations the user collaborates in. The API answers a bare array, not a page.
    pub async fn collaborations(&self) -> Result<Vec<Collaboration>> {
        self.get_json("me/collaborations", &[]).await
    }

    /// The authenticated user.
    pub async fn me(&self) -> Result<User> {
        self.get_json("me", &[]).await
    }

    /// A user by id.
    pub async fn user(&self, user_id: &str) -> Result<User> {
        self.get_json(&format!("user/{}", segment(user_id)), &[])
            .await
    }

    /// A pipeline by id.
    pub async fn pipeline(&self, pipeline_id: &str) -> Result<Pipeline> {
        self.get_json(&format!("pipeline/{}", segment(pipeline_id)), &[])
            .await
    }

    /// A pipeline by project and number.
    pub async fn pipeline_by_number(&self, project: &ProjectSlug, number: u64) -> Result<Pipeline> {
        self.get_json(
            &format!("project/{}/pipeline/{number}", project.path_segment()),
            &[],
        )
        .await
    }

    /// A pipeline's configuration, as committed and as compiled.
    pub async fn pipeline_config(&self, pipeline_id: &str) -> Result<PipelineConfig> {
        self.get_json(&format!("pipeline/{}/config", segment(pipeline_id)), &[])
            .await
    }

    /// A workflow by id.
    pub async fn workflow(&self, workflow_id: &str) -> Result<Workflow> {
        self.get_json(&format!("workflow/{}", segment(workflow_id)), &[])
            .await
    }

    /// A job's details: executor, parallel runs, duration, contexts, messages.
    pub async fn job_details(&self, project: &ProjectSlug, job_number: u64) -> Result<JobDetails> {
        self.get_json(
            &format!("project/{}/job/{job_number}", project.path_segment()),
            &[],
        )
        .await
    }

    /// A project.
    pub async fn project(&self, project: &ProjectSlug) -> Result<Project> {
        self.get_json(&format!("project/{}", project.path_segment()), &[])
            .await
    }

    /// Triggers a pipeline. Never retried. The answer is the new pipeline, `pending` at first
    /// (201 even when no workflow will run).
    pub async fn trigger_pipeline(
        &self,
        project: &ProjectSlug,
        options: &TriggerOptions,
    ) -> Result<TriggeredPipeline> {
        let mut body = serde_json::Map::new();
        if let Some(branch) = &options.branch {
            body.insert("branch".into(), branch.clone().into());
        }
        if let Some(tag) = &options.tag {
            body.insert("tag".into(), tag.clone().into());
        }
        if !options.parameters.is_empty() {
            let parameters: serde_json::Map<String, serde_json::Value> =
                options.parameters.iter().cloned().collect();
            body.insert("parameters".into(), parameters.into());
        }
        self.post_json(
            &format!("project/{}/pipeline", project.path_segment()),
            Some(&body.into()),
        )
        .await
    }

    /// Reruns a workflow (all of it, or from failed). Never retried.
    pub async fn rerun_workflow(
        &self,
        workflow_id: &str,
        options: &RerunOptions,
    ) -> Result<ActionResponse> {
        let mut body = serde_json::json!({
            "from_failed": options.from_failed,
            "enable_ssh": options.enable_ssh,
        });
        if !options.jobs.is_empty() {
            body["jobs"] = options.jobs.clone().into();
        }
        self.post_json(
            &format!("workflow/{}/rerun", segment(workflow_id)),
            Some(&body),
        )
        .await
    }

    /// Cancels a workflow. Never retried.
    pub async fn cancel_workflow(&self, workflow_id: &str) -> Result<ActionResponse> {
        self.post_json(&format!("workflow/{}/cancel", segment(workflow_id)), None)
            .await
    }

    /// Approves an approval job that is on hold (its `approval_request_id`, equal to its id).
    /// Never retried.
    pub async fn approve_job(
        &self,
        workflow_id: &str,
        approval_request_id: &str,
    ) -> Result<ActionResponse> {
        self.post_json(
            &format!(
                "workflow/{}/approve/{}",
                segment(workflow_id),
                segment(approval_request_id)
            ),
            None,
        )
        .await
    }
}

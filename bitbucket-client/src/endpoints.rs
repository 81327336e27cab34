//! Every endpoint this crate models: lists as streams, single reads, and a step's log.

use bytes::Bytes;
use cidata_core::{Request, Result, encode_segment};
use futures::Stream;

use crate::client::Paging;
use crate::models::{
    Commit, CommitStatus, Deployment, Environment, Pipeline, PipelineStep, Project, PullRequest,
    PullRequestState, Ref, Repository, RepositoryPermission, User, Workspace, WorkspaceAccess,
};
use crate::{Bitbucket, Query};

/// `repositories/{workspace}/{repo}`, each part one encoded segment (`{uuid}`s keep their braces).
fn repo_path(workspace: &str, repo: &str) -> String {
    format!(
        "repositories/{}/{}",
        encode_segment(workspace),
        encode_segment(repo)
    )
}

impl Bitbucket {
    /// The authenticated user.
    pub async fn user(&self) -> Result<User> {
        self.get_json("user").await
    }

    /// The workspaces the user can access (`/user/workspaces`; `/workspaces` answers 410 since
    /// 2026-04-14).
    pub fn user_workspaces(&self) -> impl Stream<Item = Result<WorkspaceAccess>> + Send + 'static {
        self.list("user/workspaces".to_owned(), Vec::new())
    }

    /// The user's permission on every repository they can see.
    pub fn repository_permissions(
        &self,
    ) -> impl Stream<Item = Result<RepositoryPermission>> + Send + 'static {
        self.list("user/permissions/repositories".to_owned(), Vec::new())
    }

    /// A workspace, by slug or `{uuid}`.
    pub async fn workspace(&self, workspace: &str) -> Result<Workspace> {
        self.get_json(&format!("workspaces/{}", encode_segment(workspace)))
            .await
    }

    /// The repositories of a workspace (filter and sort with `query`: `updated_on >= ...`).
    pub fn repositories(
        &self,
        workspace: &str,
        query: &Query,
    ) -> impl Stream<Item = Result<Repository>> + Send + 'static {
        self.list(
            format!("repositories/{}", encode_segment(workspace)),
            query.pairs(),
        )
    }

    /// A repository, by slug or `{uuid}`.
    pub async fn repository(&self, workspace: &str, repo: &str) -> Result<Repository> {
        self.get_json(&repo_path(workspace, repo)).await
    }

    /// The projects of a workspace.
    pub fn projects(
        &self,
        workspace: &str,
        query: &Query,
    ) -> impl Stream<Item = Result<Project>> + Send + 'static {
        self.list(
            format!("workspaces/{}/projects", encode_segment(workspace)),
            query.pairs(),
        )
    }

    /// A project, by key.
    pub async fn project(&self, workspace: &str, key: &str) -> Result<Project> {
        self.get_json(&format!(
            "workspaces/{}/projects/{}",
            encode_segment(workspace),
            encode_segment(key)
        ))
        .await
    }

    /// The branches of a repository.
    pub fn branches(
        &self,
        workspace: &str,
        repo: &str,
        query: &Query,
    ) -> impl Stream<Item = Result<Ref>> + Send + 'static {
        self.list(
            format!("{}/refs/branches", repo_path(workspace, repo)),
            query.pairs(),
        )
    }

    /// The tags of a repository.
    pub fn tags(
        &self,
        workspace: &str,
        repo: &str,
        query: &Query,
    ) -> impl Stream<Item = Result<Ref>> + Send + 'static {
        self.list(
            format!("{}/refs/tags", repo_path(workspace, repo)),
            query.pairs(),
        )
    }

    /// The commits of a repository, newest first: of every branch, or reachable from
    /// `revision` (a branch, tag or hash). Pages follow the opaque `next` links Bitbucket gives.
    pub fn commits(
        &self,
        workspace: &str,
        repo: &str,
        revision: Option<&str>,
    ) -> impl Stream<Item = Result<Commit>> + Send + 'static {
        let path = match revision {
            Some(r) => format!(
                "{}/commits/{}",
                repo_path(workspace, repo),
                encode_segment(r)
            ),
            None => format!("{}/commits", repo_path(workspace, repo)),
        };
        self.list(path, Vec::new())
    }

    /// A commit.
    pub async fn commit(&self, workspace: &str, repo: &str, hash: &str) -> Result<Commit> {
        self.get_json(&format!(
            "{}/commit/{}",
            repo_path(workspace, repo),
            encode_segment(hash)
        ))
        .await
    }

    /// The build statuses reported on a commit.
    pub fn commit_statuses(
        &self,
        workspace: &str,
        repo: &str,
        hash: &str,
    ) -> impl Stream<Item = Result<CommitStatus>> + Send + 'static {
        self.list(
            format!(
                "{}/commit/{}/statuses",
                repo_path(workspace, repo),
                encode_segment(hash)
            ),
            Vec::new(),
        )
    }

    /// The commits of a pull request.
    pub fn pull_request_commits(
        &self,
        workspace: &str,
        repo: &str,
        id: u64,
    ) -> impl Stream<Item = Result<Commit>> + Send + 'static {
        self.list(
            format!("{}/pullrequests/{id}/commits", repo_path(workspace, repo)),
            Vec::new(),
        )
    }

    /// The branches and tags of a repository.
    pub fn refs(
        &self,
        workspace: &str,
        repo: &str,
        query: &Query,
    ) -> impl Stream<Item = Result<Ref>> + Send + 'static {
        self.list(
            format!("{}/refs", repo_path(workspace, repo)),
            query.pairs(),
        )
    }

    /// The pull requests of a repository in `states` (Bitbucket's default: open only).
    pub fn pull_requests(
        &self,
        workspace: &str,
        repo: &str,
        states: &[PullRequestState],
        query: &Query,
    ) -> impl Stream<Item = Result<PullRequest>> + Send + 'static {
        let mut pairs = query.pairs();
        pairs.extend(states.iter().map(|s| ("state", s.as_str().to_owned())));
        self.list(
            format!("{}/pullrequests", repo_path(workspace, repo)),
            pairs,
        )
    }

    /// A pull request.
    pub async fn pull_request(&self, workspace: &str, repo: &str, id: u64) -> Result<PullRequest> {
        self.get_json(&format!("{}/pullrequests/{id}", repo_path(workspace, repo)))
            .await
    }

    /// The pipelines of a repository (newest first with `query.sort_desc("created_on")`). Their
    /// pages often carry no `next`: full pages are followed by page number.
    pub fn pipelines(
        &self,
        workspace: &str,
        repo: &str,
        query: &Query,
    ) -> impl Stream<Item = Result<Pipeline>> + Send + 'static {
        self.list_with(
            format!("{}/pipelines", repo_path(workspace, repo)),
            query.pairs(),
            Paging::LinksThenNumbers,
        )
    }

    /// A pipeline, by `{uuid}` or build number.
    pub async fn pipeline(&self, workspace: &str, repo: &str, pipeline: &str) -> Result<Pipeline> {
        self.get_json(&format!(
            "{}/pipelines/{}",
            repo_path(workspace, repo),
            encode_segment(pipeline)
        ))
        .await
    }

    /// The steps of a pipeline (paged by number when `next` is missing).
    pub fn pipeline_steps(
        &self,
        workspace: &str,
        repo: &str,
        pipeline: &str,
    ) -> impl Stream<Item = Result<PipelineStep>> + Send + 'static {
        self.list_with(
            format!(
                "{}/pipelines/{}/steps",
                repo_path(workspace, repo),
                encode_segment(pipeline)
            ),
            Vec::new(),
            Paging::LinksThenNumbers,
        )
    }

    /// The log of a step, streamed as it comes (it can be large).
    pub async fn step_log(
        &self,
        workspace: &str,
        repo: &str,
        pipeline: &str,
        step: &str,
    ) -> Result<impl Stream<Item = Result<Bytes>> + Send + 'static> {
        let url = self.url(
            &format!(
                "{}/pipelines/{}/steps/{}/log",
                repo_path(workspace, repo),
                encode_segment(pipeline),
                encode_segment(step)
            ),
            &[],
        )?;
        Ok(self.http.send(Request::get(url)).await?.bytes_stream())
    }

    /// The deployments of a repository.
    pub fn deployments(
        &self,
        workspace: &str,
        repo: &str,
        query: &Query,
    ) -> impl Stream<Item = Result<Deployment>> + Send + 'static {
        self.list(
            format!("{}/deployments", repo_path(workspace, repo)),
            query.pairs(),
        )
    }

    /// The deployment environments of a repository.
    pub fn environments(
        &self,
        workspace: &str,
        repo: &str,
    ) -> impl Stream<Item = Result<Environment>> + Send + 'static {
        self.list(
            format!("{}/environments", repo_path(workspace, repo)),
            Vec::new(),
        )
    }
}

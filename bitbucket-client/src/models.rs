//! Typed Bitbucket Cloud 2.0 models after the specification and the recorded service.
//!
//! The spec requires nothing but `type`, and the service sends `null` where it likes (`parent`,
//! `website`, `merge_commit`): every field is optional. Links keep their hrefs as strings (real
//! ones are not always valid URLs: `http://...//rest/1.0/.../{uuid}`). Each top-level model keeps
//! the server's JSON in `raw`. Times are the API's text (`2022-03-17T11:17:48.581867+00:00`,
//! `2023-02-20T08:58:19.14397Z`, or no zone at all); [`parse_time`] reads every one.

use std::collections::BTreeMap;

use cidata_core::raw::vec_or_null;
use cidata_core::raw_model;
use serde::{Deserialize, Serialize};

/// Any JSON value a model does not type (a step's image, a deployment's release).
pub type Json = serde_json::Value;

/// One link: its href as the server wrote it, and a name for clone links.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Link {
    /// The target, as sent (not always a valid URL).
    pub href: Option<String>,
    /// `https`, `ssh` for clone links.
    pub name: Option<String>,
}

/// A `links` entry: one link, a list (clone links), or a shape this version does not know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum LinkValue {
    /// `{"href": ...}`.
    One(Link),
    /// `[{"href": ..., "name": ...}]`.
    Many(Vec<Link>),
    /// Anything else, kept.
    Other(Json),
}

/// A model's `links`, by relation (`self`, `html`, `clone`, ...).
pub type Links = BTreeMap<String, LinkValue>;

/// The href of relation `rel` (the first, for lists).
pub fn href<'a>(links: &'a Option<Links>, rel: &str) -> Option<&'a str> {
    match links.as_ref()?.get(rel)? {
        LinkValue::One(link) => link.href.as_deref(),
        LinkValue::Many(list) => list.first()?.href.as_deref(),
        LinkValue::Other(_) => None,
    }
}

/// A user or team, as embedded in other objects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Account {
    /// `user`, `team`, `app_user`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Its UUID, with braces.
    pub uuid: Option<String>,
    /// The name shown.
    pub display_name: Option<String>,
    /// The nickname.
    pub nickname: Option<String>,
    /// The Atlassian account id.
    pub account_id: Option<String>,
    /// The username (old responses; removed in 2019).
    pub username: Option<String>,
    /// Links.
    pub links: Option<Links>,
}

/// A reference to a repository inside another object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RepositoryRef {
    /// Its UUID.
    pub uuid: Option<String>,
    /// `workspace/slug`.
    pub full_name: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// Links.
    pub links: Option<Links>,
}

/// A reference to a project inside a repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ProjectRef {
    /// Its UUID.
    pub uuid: Option<String>,
    /// Its key (`PROJ`).
    pub key: Option<String>,
    /// Its name.
    pub name: Option<String>,
}

/// A reference to a workspace inside another object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct WorkspaceRef {
    /// Its UUID.
    pub uuid: Option<String>,
    /// Its slug.
    pub slug: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// Links.
    pub links: Option<Links>,
}

/// A branch by name, as a repository's `mainbranch` or a pull request's endpoint gives it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BranchRef {
    /// The branch's name.
    pub name: Option<String>,
}

/// A commit by hash.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CommitRef {
    /// The hash (full or short).
    pub hash: Option<String>,
    /// Links.
    pub links: Option<Links>,
}

raw_model! {
    rename_all = "snake_case";
    /// A user, the authenticated one (`/user`) or another (`/users/{id}`).
    pub struct User {
        /// `user`.
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// Its UUID.
        pub uuid: Option<String>,
        /// The name shown.
        pub display_name: Option<String>,
        /// The nickname.
        pub nickname: Option<String>,
        /// The Atlassian account id.
        pub account_id: Option<String>,
        /// The username (old responses).
        pub username: Option<String>,
        /// When the account was made.
        pub created_on: Option<String>,
        /// Its website.
        pub website: Option<String>,
        /// Its location.
        pub location: Option<String>,
        /// Links.
        pub links: Option<Links>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A workspace (`/workspaces/{workspace}`).
    pub struct Workspace {
        /// `workspace` (`team` from the old `/teams`).
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// Its UUID.
        pub uuid: Option<String>,
        /// Its name.
        pub name: Option<String>,
        /// Its slug.
        pub slug: Option<String>,
        /// Whether it is private.
        pub is_private: Option<bool>,
        /// Whether privacy is enforced.
        pub is_privacy_enforced: Option<bool>,
        /// `allow_forks`, `internal_only`.
        pub forking_mode: Option<String>,
        /// When it was made.
        pub created_on: Option<String>,
        /// When it last changed.
        pub updated_on: Option<String>,
        /// Its website.
        pub website: Option<String>,
        /// Its location.
        pub location: Option<String>,
        /// Whether it has public repositories.
        pub has_publicly_visible_repos: Option<bool>,
        /// Links.
        pub links: Option<Links>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A workspace the user can access (`/user/workspaces`).
    pub struct WorkspaceAccess {
        /// `workspace_access`.
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// Whether the user administers it.
        pub administrator: Option<bool>,
        /// `owner`, `collaborator`, `member` (older shape).
        pub permission: Option<String>,
        /// The workspace.
        pub workspace: Option<WorkspaceRef>,
        /// When the user last accessed it.
        pub last_accessed: Option<String>,
        /// When the user was added.
        pub added_on: Option<String>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A repository.
    pub struct Repository {
        /// `repository`.
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// Its UUID.
        pub uuid: Option<String>,
        /// Its name.
        pub name: Option<String>,
        /// `workspace/slug`.
        pub full_name: Option<String>,
        /// Its slug (undocumented, always sent).
        pub slug: Option<String>,
        /// Whether it is private.
        pub is_private: Option<bool>,
        /// Its description.
        pub description: Option<String>,
        /// `git` (`hg` in old data).
        pub scm: Option<String>,
        /// Its website.
        pub website: Option<String>,
        /// Its main language.
        pub language: Option<String>,
        /// Whether it has the issue tracker.
        pub has_issues: Option<bool>,
        /// Whether it has the wiki.
        pub has_wiki: Option<bool>,
        /// Its size in bytes.
        pub size: Option<i64>,
        /// When it was made.
        pub created_on: Option<String>,
        /// When it last changed (a push moves it).
        pub updated_on: Option<String>,
        /// `allow_forks`, `no_public_forks`, `no_forks`.
        pub fork_policy: Option<String>,
        /// Its main branch.
        pub mainbranch: Option<BranchRef>,
        /// Its project.
        pub project: Option<ProjectRef>,
        /// Its owner.
        pub owner: Option<Account>,
        /// Its workspace (undocumented, always sent).
        pub workspace: Option<WorkspaceRef>,
        /// The repository it was forked from.
        pub parent: Option<RepositoryRef>,
        /// Links (clone URLs included).
        pub links: Option<Links>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A project of a workspace.
    pub struct Project {
        /// `project`.
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// Its UUID.
        pub uuid: Option<String>,
        /// Its key.
        pub key: Option<String>,
        /// Its name.
        pub name: Option<String>,
        /// Its description.
        pub description: Option<String>,
        /// Whether it is private.
        pub is_private: Option<bool>,
        /// When it was made.
        pub created_on: Option<String>,
        /// When it last changed.
        pub updated_on: Option<String>,
        /// Whether it has public repositories.
        pub has_publicly_visible_repos: Option<bool>,
        /// Its owner (the workspace, as a team).
        pub owner: Option<Account>,
        /// Links.
        pub links: Option<Links>,
    }
}

/// Who wrote a commit: the raw `Name <email>`, and the account when linked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Author {
    /// `Name <email>` as in git.
    pub raw: Option<String>,
    /// The account, absent when the author is not linked to one.
    pub user: Option<Account>,
}

/// Text with its markup.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Rendered {
    /// The text.
    pub raw: Option<String>,
    /// `markdown`, `creole`, `plaintext`.
    pub markup: Option<String>,
    /// As HTML.
    pub html: Option<String>,
}

raw_model! {
    rename_all = "snake_case";
    /// A commit.
    pub struct Commit {
        /// `commit`.
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// Its hash.
        pub hash: Option<String>,
        /// When it was authored.
        pub date: Option<String>,
        /// Its author.
        pub author: Option<Author>,
        /// Its message.
        pub message: Option<String>,
        /// Its message, rendered.
        pub summary: Option<Rendered>,
        /// Its parents.
        #[serde(deserialize_with = "vec_or_null")]
        pub parents: Vec<CommitRef>,
        /// The repository.
        pub repository: Option<RepositoryRef>,
        /// Links.
        pub links: Option<Links>,
    }
}

impl Commit {
    /// The first line of the message.
    pub fn subject(&self) -> Option<&str> {
        self.message
            .as_deref()
            .map(|m| m.lines().next().unwrap_or(""))
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A branch or a tag (`refs/branches`, `refs/tags`, `refs`).
    pub struct Ref {
        /// `branch`, `named_branch`, `tag`.
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// Its name.
        pub name: Option<String>,
        /// The commit it points to.
        pub target: Option<CommitRef>,
        /// Merge strategies a branch allows.
        #[serde(deserialize_with = "vec_or_null")]
        pub merge_strategies: Vec<String>,
        /// Its default merge strategy.
        pub default_merge_strategy: Option<String>,
        /// A tag's message.
        pub message: Option<String>,
        /// A tag's date.
        pub date: Option<String>,
        /// Links.
        pub links: Option<Links>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// The user's permission on a repository (`/user/permissions/repositories`).
    pub struct RepositoryPermission {
        /// `repository_permission`.
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// `admin`, `write`, `read`.
        pub permission: Option<String>,
        /// The user.
        pub user: Option<Account>,
        /// The repository.
        pub repository: Option<RepositoryRef>,
    }
}

cidata_core::string_enum! {
    /// The state of a commit status.
    pub enum CommitStatusState {
        /// It failed.
        Failed = "FAILED",
        /// It runs.
        InProgress = "INPROGRESS",
        /// It was stopped.
        Stopped = "STOPPED",
        /// It passed.
        Successful = "SUCCESSFUL",
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A build status reported on a commit.
    pub struct CommitStatus {
        /// `build`.
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// The reporter's key.
        pub key: Option<String>,
        /// The ref it was built for.
        pub refname: Option<String>,
        /// The build's URL.
        pub url: Option<String>,
        /// Its state.
        pub state: Option<CommitStatusState>,
        /// Its name.
        pub name: Option<String>,
        /// Its description.
        pub description: Option<String>,
        /// When it was made.
        pub created_on: Option<String>,
        /// When it last changed.
        pub updated_on: Option<String>,
        /// Links.
        pub links: Option<Links>,
    }
}

cidata_core::string_enum! {
    /// The state of a pull request.
    pub enum PullRequestState {
        /// Open.
        Open = "OPEN",
        /// Merged.
        Merged = "MERGED",
        /// Declined.
        Declined = "DECLINED",
        /// Superseded by another.
        Superseded = "SUPERSEDED",
    }
}

/// One side of a pull request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Endpoint {
    /// The branch.
    pub branch: Option<BranchRef>,
    /// The commit.
    pub commit: Option<CommitRef>,
    /// The repository.
    pub repository: Option<RepositoryRef>,
}

/// Someone taking part in a pull request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Participant {
    /// The account.
    pub user: Option<Account>,
    /// `PARTICIPANT`, `REVIEWER`.
    pub role: Option<String>,
    /// Whether they approved.
    pub approved: Option<bool>,
    /// `approved`, `changes_requested`.
    pub state: Option<String>,
    /// When they last took part.
    pub participated_on: Option<String>,
}

raw_model! {
    rename_all = "snake_case";
    /// A pull request.
    pub struct PullRequest {
        /// `pullrequest`.
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// Its number in the repository.
        pub id: Option<i64>,
        /// Its title.
        pub title: Option<String>,
        /// Its description (undocumented, always sent).
        pub description: Option<String>,
        /// Its state.
        pub state: Option<PullRequestState>,
        /// Who opened it.
        pub author: Option<Account>,
        /// Where the change comes from.
        pub source: Option<Endpoint>,
        /// Where it goes.
        pub destination: Option<Endpoint>,
        /// The merge commit, once merged.
        pub merge_commit: Option<CommitRef>,
        /// Comments.
        pub comment_count: Option<i64>,
        /// Tasks.
        pub task_count: Option<i64>,
        /// Whether the source branch is deleted on merge.
        pub close_source_branch: Option<bool>,
        /// Who closed it.
        pub closed_by: Option<Account>,
        /// Why it was declined.
        pub reason: Option<String>,
        /// When it was opened.
        pub created_on: Option<String>,
        /// When it last changed.
        pub updated_on: Option<String>,
        /// Its reviewers.
        #[serde(deserialize_with = "vec_or_null")]
        pub reviewers: Vec<Account>,
        /// Everyone who took part.
        #[serde(deserialize_with = "vec_or_null")]
        pub participants: Vec<Participant>,
        /// Whether it is a draft.
        pub draft: Option<bool>,
        /// Links.
        pub links: Option<Links>,
    }
}

cidata_core::string_enum! {
    /// The state of a pipeline or step (`state.name`).
    pub enum PipelineStateName {
        /// Waiting to run.
        Pending = "PENDING",
        /// Running (or halted: see the stage).
        InProgress = "IN_PROGRESS",
        /// Finished: see the result.
        Completed = "COMPLETED",
        /// Paused.
        Paused = "PAUSED",
        /// Halted.
        Halted = "HALTED",
        /// Not run (a step).
        NotRun = "NOT_RUN",
        /// Ready (a step).
        Ready = "READY",
    }
}

/// A name and a type, as states, results, stages and triggers give them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Named {
    /// The name (`SUCCESSFUL`, `HALTED`, `MANUAL`).
    pub name: Option<String>,
    /// The type (`pipeline_state_completed_successful`, ...).
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// The state of a pipeline or step, with its result once completed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PipelineState {
    /// `pipeline_state_completed`, `pipeline_state_in_progress`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `PENDING`, `IN_PROGRESS`, `COMPLETED`, ...
    pub name: Option<PipelineStateName>,
    /// Once completed: `SUCCESSFUL`, `FAILED`, `ERROR`, `STOPPED`, `EXPIRED`.
    pub result: Option<Named>,
    /// While in progress: `RUNNING`, `PAUSED`, `HALTED`.
    pub stage: Option<Named>,
}

impl PipelineState {
    /// Whether it will not change any more.
    pub fn is_final(&self) -> bool {
        self.name == Some(PipelineStateName::Completed)
            || self
                .kind
                .as_deref()
                .is_some_and(|k| k.starts_with("pipeline_state_completed"))
    }
}

/// What a pipeline built.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PipelineTarget {
    /// `pipeline_ref_target`, `pipeline_commit_target`, `pipeline_pullrequest_target`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `branch`, `tag`, `named_branch`.
    pub ref_type: Option<String>,
    /// The branch or tag.
    pub ref_name: Option<String>,
    /// The commit.
    pub commit: Option<CommitRef>,
    /// The custom pipeline or pattern run.
    pub selector: Option<Json>,
    /// A pull request's source branch.
    pub source: Option<String>,
    /// A pull request's destination branch.
    pub destination: Option<String>,
}

raw_model! {
    rename_all = "snake_case";
    /// A pipeline run of a repository.
    pub struct Pipeline {
        /// `pipeline`.
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// Its UUID.
        pub uuid: Option<String>,
        /// Its number in the repository.
        pub build_number: Option<i64>,
        /// Who started it.
        pub creator: Option<Account>,
        /// The repository.
        pub repository: Option<RepositoryRef>,
        /// What it built.
        pub target: Option<PipelineTarget>,
        /// What started it (`pipeline_trigger_push`, `..._manual`, `..._schedule`).
        pub trigger: Option<Named>,
        /// Its state and result.
        pub state: Option<PipelineState>,
        /// When it was made.
        pub created_on: Option<String>,
        /// When it completed.
        pub completed_on: Option<String>,
        /// Build seconds billed.
        pub build_seconds_used: Option<i64>,
        /// How long it ran, seconds (undocumented).
        pub duration_in_seconds: Option<i64>,
        /// Its run number (reruns).
        pub run_number: Option<i64>,
        /// Whether it expired.
        pub expired: Option<bool>,
        /// Links (sometimes internal URLs).
        pub links: Option<Links>,
    }
}

impl Pipeline {
    /// Whether it will not change any more.
    pub fn is_final(&self) -> bool {
        self.state.as_ref().is_some_and(PipelineState::is_final)
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A step of a pipeline.
    pub struct PipelineStep {
        /// `pipeline_step`.
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// Its UUID.
        pub uuid: Option<String>,
        /// Its name (undocumented).
        pub name: Option<String>,
        /// When it started.
        pub started_on: Option<String>,
        /// When it completed.
        pub completed_on: Option<String>,
        /// Its state and result.
        pub state: Option<PipelineState>,
        /// The image it ran in.
        pub image: Option<Json>,
        /// How long it ran, seconds.
        pub duration_in_seconds: Option<i64>,
        /// Build seconds billed.
        pub build_seconds_used: Option<i64>,
        /// Its run number.
        pub run_number: Option<i64>,
        /// What started it.
        pub trigger: Option<Named>,
        /// Its time limit, minutes (the API spells it `maxTime`).
        #[serde(alias = "maxTime")]
        pub max_time: Option<i64>,
        /// Setup commands.
        #[serde(deserialize_with = "vec_or_null")]
        pub setup_commands: Vec<Json>,
        /// Script commands.
        #[serde(deserialize_with = "vec_or_null")]
        pub script_commands: Vec<Json>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A deployment environment.
    pub struct Environment {
        /// `deployment_environment`.
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// Its UUID.
        pub uuid: Option<String>,
        /// Its name.
        pub name: Option<String>,
        /// Its slug.
        pub slug: Option<String>,
        /// `Test`, `Staging`, `Production`.
        pub environment_type: Option<Named>,
        /// Its rank in the list.
        pub rank: Option<i64>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A deployment to an environment.
    pub struct Deployment {
        /// `deployment`.
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// Its UUID.
        pub uuid: Option<String>,
        /// Its state (`deployment_state_completed`, with a status).
        pub state: Option<Json>,
        /// The environment (often only its UUID).
        pub environment: Option<Json>,
        /// What was released.
        pub release: Option<Json>,
        /// The step that deployed (undocumented).
        pub step: Option<Json>,
    }
}

/// A time as the API writes it, in milliseconds since the epoch: 0 to 9 fraction digits, `Z` or
/// an offset, or no zone at all (read as UTC). `None` for other text.
///
/// ```
/// use cidata_bitbucket::parse_time;
/// assert_eq!(parse_time("1970-01-01T00:00:01.5Z"), Some(1500));
/// assert_eq!(parse_time("2022-03-17T11:17:48.581867+00:00"), parse_time("2022-03-17T11:17:48.581Z"));
/// assert_eq!(parse_time("2021-04-02T13:43:00.117"), parse_time("2021-04-02T13:43:00.117Z"));
/// assert_eq!(parse_time("soon"), None);
/// ```
pub fn parse_time(text: &str) -> Option<i64> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts.as_millisecond());
    }
    let civil: jiff::civil::DateTime = text.parse().ok()?;
    let ts = civil.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    Some(ts.as_millisecond())
}

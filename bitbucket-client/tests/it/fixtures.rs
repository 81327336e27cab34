//! Every response under `shared/fixtures/bitbucket/` decodes into its model, with the facts its
//! provenance records (nulls, undocumented fields, `scm: hg`, dates of every form, internal links).

use cidata_bitbucket::models::*;
use cidata_core::decode_json;
use serde::de::DeserializeOwned;

const SYSTEM: &str = "bitbucket";

fn decode<T: DeserializeOwned>(rel: &str) -> T {
    decode_json(&test_support::fixture(SYSTEM, rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A page as the API sends it.
#[derive(serde::Deserialize)]
struct ListPage<T> {
    values: Vec<T>,
    next: Option<String>,
}

fn page<T: DeserializeOwned>(rel: &str) -> ListPage<T> {
    decode(rel)
}

/// Bitbucket's error body.
#[derive(serde::Deserialize)]
struct ErrorBody {
    #[serde(rename = "type")]
    kind: String,
    error: serde_json::Value,
}

fn decode_any(rel: &str) {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let kind = name.split('.').next().unwrap_or(name);
    match kind {
        "repositories-list" => drop(page::<Repository>(rel)),
        "repository" => drop(decode::<Repository>(rel)),
        "workspaces-list" | "teams-list" => drop(page::<Workspace>(rel)),
        "workspace" => drop(decode::<Workspace>(rel)),
        "user-workspaces" | "user-permissions-workspaces" => drop(page::<WorkspaceAccess>(rel)),
        "user-permissions-repositories" => drop(page::<RepositoryPermission>(rel)),
        "user" => drop(decode::<User>(rel)),
        "branches-list" | "refs-list" => drop(page::<Ref>(rel)),
        "branch" => drop(decode::<Ref>(rel)),
        "commits-list" | "pullrequest-commits" => drop(page::<Commit>(rel)),
        "commit" => drop(decode::<Commit>(rel)),
        "commit-statuses-list" => drop(page::<CommitStatus>(rel)),
        "pullrequests-list" => drop(page::<PullRequest>(rel)),
        "pullrequest" => drop(decode::<PullRequest>(rel)),
        "pipelines-list" => drop(page::<Pipeline>(rel)),
        "pipelines" => drop(decode::<Vec<Pipeline>>(rel)),
        "pipeline" => drop(decode::<Pipeline>(rel)),
        "pipeline-steps-list" => drop(page::<PipelineStep>(rel)),
        "pipeline-step" => drop(decode::<PipelineStep>(rel)),
        "deployment" => drop(decode::<Deployment>(rel)),
        "error" if name.ends_with(".txt") => {
            assert_eq!(
                String::from_utf8(test_support::fixture(SYSTEM, rel)).unwrap(),
                "Not Found"
            )
        }
        "error" => {
            let body: ErrorBody = decode(rel);
            assert_eq!(body.kind, "error");
            assert!(body.error["message"].is_string(), "{rel}");
        }
        other => panic!("no model is assigned to Bitbucket fixture {rel} ({other})"),
    }
}

#[test]
fn every_recorded_response_decodes() {
    let dir = test_support::fixture_dir(SYSTEM);
    let mut count = 0;
    for sub in ["", "items/"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let data = name.ends_with(".json") || name.ends_with(".txt");
            if !data || name == "routes.json" {
                continue;
            }
            decode_any(&format!("{sub}{name}"));
            count += 1;
        }
    }
    assert!(count >= 55, "only {count} files decoded");
}

#[test]
fn repositories_keep_undocumented_fields_nulls_and_mercurial() {
    let list = page::<Repository>("repositories-list.01.json");
    assert!(list.next.is_some());
    let repo = &list.values[0];
    assert!(
        repo.slug.is_some() && repo.workspace.is_some(),
        "undocumented, always sent"
    );
    assert!(repo.uuid.as_deref().unwrap().starts_with('{'));
    assert!(href(&repo.links, "clone").is_some());
    assert!(repo.raw.get().contains("\"links\""));
    let all: Vec<Repository> = (1..=6)
        .flat_map(|n| page::<Repository>(&format!("repositories-list.0{n}.json")).values)
        .collect();
    assert!(
        all.iter().any(|r| r.scm.as_deref() == Some("hg")),
        "Mercurial, 2019"
    );
    assert!(all.iter().any(|r| r.parent.is_none()));
}

#[test]
fn pipelines_keep_halted_stages_and_internal_links() {
    let halted: Pipeline = decode("items/pipeline.item.01.json");
    let state = halted.state.as_ref().unwrap();
    assert_eq!(state.name, Some(PipelineStateName::InProgress));
    assert_eq!(
        state.stage.as_ref().unwrap().name.as_deref(),
        Some("HALTED")
    );
    assert!(!halted.is_final());
    let link = href(&halted.links, "self").unwrap();
    assert!(link.starts_with("http://") && link.contains("//rest/1.0/") && link.contains('{'));
    let times: Vec<String> = [
        "items/pipeline.item.01.json",
        "items/pipeline.item.02.json",
        "items/pipeline.item.03.json",
    ]
    .iter()
    .filter_map(|f| decode::<Pipeline>(f).created_on)
    .collect();
    assert!(times.iter().all(|t| parse_time(t).is_some()), "{times:?}");
}

#[test]
fn every_date_form_parses() {
    for text in [
        "2022-03-17T11:17:48.581867+00:00",
        "2018-04-26T08:35:58+00:00",
        "2023-02-20T08:58:19.14397Z",
        "2023-02-20T08:58:19.1Z",
        "2021-04-02T13:43:00.117",
    ] {
        assert!(parse_time(text).is_some(), "{text}");
    }
    let access = page::<WorkspaceAccess>("user-permissions-workspaces.01.json").values;
    assert!(access.iter().any(|a| {
        a.added_on.is_none()
            || a.added_on
                .as_deref()
                .is_some_and(|t| parse_time(t).is_some())
    }));
}

#[test]
fn pull_requests_and_commits_as_the_service_sends_them() {
    let prs = page::<PullRequest>("pullrequests-list.02.json").values;
    assert!(prs.iter().all(|p| p.state.is_some()));
    assert!(
        prs.iter().any(|p| p.merge_commit.is_none()),
        "null on open pull requests"
    );
    let unlinked: Commit = decode("commit.02.json");
    let author = unlinked.author.unwrap();
    assert!(
        author.raw.is_some() && author.user.is_none(),
        "author not linked to an account"
    );
}

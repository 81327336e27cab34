//! One hostile harness for every source: each list of each source, served by the simulator with
//! each answer no API allows (`{}`, a null list, an error body under 200, a 404 for a later
//! page, a cursor that repeats, a fresh cursor over the same items, a number of 2^63-1). A source
//! plugs in by telling its lists ([`HostileLists`]): Jenkins, CircleCI and Bitbucket do. For every case: the run does not end as a
//! clean success with rows missing (a list answer fails the run; a poison number is reported),
//! an endless listing stops at once, no raw control character reaches stderr, and the next clean
//! run gives exactly the database a clean sync gives.

use cidata_cli::simulator::{BbWorld, CciWorld, HostileAnswer, HostilePlan};

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::every_source::{assert_same, config_with, run_cmd, sqlite_normalized};
use crate::sync::{Setup, ok, sqlite_url};

/// One list of a source, as the simulator serves it.
struct ListRoute {
    /// For messages.
    name: &'static str,
    /// The end of the list's path.
    path_ends_with: String,
    /// A query part only a later page has (`page-token=`, `page=2`); `None`: the first page.
    later_page: Option<&'static str>,
    /// A query part only later pages have, absent from the first page (for a first-page plan).
    first_page_lacks: Option<&'static str>,
    /// The answers to serve on it.
    answers: &'static [HostileAnswer],
    /// The `ci-sync` read command that prints this list, if any: it must stop with the error too.
    read_command: Option<Vec<String>>,
    /// The key of the list in a page (`items`, `values`, `allBuilds`).
    list_key: &'static str,
}

/// What a source tells the harness: its config section, its lists, how its pages look.
trait HostileLists {
    /// The config section (`circleci`, `bitbucket`).
    fn source(&self) -> &'static str;
    /// Lines added to its config section (a page size that makes second pages).
    fn config(&self) -> &'static str;
    /// Prepares the simulator (a world with enough items for second pages).
    fn prepare(&self, s: &Setup);
    /// The number field of an item (`number`, `build_number`).
    fn number_field(&self) -> &'static str;
    /// Its lists.
    fn lists(&self, s: &Setup) -> Vec<ListRoute>;
    /// The environment of its read commands (URL, credentials).
    fn read_env(&self, s: &Setup) -> Vec<(&'static str, String)>;
}

/// Answers for a later page: every one that must not pass for an end.
const LATER_PAGE: &[HostileAnswer] = &[
    HostileAnswer::EmptyObject,
    HostileAnswer::NullList,
    HostileAnswer::MessageOnly,
    HostileAnswer::NotFound,
    HostileAnswer::RepeatedCursor,
    HostileAnswer::FreshCursorSameItems,
    HostileAnswer::ControlText,
];

/// Answers for the only page of a child list (a pipeline's workflows, a workflow's jobs).
const ONLY_PAGE: &[HostileAnswer] = &[
    HostileAnswer::EmptyObject,
    HostileAnswer::NullList,
    HostileAnswer::MessageOnly,
];

struct CircleCi;

impl HostileLists for CircleCi {
    fn source(&self) -> &'static str {
        "circleci"
    }
    fn config(&self) -> &'static str {
        ""
    }
    fn prepare(&self, _: &Setup) {}
    fn number_field(&self) -> &'static str {
        "number"
    }
    fn read_env(&self, s: &Setup) -> Vec<(&'static str, String)> {
        vec![
            ("CIRCLECI_URL", s.sim.circleci_url()),
            ("CIRCLECI_TOKEN", "demo-token".into()),
        ]
    }
    fn lists(&self, _: &Setup) -> Vec<ListRoute> {
        vec![
            ListRoute {
                name: "pipelines, page 2",
                path_ends_with: "/pipeline".into(),
                later_page: Some("page-token="),
                first_page_lacks: None,
                answers: LATER_PAGE,
                read_command: Some(vec![
                    "circleci".into(),
                    "pipelines".into(),
                    "gh/acme/web".into(),
                ]),
                list_key: "items",
            },
            ListRoute {
                name: "pipelines, page 1",
                path_ends_with: "/pipeline".into(),
                later_page: None,
                first_page_lacks: Some("page-token"),
                answers: &[HostileAnswer::PoisonNumber],
                read_command: None,
                list_key: "items",
            },
            ListRoute {
                name: "a pipeline's workflows",
                path_ends_with: "/workflow".into(),
                later_page: None,
                first_page_lacks: None,
                answers: ONLY_PAGE,
                read_command: None,
                list_key: "items",
            },
            ListRoute {
                name: "a workflow's jobs",
                path_ends_with: "/job".into(),
                later_page: None,
                first_page_lacks: None,
                answers: ONLY_PAGE,
                read_command: None,
                list_key: "items",
            },
        ]
    }
}

/// CircleCI with pipelines of 25 workflows of 25 jobs: the child lists have second pages.
struct CircleCiChildren;

impl HostileLists for CircleCiChildren {
    fn source(&self) -> &'static str {
        "circleci"
    }
    fn config(&self) -> &'static str {
        ""
    }
    fn prepare(&self, s: &Setup) {
        s.sim
            .set_circleci(CciWorld::new(&["gh/acme/web"], 2, 25, 25));
    }
    fn number_field(&self) -> &'static str {
        "number"
    }
    fn lists(&self, _: &Setup) -> Vec<ListRoute> {
        ["/workflow", "/job"]
            .into_iter()
            .map(|list| ListRoute {
                name: if list == "/job" {
                    "a workflow's jobs, page 2"
                } else {
                    "a pipeline's workflows, page 2"
                },
                path_ends_with: list.into(),
                later_page: Some("page-token="),
                first_page_lacks: None,
                answers: LATER_PAGE,
                read_command: None,
                list_key: "items",
            })
            .collect()
    }
    fn read_env(&self, s: &Setup) -> Vec<(&'static str, String)> {
        CircleCi.read_env(s)
    }
}

struct Bitbucket;

impl HostileLists for Bitbucket {
    fn source(&self) -> &'static str {
        "bitbucket"
    }
    fn config(&self) -> &'static str {
        "max_records_per_page = 10"
    }
    fn prepare(&self, s: &Setup) {
        // Pages of 10: 12 repositories, 25 pipelines and 12 pull requests each make second
        // pages.
        s.sim
            .set_bitbucket(BbWorld::new(12, 25).with_pull_requests(12));
    }
    fn number_field(&self) -> &'static str {
        "build_number"
    }
    fn read_env(&self, s: &Setup) -> Vec<(&'static str, String)> {
        vec![
            ("BITBUCKET_URL", s.sim.bitbucket_url()),
            ("BITBUCKET_USERNAME", "demo".into()),
            ("BITBUCKET_APP_PASSWORD", "demo-token".into()),
        ]
    }
    fn lists(&self, s: &Setup) -> Vec<ListRoute> {
        vec![
            ListRoute {
                name: "pipelines, page 2",
                path_ends_with: "/pipelines".into(),
                later_page: Some("page=2"),
                first_page_lacks: None,
                answers: LATER_PAGE,
                read_command: Some(vec![
                    "bitbucket".into(),
                    "pipelines".into(),
                    "acme/repo-0000".into(),
                    "--page-size".into(),
                    "10".into(),
                ]),
                list_key: "values",
            },
            ListRoute {
                name: "repositories, page 2",
                path_ends_with: format!("/repositories/{}", s.sim.bitbucket_workspace()),
                later_page: Some("page=2"),
                first_page_lacks: None,
                answers: LATER_PAGE,
                read_command: None,
                list_key: "values",
            },
            ListRoute {
                name: "pipelines, page 1",
                path_ends_with: "/pipelines".into(),
                later_page: None,
                first_page_lacks: Some("page="),
                answers: &[HostileAnswer::PoisonNumber],
                read_command: None,
                list_key: "values",
            },
            ListRoute {
                name: "pull requests, page 2",
                path_ends_with: "/pullrequests".into(),
                later_page: Some("page=2"),
                first_page_lacks: None,
                answers: LATER_PAGE,
                read_command: None,
                list_key: "values",
            },
            ListRoute {
                name: "a pipeline's steps",
                path_ends_with: "/steps".into(),
                later_page: None,
                first_page_lacks: None,
                answers: &[
                    HostileAnswer::EmptyObject,
                    HostileAnswer::NullList,
                    HostileAnswer::NotFound,
                ],
                read_command: None,
                list_key: "values",
            },
        ]
    }
}

struct Jenkins;

/// Answers for a page of Jenkins' lists: Jenkins pages by offset, not by cursor, so the cursor
/// answers do not apply (and a server that ignores `{M,N}` sends its whole list at once).
const JENKINS_PAGE: &[HostileAnswer] = &[
    HostileAnswer::EmptyObject,
    HostileAnswer::NullList,
    HostileAnswer::MessageOnly,
    HostileAnswer::NotFound,
    HostileAnswer::ControlText,
];

impl HostileLists for Jenkins {
    fn source(&self) -> &'static str {
        "jenkins"
    }
    fn config(&self) -> &'static str {
        ""
    }
    fn prepare(&self, _: &Setup) {}
    fn number_field(&self) -> &'static str {
        "number"
    }
    fn lists(&self, _: &Setup) -> Vec<ListRoute> {
        vec![
            ListRoute {
                name: "the job listing",
                path_ends_with: "/jenkins/api/json".into(),
                later_page: Some("tree=jobs"),
                first_page_lacks: None,
                answers: &[
                    HostileAnswer::EmptyObject,
                    HostileAnswer::NullList,
                    HostileAnswer::MessageOnly,
                ],
                read_command: Some(vec!["jenkins".into(), "jobs".into()]),
                list_key: "jobs",
            },
            ListRoute {
                // `nightly-big` has 250 builds: pages of 100, `{100,200}` is the second.
                name: "builds, page 2",
                path_ends_with: "/job/nightly-big/api/json".into(),
                later_page: Some("%7B100%2C200%7D"),
                first_page_lacks: None,
                answers: JENKINS_PAGE,
                read_command: Some(vec![
                    "jenkins".into(),
                    "builds".into(),
                    "nightly-big".into(),
                ]),
                list_key: "allBuilds",
            },
        ]
    }
    fn read_env(&self, s: &Setup) -> Vec<(&'static str, String)> {
        vec![
            ("JENKINS_URL", s.sim.base_url()),
            ("JENKINS_USER", "demo".into()),
            ("JENKINS_API_TOKEN", "demo-token".into()),
        ]
    }
}

/// `ci-sync run`, killed and failing the test after a minute: an endless listing.
async fn run(config: &Path, dest: &str) -> Output {
    let mut cmd = run_cmd(config, dest);
    cmd.kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("ci-sync still ran after a minute: a listing that never ends")
        .unwrap()
}

/// A `ci-sync` read command, killed and failing the test after a minute.
async fn read_command(args: &[String], env: &[(&str, String)]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ci-sync"));
    cmd.args(args).env_remove("RUST_LOG").kill_on_drop(true);
    for (name, value) in env {
        cmd.env(name, value);
    }
    tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("a read command still ran after a minute: a listing that never ends")
        .unwrap()
}

/// No raw control character, and no line that server text made look like ci-sync's own.
fn assert_safe(stderr: &str, case: &str) {
    assert!(
        !stderr.chars().any(|c| c.is_control() && c != '\n'),
        "{case}: a raw control character on stderr: {stderr:?}"
    );
    assert!(
        !stderr
            .lines()
            .any(|l| l.trim_start().starts_with("error: fake")),
        "{case}: server text printed a line of its own: {stderr}"
    );
}

/// Serves every answer of every list of `source`; see the module's doc for what is checked.
async fn every_list_of(source: &dyn HostileLists) {
    let s = Setup::new().await;
    source.prepare(&s);
    let config = config_with(&s, &[source.source()], source.config());
    let reference = s.db("reference.db");
    ok(&run(&config, &sqlite_url(&reference)).await);
    let want = sqlite_normalized(&reference);
    let number_field = source.number_field();
    for (i, list) in source.lists(&s).into_iter().enumerate() {
        for (j, &answer) in list.answers.iter().enumerate() {
            let case = format!("{} {}: {answer:?}", source.source(), list.name);
            let plan = HostilePlan {
                path_ends_with: list.path_ends_with.clone(),
                query_contains: list.later_page.map(str::to_owned),
                query_lacks: list.first_page_lacks.map(str::to_owned),
                answer,
                list_key: list.list_key,
                number_field,
            };
            s.sim.set_hostile(Some(plan.clone()));
            let db = s.db(&format!("hostile-{i}-{j}.db"));
            let out = run(&config, &sqlite_url(&db)).await;
            let served = s.sim.hostile_served();
            s.sim.set_hostile(None);
            let stderr = String::from_utf8_lossy(&out.stderr).to_string();
            assert!(served >= 1, "{case}: the plan matched no request");
            assert_safe(&stderr, &case);
            if answer == HostileAnswer::PoisonNumber {
                // Rows are all there; the number is reported, and the checkpoint did not take it.
                ok(&out);
                assert!(stderr.contains("reported"), "{case}: {stderr}");
            } else {
                assert!(
                    !out.status.success(),
                    "{case}: a cut listing passed for a whole one (exit 0):\n{stderr}"
                );
                assert!(
                    stderr.contains("http://127.0.0.1"),
                    "{case}: the error names no URL:\n{stderr}"
                );
            }
            if answer == HostileAnswer::FreshCursorSameItems {
                // Stopped at the first page that brought nothing new, in each partition.
                assert!(served <= 40, "{case}: {served} pages served");
            }
            if let Some(args) = &list.read_command {
                s.sim.set_hostile(Some(plan.clone()));
                let out = read_command(args, &source.read_env(&s)).await;
                let stderr = String::from_utf8_lossy(&out.stderr).to_string();
                assert!(
                    !out.status.success(),
                    "{case}: `ci-sync {}` exit 0: {stderr} {} lines, {} served",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stdout).lines().count(),
                    s.sim.hostile_served()
                );
                s.sim.set_hostile(None);
                assert_safe(&stderr, &case);
                let printed = String::from_utf8_lossy(&out.stdout).lines().count();
                assert!(
                    printed <= 200,
                    "{case}: `ci-sync {}` printed {printed} lines",
                    args.join(" ")
                );
            }
            ok(&run(&config, &sqlite_url(&db)).await);
            assert_same(
                &sqlite_normalized(&db),
                &want,
                &format!("{case}, then a clean run"),
            );
        }
    }
}

#[tokio::test]
async fn jenkins_takes_no_hostile_answer_for_a_whole_list() {
    every_list_of(&Jenkins).await;
}

#[tokio::test]
async fn circleci_takes_no_hostile_answer_for_a_whole_list() {
    every_list_of(&CircleCi).await;
}

#[tokio::test]
async fn circleci_takes_no_hostile_answer_for_a_whole_list_of_children() {
    every_list_of(&CircleCiChildren).await;
}

#[tokio::test]
async fn bitbucket_takes_no_hostile_answer_for_a_whole_list() {
    every_list_of(&Bitbucket).await;
}

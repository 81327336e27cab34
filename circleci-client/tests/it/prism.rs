//! Conformance with the specification: against Prism serving `circleci-v2.openapi.json`, every
//! in-scope endpoint decodes (static examples, and generated data for 20 seeds), every list ends
//! whole or with a typed error (Prism repeats the token `"string"` over the same items: a listing
//! that never moves is [`ErrorKind::IncompleteList`], never an end), and 401 / 404 are typed
//! errors.

use cidata_circleci::{
    CircleCi, ErrorKind, InsightsQuery, ProjectSlug, RerunOptions, Result, TriggerOptions,
};
use cidata_core::header::{HeaderName, HeaderValue};
use futures::{Stream, TryStreamExt};
use test_support::PrismServer;

const SPEC: &str = "circleci-v2.openapi.json";
const ID: &str = "5034460f-c7c4-4c43-9457-de07e2029e7b";

fn client(server: &PrismServer) -> CircleCi {
    CircleCi::builder()
        .base_url(server.url())
        .token("prism")
        .retry(test_support::fast_retry(1))
        .build()
        .unwrap()
}

/// The items of a list up to its end, or up to the [`ErrorKind::IncompleteList`] error that a
/// mock's list that never moves must end with; any other error fails the test.
async fn all<T>(stream: impl Stream<Item = Result<T>>, what: &str) -> usize {
    let mut stream = std::pin::pin!(stream);
    let mut n = 0;
    loop {
        match stream.try_next().await {
            Ok(Some(_)) => n += 1,
            Ok(None) => return n,
            Err(e) if e.kind() == ErrorKind::IncompleteList => return n,
            Err(e) => panic!("{what}: {e:#}"),
        }
    }
}

/// Reads every in-scope endpoint; panics naming the first that fails.
async fn read_everything(circleci: &CircleCi) {
    let slug: ProjectSlug = "gh/acme/web".parse().unwrap();
    let insights = InsightsQuery {
        branch: Some("main".into()),
        ..InsightsQuery::default()
    };
    all(circleci.pipelines(&slug, None), "pipelines").await;
    all(
        circleci.pipelines(&slug, Some("main")),
        "pipelines of a branch",
    )
    .await;
    all(
        circleci.organization_pipelines("gh/acme", false),
        "organization pipelines",
    )
    .await;
    all(circleci.workflows(ID), "workflows").await;
    all(circleci.workflow_jobs(ID), "workflow jobs").await;
    all(circleci.artifacts(&slug, 12), "artifacts").await;
    all(circleci.tests(&slug, 12), "tests").await;
    all(
        circleci.workflow_runs(&slug, "build", &insights),
        "workflow runs",
    )
    .await;
    all(
        circleci.workflow_summaries(&slug, &insights),
        "workflow summaries",
    )
    .await;
    all(
        circleci.job_summaries(&slug, "build", &insights),
        "job summaries",
    )
    .await;
    all(circleci.env_vars(&slug), "env vars").await;
    all(circleci.checkout_keys(&slug), "checkout keys").await;
    let read = |what: &str, r: Result<()>| r.unwrap_or_else(|e| panic!("{what}: {e:#}"));
    read("pipeline", circleci.pipeline(ID).await.map(drop));
    read(
        "pipeline by number",
        circleci.pipeline_by_number(&slug, 25).await.map(drop),
    );
    read(
        "pipeline config",
        circleci.pipeline_config(ID).await.map(drop),
    );
    read("workflow", circleci.workflow(ID).await.map(drop));
    read(
        "job details",
        circleci.job_details(&slug, 12).await.map(drop),
    );
    read("project", circleci.project(&slug).await.map(drop));
    read("me", circleci.me().await.map(drop));
    read("user", circleci.user(ID).await.map(drop));
    read("collaborations", circleci.collaborations().await.map(drop));
    read("flaky tests", circleci.flaky_tests(&slug).await.map(drop));
    read(
        "test metrics",
        circleci
            .test_metrics(&slug, "build", &insights)
            .await
            .map(drop),
    );
    let trigger = TriggerOptions {
        branch: Some("main".into()),
        ..TriggerOptions::default()
    };
    read(
        "trigger",
        circleci.trigger_pipeline(&slug, &trigger).await.map(drop),
    );
    read(
        "rerun",
        circleci
            .rerun_workflow(ID, &RerunOptions::default())
            .await
            .map(drop),
    );
    read("cancel", circleci.cancel_workflow(ID).await.map(drop));
    read("approve", circleci.approve_job(ID, ID).await.map(drop));
}

#[tokio::test]
async fn static_examples_decode_lists_end_and_errors_are_typed() {
    let server = PrismServer::start(SPEC, false, None);
    let circleci = client(&server);
    read_everything(&circleci).await;
    // The static token is "string" on every page, over the same item: page 1, then an error
    // naming page 2, not a list of two.
    let slug: ProjectSlug = "gh/acme/web".parse().unwrap();
    let err = circleci
        .pipelines(&slug, None)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IncompleteList, "{err}");
    assert!(err.to_string().contains("page-token=string"), "{err}");
    assert_eq!(all(circleci.pipelines(&slug, None), "pipelines").await, 1);
    assert!(circleci.stats().snapshot().requests > 30);

    let anonymous = CircleCi::builder().base_url(server.url()).build().unwrap();
    let err = anonymous.project(&slug).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");

    let not_found = CircleCi::builder()
        .base_url(server.url())
        .token("prism")
        .header(
            HeaderName::from_static("prefer"),
            HeaderValue::from_static("code=404"),
        )
        .build()
        .unwrap();
    let err = not_found.project(&slug).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = not_found
        .workflows(ID)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn generated_data_of_20_seeds_decodes() {
    // Four servers at a time: Prism's start-up is the cost on two cores.
    for seeds in (1..=20u64).collect::<Vec<_>>().chunks(4) {
        let servers: Vec<PrismServer> = std::thread::scope(|scope| {
            let handles: Vec<_> = seeds
                .iter()
                .map(|&seed| scope.spawn(move || PrismServer::start(SPEC, true, Some(seed))))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let clients: Vec<CircleCi> = servers.iter().map(client).collect();
        futures::future::join_all(clients.iter().map(read_everything)).await;
    }
}

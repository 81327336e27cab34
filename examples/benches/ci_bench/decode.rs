//! Decoding: the typed models of the three clients against `serde_json::Value`, on the same bytes
//! as the simulator serves them (a 1,000-build Jenkins listing with the sync's fields, a page of
//! CircleCI pipelines, a page of Bitbucket repositories). Typed decoding must be at least as fast:
//! the models borrow nothing and skip nothing they keep, but build no map per object.

use std::time::{Duration, Instant};

use cidata_cli::simulator::{BbWorld, CciWorld, World};
use cidata_core::{HttpClient, Request};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::sim::Sim;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listing {
    #[allow(dead_code)]
    all_builds: Vec<cidata_jenkins::models::Build>,
}

#[derive(Deserialize)]
struct Items<T> {
    #[allow(dead_code)]
    items: Vec<T>,
}

#[derive(Deserialize)]
struct Values<T> {
    #[allow(dead_code)]
    values: Vec<T>,
}

/// GETs `url` as bytes.
fn fetch(runtime: &tokio::runtime::Runtime, url: &str) -> Vec<u8> {
    runtime.block_on(async {
        let client = HttpClient::builder(url).build().expect("client");
        let url = cidata_core::Url::parse(url).expect("url");
        let resp = client.send(Request::get(url)).await.expect("answer");
        resp.bytes().await.expect("body").to_vec()
    })
}

/// Decodes `body` as `T` and as `Value` for at least a second each; prints MB/s of both.
fn compare<T: DeserializeOwned>(what: &str, body: &[u8]) {
    let typed = throughput(body, |b| {
        std::hint::black_box(cidata_core::decode_json::<T>(b).expect("decodes"));
    });
    let value = throughput(body, |b| {
        std::hint::black_box(serde_json::from_slice::<serde_json::Value>(b).expect("decodes"));
    });
    println!(
        "decode {what} ({:.2} MB): typed models {typed:.0} MB/s, serde_json::Value {value:.0} MB/s ({:.2}x)",
        body.len() as f64 / 1e6,
        typed / value
    );
}

fn throughput(body: &[u8], decode: impl Fn(&[u8])) -> f64 {
    decode(body);
    let started = Instant::now();
    let mut rounds = 0u32;
    while started.elapsed() < Duration::from_secs(1) || rounds < 3 {
        decode(body);
        rounds += 1;
    }
    body.len() as f64 * f64::from(rounds) / started.elapsed().as_secs_f64() / 1e6
}

/// The three comparisons.
pub fn all() {
    let sim = Sim::start(
        World::bench(1, 1000, 2),
        CciWorld::new(&["gh/bench/app"], 100, 2, 4),
        BbWorld::generated(100, 5, 1, 0),
        Duration::ZERO,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let fields = cidata_jenkins::default_build_fields();
    let jenkins = fetch(
        &runtime,
        &format!(
            "{}job/team-00/job/job-0000/api/json?tree=allBuilds[{fields}]",
            sim.sim.base_url()
        ),
    );
    compare::<Listing>("Jenkins allBuilds, 1,000 builds", &jenkins);
    let pipelines = fetch(
        &runtime,
        &format!(
            "{}project/gh%2Fbench%2Fapp/pipeline",
            sim.sim.circleci_url()
        ),
    );
    compare::<Items<cidata_circleci::Pipeline>>("CircleCI pipelines page", &pipelines);
    let repositories = fetch(
        &runtime,
        &format!("{}repositories/acme?pagelen=100", sim.sim.bitbucket_url()),
    );
    compare::<Values<cidata_bitbucket::Repository>>("Bitbucket repositories page", &repositories);
}

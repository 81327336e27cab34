//! Several servers of one kind in one database (`[[jenkins]]` with names), and four processes,
//! one per source, writing into one PostgreSQL at once.

use cidata_cli::simulator::{Simulator, World};
use cidata_sync::rusqlite::Connection;
use test_support::postgres_database;

use crate::every_source::{assert_same, run, sqlite_normalized};
use crate::sync::{Setup, ok, sqlite_url};

/// The sections of two Jenkins servers named `eu` and `us`, a CircleCI and a Bitbucket.
fn sections(s: &Setup, second: &Simulator) -> [String; 4] {
    let projects = crate::every_source::project_slugs(s);
    [
        format!(
            "[[jenkins]]\nname = \"eu\"\nbase_url = \"{}\"\nusername = \"demo\"\n",
            s.sim.base_url()
        ),
        format!(
            "[[jenkins]]\nname = \"us\"\nbase_url = \"{}\"\nusername = \"demo\"\n",
            second.base_url()
        ),
        format!(
            "[[circleci]]\nname = \"acme-circleci\"\nbase_url = \"{}\"\nproject_slugs = [{}]\n",
            s.sim.circleci_url(),
            projects
        ),
        format!(
            "[[bitbucket]]\nname = \"acme-bitbucket\"\nbase_url = \"{}\"\nusername = \"demo\"\nworkspaces = [\"{}\"]\n",
            s.sim.bitbucket_url(),
            s.sim.bitbucket_workspace()
        ),
    ]
}

fn write_config(s: &Setup, name: &str, text: &str) -> std::path::PathBuf {
    let path = s.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn two_jenkins_servers_with_the_same_jobs_share_the_tables() {
    let s = Setup::new().await;
    let second = Simulator::start(World::demo(), Some(("demo".into(), "demo-token".into())))
        .await
        .unwrap();
    let [eu, us, ..] = sections(&s, &second);
    let config = write_config(&s, "two.toml", &format!("{eu}\n{us}"));
    let db = s.db("two.db");
    ok(&run(&config, &sqlite_url(&db)).await);
    let single = write_config(
        &s,
        "one.toml",
        &format!(
            "[jenkins]\nbase_url = \"{}\"\nusername = \"demo\"\n",
            s.sim.base_url()
        ),
    );
    let one = s.db("one.db");
    ok(&run(&single, &sqlite_url(&one)).await);

    let conn = Connection::open(&db).unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    let builds_of_one = Connection::open(&one)
        .unwrap()
        .query_row("SELECT count(*) FROM jenkins_builds", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap();
    assert!(builds_of_one > 100);
    // Every row twice, once per server, told apart by `server` and by their ids.
    for table in [
        "jenkins_jobs",
        "jenkins_builds",
        "jenkins_artifacts",
        "jenkins_stages",
    ] {
        for server in ["eu", "us"] {
            let mismatched = count(&format!(
                "SELECT count(*) FROM {table} WHERE server = '{server}' AND id NOT LIKE '{server}:%'"
            ));
            assert_eq!(mismatched, 0, "{table} of {server}");
        }
        assert_eq!(
            count(&format!("SELECT count(*) FROM {table} WHERE server = 'eu'")),
            count(&format!("SELECT count(*) FROM {table} WHERE server = 'us'")),
            "{table}"
        );
    }
    assert_eq!(
        count("SELECT count(*) FROM jenkins_builds"),
        2 * builds_of_one
    );
    // Each server's rows are the single server's, ids aside.
    let of = |server: &str| -> Vec<String> {
        sqlite_normalized(&db)
            .into_iter()
            .filter(|l| l.starts_with("jenkins_builds: "))
            .filter(|l| l.contains(&format!("'{server}:")))
            .map(|l| {
                l.replace(&format!("'{server}:"), "'")
                    .replace(&format!("|'{server}'"), "|'jenkins'")
            })
            .collect()
    };
    let single_rows: Vec<String> = sqlite_normalized(&one)
        .into_iter()
        .filter(|l| l.starts_with("jenkins_builds: "))
        .collect();
    assert_same(&of("eu"), &single_rows, "the builds of eu");
    // State and locks are per server: a job of `us` deleted marks only `us`'s rows.
    let states = count("SELECT count(*) FROM _ci_sync_state WHERE source IN ('eu', 'us')");
    assert!(states > 10, "{states}");
    assert!(second.remove_job("nightly-big"));
    ok(&run(&config, &sqlite_url(&db)).await);
    assert_eq!(
        count("SELECT count(*) FROM jenkins_builds WHERE deleted_at IS NOT NULL AND server = 'us'"),
        count(
            "SELECT count(*) FROM jenkins_builds WHERE job_name = 'nightly-big' AND server = 'us'"
        )
    );
    assert_eq!(
        count("SELECT count(*) FROM jenkins_builds WHERE deleted_at IS NOT NULL AND server = 'eu'"),
        0
    );
}

#[tokio::test]
async fn four_processes_one_per_source_write_into_one_postgres_at_once() {
    let Some(pg) = postgres_database("four_processes") else {
        return;
    };
    let s = Setup::new().await;
    let second = Simulator::start(World::demo(), Some(("demo".into(), "demo-token".into())))
        .await
        .unwrap();
    s.sim.set_latency(std::time::Duration::from_millis(5));
    second.set_latency(std::time::Duration::from_millis(5));
    let parts = sections(&s, &second);
    let configs: Vec<_> = parts
        .iter()
        .enumerate()
        .map(|(i, text)| write_config(&s, &format!("part-{i}.toml"), text))
        .collect();
    let outs = futures::future::join_all(configs.iter().map(|c| run(c, &pg))).await;
    for out in &outs {
        ok(out);
    }
    // The same as one process syncing the four sources one after the other.
    let all = write_config(&s, "all.toml", &parts.join("\n"));
    let db = s.db("sequential.db");
    ok(&run(&all, &sqlite_url(&db)).await);
    let (got, tables) = crate::postgres::pg_dump(&pg);
    assert_same(
        &got,
        &crate::postgres::sqlite_dump(&db, &tables),
        "four writers",
    );
}

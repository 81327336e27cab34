//! `ci-sync dashboard` and `ci-sync serve`: the demo's page rendered in headless Chromium (no
//! script error, every chart drawn with the points the data gives), an empty database's honest
//! empty states, and the live server (read-only, re-read at each visit).
//!
//! Chromium: `$CIDATA_CHROMIUM` (`.ci/run` installs it and sets it), else `chromium` on PATH;
//! without either the browser test says so and is skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use cidata_sync::rusqlite::Connection;
use tokio::io::AsyncBufReadExt;
use tokio::process::Command;

use crate::sync::ok;

fn ci_sync(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ci-sync"));
    cmd.current_dir(dir).env_remove("RUST_LOG");
    cmd
}

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CIDATA_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser", "google-chrome"].map(|b| dir.join(b)))
        .find(|p| p.is_file())
}

/// Chromium on `page` with the flags CI needs, plus `extra`; its stdout.
async fn headless(browser: &Path, page: &Path, extra: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), out)
        .await
        .expect("chromium answers within 2 minutes")
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An attribute of the dumped `<body>`, unescaped.
fn body_attribute(dom: &str, name: &str) -> Option<String> {
    let body = &dom[dom.find("<body")?..];
    let body = &body[..body.find('>')?];
    let start = body.find(&format!("{name}=\""))? + name.len() + 2;
    let value = &body[start..];
    let value = &value[..value.find('"')?];
    Some(
        value
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// `data-points` of each canvas of the page as written: what the data gives.
fn written_points(html: &str) -> BTreeMap<String, usize> {
    html.split("<canvas id=\"")
        .skip(1)
        .map(|rest| {
            let id = &rest[..rest.find('"').unwrap()];
            let points = rest.split("data-points=\"").nth(1).unwrap();
            let points = points[..points.find('"').unwrap()].parse().unwrap();
            (id.to_owned(), points)
        })
        .collect()
}

fn count(conn: &Connection, sql: &str) -> usize {
    conn.query_row(sql, [], |r| r.get::<_, i64>(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}")) as usize
}

#[tokio::test]
async fn the_demo_dashboard_draws_every_chart_without_a_script_error() {
    let dir = tempfile::tempdir().unwrap();
    ok(&ci_sync(dir.path()).arg("demo").output().await.unwrap());
    let page = dir.path().join("dashboard.html");
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: no script, style or image fetched (links to runs are only links).
    assert!(
        !html.contains(" src=") && !html.contains("<link") && !html.contains("@import"),
        "nothing to fetch"
    );
    let expected = written_points(&html);
    assert_eq!(
        expected.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "bitbucket",
            "durations",
            "flakiest",
            "now",
            "slowest",
            "stages",
            "success-rate"
        ],
        "the demo's data fills every chart"
    );

    // What the data gives, counted by SQL on the views, independently of the dashboard's code.
    let conn = Connection::open(dir.path().join("ci-sync.db")).unwrap();
    let durations = count(
        &conn,
        "SELECT 2 * count(*) FROM (SELECT DISTINCT source, substr(started_at, 1, 10) FROM ci_runs \
         WHERE is_final AND duration_ms IS NOT NULL AND started_at IS NOT NULL)",
    );
    let now = count(
        &conn,
        "SELECT count(*) FROM (SELECT DISTINCT source, status = 'queued' FROM ci_runs WHERE NOT is_final)",
    );
    let slowest = count(
        &conn,
        "SELECT 2 * min(10, count(*)) FROM (SELECT DISTINCT source, project, name FROM ci_runs \
         WHERE is_final AND duration_ms IS NOT NULL)",
    );
    assert_eq!(expected["durations"], durations);
    assert_eq!(expected["now"], now);
    assert_eq!(expected["slowest"], slowest);

    // A window of one day per source draws fewer runs than the whole history.
    let runs_drawn = |days: &'static str| {
        let dir = dir.path().to_owned();
        async move {
            let out = ci_sync(&dir)
                .args(["dashboard", "--days", days, "--out", "window.html"])
                .output()
                .await
                .unwrap();
            ok(&out);
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let n = stdout.split_whitespace().nth(2).unwrap().parse::<usize>();
            n.unwrap_or_else(|_| panic!("{stdout}"))
        }
    };
    let all = runs_drawn("0").await;
    assert_eq!(all, count(&conn, "SELECT count(*) FROM ci_runs"));
    let recent = runs_drawn("1").await;
    assert!(recent < all, "{recent} of {all}");
    assert!(recent >= count(&conn, "SELECT count(*) FROM ci_runs WHERE NOT is_final"));

    let Some(browser) = chromium() else {
        eprintln!(
            "no Chromium (set CIDATA_CHROMIUM or install chromium): the browser check is skipped"
        );
        return;
    };
    let dom = headless(&browser, &page, &["--dump-dom".to_owned()]).await;
    let errors = body_attribute(&dom, "data-errors").expect("the page's script ran to its end");
    assert_eq!(errors, "[]", "no script error");
    let drawn: BTreeMap<String, usize> =
        serde_json::from_str(&body_attribute(&dom, "data-drawn").unwrap()).unwrap();
    assert_eq!(drawn, expected, "each chart holds the points of its data");

    let shot = dir.path().join("dashboard.png");
    headless(
        &browser,
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1400,2600".to_owned(),
            "--hide-scrollbars".to_owned(),
        ],
    )
    .await;
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "{} bytes",
        png.len()
    );
    if let Some(keep) = std::env::var_os("CIDATA_DASHBOARD_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}

#[tokio::test]
async fn an_empty_database_gives_empty_states_not_broken_charts() {
    let dir = tempfile::tempdir().unwrap();
    // A database that does not exist is not created: a usage error naming it.
    let out = ci_sync(dir.path())
        .args(["dashboard", "--db", "sqlite://typo.db"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("typo.db: no such database"));
    assert!(!dir.path().join("typo.db").exists());
    // One that ci-sync opened but never synced into (no views yet: they are created).
    drop(cidata_sync::SqliteDestination::open(dir.path().join("empty.db")).unwrap());
    let out = ci_sync(dir.path())
        .args([
            "dashboard",
            "--db",
            "sqlite://empty.db",
            "--out",
            "empty.html",
        ])
        .output()
        .await
        .unwrap();
    ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Dashboard of 0 runs"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let html = std::fs::read_to_string(dir.path().join("empty.html")).unwrap();
    assert!(written_points(&html).is_empty(), "no canvas without data");
    for id in [
        "success-rate",
        "durations",
        "slowest",
        "flakiest",
        "stages",
        "now",
        "bitbucket",
    ] {
        assert!(
            html.contains(&format!("id=\"{id}-empty\"")),
            "{id}: an empty state"
        );
    }
    if let Some(browser) = chromium() {
        let page = dir.path().join("empty.html");
        let dom = headless(&browser, &page, &["--dump-dom".to_owned()]).await;
        assert_eq!(body_attribute(&dom, "data-errors").as_deref(), Some("[]"));
        let drawn: BTreeMap<String, usize> =
            serde_json::from_str(&body_attribute(&dom, "data-drawn").unwrap()).unwrap();
        assert_eq!(drawn.len(), 7);
        assert!(drawn.values().all(|n| *n == 0), "{drawn:?}");
    }
    // JSON lines keep nothing to draw from: a usage error (exit 2) that says so.
    let out = ci_sync(dir.path())
        .args(["dashboard", "--db", "jsonl://x.jsonl"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("JSON lines keep no tables"));
}

/// A request for `path` on `addr`: the status line and the body.
async fn get(addr: &str, method: &str, path: &str) -> (String, String) {
    request(addr, method, addr, path).await
}

/// A GET naming another host.
async fn get_with_host(addr: &str, host: &str, path: &str) -> (String, String) {
    request(addr, "GET", host, path).await
}

async fn request(addr: &str, method: &str, host: &str, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response
        .split_once("\r\n\r\n")
        .map(|x| x.1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

#[tokio::test]
async fn serve_answers_the_live_dashboard_read_only_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    ok(&ci_sync(dir.path()).arg("demo").output().await.unwrap());
    let mut server = ci_sync(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0", "--refresh", "30"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "{first}");

    let (status, body) = get(&addr, "GET", "/").await;
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("<meta http-equiv=\"refresh\" content=\"30\">"));
    assert!(body.contains("<canvas id=\"success-rate\""));
    let before = written_points(&body);

    // Re-read at each visit: a run deleted from the database is gone from the next page.
    let conn = Connection::open(dir.path().join("ci-sync.db")).unwrap();
    conn.execute("DELETE FROM circleci_workflows", []).unwrap();
    let (_, body) = get(&addr, "GET", "/").await;
    assert!(written_points(&body)["durations"] < before["durations"]);

    assert!(get(&addr, "POST", "/").await.0.contains("405"));
    // A page whose name was rebound to 127.0.0.1 gets nothing.
    let (status, body) = get_with_host(&addr, "evil.example", "/").await;
    assert!(status.contains("403"), "{status}");
    assert!(!body.contains("<canvas"));
    assert!(get(&addr, "GET", "/ci-sync.db").await.0.contains("404"));
    let _ = server.kill().await;
}

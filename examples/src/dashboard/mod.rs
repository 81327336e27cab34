//! The dashboard of `ci-sync dashboard` and `ci-sync serve`: one self-contained HTML page drawn
//! from the `ci_runs` and `ci_steps` views of any database ci-sync writes.
//!
//! ```no_run
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut db = cidata_sync::DestinationUrl::parse("sqlite://ci-sync.db")?.open()?;
//! let page = cidata_cli::dashboard::render_page(db.as_mut(), cidata_cli::dashboard::Refresh::Never, Some(90))?;
//! std::fs::write("dashboard.html", page.html)?;
//! # Ok(()) }
//! ```

pub mod charts;
pub mod data;
pub mod page;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub use charts::Dashboard;
pub use data::DataError;
pub use page::Refresh;

#[cfg(test)]
mod tests {
    #[test]
    fn only_loopback_names_are_loopback_hosts() {
        for host in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "127.1.2.3",
            "LOCALHOST",
        ] {
            assert!(super::is_loopback_host(host), "{host}");
        }
        for host in [
            "",
            "evil.example",
            "evil.example:8080",
            "10.0.0.1:8080",
            "localhost.evil.example",
            "[::2]:80",
        ] {
            assert!(!super::is_loopback_host(host), "{host}");
        }
    }
}

/// A rendered dashboard.
#[derive(Debug, Clone)]
pub struct Page {
    /// The HTML.
    pub html: String,
    /// What it shows.
    pub dashboard: Dashboard,
}

/// How much history the dashboard draws by default: the last 90 days of each source.
pub const DEFAULT_DAYS: u32 = 90;

/// Reads the views of `destination` (the last `days` days of each source; `None`: all) and draws
/// the page.
pub fn render_page(
    destination: &mut dyn cidata_sync::Destination,
    refresh: Refresh,
    days: Option<u32>,
) -> Result<Page, DataError> {
    let data = data::load(destination, days)?;
    let dashboard = charts::dashboard(&data);
    let generated = cidata_sync::format_timestamp(cidata_sync::now_ms());
    let html = page::render(&dashboard, &data.described, &generated, refresh, days);
    Ok(Page { html, dashboard })
}

/// Opens the database afresh for each page: the server holds no connection between requests.
pub type Opener =
    Arc<dyn Fn() -> Result<Box<dyn cidata_sync::Destination>, String> + Send + Sync + 'static>;

/// Whether a `Host` header names this machine's loopback (`localhost`, `127.0.0.1`, `[::1]`,
/// with any port): a server bound to loopback answers no other name, so that a web page whose
/// name was rebound to 127.0.0.1 (DNS rebinding) cannot read the dashboard.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Serves the dashboard on `listener` until the task is dropped: `GET /` re-reads the database
/// and answers the page (which reloads itself every `refresh_s` seconds); nothing else is served
/// and nothing is written. Bound to loopback, it answers only requests for a loopback name.
pub async fn serve(
    listener: TcpListener,
    open: Opener,
    refresh_s: u32,
    days: Option<u32>,
) -> std::io::Result<()> {
    let loopback = listener.local_addr()?.ip().is_loopback();
    loop {
        let (stream, peer) = listener.accept().await?;
        let open = open.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let open = open.clone();
                async move {
                    Ok::<_, Infallible>(answer(req, open, refresh_s, days, loopback, peer).await)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    req: Request<hyper::body::Incoming>,
    open: Opener,
    refresh_s: u32,
    days: Option<u32>,
    loopback: bool,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, kind: &'static str, body: String| {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    };
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if loopback && !is_loopback_host(host) {
        return reply(
            StatusCode::FORBIDDEN,
            "text/plain; charset=utf-8",
            "this dashboard answers only http://localhost or http://127.0.0.1\n".into(),
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "read-only: GET / only\n".into(),
        );
        r.headers_mut()
            .insert(hyper::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    if req.uri().path() != "/" && req.uri().path() != "/index.html" {
        return reply(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found: the dashboard is at /\n".into(),
        );
    }
    let rendered = tokio::task::spawn_blocking(move || {
        let mut destination = open()?;
        render_page(destination.as_mut(), Refresh::Every(refresh_s), days)
            .map_err(|e| e.to_string())
    })
    .await;
    match rendered {
        Ok(Ok(page)) => {
            tracing::debug!(%peer, bytes = page.html.len(), "dashboard served");
            reply(StatusCode::OK, "text/html; charset=utf-8", page.html)
        }
        Ok(Err(e)) => {
            tracing::warn!(%peer, error = %e, "dashboard failed");
            reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain; charset=utf-8",
                format!("the dashboard cannot be drawn: {e}\n"),
            )
        }
        Err(e) => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            format!("the dashboard failed: {e}\n"),
        ),
    }
}

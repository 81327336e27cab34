//! The HTTP side: a Jenkins under a context path on 127.0.0.1, with basic auth, `X-Jenkins`,
//! the remote API with `tree=`, wfapi, progressive console text and artifacts.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use cidata_jenkins::Tree;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use percent_encoding::percent_decode_str;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::bitbucket::{BITBUCKET_PREFIX, BbTruth, BbWorld};
use super::circleci::{CIRCLECI_PREFIX, CciTruth, CciWorld};
use super::faults::{Fault, FaultPlan, Injector, Outage, UNAVAILABLE_PAGE};
use super::render::{
    build_value, console_text, job_value, pending_inputs_value, root_value, run_value,
};
use super::world::{SimKind, Truth, World};

/// The context path of the simulated Jenkins.
pub const CONTEXT: &str = "/jenkins/";

struct Shared {
    world: Mutex<World>,
    circleci: Mutex<CciWorld>,
    bitbucket: Mutex<BbWorld>,
    /// `user:token` that basic auth must carry, if any.
    credentials: Option<(String, String)>,
    requests: AtomicU64,
    /// Added before every answer, in milliseconds (a remote server's round trip).
    latency_ms: AtomicU64,
    /// Faults injected into GET answers, if any.
    faults: Mutex<Option<Injector>>,
    /// A service that goes down, if any.
    outage: Mutex<Option<Outage>>,
}

/// A running simulated Jenkins. Dropping it stops the server.
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Simulator({})", self.base_url())
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Simulator {
    /// Serves `world` on 127.0.0.1 (a free port); with `credentials`, requests need that basic auth.
    pub async fn start(
        world: World,
        credentials: Option<(String, String)>,
    ) -> std::io::Result<Simulator> {
        Simulator::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), world, credentials).await
    }

    /// Serves `world` on `addr` (port 0: a free one), with the demo's CircleCI beside it.
    pub async fn start_on(
        addr: SocketAddr,
        world: World,
        credentials: Option<(String, String)>,
    ) -> std::io::Result<Simulator> {
        Simulator::serve(addr, world, CciWorld::demo(), credentials).await
    }

    /// Serves a Jenkins (`/jenkins/`) and a CircleCI (`/api/v2/`) on `addr`; with `credentials`,
    /// Jenkins wants them as basic auth and CircleCI the token as `Circle-Token`.
    pub async fn serve(
        addr: SocketAddr,
        world: World,
        circleci: CciWorld,
        credentials: Option<(String, String)>,
    ) -> std::io::Result<Simulator> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            circleci: Mutex::new(circleci),
            bitbucket: Mutex::new(BbWorld::demo()),
            credentials,
            requests: AtomicU64::new(0),
            latency_ms: AtomicU64::new(0),
            faults: Mutex::new(None),
            outage: Mutex::new(None),
        });
        let serving = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let shared = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let shared = shared.clone();
                        async move { serve_request(&shared, req).await }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Simulator { shared, addr, task })
    }

    /// The URL clients should use: `http://127.0.0.1:PORT/jenkins/`.
    pub fn base_url(&self) -> String {
        format!("http://{}{CONTEXT}", self.addr)
    }

    /// The inputs running builds wait at: each job's full name and the build's number.
    pub fn pending_inputs(&self) -> Vec<(String, u64)> {
        let world = self.world();
        let mut found = Vec::new();
        world.visit_builds(&mut |full_name, build| {
            if build.input.is_some() {
                found.push((full_name.to_owned(), build.number));
            }
        });
        found
    }

    /// Delays every answer by `latency`, as a server across a network would.
    pub fn set_latency(&self, latency: std::time::Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.shared.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// Answers a seeded fraction of GET requests with faults from now on (`None`: no more).
    pub fn set_faults(&self, plan: Option<FaultPlan>) {
        *lock(&self.shared.faults) = plan.map(Injector::new);
    }

    /// Faults injected so far.
    pub fn faults_injected(&self) -> u64 {
        lock(&self.shared.faults)
            .as_ref()
            .map_or(0, Injector::injected)
    }

    /// Takes the service under `prefix` (`/jenkins/`, `/api/v2/`, `/2.0/`) down after it has
    /// answered `answered_before_down` more requests: every later request gets a 503 page.
    /// `None` brings it back.
    pub fn set_outage(&self, prefix: Option<&str>, answered_before_down: u64) {
        *lock(&self.shared.outage) = prefix.map(|prefix| Outage {
            prefix: prefix.to_owned(),
            answered_before_down,
        });
    }

    /// Requests served so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// The simulated CircleCI's base URL: `http://127.0.0.1:PORT/api/v2/`.
    pub fn circleci_url(&self) -> String {
        format!("http://{}{CIRCLECI_PREFIX}", self.addr)
    }

    /// Lets the servers move on: running builds and workflows finish, new ones start, and a
    /// CircleCI workflow is rerun.
    pub fn advance(&self) {
        self.world().advance();
        self.circleci().advance();
        self.bitbucket().advance();
    }

    /// The simulated Bitbucket's base URL: `http://127.0.0.1:PORT/2.0/`.
    pub fn bitbucket_url(&self) -> String {
        format!("http://{}{BITBUCKET_PREFIX}", self.addr)
    }

    /// Serves `world` as the simulated Bitbucket from now on.
    pub fn set_bitbucket(&self, world: BbWorld) {
        *self.bitbucket() = world;
    }

    /// What a complete Bitbucket sync must hold now.
    pub fn bitbucket_truth(&self) -> BbTruth {
        self.bitbucket().truth()
    }

    /// The simulated Bitbucket's workspace.
    pub fn bitbucket_workspace(&self) -> String {
        self.bitbucket().workspace.clone()
    }

    fn bitbucket(&self) -> MutexGuard<'_, BbWorld> {
        self.shared
            .bitbucket
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// What a complete CircleCI sync must hold now.
    pub fn circleci_truth(&self) -> CciTruth {
        self.circleci().truth()
    }

    /// The slugs of the simulated CircleCI projects.
    pub fn circleci_projects(&self) -> Vec<String> {
        self.circleci()
            .projects
            .iter()
            .map(|p| p.slug.clone())
            .collect()
    }

    fn circleci(&self) -> MutexGuard<'_, CciWorld> {
        self.shared
            .circleci
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// How the input of a build was answered (`None`: not answered).
    pub fn input_answer(&self, full_name: &str, number: u64) -> Option<serde_json::Value> {
        let segments: Vec<String> = full_name.split('/').map(str::to_owned).collect();
        let world = self.world();
        let build = world
            .find(&segments)?
            .builds
            .iter()
            .find(|b| b.number == number)?;
        build.answer.clone()
    }

    /// Removes a job; returns whether it existed.
    pub fn remove_job(&self, full_name: &str) -> bool {
        self.world().remove(full_name)
    }

    /// Discards a job's builds numbered below `keep_from`, as log rotation does; returns how
    /// many there were.
    pub fn discard_builds(&self, full_name: &str, keep_from: u64) -> usize {
        let mut world = self.world();
        let path: Vec<String> = full_name.split('/').map(str::to_owned).collect();
        let Some(job) = world.find_mut(&path) else {
            return 0;
        };
        let before = job.builds.len();
        job.builds.retain(|b| b.number >= keep_from);
        before - job.builds.len()
    }

    /// Removes the stage named `stage` from a build (a running Pipeline restarted from another
    /// stage); returns whether it had one.
    pub fn remove_stage(&self, full_name: &str, number: u64, stage: &str) -> bool {
        let mut world = self.world();
        let path: Vec<String> = full_name.split('/').map(str::to_owned).collect();
        let Some(build) = world
            .find_mut(&path)
            .and_then(|j| j.builds.iter_mut().find(|b| b.number == number))
        else {
            return false;
        };
        let before = build.stages.len();
        build.stages.retain(|s| s.name != stage);
        before != build.stages.len()
    }

    /// What a complete sync must hold now.
    pub fn truth(&self) -> Truth {
        self.world().truth()
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.shared.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert("X-Jenkins", HeaderValue::from_static("2.462.3"));
    resp
}

fn json(value: &serde_json::Value) -> Response<Full<Bytes>> {
    respond(
        StatusCode::OK,
        "application/json;charset=utf-8",
        value.to_string(),
    )
}

fn not_found() -> Response<Full<Bytes>> {
    respond(
        StatusCode::NOT_FOUND,
        "text/html;charset=utf-8",
        "<html><head><title>Error 404 Not Found</title></head><body>Not Found</body></html>",
    )
}

fn authorized(shared: &Shared, req: &Request<Incoming>) -> bool {
    let Some((user, token)) = &shared.credentials else {
        return true;
    };
    let expected = format!(
        "Basic {}",
        cidata_core::encode_base64(format!("{user}:{token}").as_bytes())
    );
    req.headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(expected.as_str())
}

/// Splits `/jenkins/job/a/job/b/REST` into the job's raw names and the rest.
fn job_and_tail(path: &str) -> Option<(Vec<String>, Vec<&str>)> {
    let rest = path.strip_prefix(CONTEXT)?;
    let parts: Vec<&str> = rest.split('/').collect();
    let mut job: Vec<String> = Vec::new();
    let mut i = 0;
    while i + 1 < parts.len() && parts[i] == "job" && !parts[i + 1].is_empty() {
        job.push(
            percent_decode_str(parts[i + 1])
                .decode_utf8_lossy()
                .into_owned(),
        );
        i += 2;
    }
    Some((job, parts[i..].to_vec()))
}

/// The simulated CircleCI: `Circle-Token` auth, the slug decoded from its one segment.
fn circleci(shared: &Shared, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if let Some((_, token)) = &shared.credentials {
        let sent = req
            .headers()
            .get("Circle-Token")
            .and_then(|v| v.to_str().ok());
        if sent != Some(token.as_str()) {
            return respond(
                StatusCode::UNAUTHORIZED,
                "application/json;charset=utf-8",
                r#"{"message":"You must log in first."}"#,
            );
        }
    }
    let rest = &req.uri().path()[CIRCLECI_PREFIX.len()..];
    let segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let query = req.uri().query().map(url_form).unwrap_or_default();
    let mut world = shared.circleci.lock().unwrap_or_else(|p| p.into_inner());
    let (status, body) =
        super::circleci::respond(&mut world, req.method().as_str(), &segments, &query);
    respond(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        "application/json;charset=utf-8",
        body.to_string(),
    )
}

/// The simulated Bitbucket: a bearer token or basic auth with the simulator's credentials.
fn bitbucket(shared: &Shared, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if let Some((user, token)) = &shared.credentials {
        let sent = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        // An app password goes with the username, an API token with the account's e-mail.
        let basic = |login: &str| {
            format!(
                "Basic {}",
                cidata_core::encode_base64(format!("{login}:{token}").as_bytes())
            )
        };
        let accepted = [
            format!("Bearer {token}"),
            basic(user),
            basic(&format!("{user}@example.com")),
        ];
        if !accepted.iter().any(|a| Some(a.as_str()) == sent) {
            // As the real API: a plain-text 401.
            return respond(StatusCode::UNAUTHORIZED, "text/plain", "Login failed");
        }
    }
    let rest = &req.uri().path()[BITBUCKET_PREFIX.len()..];
    let segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let query = req.uri().query().map(url_form).unwrap_or_default();
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let origin = format!("http://{host}");
    let world = shared.bitbucket.lock().unwrap_or_else(|p| p.into_inner());
    let (status, body) =
        super::bitbucket::respond(&world, req.method().as_str(), &segments, &query, &origin);
    respond(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        "application/json; charset=utf-8",
        body.to_string(),
    )
}

/// POSTs: answering an `input` step (proceed with parameters, or abort).
async fn post(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let input_id = query(&req, "inputId");
    let body = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return respond(StatusCode::BAD_REQUEST, "text/plain", "unreadable body"),
    };
    let Some((job, tail)) = job_and_tail(&path) else {
        return not_found();
    };
    let form = url_form(&String::from_utf8_lossy(&body));
    let (number, id, proceed) = match tail.as_slice() {
        [n, "wfapi", "inputSubmit"] => (n.parse::<u64>().ok(), input_id, true),
        [n, "input", id, "abort"] => (n.parse::<u64>().ok(), Some((*id).to_owned()), false),
        _ => return not_found(),
    };
    let (Some(number), Some(id)) = (number, id) else {
        return not_found();
    };
    // Jenkins' form posts `json={"parameter":[{"name":..,"value":..}]}`.
    let answer = match form.iter().find(|(k, _)| k == "json") {
        Some((_, json)) => serde_json::from_str(json).unwrap_or(serde_json::Value::Null),
        None => serde_json::json!({ "action": if proceed { "proceed" } else { "abort" } }),
    };
    let mut world = shared.world.lock().unwrap_or_else(|p| p.into_inner());
    if world.answer_input(&job, number, &id, proceed, answer) {
        respond(StatusCode::OK, "text/html;charset=utf-8", "<html></html>")
    } else {
        not_found()
    }
}

fn query(req: &Request<Incoming>, name: &str) -> Option<String> {
    let q = req.uri().query()?;
    url_form(q)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn url_form(q: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    q.split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A body that may break off.
type Answer = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

fn answer(resp: Response<Full<Bytes>>) -> Response<Answer> {
    resp.map(|body| body.map_err(|never| match never {}).boxed())
}

fn reset() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "injected connection reset",
    )
}

/// Answers one request: from a service that is down, with an injected fault, or normally. An
/// error closes the connection (a reset, as the client sees it).
async fn serve_request(
    shared: &Shared,
    req: Request<Incoming>,
) -> Result<Response<Answer>, std::io::Error> {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(outage) = lock(&shared.outage).as_mut()
        && req.uri().path().starts_with(&outage.prefix)
    {
        if outage.answered_before_down == 0 {
            return Ok(answer(respond(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/html",
                UNAVAILABLE_PAGE,
            )));
        }
        outage.answered_before_down -= 1;
    }
    let fault = if req.method() == hyper::Method::GET {
        let target = req
            .uri()
            .path_and_query()
            .map_or_else(String::new, |p| p.as_str().to_owned());
        lock(&shared.faults)
            .as_mut()
            .and_then(|injector| injector.pick(&target).map(|f| (f, injector.slow())))
    } else {
        None
    };
    let Some((fault, slow)) = fault else {
        return Ok(answer(handle(shared, req).await));
    };
    Ok(answer(match fault {
        Fault::TooManyRequestsRetryAfter => {
            let mut resp = respond(
                StatusCode::TOO_MANY_REQUESTS,
                "text/plain",
                "rate limit exceeded",
            );
            resp.headers_mut()
                .insert("Retry-After", HeaderValue::from_static("1"));
            resp
        }
        Fault::TooManyRequests => respond(
            StatusCode::TOO_MANY_REQUESTS,
            "application/json",
            r#"{"message":"Rate limit exceeded"}"#,
        ),
        Fault::BadGateway => respond(StatusCode::BAD_GATEWAY, "text/plain", "Bad Gateway"),
        Fault::UnavailableHtml => respond(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/html",
            UNAVAILABLE_PAGE,
        ),
        Fault::Reset => return Err(reset()),
        Fault::Slow => {
            tokio::time::sleep(slow).await;
            handle(shared, req).await
        }
        Fault::Truncated => return Ok(truncated(handle(shared, req).await).await),
    }))
}

/// `resp` with the whole body's length announced and half of the body sent, then the
/// connection broken.
async fn truncated(resp: Response<Full<Bytes>>) -> Response<Answer> {
    let (mut parts, body) = resp.into_parts();
    let full = body
        .collect()
        .await
        .map_or_else(|never| match never {}, |b| b.to_bytes());
    parts
        .headers
        .insert(hyper::header::CONTENT_LENGTH, HeaderValue::from(full.len()));
    let half = full.slice(..full.len() / 2);
    // A pause before the break, so that the half is flushed to the client first.
    let frames = futures::StreamExt::then(futures::stream::iter([true, false]), move |first| {
        let half = half.clone();
        async move {
            if first {
                Ok(hyper::body::Frame::data(half))
            } else {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Err(reset())
            }
        }
    });
    Response::from_parts(parts, http_body_util::StreamBody::new(frames).boxed())
}

async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let latency = shared.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    if req.uri().path().starts_with(CIRCLECI_PREFIX) {
        return circleci(shared, &req);
    }
    if req.uri().path().starts_with(BITBUCKET_PREFIX) {
        return bitbucket(shared, &req);
    }
    if req.method() == hyper::Method::POST {
        return post(shared, req).await;
    }
    if !authorized(shared, &req) {
        let mut resp = respond(
            StatusCode::UNAUTHORIZED,
            "text/html;charset=utf-8",
            "<html><head><title>Error 401 Unauthorized</title></head></html>",
        );
        resp.headers_mut().insert(
            "WWW-Authenticate",
            HeaderValue::from_static("Basic realm=\"Jenkins\""),
        );
        return resp;
    }
    // job/NAME pairs, then what is asked of the job.
    let Some((path, tail)) = job_and_tail(req.uri().path()) else {
        return not_found();
    };
    let tail = tail.as_slice();
    let tree = match query(&req, "tree").map(|t| Tree::parse(&t)) {
        Some(Ok(t)) => Some(t),
        // Jenkins answers a malformed tree with a 500 HTML page.
        Some(Err(_)) => {
            return respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/html",
                "<html>Malformed tree</html>",
            );
        }
        None => None,
    };
    let world = shared.world.lock().unwrap_or_else(|p| p.into_inner());
    if path.is_empty() {
        return match tail {
            ["api", "json"] => json(&root_value(&world.jobs, tree.as_ref())),
            ["crumbIssuer", "api", "json"] => not_found(),
            _ => not_found(),
        };
    }
    let Some(job) = world.find(&path) else {
        return not_found();
    };
    let number = tail.first().and_then(|t| t.parse::<u64>().ok());
    let build = number.and_then(|n| job.builds.iter().find(|b| b.number == n));
    match (tail, build) {
        (["api", "json"], _) => json(&job_value(job, &path, tree.as_ref())),
        ([_, "api", "json"], Some(b)) => {
            let v = build_value(job, &path, b);
            json(&match &tree {
                Some(t) => super::render::prune(v, t),
                None => v,
            })
        }
        ([_, "wfapi", "describe"], Some(b)) if job.kind == SimKind::Pipeline => {
            json(&run_value(&path, b, CONTEXT))
        }
        ([_, "wfapi", "pendingInputActions"], Some(b)) if job.kind == SimKind::Pipeline => {
            json(&pending_inputs_value(&path, b, CONTEXT))
        }
        ([_, "logText", "progressiveText"], Some(b)) => {
            let text = console_text(job, b);
            let start: usize = query(&req, "start")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let start = if start > text.len() { 0 } else { start };
            let mut resp = respond(
                StatusCode::OK,
                "text/plain;charset=UTF-8",
                text[start..].to_owned(),
            );
            resp.headers_mut()
                .insert("X-Text-Size", HeaderValue::from(text.len() as u64));
            if b.running() {
                resp.headers_mut()
                    .insert("X-More-Data", HeaderValue::from_static("true"));
            }
            resp
        }
        ([_, "artifact", rest @ ..], Some(b)) => {
            let rel: Vec<String> = rest
                .iter()
                .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
                .collect();
            let rel = rel.join("/");
            if b.artifacts.contains(&rel) {
                respond(
                    StatusCode::OK,
                    "application/octet-stream",
                    format!("{} #{} {rel}\n", path.join("/"), b.number),
                )
            } else {
                not_found()
            }
        }
        _ => not_found(),
    }
}

//! `keycustody proxy`: the LLM auth proxy that keeps provider keys out of agent
//! containers.
//!
//! `http://host:3101/proxy/<route>/<path>` goes to the route's upstream base URL
//! plus `<path>`; the client's credentials are stripped and the real key, read
//! from the vault (and re-read when the vault changes), is injected. Request and
//! response bodies stream through frame by frame (SSE works), with a size limit
//! and an idle timeout. Only allow-listed source networks are served. Each key
//! use is recorded in the vault's audit log (names only).

use crate::audit::Event;
use crate::vault::{Location, VmError};
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod body;
pub mod bucket;
pub mod headers;
pub mod keys;
pub mod net;
pub mod routes;

use body::{find_guard_error, BoxError, GuardError, Guarded};

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:3101")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub loc: Location,
    /// The routes file (JSON).
    #[arg(long)]
    pub routes: PathBuf,
    /// Source networks allowed to use the proxy (repeatable).
    #[arg(long = "allow", default_value = "172.16.0.0/12")]
    pub allow: Vec<String>,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 32 * 1024 * 1024)]
    pub max_body: u64,
    /// Seconds to wait for the upstream's response headers.
    #[arg(long, default_value_t = 300)]
    pub upstream_timeout: u64,
    /// Seconds a request or response body may stay idle between chunks.
    #[arg(long, default_value_t = 300)]
    pub idle_timeout: u64,
    /// Log every request (route, status, duration; never headers or bodies).
    #[arg(long)]
    pub access_log: bool,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

type Resp = Response<BoxBody<Bytes, BoxError>>;
type UpClient = Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Guarded<Incoming>,
>;

struct RouteState {
    route: routes::Route,
    bucket: Mutex<bucket::Bucket>,
}

/// The proxy's shared state.
struct State {
    routes: BTreeMap<String, RouteState>,
    allow: Vec<net::Cidr>,
    keys: keys::KeyStore,
    client: UpClient,
    audit: std::sync::mpsc::Sender<Event>,
    max_body: u64,
    upstream_timeout: Duration,
    idle_timeout: Duration,
    access_log: bool,
    origin: Instant,
}

fn error_response(status: StatusCode, kind: &'static str, message: &'static str) -> Resp {
    let body = format!(
        "{{\"type\":\"error\",\"error\":{{\"type\":\"{kind}\",\"message\":\"keycustody proxy: {message}\"}}}}"
    );
    let mut r = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed(),
    );
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

impl State {
    async fn handle(self: Arc<Self>, req: Request<Incoming>, peer: SocketAddr) -> Resp {
        let start = Instant::now();
        let mut route_name = String::new();
        let resp = self.route(req, peer, &mut route_name).await;
        let status = resp.status();
        if self.access_log || !(status.is_success() || status.is_redirection()) {
            eprintln!(
                "keycustody proxy: {} route={} status={} ms={}",
                peer.ip(),
                if route_name.is_empty() {
                    "-"
                } else {
                    &route_name
                },
                status.as_u16(),
                start.elapsed().as_millis()
            );
        }
        resp
    }

    async fn route(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        route_name: &mut String,
    ) -> Resp {
        if !net::allowed(&self.allow, peer.ip()) {
            return error_response(
                StatusCode::FORBIDDEN,
                "permission_error",
                "source address not allowed",
            );
        }
        let path = req.uri().path().to_string();
        if path == "/healthz" {
            return Response::new(
                Full::new(Bytes::from_static(b"ok\n"))
                    .map_err(|n| match n {})
                    .boxed(),
            );
        }
        let Some((name, rest)) = routes::split_path(&path) else {
            return error_response(
                StatusCode::NOT_FOUND,
                "not_found_error",
                "use /proxy/<route>/...",
            );
        };
        let Some(rs) = self.routes.get(name) else {
            return error_response(StatusCode::NOT_FOUND, "not_found_error", "unknown route");
        };
        route_name.push_str(name);
        if routes::has_dot_segment(rest) {
            return error_response(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "dot segments are not allowed in the path",
            );
        }
        let now = self.origin.elapsed().as_secs_f64();
        let limited = match rs.bucket.lock() {
            Ok(mut b) => b.take_at(now),
            Err(p) => p.into_inner().take_at(now),
        };
        if let Err(wait) = limited {
            let mut r = error_response(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "rate limit exceeded for this route",
            );
            let secs = wait.ceil().max(1.0).to_string();
            if let Ok(v) = hyper::header::HeaderValue::from_str(&secs) {
                r.headers_mut().insert(hyper::header::RETRY_AFTER, v);
            }
            return r;
        }
        if let Some(len) = req
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
        {
            if len > self.max_body {
                return error_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "request_too_large",
                    "request body exceeds the limit",
                );
            }
        }
        let key = match self.keys.get(&rs.route.secret) {
            Ok(k) => k,
            Err(keys::KeyError::Missing) => {
                return error_response(
                    StatusCode::BAD_GATEWAY,
                    "api_error",
                    "the vault holds no key for this route",
                )
            }
            Err(keys::KeyError::Unusable) => {
                return error_response(
                    StatusCode::BAD_GATEWAY,
                    "api_error",
                    "the key for this route cannot be sent in a header",
                )
            }
            Err(keys::KeyError::VaultUnreadable) => {
                return error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "api_error",
                    "the vault could not be read",
                )
            }
        };
        let Ok(uri) = rs.route.upstream_uri(rest, req.uri().query()) else {
            return error_response(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "bad request path",
            );
        };
        let (mut parts, incoming) = req.into_parts();
        parts.uri = uri;
        parts.version = hyper::Version::HTTP_11;
        headers::rewrite_request(&mut parts.headers, rs.route.kind, &key);
        drop(key);
        let up_req = Request::from_parts(
            parts,
            Guarded::new(incoming, self.max_body, self.idle_timeout),
        );
        let _ = self.audit.send(Event {
            op: "proxy.key_use".into(),
            names: vec![rs.route.secret.clone()],
            route: Some(name.to_string()),
            actor: None,
        });
        let res = tokio::time::timeout(self.upstream_timeout, self.client.request(up_req)).await;
        match res {
            Err(_) => error_response(
                StatusCode::GATEWAY_TIMEOUT,
                "api_error",
                "upstream did not answer in time",
            ),
            Ok(Err(e)) => match find_guard_error(&e) {
                Some(GuardError::TooLarge) => error_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "request_too_large",
                    "request body exceeds the limit",
                ),
                Some(GuardError::Idle) => error_response(
                    StatusCode::REQUEST_TIMEOUT,
                    "api_error",
                    "request body idle too long",
                ),
                None => error_response(
                    StatusCode::BAD_GATEWAY,
                    "api_error",
                    "upstream connection failed",
                ),
            },
            Ok(Ok(resp)) => {
                let (mut parts, body) = resp.into_parts();
                headers::strip_hop_by_hop(&mut parts.headers);
                let body = Guarded::new(body, u64::MAX, self.idle_timeout).boxed();
                Response::from_parts(parts, body)
            }
        }
    }
}

fn audit_thread(
    log: crate::audit::Log,
    rx: std::sync::mpsc::Receiver<Event>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while batch.len() < 4096 {
                match rx.try_recv() {
                    Ok(e) => batch.push(e),
                    Err(_) => break,
                }
            }
            if let Err(e) = log.append_events(&batch) {
                eprintln!(
                    "keycustody proxy: AUDIT APPEND FAILED ({} events): {e}",
                    batch.len()
                );
            }
        }
    })
}

fn build(args: &Args) -> Result<(State, std::thread::JoinHandle<()>), VmError> {
    let text =
        crate::vault::fsutil::read_limited(&args.routes, routes::MAX_ROUTES_FILE).map_err(|e| {
            VmError::Usage(format!(
                "cannot read routes file {}: {e}",
                args.routes.display()
            ))
        })?;
    let text =
        String::from_utf8(text).map_err(|_| VmError::Usage("routes file is not UTF-8".into()))?;
    let parsed = routes::parse(&text).map_err(VmError::Usage)?;
    let mut allow = Vec::new();
    for a in &args.allow {
        allow.push(a.parse::<net::Cidr>().map_err(VmError::Usage)?);
    }
    if args.max_body == 0 || args.upstream_timeout == 0 || args.idle_timeout == 0 {
        return Err(VmError::Usage(
            "limits and timeouts must be positive".into(),
        ));
    }
    let mut names: Vec<String> = parsed.values().map(|r| r.secret.clone()).collect();
    names.sort();
    names.dedup();
    let (keys, vault) = keys::KeyStore::open(args.loc.clone(), names.clone())?;
    for n in &names {
        if keys.get(n).is_err() {
            eprintln!("keycustody proxy: warning: vault secret {n} is missing or unusable; its routes answer 502");
        }
    }
    let log = vault.audit_log(&args.loc);
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = audit_thread(log, rx);
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .map_err(|_| VmError::Usage("TLS setup failed".into()))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build(https);
    let origin = Instant::now();
    let routes = parsed
        .into_iter()
        .map(|(n, r)| {
            let bucket = Mutex::new(bucket::Bucket::new(r.burst, r.per_second, 0.0));
            (n, RouteState { route: r, bucket })
        })
        .collect();
    Ok((
        State {
            routes,
            allow,
            keys,
            client,
            audit: tx,
            max_body: args.max_body,
            upstream_timeout: Duration::from_secs(args.upstream_timeout),
            idle_timeout: Duration::from_secs(args.idle_timeout),
            access_log: args.access_log,
            origin,
        },
        handle,
    ))
}

async fn serve(state: Arc<State>, listener: tokio::net::TcpListener) {
    let shutdown = async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {},
        }
    };
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(_) => { tokio::time::sleep(Duration::from_millis(10)).await; continue; }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let st = Arc::clone(&state);
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let st = Arc::clone(&st);
                async move { Ok::<_, std::convert::Infallible>(st.handle(req, peer).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// Runs the proxy until SIGINT/SIGTERM.
///
/// # Errors
/// Never in practice: errors are reported and turned into an exit code.
pub fn run(a: Args) -> Result<ExitCode, keycustody::Error> {
    crate::vault::finish(run_inner(a))
}

fn run_inner(a: Args) -> Result<ExitCode, VmError> {
    let (state, audit_handle) = build(&a)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(a.threads.max(1))
        .enable_all()
        .build()?;
    let state = Arc::new(state);
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(a.listen).await?;
        let addr = listener.local_addr()?;
        eprintln!("keycustody proxy: listening on {addr}");
        serve(Arc::clone(&state), listener).await;
        Ok::<_, std::io::Error>(())
    })?;
    rt.shutdown_timeout(Duration::from_secs(5));
    // Dropping the last sender ends the audit thread after it flushes.
    drop(state);
    let _ = audit_handle.join();
    Ok(ExitCode::SUCCESS)
}

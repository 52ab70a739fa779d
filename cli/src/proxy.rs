//! `keycustody proxy`: the LLM auth proxy that keeps provider keys out of agent
//! containers.
//!
//! `http://host:3101/proxy/<route>/<path>` goes to the route's upstream base URL
//! plus `<path>`; the client's credentials are stripped and the real key, read
//! from the vault (and re-read when the vault changes), is injected. Request and
//! response bodies stream through frame by frame (SSE works), with a size limit
//! and an idle timeout. Each agent presents its own proxy token (see
//! [`tokens`]) and may use only the routes it was granted; allow-listed source
//! networks are a second layer. Each key use is recorded in the vault's audit log
//! (names and the agent, never a value) before the request goes upstream (fail
//! closed); refusals are recorded aggregated (see [`record`]). SIGTERM drains,
//! SIGHUP reloads the routes and tokens.

use crate::vault::{Location, VmError};
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

pub mod admin;
pub mod body;
pub mod bucket;
pub mod headers;
pub mod keys;
pub mod net;
pub mod record;
pub mod routes;
pub mod tokens;

use body::{find_guard_error, BoxError, GuardError, Guarded};
use record::{ProxyEvent, Recorder};
use routes::Kind;

/// `keycustody proxy [token ...]`.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    /// Manage per-agent proxy tokens (without a subcommand: run the proxy).
    #[command(subcommand)]
    pub command: Option<Sub>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Proxy subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Sub {
    /// Per-agent proxy tokens: issue, list, revoke.
    #[command(subcommand)]
    Token(admin::TokenCommand),
}

/// Arguments of the running proxy.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:3101")]
    pub listen: SocketAddr,
    /// The vault file (required to run the proxy).
    #[arg(long, env = "KEYCUSTODY_VAULT")]
    pub vault: Option<PathBuf>,
    /// The key file (a keyring, mode 0400/0600) [default: <vault>.key].
    #[arg(long, env = "KEYCUSTODY_VAULT_KEY")]
    pub key: Option<PathBuf>,
    /// The audit log [default: <vault>.audit].
    #[arg(long, env = "KEYCUSTODY_AUDIT_LOG")]
    pub audit: Option<PathBuf>,
    /// The routes file (JSON; must not be writable by group or others; required to
    /// run the proxy).
    #[arg(long)]
    pub routes: Option<PathBuf>,
    /// The per-agent tokens file (mode 0600) [default: <routes>.tokens].
    #[arg(long, env = "KEYCUSTODY_PROXY_TOKENS")]
    pub tokens: Option<PathBuf>,
    /// Source networks allowed to use the proxy (repeatable).
    #[arg(long = "allow", default_value = "172.16.0.0/12")]
    pub allow: Vec<String>,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 32 * 1024 * 1024)]
    pub max_body: u64,
    /// Seconds to wait for the upstream's response headers, counted from the end of
    /// the request body.
    #[arg(long, default_value_t = 300)]
    pub upstream_timeout: u64,
    /// Seconds a response body may stay idle between chunks.
    #[arg(long, default_value_t = 300)]
    pub idle_timeout: u64,
    /// Seconds a client's request body may stall between chunks (then 408).
    #[arg(long, default_value_t = 60)]
    pub body_timeout: u64,
    /// Seconds a client has to send its request headers.
    #[arg(long, default_value_t = 30)]
    pub header_timeout: u64,
    /// Most request headers (more: 431).
    #[arg(long, default_value_t = 100)]
    pub max_headers: usize,
    /// Largest request head (request line and headers), in bytes (more: 414 or 431).
    #[arg(long, default_value_t = 64 * 1024)]
    pub max_header_bytes: usize,
    /// Seconds SIGTERM waits for in-flight requests and streams before closing them.
    #[arg(long, default_value_t = 30)]
    pub grace: u64,
    /// Send requests upstream even when their audit entry cannot be written
    /// (default: fail closed with 503).
    #[arg(long)]
    pub audit_fail_open: bool,
    /// Milliseconds between syncs (fdatasync) of the audit log: a key use waits until its
    /// entry is written to the log (a crash of the proxy loses none), and is durable
    /// against power loss within this interval. 0: each key use waits for the sync.
    #[arg(long, default_value_t = 50, value_name = "MS")]
    pub audit_sync_interval: u64,
    /// Seconds over which refused requests are aggregated into one audit entry per
    /// source and reason.
    #[arg(long, default_value_t = 60, hide = true)]
    pub refused_window: u64,
    /// Log every request (route, agent, status, duration; never headers or bodies).
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
    bucket: Arc<Mutex<bucket::Bucket>>,
}

/// What SIGHUP reloads: the routes and the keys they need.
struct Config {
    routes: BTreeMap<String, RouteState>,
    keys: keys::KeyStore,
}

/// The proxy's shared state.
struct State {
    config: RwLock<Arc<Config>>,
    tokens: tokens::TokenStore,
    allow: Vec<net::Cidr>,
    client: UpClient,
    recorder: Recorder,
    max_body: u64,
    upstream_timeout: Duration,
    idle_timeout: Duration,
    body_timeout: Duration,
    access_log: bool,
    origin: Instant,
    routes_path: PathBuf,
    loc: Location,
}

/// The kind of a refusal, rendered in the route's provider's error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Auth,
    Permission,
    NotFound,
    Invalid,
    TooLarge,
    RateLimit,
    Timeout,
    Upstream,
    Unavailable,
}

impl Fault {
    /// (Anthropic type, OpenAI type, OpenAI code, Google status).
    fn names(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Fault::Auth => (
                "authentication_error",
                "invalid_request_error",
                "invalid_api_key",
                "UNAUTHENTICATED",
            ),
            Fault::Permission => (
                "permission_error",
                "invalid_request_error",
                "permission_denied",
                "PERMISSION_DENIED",
            ),
            Fault::NotFound => (
                "not_found_error",
                "invalid_request_error",
                "not_found",
                "NOT_FOUND",
            ),
            Fault::Invalid => (
                "invalid_request_error",
                "invalid_request_error",
                "invalid_request",
                "INVALID_ARGUMENT",
            ),
            Fault::TooLarge => (
                "request_too_large",
                "invalid_request_error",
                "request_too_large",
                "INVALID_ARGUMENT",
            ),
            Fault::RateLimit => (
                "rate_limit_error",
                "rate_limit_error",
                "rate_limit_exceeded",
                "RESOURCE_EXHAUSTED",
            ),
            Fault::Timeout => (
                "timeout_error",
                "invalid_request_error",
                "timeout",
                "DEADLINE_EXCEEDED",
            ),
            Fault::Upstream => ("api_error", "server_error", "bad_gateway", "UNAVAILABLE"),
            Fault::Unavailable => (
                "api_error",
                "server_error",
                "service_unavailable",
                "UNAVAILABLE",
            ),
        }
    }
}

/// An error body in the shape the route's provider uses (Anthropic's shape when
/// no route is known): OpenAI `{"error":{"message","type","code"}}`, Anthropic
/// `{"type":"error","error":{"type","message"}}`, Google
/// `{"error":{"code","message","status"}}`.
fn error_response(
    kind: Option<Kind>,
    status: StatusCode,
    fault: Fault,
    message: &'static str,
) -> Resp {
    let (a_type, o_type, o_code, g_status) = fault.names();
    let msg = format!("keycustody proxy: {message}");
    let v = match kind {
        Some(Kind::Bearer) => serde_json::json!({
            "error": {"message": msg, "type": o_type, "code": o_code}
        }),
        Some(Kind::Google) => serde_json::json!({
            "error": {"code": status.as_u16(), "message": msg, "status": g_status}
        }),
        Some(Kind::Anthropic) | None => serde_json::json!({
            "type": "error",
            "error": {"type": a_type, "message": msg}
        }),
    };
    let mut r = Response::new(
        Full::new(Bytes::from(v.to_string()))
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

/// Per-request context for logging and auditing.
#[derive(Default)]
struct Ctx {
    route: Option<String>,
    kind: Option<Kind>,
    actor: Option<String>,
}

impl State {
    fn config(&self) -> Arc<Config> {
        match self.config.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    async fn handle(self: Arc<Self>, req: Request<Incoming>, peer: SocketAddr) -> Resp {
        let start = Instant::now();
        let mut ctx = Ctx::default();
        let resp = match self.route(req, peer, &mut ctx).await {
            Ok(r) => r,
            Err((status, fault, reason, message)) => {
                self.recorder.refused(
                    peer.ip(),
                    reason,
                    ctx.route.as_deref(),
                    ctx.actor.as_deref(),
                );
                error_response(ctx.kind, status, fault, message)
            }
        };
        let status = resp.status();
        if self.access_log || !(status.is_success() || status.is_redirection()) {
            eprintln!(
                "keycustody proxy: {} route={} agent={} status={} ms={}",
                peer.ip(),
                ctx.route.as_deref().unwrap_or("-"),
                ctx.actor.as_deref().unwrap_or("-"),
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
        ctx: &mut Ctx,
    ) -> Result<Resp, Refusal> {
        if !net::allowed(&self.allow, peer.ip()) {
            return Err((
                StatusCode::FORBIDDEN,
                Fault::Permission,
                "source_not_allowed",
                "source address not allowed",
            ));
        }
        let path = req.uri().path().to_string();
        if path == "/healthz" {
            return Ok(Response::new(
                Full::new(Bytes::from_static(b"ok\n"))
                    .map_err(|n| match n {})
                    .boxed(),
            ));
        }
        let Some((name, rest)) = routes::split_path(&path) else {
            return Err((
                StatusCode::NOT_FOUND,
                Fault::NotFound,
                "path_unknown",
                "use /proxy/<route>/...",
            ));
        };
        let config = self.config();
        let rs = config.routes.get(name);
        ctx.kind = rs.map(|r| r.route.kind);
        // The agent's token, before anything about the route is revealed.
        let Ok(tokens) = self.tokens.get(false) else {
            return Err((
                StatusCode::SERVICE_UNAVAILABLE,
                Fault::Unavailable,
                "tokens_unreadable",
                "the proxy tokens file cannot be used",
            ));
        };
        let presented = match tokens::presented(req.headers(), req.uri().query()) {
            tokens::Presented::One(t) => t,
            tokens::Presented::None => return Err((
                StatusCode::UNAUTHORIZED,
                Fault::Auth,
                "token_missing",
                "no proxy token: use the token from `keycustody proxy token issue` as the API key",
            )),
            tokens::Presented::Conflicting | tokens::Presented::Malformed => {
                return Err((
                    StatusCode::UNAUTHORIZED,
                    Fault::Auth,
                    "token_malformed",
                    "malformed or conflicting proxy credentials",
                ))
            }
        };
        let entry = match keycustody::parse_api_key(presented) {
            Ok(k) if k.prefix() == tokens::PREFIX => tokens.by_hash(&k.hash()),
            _ => {
                return Err((
                    StatusCode::UNAUTHORIZED,
                    Fault::Auth,
                    "token_malformed",
                    "malformed proxy token",
                ))
            }
        };
        let Some(entry) = entry else {
            return Err((
                StatusCode::UNAUTHORIZED,
                Fault::Auth,
                "token_unknown",
                "unknown or revoked proxy token",
            ));
        };
        ctx.actor = Some(entry.agent.clone());
        let Some(rs) = rs else {
            return Err((
                StatusCode::NOT_FOUND,
                Fault::NotFound,
                "route_unknown",
                "unknown route",
            ));
        };
        ctx.route = Some(name.to_string());
        if !entry.routes.iter().any(|r| r == name) {
            return Err((
                StatusCode::FORBIDDEN,
                Fault::Permission,
                "route_not_granted",
                "this proxy token is not granted this route",
            ));
        }
        if routes::has_dot_segment(rest) {
            return Err((
                StatusCode::BAD_REQUEST,
                Fault::Invalid,
                "dot_segment",
                "dot segments are not allowed in the path",
            ));
        }
        let now = self.origin.elapsed().as_secs_f64();
        let limited = match rs.bucket.lock() {
            Ok(mut b) => b.take_at(now),
            Err(p) => p.into_inner().take_at(now),
        };
        if let Err(wait) = limited {
            self.recorder.refused(
                peer.ip(),
                "rate_limited",
                ctx.route.as_deref(),
                ctx.actor.as_deref(),
            );
            let mut r = error_response(
                ctx.kind,
                StatusCode::TOO_MANY_REQUESTS,
                Fault::RateLimit,
                "rate limit exceeded for this route",
            );
            let secs = wait.ceil().max(1.0).to_string();
            if let Ok(v) = hyper::header::HeaderValue::from_str(&secs) {
                r.headers_mut().insert(hyper::header::RETRY_AFTER, v);
            }
            return Ok(r);
        }
        if let Some(len) = req
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
        {
            if len > self.max_body {
                return Err((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    Fault::TooLarge,
                    "body_too_large",
                    "request body exceeds the limit",
                ));
            }
        }
        let key = match config.keys.get(&rs.route.secret) {
            Ok(k) => k,
            Err(keys::KeyError::Missing) => {
                return Err((
                    StatusCode::BAD_GATEWAY,
                    Fault::Upstream,
                    "key_missing",
                    "the vault holds no key for this route",
                ))
            }
            Err(keys::KeyError::Unusable) => {
                return Err((
                    StatusCode::BAD_GATEWAY,
                    Fault::Upstream,
                    "key_unusable",
                    "the key for this route cannot be sent in a header",
                ))
            }
            Err(keys::KeyError::VaultUnreadable) => {
                return Err((
                    StatusCode::SERVICE_UNAVAILABLE,
                    Fault::Unavailable,
                    "vault_unreadable",
                    "the vault could not be read",
                ))
            }
        };
        let Ok(uri) = rs.route.upstream_uri(rest, req.uri().query()) else {
            return Err((
                StatusCode::BAD_REQUEST,
                Fault::Invalid,
                "bad_path",
                "bad request path",
            ));
        };
        let (mut parts, incoming) = req.into_parts();
        parts.uri = uri;
        parts.version = hyper::Version::HTTP_11;
        headers::rewrite_request(&mut parts.headers, rs.route.kind, &key);
        drop(key);
        let recorded = self
            .recorder
            .key_use(ProxyEvent::KeyUse {
                secret: rs.route.secret.clone(),
                route: name.to_string(),
                actor: ctx.actor.clone(),
            })
            .await;
        if !recorded {
            return Ok(error_response(
                ctx.kind,
                StatusCode::SERVICE_UNAVAILABLE,
                Fault::Unavailable,
                "the audit log could not be written; the request was not sent upstream",
            ));
        }
        let (body, ended) = Guarded::request(incoming, self.max_body, self.body_timeout);
        let up_req = Request::from_parts(parts, body);
        let upstream_timeout = self.upstream_timeout;
        let deadline = async move {
            // Counted from the end of the request body (or from its failure).
            let _ = ended.await;
            tokio::time::sleep(upstream_timeout).await;
        };
        let res = tokio::select! {
            r = self.client.request(up_req) => Ok(r),
            () = deadline => Err(()),
        };
        match res {
            Err(()) => Err((
                StatusCode::GATEWAY_TIMEOUT,
                Fault::Upstream,
                "upstream_timeout",
                "upstream did not answer in time",
            )),
            Ok(Err(e)) => match find_guard_error(&e) {
                Some(GuardError::TooLarge) => Err((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    Fault::TooLarge,
                    "body_too_large",
                    "request body exceeds the limit",
                )),
                Some(GuardError::Idle) => Err((
                    StatusCode::REQUEST_TIMEOUT,
                    Fault::Timeout,
                    "body_timeout",
                    "request body idle too long",
                )),
                Some(GuardError::Broken) => Err((
                    StatusCode::BAD_REQUEST,
                    Fault::Invalid,
                    "body_malformed",
                    "the request body is malformed (bad chunked encoding) or was cut off",
                )),
                None => Err((
                    StatusCode::BAD_GATEWAY,
                    Fault::Upstream,
                    "upstream_failed",
                    "upstream connection failed",
                )),
            },
            Ok(Ok(resp)) => {
                let (mut parts, body) = resp.into_parts();
                headers::strip_hop_by_hop(&mut parts.headers);
                let body = Guarded::new(body, u64::MAX, self.idle_timeout).boxed();
                Ok(Response::from_parts(parts, body))
            }
        }
    }

    /// SIGHUP: re-reads the routes file (and the vault keys it needs) and the
    /// tokens file; on error the running configuration stays.
    fn reload(&self) {
        let old = self.config();
        match load_config(&self.routes_path, &self.loc, Some(&old)) {
            Ok((c, _)) => {
                let n = c.routes.len();
                match self.config.write() {
                    Ok(mut g) => *g = Arc::new(c),
                    Err(p) => *p.into_inner() = Arc::new(c),
                }
                eprintln!("keycustody proxy: reloaded {n} routes");
            }
            Err(e) => eprintln!("keycustody proxy: reload failed, keeping the running routes: {e}"),
        }
        if let Ok(t) = self.tokens.get(true) {
            warn_token_routes(&t, &self.config());
        }
    }
}

/// (status, body fault, audit reason code, message).
type Refusal = (StatusCode, Fault, &'static str, &'static str);

fn warn_token_routes(t: &tokens::Tokens, c: &Config) {
    for (agent, r) in t.unknown_routes(&|r| c.routes.contains_key(r)) {
        eprintln!("keycustody proxy: warning: agent {agent}'s token names route {r:?}, which the routes file does not define");
    }
}

fn is_loopback_host(authority: &str) -> bool {
    let host = match authority.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn load_config(
    path: &std::path::Path,
    loc: &Location,
    old: Option<&Config>,
) -> Result<(Config, crate::vault::Vault), VmError> {
    tokens::check_private(path, "routes file", true).map_err(VmError::Usage)?;
    let text = crate::vault::fsutil::read_limited(path, routes::MAX_ROUTES_FILE)
        .map_err(|e| VmError::Usage(format!("cannot read routes file {}: {e}", path.display())))?;
    let text =
        String::from_utf8(text).map_err(|_| VmError::Usage("routes file is not UTF-8".into()))?;
    let parsed = routes::parse(&text).map_err(VmError::Usage)?;
    for (n, r) in &parsed {
        if r.scheme == "http" && !is_loopback_host(&r.authority) {
            eprintln!("keycustody proxy: warning: route {n} sends its key over plain http:// to a non-loopback host");
        }
    }
    let mut names: Vec<String> = parsed.values().map(|r| r.secret.clone()).collect();
    names.sort();
    names.dedup();
    let (keys, vault) = keys::KeyStore::open(loc.clone(), names.clone())?;
    for n in &names {
        if keys.get(n).is_err() {
            eprintln!("keycustody proxy: warning: vault secret {n} is missing or unusable; its routes answer 502");
        }
    }
    let routes = parsed
        .into_iter()
        .map(|(n, r)| {
            let bucket = old
                .and_then(|o| o.routes.get(&n))
                .filter(|o| o.route.burst == r.burst && o.route.per_second == r.per_second)
                .map_or_else(
                    || Arc::new(Mutex::new(bucket::Bucket::new(r.burst, r.per_second, 0.0))),
                    |o| Arc::clone(&o.bucket),
                );
            (n, RouteState { route: r, bucket })
        })
        .collect();
    Ok((Config { routes, keys }, vault))
}

fn build(args: &ServeArgs, loc: Location, routes_path: PathBuf) -> Result<State, VmError> {
    let mut allow = Vec::new();
    for a in &args.allow {
        let c = a.parse::<net::Cidr>().map_err(VmError::Usage)?;
        if c.prefix() == 0 {
            eprintln!("keycustody proxy: warning: --allow {a} admits every source address; the tokens are the only check");
        }
        allow.push(c);
    }
    if args.max_body == 0
        || args.upstream_timeout == 0
        || args.idle_timeout == 0
        || args.body_timeout == 0
        || args.header_timeout == 0
        || args.max_headers == 0
    {
        return Err(VmError::Usage(
            "limits and timeouts must be positive".into(),
        ));
    }
    if args.max_header_bytes < 8192 {
        return Err(VmError::Usage(
            "--max-header-bytes must be at least 8192".into(),
        ));
    }
    let ip = args.listen.ip();
    if ip.is_loopback()
        && !net::allowed(&allow, IpAddr::from([127, 0, 0, 1]))
        && !net::allowed(&allow, IpAddr::from(std::net::Ipv6Addr::LOCALHOST))
    {
        return Err(VmError::Usage(format!(
            "this configuration can never serve: --listen {} accepts only loopback clients, but no --allow block contains a loopback address (default 172.16.0.0/12), so every request would get 403; listen on the bridge address (e.g. --listen 172.17.0.1:3101) or add --allow 127.0.0.1/32",
            args.listen
        )));
    }
    let (config, vault) = load_config(&routes_path, &loc, None)?;
    let tokens_path = admin::tokens_path(&routes_path, args.tokens.as_deref());
    let tokens = tokens::TokenStore::open(tokens_path).map_err(VmError::Usage)?;
    if let Ok(t) = tokens.get(false) {
        if t.entries().is_empty() {
            eprintln!(
                "keycustody proxy: warning: no proxy tokens in {}: every request gets 401 until `keycustody proxy token issue` adds one",
                tokens.path().display()
            );
        }
        warn_token_routes(&t, &config);
    }
    if args.audit_sync_interval > 10_000 {
        return Err(VmError::Usage(
            "--audit-sync-interval is at most 10000 ms".into(),
        ));
    }
    let log = crate::vm::log::Appender::new(
        vault.audit_log(&loc),
        Duration::from_millis(args.audit_sync_interval),
    );
    let recorder = Recorder::start(
        move |batch: &[ProxyEvent]| record::append_batch(&log, batch),
        Duration::from_secs(args.refused_window.max(1)),
        args.audit_fail_open,
    );
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
    Ok(State {
        config: RwLock::new(Arc::new(config)),
        tokens,
        allow,
        client,
        recorder,
        max_body: args.max_body,
        upstream_timeout: Duration::from_secs(args.upstream_timeout),
        idle_timeout: Duration::from_secs(args.idle_timeout),
        body_timeout: Duration::from_secs(args.body_timeout),
        access_log: args.access_log,
        origin: Instant::now(),
        routes_path,
        loc,
    })
}

struct ConnLimits {
    header_timeout: Duration,
    max_headers: usize,
    max_header_bytes: usize,
}

async fn serve(
    state: Arc<State>,
    listener: tokio::net::TcpListener,
    limits: ConnLimits,
    grace: Duration,
) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let limits = Arc::new(limits);
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(_) => { tokio::time::sleep(Duration::from_millis(10)).await; continue; }
            },
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            _ = hup.recv() => {
                let st = Arc::clone(&state);
                let _ = tokio::task::spawn_blocking(move || st.reload()).await;
                continue;
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
        };
        let _ = stream.set_nodelay(true);
        let st = Arc::clone(&state);
        let audit = Arc::clone(&state);
        let limits = Arc::clone(&limits);
        let mut stop = stop_rx.clone();
        conns.spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let st = Arc::clone(&st);
                async move { Ok::<_, std::convert::Infallible>(st.handle(req, peer).await) }
            });
            let mut b = hyper::server::conn::http1::Builder::new();
            b.timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .max_headers(limits.max_headers)
                .max_buf_size(limits.max_header_bytes);
            let conn = b.serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            let finished = tokio::select! {
                r = conn.as_mut() => Some(r),
                _ = stop.wait_for(|s| *s) => None,
            };
            let res = match finished {
                Some(r) => r,
                None => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            // A request head hyper refused itself (414, 431, 400) never reached
            // `handle`: it is audited here, aggregated like the other refusals.
            if let Some(reason) = res.err().as_ref().and_then(head_refusal) {
                audit.recorder.refused(peer.ip(), reason, None, None);
            }
        });
    }
    // Drain: new connections are refused (the listener is closed), in-flight
    // requests and streams get `grace` to finish.
    drop(listener);
    eprintln!(
        "keycustody proxy: stopping: draining {} connection(s) for up to {} s",
        conns.len(),
        grace.as_secs()
    );
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} })
        .await
        .is_ok();
    if !drained {
        eprintln!(
            "keycustody proxy: grace period over: closing {} connection(s)",
            conns.len()
        );
        conns.abort_all();
    }
    Ok(())
}

/// The audit reason of a request head that hyper refused before the proxy saw it:
/// `uri_too_long` (hyper answered 414), `headers_too_large` (431: more than
/// `--max-headers`, or over `--max-header-bytes`), `head_malformed` (400); `None` for
/// other connection errors (resets, timeouts, ...), which are no refusals.
fn head_refusal(e: &hyper::Error) -> Option<&'static str> {
    if e.is_parse_too_large() {
        // hyper tells the two apart only in its message ("URI too long").
        Some(if e.to_string().contains("URI") {
            "uri_too_long"
        } else {
            "headers_too_large"
        })
    } else if e.is_parse() && !e.is_parse_status() && !e.is_parse_version_h2() {
        Some("head_malformed")
    } else {
        None
    }
}

/// Runs the proxy until SIGINT/SIGTERM, or a token subcommand.
///
/// # Errors
/// Never in practice: errors are reported and turned into an exit code.
pub fn run(a: Args) -> Result<ExitCode, keycustody::Error> {
    match a.command {
        Some(Sub::Token(c)) => crate::vault::finish(admin::run(c)),
        None => crate::vault::finish(run_inner(a.serve)),
    }
}

fn run_inner(a: ServeArgs) -> Result<ExitCode, VmError> {
    let (Some(vault), Some(routes)) = (a.vault.clone(), a.routes.clone()) else {
        return Err(VmError::Usage(
            "proxy: --vault and --routes are required to run the proxy (or use `proxy token ...`)"
                .into(),
        ));
    };
    let loc = Location {
        vault,
        key: a.key.clone(),
        audit: a.audit.clone(),
    };
    let state = build(&a, loc, routes)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(a.threads.max(1))
        .enable_all()
        .build()?;
    let state = Arc::new(state);
    let limits = ConnLimits {
        header_timeout: Duration::from_secs(a.header_timeout),
        max_headers: a.max_headers,
        max_header_bytes: a.max_header_bytes,
    };
    let res = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(a.listen).await?;
        let addr = listener.local_addr()?;
        eprintln!("keycustody proxy: listening on {addr}");
        serve(
            Arc::clone(&state),
            listener,
            limits,
            Duration::from_secs(a.grace),
        )
        .await
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    // Writes the pending refusal counts and waits for the audit thread.
    state.recorder.close();
    res?;
    Ok(ExitCode::SUCCESS)
}

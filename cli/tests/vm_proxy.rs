//! End-to-end tests of `keycustody proxy` on loopback, against a mock upstream
//! (in this process) that records what it receives.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, Notify};

const BIN: &str = env!("CARGO_BIN_EXE_keycustody");
const REAL_OPENAI: &str = "sk-real-openai-0123456789";
const REAL_ANTHROPIC: &str = "sk-ant-real-abcdef";

#[derive(Debug, Clone, Default)]
struct Seen {
    path: String,
    authorization: Option<String>,
    x_api_key: Option<String>,
    x_goog_api_key: Option<String>,
    cookie: Option<String>,
    body_len: usize,
}

#[derive(Clone, Default)]
struct Mock {
    seen: Arc<Mutex<Vec<Seen>>>,
    sse_go: Arc<Notify>,
}

type MockBody = http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>;

async fn mock_handle(
    m: Mock,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, std::convert::Infallible> {
    let h = |n: &str| {
        req.headers()
            .get(n)
            .map(|v| v.to_str().unwrap_or("").to_string())
    };
    let mut seen = Seen {
        path: req
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        authorization: h("authorization"),
        x_api_key: h("x-api-key"),
        x_goog_api_key: h("x-goog-api-key"),
        cookie: h("cookie"),
        body_len: 0,
    };
    let path = req.uri().path().to_string();
    if path == "/hang" {
        m.seen.lock().unwrap().push(seen.clone());
        std::future::pending::<()>().await;
    }
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    seen.body_len = body.len();
    m.seen.lock().unwrap().push(seen);
    if path == "/slow6" {
        // Six events, 300 ms apart: a stream that is still running when the
        // proxy is told to stop or reload.
        let (tx, rx) = mpsc::channel::<Bytes>(8);
        tokio::spawn(async move {
            for i in 1..=6 {
                if tx
                    .send(Bytes::from(format!("data: {i}\n\n")))
                    .await
                    .is_err()
                {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            }
        });
        let mut r = Response::new(ChanBody(rx).boxed());
        r.headers_mut()
            .insert("content-type", "text/event-stream".parse().unwrap());
        return Ok(r);
    }
    if path == "/sse" {
        let (tx, rx) = mpsc::channel::<Bytes>(4);
        let go = m.sse_go.clone();
        tokio::spawn(async move {
            let _ = tx.send(Bytes::from_static(b"data: one\n\n")).await;
            go.notified().await;
            let _ = tx.send(Bytes::from_static(b"data: two\n\n")).await;
        });
        let mut r = Response::new(ChanBody(rx).boxed());
        r.headers_mut()
            .insert("content-type", "text/event-stream".parse().unwrap());
        return Ok(r);
    }
    Ok(Response::new(
        Full::new(Bytes::from_static(b"{\"ok\":true}")).boxed(),
    ))
}

/// A body fed from a channel, frame by frame.
struct ChanBody(mpsc::Receiver<Bytes>);
impl hyper::body::Body for ChanBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

async fn start_mock(m: Mock) -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else {
                continue;
            };
            let m = m.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |r| mock_handle(m.clone(), r));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    addr
}

/// An upstream that accepts and immediately resets every connection.
async fn start_resetter() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            if let Ok((s, _)) = l.accept().await {
                let s = s.into_std().unwrap();
                drop(s);
            }
        }
    });
    addr
}

/// The proxy's process, killed when dropped unless it was already waited for: a test that
/// fails before `stop` leaves no proxy running.
struct ProxyChild(Child);

impl Drop for ProxyChild {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl std::ops::Deref for ProxyChild {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for ProxyChild {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

struct Proxy {
    child: ProxyChild,
    addr: SocketAddr,
    dir: tempfile::TempDir,
    stderr: Arc<Mutex<String>>,
    /// A token granted every route of the routes file (agent `agent-all`).
    token: String,
}

impl Proxy {
    fn vault(&self) -> PathBuf {
        self.dir.path().join("vault.json")
    }

    fn vault_set(&self, name: &str, value: &str) {
        vault_set(&self.vault(), name, value);
    }

    fn routes(&self) -> PathBuf {
        self.dir.path().join("routes.json")
    }

    fn issue(&self, agent: &str, routes: &[&str]) -> String {
        issue_token(&self.routes(), agent, routes)
    }

    fn token_cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .args(["proxy", "token"])
            .args(args)
            .arg("--routes")
            .arg(self.routes())
            .output()
            .unwrap()
    }

    fn signal(&self, sig: &str) {
        assert!(Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success());
    }

    fn stop(mut self) -> (String, tempfile::TempDir) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let s = self.stderr.lock().unwrap().clone();
        (s, self.dir)
    }
}

fn vault_set(vault: &Path, name: &str, value: &str) {
    let mut c = Command::new(BIN)
        .args(["vault", "set", name, "--vault"])
        .arg(vault)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    if let Err(e) = c.stdin.take().unwrap().write_all(value.as_bytes()) {
        // A command that fails before reading stdin closes the pipe early.
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
    }
    assert!(c.wait().unwrap().success());
}

fn audit_show(vault: &Path) -> String {
    let out = Command::new(BIN)
        .args(["audit", "show", "--vault"])
        .arg(vault)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `keycustody proxy token issue`: returns the token printed once on stdout.
fn issue_token(routes_file: &Path, agent: &str, routes: &[&str]) -> String {
    let mut c = Command::new(BIN);
    c.args(["proxy", "token", "issue", "--agent", agent, "--routes"])
        .arg(routes_file);
    for r in routes {
        c.args(["--route", r]);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("kcp_"), "{token}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&token));
    token
}

fn start_proxy(routes: &str, extra: &[&str]) -> Proxy {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault.json");
    assert!(Command::new(BIN)
        .args(["vault", "init", "--id", "vm-proxy", "--vault"])
        .arg(&vault)
        .status()
        .unwrap()
        .success());
    vault_set(&vault, "OPENAI_API_KEY", REAL_OPENAI);
    vault_set(&vault, "ANTHROPIC_API_KEY", REAL_ANTHROPIC);
    vault_set(&vault, "GOOGLE_API_KEY", "AIza-real-google");
    let rf = dir.path().join("routes.json");
    std::fs::write(&rf, routes).unwrap();
    let all: serde_json::Value = serde_json::from_str(routes).unwrap();
    let names: Vec<&str> = all["routes"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let token = issue_token(&rf, "agent-all", &names);
    let mut child = Command::new(BIN)
        .args([
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--allow",
            "127.0.0.1/32",
            "--vault",
        ])
        .arg(&vault)
        .arg("--routes")
        .arg(&rf)
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut r = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let mut before = String::new();
    let addr = loop {
        line.clear();
        assert!(
            r.read_line(&mut line).unwrap() > 0,
            "proxy exited before listening"
        );
        before.push_str(&line);
        if let Some(a) = line.trim().strip_prefix("keycustody proxy: listening on ") {
            break a.parse().unwrap();
        }
    };
    let stderr = Arc::new(Mutex::new(before));
    let s2 = stderr.clone();
    std::thread::spawn(move || {
        let mut l = String::new();
        while r.read_line(&mut l).unwrap_or(0) > 0 {
            s2.lock().unwrap().push_str(&l);
            l.clear();
        }
    });
    Proxy {
        child: ProxyChild(child),
        addr,
        dir,
        stderr,
        token,
    }
}

fn routes_for(up: SocketAddr, reset: SocketAddr) -> String {
    format!(
        r#"{{"routes": {{
        "openai": {{"upstream": "http://{up}", "kind": "openai", "secret": "OPENAI_API_KEY"}},
        "anthropic": {{"upstream": "http://{up}", "kind": "anthropic", "secret": "ANTHROPIC_API_KEY"}},
        "google": {{"upstream": "http://{up}/v1beta", "kind": "google", "secret": "GOOGLE_API_KEY"}},
        "nokey": {{"upstream": "http://{up}", "kind": "openai", "secret": "NOT_IN_VAULT"}},
        "limited": {{"upstream": "http://{up}", "kind": "openai", "secret": "OPENAI_API_KEY", "burst": 2, "per_second": 0.001}},
        "reset": {{"upstream": "http://{reset}", "kind": "openai", "secret": "OPENAI_API_KEY"}}
    }}}}"#
    )
}

type TestClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

fn client() -> TestClient {
    hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http()
}

async fn send(
    c: &TestClient,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &'static [u8],
) -> (u16, String) {
    let mut b = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = c
        .request(b.body(Full::new(Bytes::from_static(body))).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// `send` with the proxy's all-routes token as a Bearer key, unless `headers`
/// already carry a credential.
async fn sendp(
    c: &TestClient,
    p: &Proxy,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &'static [u8],
) -> (u16, String) {
    let bearer = format!("Bearer {}", p.token);
    let mut h: Vec<(&str, &str)> = headers.to_vec();
    if !h
        .iter()
        .any(|(k, _)| ["authorization", "x-api-key", "x-goog-api-key"].contains(k))
    {
        h.push(("authorization", &bearer));
    }
    send(c, p.addr, method, path, &h, body).await
}

/// A POST to the proxy at `path` carrying its all-routes token as a Bearer key (the body is
/// the caller's).
fn post_with_token(p: &Proxy, path: &str) -> hyper::http::request::Builder {
    Request::builder()
        .method("POST")
        .uri(format!("http://{}{path}", p.addr))
        .header("authorization", format!("Bearer {}", p.token))
}

/// `post_with_token` with the body `{}`, answered 200: the response body, not read yet (a
/// stream).
async fn open_stream(c: &TestClient, p: &Proxy, path: &str) -> Incoming {
    let resp = c
        .request(
            post_with_token(p, path)
                .body(Full::new(Bytes::from_static(b"{}")))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.into_body()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injects_real_keys_strips_client_auth_and_rotates() {
    let mock = Mock::default();
    let up = start_mock(mock.clone()).await;
    let p = start_proxy(&routes_for(up, up), &[]);
    let c = client();
    // The SDKs send the agent's proxy token where they put their API key.
    let bearer = format!("Bearer {}", p.token);
    let client_auth = [
        ("authorization", bearer.as_str()),
        ("x-api-key", p.token.as_str()),
        ("x-goog-api-key", p.token.as_str()),
        ("cookie", "session=1"),
    ];
    let (s, body) = sendp(
        &c,
        &p,
        "POST",
        "/proxy/openai/v1/chat/completions?x=1",
        &client_auth,
        b"{}",
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert!(!body.contains(REAL_OPENAI));
    let (s, _) = sendp(
        &c,
        &p,
        "POST",
        "/proxy/anthropic/v1/messages",
        &client_auth,
        b"{}",
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = sendp(
        &c,
        &p,
        "POST",
        &format!(
            "/proxy/google/models/g:generateContent?key={}&alt=sse",
            p.token
        ),
        &client_auth,
        b"{}",
    )
    .await;
    assert_eq!(s, 200);
    {
        let seen = mock.seen.lock().unwrap();
        let o = &seen[0];
        assert_eq!(o.path, "/v1/chat/completions?x=1");
        assert_eq!(
            o.authorization.as_deref(),
            Some(&*format!("Bearer {REAL_OPENAI}"))
        );
        assert_eq!(
            (
                o.x_api_key.as_deref(),
                o.x_goog_api_key.as_deref(),
                o.cookie.as_deref()
            ),
            (None, None, None)
        );
        assert_eq!(o.body_len, 2);
        let a = &seen[1];
        assert_eq!(a.x_api_key.as_deref(), Some(REAL_ANTHROPIC));
        assert_eq!(
            (a.authorization.as_deref(), a.x_goog_api_key.as_deref()),
            (None, None)
        );
        let g = &seen[2];
        assert_eq!(g.path, "/v1beta/models/g:generateContent?alt=sse");
        assert_eq!(g.x_goog_api_key.as_deref(), Some("AIza-real-google"));
        assert_eq!(
            (g.authorization.as_deref(), g.x_api_key.as_deref()),
            (None, None)
        );
    }
    // Rotate the key in the vault: the next request uses it, no restart.
    p.vault_set("OPENAI_API_KEY", "sk-rotated-key-2");
    let (s, _) = sendp(&c, &p, "GET", "/proxy/openai/v1/models", &[], b"").await;
    assert_eq!(s, 200);
    assert_eq!(
        mock.seen
            .lock()
            .unwrap()
            .last()
            .unwrap()
            .authorization
            .as_deref(),
        Some("Bearer sk-rotated-key-2")
    );
    let token = p.token.clone();
    let (log, dir) = p.stop();
    for k in [
        token.as_str(),
        REAL_OPENAI,
        REAL_ANTHROPIC,
        "sk-rotated-key-2",
        "AIza-real-google",
    ] {
        assert!(!log.contains(k), "key in proxy log");
    }
    // Each key use is in the audit log (names only), and the chain verifies.
    let vault = dir.path().join("vault.json");
    let out = Command::new(BIN)
        .args(["audit", "show", "--vault"])
        .arg(&vault)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        shown
            .matches("proxy.key_use\tOPENAI_API_KEY\troute=openai")
            .count(),
        2,
        "{shown}"
    );
    assert_eq!(
        shown
            .matches("proxy.key_use\tANTHROPIC_API_KEY\troute=anthropic")
            .count(),
        1
    );
    // The agent's name is the actor of each key use; its token is nowhere.
    assert_eq!(
        shown
            .matches("proxy.key_use\tOPENAI_API_KEY\troute=openai\tactor=agent-all")
            .count(),
        2,
        "{shown}"
    );
    let audit_text = std::fs::read_to_string(dir.path().join("vault.json.audit")).unwrap();
    assert!(!audit_text.contains(REAL_OPENAI) && !audit_text.contains("sk-rotated"));
    assert!(!audit_text.contains(&token) && !shown.contains(&token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_streams_chunk_by_chunk() {
    let mock = Mock::default();
    let up = start_mock(mock.clone()).await;
    let p = start_proxy(&routes_for(up, up), &[]);
    let c = client();
    let mut body = open_stream(&c, &p, "/proxy/openai/sse").await;
    // The first event arrives while the upstream is still holding back the second:
    // nothing is buffered.
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "data: one\n\n");
    mock.sse_go.notify_one();
    let second = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(second, "data: two\n\n");
    assert!(body.frame().await.is_none());
    p.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_outside_allowlist_gets_403() {
    let up = start_mock(Mock::default()).await;
    let p = start_proxy(&routes_for(up, up), &[]);
    // Connect from 127.0.0.2 (allowed: 127.0.0.1/32 only).
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let stream = sock.connect(p.addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::builder()
        .uri("/proxy/openai/v1/models")
        .header("host", "proxy")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 403);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("source address not allowed"));
    assert!(!String::from_utf8_lossy(&body).contains(REAL_OPENAI));
    p.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_statuses() {
    let mock = Mock::default();
    let up = start_mock(mock.clone()).await;
    let reset = start_resetter().await;
    let p = start_proxy(
        &routes_for(up, reset),
        &["--upstream-timeout", "1", "--max-body", "1024"],
    );
    let c = client();
    let cases: [(&str, &str, u16, &str); 6] = [
        ("/proxy/unknown/v1/x", "", 404, "unknown route"),
        ("/elsewhere", "", 404, "use /proxy/<route>/"),
        ("/proxy/nokey/v1/x", "", 502, "no key for this route"),
        ("/proxy/reset/v1/x", "", 502, "upstream connection failed"),
        ("/proxy/openai/hang", "", 504, "did not answer in time"),
        ("/proxy/openai/v1/%2e%2e/admin", "", 400, "dot segments"),
    ];
    for (path, _, status, msg) in cases {
        let (s, body) = sendp(&c, &p, "GET", path, &[], b"").await;
        assert_eq!(s, status, "{path}: {body}");
        assert!(body.contains(msg), "{path}: {body}");
        assert!(!body.contains(REAL_OPENAI));
    }
    // Too large: declared length (e.g. a 10 GB upload) is refused before any byte is read.
    let b = post_with_token(&p, "/proxy/openai/upload").header("content-length", "10737418240");
    let stream = tokio::net::TcpStream::connect(p.addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let (tx, rx) = mpsc::channel::<Bytes>(1);
    let req = b.header("host", "p").body(ChanBody(rx)).unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 413);
    drop(tx);
    // A chunked body that grows past the limit is cut off with 413 too.
    let big: &'static [u8] = Box::leak(vec![b'x'; 4096].into_boxed_slice());
    let req = post_with_token(&p, "/proxy/openai/upload")
        .body(ChanBody({
            let (tx, rx) = mpsc::channel::<Bytes>(8);
            tokio::spawn(async move {
                for _ in 0..4 {
                    if tx.send(Bytes::from_static(&big[..1024])).await.is_err() {
                        break;
                    }
                }
            });
            rx
        }))
        .unwrap();
    let c2: hyper_util::client::legacy::Client<_, ChanBody> =
        hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
    let resp = c2.request(req).await.unwrap();
    assert_eq!(resp.status(), 413);
    // Rate limit: burst 2, then 429 with Retry-After.
    assert_eq!(
        sendp(&c, &p, "GET", "/proxy/limited/a", &[], b"").await.0,
        200
    );
    assert_eq!(
        sendp(&c, &p, "GET", "/proxy/limited/a", &[], b"").await.0,
        200
    );
    let (s, body) = sendp(&c, &p, "GET", "/proxy/limited/a", &[], b"").await;
    assert_eq!(s, 429, "{body}");
    // Health check.
    assert_eq!(sendp(&c, &p, "GET", "/healthz", &[], b"").await.0, 200);
    // A vault tampered with while the proxy runs: 503, and no key goes out.
    let before = mock.seen.lock().unwrap().len();
    let text = std::fs::read_to_string(p.vault()).unwrap();
    let tampered = text.replace("\"mac\": \"", "\"mac\": \"00");
    assert_ne!(text, tampered);
    std::fs::write(p.vault(), tampered).unwrap();
    let (s, body) = sendp(&c, &p, "GET", "/proxy/openai/v1/models", &[], b"").await;
    assert_eq!(s, 503, "{body}");
    assert!(body.contains("vault could not be read"));
    assert_eq!(mock.seen.lock().unwrap().len(), before);
    let (log, _) = p.stop();
    assert!(!log.contains(REAL_OPENAI));
    assert!(
        log.contains("route=unknown") || log.contains("route=-"),
        "{log}"
    );
}

#[test]
fn bad_configuration_is_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault.json");
    assert!(Command::new(BIN)
        .args(["vault", "init", "--vault"])
        .arg(&vault)
        .status()
        .unwrap()
        .success());
    let rf = dir.path().join("routes.json");
    let run = |routes: &str, extra: &[&str]| {
        std::fs::write(&rf, routes).unwrap();
        Command::new(BIN)
            .args(["proxy", "--listen", "127.0.0.1:0", "--vault"])
            .arg(&vault)
            .arg("--routes")
            .arg(&rf)
            .args(extra)
            .output()
            .unwrap()
    };
    let lo = ["--allow", "127.0.0.1/32"];
    let good =
        r#"{"routes": {"a": {"upstream": "http://127.0.0.1:9", "kind": "openai", "secret": "K"}}}"#;
    let o = run("{not json", &lo);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("routes file is not valid"));
    let o = run(good, &["--allow", "10.0.0.0/33"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a CIDR block"));
    // Fails on the code before this change (it started and answered 403 to
    // everything): loopback listener, default --allow 172.16.0.0/12.
    let o = run(good, &[]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("can never serve") && e.contains("--allow 127.0.0.1/32"),
        "{e}"
    );
    // An unknown provider kind names the route.
    let o = run(
        r#"{"routes": {"a": {"upstream": "http://127.0.0.1:9", "kind": "cohere-ish", "secret": "K"}}}"#,
        &lo,
    );
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("route \"a\": unknown kind"), "{e}");
    // A routes file writable by group or others is refused.
    std::fs::write(&rf, good).unwrap();
    std::fs::set_permissions(&rf, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    let o = Command::new(BIN)
        .args([
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--allow",
            "127.0.0.1/32",
            "--vault",
        ])
        .arg(&vault)
        .arg("--routes")
        .arg(&rf)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("routes file") && e.contains("mode 666"), "{e}");
    std::fs::set_permissions(&rf, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    // A tokens file readable by others is refused, naming the file.
    let tf = dir.path().join("routes.json.tokens");
    std::fs::write(&tf, r#"{"v":1,"tokens":[]}"#).unwrap();
    std::fs::set_permissions(&tf, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let o = run(good, &lo);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("tokens file") && e.contains("mode 644"), "{e}");
    std::fs::remove_file(&tf).unwrap();
    // A tampered vault: refused at startup with exit 3.
    let text = std::fs::read_to_string(&vault).unwrap();
    std::fs::write(&vault, text.replace("\"vault-", "\"vaulx-")).unwrap();
    let o = run(good, &lo);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_agent_tokens_unknown_revoked_wrong_route_right_route() {
    let mock = Mock::default();
    let up = start_mock(mock.clone()).await;
    let p = start_proxy(&routes_for(up, up), &["--refused-window", "3600"]);
    let c = client();
    let a = p.issue("agent-a", &["openai"]);
    let b = p.issue("agent-b", &["openai", "anthropic"]);
    let unknown = keycustody::generate_api_key("kcp").unwrap();
    let unknown = unknown.key.expose_secret().to_string();
    let bearer = |t: &str| format!("Bearer {t}");
    // Right route: through, with the real key and the agent as actor.
    let (s, body) = send(
        &c,
        p.addr,
        "POST",
        "/proxy/openai/v1/chat/completions",
        &[("authorization", &bearer(&a))],
        b"{}",
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = send(
        &c,
        p.addr,
        "POST",
        "/proxy/anthropic/v1/messages",
        &[("x-api-key", &b)],
        b"{}",
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let through = mock.seen.lock().unwrap().len();
    assert_eq!(through, 2);
    // Wrong route: 403 in the route's provider's shape (Anthropic, Google).
    let (s, body) = send(
        &c,
        p.addr,
        "POST",
        "/proxy/anthropic/v1/messages",
        &[("x-api-key", &a)],
        b"{}",
    )
    .await;
    assert_eq!(s, 403, "{body}");
    let v = json(&body);
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "permission_error");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not granted"));
    let path = format!("/proxy/google/models/g:generateContent?key={a}");
    let (s, body) = send(&c, p.addr, "POST", &path, &[], b"{}").await;
    assert_eq!(s, 403, "{body}");
    let v = json(&body);
    assert_eq!(v["error"]["status"], "PERMISSION_DENIED");
    assert_eq!(v["error"]["code"], 403);
    // Unknown (well-formed, never issued), malformed, missing, conflicting: 401,
    // OpenAI-shaped on an OpenAI route.
    for (hdrs, want) in [
        (
            vec![("authorization", bearer(&unknown))],
            "unknown or revoked",
        ),
        (
            vec![("authorization", bearer("proxy-managed"))],
            "malformed",
        ),
        (vec![("x-api-key", "kcp_short".to_string())], "malformed"),
        (vec![], "no proxy token"),
        (
            vec![("authorization", bearer(&a)), ("x-api-key", b.clone())],
            "conflicting",
        ),
    ] {
        let h: Vec<(&str, &str)> = hdrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, body) = send(&c, p.addr, "POST", "/proxy/openai/v1/x", &h, b"{}").await;
        assert_eq!(s, 401, "{body}");
        let v = json(&body);
        assert_eq!(v["error"]["code"], "invalid_api_key", "{body}");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(want),
            "{body}"
        );
        for t in [&a, &b, &unknown] {
            assert!(!body.contains(t.as_str()));
        }
    }
    // A route that does not exist, with a valid token: 404.
    let (s, _) = send(
        &c,
        p.addr,
        "GET",
        "/proxy/nope/v1/x",
        &[("authorization", &bearer(&a))],
        b"",
    )
    .await;
    assert_eq!(s, 404);
    // The listing shows hints, never a token.
    let o = p.token_cmd(&["list"]);
    assert!(o.status.success());
    let listed = String::from_utf8(o.stdout).unwrap();
    assert!(listed.contains("agent-a\tkcp_") && listed.contains("agent-b\tkcp_"));
    assert!(!listed.contains(&a) && !listed.contains(&b));
    // Revoked: the very next request is refused.
    let o = p.token_cmd(&["revoke", "--agent", "agent-b"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (s, body) = send(
        &c,
        p.addr,
        "POST",
        "/proxy/anthropic/v1/messages",
        &[("x-api-key", &b)],
        b"{}",
    )
    .await;
    assert_eq!(s, 401, "{body}");
    assert!(body.contains("unknown or revoked"));
    // agent-a is unaffected.
    let (s, _) = send(
        &c,
        p.addr,
        "GET",
        "/proxy/openai/v1/models",
        &[("authorization", &bearer(&a))],
        b"",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(mock.seen.lock().unwrap().len(), through + 1);
    for seen in mock.seen.lock().unwrap().iter() {
        for t in [&a, &b] {
            assert!(!seen.path.contains(t.as_str()));
            assert!(!seen
                .authorization
                .as_deref()
                .unwrap_or("")
                .contains(t.as_str()));
        }
    }
    let vault = p.vault();
    let tokens_text = std::fs::read_to_string(p.routes().with_extension("json.tokens")).unwrap();
    let (log, dir) = p.stop();
    let shown = audit_show(&vault);
    let audit_text = std::fs::read_to_string(dir.path().join("vault.json.audit")).unwrap();
    for t in [&a, &b, &unknown] {
        for (what, text) in [
            ("proxy log", &log),
            ("audit", &audit_text),
            ("tokens file", &tokens_text),
        ] {
            assert!(!text.contains(t.as_str()), "token in {what}");
        }
    }
    assert_eq!(
        shown
            .matches("proxy.key_use\tOPENAI_API_KEY\troute=openai\tactor=agent-a")
            .count(),
        2,
        "{shown}"
    );
    assert_eq!(
        shown
            .matches("proxy.key_use\tANTHROPIC_API_KEY\troute=anthropic\tactor=agent-b")
            .count(),
        1,
        "{shown}"
    );
    // Refusals are audited too (aggregated), with the agent when it is known.
    assert!(
        shown.contains("proxy.refused\treason=route_not_granted,source=127.0.0.1,count=1\troute=anthropic\tactor=agent-a"),
        "{shown}"
    );
    assert!(
        shown.contains("proxy.refused\treason=token_unknown,source=127.0.0.1,count=2"),
        "{shown}"
    );
    assert!(log.contains("agent=agent-a"), "{log}");
}

#[test]
fn token_commands_refuse_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let rf = dir.path().join("routes.json");
    std::fs::write(
        &rf,
        r#"{"routes": {"openai": {"upstream": "https://api.openai.com", "kind": "openai", "secret": "K"}}}"#,
    )
    .unwrap();
    let tf = dir.path().join("routes.json.tokens");
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(["proxy", "token"])
            .args(args)
            .arg("--routes")
            .arg(&rf)
            .output()
            .unwrap()
    };
    // A route that does not exist: named, nothing written.
    let o = run(&[
        "issue", "--agent", "a", "--route", "openai", "--route", "nope",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("route \"nope\" does not exist"), "{e}");
    assert!(o.stdout.is_empty());
    assert!(!tf.exists());
    // A bad agent name.
    let o = run(&["issue", "--agent", "a b", "--route", "openai"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("agent names"));
    // Issued: the file is 0600 and holds the hash, not the token.
    let o = run(&["issue", "--agent", "a", "--route", "openai"]);
    assert!(o.status.success());
    let token = String::from_utf8(o.stdout).unwrap().trim().to_string();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&tf).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&tf).unwrap();
    assert!(!text.contains(&token));
    assert!(text.contains(&keycustody::hash_api_key(&token).unwrap()));
    // The same agent twice: refused, file unchanged.
    let o = run(&["issue", "--agent", "a", "--route", "openai"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already has a token"));
    assert_eq!(std::fs::read_to_string(&tf).unwrap(), text);
    // Loose permissions: every command refuses, naming the file; nothing written.
    std::fs::set_permissions(&tf, std::fs::Permissions::from_mode(0o640)).unwrap();
    for args in [
        &["issue", "--agent", "b", "--route", "openai"][..],
        &["list"][..],
        &["revoke", "--agent", "a"][..],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains("tokens file") && e.contains("mode 640"), "{e}");
        assert!(!e.contains(&token));
        assert!(o.stdout.is_empty());
    }
    assert_eq!(std::fs::read_to_string(&tf).unwrap(), text);
    // A malformed tokens file: named, no content echoed.
    std::fs::write(&tf, "{\"v\":1,\"tokens\":[{\"agent\":\"a\"}]}").unwrap();
    std::fs::set_permissions(&tf, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = run(&["list"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("tokens file is not valid"));
    // Revoking an agent that has no token.
    std::fs::write(&tf, "{\"v\":1,\"tokens\":[]}").unwrap();
    let o = run(&["revoke", "--agent", "zz"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no token matches"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_failure_fails_closed_unless_fail_open() {
    // Fails on the code before this change: it answered 200 with the key injected
    // and only printed AUDIT APPEND FAILED.
    for fail_open in [false, true] {
        let mock = Mock::default();
        let up = start_mock(mock.clone()).await;
        let extra: &[&str] = if fail_open {
            &["--audit-fail-open"]
        } else {
            &[]
        };
        let p = start_proxy(&routes_for(up, up), extra);
        let c = client();
        let (s, _) = sendp(&c, &p, "GET", "/proxy/openai/v1/models", &[], b"").await;
        assert_eq!(s, 200);
        // The log is truncated under the running proxy.
        std::fs::write(p.dir.path().join("vault.json.audit"), "").unwrap();
        let before = mock.seen.lock().unwrap().len();
        let (s, body) = sendp(&c, &p, "GET", "/proxy/openai/v1/models", &[], b"").await;
        let (log, _) = p.stop();
        assert!(log.contains("AUDIT APPEND FAILED"), "{log}");
        if fail_open {
            assert!(log.contains("WARNING: --audit-fail-open"), "{log}");
            assert_eq!(s, 200, "{body}");
            assert_eq!(mock.seen.lock().unwrap().len(), before + 1);
        } else {
            assert_eq!(s, 503, "{body}");
            let v = json(&body);
            assert_eq!(v["error"]["type"], "server_error");
            assert!(body.contains("audit log could not be written"), "{body}");
            assert_eq!(mock.seen.lock().unwrap().len(), before, "sent upstream");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_flood_writes_a_bounded_number_of_entries() {
    // Fails on the code before this change: refusals were not audited at all.
    let up = start_mock(Mock::default()).await;
    let p = start_proxy(&routes_for(up, up), &["--refused-window", "3600"]);
    let c = client();
    for _ in 0..10_000 {
        let (s, _) = send(&c, p.addr, "GET", "/proxy/openai/v1/models", &[], b"").await;
        assert_eq!(s, 401);
    }
    for _ in 0..50 {
        let (s, _) = send(&c, p.addr, "GET", "/proxy/unknown-route/x", &[], b"").await;
        assert_eq!(s, 401);
        let (s, _) = send(&c, p.addr, "GET", "/nowhere", &[], b"").await;
        assert_eq!(s, 404);
    }
    let vault = p.vault();
    let (_log, _dir) = p.stop();
    let shown = audit_show(&vault);
    let refused: Vec<&str> = shown
        .lines()
        .filter(|l| l.contains("proxy.refused"))
        .collect();
    assert!(refused.len() <= 3, "{shown}");
    assert!(
        refused
            .iter()
            .any(|l| l.contains("reason=token_missing,source=127.0.0.1,count=10050")),
        "{shown}"
    );
    assert!(
        refused
            .iter()
            .any(|l| l.contains("reason=path_unknown,source=127.0.0.1,count=50")),
        "{shown}"
    );
}

/// Reads an SSE response to its end, returning the events' data.
async fn read_events(body: &mut Incoming) -> Vec<String> {
    let mut text = String::new();
    while let Some(f) = body.frame().await {
        let f = f.expect("stream cut");
        if let Ok(d) = f.into_data() {
            text.push_str(&String::from_utf8_lossy(&d));
        }
    }
    text.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(str::to_string)
        .collect()
}

async fn wait_for_log(p: &Proxy, what: &str) {
    for _ in 0..200 {
        if p.stderr.lock().unwrap().contains(what) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("proxy never logged {what:?}: {}", p.stderr.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_streams_and_refuses_new_connections() {
    // Fails on the code before this change: the stream was cut (1-2 of 6 events).
    let up = start_mock(Mock::default()).await;
    let mut p = start_proxy(&routes_for(up, up), &["--grace", "20"]);
    let c = client();
    let mut body = open_stream(&c, &p, "/proxy/openai/slow6").await;
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "data: 1\n\n");
    p.signal("-TERM");
    wait_for_log(&p, "stopping: draining").await;
    // New connections are refused during the drain.
    assert!(tokio::net::TcpStream::connect(p.addr).await.is_err());
    let mut events = vec!["1".to_string()];
    events.extend(read_events(&mut body).await);
    assert_eq!(events, ["1", "2", "3", "4", "5", "6"]);
    assert!(p.child.wait().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_routes_and_tokens_without_dropping_streams() {
    let up = start_mock(Mock::default()).await;
    let p = start_proxy(&routes_for(up, up), &[]);
    let c = client();
    let mut body = open_stream(&c, &p, "/proxy/openai/slow6").await;
    let stream = tokio::spawn(async move { read_events(&mut body).await });
    // Load: requests keep flowing across the reload.
    let load = {
        let c = c.clone();
        let addr = p.addr;
        let bearer = format!("Bearer {}", p.token);
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..40 {
                statuses.push(
                    send(
                        &c,
                        addr,
                        "GET",
                        "/proxy/openai/v1/models",
                        &[("authorization", &bearer)],
                        b"",
                    )
                    .await
                    .0,
                );
            }
            statuses
        })
    };
    // A new route, and a token for it.
    let routes = std::fs::read_to_string(p.routes()).unwrap().replacen(
        "\"routes\": {",
        &format!(
            "\"routes\": {{\"fresh\": {{\"upstream\": \"http://{up}\", \"kind\": \"openai\", \"secret\": \"OPENAI_API_KEY\"}},"
        ),
        1,
    );
    std::fs::write(p.routes(), routes).unwrap();
    let fresh = p.issue("agent-fresh", &["fresh"]);
    let auth = format!("Bearer {fresh}");
    let (s, _) = send(
        &c,
        p.addr,
        "GET",
        "/proxy/fresh/v1/models",
        &[("authorization", &auth)],
        b"",
    )
    .await;
    assert_eq!(s, 404, "before the reload");
    p.signal("-HUP");
    wait_for_log(&p, "reloaded 7 routes").await;
    let (s, body) = send(
        &c,
        p.addr,
        "GET",
        "/proxy/fresh/v1/models",
        &[("authorization", &auth)],
        b"",
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(stream.await.unwrap(), ["1", "2", "3", "4", "5", "6"]);
    assert!(load.await.unwrap().iter().all(|&s| s == 200));
    p.stop();
}

/// A body that sends `n` chunks `gap` apart, then (if `stall`) hangs.
fn slow_body(n: usize, gap: std::time::Duration, stall: bool) -> ChanBody {
    let (tx, rx) = mpsc::channel::<Bytes>(1);
    tokio::spawn(async move {
        for _ in 0..n {
            if tx.send(Bytes::from_static(b"0123456789")).await.is_err() {
                return;
            }
            tokio::time::sleep(gap).await;
        }
        if stall {
            std::future::pending::<()>().await;
        }
        drop(tx);
    });
    ChanBody(rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_count_from_the_end_of_the_body_and_stalls_are_408() {
    let up = start_mock(Mock::default()).await;
    let p = start_proxy(
        &routes_for(up, up),
        &["--upstream-timeout", "1", "--body-timeout", "1"],
    );
    let c2: hyper_util::client::legacy::Client<_, ChanBody> =
        hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
    let req = |body: ChanBody| {
        post_with_token(&p, "/proxy/openai/upload")
            .body(body)
            .unwrap()
    };
    // A slow but active upload (2.4 s) with a 1 s upstream timeout: fails on the
    // code before this change (504: the timeout counted from the start).
    let resp = c2
        .request(req(slow_body(
            6,
            std::time::Duration::from_millis(400),
            false,
        )))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // A stalled body: 408.
    let resp = c2
        .request(req(slow_body(1, std::time::Duration::from_millis(1), true)))
        .await
        .unwrap();
    assert_eq!(resp.status(), 408);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("idle too long"));
    p.stop();
}

async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("no answer")
        .unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_chunks_and_header_limits() {
    let up = start_mock(Mock::default()).await;
    let p = start_proxy(
        &routes_for(up, up),
        &["--max-headers", "20", "--max-header-bytes", "200000"],
    );
    // A chunk size that overflows: 400, not 502 (fails on the code before this change).
    let req = format!(
        "POST /proxy/openai/v1/x HTTP/1.1\r\nhost: p\r\nauthorization: Bearer {}\r\ntransfer-encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFF\r\nx\r\n",
        p.token
    );
    let out = raw(p.addr, req.as_bytes()).await;
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(out.contains("malformed"), "{out}");
    // Too many headers: 431.
    let mut req = String::from("GET /proxy/openai/v1/x HTTP/1.1\r\nhost: p\r\n");
    for i in 0..30 {
        req.push_str(&format!("x-h{i}: 1\r\n"));
    }
    req.push_str("\r\n");
    assert!(raw(p.addr, req.as_bytes())
        .await
        .starts_with("HTTP/1.1 431"));
    // A URI over 64 KiB: 414.
    let req = format!(
        "GET /proxy/openai/{} HTTP/1.1\r\nhost: p\r\n\r\n",
        "a".repeat(70_000)
    );
    assert!(raw(p.addr, req.as_bytes())
        .await
        .starts_with("HTTP/1.1 414"));
    p.stop();
}

fn audit_verify(vault: &Path) -> (bool, String) {
    let out = Command::new(BIN)
        .args(["audit", "verify", "--vault"])
        .arg(vault)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn key_uses(shown: &str) -> usize {
    shown.matches("proxy.key_use\tOPENAI_API_KEY").count()
}

/// The debug build's test hook (cli/src/vm/log.rs): the audit log's fdatasync fails
/// while this file exists.
fn fail_sync_trigger(p: &Proxy) -> PathBuf {
    p.dir.path().join("vault.json.audit.test-fail-sync")
}

/// The seq of the last entry in the audit log and the seq its head file names.
fn log_and_head_seqs(p: &Proxy) -> (u64, Option<u64>) {
    let log = std::fs::read(p.dir.path().join("vault.json.audit")).unwrap();
    let last = log.split(|&b| b == b'\n').rfind(|l| !l.is_empty()).unwrap();
    let last = keycustody::AuditEntry::parse(last).unwrap().seq();
    let head = std::fs::read_to_string(p.dir.path().join("vault.json.audit.head")).ok();
    let head = head.and_then(|t| keycustody::AuditCheckpoint::parse(t.trim_end()).ok());
    (last, head.map(|h| h.seq()))
}

/// Waits until the flusher has synced every entry written so far (the head file names the
/// log's last entry).
async fn wait_until_synced(p: &Proxy) {
    for _ in 0..400 {
        let (last, head) = log_and_head_seqs(p);
        if head == Some(last) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the audit log never synced: {:?}", log_and_head_seqs(p));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_audit_sync_fails_closed_until_the_log_syncs_again() {
    // Fails on the code before this change (no --audit-sync-interval; each key use
    // waited for its own fsync).
    let mock = Mock::default();
    let up = start_mock(mock.clone()).await;
    let p = start_proxy(&routes_for(up, up), &["--audit-sync-interval", "20"]);
    let c = client();
    let (s, _) = sendp(&c, &p, "GET", "/proxy/openai/v1/models", &[], b"").await;
    assert_eq!(s, 200);
    // The first key use's own group commit must be done before syncs start failing (under
    // load the flusher can run after the response: the second request was then refused).
    wait_until_synced(&p).await;
    std::fs::write(fail_sync_trigger(&p), b"").unwrap();
    // The key use is written before it goes upstream; its sync fails a moment later,
    // and from then on key uses are refused, with nothing sent upstream.
    let (s, _) = sendp(&c, &p, "GET", "/proxy/openai/v1/models", &[], b"").await;
    assert_eq!(s, 200);
    wait_for_log(&p, "AUDIT SYNC FAILED").await;
    let before = mock.seen.lock().unwrap().len();
    for _ in 0..3 {
        let (s, body) = sendp(&c, &p, "GET", "/proxy/openai/v1/models", &[], b"").await;
        assert_eq!(s, 503, "{body}");
        assert!(body.contains("audit log could not be written"), "{body}");
    }
    assert_eq!(mock.seen.lock().unwrap().len(), before, "sent upstream");
    // Once the log syncs (and verifies) again, key uses are accepted again.
    std::fs::remove_file(fail_sync_trigger(&p)).unwrap();
    let mut ok = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let (s, _) = sendp(&c, &p, "GET", "/proxy/openai/v1/models", &[], b"").await;
        if s == 200 {
            ok = true;
            break;
        }
        assert_eq!(s, 503);
    }
    assert!(ok, "key uses never resumed");
    let vault = p.vault();
    let (log, _dir) = p.stop();
    assert_eq!(log.matches("AUDIT SYNC FAILED").count(), 1, "{log}");
    assert!(log.contains("audit log syncs again"), "{log}");
    let (ok, err) = audit_verify(&vault);
    assert!(ok, "{err}");
    assert_eq!(key_uses(&audit_show(&vault)), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_sync_interval_zero_syncs_before_forwarding() {
    // Fails on the code before this change (no --audit-sync-interval).
    let mock = Mock::default();
    let up = start_mock(mock.clone()).await;
    let p = start_proxy(&routes_for(up, up), &["--audit-sync-interval", "0"]);
    let c = client();
    let (s, _) = sendp(&c, &p, "GET", "/proxy/openai/v1/models", &[], b"").await;
    assert_eq!(s, 200);
    // Strict mode: the very first key use whose sync fails is refused.
    std::fs::write(fail_sync_trigger(&p), b"").unwrap();
    let before = mock.seen.lock().unwrap().len();
    let (s, body) = sendp(&c, &p, "GET", "/proxy/openai/v1/models", &[], b"").await;
    assert_eq!(s, 503, "{body}");
    assert_eq!(mock.seen.lock().unwrap().len(), before, "sent upstream");
    std::fs::remove_file(fail_sync_trigger(&p)).unwrap();
    p.stop();
    // An out-of-range interval is refused at start.
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args(["proxy", "--audit-sync-interval", "60000", "--vault"])
        .arg(dir.path().join("v.json"))
        .arg("--routes")
        .arg(dir.path().join("r.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_proxy_loses_no_key_use_and_its_log_verifies_ahead_of_its_head() {
    let up = start_mock(Mock::default()).await;
    // A 10 s interval: nothing is synced (or the head written) before the kill.
    let mut p = start_proxy(&routes_for(up, up), &["--audit-sync-interval", "10000"]);
    let vault = p.vault();
    let before = key_uses(&audit_show(&vault));
    let c = client();
    for _ in 0..5 {
        let (s, _) = sendp(&c, &p, "GET", "/proxy/openai/v1/models", &[], b"").await;
        assert_eq!(s, 200);
    }
    p.child.kill().unwrap();
    let _ = p.child.wait();
    let (ok, err) = audit_verify(&vault);
    assert!(ok, "{err}");
    assert!(err.contains("after the head file"), "{err}");
    assert_eq!(key_uses(&audit_show(&vault)), before + 5);
    // The next writer continues the chain on top of it.
    vault_set(&vault, "OTHER", "x");
    let (ok, err) = audit_verify(&vault);
    assert!(ok, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_key_uses_each_get_their_entry_in_one_chain() {
    let mock = Mock::default();
    let up = start_mock(mock.clone()).await;
    let routes = format!(
        r#"{{"routes": {{"openai": {{"upstream": "http://{up}", "kind": "openai", "secret": "OPENAI_API_KEY", "burst": 100000, "per_second": 100000}}}}}}"#
    );
    let p = Arc::new(start_proxy(&routes, &[]));
    let c = client();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (c, p) = (c.clone(), Arc::clone(&p));
            tokio::spawn(async move {
                if i % 50 == 0 {
                    // A vault command appends to the same log meanwhile.
                    let v = p.vault();
                    tokio::task::spawn_blocking(move || {
                        let o = Command::new(BIN)
                            .args(["vault", "list", "--vault"])
                            .arg(v)
                            .output()
                            .unwrap();
                        assert!(o.status.success());
                    })
                    .await
                    .unwrap();
                }
                sendp(&c, &p, "GET", "/proxy/openai/v1/models", &[], b"")
                    .await
                    .0
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let p = Arc::into_inner(p).unwrap();
    let vault = p.vault();
    let (_log, _dir) = p.stop();
    let (ok, err) = audit_verify(&vault);
    assert!(ok, "{err}");
    let shown = audit_show(&vault);
    assert_eq!(key_uses(&shown), 200);
    assert_eq!(shown.matches("vault.list").count(), 4);
    assert!(
        !err.contains("after the head file"),
        "stop syncs and writes the head: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_uris_and_heads_are_audited_refusals() {
    // Fails on the code before this change: hyper answered 414/431 before the proxy's
    // code, and nothing was audited.
    let mock = Mock::default();
    let up = start_mock(mock.clone()).await;
    let p = start_proxy(
        &routes_for(up, up),
        &[
            "--max-headers",
            "20",
            "--max-header-bytes",
            "100000",
            "--refused-window",
            "3600",
        ],
    );
    let mut many = String::from("GET /proxy/openai/v1/x HTTP/1.1\r\nhost: p\r\n");
    for i in 0..30 {
        many.push_str(&format!("x-h{i}: 1\r\n"));
    }
    many.push_str("\r\n");
    let big_header = format!(
        "GET /proxy/openai/v1/x HTTP/1.1\r\nhost: p\r\nx-big: {}\r\n\r\n",
        "b".repeat(120_000)
    );
    let long_uri = format!(
        "GET /proxy/openai/{} HTTP/1.1\r\nhost: p\r\n\r\n",
        "a".repeat(70_000)
    );
    for _ in 0..2 {
        let out = raw(p.addr, many.as_bytes()).await;
        assert!(out.starts_with("HTTP/1.1 431"), "{out}");
    }
    let out = raw(p.addr, big_header.as_bytes()).await;
    assert!(out.starts_with("HTTP/1.1 431"), "{out}");
    for _ in 0..3 {
        let out = raw(p.addr, long_uri.as_bytes()).await;
        assert!(out.starts_with("HTTP/1.1 414"), "{out}");
    }
    let out = raw(p.addr, b"GE T / HTTP/1.1\r\n\r\n").await;
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    // A client that connects and leaves is no refusal.
    drop(tokio::net::TcpStream::connect(p.addr).await.unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let vault = p.vault();
    let (_log, _dir) = p.stop();
    assert!(mock.seen.lock().unwrap().is_empty(), "sent upstream");
    let shown = audit_show(&vault);
    let refused: Vec<&str> = shown
        .lines()
        .filter(|l| l.contains("proxy.refused"))
        .collect();
    assert_eq!(refused.len(), 3, "{shown}");
    for want in [
        "reason=headers_too_large,source=127.0.0.1,count=3",
        "reason=uri_too_long,source=127.0.0.1,count=3",
        "reason=head_malformed,source=127.0.0.1,count=1",
    ] {
        assert!(refused.iter().any(|l| l.contains(want)), "{want}: {shown}");
    }
}

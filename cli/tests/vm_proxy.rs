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

struct Proxy {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
    stderr: Arc<Mutex<String>>,
}

impl Proxy {
    fn vault(&self) -> PathBuf {
        self.dir.path().join("vault.json")
    }

    fn vault_set(&self, name: &str, value: &str) {
        vault_set(&self.vault(), name, value);
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
    let addr = loop {
        line.clear();
        assert!(
            r.read_line(&mut line).unwrap() > 0,
            "proxy exited before listening"
        );
        if let Some(a) = line.trim().strip_prefix("keycustody proxy: listening on ") {
            break a.parse().unwrap();
        }
    };
    let stderr = Arc::new(Mutex::new(String::new()));
    let s2 = stderr.clone();
    std::thread::spawn(move || {
        let mut l = String::new();
        while r.read_line(&mut l).unwrap_or(0) > 0 {
            s2.lock().unwrap().push_str(&l);
            l.clear();
        }
    });
    Proxy {
        child,
        addr,
        dir,
        stderr,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injects_real_keys_strips_client_auth_and_rotates() {
    let mock = Mock::default();
    let up = start_mock(mock.clone()).await;
    let p = start_proxy(&routes_for(up, up), &[]);
    let c = client();
    let client_auth = [
        ("authorization", "Bearer proxy-managed"),
        ("x-api-key", "proxy-managed"),
        ("x-goog-api-key", "proxy-managed"),
        ("cookie", "session=1"),
    ];
    let (s, body) = send(
        &c,
        p.addr,
        "POST",
        "/proxy/openai/v1/chat/completions?x=1",
        &client_auth,
        b"{}",
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert!(!body.contains(REAL_OPENAI));
    let (s, _) = send(
        &c,
        p.addr,
        "POST",
        "/proxy/anthropic/v1/messages",
        &client_auth,
        b"{}",
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = send(
        &c,
        p.addr,
        "POST",
        "/proxy/google/models/g:generateContent?key=leak&alt=sse",
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
    let (s, _) = send(&c, p.addr, "GET", "/proxy/openai/v1/models", &[], b"").await;
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
    let (log, dir) = p.stop();
    for k in [
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
    let audit_text = std::fs::read_to_string(dir.path().join("vault.json.audit")).unwrap();
    assert!(!audit_text.contains(REAL_OPENAI) && !audit_text.contains("sk-rotated"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_streams_chunk_by_chunk() {
    let mock = Mock::default();
    let up = start_mock(mock.clone()).await;
    let p = start_proxy(&routes_for(up, up), &[]);
    let c = client();
    let req = Request::builder()
        .method("POST")
        .uri(format!("http://{}/proxy/openai/sse", p.addr))
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let resp = c.request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body();
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
        let (s, body) = send(&c, p.addr, "GET", path, &[], b"").await;
        assert_eq!(s, status, "{path}: {body}");
        assert!(body.contains(msg), "{path}: {body}");
        assert!(!body.contains(REAL_OPENAI));
    }
    // Too large: declared length (e.g. a 10 GB upload) is refused before any byte is read.
    let mut b = Request::builder()
        .method("POST")
        .uri(format!("http://{}/proxy/openai/upload", p.addr));
    b = b.header("content-length", "10737418240");
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
    let req = Request::builder()
        .method("POST")
        .uri(format!("http://{}/proxy/openai/upload", p.addr))
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
        send(&c, p.addr, "GET", "/proxy/limited/a", &[], b"")
            .await
            .0,
        200
    );
    assert_eq!(
        send(&c, p.addr, "GET", "/proxy/limited/a", &[], b"")
            .await
            .0,
        200
    );
    let (s, body) = send(&c, p.addr, "GET", "/proxy/limited/a", &[], b"").await;
    assert_eq!(s, 429, "{body}");
    // Health check.
    assert_eq!(send(&c, p.addr, "GET", "/healthz", &[], b"").await.0, 200);
    // A vault tampered with while the proxy runs: 503, and no key goes out.
    let before = mock.seen.lock().unwrap().len();
    let text = std::fs::read_to_string(p.vault()).unwrap();
    let tampered = text.replace("\"mac\": \"", "\"mac\": \"00");
    assert_ne!(text, tampered);
    std::fs::write(p.vault(), tampered).unwrap();
    let (s, body) = send(&c, p.addr, "GET", "/proxy/openai/v1/models", &[], b"").await;
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
    let good =
        r#"{"routes": {"a": {"upstream": "http://127.0.0.1:9", "kind": "openai", "secret": "K"}}}"#;
    let o = run("{not json", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("routes file is not valid"));
    let o = run(good, &["--allow", "10.0.0.0/33"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a CIDR block"));
    // A tampered vault: refused at startup with exit 3.
    let text = std::fs::read_to_string(&vault).unwrap();
    std::fs::write(&vault, text.replace("\"vault-", "\"vaulx-")).unwrap();
    let o = run(good, &[]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

//! `make bench-vm`: overhead of `keycustody proxy` against calling the mock
//! upstream directly, on loopback, with bounded runs.
//!
//! Usage: vm_bench PATH_TO_KEYCUSTODY OUT.md [SEQ_REQUESTS] [LOAD_REQUESTS] [CONNECTIONS]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `Bearer <the agent's proxy token>`.
static AUTH: OnceLock<String> = OnceLock::new();

async fn mock() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else {
                continue;
            };
            let _ = s.set_nodelay(true);
            tokio::spawn(async move {
                let svc =
                    hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
                        let _ = req.into_body().collect().await;
                        Ok::<_, std::convert::Infallible>(Response::new(Full::new(
                            Bytes::from_static(
                                b"{\"id\":\"c1\",\"object\":\"chat.completion\",\"choices\":[]}",
                            ),
                        )))
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    addr
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Sender {
    let s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(s))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

async fn one(sender: &mut Sender, path: &str) {
    sender.ready().await.unwrap();
    let req = Request::builder()
        .method("POST")
        .uri(path)
        .header("host", "bench")
        .header("authorization", AUTH.get().map_or("", String::as_str))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(
            b"{\"model\":\"m\",\"messages\":[]}",
        )))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let _ = resp.into_body().collect().await.unwrap();
}

async fn latencies(addr: SocketAddr, path: &str, n: usize) -> Vec<f64> {
    let mut s = connect(addr).await;
    for _ in 0..200 {
        one(&mut s, path).await;
    }
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        one(&mut s, path).await;
        v.push(t.elapsed().as_secs_f64() * 1e6);
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

fn pct(v: &[f64], p: f64) -> f64 {
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

async fn throughput(addr: SocketAddr, path: &'static str, total: usize, conns: usize) -> f64 {
    let per = total / conns;
    let mut senders = Vec::new();
    for _ in 0..conns {
        senders.push(connect(addr).await);
    }
    let t = Instant::now();
    let tasks: Vec<_> = senders
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                for _ in 0..per {
                    one(&mut s, path).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    (per * conns) as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = &args[1];
    let out = &args[2];
    let seq: usize = args.get(3).map(|s| s.parse().unwrap()).unwrap_or(5000);
    let load: usize = args.get(4).map(|s| s.parse().unwrap()).unwrap_or(40000);
    let conns: usize = args.get(5).map(|s| s.parse().unwrap()).unwrap_or(32);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let up = rt.block_on(mock());
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault.json");
    assert!(Command::new(bin)
        .args(["vault", "init", "--vault"])
        .arg(&vault)
        .status()
        .unwrap()
        .success());
    let mut c = Command::new(bin)
        .args(["vault", "set", "OPENAI_API_KEY", "--vault"])
        .arg(&vault)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(b"sk-bench-key").unwrap();
    assert!(c.wait().unwrap().success());
    let routes = dir.path().join("routes.json");
    std::fs::write(
        &routes,
        format!(r#"{{"routes":{{"openai":{{"upstream":"http://{up}","kind":"openai","secret":"OPENAI_API_KEY","burst":4000000000,"per_second":1e9}}}}}}"#),
    )
    .unwrap();
    let out_tok = Command::new(bin)
        .args([
            "proxy", "token", "issue", "--agent", "bench", "--route", "openai", "--routes",
        ])
        .arg(&routes)
        .output()
        .unwrap();
    assert!(out_tok.status.success());
    let token = String::from_utf8(out_tok.stdout).unwrap();
    AUTH.set(format!("Bearer {}", token.trim())).unwrap();
    let start = |extra: &[&str]| {
        let mut proxy = Command::new(bin)
            .args([
                "proxy",
                "--listen",
                "127.0.0.1:0",
                "--allow",
                "127.0.0.1/32",
                "--threads",
                "2",
                "--vault",
            ])
            .arg(&vault)
            .arg("--routes")
            .arg(&routes)
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut r = BufReader::new(proxy.stderr.take().unwrap());
        let paddr: SocketAddr = loop {
            let mut line = String::new();
            assert!(r.read_line(&mut line).unwrap() > 0, "proxy exited");
            if let Some(a) = line.trim().strip_prefix("keycustody proxy: listening on ") {
                break a.parse().unwrap();
            }
        };
        std::thread::spawn(move || {
            let mut l = String::new();
            while r.read_line(&mut l).unwrap_or(0) > 0 {
                eprint!("{l}");
                l.clear();
            }
        });
        (proxy, paddr)
    };
    let stop = |proxy: &mut std::process::Child| {
        let _ = Command::new("kill")
            .args(["-TERM", &proxy.id().to_string()])
            .status();
        let _ = proxy.wait();
    };
    let (mut proxy, paddr) = start(&[]);
    let (d_lat, p_lat, d_rps, p_rps) = rt.block_on(async {
        let d_lat = latencies(up, "/v1/chat/completions", seq).await;
        let p_lat = latencies(paddr, "/proxy/openai/v1/chat/completions", seq).await;
        let d_rps = throughput(up, "/v1/chat/completions", load, conns).await;
        let p_rps = throughput(paddr, "/proxy/openai/v1/chat/completions", load, conns).await;
        (d_lat, p_lat, d_rps, p_rps)
    });
    stop(&mut proxy);
    // The same proxy with --audit-fail-open: what waiting for the audit append costs.
    let (mut proxy, paddr) = start(&["--audit-fail-open"]);
    let o_lat = rt.block_on(latencies(paddr, "/proxy/openai/v1/chat/completions", seq));
    stop(&mut proxy);
    // Strict durability: each key use waits for fdatasync and the head file.
    let (mut proxy, paddr) = start(&["--audit-sync-interval", "0"]);
    let s_lat = rt.block_on(latencies(
        paddr,
        "/proxy/openai/v1/chat/completions",
        seq.min(1000),
    ));
    stop(&mut proxy);
    rt.shutdown_timeout(Duration::from_secs(1));
    let (d50, d99, p50, p99) = (
        pct(&d_lat, 0.5),
        pct(&d_lat, 0.99),
        pct(&p_lat, 0.5),
        pct(&p_lat, 0.99),
    );
    let (o50, o99) = (pct(&o_lat, 0.5), pct(&o_lat, 0.99));
    let (s50, s99) = (pct(&s_lat, 0.5), pct(&s_lat, 0.99));
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let md = format!(
        "## vm: LLM auth proxy overhead\n\n\
Loopback, HTTP/1.1 keep-alive, small JSON POST; mock upstream (hyper, 1 thread), load generator and proxy \
(`--threads 2`) share {cores} cores. Latency: {seq} sequential requests on one connection (after 200 warm-up). \
Throughput: {load} requests over {conns} connections; the generator and the mock share one thread, so the \
direct figure is bounded by the generator as much as by the mock. Every proxied request presents a per-agent \
proxy token (parsed, hashed, looked up; the tokens file is stat'ed for changes) and, by default, waits until its \
audit entry is written to the log (one `write(2)` under the log's lock after the pre-append check; fail closed) \
before it goes upstream, while a flusher `fdatasync`s the log and rewrites its head file every 50 ms \
(`--audit-sync-interval`). Other rows: the same proxy with `--audit-sync-interval 0` (each key use waits for \
`fdatasync` and the head file's temp fsync, rename and directory fsync; {strict_n} requests) and with \
`--audit-fail-open`. Figures vary with the machine's other load.\n\n\
| figure | direct to mock (baseline) | through proxy | added / ratio | goal |\n\
|---|---|---|---|---|\n\
| p50 latency (tokens, fail-closed audit, 50 ms sync) | {d50:.0} µs | {p50:.0} µs | +{a50:.0} µs | < +300 µs |\n\
| p99 latency (tokens, fail-closed audit, 50 ms sync) | {d99:.0} µs | {p99:.0} µs | +{a99:.0} µs | — |\n\
| p50 latency (tokens, `--audit-sync-interval 0`) | {d50:.0} µs | {s50:.0} µs | +{c50:.0} µs | — |\n\
| p99 latency (tokens, `--audit-sync-interval 0`) | {d99:.0} µs | {s99:.0} µs | +{c99:.0} µs | — |\n\
| p50 latency (tokens, `--audit-fail-open`) | {d50:.0} µs | {o50:.0} µs | +{b50:.0} µs | — |\n\
| p99 latency (tokens, `--audit-fail-open`) | {d99:.0} µs | {o99:.0} µs | +{b99:.0} µs | — |\n\
| requests/s (fail-closed) | {d_rps:.0} | {p_rps:.0} | {ratio:.2}× | ≥ 10,000 |\n",
        a50 = p50 - d50,
        a99 = p99 - d99,
        b50 = o50 - d50,
        b99 = o99 - d99,
        c50 = s50 - d50,
        c99 = s99 - d99,
        strict_n = seq.min(1000),
        ratio = p_rps / d_rps,
    );
    std::fs::write(out, &md).unwrap();
    print!("{md}");
}

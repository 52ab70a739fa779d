//! The proxy's audit trail: key uses (fail closed: the request waits until its
//! entry is written to the log, which the [`Appender`] syncs at most every
//! `--audit-sync-interval`) and refusals (aggregated per source and reason over
//! a window, so a flood of refused requests writes a bounded number of entries).
//!
//! [`append_batch`] is the one place a proxy event becomes an audit append.

use crate::audit::Event;
use crate::vm::log::Appender;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The most distinct (source, reason, route, actor) keys kept per window; the
/// rest are counted under source `*`.
pub const MAX_REFUSAL_KEYS: usize = 256;

/// Something the proxy records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyEvent {
    /// A request was sent upstream with the key of `secret`.
    KeyUse {
        /// The vault secret.
        secret: String,
        /// The route.
        route: String,
        /// The agent whose token was presented.
        actor: Option<String>,
    },
    /// `count` requests were refused for `reason` within one window.
    Refused {
        /// The source address (`None`: many sources, aggregated).
        source: Option<IpAddr>,
        /// A short reason code (`source_not_allowed`, `token_unknown`, ...).
        reason: &'static str,
        /// The route, when the request named a known one.
        route: Option<String>,
        /// The agent, when a valid token was presented.
        actor: Option<String>,
        /// How many.
        count: u64,
    },
}

/// Turns proxy events into audit entries and appends them in one batch.
///
/// A refusal is recorded as op `proxy.refused` with names
/// `["reason=<code>", "source=<ip or *>", "count=<n>"]` (no secret, no token).
///
/// # Errors
/// The append's error text.
pub fn append_batch(log: &Appender, batch: &[ProxyEvent]) -> Result<(), String> {
    let events: Vec<Event> = batch
        .iter()
        .map(|p| match p {
            ProxyEvent::KeyUse {
                secret,
                route,
                actor,
            } => Event {
                op: "proxy.key_use".into(),
                names: vec![secret.clone()],
                route: Some(route.clone()),
                actor: actor.clone(),
            },
            ProxyEvent::Refused {
                source,
                reason,
                route,
                actor,
                count,
            } => Event {
                op: "proxy.refused".into(),
                names: vec![
                    format!("reason={reason}"),
                    format!(
                        "source={}",
                        source.map_or_else(|| "*".to_string(), |s| s.to_string())
                    ),
                    format!("count={count}"),
                ],
                route: route.clone(),
                actor: actor.clone(),
            },
        })
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    log.append(&events, now)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

type RefusalKey = (Option<IpAddr>, &'static str, Option<String>, Option<String>);

enum Msg {
    Append(ProxyEvent, Option<tokio::sync::oneshot::Sender<bool>>),
}

/// The handle the request path uses.
pub struct Recorder {
    tx: Mutex<Option<mpsc::Sender<Msg>>>,
    refusals: Arc<Mutex<HashMap<RefusalKey, u64>>>,
    fail_open: bool,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("fail_open", &self.fail_open)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn take_refusals(map: &Mutex<HashMap<RefusalKey, u64>>) -> Vec<ProxyEvent> {
    let m = std::mem::take(&mut *lock(map));
    let mut v: Vec<ProxyEvent> = m
        .into_iter()
        .map(
            |((source, reason, route, actor), count)| ProxyEvent::Refused {
                source,
                reason,
                route,
                actor,
                count,
            },
        )
        .collect();
    v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    v
}

impl Recorder {
    /// Starts the audit thread over `append` (normally [`append_batch`] on the
    /// vault's log); refusals are flushed every `window` and when the recorder is closed.
    pub fn start<F>(append: F, window: Duration, fail_open: bool) -> Recorder
    where
        F: Fn(&[ProxyEvent]) -> Result<(), String> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel::<Msg>();
        let refusals: Arc<Mutex<HashMap<RefusalKey, u64>>> = Arc::default();
        let r2 = Arc::clone(&refusals);
        let thread = std::thread::spawn(move || {
            let report = |batch: &[ProxyEvent], acks: Vec<tokio::sync::oneshot::Sender<bool>>| {
                let ok = match append(batch) {
                    Ok(()) => true,
                    Err(e) => {
                        eprintln!(
                            "keycustody proxy: AUDIT APPEND FAILED ({} events): {e}",
                            batch.len()
                        );
                        false
                    }
                };
                for a in acks {
                    let _ = a.send(ok);
                }
            };
            let mut window_end = Instant::now() + window;
            loop {
                let wait = window_end.saturating_duration_since(Instant::now());
                let first = match rx.recv_timeout(wait) {
                    Ok(m) => Some(m),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                };
                if let Some(first) = first {
                    let mut batch = Vec::new();
                    let mut acks = Vec::new();
                    let mut next = Some(first);
                    while let Some(Msg::Append(e, ack)) = next {
                        batch.push(e);
                        acks.extend(ack);
                        next = if batch.len() < 4096 {
                            rx.try_recv().ok()
                        } else {
                            None
                        };
                    }
                    report(&batch, acks);
                }
                if Instant::now() >= window_end {
                    let r = take_refusals(&r2);
                    if !r.is_empty() {
                        report(&r, Vec::new());
                    }
                    window_end = Instant::now() + window;
                }
            }
            let r = take_refusals(&r2);
            if !r.is_empty() {
                report(&r, Vec::new());
            }
        });
        if fail_open {
            eprintln!("keycustody proxy: WARNING: --audit-fail-open: requests are sent upstream even when their audit entry cannot be written");
        }
        Recorder {
            tx: Mutex::new(Some(tx)),
            refusals,
            fail_open,
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Records a key use. Fail closed (the default): resolves to `true` only once
    /// the entry is written to the log (synced too with `--audit-sync-interval 0`).
    /// Fail open: always `true`, without waiting.
    pub async fn key_use(&self, e: ProxyEvent) -> bool {
        let (ack, rx) = if self.fail_open {
            (None, None)
        } else {
            let (a, r) = tokio::sync::oneshot::channel();
            (Some(a), Some(r))
        };
        let sent = match &*lock(&self.tx) {
            Some(tx) => tx.send(Msg::Append(e, ack)).is_ok(),
            None => false,
        };
        match rx {
            None => true,
            Some(rx) => sent && rx.await.unwrap_or(false),
        }
    }

    /// Counts a refusal (written at the end of the window).
    pub fn refused(
        &self,
        source: IpAddr,
        reason: &'static str,
        route: Option<&str>,
        actor: Option<&str>,
    ) {
        let mut m = lock(&self.refusals);
        let mut key: RefusalKey = (
            Some(source),
            reason,
            route.map(str::to_string),
            actor.map(str::to_string),
        );
        if !m.contains_key(&key) && m.len() >= MAX_REFUSAL_KEYS {
            key = (None, reason, None, None);
        }
        *m.entry(key).or_insert(0) += 1;
    }

    /// Flushes pending refusals and stops the audit thread (after it has written
    /// everything queued).
    pub fn close(&self) {
        drop(lock(&self.tx).take());
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorder(fail: bool, window: Duration) -> (Recorder, Arc<Mutex<Vec<ProxyEvent>>>) {
        let seen: Arc<Mutex<Vec<ProxyEvent>>> = Arc::default();
        let s2 = Arc::clone(&seen);
        let r = Recorder::start(
            move |b: &[ProxyEvent]| {
                if fail {
                    return Err("disk full".into());
                }
                s2.lock().unwrap().extend_from_slice(b);
                Ok(())
            },
            window,
            false,
        );
        (r, seen)
    }

    fn use_ev() -> ProxyEvent {
        ProxyEvent::KeyUse {
            secret: "K".into(),
            route: "openai".into(),
            actor: Some("a".into()),
        }
    }

    #[tokio::test]
    async fn key_use_waits_for_the_append_and_reports_failure() {
        let (r, seen) = recorder(false, Duration::from_secs(3600));
        assert!(r.key_use(use_ev()).await);
        assert_eq!(seen.lock().unwrap().len(), 1);
        r.close();
        let (r, _) = recorder(true, Duration::from_secs(3600));
        assert!(!r.key_use(use_ev()).await);
        r.close();
        // After close nothing is accepted (fail closed).
        assert!(!r.key_use(use_ev()).await);
    }

    #[test]
    fn refusals_are_aggregated_and_bounded() {
        let (r, seen) = recorder(false, Duration::from_secs(3600));
        for i in 0..10_000u32 {
            let ip = IpAddr::from([10, 0, (i % 1000 / 250) as u8, (i % 250) as u8]);
            r.refused(ip, "token_unknown", None, None);
            r.refused(IpAddr::from([127, 0, 0, 1]), "route_unknown", None, None);
        }
        r.close();
        let seen = seen.lock().unwrap();
        assert!(seen.len() <= MAX_REFUSAL_KEYS + 2, "{}", seen.len());
        let total: u64 = seen
            .iter()
            .map(|e| match e {
                ProxyEvent::Refused { count, .. } => *count,
                ProxyEvent::KeyUse { .. } => 0,
            })
            .sum();
        assert_eq!(total, 20_000);
    }
}

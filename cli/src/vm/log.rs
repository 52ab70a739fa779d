//! The VM's audit log: a tamper-evident, append-only JSON-lines file.
//!
//! Each line is one entry `{"seq","ts","kid","op","names",["route"],["actor"],["tenant"],
//! ["outcome"],"prev","mac"}` where `mac = HMAC-SHA256(K_kid, JSON of every other field)`
//! and `prev` is the previous entry's `mac` (64 zeros for the first), with
//! `K_kid = HKDF(root_kid, "keycustody/v1/audit" || 0x00 || vault id)`. The kid is
//! recorded in each entry, so the audit key rotates with the keyring.
//!
//! Beside the log, `<log>.head` is a MACed record of the last entry's seq and mac:
//! truncating the tail of the log then no longer verifies. Against erasure of both (and
//! rollback), the vault file records the seq of its last change's `intent` entry (the
//! [`Binding`]), and off-host checkpoints ([`Log::checkpoint`]) record seq and head MAC.
//!
//! A vault change is written as an `intent` entry (fsync), then the vault file (rename),
//! then an `ok` entry, all under the log's lock. A process killed in between leaves the
//! intent as the last entry; the next opener (which then holds the lock, so the writer is
//! dead) resolves it: `ok` when the vault file records the intent's seq (the change
//! committed), `unconfirmed` when it does not (the change did not commit).
//!
//! Entries carry secret names and operations, never values.

use super::{fsutil, VmError};
use hmac::{Hmac, KeyInit, Mac};
use keycustody::{Error, Keyring};
use sha2::Sha256;
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The longest audit line accepted.
pub const MAX_LINE: usize = 64 * 1024;
/// The longest checkpoint text accepted.
pub const MAX_CHECKPOINT: usize = 4096;
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const HEAD_DOMAIN: &[u8] = b"keycustody-audit-head/v1\0";
const CHECKPOINT_DOMAIN: &[u8] = b"keycustody-audit-checkpoint/v1\0";

/// One event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The operation (`vault.get`, `proxy.key_use`, ...).
    pub op: String,
    /// Secret names involved (never values).
    pub names: Vec<String>,
    /// The proxy route, if any.
    pub route: Option<String>,
}

impl Event {
    /// An event of operation `op` on secrets `names`.
    pub fn new(op: &str, names: &[&str]) -> Event {
        Event {
            op: op.to_string(),
            names: names.iter().map(|s| s.to_string()).collect(),
            route: None,
        }
    }
}

/// The outcome of a recorded change (absent for reads and proxy events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Written before the change is made.
    Intent,
    /// The change committed.
    Ok,
    /// The writer died and the change is not in the vault file.
    Unconfirmed,
    /// Refused.
    Refused,
}

impl Outcome {
    /// The outcome's name as written in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Intent => "intent",
            Outcome::Ok => "ok",
            Outcome::Unconfirmed => "unconfirmed",
            Outcome::Refused => "refused",
        }
    }
}

#[derive(serde::Serialize)]
struct Body<'a> {
    seq: u64,
    ts: u64,
    kid: u32,
    op: &'a str,
    names: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    route: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<Outcome>,
    prev: &'a str,
}

/// One verified entry of the log.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// 1, 2, 3, ...
    pub seq: u64,
    /// Unix seconds.
    pub ts: u64,
    /// The key id of the audit key.
    pub kid: u32,
    /// The operation.
    pub op: String,
    /// Secret names.
    pub names: Vec<String>,
    /// The proxy route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Who (e.g. the proxy agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Whose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The outcome of a change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// The previous entry's MAC.
    pub prev: String,
    /// This entry's MAC.
    pub mac: String,
}

#[derive(serde::Serialize, serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Head {
    seq: u64,
    mac: String,
    kid: u32,
    head_mac: String,
}

#[derive(serde::Serialize)]
struct CheckpointBody<'a> {
    v: u32,
    scope: &'a str,
    seq: u64,
    head: &'a str,
    ts: u64,
    kid: u32,
}

/// An off-host checkpoint: the log's seq and head MAC at a time, MACed under the audit key.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    v: u32,
    scope: String,
    /// The seq of the last entry (0 for an empty log).
    pub seq: u64,
    head: String,
    /// Unix seconds.
    pub ts: u64,
    kid: u32,
    mac: String,
}

impl Checkpoint {
    /// Parses a checkpoint's text (one JSON line).
    ///
    /// # Errors
    /// [`VmError::BadCheckpoint`] naming what is wrong.
    pub fn parse(text: &str) -> Result<Checkpoint, VmError> {
        let text = text.trim_end_matches(['\n', '\r']);
        if text.len() > MAX_CHECKPOINT {
            return Err(VmError::BadCheckpoint("longer than 4096 bytes"));
        }
        if text.contains('\n') {
            return Err(VmError::BadCheckpoint("more than one line"));
        }
        let cp: Checkpoint = serde_json::from_str(text).map_err(|_| {
            VmError::BadCheckpoint(
                "not a checkpoint object {\"v\",\"scope\",\"seq\",\"head\",\"ts\",\"kid\",\"mac\"}",
            )
        })?;
        if cp.v != 1 {
            return Err(VmError::BadCheckpoint("unknown version (v must be 1)"));
        }
        if cp.head.len() != 64 || fsutil::unhex(&cp.head).is_none() {
            return Err(VmError::BadCheckpoint("head is not 64 hex digits"));
        }
        if cp.mac.len() != 64 || fsutil::unhex(&cp.mac).is_none() {
            return Err(VmError::BadCheckpoint("mac is not 64 hex digits"));
        }
        if cp.seq == 0 && cp.head != GENESIS {
            return Err(VmError::BadCheckpoint("seq 0 with a head other than zeros"));
        }
        Ok(cp)
    }

    /// The checkpoint's text (one JSON line, no newline).
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn body(&self) -> CheckpointBody<'_> {
        CheckpointBody {
            v: self.v,
            scope: &self.scope,
            seq: self.seq,
            head: &self.head,
            ts: self.ts,
            kid: self.kid,
        }
    }
}

/// What `verify` found in a log that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Number of entries.
    pub entries: u64,
    /// Entries after the head file (left by a crash between append and head write).
    pub after_checkpoint: u64,
    /// The last entry is an intent not yet resolved (its writer died; the next
    /// command resolves it).
    pub pending_intent: bool,
}

/// Reads the vault file's record of the seq of its last change's intent entry:
/// `Ok(None)` when there is no vault (yet) or it records none (a vault written before
/// the record existed).
pub type Binding = Box<dyn Fn() -> Result<Option<u64>, VmError> + Send + Sync>;

/// The audit log of one vault.
pub struct Log {
    path: PathBuf,
    keyring: Keyring,
    id: String,
    binding: Option<Binding>,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn broken(line: usize, what: &'static str) -> VmError {
    VmError::AuditBroken { line, what }
}

fn line_no(seq: u64) -> usize {
    usize::try_from(seq).unwrap_or(usize::MAX)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Entry {
    fn body(&self) -> Body<'_> {
        Body {
            seq: self.seq,
            ts: self.ts,
            kid: self.kid,
            op: &self.op,
            names: &self.names,
            route: self.route.as_deref(),
            actor: self.actor.as_deref(),
            tenant: self.tenant.as_deref(),
            outcome: self.outcome,
            prev: &self.prev,
        }
    }
}

/// An open append: the log's lock is held and its tail verified.
#[derive(Debug)]
pub struct Txn<'a> {
    log: &'a Log,
    _lock: fsutil::Lock,
    last: Option<Entry>,
}

impl Txn<'_> {
    /// The seq of the last entry (0 for an empty log).
    pub fn last_seq(&self) -> u64 {
        self.last.as_ref().map_or(0, |e| e.seq)
    }

    /// Appends events with `outcome` stamped `now`: one `write` and one `fsync`, then
    /// the head file. Returns the seq of the last entry written.
    ///
    /// # Errors
    /// I/O errors.
    pub fn append(
        &mut self,
        events: &[Event],
        outcome: Option<Outcome>,
        now: u64,
    ) -> Result<u64, VmError> {
        if events.is_empty() {
            return Ok(self.last_seq());
        }
        let (mut seq, mut prev) = match &self.last {
            Some(e) => (e.seq, e.mac.clone()),
            None => (0, GENESIS.to_string()),
        };
        let mut out = Vec::new();
        let mut last = None;
        for ev in events {
            seq += 1;
            let kid = self.log.keyring.primary_kid();
            let body = Body {
                seq,
                ts: now,
                kid,
                op: &ev.op,
                names: &ev.names,
                route: ev.route.as_deref(),
                actor: None,
                tenant: None,
                outcome,
                prev: &prev,
            };
            let (_, m) = self.log.entry_mac(Some(kid), &body)?;
            let e = Entry {
                seq,
                ts: now,
                kid,
                op: ev.op.clone(),
                names: ev.names.clone(),
                route: ev.route.clone(),
                actor: None,
                tenant: None,
                outcome,
                prev: prev.clone(),
                mac: fsutil::hex(&m.finalize().into_bytes()),
            };
            serde_json::to_writer(&mut out, &e).map_err(|_| Error::InvalidArgument("serialize"))?;
            out.push(b'\n');
            prev = e.mac.clone();
            last = Some(e);
        }
        let mut f = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&self.log.path)?
        };
        f.write_all(&out)?;
        f.sync_data()?;
        self.log.write_head(seq, &prev)?;
        self.last = last;
        Ok(seq)
    }
}

impl Log {
    /// The log at `path` for vault `id`, keyed from `keyring`.
    pub fn new(path: PathBuf, keyring: Keyring, id: String) -> Log {
        Log {
            path,
            keyring,
            id,
            binding: None,
        }
    }

    /// The same log, checked against the vault file's record of its last change.
    pub fn with_binding(mut self, binding: Binding) -> Log {
        self.binding = Some(binding);
        self
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn head_path(&self) -> PathBuf {
        super::with_suffix(&self.path, ".head")
    }

    fn mac(&self, kid: Option<u32>) -> Result<(u32, Hmac<Sha256>), VmError> {
        let (kid, key) = self.keyring.audit_key(kid, &self.id)?;
        let m = Hmac::<Sha256>::new_from_slice(key.expose_secret())
            .map_err(|_| Error::InvalidArgument("mac key"))?;
        Ok((kid, m))
    }

    fn entry_mac(&self, kid: Option<u32>, body: &Body<'_>) -> Result<(u32, Hmac<Sha256>), VmError> {
        let (kid, mut m) = self.mac(kid)?;
        let bytes = serde_json::to_vec(body).map_err(|_| Error::InvalidArgument("serialize"))?;
        m.update(&bytes);
        Ok((kid, m))
    }

    fn head_mac(
        &self,
        kid: Option<u32>,
        seq: u64,
        mac: &str,
    ) -> Result<(u32, Hmac<Sha256>), VmError> {
        let (kid, mut m) = self.mac(kid)?;
        m.update(HEAD_DOMAIN);
        m.update(self.id.as_bytes());
        m.update(b"\0");
        m.update(seq.to_string().as_bytes());
        m.update(b"\0");
        m.update(mac.as_bytes());
        Ok((kid, m))
    }

    fn checkpoint_mac(
        &self,
        kid: Option<u32>,
        body: &CheckpointBody<'_>,
    ) -> Result<(u32, Hmac<Sha256>), VmError> {
        let (kid, mut m) = self.mac(kid)?;
        m.update(CHECKPOINT_DOMAIN);
        let bytes = serde_json::to_vec(body).map_err(|_| Error::InvalidArgument("serialize"))?;
        m.update(&bytes);
        Ok((kid, m))
    }

    fn check_entry(&self, e: &Entry, line: usize) -> Result<(), VmError> {
        let want = fsutil::unhex(&e.mac).ok_or(broken(line, "malformed MAC"))?;
        let (_, m) = self
            .entry_mac(Some(e.kid), &e.body())
            .map_err(|_| broken(line, "entry names a key id the keyring cannot use"))?;
        m.verify_slice(&want)
            .map_err(|_| broken(line, "MAC mismatch: the entry was edited or forged"))
    }

    fn read_head(&self) -> Result<Option<Head>, VmError> {
        let data = match fsutil::read_limited(&self.head_path(), MAX_LINE as u64) {
            Err(VmError::Core(Error::Io(std::io::ErrorKind::NotFound))) => return Ok(None),
            r => r?,
        };
        let h: Head =
            serde_json::from_slice(&data).map_err(|_| broken(0, "the head file is malformed"))?;
        let want = fsutil::unhex(&h.head_mac).ok_or(broken(0, "the head file is malformed"))?;
        let (_, m) = self
            .head_mac(Some(h.kid), h.seq, &h.mac)
            .map_err(|_| broken(0, "the head file names a key id the keyring cannot use"))?;
        m.verify_slice(&want)
            .map_err(|_| broken(0, "head file MAC mismatch: the head file was edited"))?;
        Ok(Some(h))
    }

    fn write_head(&self, seq: u64, mac: &str) -> Result<(), VmError> {
        let (kid, m) = self.head_mac(None, seq, mac)?;
        let h = Head {
            seq,
            mac: mac.to_string(),
            kid,
            head_mac: fsutil::hex(&m.finalize().into_bytes()),
        };
        let mut bytes = serde_json::to_vec(&h).map_err(|_| Error::InvalidArgument("serialize"))?;
        bytes.push(b'\n');
        fsutil::write_atomic(&self.head_path(), &bytes, 0o600)?;
        Ok(())
    }

    /// The last entry of the log (verified), reading only the tail of the file.
    fn last_entry(&self) -> Result<Option<Entry>, VmError> {
        let mut f = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let len = f.metadata()?.len();
        if len == 0 {
            return Ok(None);
        }
        let start = len.saturating_sub(MAX_LINE as u64 + 1);
        f.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::new();
        f.take(MAX_LINE as u64 + 1).read_to_end(&mut buf)?;
        if buf.last() != Some(&b'\n') {
            return Err(broken(0, "the last line is incomplete"));
        }
        buf.pop();
        let line = match buf.iter().rposition(|b| *b == b'\n') {
            Some(i) => &buf[i + 1..],
            None if start == 0 => &buf[..],
            None => return Err(broken(0, "the last line is too long")),
        };
        let e: Entry = serde_json::from_slice(line)
            .map_err(|_| broken(0, "the last line is not a valid entry (not JSON)"))?;
        self.check_entry(&e, line_no(e.seq))?;
        Ok(Some(e))
    }

    fn bound_seq(&self) -> Result<Option<u64>, VmError> {
        match &self.binding {
            Some(b) => b(),
            None => Ok(None),
        }
    }

    /// Takes the log's lock, removes temp files a killed write left, verifies the tail
    /// against the head file and the vault file's record, and resolves an intent left by
    /// a killed writer. Nothing is written when a check fails.
    ///
    /// # Errors
    /// [`VmError::AuditBroken`] when the tail, the head file or the vault's record do
    /// not match (the log refuses to grow on top of a tampered tail); I/O errors.
    pub fn begin(&self) -> Result<Txn<'_>, VmError> {
        let lock = fsutil::lock(&self.path)?;
        fsutil::remove_stale_temps(&self.head_path());
        self.tighten_mode();
        let last = self.last_entry()?;
        let head = self.read_head()?;
        let seq = last.as_ref().map_or(0, |e| e.seq);
        match (&head, &last) {
            (None, Some(_)) => return Err(broken(0, "the head file is missing")),
            (Some(h), _) if h.seq > seq => {
                return Err(broken(
                    0,
                    "the log is shorter than its head file (truncated)",
                ))
            }
            (Some(h), Some(e)) if h.seq == e.seq && h.mac != e.mac => {
                return Err(broken(0, "the last entry does not match the head file"))
            }
            _ => {}
        }
        let bound = self.bound_seq()?;
        if bound.is_some_and(|b| b > seq) {
            return Err(broken(
                0,
                "the log has fewer entries than the vault file records: entries were erased or truncated",
            ));
        }
        let mut txn = Txn {
            log: self,
            _lock: lock,
            last,
        };
        if let Some(e) = txn.last.clone() {
            if e.outcome == Some(Outcome::Intent) {
                // We hold the lock, so the intent's writer is dead: the vault file says
                // whether its change committed.
                let outcome = if bound == Some(e.seq) {
                    Outcome::Ok
                } else {
                    Outcome::Unconfirmed
                };
                let ev = Event {
                    op: e.op,
                    names: e.names,
                    route: e.route,
                };
                txn.append(&[ev], Some(outcome), now_secs())?;
            }
        }
        Ok(txn)
    }

    fn tighten_mode(&self) {
        use std::os::unix::fs::PermissionsExt;
        for p in [self.path.clone(), self.head_path()] {
            if let Ok(m) = std::fs::metadata(&p) {
                if m.permissions().mode() & 0o077 != 0 {
                    let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600));
                }
            }
        }
    }

    /// Appends one event (see [`Log::append_events_at`]).
    ///
    /// # Errors
    /// As [`Log::append_events_at`].
    pub fn append(&self, op: &str, names: &[&str], route: Option<&str>) -> Result<(), VmError> {
        let mut ev = Event::new(op, names);
        ev.route = route.map(str::to_string);
        self.append_events(&[ev])
    }

    /// Appends events stamped with the current time.
    ///
    /// # Errors
    /// As [`Log::append_events_at`].
    pub fn append_events(&self, events: &[Event]) -> Result<(), VmError> {
        self.append_events_at(events, now_secs())
    }

    /// Appends events with timestamp `now` (Unix seconds), under the log's lock:
    /// [`Log::begin`], then one `write` and one `fsync` for the batch, then the head file.
    ///
    /// # Errors
    /// As [`Log::begin`].
    pub fn append_events_at(&self, events: &[Event], now: u64) -> Result<(), VmError> {
        if events.is_empty() {
            return Ok(());
        }
        self.begin()?.append(events, None, now).map(|_| ())
    }

    /// Verifies every entry, the chain, the head file and the vault file's record.
    ///
    /// # Errors
    /// [`VmError::AuditBroken`] naming the first bad line and what is wrong.
    pub fn verify(&self) -> Result<Report, VmError> {
        self.verify_with(|_, _| {})
    }

    /// As [`Log::verify`], calling `each` with every entry and its line (no newline).
    ///
    /// # Errors
    /// As [`Log::verify`].
    pub fn verify_with(&self, each: impl FnMut(&Entry, &[u8])) -> Result<Report, VmError> {
        self.verify_full(None, each)
    }

    /// Verifies the log (as [`Log::verify`]) and that it extends `cp`: it fails on a log
    /// shorter than the checkpoint (erased, truncated or rolled back) or one whose entry
    /// at the checkpoint's seq is not the checkpoint's head (diverged).
    ///
    /// # Errors
    /// [`VmError::AuditBroken`]; a checkpoint whose MAC does not verify under this
    /// vault's audit key is `AuditBroken` too.
    pub fn verify_against(&self, cp: &Checkpoint) -> Result<Report, VmError> {
        self.verify_checkpoint(cp)?;
        self.verify_full(Some(cp), |_, _| {})
    }

    /// Checks a checkpoint's MAC (and that it is this vault's).
    ///
    /// # Errors
    /// [`VmError::AuditBroken`].
    pub fn verify_checkpoint(&self, cp: &Checkpoint) -> Result<(), VmError> {
        let bad = || {
            broken(
                0,
                "the checkpoint's MAC does not verify under this vault's audit key (edited, or another vault's)",
            )
        };
        if cp.scope != self.id {
            return Err(bad());
        }
        let want = fsutil::unhex(&cp.mac).ok_or_else(bad)?;
        let (_, m) = self
            .checkpoint_mac(Some(cp.kid), &cp.body())
            .map_err(|_| bad())?;
        m.verify_slice(&want).map_err(|_| bad())
    }

    /// Verifies the whole log, then returns a checkpoint of its last entry at `now`.
    ///
    /// # Errors
    /// As [`Log::verify`].
    pub fn checkpoint(&self, now: u64) -> Result<Checkpoint, VmError> {
        let mut last: Option<(u64, String)> = None;
        self.verify_with(|e, _| last = Some((e.seq, e.mac.clone())))?;
        let (seq, head) = last.unwrap_or((0, GENESIS.to_string()));
        let kid = self.keyring.primary_kid();
        let body = CheckpointBody {
            v: 1,
            scope: &self.id,
            seq,
            head: &head,
            ts: now,
            kid,
        };
        let (_, m) = self.checkpoint_mac(Some(kid), &body)?;
        Ok(Checkpoint {
            v: 1,
            scope: self.id.clone(),
            seq,
            head,
            ts: now,
            kid,
            mac: fsutil::hex(&m.finalize().into_bytes()),
        })
    }

    fn verify_full(
        &self,
        cp: Option<&Checkpoint>,
        mut each: impl FnMut(&Entry, &[u8]),
    ) -> Result<Report, VmError> {
        let head = self.read_head()?;
        let f = match std::fs::File::open(&self.path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let mut count = 0u64;
        let mut prev = GENESIS.to_string();
        let mut head_seen = false;
        let mut last_outcome = None;
        let mut at_cp: Option<String> = None;
        if let Some(f) = f {
            let mut r = std::io::BufReader::new(f);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                let n = r
                    .by_ref()
                    .take(MAX_LINE as u64 + 1)
                    .read_until(b'\n', &mut buf)?;
                if n == 0 {
                    break;
                }
                let line = line_no(count + 1);
                if buf.last() != Some(&b'\n') {
                    return Err(broken(line, "incomplete or over-long line"));
                }
                let text = &buf[..buf.len() - 1];
                let e: Entry = serde_json::from_slice(text)
                    .map_err(|_| broken(line, "not a valid entry (not JSON, or fields missing)"))?;
                self.check_entry(&e, line)?;
                if e.seq != count + 1 {
                    return Err(broken(
                        line,
                        "sequence gap: an entry was deleted, inserted or reordered",
                    ));
                }
                if e.prev != prev {
                    return Err(broken(line, "chain broken: previous MAC does not match"));
                }
                if let Some(h) = &head {
                    if h.seq == e.seq {
                        if h.mac != e.mac {
                            return Err(broken(line, "entry does not match the head file"));
                        }
                        head_seen = true;
                    }
                }
                if cp.is_some_and(|c| c.seq == e.seq) {
                    at_cp = Some(e.mac.clone());
                }
                each(&e, text);
                count += 1;
                last_outcome = e.outcome;
                prev = e.mac;
            }
        }
        if let Some(c) = cp {
            if c.seq > count {
                return Err(broken(
                    0,
                    "the log is shorter than the checkpoint: entries were erased, truncated or rolled back",
                ));
            }
            if c.seq > 0 && at_cp.as_deref() != Some(c.head.as_str()) {
                return Err(broken(
                    line_no(c.seq),
                    "the log diverges from the checkpoint: this entry is not the one checkpointed",
                ));
            }
        }
        if self.bound_seq()?.is_some_and(|b| b > count) {
            return Err(broken(
                0,
                "the log has fewer entries than the vault file records: entries were erased or truncated",
            ));
        }
        let pending_intent = last_outcome == Some(Outcome::Intent);
        match head {
            None if count > 0 => Err(broken(0, "the head file is missing")),
            None => Ok(Report {
                entries: 0,
                after_checkpoint: 0,
                pending_intent,
            }),
            Some(h) if !head_seen || h.seq > count => Err(broken(
                0,
                "the log ends before its head file: entries were truncated",
            )),
            Some(h) => Ok(Report {
                entries: count,
                after_checkpoint: count - h.seq,
                pending_intent,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> Log {
        let d = fsutil::tests::tempdir();
        Log::new(d.join("a.log"), Keyring::generate().unwrap(), "vm-1".into())
    }

    fn ev(op: &str) -> Event {
        Event::new(op, &["OPENAI_API_KEY"])
    }

    fn filled() -> Log {
        let l = log();
        for i in 0..5 {
            l.append_events_at(&[ev(&format!("op{i}"))], 1_700_000_000 + i)
                .unwrap();
        }
        assert_eq!(
            l.verify().unwrap(),
            Report {
                entries: 5,
                after_checkpoint: 0,
                pending_intent: false
            }
        );
        l
    }

    fn lines(l: &Log) -> Vec<String> {
        std::fs::read_to_string(&l.path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn write_lines(l: &Log, v: &[String]) {
        let mut s = v.join("\n");
        if !v.is_empty() {
            s.push('\n');
        }
        std::fs::write(&l.path, s).unwrap();
    }

    fn expect_broken(l: &Log, line: usize, what_has: &str) {
        match l.verify() {
            Err(VmError::AuditBroken { line: got, what }) => {
                assert_eq!(got, line, "{what}");
                assert!(what.contains(what_has), "{what}");
            }
            other => panic!("expected AuditBroken, got {other:?}"),
        }
    }

    #[test]
    fn empty_log_verifies() {
        assert_eq!(log().verify().unwrap().entries, 0);
    }

    #[test]
    fn edited_entry_is_detected() {
        let l = filled();
        let mut v = lines(&l);
        v[2] = v[2].replace("op2", "opX");
        write_lines(&l, &v);
        expect_broken(&l, 3, "MAC mismatch");
    }

    #[test]
    fn edited_names_or_timestamp_are_detected() {
        let l = filled();
        let mut v = lines(&l);
        v[1] = v[1].replace("OPENAI_API_KEY", "OTHER");
        write_lines(&l, &v);
        expect_broken(&l, 2, "MAC mismatch");
        let l = filled();
        let mut v = lines(&l);
        v[0] = v[0].replace("1700000000", "1700000001");
        write_lines(&l, &v);
        expect_broken(&l, 1, "MAC mismatch");
    }

    #[test]
    fn deleted_entry_is_detected() {
        let l = filled();
        let mut v = lines(&l);
        v.remove(1);
        write_lines(&l, &v);
        expect_broken(&l, 2, "sequence gap");
    }

    #[test]
    fn inserted_entry_is_detected() {
        let l = filled();
        let mut v = lines(&l);
        let dup = v[1].clone();
        v.insert(3, dup);
        write_lines(&l, &v);
        expect_broken(&l, 4, "sequence gap");
        // A forged entry (MAC under another key) is caught by its MAC.
        let l = filled();
        let other = log();
        other.append_events_at(&[ev("forged")], 1).unwrap();
        let mut v = lines(&l);
        v.insert(0, lines(&other)[0].clone());
        write_lines(&l, &v);
        expect_broken(&l, 1, "MAC mismatch");
    }

    #[test]
    fn reordered_entries_are_detected() {
        let l = filled();
        let mut v = lines(&l);
        v.swap(1, 2);
        write_lines(&l, &v);
        expect_broken(&l, 2, "sequence gap");
    }

    #[test]
    fn truncated_tail_is_detected() {
        let l = filled();
        let mut v = lines(&l);
        v.truncate(3);
        write_lines(&l, &v);
        expect_broken(&l, 0, "truncated");
        // Appending on top of a truncated log is refused.
        assert!(matches!(
            l.append_events_at(&[ev("x")], 1),
            Err(VmError::AuditBroken { .. })
        ));
        // Emptying the log entirely, too.
        write_lines(&l, &[]);
        expect_broken(&l, 0, "truncated");
    }

    #[test]
    fn truncated_mid_line_is_detected() {
        let l = filled();
        let text = std::fs::read_to_string(&l.path).unwrap();
        std::fs::write(&l.path, &text[..text.len() - 10]).unwrap();
        expect_broken(&l, 5, "incomplete");
    }

    #[test]
    fn deleted_or_edited_checkpoint_is_detected() {
        let l = filled();
        let mut h: serde_json::Value =
            serde_json::from_slice(&std::fs::read(l.head_path()).unwrap()).unwrap();
        h["seq"] = 3.into();
        std::fs::write(l.head_path(), serde_json::to_vec(&h).unwrap()).unwrap();
        expect_broken(&l, 0, "head file MAC mismatch");
        std::fs::remove_file(l.head_path()).unwrap();
        expect_broken(&l, 0, "the head file is missing");
    }

    #[test]
    fn edited_prev_is_detected_even_with_valid_mac_shape() {
        // Replace one entry by a validly MACed entry of another chain with the same seq.
        let a = filled();
        let b = Log::new(
            fsutil::tests::tempdir().join("b.log"),
            a.keyring.clone(),
            "vm-1".into(),
        );
        for i in 0..5 {
            b.append_events_at(&[ev(&format!("other{i}"))], 1).unwrap();
        }
        let mut v = lines(&a);
        v[2] = lines(&b)[2].clone();
        write_lines(&a, &v);
        expect_broken(&a, 3, "chain broken");
    }

    #[test]
    fn entries_after_a_crash_before_checkpoint_still_verify() {
        let l = filled();
        let head = std::fs::read(l.head_path()).unwrap();
        l.append_events_at(&[ev("late")], 9).unwrap();
        // Simulate a crash between the log write and the checkpoint write.
        std::fs::write(l.head_path(), head).unwrap();
        assert_eq!(l.verify().unwrap().after_checkpoint, 1);
        // And the next append continues the chain.
        l.append_events_at(&[ev("next")], 10).unwrap();
        assert_eq!(
            l.verify().unwrap(),
            Report {
                entries: 7,
                after_checkpoint: 0,
                pending_intent: false
            }
        );
    }

    #[test]
    fn audit_key_rotates_with_the_keyring() {
        let l = filled();
        let new_kid = l.keyring.rotate().unwrap();
        l.append_events_at(&[ev("after-rotate")], 2).unwrap();
        assert_eq!(l.verify().unwrap().entries, 6);
        let last: serde_json::Value = serde_json::from_str(lines(&l).last().unwrap()).unwrap();
        assert_eq!(last["kid"], new_kid);
        // Another vault id (same keyring) does not verify this log.
        let other = Log::new(l.path.clone(), l.keyring.clone(), "vm-2".into());
        assert!(matches!(other.verify(), Err(VmError::AuditBroken { .. })));
    }

    #[test]
    fn batch_append_chains_each_entry() {
        let l = log();
        l.append_events_at(&[ev("a"), ev("b"), ev("c")], 5).unwrap();
        assert_eq!(l.verify().unwrap().entries, 3);
        let v = lines(&l);
        assert!(!v.iter().any(|s| s.contains("secret-value")));
    }

    fn bound(l: Log, seq: std::sync::Arc<std::sync::atomic::AtomicU64>) -> Log {
        l.with_binding(Box::new(move || {
            let v = seq.load(std::sync::atomic::Ordering::SeqCst);
            Ok((v > 0).then_some(v))
        }))
    }

    fn outcomes(l: &Log) -> Vec<Option<String>> {
        lines(l)
            .iter()
            .map(|s| {
                let v: serde_json::Value = serde_json::from_str(s).unwrap();
                v.get("outcome")
                    .and_then(|o| o.as_str())
                    .map(str::to_string)
            })
            .collect()
    }

    #[test]
    fn a_dead_writers_intent_is_resolved_from_the_vault_record() {
        use std::sync::{atomic::AtomicU64, Arc};
        let rec = Arc::new(AtomicU64::new(0));
        let l = bound(log(), rec.clone());
        // A writer that died after the vault file recorded its intent: resolved `ok`.
        let s = l
            .begin()
            .unwrap()
            .append(&[ev("vault.set")], Some(Outcome::Intent), 1)
            .unwrap();
        rec.store(s, std::sync::atomic::Ordering::SeqCst);
        assert!(l.verify().unwrap().pending_intent);
        l.append_events_at(&[ev("vault.get")], 2).unwrap();
        // One that died before: resolved `unconfirmed`.
        l.begin()
            .unwrap()
            .append(&[ev("vault.set")], Some(Outcome::Intent), 3)
            .unwrap();
        l.append_events_at(&[ev("vault.get")], 4).unwrap();
        assert_eq!(
            outcomes(&l),
            [
                Some("intent".into()),
                Some("ok".into()),
                None,
                Some("intent".into()),
                Some("unconfirmed".into()),
                None
            ]
        );
        assert!(!l.verify().unwrap().pending_intent);
        // The resolution names the same operation and secrets as the intent.
        assert!(lines(&l)[4].contains("\"op\":\"vault.set\",\"names\":[\"OPENAI_API_KEY\"]"));
    }

    #[test]
    fn a_log_shorter_than_the_vault_record_is_refused_and_not_restarted() {
        use std::sync::{atomic::AtomicU64, Arc};
        let rec = Arc::new(AtomicU64::new(0));
        let l = bound(filled(), rec.clone());
        rec.store(5, std::sync::atomic::Ordering::SeqCst);
        l.verify().unwrap();
        // Erase the log and its head file: no new chain at seq 1.
        std::fs::remove_file(&l.path).unwrap();
        std::fs::remove_file(l.head_path()).unwrap();
        expect_broken(&l, 0, "fewer entries than the vault file records");
        assert!(matches!(
            l.append_events_at(&[ev("x")], 1),
            Err(VmError::AuditBroken { .. })
        ));
        assert!(!l.path.exists(), "nothing written");
    }

    #[test]
    fn checkpoints_detect_erasure_truncation_rollback_and_divergence() {
        let l = filled();
        let old_log = std::fs::read(&l.path).unwrap();
        let old_head = std::fs::read(l.head_path()).unwrap();
        l.append_events_at(&[ev("later")], 7).unwrap();
        let cp = l.checkpoint(8).unwrap();
        let cp = Checkpoint::parse(&cp.to_text()).unwrap();
        assert_eq!(cp.seq, 6);
        l.verify_against(&cp).unwrap();
        // A genuine later log passes.
        l.append_events_at(&[ev("later2")], 9).unwrap();
        l.verify_against(&cp).unwrap();
        let keep = (
            std::fs::read(&l.path).unwrap(),
            std::fs::read(l.head_path()).unwrap(),
        );
        let restore = |log: &[u8], head: Option<&[u8]>| {
            std::fs::write(&l.path, log).unwrap();
            match head {
                Some(h) => std::fs::write(l.head_path(), h).unwrap(),
                None => {
                    let _ = std::fs::remove_file(l.head_path());
                }
            }
        };
        let shorter = |l: &Log| match l.verify_against(&cp) {
            Err(VmError::AuditBroken { what, .. }) => {
                assert!(what.contains("shorter than the checkpoint"), "{what}")
            }
            o => panic!("{o:?}"),
        };
        // Rollback: the old log and its old head verify alone, not against the checkpoint.
        restore(&old_log, Some(&old_head));
        l.verify().unwrap();
        shorter(&l);
        // Truncation to empty with the head deleted; erasure of both.
        restore(b"", None);
        l.verify().unwrap();
        shorter(&l);
        std::fs::remove_file(&l.path).unwrap();
        shorter(&l);
        // Divergence: a rolled-back log that grew again past the checkpoint's seq.
        restore(&old_log, Some(&old_head));
        for i in 0..3 {
            l.append_events_at(&[ev(&format!("forked{i}"))], 20)
                .unwrap();
        }
        match l.verify_against(&cp) {
            Err(VmError::AuditBroken { line, what }) => {
                assert_eq!(line, 6);
                assert!(what.contains("diverges"), "{what}");
            }
            o => panic!("{o:?}"),
        }
        restore(&keep.0, Some(&keep.1));
        l.verify_against(&cp).unwrap();
        // An edited checkpoint, or another vault's, does not verify.
        let mut j: serde_json::Value = serde_json::from_str(&cp.to_text()).unwrap();
        j["seq"] = 2.into();
        let edited = Checkpoint::parse(&j.to_string()).unwrap();
        assert!(matches!(
            l.verify_against(&edited),
            Err(VmError::AuditBroken { .. })
        ));
        let other = Log::new(l.path.clone(), l.keyring.clone(), "vm-2".into());
        assert!(matches!(
            other.verify_against(&cp),
            Err(VmError::AuditBroken { .. })
        ));
    }

    #[test]
    fn malformed_checkpoints_are_named() {
        let l = filled();
        let good = l.checkpoint(1).unwrap().to_text();
        let j: serde_json::Value = serde_json::from_str(&good).unwrap();
        let with = |k: &str, v: serde_json::Value| {
            let mut j = j.clone();
            j[k] = v;
            j.to_string()
        };
        for (text, what) in [
            ("".to_string(), "not a checkpoint object"),
            ("not json".into(), "not a checkpoint object"),
            ("{\"v\":1}".into(), "not a checkpoint object"),
            (with("extra", 1.into()), "not a checkpoint object"),
            (with("v", 2.into()), "unknown version"),
            (with("head", "zz".into()), "head is not 64 hex"),
            (with("mac", "00".into()), "mac is not 64 hex"),
            (with("seq", (-1).into()), "not a checkpoint object"),
            (format!("{good}\n{good}"), "more than one line"),
            ("x".repeat(5000), "longer than 4096"),
        ] {
            match Checkpoint::parse(&text) {
                Err(VmError::BadCheckpoint(w)) => assert!(w.contains(what), "{w} vs {what}"),
                o => panic!("{text:?}: {o:?}"),
            }
        }
        Checkpoint::parse(&format!("{good}\n")).unwrap();
    }

    #[test]
    fn log_and_head_are_created_0600() {
        use std::os::unix::fs::PermissionsExt;
        let l = filled();
        for p in [l.path.clone(), l.head_path()] {
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}

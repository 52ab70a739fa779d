//! The VM's audit log: a tamper-evident, append-only JSON-lines file of core's audit
//! chain ([`keycustody::AuditChain`], format v1, docs/audit.md).
//!
//! Each line is one entry `{"seq","ts","kid","op","names",["route"],["actor"],["tenant"],
//! ["outcome"],"prev","mac"}`, MACed by core under the audit key of the vault id (the
//! chain's scope), so it rotates with the keyring. Logs written by earlier versions (no
//! optional fields but `route`) verify unchanged: the format is the same.
//!
//! Beside the log, `<log>.head` is a checkpoint of the last entry (core's
//! [`AuditCheckpoint`] text; a head file in the earlier `{"seq","mac","kid","head_mac"}`
//! form is still read and verified): truncating the tail of the log then no longer
//! verifies. Against erasure of both (and rollback), the vault file records the seq of its
//! last change's `intent` entry (the [`Binding`]), and off-host checkpoints
//! ([`Log::checkpoint`]) record seq and head MAC.
//!
//! A vault change is written as an `intent` entry (fsync), then the vault file (rename),
//! then an `ok` entry, all under the log's lock. A process killed in between leaves the
//! intent as the last entry; the next opener (which then holds the lock, so the writer is
//! dead) resolves it: `ok` when the vault file records the intent's seq (the change
//! committed), `unconfirmed` when it does not (the change did not commit).
//!
//! The proxy's entries go through an [`Appender`] instead: one `write(2)` per batch after
//! a cheap pre-append check, durability group-committed by a flusher (`fdatasync`, then the
//! head file) at most every `--audit-sync-interval`; the log may then be ahead of its head
//! file, which verification accepts (the tail is checked by its MACs).
//!
//! Entries carry secret names and operations, never values.

use super::{fsutil, VmError};
use keycustody::{AuditChain, AuditCheckpoint, AuditEntry, AuditEvent, Error, Keyring};
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub use keycustody::AuditOutcome as Outcome;

/// The longest audit line accepted.
pub const MAX_LINE: usize = keycustody::MAX_AUDIT_ENTRY;
/// The longest checkpoint text accepted.
pub const MAX_CHECKPOINT: usize = keycustody::MAX_AUDIT_CHECKPOINT;

/// One event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The operation (`vault.get`, `proxy.key_use`, ...).
    pub op: String,
    /// Secret names involved (never values).
    pub names: Vec<String>,
    /// The proxy route, if any.
    pub route: Option<String>,
    /// Who acted (e.g. the proxy agent), if known.
    pub actor: Option<String>,
}

impl Event {
    /// An event of operation `op` on secrets `names`.
    pub fn new(op: &str, names: &[&str]) -> Event {
        Event {
            op: op.to_string(),
            names: names.iter().map(|s| s.to_string()).collect(),
            route: None,
            actor: None,
        }
    }

    fn to_core(&self, outcome: Option<Outcome>) -> AuditEvent {
        let mut e = AuditEvent::new(&self.op).names(&self.names);
        if let Some(r) = &self.route {
            e = e.route(r);
        }
        if let Some(a) = &self.actor {
            e = e.actor(a);
        }
        if let Some(o) = outcome {
            e = e.outcome(o);
        }
        e
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

/// Core's chain errors name a seq, which is the line number in a file that starts at seq 1.
fn from_core(e: Error) -> VmError {
    match e {
        Error::AuditBroken { seq, reason } => broken(line_no(seq), reason),
        e => VmError::Core(e),
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The head file's record: the seq and MAC of the last entry.
struct HeadRec {
    seq: u64,
    mac: String,
}

/// The head file as earlier versions wrote it (read only).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacyHead {
    seq: u64,
    mac: String,
    kid: u32,
    head_mac: String,
}

/// A checkpoint's text, diagnosed: what is wrong with it, for the error message (core's
/// parser is the authority; this only names the problem).
fn diagnose_checkpoint(text: &str) -> &'static str {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text.trim()) else {
        return "not JSON";
    };
    let Some(o) = v.as_object() else {
        return "not a JSON object";
    };
    let fields = ["v", "scope", "seq", "head", "ts", "kid", "mac"];
    if o.len() != fields.len() || fields.iter().any(|f| !o.contains_key(*f)) {
        return "its fields must be exactly v, scope, seq, head, ts, kid, mac";
    }
    let hex64 = |k: &str| {
        o[k].as_str().is_some_and(|s| {
            s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
    };
    if o["v"] != 1 {
        return "unknown version (v must be 1)";
    }
    if !hex64("head") {
        return "head is not 64 lowercase hex digits";
    }
    if !hex64("mac") {
        return "mac is not 64 lowercase hex digits";
    }
    if !o["seq"].is_u64() || !o["ts"].is_u64() || !o["kid"].is_u64() {
        return "seq, ts and kid must be non-negative integers";
    }
    if !o["scope"].is_string() {
        return "scope must be a string";
    }
    "not in the canonical form `audit checkpoint` prints"
}

/// Parses a checkpoint's text (one JSON line, as `audit checkpoint` prints it).
///
/// # Errors
/// [`VmError::BadCheckpoint`] naming what is wrong.
pub fn parse_checkpoint(text: &str) -> Result<AuditCheckpoint, VmError> {
    if text.len() > MAX_CHECKPOINT {
        return Err(VmError::BadCheckpoint("longer than 8192 bytes"));
    }
    if text.trim().contains('\n') {
        return Err(VmError::BadCheckpoint("more than one line"));
    }
    AuditCheckpoint::parse(text).map_err(|_| VmError::BadCheckpoint(diagnose_checkpoint(text)))
}

/// An open append: the log's lock is held and its tail verified.
#[derive(Debug)]
pub struct Txn<'a> {
    log: &'a Log,
    chain: AuditChain,
    _lock: fsutil::Lock,
    last: Option<AuditEntry>,
}

impl Txn<'_> {
    /// The seq of the last entry (0 for an empty log).
    pub fn last_seq(&self) -> u64 {
        self.last.as_ref().map_or(0, AuditEntry::seq)
    }

    /// Appends events with `outcome` stamped `now`: one `write` and one `fsync`, then
    /// the head file. Returns the seq of the last entry written.
    ///
    /// # Errors
    /// Core's field limits (`InvalidArgument`); I/O errors.
    pub fn append(
        &mut self,
        events: &[Event],
        outcome: Option<Outcome>,
        now: u64,
    ) -> Result<u64, VmError> {
        if events.is_empty() {
            return Ok(self.last_seq());
        }
        let mut out = Vec::new();
        let mut last = self.last.clone();
        for ev in events {
            let e = self
                .chain
                .next(last.as_ref(), &ev.to_core(outcome), now)
                .map_err(from_core)?;
            out.extend_from_slice(e.to_json().as_bytes());
            out.push(b'\n');
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
        self.log.write_head(&self.chain, last.as_ref(), now)?;
        self.last = last;
        Ok(self.last_seq())
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

    /// Core's chain for this vault (a snapshot of the keyring: made per use, so a rotated
    /// keyring's new primary key is used).
    fn chain(&self) -> Result<AuditChain, VmError> {
        Ok(AuditChain::new(&self.keyring, &self.id)?)
    }

    fn read_head(&self, chain: &AuditChain) -> Result<Option<HeadRec>, VmError> {
        let data = match fsutil::read_limited(&self.head_path(), MAX_LINE as u64) {
            Err(VmError::Core(Error::Io(std::io::ErrorKind::NotFound))) => return Ok(None),
            Err(VmError::Core(Error::TooLarge { .. })) => {
                return Err(broken(0, "the head file is malformed"))
            }
            r => r?,
        };
        let text =
            std::str::from_utf8(&data).map_err(|_| broken(0, "the head file is malformed"))?;
        if let Ok(cp) = AuditCheckpoint::parse(text) {
            chain
                .verify_checkpoint(&cp)
                .map_err(|_| broken(0, "head file MAC mismatch: the head file was edited"))?;
            return Ok(Some(HeadRec {
                seq: cp.seq(),
                mac: cp.head().to_string(),
            }));
        }
        let h: LegacyHead =
            serde_json::from_str(text).map_err(|_| broken(0, "the head file is malformed"))?;
        self.verify_legacy_head(&h)?;
        Ok(Some(HeadRec {
            seq: h.seq,
            mac: h.mac,
        }))
    }

    /// The head file of earlier versions: `HMAC(K, "keycustody-audit-head/v1\0" || id ||
    /// "\0" || seq || "\0" || mac)`. Read only; the next append writes a checkpoint.
    fn verify_legacy_head(&self, h: &LegacyHead) -> Result<(), VmError> {
        use hmac::{Hmac, KeyInit, Mac};
        let bad = || broken(0, "head file MAC mismatch: the head file was edited");
        let want = fsutil::unhex(&h.head_mac).ok_or_else(bad)?;
        let (_, key) = self
            .keyring
            .audit_key(Some(h.kid), &self.id)
            .map_err(|_| broken(0, "the head file names a key id the keyring cannot use"))?;
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(key.expose_secret())
            .map_err(|_| Error::InvalidArgument("mac key"))?;
        m.update(b"keycustody-audit-head/v1\0");
        m.update(self.id.as_bytes());
        m.update(b"\0");
        m.update(h.seq.to_string().as_bytes());
        m.update(b"\0");
        m.update(h.mac.as_bytes());
        m.verify_slice(&want).map_err(|_| bad())
    }

    fn write_head(
        &self,
        chain: &AuditChain,
        last: Option<&AuditEntry>,
        now: u64,
    ) -> Result<(), VmError> {
        let cp = chain.checkpoint(last, now).map_err(from_core)?;
        let mut bytes = cp.to_text().into_bytes();
        bytes.push(b'\n');
        fsutil::write_atomic(&self.head_path(), &bytes, 0o600)?;
        Ok(())
    }

    /// The last entry of the log (verified), reading only the tail of the file.
    fn last_entry(&self, chain: &AuditChain) -> Result<Option<AuditEntry>, VmError> {
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
        let e = AuditEntry::parse(line)
            .map_err(|_| broken(0, "the last line is not a valid entry (not JSON)"))?;
        chain.verify_entry(&e).map_err(from_core)?;
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
        self.begin_locked(lock)
    }

    /// [`Log::begin`] with the log's lock already taken.
    fn begin_locked(&self, lock: fsutil::Lock) -> Result<Txn<'_>, VmError> {
        let chain = self.chain()?;
        fsutil::remove_stale_temps(&self.head_path());
        self.tighten_mode();
        let last = self.last_entry(&chain)?;
        let head = self.read_head(&chain)?;
        let seq = last.as_ref().map_or(0, AuditEntry::seq);
        match (&head, &last) {
            (None, Some(_)) => return Err(broken(0, "the head file is missing")),
            (Some(h), _) if h.seq > seq => {
                return Err(broken(
                    0,
                    "the log is shorter than its head file (truncated)",
                ))
            }
            (Some(h), Some(e)) if h.seq == e.seq() && h.mac != e.mac() => {
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
            chain,
            _lock: lock,
            last,
        };
        if let Some(e) = txn.last.clone() {
            if e.outcome() == Some(Outcome::Intent) {
                // We hold the lock, so the intent's writer is dead: the vault file says
                // whether its change committed.
                let outcome = if bound == Some(e.seq()) {
                    Outcome::Ok
                } else {
                    Outcome::Unconfirmed
                };
                let ev = Event {
                    op: e.op().to_string(),
                    names: e.names().to_vec(),
                    route: e.route().map(str::to_string),
                    actor: e.actor().map(str::to_string),
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
    pub fn verify_with(&self, each: impl FnMut(&AuditEntry, &[u8])) -> Result<Report, VmError> {
        self.verify_full(None, each).map(|(r, _)| r)
    }

    /// Verifies the log (as [`Log::verify`]) and that it extends `cp` (core's
    /// [`AuditChain::check_against`]): it fails on a log shorter than the checkpoint
    /// (erased, truncated or rolled back) or one whose entry at the checkpoint's seq is not
    /// the checkpoint's head (diverged). The checkpoint's MAC is checked first.
    ///
    /// # Errors
    /// [`VmError::AuditBroken`].
    pub fn verify_against(&self, cp: &AuditCheckpoint) -> Result<Report, VmError> {
        self.chain()?.verify_checkpoint(cp).map_err(from_core)?;
        self.verify_full(Some(cp), |_, _| {}).map(|(r, _)| r)
    }

    /// Verifies the whole log, then returns a checkpoint of its last entry at `now`.
    ///
    /// # Errors
    /// As [`Log::verify`].
    pub fn checkpoint(&self, now: u64) -> Result<AuditCheckpoint, VmError> {
        let (_, last) = self.verify_full(None, |_, _| {})?;
        self.chain()?
            .checkpoint(last.as_ref(), now)
            .map_err(from_core)
    }

    fn verify_full(
        &self,
        cp: Option<&AuditCheckpoint>,
        mut each: impl FnMut(&AuditEntry, &[u8]),
    ) -> Result<(Report, Option<AuditEntry>), VmError> {
        let chain = self.chain()?;
        let head = self.read_head(&chain)?;
        let f = match std::fs::File::open(&self.path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let mut v = chain.verifier(None).map_err(from_core)?;
        let mut count = 0u64;
        let mut head_seen = false;
        let mut last: Option<AuditEntry> = None;
        let mut at_cp: Option<AuditEntry> = None;
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
                let e = AuditEntry::parse(text).map_err(|_| {
                    broken(
                        line,
                        "not a valid entry (not JSON, fields missing or not canonical)",
                    )
                })?;
                v.push(&e).map_err(from_core)?;
                if let Some(h) = &head {
                    if h.seq == e.seq() {
                        if h.mac != e.mac() {
                            return Err(broken(line, "entry does not match the head file"));
                        }
                        head_seen = true;
                    }
                }
                if cp.is_some_and(|c| c.seq() == e.seq()) {
                    at_cp = Some(e.clone());
                }
                each(&e, text);
                count += 1;
                last = Some(e);
            }
        }
        if let Some(c) = cp {
            chain
                .check_against(c, &v.report(), at_cp.as_ref())
                .map_err(from_core)?;
        }
        if self.bound_seq()?.is_some_and(|b| b > count) {
            return Err(broken(
                0,
                "the log has fewer entries than the vault file records: entries were erased or truncated",
            ));
        }
        let pending_intent = last
            .as_ref()
            .is_some_and(|e| e.outcome() == Some(Outcome::Intent));
        let report = match head {
            None if count > 0 => return Err(broken(0, "the head file is missing")),
            None => Report {
                entries: 0,
                after_checkpoint: 0,
                pending_intent,
            },
            Some(h) if !head_seen || h.seq > count => {
                return Err(broken(
                    0,
                    "the log ends before its head file: entries were truncated",
                ))
            }
            Some(h) => Report {
                entries: count,
                after_checkpoint: count - h.seq,
                pending_intent,
            },
        };
        Ok((report, last))
    }
}

/// Where a file is and what it looks like: (device, inode, length, mtime ns). A change
/// of any part means another writer (or someone else) touched it.
type FileId = (u64, u64, u64, i128);

fn file_id(m: &std::fs::Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt;
    (
        m.dev(),
        m.ino(),
        m.len(),
        i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
    )
}

fn stat_id(path: &Path) -> Option<FileId> {
    std::fs::metadata(path).ok().map(|m| file_id(&m))
}

/// `fdatasync` of the log at `path`. In debug builds (the tests' binary) a test hook
/// makes it fail with an I/O error while a file `<log>.test-fail-sync` exists (a failing
/// disk cannot be had in a test); release builds have no hook.
fn sync_log(f: &std::fs::File, path: &Path) -> std::io::Result<()> {
    #[cfg(debug_assertions)]
    if super::with_suffix(path, ".test-fail-sync").exists() {
        return Err(std::io::Error::other("injected fdatasync failure"));
    }
    #[cfg(not(debug_assertions))]
    let _ = path;
    f.sync_data()
}

/// What an [`Appender`] knows of the log file it writes.
struct Open {
    /// Opened read + append (`O_APPEND`): every batch is one `write(2)` at the end.
    file: Arc<std::fs::File>,
    /// The log file as of this writer's last write (or last full check).
    id: FileId,
    /// The head file as this writer last saw or wrote it.
    head: Option<FileId>,
    /// The last entry, and where its line starts.
    last: Option<AuditEntry>,
    last_start: u64,
}

#[derive(Default)]
struct AState {
    open: Option<Open>,
    /// Seq of the last entry in the log (this writer's or another's).
    written: u64,
    /// Seq up to which the log is `fdatasync`ed by this writer and the head file written.
    headed: u64,
    /// A failed `fdatasync` or head write: appends are refused until the log syncs
    /// and verifies again.
    failed: Option<String>,
    last_recovery: Option<Instant>,
    /// The next append runs the full check.
    recheck: bool,
    stop: bool,
}

struct Shared {
    log: Log,
    interval: Duration,
    st: Mutex<AState>,
    wake: Condvar,
}

/// Group-committed appends for a long-running writer: the proxy's key-use and refusal
/// entries (the vault's commands keep [`Log::begin`]'s synchronous durability).
///
/// [`Appender::append`] takes the log's lock, checks that the log and its head file are
/// as this writer left them (their inode, length and mtime; on any difference the full
/// check of [`Log::begin`] runs, and the log must still hold this writer's last entry
/// at the same offset, with whatever another writer appended after it verifying against
/// the chain), and writes the batch with one `write(2)`. The entries are then in the page
/// cache: a crash of the process loses none. Durability is group-committed: a flusher
/// thread `fdatasync`s the log at most every `interval` and then rewrites the head file
/// to the last entry it synced, so the head never claims more than is durable (the log
/// may be ahead of its head; [`Log::verify`] accepts that and verifies the tail by its
/// MACs). A power loss may lose the entries of the last interval. With a zero interval
/// every append is synced (log and head) before it returns.
///
/// A failed sync or head write flips the appender into refusing (`append` fails) until
/// the log verifies ([`Log::verify`]) and syncs again (tried at most once per interval,
/// and at least 200 ms apart); the failure is reported on stderr once.
pub struct Appender {
    shared: Arc<Shared>,
    flusher: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Appender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Appender")
            .field("log", &self.shared.log)
            .field("interval", &self.shared.interval)
            .finish_non_exhaustive()
    }
}

fn lock_st(m: &Mutex<AState>) -> std::sync::MutexGuard<'_, AState> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Appender {
    /// An appender of `log`, syncing at most every `interval` (zero: on every append).
    /// Nothing is read or written until the first append.
    pub fn new(log: Log, interval: Duration) -> Appender {
        let shared = Arc::new(Shared {
            log,
            interval,
            st: Mutex::new(AState::default()),
            wake: Condvar::new(),
        });
        let flusher = (!interval.is_zero()).then(|| {
            let sh = Arc::clone(&shared);
            std::thread::spawn(move || sh.flush_loop())
        });
        Appender { shared, flusher }
    }

    /// The log.
    pub fn log(&self) -> &Log {
        &self.shared.log
    }

    /// Appends events stamped `now` (see the type's doc). Returns the seq of the last
    /// entry written.
    ///
    /// # Errors
    /// [`VmError::AuditBroken`] when the log or its head file is not as this writer left
    /// it and does not verify (nothing is written); core's field limits; I/O errors; the
    /// failure of an earlier sync while it lasts.
    pub fn append(&self, events: &[Event], now: u64) -> Result<u64, VmError> {
        let sh = &*self.shared;
        let mut st = lock_st(&sh.st);
        if st.stop {
            return Err(VmError::Refused("the audit appender is closed"));
        }
        if st.failed.is_some() {
            sh.recover(&mut st)?;
        }
        if events.is_empty() {
            return Ok(st.written);
        }
        let chain = sh.log.chain()?;
        let lock = fsutil::lock(&sh.log.path)?;
        let current = match &st.open {
            Some(o) if !st.recheck => sh.is_current(o)?,
            _ => false,
        };
        let _held = if current {
            lock
        } else {
            // Keep what this writer knew until the full check passes: a log truncated
            // below this writer's last entry stays refused on every later attempt.
            let (open, lock) = sh.reopen(lock, st.open.as_ref())?;
            st.written = open.last.as_ref().map_or(0, AuditEntry::seq);
            st.open = Some(open);
            st.recheck = false;
            lock
        };
        let Some(open) = st.open.as_mut() else {
            return Err(VmError::Refused("the audit log is not open"));
        };
        let mut out = Vec::new();
        let mut last = open.last.clone();
        let mut last_len = 0;
        for ev in events {
            let e = chain
                .next(last.as_ref(), &ev.to_core(None), now)
                .map_err(from_core)?;
            let text = e.to_json();
            last_len = text.len() as u64 + 1;
            out.extend_from_slice(text.as_bytes());
            out.push(b'\n');
            last = Some(e);
        }
        let before = open.id.2;
        if let Err(e) = (&*open.file).write_all(&out) {
            // Take back a partial line; if that fails too, the next append's check
            // finds the length changed and refuses on the incomplete line.
            let _ = open.file.set_len(before);
            return Err(e.into());
        }
        open.id = file_id(&open.file.metadata()?);
        if open.id.2 != before + out.len() as u64 {
            return Err(broken(0, "the log changed during an append"));
        }
        open.last_start = open.id.2 - last_len;
        open.last = last;
        let written = open.last.as_ref().map_or(0, AuditEntry::seq);
        let no_head = open.head.is_none();
        st.written = written;
        drop(_held);
        if sh.interval.is_zero() || no_head {
            // Strict mode, or a log without a head file yet (its first entries): the
            // log is synced and the head written before the entries count as recorded.
            sh.sync_now(&mut st)?;
        }
        Ok(st.written)
    }

    /// Syncs what is written and writes the head file now.
    ///
    /// # Errors
    /// As [`Appender::append`].
    pub fn flush(&self) -> Result<(), VmError> {
        let sh = &*self.shared;
        let mut st = lock_st(&sh.st);
        if st.failed.is_some() {
            return Err(VmError::Refused("the audit log could not be synced"));
        }
        sh.sync_now(&mut st)
    }
}

impl Drop for Appender {
    /// Stops the flusher, which syncs what is left and writes the head file.
    fn drop(&mut self) {
        lock_st(&self.shared.st).stop = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.flusher.take() {
            let _ = t.join();
        }
    }
}

impl Shared {
    /// Whether the log and the head file are as this writer left them (then nothing
    /// needs reading; the lock is held, so no one can append meanwhile).
    fn is_current(&self, o: &Open) -> Result<bool, VmError> {
        let mine = file_id(&o.file.metadata()?);
        Ok(mine == o.id
            && stat_id(&self.log.path) == Some(o.id)
            && stat_id(&self.log.head_path()) == o.head)
    }

    /// The full check ([`Log::begin`], under `lock`) and, when this writer wrote
    /// before, that the log still holds its last entry where it was, with what was
    /// appended after it chaining from it.
    fn reopen(
        &self,
        lock: fsutil::Lock,
        prior: Option<&Open>,
    ) -> Result<(Open, fsutil::Lock), VmError> {
        let Txn {
            _lock: lock, last, ..
        } = self.log.begin_locked(lock)?;
        let file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .read(true)
                .append(true)
                .create(true)
                .mode(0o600)
                .open(&self.log.path)?
        };
        let id = file_id(&file.metadata()?);
        if let Some(p) = prior {
            self.check_continuity(&file, id.2, p, last.as_ref())?;
        }
        let last_start = match &last {
            Some(e) => id.2.saturating_sub(e.to_json().len() as u64 + 1),
            None => 0,
        };
        let open = Open {
            file: Arc::new(file),
            id,
            head: stat_id(&self.log.head_path()),
            last,
            last_start,
        };
        Ok((open, lock))
    }

    fn check_continuity(
        &self,
        file: &std::fs::File,
        len: u64,
        p: &Open,
        now_last: Option<&AuditEntry>,
    ) -> Result<(), VmError> {
        if len < p.id.2 {
            return Err(broken(
                0,
                "the log is shorter than what this writer appended: entries were truncated",
            ));
        }
        let Some(mine) = &p.last else {
            return Ok(());
        };
        let seq_line = line_no(mine.seq());
        let mut r = std::io::BufReader::new(file);
        r.seek(SeekFrom::Start(p.last_start))?;
        let mut buf = Vec::new();
        r.by_ref()
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)?;
        if buf.strip_suffix(b"\n") != Some(mine.to_json().as_bytes()) {
            return Err(broken(
                seq_line,
                "the log no longer holds this writer's last entry (replaced or rewritten)",
            ));
        }
        let chain = self.log.chain()?;
        let mut v = chain.verifier(Some(mine)).map_err(from_core)?;
        let mut last = mine.clone();
        loop {
            buf.clear();
            let n = r
                .by_ref()
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut buf)?;
            if n == 0 {
                break;
            }
            let line = line_no(last.seq().saturating_add(1));
            let text = buf
                .strip_suffix(b"\n")
                .ok_or_else(|| broken(line, "incomplete or over-long line"))?;
            let e = AuditEntry::parse(text).map_err(|_| {
                broken(
                    line,
                    "not a valid entry (not JSON, fields missing or not canonical)",
                )
            })?;
            v.push(&e).map_err(from_core)?;
            last = e;
        }
        if now_last.map(AuditEntry::mac) != Some(last.mac()) {
            return Err(broken(0, "the log changed while it was checked"));
        }
        Ok(())
    }

    /// Syncs the log and writes the head file for the last entry written, holding the
    /// state (strict mode, first entries, close).
    fn sync_now(&self, st: &mut AState) -> Result<(), VmError> {
        let Some(o) = &st.open else {
            return Ok(());
        };
        if st.headed >= st.written && o.head.is_some() {
            return Ok(());
        }
        let (file, last, seq) = (Arc::clone(&o.file), o.last.clone(), st.written);
        match self.sync_and_head(&file, last.as_ref(), seq, o.head) {
            Ok(head) => {
                st.headed = st.headed.max(seq);
                if let (Some(o), Some(h)) = (st.open.as_mut(), head) {
                    o.head = Some(h);
                }
                Ok(())
            }
            Err(e) => {
                self.fail(st, &e);
                Err(e)
            }
        }
    }

    /// `fdatasync`, then (unless a later head is already there) the head file for
    /// `last`. Returns the head file as written. The head on disk is checked first: a
    /// head file that was deleted, edited or moved past the log is not papered over.
    fn sync_and_head(
        &self,
        file: &std::fs::File,
        last: Option<&AuditEntry>,
        seq: u64,
        head_was: Option<FileId>,
    ) -> Result<Option<FileId>, VmError> {
        sync_log(file, &self.log.path)?;
        let chain = self.log.chain()?;
        let head_path = self.log.head_path();
        match self.log.read_head(&chain)? {
            // Another writer's head, as far as ours or further: left for the next
            // append's full check (the cached head differs from it).
            Some(h) if h.seq > seq => return Ok(None),
            Some(h) if h.seq == seq => {
                return if last.is_some_and(|e| e.mac() == h.mac) {
                    Ok(None)
                } else {
                    Err(broken(0, "the last entry does not match the head file"))
                }
            }
            None if head_was.is_some() => return Err(broken(0, "the head file is missing")),
            _ => {}
        }
        match self.log.write_head(&chain, last, now_secs()) {
            Ok(()) => Ok(stat_id(&head_path)),
            // Another opener removed our temp file as stale: retried at the next sync.
            Err(VmError::Core(Error::Io(std::io::ErrorKind::NotFound))) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether a head file must exist (a log with entries always has one).
    fn fail(&self, st: &mut AState, e: &VmError) {
        if st.failed.is_none() {
            eprintln!(
                "keycustody proxy: AUDIT SYNC FAILED: {e}; key uses are refused (503) until the audit log syncs and verifies again"
            );
        }
        st.failed = Some(e.to_string());
    }

    /// After a failed sync: the whole log must verify and sync again (tried at most once
    /// per interval).
    fn recover(&self, st: &mut AState) -> Result<(), VmError> {
        let gap = self.interval.max(Duration::from_millis(200));
        let refused = || VmError::Refused("the audit log could not be synced");
        if st.last_recovery.is_some_and(|t| t.elapsed() < gap) {
            return Err(refused());
        }
        st.last_recovery = Some(Instant::now());
        self.log.verify()?;
        let f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log.path)?;
        sync_log(&f, &self.log.path).map_err(|_| refused())?;
        // The next append re-checks the log in full against what this writer wrote.
        st.recheck = true;
        st.failed = None;
        eprintln!("keycustody proxy: audit log syncs again; key uses are accepted");
        Ok(())
    }

    fn flush_loop(&self) {
        let mut st = lock_st(&self.st);
        loop {
            if !st.stop {
                st = match self.wake.wait_timeout(st, self.interval) {
                    Ok((g, _)) => g,
                    Err(p) => p.into_inner().0,
                };
            }
            let stop = st.stop;
            if st.failed.is_none() && st.written > st.headed {
                if let Some(o) = &st.open {
                    let (file, last, seq, head) =
                        (Arc::clone(&o.file), o.last.clone(), st.written, o.head);
                    // The sync runs without the state: appends go on meanwhile.
                    drop(st);
                    let res = self.sync_and_head(&file, last.as_ref(), seq, head);
                    st = lock_st(&self.st);
                    match res {
                        Ok(head) => {
                            st.headed = st.headed.max(seq);
                            if let (Some(o), Some(h)) = (st.open.as_mut(), head) {
                                o.head = Some(h);
                            }
                        }
                        Err(e) => self.fail(&mut st, &e),
                    }
                }
            }
            if stop {
                return;
            }
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
        let h = std::fs::read_to_string(l.head_path()).unwrap();
        assert!(h.contains("\"seq\":5,"), "{h}");
        std::fs::write(l.head_path(), h.replace("\"seq\":5,", "\"seq\":3,")).unwrap();
        expect_broken(&l, 0, "head file MAC mismatch");
        std::fs::write(l.head_path(), "{not a head").unwrap();
        expect_broken(&l, 0, "the head file is malformed");
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
        expect_broken(&a, 3, "prev does not link");
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
        let cp = parse_checkpoint(&cp.to_text()).unwrap();
        assert_eq!(cp.seq(), 6);
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
                assert!(
                    what.contains("shorter than the checkpoint") || what.contains("(erased)"),
                    "{what}"
                )
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
                assert!(what.contains("diverges from checkpoint"), "{what}");
            }
            o => panic!("{o:?}"),
        }
        restore(&keep.0, Some(&keep.1));
        l.verify_against(&cp).unwrap();
        // An edited checkpoint, or another vault's, does not verify.
        let edited = cp.to_text().replace("\"seq\":6,", "\"seq\":2,");
        let edited = parse_checkpoint(&edited).unwrap();
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
            ("".to_string(), "not JSON"),
            ("not json".into(), "not JSON"),
            ("[1]".into(), "not a JSON object"),
            ("{\"v\":1}".into(), "fields must be exactly"),
            (with("extra", 1.into()), "fields must be exactly"),
            (with("v", 2.into()), "unknown version"),
            (with("head", "zz".into()), "head is not 64 lowercase hex"),
            (with("mac", "00".into()), "mac is not 64 lowercase hex"),
            (with("seq", (-1).into()), "non-negative integers"),
            (with("scope", 1.into()), "scope must be a string"),
            (good.replace(",", ", "), "canonical form"),
            (format!("{good}\n{good}"), "more than one line"),
            ("x".repeat(9000), "longer than 8192"),
        ] {
            match parse_checkpoint(&text) {
                Err(VmError::BadCheckpoint(w)) => assert!(w.contains(what), "{w} vs {what}"),
                o => panic!("{text:?}: {o:?}"),
            }
        }
        parse_checkpoint(&format!("{good}\n")).unwrap();
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

    #[test]
    fn logs_and_head_files_of_earlier_versions_still_verify() {
        // Written by the CLI before core's chain (route and no outcome; the head file in
        // its earlier form), under a fixed keyring.
        let kr = Keyring::from_secret(&[7u8; 32], 1).unwrap();
        let l = Log::new(
            fsutil::tests::tempdir().join("old.audit"),
            kr.clone(),
            "vm-old".into(),
        );
        // Build the old lines with the old MAC input (serde_json of the fields in order).
        use hmac::{Hmac, KeyInit, Mac};
        let (kid, key) = kr.audit_key(None, "vm-old").unwrap();
        let mac = |bytes: &[u8]| {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(key.expose_secret()).unwrap();
            m.update(bytes);
            fsutil::hex(&m.finalize().into_bytes())
        };
        let genesis = "0".repeat(64);
        let b1 = format!(
            r#"{{"seq":1,"ts":1700000000,"kid":{kid},"op":"vault.init","names":[],"prev":"{genesis}"}}"#
        );
        let m1 = mac(b1.as_bytes());
        let b2 = format!(
            r#"{{"seq":2,"ts":1700000001,"kid":{kid},"op":"proxy.key_use","names":["OPENAI_API_KEY"],"route":"openai","prev":"{m1}"}}"#
        );
        let m2 = mac(b2.as_bytes());
        let line = |b: &str, m: &str| format!("{},\"mac\":\"{m}\"}}\n", &b[..b.len() - 1]);
        std::fs::write(&l.path, line(&b1, &m1) + &line(&b2, &m2)).unwrap();
        let mut hm = Hmac::<sha2::Sha256>::new_from_slice(key.expose_secret()).unwrap();
        hm.update(b"keycustody-audit-head/v1\x00vm-old\x002\x00");
        hm.update(m2.as_bytes());
        let head = format!(
            r#"{{"seq":2,"mac":"{m2}","kid":{kid},"head_mac":"{}"}}"#,
            fsutil::hex(&hm.finalize().into_bytes())
        );
        std::fs::write(l.head_path(), &head).unwrap();
        assert_eq!(l.verify().unwrap().entries, 2);
        // An edited legacy head is refused; the next append writes a checkpoint head.
        std::fs::write(l.head_path(), head.replace("\"seq\":2", "\"seq\":1")).unwrap();
        expect_broken(&l, 0, "head file MAC mismatch");
        std::fs::write(l.head_path(), &head).unwrap();
        l.append_events_at(&[ev("vault.get")], 1700000002).unwrap();
        assert_eq!(l.verify().unwrap().entries, 3);
        let h = std::fs::read_to_string(l.head_path()).unwrap();
        assert_eq!(parse_checkpoint(&h).unwrap().seq(), 3);
        assert!(lines(&l)[1].ends_with(&format!("\"mac\":\"{m2}\"}}")));
    }

    #[test]
    fn the_actor_is_recorded_and_verified() {
        let l = filled();
        let mut e = ev("proxy.key_use");
        e.route = Some("openai".into());
        e.actor = Some("agent-7".into());
        l.append_events_at(&[e], 9).unwrap();
        let last = lines(&l).pop().unwrap();
        assert!(
            last.contains("\"route\":\"openai\",\"actor\":\"agent-7\",\"prev\""),
            "{last}"
        );
        assert_eq!(l.verify().unwrap().entries, 6);
        let mut v = lines(&l);
        v[5] = v[5].replace("agent-7", "agent-8");
        write_lines(&l, &v);
        expect_broken(&l, 6, "MAC mismatch");
    }

    fn twin(l: &Log) -> Log {
        Log::new(l.path.clone(), l.keyring.clone(), l.id.clone())
    }

    fn head_seq(l: &Log) -> u64 {
        let h = std::fs::read_to_string(l.head_path()).unwrap();
        parse_checkpoint(&h).unwrap().seq()
    }

    const LONG: Duration = Duration::from_secs(3600);

    #[test]
    fn appender_head_lags_the_log_and_verify_passes() {
        let l = filled();
        let a = Appender::new(twin(&l), LONG);
        for i in 0..3 {
            assert_eq!(a.append(&[ev(&format!("use{i}"))], 9).unwrap(), 6 + i);
        }
        // Written (one write each), not yet synced: the head still names seq 5.
        assert_eq!(lines(&l).len(), 8);
        assert_eq!(head_seq(&l), 5);
        assert_eq!(
            l.verify().unwrap(),
            Report {
                entries: 8,
                after_checkpoint: 3,
                pending_intent: false
            }
        );
        // Another writer (a `vault` command) appends on top of the lagging head, and the
        // appender continues the chain after it.
        l.append_events_at(&[ev("vault.get")], 10).unwrap();
        assert_eq!(head_seq(&l), 9);
        assert_eq!(a.append(&[ev("use3")], 11).unwrap(), 10);
        // Closing syncs and writes the head.
        drop(a);
        assert_eq!(head_seq(&l), 10);
        assert_eq!(l.verify().unwrap().after_checkpoint, 0);
    }

    #[test]
    fn appender_flushes_within_the_interval() {
        let l = filled();
        let a = Appender::new(twin(&l), Duration::from_millis(20));
        a.append(&[ev("use")], 9).unwrap();
        for _ in 0..500 {
            if head_seq(&l) == 6 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(head_seq(&l), 6);
        drop(a);
    }

    #[test]
    fn appender_with_zero_interval_syncs_before_returning() {
        let l = filled();
        let a = Appender::new(twin(&l), Duration::ZERO);
        a.append(&[ev("use")], 9).unwrap();
        assert_eq!(head_seq(&l), 6);
        // A failing sync fails the append itself.
        std::fs::write(super::super::with_suffix(&l.path, ".test-fail-sync"), b"").unwrap();
        assert!(a.append(&[ev("use")], 9).is_err());
        assert_eq!(head_seq(&l), 6);
    }

    #[test]
    fn a_new_log_gets_its_head_with_its_first_entries() {
        let l = log();
        let a = Appender::new(twin(&l), LONG);
        a.append(&[ev("first")], 1).unwrap();
        assert_eq!(head_seq(&l), 1);
        a.append(&[ev("second")], 1).unwrap();
        assert_eq!(head_seq(&l), 1);
        assert_eq!(l.verify().unwrap().entries, 2);
    }

    #[test]
    fn truncation_below_the_head_or_under_the_appender_is_detected() {
        let l = filled();
        let a = Appender::new(twin(&l), LONG);
        for i in 0..3 {
            a.append(&[ev(&format!("use{i}"))], 9).unwrap();
        }
        // Below the head file: `verify` says so.
        let v = lines(&l);
        write_lines(&l, &v[..4]);
        expect_broken(&l, 0, "truncated");
        assert!(matches!(
            a.append(&[ev("x")], 9),
            Err(VmError::AuditBroken { .. })
        ));
        // Above the (lagging) head but below what the appender wrote: the log verifies
        // alone (the window a power loss may also lose), yet the running appender
        // refuses, on every later attempt too.
        write_lines(&l, &v[..6]);
        l.verify().unwrap();
        for _ in 0..2 {
            match a.append(&[ev("x")], 9) {
                Err(VmError::AuditBroken { what, .. }) => {
                    assert!(
                        what.contains("shorter than what this writer appended"),
                        "{what}"
                    )
                }
                o => panic!("{o:?}"),
            }
        }
        assert_eq!(lines(&l).len(), 6, "nothing written");
        // A log whose last entry was replaced by another, validly MACed one (the log
        // rolled back to before it, then grown by another writer) is refused too.
        let l = filled();
        let before = std::fs::read(&l.path).unwrap();
        let head = std::fs::read(l.head_path()).unwrap();
        let a = Appender::new(twin(&l), LONG);
        a.append(&[ev("use")], 9).unwrap();
        std::fs::write(&l.path, &before).unwrap();
        std::fs::write(l.head_path(), &head).unwrap();
        l.append_events_at(&[ev("other")], 9).unwrap();
        l.verify().unwrap();
        match a.append(&[ev("x")], 9) {
            Err(VmError::AuditBroken { what, .. }) => {
                assert!(
                    what.contains("no longer holds this writer's last entry"),
                    "{what}"
                )
            }
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn a_failed_sync_refuses_until_the_log_syncs_and_verifies_again() {
        let l = filled();
        let a = Appender::new(twin(&l), Duration::from_millis(10));
        a.append(&[ev("use")], 9).unwrap();
        let trigger = super::super::with_suffix(&l.path, ".test-fail-sync");
        std::fs::write(&trigger, b"").unwrap();
        a.append(&[ev("use")], 9).unwrap();
        let mut refused = false;
        for _ in 0..500 {
            std::thread::sleep(Duration::from_millis(10));
            if a.append(&[ev("use")], 9).is_err() {
                refused = true;
                break;
            }
        }
        assert!(refused, "a failed sync must refuse appends");
        let n = lines(&l).len();
        assert!(a.append(&[ev("use")], 9).is_err());
        assert_eq!(lines(&l).len(), n, "nothing written while refusing");
        std::fs::remove_file(&trigger).unwrap();
        let mut ok = false;
        for _ in 0..500 {
            std::thread::sleep(Duration::from_millis(20));
            if a.append(&[ev("after")], 9).is_ok() {
                ok = true;
                break;
            }
        }
        assert!(ok, "appends resume once the log syncs again");
        drop(a);
        assert_eq!(l.verify().unwrap().after_checkpoint, 0);
        assert!(lines(&l).last().unwrap().contains("\"after\""));
    }

    #[test]
    fn concurrent_appends_stay_in_one_chain_in_order() {
        let l = filled();
        let a = Arc::new(Appender::new(twin(&l), Duration::from_millis(5)));
        let threads: Vec<_> = (0..6)
            .map(|t| {
                let a = Arc::clone(&a);
                let other = twin(&l);
                std::thread::spawn(move || {
                    for i in 0..150 {
                        if t == 0 && i % 10 == 0 {
                            // Another writer (a `vault` command) in between.
                            other
                                .append_events_at(&[ev(&format!("t{t}-{i}"))], 3)
                                .unwrap();
                        } else {
                            a.append(&[ev(&format!("t{t}-{i}"))], 3).unwrap();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(a);
        assert_eq!(
            l.verify().unwrap(),
            Report {
                entries: 5 + 6 * 150,
                after_checkpoint: 0,
                pending_intent: false
            }
        );
        let v = lines(&l);
        for t in 0..6 {
            let ops: Vec<usize> = v
                .iter()
                .filter_map(|s| {
                    let j: serde_json::Value = serde_json::from_str(s).unwrap();
                    j["op"]
                        .as_str()
                        .unwrap()
                        .strip_prefix(&format!("t{t}-"))
                        .map(|n| n.parse().unwrap())
                })
                .collect();
            assert_eq!(ops, (0..150).collect::<Vec<_>>(), "thread {t}");
        }
    }
}

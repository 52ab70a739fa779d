//! `keycustody audit`: a tamper-evident, append-only JSON-lines log.
//!
//! Each line is one entry `{"seq","ts","kid","op","names",["route"],"prev","mac"}`
//! where `mac = HMAC-SHA256(K_kid, JSON of every other field)` and `prev` is the
//! previous entry's `mac` (64 zeros for the first), with
//! `K_kid = HKDF(root_kid, "keycustody/v1/audit" || 0x00 || vault id)`. The kid is
//! recorded in each entry, so the audit key rotates with the keyring.
//!
//! Beside the log, `<log>.head` is a MACed checkpoint naming the last entry's seq
//! and mac: truncating the tail of the log then no longer verifies. Entries carry
//! secret names and operations, never values.

use crate::vault::{fsutil, Location, Vault, VmError};
use hmac::{Hmac, KeyInit, Mac};
use keycustody::{Error, Keyring};
use sha2::Sha256;
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The longest audit line accepted.
pub const MAX_LINE: usize = 64 * 1024;
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const HEAD_DOMAIN: &[u8] = b"keycustody-audit-head/v1\0";

/// Subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Verify the whole chain and its checkpoint; exit 3 on any tampering.
    Verify {
        #[command(flatten)]
        loc: Location,
    },
    /// Verify, then print the entries.
    Show {
        #[command(flatten)]
        loc: Location,
    },
}

/// One event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The operation (`vault.get`, `proxy.key_use`, ...).
    pub op: String,
    /// Secret names involved (never values).
    pub names: Vec<String>,
    /// The proxy route, if any.
    pub route: Option<String>,
    /// Who acted (the proxy agent), if known; absent in entries written before it existed.
    pub actor: Option<String>,
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
    prev: &'a str,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
struct Entry {
    seq: u64,
    ts: u64,
    kid: u32,
    op: String,
    names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    route: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    actor: Option<String>,
    prev: String,
    mac: String,
}

#[derive(serde::Serialize, serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Head {
    seq: u64,
    mac: String,
    kid: u32,
    head_mac: String,
}

/// What `verify` found in a log that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Number of entries.
    pub entries: u64,
    /// Entries after the checkpoint (left by a crash between append and checkpoint).
    pub after_checkpoint: u64,
}

/// The audit log of one vault.
pub struct Log {
    path: PathBuf,
    keyring: Keyring,
    id: String,
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
            prev: &self.prev,
        }
    }
}

impl Log {
    /// The log at `path` for vault `id`, keyed from `keyring`.
    pub fn new(path: PathBuf, keyring: Keyring, id: String) -> Log {
        Log { path, keyring, id }
    }

    fn head_path(&self) -> PathBuf {
        let mut s = self.path.as_os_str().to_owned();
        s.push(".head");
        PathBuf::from(s)
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
            serde_json::from_slice(&data).map_err(|_| broken(0, "checkpoint file is malformed"))?;
        let want = fsutil::unhex(&h.head_mac).ok_or(broken(0, "checkpoint file is malformed"))?;
        let (_, m) = self
            .head_mac(Some(h.kid), h.seq, &h.mac)
            .map_err(|_| broken(0, "checkpoint names a key id the keyring cannot use"))?;
        m.verify_slice(&want)
            .map_err(|_| broken(0, "checkpoint MAC mismatch: the checkpoint was edited"))?;
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
        let e: Entry =
            serde_json::from_slice(line).map_err(|_| broken(0, "the last line is not an entry"))?;
        self.check_entry(&e, 0)?;
        Ok(Some(e))
    }

    /// Appends one event (see [`Log::append_events_at`]).
    ///
    /// # Errors
    /// As [`Log::append_events_at`].
    pub fn append(&self, op: &str, names: &[&str], route: Option<&str>) -> Result<(), VmError> {
        self.append_events(&[Event {
            op: op.to_string(),
            names: names.iter().map(|s| s.to_string()).collect(),
            route: route.map(str::to_string),
            actor: None,
        }])
    }

    /// Appends events stamped with the current time.
    ///
    /// # Errors
    /// As [`Log::append_events_at`].
    pub fn append_events(&self, events: &[Event]) -> Result<(), VmError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.append_events_at(events, now)
    }

    /// Appends events with timestamp `now` (Unix seconds), under the log's lock:
    /// one `write` and one `fsync` for the batch, then the checkpoint.
    ///
    /// # Errors
    /// [`VmError::AuditBroken`] when the tail or the checkpoint does not verify
    /// (the log refuses to grow on top of a tampered tail); I/O errors.
    pub fn append_events_at(&self, events: &[Event], now: u64) -> Result<(), VmError> {
        if events.is_empty() {
            return Ok(());
        }
        let _lock = fsutil::lock(&self.path)?;
        let last = self.last_entry()?;
        let head = self.read_head()?;
        let (mut seq, mut prev) = match &last {
            Some(e) => (e.seq, e.mac.clone()),
            None => (0, GENESIS.to_string()),
        };
        match (&head, &last) {
            (None, Some(_)) => return Err(broken(0, "the checkpoint file is missing")),
            (Some(h), _) if h.seq > seq => {
                return Err(broken(
                    0,
                    "the log is shorter than its checkpoint (truncated)",
                ))
            }
            (Some(h), Some(e)) if h.seq == e.seq && h.mac != e.mac => {
                return Err(broken(0, "the last entry does not match the checkpoint"))
            }
            _ => {}
        }
        let mut out = Vec::new();
        for ev in events {
            seq += 1;
            let body = Body {
                seq,
                ts: now,
                kid: 0,
                op: &ev.op,
                names: &ev.names,
                route: ev.route.as_deref(),
                actor: ev.actor.as_deref(),
                prev: &prev,
            };
            let kid = self.keyring.primary_kid();
            let body = Body { kid, ..body };
            let (_, m) = self.entry_mac(Some(kid), &body)?;
            let e = Entry {
                seq,
                ts: now,
                kid,
                op: ev.op.clone(),
                names: ev.names.clone(),
                route: ev.route.clone(),
                actor: ev.actor.clone(),
                prev: prev.clone(),
                mac: fsutil::hex(&m.finalize().into_bytes()),
            };
            serde_json::to_writer(&mut out, &e).map_err(|_| Error::InvalidArgument("serialize"))?;
            out.push(b'\n');
            prev = e.mac;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        f.write_all(&out)?;
        f.sync_data()?;
        self.write_head(seq, &prev)
    }

    /// Verifies every entry, the chain and the checkpoint.
    ///
    /// # Errors
    /// [`VmError::AuditBroken`] naming the first bad line and what is wrong.
    pub fn verify(&self) -> Result<Report, VmError> {
        self.verify_with(|_| {})
    }

    fn verify_with(&self, mut each: impl FnMut(&Entry)) -> Result<Report, VmError> {
        let head = self.read_head()?;
        let f = match std::fs::File::open(&self.path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let mut count = 0u64;
        let mut prev = GENESIS.to_string();
        let mut head_seen = false;
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
                let line = usize::try_from(count + 1).unwrap_or(usize::MAX);
                if buf.last() != Some(&b'\n') {
                    return Err(broken(line, "incomplete or over-long line"));
                }
                let e: Entry = serde_json::from_slice(&buf[..buf.len() - 1])
                    .map_err(|_| broken(line, "not a valid entry"))?;
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
                            return Err(broken(line, "entry does not match the checkpoint"));
                        }
                        head_seen = true;
                    }
                }
                each(&e);
                count += 1;
                prev = e.mac;
            }
        }
        match head {
            None if count > 0 => Err(broken(0, "the checkpoint file is missing")),
            None => Ok(Report {
                entries: 0,
                after_checkpoint: 0,
            }),
            Some(h) if !head_seen || h.seq > count => Err(broken(
                0,
                "the log ends before its checkpoint: entries were truncated",
            )),
            Some(h) => Ok(Report {
                entries: count,
                after_checkpoint: count - h.seq,
            }),
        }
    }
}

/// Runs an `audit` subcommand.
///
/// # Errors
/// Never in practice: errors are reported and turned into an exit code.
pub fn run(c: Command) -> Result<ExitCode, Error> {
    crate::vault::finish(run_inner(c))
}

fn open_log(loc: &Location) -> Result<Log, VmError> {
    let v = Vault::open(loc)?;
    Ok(v.audit_log(loc))
}

fn run_inner(c: Command) -> Result<ExitCode, VmError> {
    match c {
        Command::Verify { loc } => {
            let r = open_log(&loc)?.verify()?;
            report(&loc.audit_path(), &r);
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { loc } => {
            let mut lines = Vec::new();
            let r = open_log(&loc)?.verify_with(|e| {
                lines.push(format!(
                    "{}\t{}\t{}\t{}{}{}",
                    e.seq,
                    e.ts,
                    e.op,
                    e.names.join(","),
                    e.route
                        .as_deref()
                        .map(|r| format!("\troute={r}"))
                        .unwrap_or_default(),
                    e.actor
                        .as_deref()
                        .map(|a| format!("\tactor={a}"))
                        .unwrap_or_default()
                ))
            })?;
            let mut out = std::io::stdout().lock();
            for l in lines {
                writeln!(out, "{l}")?;
            }
            report(&loc.audit_path(), &r);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn report(path: &Path, r: &Report) {
    eprintln!(
        "keycustody: audit log {} verified: {} entries{}",
        path.display(),
        r.entries,
        if r.after_checkpoint > 0 {
            format!(
                " ({} after the checkpoint, left by an interrupted append)",
                r.after_checkpoint
            )
        } else {
            String::new()
        }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> Log {
        let d = fsutil::tests::tempdir();
        Log::new(d.join("a.log"), Keyring::generate().unwrap(), "vm-1".into())
    }

    fn ev(op: &str) -> Event {
        Event {
            op: op.into(),
            names: vec!["OPENAI_API_KEY".into()],
            route: None,
            actor: None,
        }
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
                after_checkpoint: 0
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
        expect_broken(&l, 0, "checkpoint MAC mismatch");
        std::fs::remove_file(l.head_path()).unwrap();
        expect_broken(&l, 0, "checkpoint file is missing");
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
                after_checkpoint: 0
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
}

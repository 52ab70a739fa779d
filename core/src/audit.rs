//! The audit chain (DESIGN §5 "Audit log", docs/audit.md): entries MACed over their content
//! and the previous entry's MAC, run verification, and checkpoints kept off the host.
//!
//! Pure: no I/O, no clock (every time is a parameter). The VM's JSON-lines log (CLI) and the
//! SQLite/PostgreSQL tables of `store/` hold the same entries, byte for byte.
//!
//! An entry is one JSON object, its fields in this order, optional ones omitted when absent:
//! `{"seq","ts","kid","op","names",["route"],["actor"],["tenant"],["outcome"],"prev","mac"}`
//! with `mac = HMAC-SHA256(K, JSON of every other field)`, `prev` the previous entry's `mac`
//! (64 zeros before seq 1) and `K = Keyring::audit_key(kid, scope)`. Entries written before
//! `actor`, `tenant` and `outcome` existed verify unchanged.

use crate::error::{Error, MalformedKind, Result};
use crate::keyring::Keyring;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The `prev` of the first entry (seq 1) and the `head` of a checkpoint of an empty chain:
/// 64 zeros.
pub const AUDIT_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The longest entry (its JSON text) [`AuditEntry::parse`] accepts or [`AuditChain::next`]
/// builds, in bytes.
pub const MAX_AUDIT_ENTRY: usize = 64 * 1024;

/// The longest checkpoint text [`AuditCheckpoint::parse`] accepts, in bytes.
pub const MAX_AUDIT_CHECKPOINT: usize = 8 * 1024;

/// The longest `op`, `actor`, `tenant`, `route` or name of an event, in bytes.
pub const MAX_AUDIT_FIELD: usize = 256;

/// The most names one event may carry.
pub const MAX_AUDIT_NAMES: usize = 64;

/// The domain separator of a checkpoint's MAC input.
const CHECKPOINT_DOMAIN: &[u8] = b"keycustody-audit-checkpoint/v1\0";

/// The one checkpoint version.
const CHECKPOINT_VERSION: u32 = 1;

/// Whether an operation committed: written before a change (`intent`), after it (`ok`), when
/// its fate is not known (`unconfirmed`, e.g. recovered after a crash), or for a refusal.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditOutcome {
    /// Written before the change is made.
    Intent,
    /// The change committed (or the read happened).
    Ok,
    /// The change may or may not have committed (recovered after an interruption).
    Unconfirmed,
    /// The operation was refused.
    Refused,
}

impl AuditOutcome {
    /// The text form (`"intent"`, `"ok"`, `"unconfirmed"`, `"refused"`).
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            AuditOutcome::Intent => "intent",
            AuditOutcome::Ok => "ok",
            AuditOutcome::Unconfirmed => "unconfirmed",
            AuditOutcome::Refused => "refused",
        }
    }

    /// Parses the text form.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for any other text.
    pub fn parse(s: &str) -> Result<AuditOutcome> {
        match s {
            "intent" => Ok(AuditOutcome::Intent),
            "ok" => Ok(AuditOutcome::Ok),
            "unconfirmed" => Ok(AuditOutcome::Unconfirmed),
            "refused" => Ok(AuditOutcome::Refused),
            _ => Err(Error::InvalidArgument(
                "audit outcome must be intent, ok, unconfirmed or refused",
            )),
        }
    }
}

/// One event to record: who (`actor`), what (`op`, `names`: secret names or record ids,
/// never values), whose (`tenant`), through which `route`, with which `outcome`. The time
/// is given to [`AuditChain::next`].
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AuditEvent {
    /// The operation (`vault.set`, `proxy.key_use`, `secret.view`, ...).
    pub op: String,
    /// Secret names or record ids involved (never values).
    pub names: Vec<String>,
    /// The proxy route, if any.
    pub route: Option<String>,
    /// Who acted (a user, an agent, an app instance).
    pub actor: Option<String>,
    /// Whose data (the tenant).
    pub tenant: Option<String>,
    /// Whether it committed.
    pub outcome: Option<AuditOutcome>,
}

impl AuditEvent {
    /// An event of operation `op` with no names and no optional field.
    #[must_use]
    pub fn new(op: &str) -> AuditEvent {
        AuditEvent {
            op: op.to_string(),
            names: Vec::new(),
            route: None,
            actor: None,
            tenant: None,
            outcome: None,
        }
    }

    /// Adds one name.
    #[must_use]
    pub fn name(mut self, name: &str) -> AuditEvent {
        self.names.push(name.to_string());
        self
    }

    /// Sets the names.
    #[must_use]
    pub fn names<S: AsRef<str>>(mut self, names: &[S]) -> AuditEvent {
        self.names = names.iter().map(|s| s.as_ref().to_string()).collect();
        self
    }

    /// Sets the route.
    #[must_use]
    pub fn route(mut self, route: &str) -> AuditEvent {
        self.route = Some(route.to_string());
        self
    }

    /// Sets the actor.
    #[must_use]
    pub fn actor(mut self, actor: &str) -> AuditEvent {
        self.actor = Some(actor.to_string());
        self
    }

    /// Sets the tenant.
    #[must_use]
    pub fn tenant(mut self, tenant: &str) -> AuditEvent {
        self.tenant = Some(tenant.to_string());
        self
    }

    /// Sets the outcome.
    #[must_use]
    pub fn outcome(mut self, outcome: AuditOutcome) -> AuditEvent {
        self.outcome = Some(outcome);
        self
    }

    /// Checks the field limits: `op`, `route`, `actor`, `tenant` and every name 1 to
    /// [`MAX_AUDIT_FIELD`] bytes without control characters, at most [`MAX_AUDIT_NAMES`] names.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the field.
    pub fn check(&self) -> Result<()> {
        field(
            &self.op,
            "audit op must be 1 to 256 bytes without control characters",
        )?;
        if self.names.len() > MAX_AUDIT_NAMES {
            return Err(Error::InvalidArgument("audit event has more than 64 names"));
        }
        for n in &self.names {
            field(
                n,
                "audit name must be 1 to 256 bytes without control characters",
            )?;
        }
        let optional = [
            (
                &self.route,
                "audit route must be 1 to 256 bytes without control characters",
            ),
            (
                &self.actor,
                "audit actor must be 1 to 256 bytes without control characters",
            ),
            (
                &self.tenant,
                "audit tenant must be 1 to 256 bytes without control characters",
            ),
        ];
        for (v, what) in optional {
            if let Some(v) = v {
                field(v, what)?;
            }
        }
        Ok(())
    }
}

fn field(s: &str, what: &'static str) -> Result<()> {
    if s.is_empty() || s.len() > MAX_AUDIT_FIELD || s.chars().any(char::is_control) {
        return Err(Error::InvalidArgument(what));
    }
    Ok(())
}

/// An entry's JSON, fields in order; without `mac` it is the MAC input.
#[derive(Serialize)]
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
    outcome: Option<&'static str>,
    prev: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    mac: Option<&'a str>,
}

/// An entry as read (every field owned; checked, then turned into an [`AuditEntry`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryWire {
    seq: u64,
    ts: u64,
    kid: u32,
    op: String,
    names: Vec<String>,
    #[serde(default)]
    route: Option<String>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
    prev: String,
    mac: String,
}

/// One entry of an audit chain. Obtained from [`AuditChain::next`] or [`AuditEntry::parse`];
/// the fields are read through getters. A parsed entry is well formed, not verified: verify
/// it with [`AuditChain::verify_entry`] or [`AuditChain::verify_run`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AuditEntry {
    seq: u64,
    ts: u64,
    kid: u32,
    op: String,
    names: Vec<String>,
    route: Option<String>,
    actor: Option<String>,
    tenant: Option<String>,
    outcome: Option<AuditOutcome>,
    prev: String,
    mac: String,
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|_| Error::InvalidArgument("audit JSON serialization"))
}

impl AuditEntry {
    /// Parses one entry from its JSON text (no trailing newline). Only the canonical form is
    /// accepted, the one [`AuditEntry::to_json`] writes (fields in order, no whitespace,
    /// lowercase hex), so that `to_json` gives back exactly these bytes.
    ///
    /// # Errors
    /// [`Error::TooLarge`] over [`MAX_AUDIT_ENTRY`]; [`Error::Malformed`]
    /// ([`MalformedKind::AuditEntry`]) for anything else that is not an entry.
    pub fn parse(text: &[u8]) -> Result<AuditEntry> {
        if text.len() > MAX_AUDIT_ENTRY {
            return Err(Error::TooLarge {
                limit: MAX_AUDIT_ENTRY,
            });
        }
        let bad = Error::Malformed(MalformedKind::AuditEntry);
        let w: EntryWire = serde_json::from_slice(text).map_err(|_| bad)?;
        if !is_hex64(&w.prev) || !is_hex64(&w.mac) || w.seq == 0 {
            return Err(bad);
        }
        let outcome = match w.outcome.as_deref() {
            Some(o) => Some(AuditOutcome::parse(o).map_err(|_| bad)?),
            None => None,
        };
        let e = AuditEntry {
            seq: w.seq,
            ts: w.ts,
            kid: w.kid,
            op: w.op,
            names: w.names,
            route: w.route,
            actor: w.actor,
            tenant: w.tenant,
            outcome,
            prev: w.prev,
            mac: w.mac,
        };
        if to_json(&e.wire(true))?.as_bytes() != text {
            return Err(bad);
        }
        Ok(e)
    }

    /// The entry's JSON text (one line, no newline): byte-identical to the text it was parsed
    /// from.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serializing strings and integers cannot fail.
        serde_json::to_string(&self.wire(true)).unwrap_or_default()
    }

    /// The sequence number (1 for the first entry).
    #[must_use]
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The time given when the entry was made (by convention Unix seconds).
    #[must_use]
    pub fn ts(&self) -> u64 {
        self.ts
    }

    /// The key id of the keyring key the entry is MACed under.
    #[must_use]
    pub fn kid(&self) -> u32 {
        self.kid
    }

    /// The operation.
    #[must_use]
    pub fn op(&self) -> &str {
        &self.op
    }

    /// The names (secret names or record ids).
    #[must_use]
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The route, if any.
    #[must_use]
    pub fn route(&self) -> Option<&str> {
        self.route.as_deref()
    }

    /// The actor, if any.
    #[must_use]
    pub fn actor(&self) -> Option<&str> {
        self.actor.as_deref()
    }

    /// The tenant, if any.
    #[must_use]
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// The outcome, if any.
    #[must_use]
    pub fn outcome(&self) -> Option<AuditOutcome> {
        self.outcome
    }

    /// The previous entry's MAC (lowercase hex; [`AUDIT_GENESIS`] for seq 1).
    #[must_use]
    pub fn prev(&self) -> &str {
        &self.prev
    }

    /// This entry's MAC (lowercase hex).
    #[must_use]
    pub fn mac(&self) -> &str {
        &self.mac
    }

    /// The event this entry records.
    #[must_use]
    pub fn event(&self) -> AuditEvent {
        AuditEvent {
            op: self.op.clone(),
            names: self.names.clone(),
            route: self.route.clone(),
            actor: self.actor.clone(),
            tenant: self.tenant.clone(),
            outcome: self.outcome,
        }
    }

    /// The JSON form, with or without `mac` (without: the MAC input).
    fn wire(&self, with_mac: bool) -> Body<'_> {
        Body {
            seq: self.seq,
            ts: self.ts,
            kid: self.kid,
            op: &self.op,
            names: &self.names,
            route: self.route.as_deref(),
            actor: self.actor.as_deref(),
            tenant: self.tenant.as_deref(),
            outcome: self.outcome.as_ref().map(AuditOutcome::as_str),
            prev: &self.prev,
            mac: with_mac.then_some(self.mac.as_str()),
        }
    }
}

/// What [`AuditChain::verify_run`] found in a run that verified.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AuditReport {
    /// The number of entries in the run.
    pub entries: u64,
    /// The seq of the run's first entry (0 for an empty run).
    pub first_seq: u64,
    /// The seq of the chain's head after the run: its last entry, else the `after` entry,
    /// else 0 (an empty chain).
    pub last_seq: u64,
    /// The MAC of that head ([`AUDIT_GENESIS`] for an empty chain).
    pub head_mac: String,
}

/// A checkpoint: off-host evidence of a chain's head (seq and MAC) at a time, MACed under
/// the scope's audit key. Text form: one line of JSON,
/// `{"v":1,"scope","seq","head","ts","kid","mac"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AuditCheckpoint {
    v: u32,
    scope: String,
    seq: u64,
    head: String,
    ts: u64,
    kid: u32,
    mac: String,
}

/// A checkpoint's JSON, fields in order; without `mac` it is the MAC input (after the domain).
#[derive(Serialize)]
struct CheckpointBody<'a> {
    v: u32,
    scope: &'a str,
    seq: u64,
    head: &'a str,
    ts: u64,
    kid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    mac: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointWire {
    v: u32,
    scope: String,
    seq: u64,
    head: String,
    ts: u64,
    kid: u32,
    mac: String,
}

impl AuditCheckpoint {
    /// Parses the text form (surrounding ASCII whitespace, e.g. a final newline, is ignored;
    /// the JSON itself must be canonical, as [`AuditCheckpoint::to_text`] writes it).
    /// Well formed, not verified: see [`AuditChain::verify_checkpoint`].
    ///
    /// # Errors
    /// [`Error::TooLarge`] over [`MAX_AUDIT_CHECKPOINT`]; [`Error::Malformed`]
    /// ([`MalformedKind::AuditCheckpoint`]) for anything else that is not a v1 checkpoint.
    pub fn parse(text: &str) -> Result<AuditCheckpoint> {
        if text.len() > MAX_AUDIT_CHECKPOINT {
            return Err(Error::TooLarge {
                limit: MAX_AUDIT_CHECKPOINT,
            });
        }
        let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
        let bad = Error::Malformed(MalformedKind::AuditCheckpoint);
        let w: CheckpointWire = serde_json::from_str(text).map_err(|_| bad)?;
        let cp = AuditCheckpoint {
            v: w.v,
            scope: w.scope,
            seq: w.seq,
            head: w.head,
            ts: w.ts,
            kid: w.kid,
            mac: w.mac,
        };
        if cp.v != CHECKPOINT_VERSION
            || !is_hex64(&cp.head)
            || !is_hex64(&cp.mac)
            || crate::kdf::check_owner(&cp.scope).is_err()
            || (cp.seq == 0 && cp.head != AUDIT_GENESIS)
        {
            return Err(bad);
        }
        if to_json(&cp.wire(true))? != text {
            return Err(bad);
        }
        Ok(cp)
    }

    /// The text form: one line of JSON, no newline.
    #[must_use]
    pub fn to_text(&self) -> String {
        serde_json::to_string(&self.wire(true)).unwrap_or_default()
    }

    /// The chain's owner (the scope of [`AuditChain::new`]).
    #[must_use]
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The seq of the head at checkpoint time (0 for an empty chain).
    #[must_use]
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The MAC of the entry at [`AuditCheckpoint::seq`] ([`AUDIT_GENESIS`] for 0).
    #[must_use]
    pub fn head(&self) -> &str {
        &self.head
    }

    /// The time given when the checkpoint was made.
    #[must_use]
    pub fn ts(&self) -> u64 {
        self.ts
    }

    /// The key id it is MACed under.
    #[must_use]
    pub fn kid(&self) -> u32 {
        self.kid
    }

    /// Its MAC (lowercase hex).
    #[must_use]
    pub fn mac(&self) -> &str {
        &self.mac
    }

    fn wire(&self, with_mac: bool) -> CheckpointBody<'_> {
        CheckpointBody {
            v: self.v,
            scope: &self.scope,
            seq: self.seq,
            head: &self.head,
            ts: self.ts,
            kid: self.kid,
            mac: with_mac.then_some(self.mac.as_str()),
        }
    }
}

fn broken(seq: u64, reason: &'static str) -> Error {
    Error::AuditBroken { seq, reason }
}

/// The audit chain of one scope (the chain's owner: a VM's vault id, or a tenant's or app's
/// chain name in a database), keyed from a keyring. Holds a snapshot of the keyring: after a
/// rotation, make a new `AuditChain` to append under the new primary key (entries under
/// older kids still verify while the keyring can use them).
#[derive(Clone)]
pub struct AuditChain {
    keyring: Keyring,
    scope: String,
}

impl std::fmt::Debug for AuditChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditChain")
            .field("scope", &self.scope)
            .field("primary_kid", &self.keyring.primary_kid())
            .finish_non_exhaustive()
    }
}

/// An incremental verifier of a run of entries, in seq order (see
/// [`AuditChain::verifier`]): for logs and tables too large to hold in memory.
#[derive(Debug)]
pub struct AuditVerifier<'a> {
    chain: &'a AuditChain,
    entries: u64,
    first_seq: u64,
    last_seq: u64,
    head: String,
}

impl AuditVerifier<'_> {
    /// Verifies the next entry of the run: its MAC, that its seq follows the head's and that
    /// its `prev` is the head's MAC. Nothing changes on an error.
    ///
    /// # Errors
    /// [`Error::AuditBroken`] with the seq the entry should have (the head's + 1) and the
    /// reason (`"MAC mismatch"`, `"sequence gap"`, `"prev does not link"`, ...).
    pub fn push(&mut self, e: &AuditEntry) -> Result<()> {
        let want = self
            .last_seq
            .checked_add(1)
            .ok_or(broken(self.last_seq, "seq overflow"))?;
        self.chain.check_mac(e, want)?;
        if e.seq != want {
            return Err(broken(want, "sequence gap"));
        }
        if e.prev != self.head {
            return Err(broken(want, "prev does not link"));
        }
        if self.entries == 0 {
            self.first_seq = e.seq;
        }
        self.entries += 1;
        self.last_seq = e.seq;
        self.head.clone_from(&e.mac);
        Ok(())
    }

    /// What was verified so far.
    #[must_use]
    pub fn report(&self) -> AuditReport {
        AuditReport {
            entries: self.entries,
            first_seq: self.first_seq,
            last_seq: self.last_seq,
            head_mac: self.head.clone(),
        }
    }
}

impl AuditChain {
    /// The chain of `scope`, keyed from `keyring` (a clone is kept).
    ///
    /// # Errors
    /// [`Error::InvalidOwner`] for a scope that is empty or over 1024 bytes.
    pub fn new(keyring: &Keyring, scope: &str) -> Result<AuditChain> {
        crate::kdf::check_owner(scope)?;
        Ok(AuditChain {
            keyring: keyring.clone(),
            scope: scope.to_string(),
        })
    }

    /// The chain's scope.
    #[must_use]
    pub fn scope(&self) -> &str {
        &self.scope
    }

    fn hmac(&self, kid: Option<u32>) -> Result<(u32, Hmac<Sha256>)> {
        let (kid, key) = self.keyring.audit_key(kid, &self.scope)?;
        let m = Hmac::<Sha256>::new_from_slice(key.expose_secret())
            .map_err(|_| Error::InvalidArgument("audit key length"))?;
        Ok((kid, m))
    }

    /// Checks one entry's MAC; `pos` is the seq named in the error.
    fn check_mac(&self, e: &AuditEntry, pos: u64) -> Result<()> {
        let mut want = [0u8; 32];
        if base16ct::lower::decode(&e.mac, &mut want).is_err() {
            return Err(broken(pos, "MAC is not 64 lowercase hex characters"));
        }
        let (_, mut m) = self
            .hmac(Some(e.kid))
            .map_err(|_| broken(pos, "entry names a key id the keyring cannot use"))?;
        m.update(to_json(&e.wire(false))?.as_bytes());
        m.verify_slice(&want)
            .map_err(|_| broken(pos, "MAC mismatch"))
    }

    /// The entry after `prev` (the first entry of the chain when `None`) recording `event` at
    /// time `ts`, MACed under the keyring's primary key. `prev`'s own MAC is checked first
    /// (the chain refuses to grow on top of an entry that does not verify).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an event outside the limits ([`AuditEvent::check`]);
    /// [`Error::AuditBroken`] when `prev` does not verify; [`Error::TooLarge`] for an entry
    /// over [`MAX_AUDIT_ENTRY`].
    pub fn next(
        &self,
        prev: Option<&AuditEntry>,
        event: &AuditEvent,
        ts: u64,
    ) -> Result<AuditEntry> {
        event.check()?;
        let (seq, prev_mac) = match prev {
            Some(p) => {
                self.verify_entry(p)?;
                let seq = p
                    .seq
                    .checked_add(1)
                    .ok_or(Error::InvalidArgument("audit seq overflow"))?;
                (seq, p.mac.clone())
            }
            None => (1, AUDIT_GENESIS.to_string()),
        };
        let (kid, mut m) = self.hmac(None)?;
        let mut e = AuditEntry {
            seq,
            ts,
            kid,
            op: event.op.clone(),
            names: event.names.clone(),
            route: event.route.clone(),
            actor: event.actor.clone(),
            tenant: event.tenant.clone(),
            outcome: event.outcome,
            prev: prev_mac,
            mac: String::new(),
        };
        m.update(to_json(&e.wire(false))?.as_bytes());
        e.mac = base16ct::lower::encode_string(&m.finalize().into_bytes());
        if to_json(&e.wire(true))?.len() > MAX_AUDIT_ENTRY {
            return Err(Error::TooLarge {
                limit: MAX_AUDIT_ENTRY,
            });
        }
        Ok(e)
    }

    /// Verifies one entry's MAC (not its place in the chain).
    ///
    /// # Errors
    /// [`Error::AuditBroken`] with the entry's seq: `"MAC mismatch"`, or a kid the keyring
    /// cannot use.
    pub fn verify_entry(&self, e: &AuditEntry) -> Result<()> {
        self.check_mac(e, e.seq)
    }

    /// An incremental verifier of a run that starts after `after` (at the chain's start when
    /// `None`; `after` is itself verified first).
    ///
    /// # Errors
    /// [`Error::AuditBroken`] when `after` does not verify.
    pub fn verifier(&self, after: Option<&AuditEntry>) -> Result<AuditVerifier<'_>> {
        let (last_seq, head) = match after {
            Some(a) => {
                self.verify_entry(a)?;
                (a.seq, a.mac.clone())
            }
            None => (0, AUDIT_GENESIS.to_string()),
        };
        Ok(AuditVerifier {
            chain: self,
            entries: 0,
            first_seq: 0,
            last_seq,
            head,
        })
    }

    /// Verifies a run of entries: each MAC, seq continuity and `prev` linkage, starting after
    /// `after` (from the chain's start, seq 1, when `None`).
    ///
    /// # Errors
    /// [`Error::AuditBroken`] naming the seq where the chain breaks (the seq the first bad
    /// entry should have) and why.
    pub fn verify_run(
        &self,
        entries: &[AuditEntry],
        after: Option<&AuditEntry>,
    ) -> Result<AuditReport> {
        let mut v = self.verifier(after)?;
        for e in entries {
            v.push(e)?;
        }
        Ok(v.report())
    }

    /// A checkpoint of the chain whose head is `head` (an empty chain when `None`) at time
    /// `ts`, MACed under the primary key. `head`'s MAC is checked first.
    ///
    /// # Errors
    /// [`Error::AuditBroken`] when `head` does not verify; key errors.
    pub fn checkpoint(&self, head: Option<&AuditEntry>, ts: u64) -> Result<AuditCheckpoint> {
        let (seq, mac) = match head {
            Some(h) => {
                self.verify_entry(h)?;
                (h.seq, h.mac.clone())
            }
            None => (0, AUDIT_GENESIS.to_string()),
        };
        let (kid, mut m) = self.hmac(None)?;
        let mut cp = AuditCheckpoint {
            v: CHECKPOINT_VERSION,
            scope: self.scope.clone(),
            seq,
            head: mac,
            ts,
            kid,
            mac: String::new(),
        };
        m.update(CHECKPOINT_DOMAIN);
        m.update(to_json(&cp.wire(false))?.as_bytes());
        cp.mac = base16ct::lower::encode_string(&m.finalize().into_bytes());
        Ok(cp)
    }

    /// Verifies a checkpoint's MAC and that it is one of this chain's scope.
    ///
    /// # Errors
    /// [`Error::AuditBroken`] with the checkpoint's seq: `"checkpoint is for another scope"`,
    /// `"checkpoint MAC mismatch"`, or a kid the keyring cannot use.
    pub fn verify_checkpoint(&self, cp: &AuditCheckpoint) -> Result<()> {
        if cp.scope != self.scope {
            return Err(broken(cp.seq, "checkpoint is for another scope"));
        }
        let mut want = [0u8; 32];
        if base16ct::lower::decode(&cp.mac, &mut want).is_err() {
            return Err(broken(cp.seq, "checkpoint MAC is not 64 lowercase hex"));
        }
        let (_, mut m) = self
            .hmac(Some(cp.kid))
            .map_err(|_| broken(cp.seq, "checkpoint names a key id the keyring cannot use"))?;
        m.update(CHECKPOINT_DOMAIN);
        m.update(to_json(&cp.wire(false))?.as_bytes());
        m.verify_slice(&want)
            .map_err(|_| broken(cp.seq, "checkpoint MAC mismatch"))
    }

    /// Checks a verified log against a checkpoint taken earlier: `report` is the result of
    /// verifying the whole log from seq 1 ([`AuditChain::verify_run`] with `after = None`, or
    /// a [`AuditVerifier`]), and `entry_at_cp_seq` the log's (verified) entry at the
    /// checkpoint's seq (may be `None` when that is the log's head, or the checkpoint's seq is
    /// 0). The checkpoint's own MAC is verified first.
    ///
    /// # Errors
    /// [`Error::AuditBroken`]: `"log is empty but the checkpoint is not (erased)"` (seq 1),
    /// `"log is shorter than the checkpoint (truncated or rolled back)"` (naming the first
    /// missing seq), `"diverges from checkpoint"` (the checkpoint's seq); the errors of
    /// [`AuditChain::verify_checkpoint`]; [`Error::InvalidArgument`] when `entry_at_cp_seq`
    /// is needed but missing or has another seq.
    pub fn check_against(
        &self,
        cp: &AuditCheckpoint,
        report: &AuditReport,
        entry_at_cp_seq: Option<&AuditEntry>,
    ) -> Result<()> {
        self.verify_checkpoint(cp)?;
        if cp.seq == 0 {
            return Ok(());
        }
        if report.last_seq == 0 {
            return Err(broken(1, "log is empty but the checkpoint is not (erased)"));
        }
        if report.last_seq < cp.seq {
            return Err(broken(
                report.last_seq + 1,
                "log is shorter than the checkpoint (truncated or rolled back)",
            ));
        }
        let mac = match entry_at_cp_seq {
            Some(e) if e.seq == cp.seq => {
                self.verify_entry(e)?;
                e.mac.as_str()
            }
            Some(_) => {
                return Err(Error::InvalidArgument(
                    "entry_at_cp_seq is not the entry at the checkpoint's seq",
                ))
            }
            None if report.last_seq == cp.seq => report.head_mac.as_str(),
            None => {
                return Err(Error::InvalidArgument(
                    "entry_at_cp_seq is needed: the checkpoint is not at the log's head",
                ))
            }
        };
        if mac != cp.head {
            return Err(broken(cp.seq, "diverges from checkpoint"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> AuditChain {
        let k = Keyring::from_secret(b"0123456789abcdef0123456789abcdef", 1).unwrap();
        AuditChain::new(&k, "vm-1").unwrap()
    }

    #[test]
    fn optional_fields_are_omitted_and_in_order() {
        let c = chain();
        let e = c
            .next(None, &AuditEvent::new("vault.set").name("A"), 5)
            .unwrap();
        assert!(e
            .to_json()
            .starts_with(r#"{"seq":1,"ts":5,"kid":1,"op":"vault.set","names":["A"],"prev":"0000"#));
        let f = c
            .next(
                Some(&e),
                &AuditEvent::new("secret.view")
                    .route("r")
                    .actor("a")
                    .tenant("t")
                    .outcome(AuditOutcome::Ok),
                6,
            )
            .unwrap();
        assert!(f.to_json().starts_with(
            r#"{"seq":2,"ts":6,"kid":1,"op":"secret.view","names":[],"route":"r","actor":"a","tenant":"t","outcome":"ok","prev":""#
        ));
        assert_eq!(AuditEntry::parse(f.to_json().as_bytes()).unwrap(), f);
    }
}

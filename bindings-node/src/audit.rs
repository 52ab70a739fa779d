//! The audit chain (core's `keycustody::AuditChain`, pure): building an entry, verifying a
//! run of entries, checkpoints. No I/O: the application stores the entries (a table, a log)
//! and passes them back. `now` defaults to the Unix time in seconds.

use crate::conv;
use crate::error::{run, Fail, Res};
use crate::keyring::Keyring;
use keycustody::{AuditEvent, AuditOutcome, Error};
use napi::bindgen_prelude::{
    ClassInstance, FromNapiValue, JavaScriptClassExt, JsObjectValue, JsValue, Object, Unknown,
    ValueType,
};
use napi::Env;
use napi_derive::napi;

const EVENT_EXPECTED: &str =
    "an object {op, names?, route?, actor?, tenant?, outcome?} of strings (names: an array of strings)";

fn absent(v: &Option<Unknown<'_>>) -> Res<bool> {
    Ok(match v {
        None => true,
        Some(u) => matches!(u.get_type()?, ValueType::Undefined | ValueType::Null),
    })
}

fn now_secs(now: Option<Unknown<'_>>) -> Res<u64> {
    match conv::opt_u64(now, "now")? {
        Some(n) => Ok(n),
        None => Ok(u64::try_from(keycustody::unix_now()?).unwrap_or(0)),
    }
}

fn keyring_arg(env: &Env, v: Unknown<'_>) -> Res<std::sync::Arc<keycustody::Keyring>> {
    if !Keyring::instance_of(env, &v)? {
        return Err(Fail::Type {
            arg: "keyring",
            expected: "a Keyring",
        });
    }
    let k = ClassInstance::<Keyring>::from_unknown(v)?;
    Ok(std::sync::Arc::clone(&k.inner))
}

fn entry_arg(env: &Env, v: Unknown<'_>, arg: &'static str) -> Res<keycustody::AuditEntry> {
    if !AuditEntry::instance_of(env, &v)? {
        return Err(Fail::Type {
            arg,
            expected: "an AuditEntry",
        });
    }
    Ok(ClassInstance::<AuditEntry>::from_unknown(v)?.inner.clone())
}

fn opt_entry_arg(
    env: &Env,
    v: Option<Unknown<'_>>,
    arg: &'static str,
) -> Res<Option<keycustody::AuditEntry>> {
    if absent(&v)? {
        return Ok(None);
    }
    match v {
        Some(u) => entry_arg(env, u, arg).map(Some),
        None => Ok(None),
    }
}

fn event_type() -> Fail {
    Fail::Type {
        arg: "event",
        expected: EVENT_EXPECTED,
    }
}

fn event_str(o: &Object<'_>, name: &str) -> Res<Option<String>> {
    match conv::prop(o, name)? {
        None => Ok(None),
        Some(v) if v.get_type()? == ValueType::String => conv::string(v, "event").map(Some),
        Some(_) => Err(event_type()),
    }
}

/// The event of `{op, names, route, actor, tenant, outcome}`; an unknown key is refused (a
/// misspelt `tenant` must not be dropped silently).
fn event_arg(v: Unknown<'_>) -> Res<AuditEvent> {
    let o = match conv::opt_object(Some(v), "event")? {
        Some(o) => o,
        None => return Err(event_type()),
    };
    let keys = Object::keys(&o)?;
    for k in &keys {
        if !matches!(
            k.as_str(),
            "op" | "names" | "route" | "actor" | "tenant" | "outcome"
        ) {
            return Err(Fail::Core(Error::InvalidArgument(
                "audit event has an unknown field (op, names, route, actor, tenant, outcome)",
            )));
        }
    }
    let op = event_str(&o, "op")?.ok_or_else(event_type)?;
    let mut ev = AuditEvent::new(&op);
    if let Some(n) = conv::prop(&o, "names")? {
        if !n.is_array()? {
            return Err(event_type());
        }
        let arr = n.coerce_to_object()?;
        let len = arr.get_array_length()?;
        let mut names = Vec::with_capacity(len as usize);
        for i in 0..len {
            let e: Unknown<'_> = arr.get_element(i)?;
            if e.get_type()? != ValueType::String {
                return Err(event_type());
            }
            names.push(conv::string(e, "event")?);
        }
        ev = ev.names(&names);
    }
    if let Some(r) = event_str(&o, "route")? {
        ev = ev.route(&r);
    }
    if let Some(a) = event_str(&o, "actor")? {
        ev = ev.actor(&a);
    }
    if let Some(t) = event_str(&o, "tenant")? {
        ev = ev.tenant(&t);
    }
    if let Some(s) = event_str(&o, "outcome")? {
        ev = ev.outcome(AuditOutcome::parse(&s)?);
    }
    Ok(ev)
}

fn text_arg(v: Unknown<'_>, arg: &'static str) -> Res<Vec<u8>> {
    Ok(conv::bytes(v, arg)?.as_slice().to_vec())
}

/// One entry of an audit chain: from `AuditChain.next` or `AuditEntry.parse` (well formed,
/// not verified). Never holds a value: an operation, names (secret names, record ids),
/// route, actor, tenant, outcome and time.
#[napi]
#[derive(Debug)]
pub struct AuditEntry {
    inner: keycustody::AuditEntry,
}

#[napi]
impl AuditEntry {
    /// Parses the canonical JSON text (a string or a `Uint8Array`) of one entry.
    ///
    /// @throws {Error} `KC_MALFORMED` (`malformedKind` `AuditEntry`), `KC_TOO_LARGE`.
    #[napi(factory)]
    pub fn parse(
        env: &Env,
        #[napi(ts_arg_type = "string | Uint8Array")] text: Unknown<'_>,
    ) -> napi::Result<AuditEntry> {
        run(env, || {
            let t = text_arg(text, "text")?;
            Ok(AuditEntry {
                inner: keycustody::AuditEntry::parse(&t)?,
            })
        })
    }

    /// The JSON text (one line, byte-identical to what was parsed).
    #[napi]
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The entry's position in its chain (from 1).
    #[napi(getter)]
    pub fn seq(&self) -> i64 {
        self.inner.seq() as i64
    }

    /// Unix time in seconds.
    #[napi(getter)]
    pub fn ts(&self) -> i64 {
        self.inner.ts() as i64
    }

    /// The key id the entry is MACed under.
    #[napi(getter)]
    pub fn kid(&self) -> u32 {
        self.inner.kid()
    }

    /// The operation, e.g. `"vault.set"`.
    #[napi(getter)]
    pub fn op(&self) -> String {
        self.inner.op().to_owned()
    }

    /// Secret names or record ids (never values).
    #[napi(getter)]
    pub fn names(&self) -> Vec<String> {
        self.inner.names().to_vec()
    }

    /// The proxy route (null when none).
    #[napi(getter)]
    pub fn route(&self) -> Option<String> {
        self.inner.route().map(str::to_owned)
    }

    /// Who: a user or agent name.
    #[napi(getter)]
    pub fn actor(&self) -> Option<String> {
        self.inner.actor().map(str::to_owned)
    }

    /// Whose: the tenant.
    #[napi(getter)]
    pub fn tenant(&self) -> Option<String> {
        self.inner.tenant().map(str::to_owned)
    }

    /// `"intent"`, `"ok"`, `"unconfirmed"` or `"refused"`.
    #[napi(getter)]
    pub fn outcome(&self) -> Option<String> {
        self.inner.outcome().map(|o| o.as_str().to_owned())
    }

    /// The previous entry's MAC (64 zeros for seq 1).
    #[napi(getter)]
    pub fn prev(&self) -> String {
        self.inner.prev().to_owned()
    }

    /// This entry's MAC (64 hex).
    #[napi(getter)]
    pub fn mac(&self) -> String {
        self.inner.mac().to_owned()
    }
}

/// Off-host evidence of a chain's head (seq, head MAC, time) under the scope's audit key.
#[napi]
#[derive(Debug)]
pub struct AuditCheckpoint {
    inner: keycustody::AuditCheckpoint,
}

#[napi]
impl AuditCheckpoint {
    /// Parses the one-line JSON text.
    ///
    /// @throws {Error} `KC_MALFORMED` (`malformedKind` `AuditCheckpoint`), `KC_TOO_LARGE`.
    #[napi(factory)]
    pub fn parse(
        env: &Env,
        #[napi(ts_arg_type = "string")] text: Unknown<'_>,
    ) -> napi::Result<AuditCheckpoint> {
        run(env, || {
            let t = conv::string(text, "text")?;
            Ok(AuditCheckpoint {
                inner: keycustody::AuditCheckpoint::parse(&t)?,
            })
        })
    }

    /// The one-line JSON text.
    #[napi]
    pub fn to_text(&self) -> String {
        self.inner.to_text()
    }

    /// The chain's scope.
    #[napi(getter)]
    pub fn scope(&self) -> String {
        self.inner.scope().to_owned()
    }

    /// The seq of the chain's head when the checkpoint was taken (0: empty).
    #[napi(getter)]
    pub fn seq(&self) -> i64 {
        self.inner.seq() as i64
    }

    /// The MAC of the entry at `seq` (64 zeros for seq 0).
    #[napi(getter)]
    pub fn head(&self) -> String {
        self.inner.head().to_owned()
    }

    /// Unix time in seconds.
    #[napi(getter)]
    pub fn ts(&self) -> i64 {
        self.inner.ts() as i64
    }

    /// The key id the checkpoint is MACed under.
    #[napi(getter)]
    pub fn kid(&self) -> u32 {
        self.inner.kid()
    }

    /// The checkpoint's MAC (64 hex).
    #[napi(getter)]
    pub fn mac(&self) -> String {
        self.inner.mac().to_owned()
    }
}

/// What `AuditChain.verifyRun` found in a run that verified.
#[napi]
#[derive(Debug)]
pub struct AuditReport {
    inner: keycustody::AuditReport,
}

#[napi]
impl AuditReport {
    /// The number of entries in the run.
    #[napi(getter)]
    pub fn entries(&self) -> i64 {
        self.inner.entries as i64
    }

    /// The seq of the run's first entry (0 for an empty run).
    #[napi(getter)]
    pub fn first_seq(&self) -> i64 {
        self.inner.first_seq as i64
    }

    /// The seq of the chain's head after the run.
    #[napi(getter)]
    pub fn last_seq(&self) -> i64 {
        self.inner.last_seq as i64
    }

    /// The MAC of that head (64 zeros for an empty chain).
    #[napi(getter)]
    pub fn head_mac(&self) -> String {
        self.inner.head_mac.clone()
    }
}

/// An audit chain of one scope (a VM's vault id, a tenant's or app's chain name), MACed
/// under the keyring's audit key for that scope. Holds a snapshot of the keyring: after a
/// rotation, make a new AuditChain to append under the new primary.
#[napi]
#[derive(Debug)]
pub struct AuditChain {
    inner: keycustody::AuditChain,
}

#[napi]
impl AuditChain {
    /// A chain of `scope` under `keyring`'s audit keys.
    ///
    /// @throws {Error} `KC_INVALID_OWNER` for an empty or over-long scope.
    #[napi(constructor)]
    pub fn new(
        env: &Env,
        #[napi(ts_arg_type = "Keyring")] keyring: Unknown<'_>,
        #[napi(ts_arg_type = "string")] scope: Unknown<'_>,
    ) -> napi::Result<AuditChain> {
        run(env, || {
            let kr = keyring_arg(env, keyring)?;
            let scope = conv::string(scope, "scope")?;
            Ok(AuditChain {
                inner: keycustody::AuditChain::new(&kr, &scope)?,
            })
        })
    }

    /// The chain's scope.
    #[napi(getter)]
    pub fn scope(&self) -> String {
        self.inner.scope().to_owned()
    }

    /// The entry after `prev` (the chain's first when `null`) recording `event` at `now`
    /// (default: the clock). `prev` is verified first.
    ///
    /// @throws {Error} `KC_INVALID_ARGUMENT` (limits, an unknown event field), `KC_AUDIT_BROKEN` (prev does not verify).
    #[napi]
    pub fn next(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "AuditEntry | null")] prev: Option<Unknown<'_>>,
        #[napi(
            ts_arg_type = "{ op: string; names?: string[]; route?: string | null; actor?: string | null; tenant?: string | null; outcome?: 'intent' | 'ok' | 'unconfirmed' | 'refused' | null }"
        )]
        event: Unknown<'_>,
        #[napi(ts_arg_type = "number")] now: Option<Unknown<'_>>,
    ) -> napi::Result<AuditEntry> {
        run(env, || {
            let prev = opt_entry_arg(env, prev, "prev")?;
            let ev = event_arg(event)?;
            let ts = now_secs(now)?;
            Ok(AuditEntry {
                inner: self.inner.next(prev.as_ref(), &ev, ts)?,
            })
        })
    }

    /// Verifies one entry's MAC.
    ///
    /// @throws {Error} `KC_AUDIT_BROKEN` when the entry's MAC does not verify.
    #[napi]
    pub fn verify_entry(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "AuditEntry")] entry: Unknown<'_>,
    ) -> napi::Result<()> {
        run(env, || {
            let e = entry_arg(env, entry, "entry")?;
            Ok(self.inner.verify_entry(&e)?)
        })
    }

    /// Verifies a run of entries (each MAC, seq continuity, prev linkage) after `after`
    /// (from seq 1 when absent).
    ///
    /// @throws {Error} `KC_AUDIT_BROKEN` naming the seq where the chain breaks (`auditPosition`).
    #[napi]
    pub fn verify_run(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "AuditEntry[]")] entries: Unknown<'_>,
        #[napi(ts_arg_type = "AuditEntry | null")] after: Option<Unknown<'_>>,
    ) -> napi::Result<AuditReport> {
        run(env, || {
            if !entries.is_array()? {
                return Err(Fail::Type {
                    arg: "entries",
                    expected: "an array of AuditEntry",
                });
            }
            let arr = entries.coerce_to_object()?;
            let len = arr.get_array_length()?;
            let mut run = Vec::with_capacity(len as usize);
            for i in 0..len {
                let e: Unknown<'_> = arr.get_element(i)?;
                run.push(entry_arg(env, e, "entries")?);
            }
            let after = opt_entry_arg(env, after, "after")?;
            Ok(AuditReport {
                inner: self.inner.verify_run(&run, after.as_ref())?,
            })
        })
    }

    /// A checkpoint of the chain whose head is `head` (`null`: the empty chain) at `now`.
    ///
    /// @throws {Error} `KC_AUDIT_BROKEN` when `head` does not verify.
    #[napi]
    pub fn checkpoint(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "AuditEntry | null")] head: Unknown<'_>,
        #[napi(ts_arg_type = "number")] now: Option<Unknown<'_>>,
    ) -> napi::Result<AuditCheckpoint> {
        run(env, || {
            let head = opt_entry_arg(env, Some(head), "head")?;
            let ts = now_secs(now)?;
            Ok(AuditCheckpoint {
                inner: self.inner.checkpoint(head.as_ref(), ts)?,
            })
        })
    }

    /// Verifies a checkpoint's MAC and scope.
    ///
    /// @throws {Error} `KC_AUDIT_BROKEN` (MAC mismatch, another scope, an unusable kid).
    #[napi]
    pub fn verify_checkpoint(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "AuditCheckpoint")] checkpoint: Unknown<'_>,
    ) -> napi::Result<()> {
        run(env, || {
            let cp = checkpoint_arg(env, checkpoint)?;
            Ok(self.inner.verify_checkpoint(&cp)?)
        })
    }

    /// Checks a log verified from seq 1 (`report`) against an earlier checkpoint;
    /// `entryAtCheckpoint` is the log's entry at the checkpoint's seq (may be absent when
    /// that is the head, or the checkpoint's seq is 0).
    ///
    /// @throws {Error} `KC_AUDIT_BROKEN` (erased, truncated or rolled back, diverging), `KC_INVALID_ARGUMENT`.
    #[napi]
    pub fn check_against(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "AuditCheckpoint")] checkpoint: Unknown<'_>,
        #[napi(ts_arg_type = "AuditReport")] report: Unknown<'_>,
        #[napi(ts_arg_type = "AuditEntry | null")] entry_at_checkpoint: Option<Unknown<'_>>,
    ) -> napi::Result<()> {
        run(env, || {
            let cp = checkpoint_arg(env, checkpoint)?;
            if !AuditReport::instance_of(env, &report)? {
                return Err(Fail::Type {
                    arg: "report",
                    expected: "an AuditReport",
                });
            }
            let rep = ClassInstance::<AuditReport>::from_unknown(report)?
                .inner
                .clone();
            let at = opt_entry_arg(env, entry_at_checkpoint, "entryAtCheckpoint")?;
            Ok(self.inner.check_against(&cp, &rep, at.as_ref())?)
        })
    }
}

fn checkpoint_arg(env: &Env, v: Unknown<'_>) -> Res<keycustody::AuditCheckpoint> {
    if !AuditCheckpoint::instance_of(env, &v)? {
        return Err(Fail::Type {
            arg: "checkpoint",
            expected: "an AuditCheckpoint",
        });
    }
    Ok(ClassInstance::<AuditCheckpoint>::from_unknown(v)?
        .inner
        .clone())
}

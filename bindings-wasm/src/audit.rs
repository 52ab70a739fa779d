//! The audit chain (core's `keycustody::AuditChain`, pure; docs/audit.md): building an entry,
//! verifying a run of entries, checkpoints. No I/O: the application stores the entries (a
//! table, a log) and passes them back. `now` defaults to the clock (`Date.now()`, seconds).
//! The same API as the Node binding (bindings-node/src/audit.rs).
//!
//! The class arguments (`Keyring`, `AuditEntry`, `AuditCheckpoint`, `AuditReport`) are checked
//! by keyring.js (wasm-bindgen's own check throws an untyped error and would take a freed
//! object), which passes copies (`__clone`) where wasm-bindgen takes ownership (an optional
//! entry, an array of entries), so the caller's objects stay usable.

use crate::platform::{clock, js_u64};
use crate::{invalid, js_string, BytesArg, Failure, JsResult, Keyring, NumArg, StrArg};
use js_sys::{Array, Reflect};
use keycustody::{AuditEvent, AuditOutcome, Error};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const TS_AUDIT: &'static str = r#"
/** One event of an audit chain: never a value (names are secret names or record ids). */
export interface AuditEventInput { op: string; names?: string[]; route?: string | null; actor?: string | null; tenant?: string | null; outcome?: "intent" | "ok" | "unconfirmed" | "refused" | null; }
"#;

#[wasm_bindgen]
extern "C" {
    /// Argument type `AuditEventInput`.
    #[wasm_bindgen(typescript_type = "AuditEventInput")]
    pub type AuditEventArg;
    /// Argument type `AuditEntry[]`.
    #[wasm_bindgen(typescript_type = "AuditEntry[]")]
    pub type AuditEntryArray;
    /// `Object.keys(o)`, with a throwing Proxy trap caught.
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    fn object_keys(o: &JsValue) -> Result<Array, JsValue>;
}

const EVENT_EXPECTED: &str =
    "event must be an object {op, names?, route?, actor?, tenant?, outcome?} of strings (names: an array of strings)";

/// The typed error keyring.js throws for a class argument of the wrong type (by parameter).
#[doc(hidden)]
#[wasm_bindgen(js_name = __notAnAuditArg, skip_typescript)]
pub fn not_an_audit_arg(name: &str) -> JsValue {
    let what = match name {
        "prev" => "prev must be an AuditEntry or null",
        "entry" => "entry must be an AuditEntry",
        "entries" => "entries must be an array of AuditEntry",
        "after" => "after must be an AuditEntry or null",
        "head" => "head must be an AuditEntry or null",
        "checkpoint" => "checkpoint must be an AuditCheckpoint",
        "report" => "report must be an AuditReport",
        _ => "entryAtCheckpoint must be an AuditEntry or null",
    };
    invalid(what).into()
}

fn now_secs(now: Option<NumArg>) -> JsResult<u64> {
    match now {
        Some(n) => js_u64(&n, "now must be a non-negative integer (seconds)"),
        None => Ok(u64::try_from(clock()?).unwrap_or(0)),
    }
}

fn event_type() -> Failure {
    invalid(EVENT_EXPECTED)
}

/// A property of the event; `undefined` and `null` are absent; a throwing getter is rethrown.
fn event_prop(o: &JsValue, key: &str) -> JsResult<Option<JsValue>> {
    let v = Reflect::get(o, &JsValue::from_str(key)).map_err(Failure::Thrown)?;
    Ok((!v.is_undefined() && !v.is_null()).then_some(v))
}

fn event_str(o: &JsValue, key: &str) -> JsResult<Option<String>> {
    match event_prop(o, key)? {
        None => Ok(None),
        Some(v) if v.is_string() => js_string(&v, EVENT_EXPECTED).map(Some),
        Some(_) => Err(event_type()),
    }
}

/// The event of `{op, names, route, actor, tenant, outcome}`; an unknown key is refused (a
/// misspelt `tenant` must not be dropped silently).
fn event_arg(v: &JsValue) -> JsResult<AuditEvent> {
    if !v.is_object()
        || Array::is_array(v)
        || v.is_instance_of::<js_sys::ArrayBuffer>()
        || js_sys::ArrayBuffer::is_view(v)
    {
        return Err(event_type());
    }
    let keys = object_keys(v).map_err(Failure::Thrown)?;
    for k in keys.iter() {
        let k = k.as_string().unwrap_or_default();
        if !matches!(
            k.as_str(),
            "op" | "names" | "route" | "actor" | "tenant" | "outcome"
        ) {
            return Err(Failure::Core(Error::InvalidArgument(
                "audit event has an unknown field (op, names, route, actor, tenant, outcome)",
            )));
        }
    }
    let op = event_str(v, "op")?.ok_or_else(event_type)?;
    let mut ev = AuditEvent::new(&op);
    if let Some(n) = event_prop(v, "names")? {
        if !Array::is_array(&n) {
            return Err(event_type());
        }
        let arr: &Array = n.unchecked_ref();
        let mut names = Vec::with_capacity(crate::usize_of(arr.length()));
        for i in 0..arr.length() {
            let e = Reflect::get_u32(arr, i).map_err(Failure::Thrown)?;
            if !e.is_string() {
                return Err(event_type());
            }
            names.push(js_string(&e, EVENT_EXPECTED)?);
        }
        ev = ev.names(&names);
    }
    if let Some(r) = event_str(v, "route")? {
        ev = ev.route(&r);
    }
    if let Some(a) = event_str(v, "actor")? {
        ev = ev.actor(&a);
    }
    if let Some(t) = event_str(v, "tenant")? {
        ev = ev.tenant(&t);
    }
    if let Some(s) = event_str(v, "outcome")? {
        ev = ev.outcome(AuditOutcome::parse(&s)?);
    }
    Ok(ev)
}

/// One entry of an audit chain: from `AuditChain.next` or `AuditEntry.parse` (well formed,
/// not verified). Never holds a value: an operation, names (secret names, record ids),
/// route, actor, tenant, outcome and time.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct AuditEntry {
    inner: keycustody::AuditEntry,
}

#[wasm_bindgen]
impl AuditEntry {
    /// Not a way to make one: throws `KC_INVALID_ARGUMENT`. Use `AuditEntry.parse(text)` or
    /// `AuditChain#next`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "never")] _from: Option<JsValue>,
    ) -> JsResult<AuditEntry> {
        Err(invalid("use AuditEntry.parse() or AuditChain#next"))
    }

    /// Parses the canonical JSON text (a string or a `Uint8Array`) of one entry
    /// (`KC_MALFORMED` with `malformedKind` `AuditEntry`, `KC_TOO_LARGE`).
    pub fn parse(text: &BytesArg) -> JsResult<AuditEntry> {
        let t = crate::bytes(text, "text must be a string or Uint8Array")?;
        Ok(AuditEntry {
            inner: keycustody::AuditEntry::parse(&t)?,
        })
    }

    /// A copy, for keyring.js (wasm-bindgen takes ownership of optional and array arguments).
    #[doc(hidden)]
    #[wasm_bindgen(js_name = __clone, skip_typescript)]
    pub fn clone_entry(&self) -> AuditEntry {
        self.clone()
    }

    /// The JSON text (one line, byte-identical to what was parsed).
    #[wasm_bindgen(js_name = toJson)]
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The entry's position in its chain (from 1).
    #[wasm_bindgen(getter)]
    pub fn seq(&self) -> f64 {
        u64_to_f64(self.inner.seq())
    }

    /// Unix time in seconds.
    #[wasm_bindgen(getter)]
    pub fn ts(&self) -> f64 {
        u64_to_f64(self.inner.ts())
    }

    /// The key id the entry is MACed under.
    #[wasm_bindgen(getter)]
    pub fn kid(&self) -> u32 {
        self.inner.kid()
    }

    /// The operation, e.g. `"vault.set"`.
    #[wasm_bindgen(getter)]
    pub fn op(&self) -> String {
        self.inner.op().to_owned()
    }

    /// Secret names or record ids (never values).
    #[wasm_bindgen(getter)]
    pub fn names(&self) -> Vec<String> {
        self.inner.names().to_vec()
    }

    /// The proxy route (null when none).
    #[wasm_bindgen(getter, unchecked_return_type = "string | null")]
    pub fn route(&self) -> JsValue {
        opt_str(self.inner.route())
    }

    /// Who: a user or agent name (null when none).
    #[wasm_bindgen(getter, unchecked_return_type = "string | null")]
    pub fn actor(&self) -> JsValue {
        opt_str(self.inner.actor())
    }

    /// Whose: the tenant (null when none).
    #[wasm_bindgen(getter, unchecked_return_type = "string | null")]
    pub fn tenant(&self) -> JsValue {
        opt_str(self.inner.tenant())
    }

    /// `"intent"`, `"ok"`, `"unconfirmed"` or `"refused"` (null when none).
    #[wasm_bindgen(getter, unchecked_return_type = "string | null")]
    pub fn outcome(&self) -> JsValue {
        opt_str(self.inner.outcome().map(|o| o.as_str()))
    }

    /// The previous entry's MAC (64 zeros for seq 1).
    #[wasm_bindgen(getter)]
    pub fn prev(&self) -> String {
        self.inner.prev().to_owned()
    }

    /// This entry's MAC (64 hex).
    #[wasm_bindgen(getter)]
    pub fn mac(&self) -> String {
        self.inner.mac().to_owned()
    }
}

/// `string | null` (as Node gives: null, not undefined, when absent).
fn opt_str(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::NULL, JsValue::from_str)
}

/// Seqs and times are far below 2^53; saturate rather than lose precision silently.
#[allow(clippy::cast_precision_loss)]
fn u64_to_f64(n: u64) -> f64 {
    n.min((1 << 53) - 1) as f64
}

/// Off-host evidence of a chain's head (seq, head MAC, time) under the scope's audit key.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct AuditCheckpoint {
    inner: keycustody::AuditCheckpoint,
}

#[wasm_bindgen]
impl AuditCheckpoint {
    /// Not a way to make one: throws `KC_INVALID_ARGUMENT`. Use `AuditCheckpoint.parse(text)`
    /// or `AuditChain#checkpoint`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "never")] _from: Option<JsValue>,
    ) -> JsResult<AuditCheckpoint> {
        Err(invalid(
            "use AuditCheckpoint.parse() or AuditChain#checkpoint",
        ))
    }

    /// Parses the one-line JSON text (`KC_MALFORMED` with `malformedKind` `AuditCheckpoint`,
    /// `KC_TOO_LARGE`).
    pub fn parse(text: &StrArg) -> JsResult<AuditCheckpoint> {
        let t = js_string(text, "text must be a string")?;
        Ok(AuditCheckpoint {
            inner: keycustody::AuditCheckpoint::parse(&t)?,
        })
    }

    /// The one-line JSON text.
    #[wasm_bindgen(js_name = toText)]
    pub fn to_text(&self) -> String {
        self.inner.to_text()
    }

    /// The chain's scope.
    #[wasm_bindgen(getter)]
    pub fn scope(&self) -> String {
        self.inner.scope().to_owned()
    }

    /// The seq of the chain's head when the checkpoint was taken (0: empty).
    #[wasm_bindgen(getter)]
    pub fn seq(&self) -> f64 {
        u64_to_f64(self.inner.seq())
    }

    /// The MAC of the entry at `seq` (64 zeros for seq 0).
    #[wasm_bindgen(getter)]
    pub fn head(&self) -> String {
        self.inner.head().to_owned()
    }

    /// Unix time in seconds.
    #[wasm_bindgen(getter)]
    pub fn ts(&self) -> f64 {
        u64_to_f64(self.inner.ts())
    }

    /// The key id the checkpoint is MACed under.
    #[wasm_bindgen(getter)]
    pub fn kid(&self) -> u32 {
        self.inner.kid()
    }

    /// The checkpoint's MAC (64 hex).
    #[wasm_bindgen(getter)]
    pub fn mac(&self) -> String {
        self.inner.mac().to_owned()
    }
}

/// What `AuditChain.verifyRun` found in a run that verified.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct AuditReport {
    inner: keycustody::AuditReport,
}

#[wasm_bindgen]
impl AuditReport {
    /// Not a way to make one: throws `KC_INVALID_ARGUMENT`. Use `AuditChain#verifyRun`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "never")] _from: Option<JsValue>,
    ) -> JsResult<AuditReport> {
        Err(invalid("use AuditChain#verifyRun"))
    }

    /// The number of entries in the run.
    #[wasm_bindgen(getter)]
    pub fn entries(&self) -> f64 {
        u64_to_f64(self.inner.entries)
    }

    /// The seq of the run's first entry (0 for an empty run).
    #[wasm_bindgen(getter, js_name = firstSeq)]
    pub fn first_seq(&self) -> f64 {
        u64_to_f64(self.inner.first_seq)
    }

    /// The seq of the chain's head after the run.
    #[wasm_bindgen(getter, js_name = lastSeq)]
    pub fn last_seq(&self) -> f64 {
        u64_to_f64(self.inner.last_seq)
    }

    /// The MAC of that head (64 zeros for an empty chain).
    #[wasm_bindgen(getter, js_name = headMac)]
    pub fn head_mac(&self) -> String {
        self.inner.head_mac.clone()
    }
}

/// An audit chain of one scope (a VM's vault id, a tenant's or app's chain name), MACed
/// under the keyring's audit key for that scope. Holds a snapshot of the keyring: after a
/// rotation, make a new AuditChain to append under the new primary.
#[wasm_bindgen]
#[derive(Debug)]
pub struct AuditChain {
    inner: keycustody::AuditChain,
}

#[wasm_bindgen]
impl AuditChain {
    /// A chain of `scope` under `keyring`'s audit keys (`KC_INVALID_OWNER` for an empty or
    /// over-long scope).
    #[wasm_bindgen(constructor)]
    pub fn new(keyring: &Keyring, scope: &StrArg) -> JsResult<AuditChain> {
        let scope = js_string(scope, "scope must be a string")?;
        Ok(AuditChain {
            inner: keycustody::AuditChain::new(keyring.core(), &scope)?,
        })
    }

    /// The chain's scope.
    #[wasm_bindgen(getter)]
    pub fn scope(&self) -> String {
        self.inner.scope().to_owned()
    }

    /// The entry after `prev` (the chain's first when `null`) recording `event` at `now`
    /// (default: the clock). `prev` is verified first (`KC_INVALID_ARGUMENT`: limits, an
    /// unknown event field; `KC_AUDIT_BROKEN`: prev does not verify).
    pub fn next(
        &self,
        prev: Option<AuditEntry>,
        event: &AuditEventArg,
        now: Option<NumArg>,
    ) -> JsResult<AuditEntry> {
        let ev = event_arg(event)?;
        let ts = now_secs(now)?;
        Ok(AuditEntry {
            inner: self.inner.next(prev.as_ref().map(|p| &p.inner), &ev, ts)?,
        })
    }

    /// Verifies one entry's MAC (`KC_AUDIT_BROKEN` when it does not verify).
    #[wasm_bindgen(js_name = verifyEntry)]
    pub fn verify_entry(&self, entry: &AuditEntry) -> JsResult<()> {
        Ok(self.inner.verify_entry(&entry.inner)?)
    }

    /// Verifies a run of entries (each MAC, seq continuity, prev linkage) after `after`
    /// (from seq 1 when absent); `KC_AUDIT_BROKEN` names the seq where the chain breaks
    /// (`auditPosition`).
    #[wasm_bindgen(js_name = verifyRun)]
    pub fn verify_run(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AuditEntry[]")] entries: Vec<AuditEntry>,
        after: Option<AuditEntry>,
    ) -> JsResult<AuditReport> {
        let run: Vec<keycustody::AuditEntry> = entries.into_iter().map(|e| e.inner).collect();
        Ok(AuditReport {
            inner: self
                .inner
                .verify_run(&run, after.as_ref().map(|a| &a.inner))?,
        })
    }

    /// A checkpoint of the chain whose head is `head` (`null`: the empty chain) at `now`
    /// (`KC_AUDIT_BROKEN` when `head` does not verify).
    pub fn checkpoint(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AuditEntry | null")] head: Option<AuditEntry>,
        now: Option<NumArg>,
    ) -> JsResult<AuditCheckpoint> {
        let ts = now_secs(now)?;
        Ok(AuditCheckpoint {
            inner: self.inner.checkpoint(head.as_ref().map(|h| &h.inner), ts)?,
        })
    }

    /// Verifies a checkpoint's MAC and scope (`KC_AUDIT_BROKEN`: MAC mismatch, another scope,
    /// an unusable kid).
    #[wasm_bindgen(js_name = verifyCheckpoint)]
    pub fn verify_checkpoint(&self, checkpoint: &AuditCheckpoint) -> JsResult<()> {
        Ok(self.inner.verify_checkpoint(&checkpoint.inner)?)
    }

    /// Checks a log verified from seq 1 (`report`) against an earlier checkpoint;
    /// `entryAtCheckpoint` is the log's entry at the checkpoint's seq (may be absent when
    /// that is the head, or the checkpoint's seq is 0). `KC_AUDIT_BROKEN` (erased, truncated
    /// or rolled back, diverging), `KC_INVALID_ARGUMENT`.
    #[wasm_bindgen(js_name = checkAgainst)]
    pub fn check_against(
        &self,
        checkpoint: &AuditCheckpoint,
        report: &AuditReport,
        #[wasm_bindgen(js_name = entryAtCheckpoint)] entry_at_checkpoint: Option<AuditEntry>,
    ) -> JsResult<()> {
        Ok(self.inner.check_against(
            &checkpoint.inner,
            &report.inner,
            entry_at_checkpoint.as_ref().map(|e| &e.inner),
        )?)
    }
}

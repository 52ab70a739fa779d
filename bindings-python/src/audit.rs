//! The audit chain (core's `keycustody::AuditChain`, pure): building an entry, verifying a
//! run of entries, checkpoints. No I/O: the application stores the entries (a table, a log)
//! and passes them back. `now=None` is the wall clock in Unix seconds.

use keycustody::{
    AuditCheckpoint, AuditEntry, AuditEvent, AuditOutcome, AuditReport, Error, MalformedKind,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::args::{Data, Text, UnixTime};
use crate::errors::{to_py, ToPyResult};
use crate::keyring::PyKeyring;

const EVENT_EXPECTED: &str =
    "event: expected a dict with op (str) and optional names (list of str), route, actor, tenant, outcome (str)";

/// `now` in Unix seconds: given (a negative time is refused), or the clock.
fn now_secs(now: Option<UnixTime>) -> PyResult<u64> {
    match now {
        Some(UnixTime(t)) => {
            u64::try_from(t).map_err(|_| to_py(Error::InvalidArgument("now must not be negative")))
        }
        None => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())),
    }
}

fn opt_str(d: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<String>> {
    match d.get_item(key)? {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => {
            let s = v
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err(EVENT_EXPECTED))?;
            Ok(Some(
                s.to_cow()
                    .map_err(|_| to_py(Error::Malformed(MalformedKind::Utf8)))?
                    .into_owned(),
            ))
        }
    }
}

/// The event of a dict `{"op", "names", "route", "actor", "tenant", "outcome"}`; an unknown
/// key is refused (a misspelt `tenant` must not be dropped silently).
fn event_from(ob: &Bound<'_, PyAny>) -> PyResult<AuditEvent> {
    let d = ob
        .cast::<PyDict>()
        .map_err(|_| PyTypeError::new_err(EVENT_EXPECTED))?;
    for k in d.keys() {
        let k = k
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err(EVENT_EXPECTED))?;
        if !matches!(
            k.to_cow()?.as_ref(),
            "op" | "names" | "route" | "actor" | "tenant" | "outcome"
        ) {
            return Err(to_py(Error::InvalidArgument(
                "audit event has an unknown field (op, names, route, actor, tenant, outcome)",
            )));
        }
    }
    let op = opt_str(d, "op")?.ok_or_else(|| PyTypeError::new_err(EVENT_EXPECTED))?;
    let mut ev = AuditEvent::new(&op);
    if let Some(v) = d.get_item("names")? {
        if !v.is_none() {
            if v.is_instance_of::<PyString>() {
                return Err(PyTypeError::new_err(EVENT_EXPECTED));
            }
            let names: Vec<String> = v
                .extract()
                .map_err(|_| PyTypeError::new_err(EVENT_EXPECTED))?;
            ev = ev.names(&names);
        }
    }
    if let Some(r) = opt_str(d, "route")? {
        ev = ev.route(&r);
    }
    if let Some(a) = opt_str(d, "actor")? {
        ev = ev.actor(&a);
    }
    if let Some(t) = opt_str(d, "tenant")? {
        ev = ev.tenant(&t);
    }
    if let Some(o) = opt_str(d, "outcome")? {
        ev = ev.outcome(AuditOutcome::parse(&o).to_py()?);
    }
    Ok(ev)
}

/// One entry of an audit chain: from `AuditChain.next` or `AuditEntry.parse` (well formed,
/// not verified: verify with `AuditChain.verify_entry` / `verify_run`). Never holds a value:
/// an operation, names (secret names, record ids), route, actor, tenant, outcome, time.
#[pyclass(module = "keycustody", frozen, name = "AuditEntry", eq)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyAuditEntry {
    inner: AuditEntry,
}

#[pymethods]
impl PyAuditEntry {
    /// Parses the canonical JSON text (`str` or `bytes`) of one entry. Raises MalformedError, TooLargeError.
    #[staticmethod]
    fn parse(text: Data<'_>) -> PyResult<Self> {
        Ok(PyAuditEntry {
            inner: AuditEntry::parse(text.as_slice()).to_py()?,
        })
    }

    /// The JSON text (one line, byte-identical to what was parsed).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The entry's position in its chain (from 1).
    #[getter]
    fn seq(&self) -> u64 {
        self.inner.seq()
    }

    /// Unix time in seconds.
    #[getter]
    fn ts(&self) -> u64 {
        self.inner.ts()
    }

    /// The key id the entry is MACed under.
    #[getter]
    fn kid(&self) -> u32 {
        self.inner.kid()
    }

    /// The operation, e.g. "vault.set".
    #[getter]
    fn op(&self) -> &str {
        self.inner.op()
    }

    /// Secret names or record ids (never values).
    #[getter]
    fn names(&self) -> Vec<String> {
        self.inner.names().to_vec()
    }

    #[getter]
    fn route(&self) -> Option<&str> {
        self.inner.route()
    }

    /// Who: a user or agent name.
    #[getter]
    fn actor(&self) -> Option<&str> {
        self.inner.actor()
    }

    /// Whose: the tenant.
    #[getter]
    fn tenant(&self) -> Option<&str> {
        self.inner.tenant()
    }

    /// "intent", "ok", "unconfirmed" or "refused".
    #[getter]
    fn outcome(&self) -> Option<&'static str> {
        self.inner.outcome().map(|o| o.as_str())
    }

    /// The previous entry's MAC (64 zeros for seq 1).
    #[getter]
    fn prev(&self) -> &str {
        self.inner.prev()
    }

    /// This entry's MAC (64 hex).
    #[getter]
    fn mac(&self) -> &str {
        self.inner.mac()
    }

    fn __repr__(&self) -> String {
        format!(
            "AuditEntry(seq={}, op={:?}, kid={})",
            self.inner.seq(),
            self.inner.op(),
            self.inner.kid()
        )
    }
}

/// A checkpoint: off-host evidence of a chain's head (seq, head MAC, time) under the scope's
/// audit key. Store its text (`to_text`) away from the log; check a log against it later.
#[pyclass(module = "keycustody", frozen, name = "AuditCheckpoint", eq)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyAuditCheckpoint {
    inner: AuditCheckpoint,
}

#[pymethods]
impl PyAuditCheckpoint {
    /// Parses the one-line JSON text. Raises MalformedError, TooLargeError.
    #[staticmethod]
    fn parse(text: Text) -> PyResult<Self> {
        Ok(PyAuditCheckpoint {
            inner: AuditCheckpoint::parse(&text).to_py()?,
        })
    }

    /// The one-line JSON text.
    fn to_text(&self) -> String {
        self.inner.to_text()
    }

    #[getter]
    fn scope(&self) -> &str {
        self.inner.scope()
    }

    #[getter]
    fn seq(&self) -> u64 {
        self.inner.seq()
    }

    /// The MAC of the entry at `seq` (64 zeros for seq 0).
    #[getter]
    fn head(&self) -> &str {
        self.inner.head()
    }

    #[getter]
    fn ts(&self) -> u64 {
        self.inner.ts()
    }

    #[getter]
    fn kid(&self) -> u32 {
        self.inner.kid()
    }

    #[getter]
    fn mac(&self) -> &str {
        self.inner.mac()
    }

    fn __repr__(&self) -> String {
        format!(
            "AuditCheckpoint(scope={:?}, seq={})",
            self.inner.scope(),
            self.inner.seq()
        )
    }
}

/// What `AuditChain.verify_run` found in a run that verified.
#[pyclass(module = "keycustody", frozen, name = "AuditReport", eq)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyAuditReport {
    inner: AuditReport,
}

#[pymethods]
impl PyAuditReport {
    /// The number of entries in the run.
    #[getter]
    fn entries(&self) -> u64 {
        self.inner.entries
    }

    /// The seq of the run's first entry (0 for an empty run).
    #[getter]
    fn first_seq(&self) -> u64 {
        self.inner.first_seq
    }

    /// The seq of the chain's head after the run.
    #[getter]
    fn last_seq(&self) -> u64 {
        self.inner.last_seq
    }

    /// The MAC of that head (64 zeros for an empty chain).
    #[getter]
    fn head_mac(&self) -> &str {
        &self.inner.head_mac
    }

    fn __repr__(&self) -> String {
        format!(
            "AuditReport(entries={}, first_seq={}, last_seq={})",
            self.inner.entries, self.inner.first_seq, self.inner.last_seq
        )
    }
}

/// An audit chain of one scope (a VM's vault id, a tenant's or app's chain name), MACed
/// under `Keyring.audit_key(kid, scope)`. Holds a snapshot of the keyring: after a rotation,
/// make a new AuditChain to append under the new primary.
#[pyclass(module = "keycustody", frozen, name = "AuditChain")]
pub(crate) struct PyAuditChain {
    inner: keycustody::AuditChain,
}

fn entries_of(entries: &[PyRef<'_, PyAuditEntry>]) -> Vec<AuditEntry> {
    entries.iter().map(|e| e.inner.clone()).collect()
}

#[pymethods]
impl PyAuditChain {
    /// Raises InvalidArgumentError for an empty or over-long scope.
    #[new]
    fn new(keyring: PyRef<'_, PyKeyring>, scope: Text) -> PyResult<Self> {
        Ok(PyAuditChain {
            inner: keycustody::AuditChain::new(&keyring.inner, &scope).to_py()?,
        })
    }

    #[getter]
    fn scope(&self) -> &str {
        self.inner.scope()
    }

    /// The entry after `prev` (the chain's first when None) recording `event` (a dict:
    /// op, names, route, actor, tenant, outcome) at `now`. `prev` is verified first.
    /// Raises InvalidArgumentError (limits), AuditBrokenError (prev does not verify).
    #[pyo3(signature = (prev, event, now = None))]
    fn next(
        &self,
        prev: Option<PyRef<'_, PyAuditEntry>>,
        event: &Bound<'_, PyAny>,
        now: Option<UnixTime>,
    ) -> PyResult<PyAuditEntry> {
        let ev = event_from(event)?;
        let prev = prev.as_ref().map(|p| &p.inner);
        Ok(PyAuditEntry {
            inner: self.inner.next(prev, &ev, now_secs(now)?).to_py()?,
        })
    }

    /// Verifies one entry's MAC. Raises AuditBrokenError.
    fn verify_entry(&self, entry: PyRef<'_, PyAuditEntry>) -> PyResult<()> {
        self.inner.verify_entry(&entry.inner).to_py()
    }

    /// Verifies a run of entries (each MAC, seq continuity, prev linkage) after `after`
    /// (from seq 1 when None). Raises AuditBrokenError naming the seq where it breaks.
    #[pyo3(signature = (entries, after = None))]
    fn verify_run(
        &self,
        entries: Vec<PyRef<'_, PyAuditEntry>>,
        after: Option<PyRef<'_, PyAuditEntry>>,
    ) -> PyResult<PyAuditReport> {
        let run = entries_of(&entries);
        let after = after.as_ref().map(|a| &a.inner);
        Ok(PyAuditReport {
            inner: self.inner.verify_run(&run, after).to_py()?,
        })
    }

    /// A checkpoint of the chain whose head is `head` (None: the empty chain) at `now`.
    #[pyo3(signature = (head, now = None))]
    fn checkpoint(
        &self,
        head: Option<PyRef<'_, PyAuditEntry>>,
        now: Option<UnixTime>,
    ) -> PyResult<PyAuditCheckpoint> {
        let head = head.as_ref().map(|h| &h.inner);
        Ok(PyAuditCheckpoint {
            inner: self.inner.checkpoint(head, now_secs(now)?).to_py()?,
        })
    }

    /// Verifies a checkpoint's MAC and scope. Raises AuditBrokenError.
    fn verify_checkpoint(&self, checkpoint: PyRef<'_, PyAuditCheckpoint>) -> PyResult<()> {
        self.inner.verify_checkpoint(&checkpoint.inner).to_py()
    }

    /// Checks a log verified from seq 1 (`report`) against an earlier checkpoint;
    /// `entry_at_checkpoint` is the log's entry at the checkpoint's seq (None when that is
    /// the head or the checkpoint's seq is 0). Raises AuditBrokenError (erased, shorter,
    /// diverging), InvalidArgumentError.
    #[pyo3(signature = (checkpoint, report, entry_at_checkpoint = None))]
    fn check_against(
        &self,
        checkpoint: PyRef<'_, PyAuditCheckpoint>,
        report: PyRef<'_, PyAuditReport>,
        entry_at_checkpoint: Option<PyRef<'_, PyAuditEntry>>,
    ) -> PyResult<()> {
        let at = entry_at_checkpoint.as_ref().map(|e| &e.inner);
        self.inner
            .check_against(&checkpoint.inner, &report.inner, at)
            .to_py()
    }

    fn __repr__(&self) -> String {
        format!("AuditChain(scope={:?})", self.inner.scope())
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyAuditChain>()?;
    m.add_class::<PyAuditEntry>()?;
    m.add_class::<PyAuditCheckpoint>()?;
    m.add_class::<PyAuditReport>()?;
    Ok(())
}

//! tests/vectors/audit_v1.json through the core (the generator is xtask/src/audit.rs; the
//! independent check is tests/interop/audit_ref.py).
use keycustody::{
    AuditChain, AuditCheckpoint, AuditEntry, AuditEvent, AuditOutcome, Error, Keyring,
};
use serde_json::Value;

fn load() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/audit_v1.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc["version"], 1);
    doc["cases"].as_array().unwrap().clone()
}

fn chain(c: &Value) -> AuditChain {
    let kr = Keyring::parse(c["keyring"].as_str().unwrap()).unwrap();
    AuditChain::new(&kr, c["scope"].as_str().unwrap()).unwrap()
}

fn line(v: &Value) -> keycustody::Result<Option<AuditEntry>> {
    v.as_str()
        .map(|s| AuditEntry::parse(s.as_bytes()))
        .transpose()
}

fn lines(v: &Value) -> keycustody::Result<Vec<AuditEntry>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| AuditEntry::parse(s.as_str().unwrap().as_bytes()))
        .collect()
}

fn event(v: &Value) -> AuditEvent {
    let s = |k: &str| v[k].as_str();
    let mut e = AuditEvent::new(s("op").unwrap());
    let names: Vec<&str> = v["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    e = e.names(&names);
    if let Some(r) = s("route") {
        e = e.route(r);
    }
    if let Some(a) = s("actor") {
        e = e.actor(a);
    }
    if let Some(t) = s("tenant") {
        e = e.tenant(t);
    }
    if let Some(o) = s("outcome") {
        e = e.outcome(AuditOutcome::parse(o).unwrap());
    }
    e
}

/// Runs one case; `Ok(Some(value))` is compared with the case's expected output field.
fn run(c: &Value) -> keycustody::Result<Option<(&'static str, Value)>> {
    let ch = chain(c);
    match c["op"].as_str().unwrap() {
        "audit_key" => {
            let kid = u32::try_from(c["kid"].as_u64().unwrap()).unwrap();
            let kr = Keyring::parse(c["keyring"].as_str().unwrap()).unwrap();
            let (_, k) = kr.audit_key(Some(kid), c["scope"].as_str().unwrap())?;
            Ok(Some(("key_hex", hex::encode(k.expose_secret()).into())))
        }
        "append" => {
            let prev = line(&c["prev"])?;
            let e = ch.next(
                prev.as_ref(),
                &event(&c["event"]),
                c["ts"].as_u64().unwrap(),
            )?;
            // The line parses back to the same entry.
            assert_eq!(AuditEntry::parse(e.to_json().as_bytes()).unwrap(), e);
            Ok(Some(("entry", e.to_json().into())))
        }
        "chain" => {
            let v = lines(&c["entries"])?;
            let after = line(&c["after"])?;
            let r = ch.verify_run(&v, after.as_ref())?;
            // The incremental verifier agrees.
            let mut it = ch.verifier(after.as_ref())?;
            for e in &v {
                it.push(e)?;
            }
            assert_eq!(it.report(), r);
            for (e, l) in v.iter().zip(c["entries"].as_array().unwrap()) {
                assert_eq!(e.to_json(), l.as_str().unwrap(), "byte for byte");
            }
            Ok(Some((
                "report",
                serde_json::json!({"entries": r.entries, "first_seq": r.first_seq,
                    "last_seq": r.last_seq, "head_mac": r.head_mac}),
            )))
        }
        "checkpoint" => {
            let head = line(&c["head"])?;
            let cp = ch.checkpoint(head.as_ref(), c["ts"].as_u64().unwrap())?;
            ch.verify_checkpoint(&AuditCheckpoint::parse(&cp.to_text()).unwrap())
                .unwrap();
            Ok(Some(("checkpoint", cp.to_text().into())))
        }
        "check_checkpoint" => {
            let cp = AuditCheckpoint::parse(c["checkpoint"].as_str().unwrap())?;
            let v = lines(&c["entries"])?;
            let r = ch.verify_run(&v, None)?;
            let at = usize::try_from(cp.seq())
                .ok()
                .and_then(|s| s.checked_sub(1))
                .and_then(|i| v.get(i));
            ch.check_against(&cp, &r, at)?;
            Ok(None)
        }
        op => panic!("unknown op {op}"),
    }
}

fn check_err(c: &Value, e: &Error) {
    let name = c["name"].as_str().unwrap();
    assert_eq!(e.kind(), c["expect"].as_str().unwrap(), "{name}: {e}");
    if e.kind() == "AuditBroken" {
        assert_eq!(e.audit_position(), c["seq"].as_u64(), "{name}");
        assert_eq!(e.audit_reason(), c["reason"].as_str(), "{name}");
    }
    if let Some(k) = e.malformed_kind() {
        assert_eq!(Some(k.name()), c["detail"].as_str(), "{name}");
    }
}

#[test]
fn every_audit_vector() {
    let cases = load();
    assert!(cases.len() >= 50, "{}", cases.len());
    for c in &cases {
        let name = c["name"].as_str().unwrap();
        match (run(c), c["expect"].as_str().unwrap()) {
            (Ok(out), "ok") => {
                if let Some((field, got)) = out {
                    assert_eq!(got, c[field], "{name}: {field}");
                }
            }
            (Ok(_), want) => panic!("{name}: expected {want}, got ok"),
            (Err(e), _) => check_err(c, &e),
        }
    }
}

#[test]
fn the_vectors_cover_every_broken_shape() {
    let cases = load();
    let reasons: std::collections::BTreeSet<&str> =
        cases.iter().filter_map(|c| c["reason"].as_str()).collect();
    for r in [
        "MAC mismatch",
        "sequence gap",
        "prev does not link",
        "entry names a key id the keyring cannot use",
        "log is empty but the checkpoint is not (erased)",
        "log is shorter than the checkpoint (truncated or rolled back)",
        "diverges from checkpoint",
        "checkpoint MAC mismatch",
        "checkpoint is for another scope",
        "checkpoint names a key id the keyring cannot use",
    ] {
        assert!(reasons.contains(r), "no case for {r}");
    }
    let kinds: std::collections::BTreeSet<(&str, &str)> = cases
        .iter()
        .map(|c| (c["op"].as_str().unwrap(), c["expect"].as_str().unwrap()))
        .collect();
    for k in [
        ("append", "ok"),
        ("append", "InvalidArgument"),
        ("chain", "ok"),
        ("chain", "Malformed"),
        ("checkpoint", "ok"),
        ("check_checkpoint", "ok"),
        ("check_checkpoint", "Malformed"),
        ("audit_key", "ok"),
    ] {
        assert!(kinds.contains(&k), "no case {k:?}");
    }
}

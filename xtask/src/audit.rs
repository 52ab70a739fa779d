//! `tests/vectors/audit_v1.json` (DESIGN §5 "Audit log", docs/audit.md): audit chains under
//! fixed keyrings (a rotation mid-chain: kid 1 then kid 2), the entries today's CLI writes,
//! every broken shape with the seq and reason core names, checkpoints good and bad.
//!
//! Case shapes (`op`):
//! - `audit_key`: `keyring`, `scope`, `kid` -> `key_hex` (HKDF label `keycustody/v1/audit`).
//! - `append`: `keyring`, `scope`, `prev` (an entry line or null), `event` (`op`, `names`,
//!   optional `route`, `actor`, `tenant`, `outcome`), `ts` -> `entry` (the line, byte for byte).
//! - `chain`: `keyring`, `scope`, `entries` (lines), `after` (a line or null) -> `report`
//!   (`entries`, `first_seq`, `last_seq`, `head_mac`). Every line is parsed first.
//! - `checkpoint`: `keyring`, `scope`, `head` (a line or null), `ts` -> `checkpoint` (text).
//! - `check_checkpoint`: `keyring`, `scope`, `checkpoint` (text), `entries` (the whole log from
//!   seq 1): parse the checkpoint, verify the log, check the log against it (with the log's
//!   entry at the checkpoint's seq when the log has it).
//!
//! Errors: `expect` is the kind; `AuditBroken` cases carry `seq` and `reason`, `Malformed`
//! cases `detail` (the malformed kind).

use super::{file, kr_other, kr_rotated, kr_single};
use keycustody::{
    AuditChain, AuditCheckpoint, AuditEntry, AuditEvent, AuditOutcome, Error, Keyring,
};
use serde_json::{json, Map, Value};

const SCOPE: &str = "vm-7f3a";
const T: u64 = 1_796_000_000;

/// The CLI's own log (core/tests/data, written by `keycustody vault ...` before this format
/// grew `actor`, `tenant` and `outcome`), with its key file and vault id.
const CLI_LOG: &str = include_str!("../../core/tests/data/audit_cli_v0.log");
const CLI_KEY: &str = include_str!("../../core/tests/data/audit_cli_v0.key");
const CLI_SCOPE: &str = include_str!("../../core/tests/data/audit_cli_v0.scope");

fn chain(kr: &str, scope: &str) -> AuditChain {
    AuditChain::new(&Keyring::parse(kr).expect("keyring"), scope).expect("chain")
}

fn events() -> Vec<AuditEvent> {
    vec![
        AuditEvent::new("vault.init"),
        AuditEvent::new("vault.set")
            .name("OPENAI_API_KEY")
            .actor("cli")
            .outcome(AuditOutcome::Intent),
        AuditEvent::new("vault.set")
            .name("OPENAI_API_KEY")
            .actor("cli")
            .outcome(AuditOutcome::Ok),
        AuditEvent::new("proxy.key_use")
            .name("ANTHROPIC_API_KEY")
            .route("anthropic")
            .actor("agent-7"),
        AuditEvent::new("secret.view")
            .names(&["clé-été", "DB_URL"])
            .actor("alice@example.com")
            .tenant("acme")
            .outcome(AuditOutcome::Ok),
        AuditEvent::new("proxy.refused")
            .route("openai")
            .actor("agent \"q\" \\ 9")
            .outcome(AuditOutcome::Refused),
    ]
}

/// Six entries: 1..=3 under kid 1 (before the rotation), 4..=6 under kid 2.
fn six() -> Vec<AuditEntry> {
    let before = chain(&kr_single(), SCOPE);
    let after = chain(&kr_rotated(), SCOPE);
    let mut v: Vec<AuditEntry> = Vec::new();
    for (i, ev) in events().iter().enumerate() {
        let c = if i < 3 { &before } else { &after };
        let e = c.next(v.last(), ev, T + 60 * i as u64).expect("next");
        v.push(e);
    }
    v
}

fn lines(v: &[AuditEntry]) -> Vec<String> {
    v.iter().map(AuditEntry::to_json).collect()
}

fn err_fields(c: &mut Map<String, Value>, e: &Error) {
    c.insert("expect".into(), json!(e.kind()));
    if let Some(seq) = e.audit_position() {
        c.insert("seq".into(), json!(seq));
        c.insert("reason".into(), json!(e.audit_reason()));
    }
    if let Some(k) = e.malformed_kind() {
        c.insert("detail".into(), json!(k.name()));
    }
}

fn base(name: &str, op: &str, comment: &str, kr: &str, scope: &str) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("name".into(), json!(name));
    c.insert("op".into(), json!(op));
    c.insert("comment".into(), json!(comment));
    c.insert("keyring".into(), json!(kr));
    c.insert("scope".into(), json!(scope));
    c
}

fn parse_all(entries: &[String]) -> Result<Vec<AuditEntry>, Error> {
    entries
        .iter()
        .map(|l| AuditEntry::parse(l.as_bytes()))
        .collect()
}

fn run_chain(
    kr: &str,
    scope: &str,
    entries: &[String],
    after: Option<&str>,
) -> Result<Value, Error> {
    let c = chain(kr, scope);
    let v = parse_all(entries)?;
    let a = after.map(|l| AuditEntry::parse(l.as_bytes())).transpose()?;
    let r = c.verify_run(&v, a.as_ref())?;
    Ok(json!({
        "entries": r.entries,
        "first_seq": r.first_seq,
        "last_seq": r.last_seq,
        "head_mac": r.head_mac,
    }))
}

fn chain_case(
    name: &str,
    comment: &str,
    kr: &str,
    scope: &str,
    entries: Vec<String>,
    after: Option<String>,
) -> Value {
    let mut c = base(name, "chain", comment, kr, scope);
    let r = run_chain(kr, scope, &entries, after.as_deref());
    c.insert("entries".into(), json!(entries));
    c.insert("after".into(), json!(after));
    match r {
        Ok(report) => {
            c.insert("expect".into(), json!("ok"));
            c.insert("report".into(), report);
        }
        Err(e) => err_fields(&mut c, &e),
    }
    Value::Object(c)
}

fn event_json(e: &AuditEvent) -> Value {
    let mut m = Map::new();
    m.insert("op".into(), json!(e.op));
    m.insert("names".into(), json!(e.names));
    for (k, v) in [
        ("route", &e.route),
        ("actor", &e.actor),
        ("tenant", &e.tenant),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    }
    if let Some(o) = e.outcome {
        m.insert("outcome".into(), json!(o.as_str()));
    }
    Value::Object(m)
}

fn append_case(name: &str, comment: &str, prev: Option<String>, ev: &AuditEvent, ts: u64) -> Value {
    let kr = kr_rotated();
    let mut c = base(name, "append", comment, &kr, SCOPE);
    let ch = chain(&kr, SCOPE);
    let r = prev
        .as_deref()
        .map(|l| AuditEntry::parse(l.as_bytes()))
        .transpose()
        .and_then(|p| ch.next(p.as_ref(), ev, ts));
    c.insert("prev".into(), json!(prev));
    c.insert("event".into(), event_json(ev));
    c.insert("ts".into(), json!(ts));
    match r {
        Ok(e) => {
            c.insert("expect".into(), json!("ok"));
            c.insert("entry".into(), json!(e.to_json()));
        }
        Err(e) => err_fields(&mut c, &e),
    }
    Value::Object(c)
}

fn checkpoint_case(name: &str, comment: &str, head: Option<String>, ts: u64) -> Value {
    let kr = kr_rotated();
    let mut c = base(name, "checkpoint", comment, &kr, SCOPE);
    let r = head
        .as_deref()
        .map(|l| AuditEntry::parse(l.as_bytes()))
        .transpose()
        .and_then(|h| chain(&kr, SCOPE).checkpoint(h.as_ref(), ts));
    c.insert("head".into(), json!(head));
    c.insert("ts".into(), json!(ts));
    match r {
        Ok(cp) => {
            c.insert("expect".into(), json!("ok"));
            c.insert("checkpoint".into(), json!(cp.to_text()));
        }
        Err(e) => err_fields(&mut c, &e),
    }
    Value::Object(c)
}

fn run_check(kr: &str, scope: &str, cp: &str, entries: &[String]) -> Result<(), Error> {
    let c = chain(kr, scope);
    let cp = AuditCheckpoint::parse(cp)?;
    let v = parse_all(entries)?;
    let r = c.verify_run(&v, None)?;
    let at = usize::try_from(cp.seq())
        .ok()
        .and_then(|s| s.checked_sub(1))
        .and_then(|i| v.get(i));
    c.check_against(&cp, &r, at)
}

fn check_case(name: &str, comment: &str, scope: &str, cp: &str, entries: Vec<String>) -> Value {
    let kr = kr_rotated();
    let mut c = base(name, "check_checkpoint", comment, &kr, scope);
    let r = run_check(&kr, scope, cp, &entries);
    c.insert("checkpoint".into(), json!(cp));
    c.insert("entries".into(), json!(entries));
    match r {
        Ok(()) => {
            c.insert("expect".into(), json!("ok"));
        }
        Err(e) => err_fields(&mut c, &e),
    }
    Value::Object(c)
}

fn edit(line: &str, from: &str, to: &str) -> String {
    assert!(line.contains(from), "{from} not in {line}");
    line.replacen(from, to, 1)
}

/// The audit vector file.
#[must_use]
pub fn audit_file() -> Value {
    let kr = kr_rotated();
    let v = six();
    let l = lines(&v);
    let mut cases = Vec::new();

    // Key derivation.
    for kid in [1u32, 2] {
        let mut c = base(
            &format!("audit_key_kid{kid}"),
            "audit_key",
            "HKDF-Expand(PRK_kid, \"keycustody/v1/audit\" || 0x00 || scope, 32)",
            &kr,
            SCOPE,
        );
        let (_, k) = Keyring::parse(&kr)
            .unwrap()
            .audit_key(Some(kid), SCOPE)
            .unwrap();
        c.insert("kid".into(), json!(kid));
        c.insert("expect".into(), json!("ok"));
        c.insert("key_hex".into(), json!(hex::encode(k.expose_secret())));
        cases.push(Value::Object(c));
    }

    // Appends: the entries of the chain, each rebuilt from its event (the first three under
    // kid 1 are in the `chain` cases; kid 2, the primary, here).
    let evs = events();
    cases.push(append_case(
        "append_first_entry",
        "seq 1, prev = 64 zeros, kid = the primary (2)",
        None,
        &evs[0],
        T,
    ));
    for i in 3..6 {
        cases.push(append_case(
            &format!("append_entry_{}", i + 1),
            "seq and prev from the previous entry, optional fields in order when present",
            Some(l[i - 1].clone()),
            &evs[i],
            T + 60 * i as u64,
        ));
    }
    let long = "x".repeat(257);
    let many: Vec<String> = (0..65).map(|i| format!("N{i}")).collect();
    for (name, ev) in [
        ("append_empty_op", AuditEvent::new("")),
        ("append_op_too_long", AuditEvent::new(&long)),
        (
            "append_op_newline",
            AuditEvent::new("vault.set\n{\"seq\":9}"),
        ),
        ("append_65_names", AuditEvent::new("vault.run").names(&many)),
        ("append_empty_name", AuditEvent::new("vault.get").name("")),
        (
            "append_actor_control_char",
            AuditEvent::new("x").actor("a\u{1b}[31m"),
        ),
        ("append_empty_tenant", AuditEvent::new("x").tenant("")),
    ] {
        cases.push(append_case(
            name,
            "a field outside the limits: nothing is built",
            Some(l[5].clone()),
            &ev,
            T,
        ));
    }
    cases.push(append_case(
        "append_after_edited_prev",
        "the chain refuses to grow on an entry whose MAC fails",
        Some(edit(&l[5], "proxy.refused", "proxy.allowed")),
        &evs[0],
        T,
    ));

    // Chains.
    cases.push(chain_case(
        "chain_rotation_mid_chain",
        "entries 1-3 under kid 1, 4-6 under kid 2; every optional field; UTF-8 and escapes",
        &kr,
        SCOPE,
        l.clone(),
        None,
    ));
    cases.push(chain_case(
        "chain_run_after_an_entry",
        "entries 4-6, verified after entry 3",
        &kr,
        SCOPE,
        l[3..].to_vec(),
        Some(l[2].clone()),
    ));
    cases.push(chain_case(
        "chain_empty",
        "no entries: head 64 zeros",
        &kr,
        SCOPE,
        vec![],
        None,
    ));
    cases.push(chain_case(
        "chain_cli_v0",
        "lines written by the CLI before actor/tenant/outcome existed, with a `keys rotate` mid-way",
        CLI_KEY.trim(),
        CLI_SCOPE.trim(),
        CLI_LOG.lines().map(str::to_owned).collect(),
        None,
    ));
    let broken: Vec<(&str, &str, Vec<String>)> = vec![
        ("chain_edited_op", "entry 2's op edited", {
            let mut x = l.clone();
            x[1] = edit(&x[1], "vault.set", "vault.get");
            x
        }),
        ("chain_edited_ts", "entry 4's ts edited", {
            let mut x = l.clone();
            x[3] = edit(
                &x[3],
                &format!("\"ts\":{}", T + 180),
                &format!("\"ts\":{}", T + 181),
            );
            x
        }),
        ("chain_edited_name", "entry 5's first name edited", {
            let mut x = l.clone();
            x[4] = edit(&x[4], "clé-été", "clé-ete");
            x
        }),
        ("chain_edited_actor", "entry 4's actor edited", {
            let mut x = l.clone();
            x[3] = edit(&x[3], "agent-7", "agent-8");
            x
        }),
        ("chain_removed_outcome", "entry 3's outcome removed", {
            let mut x = l.clone();
            x[2] = edit(&x[2], ",\"outcome\":\"ok\"", "");
            x
        }),
        ("chain_edited_kid", "entry 5 claims kid 1", {
            let mut x = l.clone();
            x[4] = edit(&x[4], "\"kid\":2", "\"kid\":1");
            x
        }),
        (
            "chain_unknown_kid",
            "entry 5 claims kid 9, which the keyring does not hold",
            {
                let mut x = l.clone();
                x[4] = edit(&x[4], "\"kid\":2", "\"kid\":9");
                x
            },
        ),
        ("chain_removed_entry", "entry 3 removed", {
            let mut x = l.clone();
            x.remove(2);
            x
        }),
        ("chain_removed_first", "entry 1 removed", l[1..].to_vec()),
        ("chain_reordered", "entries 3 and 4 swapped", {
            let mut x = l.clone();
            x.swap(2, 3);
            x
        }),
        ("chain_duplicated", "entry 2 repeated after entry 5", {
            let mut x = l.clone();
            x.insert(5, l[1].clone());
            x
        }),
        (
            "chain_spliced",
            "entry 4 replaced by a valid entry of a fork: entry 5 no longer links",
            {
                let fork = chain(&kr, SCOPE)
                    .next(Some(&v[2]), &AuditEvent::new("forked"), T)
                    .unwrap();
                let mut x = l.clone();
                x[3] = fork.to_json();
                x
            },
        ),
        (
            "chain_other_key",
            "entry 2 rebuilt under another platform's keyring",
            {
                let other = chain(&kr_other(), SCOPE);
                let e1 = other.next(None, &evs[0], T).unwrap();
                let e2 = other.next(Some(&e1), &evs[1], T + 60).unwrap();
                let mut x = l.clone();
                x[1] = edit(&e2.to_json(), e2.prev(), v[0].mac());
                x
            },
        ),
    ];
    for (name, comment, entries) in broken {
        cases.push(chain_case(name, comment, &kr, SCOPE, entries, None));
    }
    cases.push(chain_case(
        "chain_other_scope",
        "the chain verified under another scope (same keyring)",
        &kr,
        "vm-other",
        l.clone(),
        None,
    ));
    cases.push(chain_case(
        "chain_after_not_predecessor",
        "entries 5-6 verified after entry 3",
        &kr,
        SCOPE,
        l[4..].to_vec(),
        Some(l[2].clone()),
    ));
    let field_order = edit(
        &l[5],
        ",\"actor\":\"agent \\\"q\\\" \\\\ 9\",\"outcome\":\"refused\"",
        ",\"outcome\":\"refused\",\"actor\":\"agent \\\"q\\\" \\\\ 9\"",
    );
    let malformed: Vec<(&str, &str, usize, String)> = vec![
        (
            "chain_truncated_line",
            "the last line cut short",
            5,
            l[5][..l[5].len() - 5].to_owned(),
        ),
        (
            "chain_not_json",
            "a line that is not JSON",
            2,
            "vault.set OPENAI_API_KEY".to_owned(),
        ),
        (
            "chain_whitespace",
            "a space after a comma (not the canonical text)",
            5,
            edit(&l[5], ",\"ts\"", ", \"ts\""),
        ),
        (
            "chain_unknown_field",
            "a field the format does not have",
            5,
            edit(&l[5], ",\"prev\"", ",\"value\":\"sk-x\",\"prev\""),
        ),
        ("chain_field_order", "actor after outcome", 5, field_order),
        (
            "chain_uppercase_mac",
            "the MAC in uppercase hex",
            5,
            edit(&l[5], v[5].mac(), &v[5].mac().to_uppercase()),
        ),
        (
            "chain_seq_zero",
            "seq 0",
            0,
            edit(&l[0], "\"seq\":1", "\"seq\":0"),
        ),
        (
            "chain_unknown_outcome",
            "an outcome the format does not have",
            2,
            edit(&l[2], "\"outcome\":\"ok\"", "\"outcome\":\"done\""),
        ),
        (
            "chain_escaped_name",
            "a name with a needless \\u escape",
            1,
            edit(&l[1], "OPENAI_API_KEY", "OPENAI\\u005fAPI_KEY"),
        ),
    ];
    for (name, comment, i, bad) in malformed {
        let mut x = l.clone();
        x[i] = bad;
        cases.push(chain_case(name, comment, &kr, SCOPE, x, None));
    }

    // Checkpoints.
    cases.push(checkpoint_case(
        "checkpoint_empty_chain",
        "seq 0, head 64 zeros",
        None,
        T,
    ));
    cases.push(checkpoint_case(
        "checkpoint_at_6",
        "head = entry 6's MAC",
        Some(l[5].clone()),
        T + 600,
    ));
    cases.push(checkpoint_case(
        "checkpoint_at_3",
        "a head under kid 1; the checkpoint is under the primary, kid 2",
        Some(l[2].clone()),
        T + 300,
    ));
    cases.push(checkpoint_case(
        "checkpoint_of_edited_head",
        "the head does not verify: no checkpoint",
        Some(edit(&l[5], "openai", "0penai")),
        T,
    ));
    let ch = chain(&kr, SCOPE);
    let cp6 = ch.checkpoint(Some(&v[5]), T + 600).unwrap().to_text();
    let cp3 = ch.checkpoint(Some(&v[2]), T + 300).unwrap().to_text();
    let cp0 = ch.checkpoint(None, T).unwrap().to_text();
    let cp3_kid1 = chain(&kr_single(), SCOPE)
        .checkpoint(Some(&v[2]), T + 300)
        .unwrap()
        .to_text();
    let fork: Vec<String> = {
        let mut f = v[..4].to_vec();
        for _ in 4..6 {
            let e = ch
                .next(f.last(), &AuditEvent::new("rewritten"), T + 999)
                .unwrap();
            f.push(e);
        }
        lines(&f)
    };
    let other_scope = chain(&kr, "vm-other")
        .checkpoint(None, T)
        .unwrap()
        .to_text();
    let check: Vec<(&str, &str, &str, String, Vec<String>)> = vec![
        (
            "check_at_head",
            "the log ends at the checkpoint",
            SCOPE,
            cp6.clone(),
            l.clone(),
        ),
        (
            "check_log_grew",
            "the log grew after the checkpoint of 3",
            SCOPE,
            cp3.clone(),
            l.clone(),
        ),
        (
            "check_kid1_checkpoint",
            "a checkpoint made before the rotation",
            SCOPE,
            cp3_kid1,
            l.clone(),
        ),
        (
            "check_empty_checkpoint",
            "a checkpoint of the empty chain holds for any log",
            SCOPE,
            cp0,
            l.clone(),
        ),
        (
            "check_erased",
            "log (and its head) deleted: no entries",
            SCOPE,
            cp6.clone(),
            vec![],
        ),
        (
            "check_truncated",
            "the last two entries cut",
            SCOPE,
            cp6.clone(),
            l[..4].to_vec(),
        ),
        (
            "check_rolled_back",
            "an old copy of the log (3 entries) restored",
            SCOPE,
            cp6.clone(),
            l[..3].to_vec(),
        ),
        (
            "check_diverged",
            "entries 5-6 rewritten by a key holder",
            SCOPE,
            cp6.clone(),
            fork,
        ),
        (
            "check_tampered_seq",
            "the checkpoint's seq edited",
            SCOPE,
            edit(&cp6, "\"seq\":6", "\"seq\":5"),
            l.clone(),
        ),
        (
            "check_tampered_ts",
            "the checkpoint's ts edited",
            SCOPE,
            edit(
                &cp6,
                &format!("\"ts\":{}", T + 600),
                &format!("\"ts\":{}", T + 601),
            ),
            l.clone(),
        ),
        (
            "check_tampered_head",
            "the checkpoint's head replaced by entry 5's MAC",
            SCOPE,
            edit(&cp6, v[5].mac(), v[4].mac()),
            l.clone(),
        ),
        (
            "check_other_scope",
            "a checkpoint of another chain",
            SCOPE,
            other_scope,
            l.clone(),
        ),
        (
            "check_unknown_kid",
            "a checkpoint claiming kid 9",
            SCOPE,
            edit(&cp6, "\"kid\":2", "\"kid\":9"),
            l.clone(),
        ),
        (
            "check_malformed_version",
            "v 2",
            SCOPE,
            edit(&cp6, "\"v\":1", "\"v\":2"),
            l.clone(),
        ),
        (
            "check_malformed_not_json",
            "not JSON",
            SCOPE,
            "seq=6".to_owned(),
            l.clone(),
        ),
        (
            "check_malformed_hex",
            "head not 64 hex characters",
            SCOPE,
            edit(&cp6, v[5].mac(), &v[5].mac()[..63]),
            l.clone(),
        ),
        (
            "check_malformed_extra_field",
            "a field the format does not have",
            SCOPE,
            edit(&cp6, "\"v\":1,", "\"v\":1,\"x\":0,"),
            l.clone(),
        ),
    ];
    for (name, comment, scope, cp, entries) in check {
        cases.push(check_case(name, comment, scope, &cp, entries));
    }

    file(
        "Audit chains (DESIGN §5, docs/audit.md): entry = canonical JSON {seq,ts,kid,op,names,[route],[actor],[tenant],[outcome],prev,mac}, mac = HMAC-SHA256(K_kid, the JSON without mac), K_kid = HKDF-Expand(PRK_kid, \"keycustody/v1/audit\" || 0x00 || scope, 32); checkpoint {v,scope,seq,head,ts,kid,mac}, mac = HMAC-SHA256(K_kid, \"keycustody-audit-checkpoint/v1\" || 0x00 || the JSON without mac). Keyrings: kid 1 = root A (00..1f), kid 2 = root B (40..5f). AuditBroken cases name the seq where the chain breaks and core's reason.",
        cases,
    )
}

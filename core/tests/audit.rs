//! The audit chain (core/src/audit.rs, docs/audit.md): building, run verification, every
//! broken shape named at the right seq, the CLI's existing log format byte for byte,
//! checkpoints (erase, truncate, roll back, diverge, tamper), key rotation mid-chain.
use keycustody::{
    AuditChain, AuditCheckpoint, AuditEntry, AuditEvent, AuditOutcome, Error, Keyring,
    MalformedKind, AUDIT_GENESIS, MAX_AUDIT_ENTRY, MAX_AUDIT_NAMES,
};

const T: u64 = 1_700_000_000;

fn ring() -> Keyring {
    Keyring::from_secret(b"0123456789abcdef0123456789abcdef", 1).unwrap()
}

fn chain() -> AuditChain {
    AuditChain::new(&ring(), "vm-1").unwrap()
}

fn ev(i: usize) -> AuditEvent {
    AuditEvent::new("vault.set")
        .name(&format!("SECRET_{i}"))
        .actor("agent-7")
        .tenant("acme")
        .outcome(AuditOutcome::Ok)
}

fn build(c: &AuditChain, n: usize) -> Vec<AuditEntry> {
    let mut v: Vec<AuditEntry> = Vec::with_capacity(n);
    for i in 0..n {
        let e = c.next(v.last(), &ev(i), T + i as u64).unwrap();
        v.push(e);
    }
    v
}

/// Asserts `r` is `AuditBroken` at `seq` with a reason containing `why`.
fn broken<T: std::fmt::Debug>(r: keycustody::Result<T>, seq: u64, why: &str) {
    match r {
        Err(e @ Error::AuditBroken { .. }) => {
            assert_eq!(e.audit_position(), Some(seq), "{e}");
            assert!(e.audit_reason().unwrap().contains(why), "{e}");
            assert_eq!(e.kind(), "AuditBroken");
            assert_eq!(e.code(), "KC_AUDIT_BROKEN");
        }
        other => panic!("expected AuditBroken at {seq} ({why}), got {other:?}"),
    }
}

#[test]
fn chain_of_1000_verifies_and_round_trips() {
    let c = chain();
    let v = build(&c, 1000);
    let r = c.verify_run(&v, None).unwrap();
    assert_eq!(r.entries, 1000);
    assert_eq!((r.first_seq, r.last_seq), (1, 1000));
    assert_eq!(r.head_mac, v[999].mac());
    assert_eq!(v[0].prev(), AUDIT_GENESIS);
    for w in v.windows(2) {
        assert_eq!(w[1].prev(), w[0].mac());
        assert_eq!(w[1].seq(), w[0].seq() + 1);
    }
    for e in &v {
        let text = e.to_json();
        let back = AuditEntry::parse(text.as_bytes()).unwrap();
        assert_eq!(&back, e);
        assert_eq!(back.to_json(), text);
        c.verify_entry(e).unwrap();
    }
    // A run verified in two halves: the second after the first's last entry.
    let a = c.verify_run(&v[..400], None).unwrap();
    let b = c.verify_run(&v[400..], Some(&v[399])).unwrap();
    assert_eq!((a.last_seq, b.first_seq, b.last_seq), (400, 401, 1000));
    assert_eq!((b.entries, b.head_mac.as_str()), (600, v[999].mac()));
}

#[test]
fn empty_run_reports_genesis() {
    let c = chain();
    let r = c.verify_run(&[], None).unwrap();
    assert_eq!((r.entries, r.first_seq, r.last_seq), (0, 0, 0));
    assert_eq!(r.head_mac, AUDIT_GENESIS);
    let v = build(&c, 3);
    let r = c.verify_run(&[], Some(&v[2])).unwrap();
    assert_eq!((r.entries, r.first_seq, r.last_seq), (0, 0, 3));
    assert_eq!(r.head_mac, v[2].mac());
}

#[test]
fn every_single_byte_edit_of_an_entry_fails() {
    let c = chain();
    let v = build(&c, 3);
    let text = v[1].to_json().into_bytes();
    let mut caught = 0usize;
    for i in 0..text.len() {
        for b in 0..=255u8 {
            if b == text[i] {
                continue;
            }
            let mut t = text.clone();
            t[i] = b;
            match AuditEntry::parse(&t) {
                Err(Error::Malformed(MalformedKind::AuditEntry)) => {}
                Err(e) => panic!("byte {i} -> {b}: unexpected {e:?}"),
                Ok(edited) => {
                    broken(c.verify_entry(&edited), edited.seq(), "");
                    let run = [v[0].clone(), edited, v[2].clone()];
                    broken(c.verify_run(&run, None), 2, "");
                }
            }
            caught += 1;
        }
    }
    assert_eq!(caught, text.len() * 255);
}

#[test]
fn removal_reorder_insert_are_named_at_their_seq() {
    let c = chain();
    let v = build(&c, 10);
    // Removal of seq 4: the entry at position 4 has seq 5.
    let mut r = v.clone();
    r.remove(3);
    broken(c.verify_run(&r, None), 4, "sequence gap");
    // Removal of the first entry.
    broken(c.verify_run(&v[1..], None), 1, "sequence gap");
    // Reorder 6 and 7.
    let mut r = v.clone();
    r.swap(5, 6);
    broken(c.verify_run(&r, None), 6, "sequence gap");
    // Insert a copy of entry 2 after entry 8.
    let mut r = v.clone();
    r.insert(8, v[1].clone());
    broken(c.verify_run(&r, None), 9, "sequence gap");
    // Insert a validly MACed entry of another chain (same key, same scope) with the right
    // seq: its prev does not link.
    let alt = c
        .next(Some(&v[4]), &AuditEvent::new("forged").name("X"), T)
        .unwrap();
    let mut r = v.clone();
    r[5] = alt.clone();
    broken(c.verify_run(&r, None), 7, "prev does not link");
    // ... and replacing one entry by another chain's entry at the same seq.
    let fork = {
        let mut f = v[..5].to_vec();
        f.push(
            c.next(Some(&v[4]), &AuditEvent::new("other"), T + 99)
                .unwrap(),
        );
        f
    };
    let mut r = v.clone();
    r[5] = fork[5].clone();
    broken(c.verify_run(&r, None), 7, "prev does not link");
    // A forged entry under another key: its MAC.
    let stranger = AuditChain::new(&Keyring::generate().unwrap(), "vm-1").unwrap();
    let theirs = build(&stranger, 4);
    let forged = AuditEntry::parse(
        theirs[3]
            .to_json()
            .replace(theirs[3].prev(), v[2].mac())
            .as_bytes(),
    )
    .unwrap();
    let mut r = v.clone();
    r[3] = forged;
    broken(c.verify_run(&r, None), 4, "MAC mismatch");
    // Another scope with the same keyring does not verify this chain.
    let vm2 = AuditChain::new(&ring(), "vm-2").unwrap();
    broken(vm2.verify_run(&v, None), 1, "MAC mismatch");
    // A run that starts after an entry that is not its predecessor.
    broken(c.verify_run(&v[5..], Some(&v[3])), 5, "sequence gap");
    // The tail truncated: the run itself still verifies (only a checkpoint can tell; see
    // checkpoint_detects_erase_truncate_rollback_divergence).
    assert_eq!(c.verify_run(&v[..7], None).unwrap().last_seq, 7);
}

#[test]
fn next_checks_prev_and_the_event() {
    let c = chain();
    let v = build(&c, 2);
    let mut t = v[1].to_json();
    t = t.replace("SECRET_1", "SECRET_X");
    let edited = AuditEntry::parse(t.as_bytes()).unwrap();
    broken(c.next(Some(&edited), &ev(2), T), 2, "MAC mismatch");
    broken(c.checkpoint(Some(&edited), T), 2, "MAC mismatch");
    let long = "x".repeat(257);
    let bad = [
        AuditEvent::new(""),
        AuditEvent::new(&long),
        AuditEvent::new("op\nforged"),
        AuditEvent::new("op").name(""),
        AuditEvent::new("op").name("a\u{7f}b"),
        AuditEvent::new("op").route(""),
        AuditEvent::new("op").actor(&long),
        AuditEvent::new("op").tenant("t\0"),
        AuditEvent::new("op").names(&vec!["n"; MAX_AUDIT_NAMES + 1]),
    ];
    for e in &bad {
        let r = c.next(Some(&v[1]), e, T);
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{e:?}: {r:?}");
        // The message names the field, never its value.
        let msg = r.unwrap_err().to_string();
        assert!(!msg.contains("xxxx") && !msg.contains("forged"), "{msg}");
    }
    // The limits themselves are accepted.
    let ok = AuditEvent::new(&"o".repeat(256))
        .names(&vec!["n".repeat(256); MAX_AUDIT_NAMES])
        .route("é")
        .actor("agent 7")
        .tenant("acme");
    let e = c.next(Some(&v[1]), &ok, T).unwrap();
    assert!(e.to_json().len() <= MAX_AUDIT_ENTRY);
    assert_eq!(e.event(), ok);
    assert!(AuditChain::new(&ring(), "").is_err());
}

#[test]
fn malformed_entries_are_typed_errors() {
    let c = chain();
    let good = build(&c, 1)[0].to_json();
    let cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"not json".to_vec(),
        b"{}".to_vec(),
        format!("{good}\n").into_bytes(),
        format!(" {good}").into_bytes(),
        good.replace("\"seq\":1", "\"seq\":0").into_bytes(),
        good.replace("\"seq\":1", "\"seq\":-1").into_bytes(),
        good.replace("\"seq\":1", "\"seq\":1.0").into_bytes(),
        good.replace("\"kid\":1", "\"kid\":4294967296").into_bytes(),
        good.replace("\"outcome\":\"ok\"", "\"outcome\":\"maybe\"")
            .into_bytes(),
        good.replace("\"op\"", "\"extra\":1,\"op\"").into_bytes(),
        good.replace("\"actor\":\"agent-7\",", "")
            .replace(
                "\"tenant\":\"acme\",",
                "\"tenant\":\"acme\",\"actor\":\"agent-7\",",
            )
            .into_bytes(),
        good.replace(AUDIT_GENESIS, &AUDIT_GENESIS.to_uppercase())
            .replace(AUDIT_GENESIS, &"0".repeat(63))
            .into_bytes(),
        good.replace("SECRET_0", "SECRET\\u005f0").into_bytes(),
        vec![0xff; 10],
    ];
    for t in &cases {
        assert_eq!(
            AuditEntry::parse(t),
            Err(Error::Malformed(MalformedKind::AuditEntry)),
            "{}",
            String::from_utf8_lossy(t)
        );
    }
    assert_eq!(
        AuditEntry::parse(&vec![b' '; MAX_AUDIT_ENTRY + 1]),
        Err(Error::TooLarge {
            limit: MAX_AUDIT_ENTRY
        })
    );
}

/// Lines written by today's CLI (`keycustody vault init/set/get/list/rm/run`, built from
/// main at 258bf5a), with the key file and the vault id it used: they must verify as they are.
#[test]
fn entries_written_by_the_cli_verify_byte_for_byte() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let keyring =
        Keyring::parse(&std::fs::read_to_string(format!("{dir}/audit_cli_v0.key")).unwrap())
            .unwrap();
    let scope = std::fs::read_to_string(format!("{dir}/audit_cli_v0.scope")).unwrap();
    let c = AuditChain::new(&keyring, scope.trim()).unwrap();
    let log = std::fs::read_to_string(format!("{dir}/audit_cli_v0.log")).unwrap();
    let mut entries = Vec::new();
    for line in log.lines() {
        let e = AuditEntry::parse(line.as_bytes()).unwrap();
        assert_eq!(e.to_json(), line, "byte for byte");
        assert_eq!((e.actor(), e.tenant(), e.outcome()), (None, None, None));
        entries.push(e);
    }
    assert!(entries.len() >= 5);
    // Rotated mid-chain by `keycustody keys rotate`: kid 1 then kid 2.
    let kids: Vec<u32> = entries.iter().map(AuditEntry::kid).collect();
    assert!(kids.contains(&1) && kids.contains(&2), "{kids:?}");
    let r = c.verify_run(&entries, None).unwrap();
    assert_eq!(r.last_seq, entries.len() as u64);
    // The chain continues with new-format entries under the same key.
    let next = c
        .next(
            entries.last(),
            &AuditEvent::new("vault.set")
                .name("OPENAI_KEY")
                .actor("cli")
                .outcome(AuditOutcome::Intent),
            T,
        )
        .unwrap();
    entries.push(next);
    c.verify_run(&entries, None).unwrap();
    // An edit of an old-format line is caught.
    let edited = log.lines().nth(1).unwrap().replace("\"ts\":1", "\"ts\":2");
    let mut run = entries.clone();
    run[1] = AuditEntry::parse(edited.as_bytes()).unwrap();
    broken(c.verify_run(&run, None), 2, "MAC mismatch");
}

#[test]
fn checkpoint_round_trips_and_verifies() {
    let c = chain();
    let v = build(&c, 5);
    let cp = c.checkpoint(Some(&v[4]), T + 100).unwrap();
    assert_eq!(
        (cp.seq(), cp.head(), cp.ts(), cp.kid()),
        (5, v[4].mac(), T + 100, 1)
    );
    assert_eq!(cp.scope(), "vm-1");
    let text = cp.to_text();
    assert!(
        text.starts_with(r#"{"v":1,"scope":"vm-1","seq":5,"head":""#),
        "{text}"
    );
    assert_eq!(AuditCheckpoint::parse(&text).unwrap(), cp);
    assert_eq!(AuditCheckpoint::parse(&format!("{text}\n")).unwrap(), cp);
    c.verify_checkpoint(&cp).unwrap();
    let empty = c.checkpoint(None, T).unwrap();
    assert_eq!((empty.seq(), empty.head()), (0, AUDIT_GENESIS));
    c.verify_checkpoint(&empty).unwrap();
    // Any run is consistent with a checkpoint of the empty chain.
    let r = c.verify_run(&v, None).unwrap();
    c.check_against(&empty, &r, None).unwrap();
    c.check_against(&cp, &r, None).unwrap();
    c.check_against(&cp, &r, Some(&v[4])).unwrap();
}

#[test]
fn tampered_checkpoints_are_refused() {
    let c = chain();
    let v = build(&c, 5);
    let cp = c.checkpoint(Some(&v[2]), T).unwrap();
    let text = cp.to_text();
    // Every field edited (keeping the JSON well formed): the MAC no longer matches.
    let older = c.checkpoint(Some(&v[1]), T).unwrap();
    for edited in [
        text.replace("\"seq\":3", "\"seq\":2"),
        text.replace(&format!("\"ts\":{T}"), &format!("\"ts\":{}", T + 1)),
        text.replace(cp.head(), older.head()),
    ] {
        let p = AuditCheckpoint::parse(&edited).unwrap();
        broken(c.verify_checkpoint(&p), p.seq(), "checkpoint MAC mismatch");
        let r = c.verify_run(&v, None).unwrap();
        broken(
            c.check_against(&p, &r, Some(&v[usize::try_from(p.seq()).unwrap() - 1])),
            p.seq(),
            "checkpoint MAC mismatch",
        );
    }
    let p = AuditCheckpoint::parse(&text.replace("\"kid\":1", "\"kid\":9")).unwrap();
    broken(c.verify_checkpoint(&p), 3, "key id");
    let p = AuditCheckpoint::parse(&text.replace("vm-1", "vm-2")).unwrap();
    broken(c.verify_checkpoint(&p), 3, "another scope");
    // A checkpoint of another scope re-MACed under that scope's key is still refused.
    let vm2 = AuditChain::new(&ring(), "vm-2").unwrap();
    let cp2 = vm2.checkpoint(None, T).unwrap();
    broken(c.verify_checkpoint(&cp2), 0, "another scope");
    // Malformed text.
    for bad in [
        String::new(),
        "{".into(),
        text.replace("\"v\":1", "\"v\":2"),
        text.replace("\"v\":1,", ""),
        text.replace("\"scope\":\"vm-1\"", "\"scope\":\"\""),
        text.replace("{", "{\"x\":0,"),
        text.replace(",", ", "),
        text.replace(cp.mac(), &cp.mac().to_uppercase()),
        text.replace(cp.mac(), &cp.mac()[..62]),
        // seq 0 with a head that is not the genesis value.
        c.checkpoint(None, T)
            .unwrap()
            .to_text()
            .replace(AUDIT_GENESIS, cp.head()),
    ] {
        assert_eq!(
            AuditCheckpoint::parse(&bad),
            Err(Error::Malformed(MalformedKind::AuditCheckpoint)),
            "{bad}"
        );
    }
    assert!(matches!(
        AuditCheckpoint::parse(&"x".repeat(keycustody::MAX_AUDIT_CHECKPOINT + 1)),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn checkpoint_detects_erase_truncate_rollback_divergence() {
    let c = chain();
    let v = build(&c, 10);
    let cp = c.checkpoint(Some(&v[6]), T + 50).unwrap();
    let full = c.verify_run(&v, None).unwrap();
    c.check_against(&cp, &full, Some(&v[6])).unwrap();
    // Erased: no entries at all (log and its head deleted, or emptied).
    let erased = c.verify_run(&[], None).unwrap();
    broken(c.check_against(&cp, &erased, None), 1, "erased");
    // Truncated to 5 entries: the first missing seq is 6.
    let short = c.verify_run(&v[..5], None).unwrap();
    broken(
        c.check_against(&cp, &short, None),
        6,
        "shorter than the checkpoint",
    );
    // Rolled back: an old copy of the log (6 entries) restored after the checkpoint of 7.
    let old = c.verify_run(&v[..6], None).unwrap();
    broken(c.check_against(&cp, &old, Some(&v[5])), 7, "rolled back");
    // Diverged: the log was rewritten from seq 4 on (by someone holding the key, e.g. a
    // restored VM re-creating entries), reaching seq 10 again.
    let mut fork = v[..3].to_vec();
    for i in 3..10 {
        let e = c
            .next(fork.last(), &AuditEvent::new("rewritten"), T + i)
            .unwrap();
        fork.push(e);
    }
    let r = c.verify_run(&fork, None).unwrap();
    broken(
        c.check_against(&cp, &r, Some(&fork[6])),
        7,
        "diverges from checkpoint",
    );
    // At the head exactly, the report's head is used.
    let at7 = c.verify_run(&fork[..7], None).unwrap();
    broken(
        c.check_against(&cp, &at7, None),
        7,
        "diverges from checkpoint",
    );
    // The entry at the checkpoint's seq is needed when the checkpoint is not the head.
    assert!(matches!(
        c.check_against(&cp, &full, None),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        c.check_against(&cp, &full, Some(&v[5])),
        Err(Error::InvalidArgument(_))
    ));
    // An edited entry given as the one at the checkpoint's seq is caught by its MAC.
    let edited =
        AuditEntry::parse(v[6].to_json().replace("SECRET_6", "SECRET_Z").as_bytes()).unwrap();
    broken(
        c.check_against(&cp, &full, Some(&edited)),
        7,
        "MAC mismatch",
    );
}

#[test]
fn key_rotation_mid_chain() {
    let k = ring();
    let c1 = AuditChain::new(&k, "vm-1").unwrap();
    let mut v = build(&c1, 4);
    let cp1 = c1.checkpoint(v.last(), T).unwrap();
    let kid2 = k.rotate().unwrap();
    // The old chain object keeps its snapshot; a new one appends under kid 2.
    let c2 = AuditChain::new(&k, "vm-1").unwrap();
    for i in 4..8 {
        let e = c2.next(v.last(), &ev(i), T + i as u64).unwrap();
        v.push(e);
    }
    assert_eq!(
        v.iter().map(AuditEntry::kid).collect::<Vec<_>>(),
        [1, 1, 1, 1, kid2, kid2, kid2, kid2]
    );
    let r = c2.verify_run(&v, None).unwrap();
    assert_eq!(r.last_seq, 8);
    // The checkpoint made under kid 1 verifies with the rotated keyring, a new one is under kid 2.
    c2.check_against(&cp1, &r, Some(&v[3])).unwrap();
    let cp2 = c2.checkpoint(v.last(), T + 9).unwrap();
    assert_eq!(cp2.kid(), kid2);
    c2.check_against(&cp2, &r, None).unwrap();
    // The pre-rotation snapshot cannot verify kid-2 entries.
    broken(c1.verify_run(&v, None), 5, "key id");
}

#[test]
fn verifier_is_incremental_and_unchanged_by_a_bad_entry() {
    let c = chain();
    let v = build(&c, 6);
    let mut it = c.verifier(None).unwrap();
    for e in &v[..3] {
        it.push(e).unwrap();
    }
    broken(it.push(&v[4]), 4, "sequence gap");
    it.push(&v[3]).unwrap();
    it.push(&v[4]).unwrap();
    it.push(&v[5]).unwrap();
    assert_eq!(it.report(), c.verify_run(&v, None).unwrap());
}

#[test]
fn messages_hold_no_field_values() {
    let c = chain();
    let v = build(&c, 3);
    let mut r = v.clone();
    r[1] = AuditEntry::parse(v[1].to_json().replace("agent-7", "agent-8").as_bytes()).unwrap();
    let e = c.verify_run(&r, None).unwrap_err();
    let text = format!("{e} {e:?}");
    for secret in ["agent", "acme", "SECRET", "vault.set", v[1].mac()] {
        assert!(!text.contains(secret), "{text}");
    }
    let dbg = format!("{c:?}");
    assert!(
        dbg.contains("vm-1") && !dbg.contains("0123456789abcdef"),
        "{dbg}"
    );
}

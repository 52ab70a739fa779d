//! `scrub` on arbitrary text: never a panic, idempotent, and a planted secret never survives
//! (bare, glued after `kc1.`, or as a single-quoted value). Seeds: every string of
//! tests/vectors/*.json (fuzz/seed_corpus.py), among them the two crafted inputs of issue 12
//! that made scrub quadratic (`crafted_*` in scrub_v1.json).
#![no_main]
use keycustody::scrub;
use libfuzzer_sys::fuzz_target;

const PLANTED: &str =
    "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz01234567-ABCDEF";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let once = scrub(text);
    assert_eq!(scrub(&once), once, "scrub is not idempotent");
    for planted in [
        format!("{text} {PLANTED} {text}"),
        format!("{text} kc1.{PLANTED} {text}"),
        format!("{text} {{'x-api-key': '{PLANTED}'}} {text}"),
    ] {
        let out = scrub(&planted);
        assert!(!out.contains(PLANTED), "planted key survived: {out:?}");
    }
});

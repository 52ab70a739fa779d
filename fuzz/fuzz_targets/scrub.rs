//! `scrub` on arbitrary text: never a panic, idempotent, and a planted secret never survives.
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
    let planted = format!("{text} {PLANTED} {text}");
    let out = scrub(&planted);
    assert!(!out.contains(PLANTED), "planted key survived: {out:?}");
});

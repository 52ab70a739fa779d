//! `validate_slug` / `validate_email` on arbitrary text: never a panic; accepted slugs are
//! lowercase ASCII, accepted emails contain exactly one `@`.
#![no_main]
use keycustody::{validate_email, validate_slug};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if validate_slug(text).is_ok() {
        assert!(
            text.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_'),
            "{text:?}"
        );
    }
    if validate_email(text).is_ok() {
        assert_eq!(text.matches('@').count(), 1, "{text:?}");
    }
});

//! Legacy PBKDF2 + AES-GCM blobs: arbitrary base64 text and parameters never panic, never open.
#![no_main]
use arbitrary::Arbitrary;
use keycustody::{decrypt_legacy_pbkdf2_gcm, Error, Pbkdf2GcmParams};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    blob: &'a str,
    password: &'a [u8],
    iterations: u8,
    salt_len: u8,
    iv_len: u8,
}

fuzz_target!(|i: Input| {
    // Few iterations: the fuzzer explores the parser, not PBKDF2's cost.
    let mut params = Pbkdf2GcmParams::default();
    params.iterations = u32::from(i.iterations % 4);
    params.salt_len = usize::from(i.salt_len % 80);
    params.iv_len = usize::from(i.iv_len % 16);
    match decrypt_legacy_pbkdf2_gcm(i.blob, i.password, params) {
        Ok(_) => panic!("a fuzzer-made blob opened"),
        Err(
            Error::Malformed(_)
            | Error::InvalidArgument(_)
            | Error::DecryptFailed
            | Error::TooLarge { .. },
        ) => {}
        Err(e) => panic!("unexpected error {e:?}"),
    }
});

//! AWS-LC (the native backend) and RustCrypto `aes-gcm` (the wasm32 build's AES-256-GCM) agree byte for byte: on sealing, on opening what was sealed,
//! and on rejecting arbitrary ciphertexts; envelopes sealed by one backend open with the other.
#![no_main]
use arbitrary::Arbitrary;
use keycustody::internal::{aes256gcm_open, aes256gcm_seal, Backend};
use keycustody::Keyring;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    key: [u8; 32],
    nonce: [u8; 12],
    aad: Vec<u8>,
    plaintext: Vec<u8>,
    junk: Vec<u8>,
}

fuzz_target!(|i: Input| {
    let a = aes256gcm_seal(Backend::AwsLc, &i.key, &i.nonce, &i.aad, &i.plaintext).expect("aws-lc");
    let b = aes256gcm_seal(Backend::RustCrypto, &i.key, &i.nonce, &i.aad, &i.plaintext)
        .expect("rustcrypto");
    assert_eq!(a, b);
    for backend in [Backend::AwsLc, Backend::RustCrypto] {
        let pt = aes256gcm_open(backend, &i.key, &i.nonce, &i.aad, &a).expect("open");
        assert_eq!(pt, i.plaintext);
    }
    let r = aes256gcm_open(Backend::AwsLc, &i.key, &i.nonce, &i.aad, &i.junk);
    let c = aes256gcm_open(Backend::RustCrypto, &i.key, &i.nonce, &i.aad, &i.junk);
    assert_eq!(r, c);

    let kr = Keyring::from_secret(&i.key, 1).expect("root");
    let owner = "tenant";
    let env = keycustody::internal::dangerous_seal_with_backend(&kr, Backend::AwsLc, owner, &i.plaintext, &i.aad, &i.nonce)
        .expect("seal aws-lc");
    let env2 = keycustody::internal::dangerous_seal_with_backend(&kr, Backend::RustCrypto, owner, &i.plaintext, &i.aad, &i.nonce)
        .expect("seal rustcrypto");
    assert_eq!(env, env2);
    let pt = keycustody::internal::open_with_backend(&kr, Backend::RustCrypto, owner, &env, &i.aad)
        .expect("cross open");
    assert_eq!(pt.expose_secret(), &i.plaintext[..]);
});

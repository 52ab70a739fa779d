//! seal → open gives the plaintext back; any change to owner, context or one envelope bit fails.
#![no_main]
use arbitrary::Arbitrary;
use keycustody::{inspect, Error, Keyring};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    root: [u8; 32],
    kid: u32,
    owner: String,
    context: Vec<u8>,
    plaintext: Vec<u8>,
    flip: u16,
}

fuzz_target!(|i: Input| {
    let kid = i.kid.max(1);
    let kr = Keyring::from_secret(&i.root, kid).expect("32-byte root");
    let env = match kr.seal(&i.owner, &i.plaintext, &i.context) {
        Ok(e) => e,
        Err(Error::InvalidOwner) => {
            assert!(i.owner.is_empty() || i.owner.len() > 1024);
            return;
        }
        Err(e) => panic!("unexpected seal error {e:?}"),
    };
    let info = inspect(&env).expect("inspect own envelope");
    assert_eq!(info.kid, kid);
    assert_eq!(info.plaintext_len, i.plaintext.len());
    let pt = kr
        .open(&i.owner, &env, &i.context)
        .expect("open own envelope");
    assert_eq!(pt.expose_secret(), &i.plaintext[..]);
    assert!(!kr.needs_rewrap(&env).expect("header"));

    let mut other_ctx = i.context.clone();
    other_ctx.push(0);
    assert_eq!(
        kr.open(&i.owner, &env, &other_ctx).unwrap_err(),
        Error::DecryptFailed
    );
    let other_owner = format!("{}x", i.owner);
    if other_owner.len() <= 1024 {
        assert_eq!(
            kr.open(&other_owner, &env, &i.context).unwrap_err(),
            Error::DecryptFailed
        );
    }
    let mut bin = kr
        .seal_binary(&i.owner, &i.plaintext, &i.context)
        .expect("seal_binary");
    let bit = usize::from(i.flip) % (bin.len() * 8);
    bin[bit / 8] ^= 1 << (bit % 8);
    assert!(kr.open_binary(&i.owner, &bin, &i.context).is_err());
});

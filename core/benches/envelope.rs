//! kc1 seal/open beside what a careful user would write with ring + hkdf directly.
//!
//! Groups (criterion ids `<group>/<size>`):
//! - `kc1_seal`, `kc1_open`: `Keyring::seal_binary` / `open_binary` (per-call HKDF-Expand
//!   from the cached PRK, random nonce, AAD, copy in, zeroizing plaintext buffer on open).
//! - `ring_hkdf_seal`, `ring_hkdf_open`: baseline — per call HKDF-Extract + Expand with the
//!   `hkdf` crate, `ring` AES-256-GCM on a copy of the input, random nonce for seal.
//! - `ring_seal`, `ring_open` (1 MiB): baseline — `ring` AES-256-GCM with a prepared key,
//!   on a copy of the input: the raw cipher throughput.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hkdf::Hkdf;
use keycustody::Keyring;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use sha2::Sha256;

const SIZES: [(usize, &str); 3] = [(64, "64B"), (1024, "1KiB"), (1 << 20, "1MiB")];
const ROOT: [u8; 32] = [0x42; 32];
const OWNER: &str = "tenant-0001";
const CTX: &[u8] = b"openrouter_key";

fn baseline_key(root: &[u8]) -> LessSafeKey {
    let hk = Hkdf::<Sha256>::new(Some(b"keycustody/v1"), root);
    let mut k = [0u8; 32];
    hk.expand_multi_info(
        &[b"keycustody/v1/envelope", &[0u8], OWNER.as_bytes()],
        &mut k,
    )
    .unwrap();
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &k).unwrap())
}

fn nonce() -> [u8; 12] {
    let mut n = [0u8; 12];
    getrandom::getrandom(&mut n).unwrap();
    n
}

fn baseline_seal(root: &[u8], pt: &[u8]) -> Vec<u8> {
    let key = baseline_key(root);
    let n = nonce();
    let mut buf = Vec::with_capacity(12 + pt.len() + 16);
    buf.extend_from_slice(&n);
    buf.extend_from_slice(pt);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(n),
            Aad::from(CTX),
            &mut buf[12..],
        )
        .unwrap();
    buf.extend_from_slice(tag.as_ref());
    buf
}

fn baseline_open(root: &[u8], sealed: &[u8]) -> Vec<u8> {
    let key = baseline_key(root);
    let n: [u8; 12] = sealed[..12].try_into().unwrap();
    let mut buf = sealed[12..].to_vec();
    let len = key
        .open_in_place(Nonce::assume_unique_for_key(n), Aad::from(CTX), &mut buf)
        .unwrap()
        .len();
    buf.truncate(len);
    buf
}

fn bench(c: &mut Criterion) {
    let kr = Keyring::from_secret(&ROOT, 1).unwrap();
    for (size, label) in SIZES {
        let pt = vec![0xa5u8; size];
        let ours = kr.seal_binary(OWNER, &pt, CTX).unwrap();
        let base = baseline_seal(&ROOT, &pt);
        assert_eq!(baseline_open(&ROOT, &base), pt);

        let mut g = c.benchmark_group("kc1_seal");
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| kr.seal_binary(OWNER, black_box(&pt), CTX).unwrap());
        });
        g.finish();
        let mut g = c.benchmark_group("kc1_open");
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| kr.open_binary(OWNER, black_box(&ours), CTX).unwrap());
        });
        g.finish();
        let mut g = c.benchmark_group("ring_hkdf_seal");
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| baseline_seal(black_box(&ROOT), black_box(&pt)));
        });
        g.finish();
        let mut g = c.benchmark_group("ring_hkdf_open");
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| baseline_open(black_box(&ROOT), black_box(&base)));
        });
        g.finish();

        if size == 1 << 20 {
            let key = baseline_key(&ROOT);
            let mut g = c.benchmark_group("ring_seal");
            g.throughput(Throughput::Bytes(size as u64));
            g.bench_function(BenchmarkId::from_parameter(label), |b| {
                b.iter(|| {
                    let mut buf = black_box(&pt).to_vec();
                    key.seal_in_place_append_tag(
                        Nonce::assume_unique_for_key([7; 12]),
                        Aad::from(CTX),
                        &mut buf,
                    )
                    .unwrap();
                    buf
                });
            });
            g.finish();
            let mut g = c.benchmark_group("ring_open");
            g.throughput(Throughput::Bytes(size as u64));
            g.bench_function(BenchmarkId::from_parameter(label), |b| {
                b.iter(|| {
                    let mut buf = black_box(&base[12..]).to_vec();
                    let n: [u8; 12] = base[..12].try_into().unwrap();
                    let len = key
                        .open_in_place(Nonce::assume_unique_for_key(n), Aad::from(CTX), &mut buf)
                        .unwrap()
                        .len();
                    buf.truncate(len);
                    buf
                });
            });
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

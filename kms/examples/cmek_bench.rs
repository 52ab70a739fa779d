//! `make bench-kms`: KMS `Decrypt` calls of CMEK tenant keyrings, counted at a local moto
//! KMS server (its request recorder), against a per-operation envelope design measured in the
//! same run. Writes Markdown.
//!
//! Ours: 100 tenant keyrings, each wrapped under one KMS key (the CMEK form, owner = the
//! tenant); 10,000 opens of 64-byte kc1 envelopes, round-robin over the tenants, each through
//! `open_cmek_keyring` and one `TenantKeyringCache` at a fixed `now` (one TTL).
//! Baseline: the design that wraps every value's data key under KMS (the AWS Encryption SDK
//! pattern without a key cache): each of the same 10,000 opens is one KMS `Decrypt` of that
//! value's DEK (one reused SDK client) and one AES-256-GCM open of the 64 bytes.
//!
//! Usage: cmek_bench OUT.md   (moto_server from $KEYCUSTODY_MOTO_SERVER, else .venv/bin)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/mod.rs"]
mod support;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use keycustody::internal::{aes256gcm_open, aes256gcm_seal, Backend};
use keycustody::{Keyring, TenantKeyringCache};
use keycustody_kms::{aws, open_cmek_keyring, wrap_keyring, Kek, KekConfig};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

const TENANTS: usize = 100;
const OPENS: usize = 10_000;
const TTL: u64 = 300;
const NOW: u64 = 1_000_000;

fn tenant(i: usize) -> String {
    format!("tenant-{i:03}")
}

fn value(i: usize) -> [u8; 64] {
    let mut v = [b'.'; 64];
    let s = format!("sk-bench-{i:08}");
    v[..s.len()].copy_from_slice(s.as_bytes());
    v
}

/// One value of the per-operation design: its DEK wrapped by KMS (context = its owner),
/// and the 64 bytes under AES-256-GCM with that DEK (owner as AAD).
struct PerOpValue {
    owner: String,
    wrapped_dek: Vec<u8>,
    nonce: [u8; 12],
    ct: Vec<u8>,
}

fn client(rt: &tokio::runtime::Runtime, url: &str) -> Client {
    rt.block_on(async {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(http)
            .endpoint_url(url)
            .load()
            .await;
        Client::new(&sdk)
    })
}

/// 10000 → "10,000".
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn fmt_time(d: Duration, n: usize) -> String {
    let per = d.as_secs_f64() / n as f64;
    let per = if per >= 1e-3 {
        format!("{:.2} ms", per * 1e3)
    } else {
        format!("{:.1} µs", per * 1e6)
    };
    format!("{:.3} s ({per}/open)", d.as_secs_f64())
}

fn main() {
    let out = std::env::args().nth(1).expect("usage: cmek_bench OUT.md");
    support::aws_test_env();
    // The bench needs the server: fail loudly rather than skip.
    std::env::set_var("KEYCUSTODY_REQUIRE_KMS", "1");
    let moto = support::Moto::start().expect("moto_server");
    let cfg = KekConfig::new().with_aws_endpoint_url(moto.url());
    let key = aws::create_key(&cfg).unwrap();
    let kek = Kek::parse_spec(&format!("aws-kms:{key}")).unwrap();

    // 100 CMEK tenant keyrings (one Encrypt each) and 100 distinct 64-B envelopes per tenant.
    let mut wrapped = Vec::with_capacity(TENANTS);
    let mut sealed = Vec::with_capacity(OPENS);
    for t in 0..TENANTS {
        let kr = Keyring::generate().unwrap();
        wrapped.push(wrap_keyring(&kr, &kek, &tenant(t), &cfg).unwrap().to_text());
        sealed.push(Vec::new());
        for j in 0..OPENS / TENANTS {
            let v = kr.seal(&tenant(t), &value(j * TENANTS + t), b"").unwrap();
            sealed[t].push(v);
        }
    }

    // (a) ours: round-robin over the tenants, one cache, one TTL.
    let cache = TenantKeyringCache::new(1000, TTL);
    moto.start_recording();
    let t0 = Instant::now();
    for i in 0..OPENS {
        let t = i % TENANTS;
        let name = tenant(t);
        let k = open_cmek_keyring(&cache, &name, &wrapped[t], &cfg, NOW).unwrap();
        let p = k.open(&name, &sealed[t][i / TENANTS], b"").unwrap();
        assert_eq!(p.expose_secret(), &value(i)[..]);
    }
    let ours = t0.elapsed();
    let ours_calls = moto.count("Decrypt");
    eprintln!("ours: {ours_calls} Decrypt calls, {ours:?}");

    // (b) per-operation envelopes: 10,000 values, each with its own KMS-wrapped DEK.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = client(&rt, &moto.url());
    let per_op: Vec<PerOpValue> = (0..OPENS)
        .map(|i| {
            let owner = tenant(i % TENANTS);
            let mut dek = [0u8; 32];
            let mut nonce = [0u8; 12];
            dek[..8].copy_from_slice(&(i as u64).to_le_bytes());
            dek[8..16].copy_from_slice(&0x6b63_6265_6e63_6821u64.to_le_bytes());
            nonce[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let ct =
                aes256gcm_seal(Backend::AwsLc, &dek, &nonce, owner.as_bytes(), &value(i)).unwrap();
            let wrapped_dek = rt
                .block_on(
                    c.encrypt()
                        .key_id(&key)
                        .plaintext(Blob::new(dek.to_vec()))
                        .encryption_context("owner", &owner)
                        .send(),
                )
                .unwrap()
                .ciphertext_blob
                .unwrap()
                .into_inner();
            PerOpValue {
                owner,
                wrapped_dek,
                nonce,
                ct,
            }
        })
        .collect();
    moto.start_recording();
    let t0 = Instant::now();
    for (i, v) in per_op.iter().enumerate() {
        let dek = rt
            .block_on(
                c.decrypt()
                    .key_id(&key)
                    .ciphertext_blob(Blob::new(v.wrapped_dek.clone()))
                    .encryption_context("owner", &v.owner)
                    .send(),
            )
            .unwrap()
            .plaintext
            .unwrap()
            .into_inner();
        let dek: [u8; 32] = dek.try_into().unwrap();
        let p = aes256gcm_open(Backend::AwsLc, &dek, &v.nonce, v.owner.as_bytes(), &v.ct).unwrap();
        assert_eq!(p, value(i));
    }
    let base = t0.elapsed();
    let base_calls = moto.count("Decrypt");
    eprintln!("per-operation: {base_calls} Decrypt calls, {base:?}");
    moto.stop();

    let mut md = String::new();
    let _ = writeln!(md, "## kms: KMS calls of CMEK tenant keyrings\n");
    let _ = writeln!(
        md,
        "{} opens of 64-byte kc1 envelopes (all distinct), round-robin over {TENANTS} CMEK tenants \
         (each tenant keyring wrapped under KMS with owner = the tenant in the encryption context; one KMS key serves all 100 here, a real CMEK tenant has its own), through \
         `open_cmek_keyring` and one `TenantKeyringCache` (TTL {TTL} s, all opens at one `now`). \
         KMS is a local moto server; its `Decrypt` requests are counted at the server (moto's request \
         recorder, `X-Amz-Target: TrentService.Decrypt`). Baseline, measured in the same run: the \
         per-operation envelope design (every value's data key wrapped under KMS, as the AWS Encryption \
         SDK does without a key cache): each open is one KMS `Decrypt` of that value's DEK (one reused \
         SDK client) and one AES-256-GCM open. Times are sequential and include the local server's \
         latency (a remote KMS is slower per call); the call count is the figure.\n",
        thousands(OPENS)
    );
    let _ = writeln!(
        md,
        "| figure | KMS Decrypt calls | time | baseline calls | baseline time | goal | met |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---|:-:|");
    let met = if ours_calls == TENANTS {
        "yes"
    } else {
        "**no**"
    };
    let _ = writeln!(
        md,
        "| {} opens over {TENANTS} CMEK tenants within one TTL | {} | {} | {} | {} | exactly {TENANTS} calls | {met} |",
        thousands(OPENS),
        thousands(ours_calls),
        fmt_time(ours, OPENS),
        thousands(base_calls),
        fmt_time(base, OPENS),
    );
    std::fs::write(&out, md).unwrap();
    eprintln!("wrote {out}");
}

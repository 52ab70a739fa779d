//! Tenant keyrings (DESIGN §7): the cost of the custody hierarchy on the hot path.
//!
//! Groups (criterion ids `<group>/<name>`), written to bench-out/custody.md by custody_report.py:
//! - `custody_open/platform_64B`: `Keyring::open` of a 64-byte kc1 envelope under the platform
//!   keyring (the design without tenant keyrings): the baseline.
//! - `custody_open/cached_tenant_64B`: the same open under the tenant's own keyring, looked up
//!   in a `TenantKeyringCache` first (mutex, LRU touch, TTL check, `Arc` clone). Goal ≤ 1.2×.
//! - `custody_first_open/tenant_1key`: first use of a tenant: `open_keyring` of its 1-key
//!   keyring sealed under the platform keyring (kc1 open + keyring parse). Goal ≤ 20 µs.
//! - `custody_first_open/tenant_1key_cached_insert` (info): the same plus the cache insert.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use keycustody::{Keyring, TenantKeyringCache};

const TENANT: &str = "tenant-0001";
const CTX: &[u8] = b"openrouter_key";

fn bench(c: &mut Criterion) {
    let platform = Keyring::from_secret(&[0x42; 32], 1).unwrap();
    let tenant = Keyring::from_secret(&[0x43; 32], 1).unwrap();
    let pt = [0x61u8; 64];
    let under_platform = platform.seal(TENANT, &pt, CTX).unwrap();
    let under_tenant = tenant.seal(TENANT, &pt, CTX).unwrap();
    let wrapped = platform.seal_keyring(TENANT, &tenant).unwrap();

    let cache = TenantKeyringCache::new(10_000, 300);
    // A realistic cache: many tenants in it, ours among them.
    for i in 0..1000 {
        cache.insert(&format!("tenant-{i:05}"), Keyring::generate().unwrap(), 0);
    }
    cache.insert(TENANT, tenant, 0);

    let mut g = c.benchmark_group("custody_open");
    g.bench_function("platform_64B", |b| {
        b.iter(|| {
            platform
                .open(black_box(TENANT), black_box(&under_platform), CTX)
                .unwrap()
        })
    });
    g.bench_function("cached_tenant_64B", |b| {
        b.iter(|| {
            let k = cache.get(black_box(TENANT), 1).unwrap();
            k.open(TENANT, black_box(&under_tenant), CTX).unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("custody_first_open");
    g.bench_function("tenant_1key", |b| {
        b.iter(|| {
            platform
                .open_keyring(black_box(TENANT), black_box(&wrapped))
                .unwrap()
        })
    });
    let fresh = TenantKeyringCache::new(10_000, 300);
    g.bench_function("tenant_1key_cached_insert", |b| {
        b.iter(|| {
            fresh
                .get_or_load(TENANT, 0, || platform.open_keyring(TENANT, &wrapped))
                .unwrap();
            fresh.invalidate(TENANT);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

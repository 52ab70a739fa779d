"""Writes the custody benchmark section (Markdown) from criterion's estimates.

Usage: python3 core/benches/custody_report.py TARGET_DIR/criterion > bench-out/custody.md
Medians; the ratio compares figures from the same run.
"""
import sys

from criterion_md import Estimates, print_table, us

ns = Estimates(sys.argv[1], "custody_report.py")


plat = ns("custody_open/platform_64B")
cached = ns("custody_open/cached_tenant_64B")
first = ns("custody_first_open/tenant_1key")
first_ins = ns("custody_first_open/tenant_1key_cached_insert")
ratio = cached / plat
rows = [
    ("open 64 B through a cached tenant keyring", us(cached), f"open 64 B under the platform keyring: {us(plat)}",
     f"{ratio:.2f}× time", "≤ 1.20× time", "met" if ratio <= 1.2 else "MISSED"),
    ("first open of a tenant: open_keyring of a 1-key tenant keyring (kc1 open + parse)", us(first), "-", "-",
     "≤ 20 µs", "met" if first <= 20_000 else "MISSED"),
    ("the same + TenantKeyringCache insert (info)", us(first_ins), "-", "-", "(info)", "-"),
]
print("## core: tenant keyrings (custody, DESIGN §7)\n")
print("`cargo bench -p keycustody --bench custody` (criterion, medians, short run). The cache holds 1,001 tenants;")
print("a cached open is `TenantKeyringCache::get` (mutex, LRU touch, TTL check, Arc clone) then `Keyring::open`.\n")
print_table(rows)

"""Garbage specs of the custody exports (issue 14 item 6) for test_garbage.py's table.

Merged into CALLS / WRONG there; NOT_OWNER lists the tenant/owner parameters that are not
kc1 owners (the cache's keys, and the owner "" of a platform keyring's wrap), which the
owner test must skip.
"""

import keycustody as kc

PLATFORM = kc.Keyring.generate()
TENANT_KR = kc.Keyring.generate()
SEALED = PLATFORM.seal_keyring("tenant", TENANT_KR)
WRAPPED = kc.PendingWrap(TENANT_KR, "aws-kms", "alias/k", "tenant").finish(b"blob")
PASS_WRAPPED = kc.wrap_with_passphrase(TENANT_KR, b"pw", "tenant", m_kib=8, t=1, p=1)
CACHE = kc.TenantKeyringCache(4, 60)

S, D, B, I, O, K = "str", "data", "bin", "int", "optint", "keyring"

CUSTODY_CALLS = {
    "Keyring.seal_keyring": (PLATFORM.seal_keyring, [("tenant", S, "tenant"), ("keyring", K, TENANT_KR)]),
    "Keyring.open_keyring": (PLATFORM.open_keyring, [("tenant", S, "tenant"), ("envelope", S, SEALED)]),
    "WrappedKeyring.parse": (kc.WrappedKeyring.parse, [("text", S, WRAPPED.to_text())]),
    "WrappedKeyring.to_text": (WRAPPED.to_text, []),
    "WrappedKeyring.expect_owner": (WRAPPED.expect_owner, [("expected", S, "tenant")]),
    "WrappedKeyring.open_with_dek": (WRAPPED.open_with_dek, [("dek", B, bytes(32))]),
    "WrappedKeyring.open_with_passphrase": (PASS_WRAPPED.open_with_passphrase, [("passphrase", D, b"pw")]),
    "PendingWrap.finish": (
        lambda wrapped_dek: kc.PendingWrap(TENANT_KR, "gcp-kms", "k", "tenant").finish(wrapped_dek),
        [("wrapped_dek", B, b"blob")],
    ),
    "wrap_with_passphrase": (
        kc.wrap_with_passphrase,
        [("keyring", K, TENANT_KR), ("passphrase", D, b"pw"), ("owner", S, "tenant"), ("m_kib", I, 8), ("t", I, 1), ("p", I, 1)],
    ),
    "is_wrapped_keyring": (kc.is_wrapped_keyring, [("text", S, "{}")]),
    "TenantKeyringCache.get": (CACHE.get, [("tenant", S, "tenant"), ("now", O, 1)]),
    "TenantKeyringCache.insert": (CACHE.insert, [("tenant", S, "tenant"), ("keyring", K, TENANT_KR), ("now", O, 1)]),
    "TenantKeyringCache.invalidate": (CACHE.invalidate, [("tenant", S, "tenant")]),
    "TenantKeyringCache.clear": (CACHE.clear, []),
}
CUSTODY_WRONG = {K: ["keyring", b"x", 1, None, {}, object(), WRAPPED, CACHE]}
NOT_OWNER = {
    ("wrap_with_passphrase", "owner"),
    ("TenantKeyringCache.get", "tenant"),
    ("TenantKeyringCache.insert", "tenant"),
    ("TenantKeyringCache.invalidate", "tenant"),
}

"""Interop with the independent pyca/cryptography reference of kc1 (tests/interop/kc1_ref.py).

Envelopes sealed by this binding open under the reference, and the reverse, for single and
rotated keyrings, empty and binary contexts, and sizes around the GCM block size.
"""

import os
import sys

import pytest

import keycustody as kc
from conftest import REPO

sys.path.insert(0, str(REPO / "tests" / "interop"))
import kc1_ref as ref  # noqa: E402

SIZES = [0, 1, 15, 16, 17, 64, 1000, 70_000]
OWNERS = ["tenant-1", "Ünïcødé-租户-🔑", "o" * 1024]
CONTEXTS = [b"", b"openrouter_key", bytes(range(256))]


def rotated():
    kr = kc.Keyring.from_secret(os.urandom(32))
    kr.add_key_with_secret(os.urandom(48))
    kr.promote(2)
    return kr


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("owner", OWNERS)
def test_binding_seals_reference_opens(size, owner):
    kr = rotated()
    keys, primary = ref.parse_keyring(kr.export())
    assert primary == kr.primary_kid == 2
    for ctx in CONTEXTS:
        data = os.urandom(size)
        env = kr.seal(owner, data, ctx)
        assert ref.open_(keys, owner, env, ctx) == data
        with pytest.raises(ref.Kc1Error) as ei:
            ref.open_(keys, "other-" + owner[:100], env, ctx)
        assert ei.value.kind == "DecryptFailed"


@pytest.mark.parametrize("size", SIZES)
def test_reference_seals_binding_opens(size):
    kr = rotated()
    keys, _ = ref.parse_keyring(kr.export())
    for kid in (1, 2):
        for ctx in CONTEXTS:
            data = os.urandom(size)
            env = ref.seal(keys[kid], kid, "tenant-1", data, ctx)
            assert kr.open("tenant-1", env, ctx) == data
            assert kr.needs_rewrap(env) is (kid != 2)
            new = kr.rewrap("tenant-1", env, ctx)
            assert ref.open_(keys, "tenant-1", new, ctx) == data


def test_errors_agree_with_reference():
    kr = rotated()
    keys, _ = ref.parse_keyring(kr.export())
    env1 = ref.seal(keys[1], 1, "t", b"v")
    kr.retire(1)
    keys, _ = ref.parse_keyring(kr.export())
    cases = [
        ("t", env1, kc.KeyRetiredError),
        ("t", ref.seal(os.urandom(32), 9, "t", b"v"), kc.UnknownKeyError),
        ("t", "kc1.AAAA", kc.MalformedError),
        ("", kr.seal("t", b"v"), kc.InvalidOwnerError),
        ("u", kr.seal("t", b"v"), kc.DecryptError),
    ]
    for owner, env, cls in cases:
        with pytest.raises(cls) as ei:
            kr.open(owner, env)
        with pytest.raises(ref.Kc1Error) as ri:
            ref.open_(keys, owner, env)
        assert ei.value.kind == ri.value.kind

"""One Keyring (a frozen pyclass over core's Send + Sync keyring) shared by many threads,
while another thread rotates it. Large payloads run with the GIL released."""

import base64
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import keycustody as kc
from gil_probe import ran_during


def test_shared_keyring_across_threads_with_rotation():
    kr = kc.Keyring.generate()
    errors = []
    stop = threading.Event()

    def rotator():
        while not stop.is_set():
            kr.add_key()
            kr.promote(max(k.kid for k in kr.kids()))

    def worker(i):
        for j in range(200):
            owner = f"tenant-{i}"
            data = os.urandom(j % 97) if j % 10 else os.urandom(40_000)  # some above the GIL threshold
            env = kr.seal(owner, data, b"ctx")
            assert kr.open(owner, env, b"ctx") == data
            new = kr.rewrap(owner, env, b"ctx")
            assert kr.open(owner, new, b"ctx") == data
        return i

    t = threading.Thread(target=rotator)
    t.start()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert sorted(pool.map(worker, range(8))) == list(range(8))
    except Exception as e:  # pragma: no cover - reported below
        errors.append(e)
    finally:
        stop.set()
        t.join()
    assert not errors
    assert kr.primary_kid > 1
    assert sum(1 for k in kr.kids() if k.state == "active") == 1


def test_large_seal_open_in_parallel_threads():
    kr = kc.Keyring.generate()
    blobs = [os.urandom(2 * 1024 * 1024) for _ in range(4)]

    def job(i):
        env = kr.seal("t", blobs[i], str(i))
        return kr.open("t", env, str(i)) == blobs[i]

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(job, range(4)))


KR = kc.Keyring.generate()
BIG = os.urandom(8 * 1024 * 1024)
BIG_ENV = KR.seal("t", BIG)
SALT, IV = os.urandom(16), os.urandom(12)


def _legacy_blob():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    key = PBKDF2HMAC(hashes.SHA256(), 32, SALT, 100_000).derive(b"pw")
    return base64.b64encode(SALT + IV + AESGCM(key).encrypt(IV, b"x", None)).decode()


@pytest.mark.parametrize(
    "name,call",
    [
        ("seal", lambda: KR.seal("t", BIG)),
        ("open", lambda: KR.open("t", BIG_ENV)),
        ("rewrap", lambda: KR.rewrap("t", BIG_ENV)),
        ("legacy_pbkdf2", lambda: kc.decrypt_legacy_pbkdf2_gcm(LEGACY, b"pw")),
    ],
)
def test_gil_is_released_during_heavy_calls(name, call):
    assert ran_during(call), name


def test_gil_probe_detects_a_held_gil():
    # The control: a small seal keeps the GIL (releasing it would cost more than the work).
    assert not ran_during(lambda: KR.seal("t", b"x" * 64))


LEGACY = _legacy_blob()

"""The GIL-release probe shared by test_threads and test_custody."""

import sys
import threading
import time


def _once(call):
    ready, go = threading.Event(), threading.Event()
    ran = []

    def helper():
        ready.set()
        go.wait()
        ran.append(1)

    t = threading.Thread(target=helper)
    old = sys.getswitchinterval()
    t.start()
    ready.wait()
    sys.setswitchinterval(100.0)
    try:
        go.set()
        # Hold the GIL in Python for a moment so the helper's OS thread is scheduled and is
        # already queued on the GIL when the native call starts. A busy loop never gives the
        # GIL away under a 100 s switch interval.
        end = time.perf_counter() + 0.005
        while time.perf_counter() < end:
            pass
        seen_before = len(ran)
        call()
        seen = len(ran)
    finally:
        sys.setswitchinterval(old)
        t.join()
    assert seen_before == 0, "the helper ran before the native call: the probe is broken"
    return seen > 0


def ran_during(call, attempts=10):
    """Whether another Python thread ran while `call` was inside native code.

    With a huge switch interval the interpreter never takes the GIL from this thread by
    itself, so the helper thread can only run if the native call releases the GIL. A held
    GIL can therefore never look released. A released one can be missed only if the OS does
    not schedule the helper inside the (millisecond) window, so it is tried a few times: on
    a loaded two-core machine one try missed an 8 MiB open once.
    """
    return any(_once(call) for _ in range(attempts))

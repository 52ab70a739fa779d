"""The GIL-release probe shared by test_threads and test_custody."""

import sys
import threading


def ran_during(call):
    """Whether another Python thread ran while `call` was inside native code.

    With a huge switch interval the interpreter never takes the GIL from this thread by
    itself, so the helper thread can only run if the native call releases the GIL.
    Deterministic: no clock, no sleep.
    """
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
        call()
        seen = len(ran)
    finally:
        sys.setswitchinterval(old)
        t.join()
    return seen > 0

"""Why the native extension did not import: the platform tag the installed wheel was built for.

Only used when ``keycustody._native`` fails to import (a wheel for another platform, a libc older
than the wheel's tag, a damaged install); it never runs on a working install.
"""

from __future__ import annotations

import platform
import sys


def wheel_tags() -> list[str]:
    """The ``Tag:`` lines of the installed distribution's WHEEL file ([] when not from a wheel)."""
    try:
        from importlib.metadata import distribution

        text = distribution("keycustody").read_text("WHEEL") or ""
    except Exception:  # noqa: BLE001 - metadata is best effort here; the import error is what matters
        return []
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]


def native_import_error(exc: ImportError) -> ImportError:
    """An ImportError naming the platform tag this install needed and the platform it runs on."""
    tags = wheel_tags()
    needed = ", ".join(tags) if tags else "unknown (this install is not from a wheel)"
    libc = " ".join(part for part in platform.libc_ver() if part) or "an unknown libc"
    return ImportError(
        "keycustody: the native extension keycustody._native failed to import "
        f"({type(exc).__name__}: {exc}). This install needs the platform tag {needed}; this "
        f"interpreter runs on {sys.platform} {platform.machine()} with {libc} "
        f"(CPython {platform.python_version()}). Install the wheel built for this platform "
        "(pip install --force-reinstall --no-cache-dir keycustody; prebuilt: manylinux_2_17 "
        "x86_64/aarch64, macOS, Windows x64), or build from the sdist with a Rust toolchain "
        "(pip install --no-binary keycustody keycustody)."
    )

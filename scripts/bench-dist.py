"""Install sizes of the release artifacts in dist/ (make bench-dist): bench-out/dist.md.

Each row: the download (the wheel / npm tarball as fetched) and the installed size (the native
file as it lands on disk), beside a baseline measured in the same run: for the wheel, pyca
`cryptography` (a Rust-and-C abi3 manylinux wheel, pinned, fetched with pip into .cache/); for the
`.node`, the CLI binary and the wasm file, the Python extension of the same target (the same core,
another binding), so the cost of each packaging is visible.
Usage: python3 scripts/bench-dist.py DIST_DIR OUT.md
"""

from __future__ import annotations

import io
import pathlib
import subprocess
import sys
import tarfile
import zipfile

CRYPTOGRAPHY = "50.0.2"


def mib(n: int) -> str:
    return f"{n / 1048576:.2f} MiB"


def wheel_native(path: pathlib.Path) -> tuple[str, int]:
    with zipfile.ZipFile(path) as z:
        infos = [i for i in z.infolist() if i.filename.endswith(".so") or "/scripts/" in i.filename]
        assert infos, f"no native file in {path.name}"
        return infos[0].filename, sum(i.file_size for i in infos)


def wheel_installed(path: pathlib.Path) -> int:
    with zipfile.ZipFile(path) as z:
        return sum(i.file_size for i in z.infolist())


def tgz_member(path: pathlib.Path, suffix: str) -> int:
    with tarfile.open(path) as t:
        sizes = [m.size for m in t.getmembers() if m.name.endswith(suffix)]
        assert len(sizes) == 1, (path.name, suffix, sizes)
        return sizes[0]


def tgz_installed(path: pathlib.Path) -> int:
    with tarfile.open(path) as t:
        return sum(m.size for m in t.getmembers() if m.isfile())


def baseline_wheel(cache: pathlib.Path, arch: str) -> pathlib.Path:
    cache.mkdir(parents=True, exist_ok=True)
    have = sorted(cache.glob(f"cryptography-{CRYPTOGRAPHY}-*abi3*manylinux*{arch}.whl"))
    if not have:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
             "--only-binary=:all:", "--platform", f"manylinux2014_{arch}", "--platform", f"manylinux_2_28_{arch}",
             "--python-version", "3.11", "--implementation", "cp", "-d", str(cache), f"cryptography=={CRYPTOGRAPHY}"],
            check=True,
        )
        have = sorted(cache.glob(f"cryptography-{CRYPTOGRAPHY}-*{arch}.whl"))
    assert have, f"no cryptography {CRYPTOGRAPHY} wheel for {arch}"
    return have[0]


def main() -> None:
    dist, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    if not (dist / "SHA256SUMS").exists():
        sys.exit(f"FATAL: {dist}/SHA256SUMS missing: run make dist first")
    cache = pathlib.Path(".cache/bench-dist")
    rows = []
    wasm = sorted((dist / "npm").glob("keycustody-wasm-*.tgz"))
    for arch, npm in (("x86_64", "x64"), ("aarch64", "arm64")):
        wheels = sorted((dist / "python").glob(f"keycustody-*-abi3-*manylinux_2_17_{arch}*.whl"))
        if not wheels:
            continue
        w = wheels[0]
        _, so = wheel_native(w)
        base = baseline_wheel(cache, arch)
        _, base_so = wheel_native(base)
        rows.append((f"wheel `{w.name}` (download)", w.stat().st_size, f"cryptography {CRYPTOGRAPHY} wheel", base.stat().st_size))
        rows.append((f"wheel installed ({arch}: `_native.abi3.so` + Python)", wheel_installed(w), f"cryptography {CRYPTOGRAPHY} installed", wheel_installed(base)))
        rows.append((f"extension `_native.abi3.so` ({arch})", so, f"cryptography `_rust.abi3.so`", base_so))
        plat = sorted((dist / "npm").glob(f"keycustody-linux-{npm}-gnu-*.tgz"))
        if plat:
            p = plat[0]
            rows.append((f"npm `{p.name}` (download: .node + CLI)", p.stat().st_size, "the wheel (download)", w.stat().st_size))
            rows.append((f"`.node` installed ({arch})", tgz_member(p, ".node"), "the Python extension", so))
            with tarfile.open(p) as t:
                has_cli = any(m.name.endswith("/keycustody") for m in t.getmembers())
            if has_cli:
                rows.append((f"CLI binary `keycustody` ({arch}, in npm)", tgz_member(p, "/keycustody"), "the Python extension", so))
        cli = sorted((dist / "python").glob(f"keycustody_cli-*manylinux_2_17_{arch}*.whl"))
        if cli:
            rows.append((f"CLI wheel `{cli[0].name}` (download)", cli[0].stat().st_size, "the wheel (download)", w.stat().st_size))
        if wasm and arch == "x86_64":
            # The package holds three modules (the full one, keycustody-wasm/delivery and
            # keycustody-wasm/scrub): one row each, by exact file name.
            for mod in ("keycustody_wasm_bg.wasm", "delivery/keycustody_wasm_delivery_bg.wasm",
                        "scrub/keycustody_wasm_scrub_bg.wasm"):
                rows.append((f"wasm `{mod}` installed", tgz_member(wasm[0], f"/pkg/{mod}"), "the Python extension (x86_64)", so))
            rows.append((f"npm `{wasm[0].name}` (download)", wasm[0].stat().st_size, "the wheel (x86_64, download)", w.stat().st_size))
    if not rows:
        sys.exit(f"FATAL: no manylinux wheels in {dist}/python")
    buf = io.StringIO()
    buf.write("## dist: install sizes (`make bench-dist`, from `make dist`)\n\n")
    buf.write("Sizes in bytes (MiB); the baseline is measured in the same run: pyca `cryptography` for the wheel, the Python extension of the same target for the other native files. Ratio = ours / baseline.\n\n")
    buf.write("| artifact | size | baseline | baseline size | ratio |\n| --- | ---: | --- | ---: | ---: |\n")
    for name, n, bname, b in rows:
        buf.write(f"| {name} | {n:,} ({mib(n)}) | {bname} | {b:,} ({mib(b)}) | {n / b:.2f}x |\n")
    out.write_text(buf.getvalue(), encoding="utf-8")
    print(buf.getvalue())


if __name__ == "__main__":
    main()

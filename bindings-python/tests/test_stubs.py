"""The .pyi stubs and the runtime module name exactly the same things, with the same parameters."""

import ast
import inspect
import pathlib

import keycustody as kc

PKG = pathlib.Path(kc.__file__).parent
STUB = ast.parse((PKG / "__init__.pyi").read_text(encoding="utf-8"))
# Names that exist only for type checkers.
STUB_ONLY = {"_Data"}
TYPING = {"os", "Any", "Dict", "List", "Mapping", "Optional", "Tuple", "Union", "final"}


def stub_names():
    names = {}
    for node in STUB.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names[node.name] = node
        elif isinstance(node, ast.AnnAssign):
            names[node.target.id] = node
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if t.id != "__all__":
                    names[t.id] = node
        elif isinstance(node, ast.ImportFrom) and node.module == "_errors" and node.level == 1:
            for a in node.names:
                assert a.asname == a.name, "re-export with `X as X`"
                names[a.name] = node
    return names


NAMES = stub_names()


def test_stub_and_runtime_name_the_same_things():
    stub = set(NAMES) - STUB_ONLY - TYPING
    runtime = {n for n in vars(kc) if not n.startswith("_") or n == "__version__"}
    runtime -= {"annotations"}  # `from __future__ import annotations`
    assert stub == runtime, stub ^ runtime
    assert set(kc.__all__) == stub
    stub_all = next(n for n in STUB.body if isinstance(n, ast.Assign) and n.targets[0].id == "__all__")
    assert ast.literal_eval(stub_all.value) == kc.__all__


def test_every_stub_name_imports():
    for name in set(NAMES) - STUB_ONLY - TYPING:
        assert getattr(kc, name) is not None
        exec(f"from keycustody import {name}", {})


def params_of(fn_node):
    a = fn_node.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    return [n for n in names if n not in ("self", "cls")]


def runtime_params(obj):
    return [p for p in inspect.signature(obj).parameters if p not in ("self", "cls")]


def test_function_signatures_match():
    for name, node in NAMES.items():
        if isinstance(node, ast.FunctionDef):
            assert runtime_params(getattr(kc, name)) == params_of(node), name


def test_class_members_match():
    for name, node in NAMES.items():
        if not isinstance(node, ast.ClassDef):
            continue
        cls = getattr(kc, name)
        stub_members = {}
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                stub_members[item.name] = item
        public = {m for m in dir(cls) if not m.startswith("_")}
        assert public == {m for m in stub_members if not m.startswith("_")}, (name, public ^ set(stub_members))
        for m, item in stub_members.items():
            if m == "__new__":
                assert runtime_params(cls) == params_of(item), name
                continue
            attr = inspect.getattr_static(cls, m)
            is_prop = any(isinstance(d, ast.Name) and d.id == "property" for d in item.decorator_list)
            if is_prop:
                assert type(attr).__name__ in ("getset_descriptor", "property"), (name, m, type(attr))
            elif not m.startswith("__"):
                assert runtime_params(getattr(cls, m)) == params_of(item), (name, m)


def test_error_stub_lists_every_error_class():
    errs = ast.parse((PKG / "_errors.pyi").read_text(encoding="utf-8"))
    stub = {n.name for n in errs.body if isinstance(n, ast.ClassDef)}
    import keycustody._errors as E

    assert stub == set(E.__all__)
    for node in errs.body:
        if isinstance(node, ast.ClassDef):
            bases = [b.id for b in node.bases]
            assert [b.__name__ for b in getattr(E, node.name).__bases__] == bases, node.name


def test_py_typed_marker_present():
    assert (PKG / "py.typed").exists()


def test_mypy_stubtest():
    """mypy's stubtest: every stub signature, default and type against the runtime objects."""
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "keycustody", "--allowlist", str(PKG.parent.parent / "stubtest-allowlist.txt")],
        capture_output=True,
        text=True,
        cwd=PKG.parent.parent,
    )
    assert r.returncode == 0, r.stdout + r.stderr

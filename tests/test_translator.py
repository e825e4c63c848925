"""engine="python" and fayasm.translate: golden output, safety of names taken from the
module, scale (many functions, huge functions, deep nesting) and the standalone file."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from golden_check import GOLDEN, check_golden

import fayasm
from fayasm.binary import encode
from fayasm.syntax import Names


def golden_cases():
    return sorted(p.stem for p in GOLDEN.glob("*.wat"))


@pytest.mark.parametrize("name", golden_cases())
def test_golden_translation(name):
    """The shape of the generated code for small modules is pinned (regenerate with
    FAYASM_UPDATE_GOLDEN=1 after an intended change, and review the diff)."""
    module = fayasm.Module((GOLDEN / f"{name}.wat").read_text(), name=name)
    source = fayasm.translate(module)
    # The header names the fayasm version and the module hash; pin everything else.
    body = source.split("\n", 3)[3]
    check_golden(f"{name}.py.golden", body)


def test_translated_header_names_source_and_hash():
    module = fayasm.Module("(module)", name="empty")
    source = fayasm.translate(module)
    assert source.startswith("# Translated from WebAssembly by fayasm")
    assert "# Module: empty" in source.splitlines()[2]
    assert f"sha256: {module.hash}" in source.splitlines()[1]


def _imports_of(source: str) -> set[str]:
    tree = ast.parse(source)
    mods = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            mods.add(node.module)
    return mods


def test_generated_code_imports_only_the_runtime():
    source = fayasm.translate(fayasm.Module(
        '(module (memory 1) (func (export "f") (param f32) (result i32) '
        '(i32.trunc_f32_s (local.get 0))))'))
    assert all(m == "sys" or m.startswith("fayasm.runtime") for m in _imports_of(source))


HOSTILE = [
    'a"b', "a'b", 'x\\', "line\nbreak", "tab\tand\rreturn",
    "\u00e9t\u00e9 \u6f22\u5b57 \U0001f600",
    "def", "class", "import", "None", "__init__", "__import__", "__builtins__",
    '"); FLAG.append(1); ("', "'''; FLAG.append(1); '''", '"""', "#", "\\x00\x00", "",
    "__import__('os').system('echo INJECTED')",
]


def _hostile_module():
    """Exports, imports and name-section names built from HOSTILE strings."""
    fields = []
    for k in range(len(HOSTILE)):
        fields.append(f'(func $f{k} (export "e{k}") (result i32) (i32.const {k}))')
    imports = "".join(f'(import "m{k}" "i{k}" (func (param i32)))' for k in range(3))
    module = fayasm.Module(f"(module {imports} {' '.join(fields)})")
    syntax = module.syntax
    # Rename exports, imports and functions (name section) to the hostile strings.
    for k, exp in enumerate(syntax.exports):
        exp.name = HOSTILE[k] + f"#{k}"
    hostile_imports = [("m\n'\"", "__init__"), ("os", "system'); FLAG.append(1); ('"),
                       ("\u00e9", "import")]
    for imp, (mod, field) in zip(syntax.imports, hostile_imports):
        imp.module, imp.name = mod, field
    syntax.names = Names(module="mod\"\n'", funcs={3 + k: name for k, name in enumerate(HOSTILE)},
                         locals={3: {0: "l'\"\n"}})
    return fayasm.Module(encode(syntax, names=True), name="hostile\"\n'"), hostile_imports


def test_hostile_names_cannot_inject_code():
    module, hostile_imports = _hostile_module()
    source = fayasm.translate(module)
    ast.parse(source)  # it is valid Python
    flag: list = []
    ns = {"FLAG": flag, "__name__": "hostile"}
    exec(compile(source, "<hostile>", "exec"), ns)
    imports = {mod: {field: (lambda x: None)} for mod, field in hostile_imports}
    inst = ns["instantiate"](imports)
    for k, name in enumerate(HOSTILE):
        assert inst.exports[name + f"#{k}"]() == k
    assert flag == []
    # Nothing from the module appears as a Python name except through sanitisation.
    names = {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    assert "FLAG" not in names and "system" not in names


def test_hostile_names_on_the_python_engine():
    module, hostile_imports = _hostile_module()
    imports = {mod: {field: (lambda x: None)} for mod, field in hostile_imports}
    inst = fayasm.instantiate(module, imports, engine="python")
    assert inst.exports[HOSTILE[0] + "#0"]() == 0


def test_ten_thousand_functions_translate_and_run():
    n = 10_000
    funcs = ["(func $f0 (result i32) (i32.const 1))"]
    funcs += [f"(func $f{k} (result i32) (i32.add (call $f{k - 1}) (i32.const 1)))"
              for k in range(1, n)]
    wat = f'(module {" ".join(funcs)} (export "last" (func $f{n - 1})))'
    inst = fayasm.instantiate(fayasm.Module(wat), engine="python")
    assert inst.exports.last() == n


def test_function_of_100000_instructions_translates_and_runs():
    # local.get / i32.const / i32.add / local.set, 25,000 times: 100,000 instructions.
    body = " ".join(f"(local.set 0 (i32.add (local.get 0) (i32.const {k % 7})))"
                    for k in range(25_000))
    wat = f'(module (func (export "f") (param i32) (result i32) {body} (local.get 0)))'
    module = fayasm.Module(wat)
    assert sum(len(f.body) for f in module.syntax.funcs) >= 100_000
    inst = fayasm.instantiate(module, engine="python")
    assert inst.exports.f(1) == 1 + sum(k % 7 for k in range(25_000))


def _nested(kind: str, depth: int) -> str:
    """A function nesting ``depth`` constructs of ``kind`` that counts to 3 in every loop."""
    if kind == "block":
        inner = ("(br_if 0 (i32.eqz (local.get 0)))"
                 " (local.set 1 (i32.add (local.get 1) (i32.const 1)))")
        for d in range(depth):
            inner = f"(block {inner} (br_if {min(d % 3, depth - d - 1)} (local.get 0)))"
    elif kind == "if":
        inner = "(local.set 1 (i32.add (local.get 1) (i32.const 1)))"
        for d in range(depth):
            inner = (f"(if (i32.ne (local.get 0) (i32.const {d + 1000})) (then {inner}) "
                     f"(else (local.set 1 (i32.const -1))))")
    else:
        inner = "(local.set 1 (i32.add (local.get 1) (i32.const 1)))"
        for d in range(depth):
            # Each loop runs twice (counter d in local 2+d) and can branch to an outer one.
            c = 2 + d
            inner = (f"(local.set {c} (i32.const 0)) (loop $l{d} {inner} "
                     f"(local.set {c} (i32.add (local.get {c}) (i32.const 1))) "
                     f"(br_if $l{d} (i32.lt_u (local.get {c}) (i32.const {2 if d < 3 else 1}))))")
    locals_ = " ".join(["i32"] * (depth + 2))
    return (f'(module (func (export "f") (param i32) (result i32) (local {locals_}) '
            f'{inner} (local.get 1)))')


@pytest.mark.parametrize("kind, depth", [("block", 300), ("if", 150), ("loop", 40)])
def test_deep_nesting_beyond_cpython_limits(kind, depth):
    """CPython allows 20 nested loops and 100 indentation levels: deeper wasm nesting is
    flattened, and the result agrees with the interpreter."""
    module = fayasm.Module(_nested(kind, depth))
    ref = fayasm.instantiate(module, engine="interpreter").exports.f
    got = fayasm.instantiate(module, engine="python").exports.f
    for arg in (0, 1, 5):
        assert got(arg) == ref(arg)


def test_flat_mode_matches_structured_mode():
    """The state-machine lowering (used for deep nesting) agrees on a varied module."""
    from fayasm.translator.python.module import translate

    wat = (Path(__file__).parent / "golden" / "control.wat").read_text()
    module = fayasm.Module(wat)
    results = []
    for flat in (False, True):
        ns: dict = {"__name__": "t"}
        exec(compile(translate(module, flat=flat), "<t>", "exec"), ns)
        ex = ns["instantiate"]().exports
        results.append([ex.run(k) for k in range(-3, 12)])
    assert results[0] == results[1]


def test_translated_file_runs_as_a_wasi_script(tmp_path):
    out = tmp_path / "hello.py"
    root = Path(__file__).parent.parent
    subprocess.run([sys.executable, "-m", "fayasm", "translate",
                    str(root / "examples" / "hello.wasm"), "-o", str(out)],
                   check=True, capture_output=True)
    r = subprocess.run([sys.executable, str(out), "--dir", f"{root / 'examples'}::ex", "--",
                        "Ada", "ex/hello.c"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "Hello, Ada!" in r.stdout and "ex/hello.c:" in r.stdout


def test_translated_file_without_start_says_so(tmp_path):
    out = tmp_path / "lib.py"
    out.write_text(fayasm.translate(fayasm.Module('(module (func (export "f")))', name="lib")))
    r = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "no _start" in r.stderr


def test_translation_cache_is_keyed_and_rebuilt(tmp_path, monkeypatch):
    from fayasm.translator.python import engine as pyengine

    monkeypatch.setenv("FAYASM_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("FAYASM_CACHE", "1")
    module = fayasm.Module('(module (func (export "f") (result i32) (i32.const 7)))')
    assert fayasm.instantiate(module, engine="python").exports.f() == 7
    entries = list((tmp_path / "python").glob("*.py"))
    assert len(entries) == 1
    entries[0].write_text("garbage that is not a translation")
    module2 = fayasm.Module(module.binary)
    assert fayasm.instantiate(module2, engine="python").exports.f() == 7
    assert entries[0].read_text().startswith("# Translated from WebAssembly")
    assert pyengine.cache_dir() == os.path.join(str(tmp_path), "python")

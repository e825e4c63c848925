"""The engine interface (fayasm.engines.EngineProtocol, checked by mypy), the one linking
step every engine runs (runtime.plan.link), and WASI calls from a start function, which
need the memory bound before the start function runs (issues 14 and 19)."""
from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import sys

import pytest
from conftest import REPO

import fayasm
from fayasm import engines

# A start function that writes "hi\n" to stdout through WASI, its memory exported.
START_WRITES = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi\\n")
  (func $s (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 3))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (start $s)
  (func (export "written") (result i32) (i32.load (i32.const 8))))"""

# The same with an imported memory, which is exported under no name.
START_WRITES_IMPORTED = START_WRITES.replace(
    '(memory (export "memory") 1)', '(import "env" "mem" (memory 1))')

# A command: the start function and _start both write.
COMMAND = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "start\\nmain\\n")
  (func $put (param $at i32) (param $n i32)
    (i32.store (i32.const 0) (local.get $at)) (i32.store (i32.const 4) (local.get $n))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $s (call $put (i32.const 16) (i32.const 6)))
  (start $s)
  (func (export "_start") (call $put (i32.const 22) (i32.const 5))))"""


# -- WASI from a start function (issue 19) -----------------------------------------------
def test_regression_start_function_calling_wasi_has_its_memory(engine):
    out = io.BytesIO()
    inst = fayasm.instantiate(START_WRITES, engine=engine, wasi=fayasm.WasiConfig(stdout=out))
    assert out.getvalue() == b"hi\n"
    assert inst.exports.written() == 3
    assert inst.wasi.memory is inst.exports.memory
    inst.wasi.close()


def test_regression_start_function_calling_wasi_with_an_imported_memory(engine):
    out = io.BytesIO()
    mem = fayasm.Memory(1)
    inst = fayasm.instantiate(START_WRITES_IMPORTED, imports={"env": {"mem": mem}},
                              engine=engine, wasi=fayasm.WasiConfig(stdout=out))
    assert out.getvalue() == b"hi\n"
    assert inst.wasi.memory is mem
    assert mem.read(8, 4) == (3).to_bytes(4, "little")


def test_regression_fayasm_run_start_function_calling_wasi(engine):
    out = io.BytesIO()
    code = fayasm.run(fayasm.Module(COMMAND), wasi=fayasm.WasiConfig(stdout=out), engine=engine)
    assert code == 0
    assert out.getvalue() == b"start\nmain\n"


def test_regression_cli_run_start_function_calling_wasi(engine, tmp_path, capfd):
    from fayasm.cli import main

    path = tmp_path / "command.wat"
    path.write_text(COMMAND)
    assert main(["run", str(path), "--engine", engine]) == 0
    assert capfd.readouterr().out == "start\nmain\n"


def test_a_start_function_trapping_closes_the_wasi_state_made_for_it(engine):
    trapping = START_WRITES.replace("(start $s)", "(start $t) (func $t (call $s) unreachable)")
    out = io.BytesIO()
    config = fayasm.WasiConfig(stdout=out)
    with pytest.raises(fayasm.Trap, match="unreachable"):
        fayasm.instantiate(trapping, engine=engine, wasi=config)
    assert out.getvalue() == b"hi\n"  # written (and flushed) before the trap


# -- the linking step ---------------------------------------------------------------------
LINKED = """(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (import "env" "g" (global $g i32))
  (table (export "t") 3 funcref)
  (memory (export "m") 1)
  (global $h (export "h") i32 (global.get $g))
  (func $double (export "double") (param i32) (result i32)
    (i32.mul (local.get 0) (i32.const 2)))
  (elem (i32.const 1) $f $double)
  (data (global.get $g) "\\2a"))"""


def test_every_engine_gives_the_same_index_spaces(engine):
    host = fayasm.Func(lambda x: x + 1, fayasm.FuncType(("i32",), ("i32",)))
    inst = fayasm.instantiate(LINKED, engine=engine,
                              imports={"env": {"f": host, "g": 7}})
    assert [len(inst.funcs), len(inst.tables), len(inst.mems), len(inst.globals)] == [2, 1, 1, 2]
    assert inst.funcs[0] is host and inst.funcs[1] is inst.exports.double
    assert inst.tables[0] is inst.exports.t and inst.mems[0] is inst.exports.m
    assert inst.globals[1] is inst.exports.h and inst.exports.h.value == 7
    assert inst.exports.t.elements[1] is host and inst.exports.t.elements[2] is inst.funcs[1]
    assert inst.exports.m.read(7, 1) == b"\x2a"


def test_link_errors_read_the_same_on_every_engine():
    seen = set()
    for name in engines.available():
        with pytest.raises(fayasm.LinkError) as info:
            fayasm.instantiate(LINKED, engine=name, imports={"env": {"f": 1, "g": 1.5}})
        seen.add(tuple(info.value.problems))
    assert len(seen) == 1, seen
    (problems,) = seen
    assert problems[0].startswith('incompatible import type for "env"."f"')
    assert problems[1].startswith('incompatible import type for "env"."g"')


def test_every_engine_satisfies_the_interface_at_run_time():
    for name in engines.available():
        eng = engines.get(name)
        assert isinstance(eng, engines.EngineProtocol), name
        assert eng.wait_idle(60) is True
    assert engines.wait_idle(60) is True
    assert isinstance(engines.translator("python"), engines.TranslatingEngine)
    with pytest.raises(fayasm.Error, match="does not translate"):
        engines.translator("interpreter")


# -- the interface under the type checker --------------------------------------------------
def _shadow_tree(root):
    """The installed layout (fayasm.runtime, fayasm.translator) as links, for mypy, which
    cannot follow setuptools' editable-install finder."""
    pkg = root / "fayasm"
    pkg.mkdir()
    for entry in os.listdir(REPO / "fayasm"):
        if entry != "__pycache__":
            os.symlink(REPO / "fayasm" / entry, pkg / entry)
    os.symlink(REPO / "runtime", pkg / "runtime")
    os.symlink(REPO / "translator", pkg / "translator")
    os.symlink(REPO / "tests" / "typecheck_engines.py", root / "typecheck_engines.py")


def _mypy(root, *modules):
    # The project's settings (pyproject.toml, as scripts/typecheck.py runs them), with
    # findings only in the modules named.
    args = [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
            "--follow-imports=silent", "--no-error-summary", "--cache-dir", str(root / ".cache")]
    for m in modules:
        args += ["-m", m]
    r = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=600)
    return r.returncode, r.stdout + r.stderr


BROKEN_ENGINE = '''
from fayasm.engines import EngineProtocol
from fayasm.module import Module
from fayasm.runtime.instance import Instance


class NoFuel:
    """An engine whose instantiate takes no fuel=, deadline=, limits= or wasi=."""

    name = "nofuel"

    def compile(self, module: Module) -> int:
        return 0

    def instantiate(self, module: Module, compiled: int, imports: object = None) -> Instance:
        raise NotImplementedError

    def wait_idle(self, timeout: float = 600.0) -> bool:
        return True


_engine: EngineProtocol[int] = NoFuel()
'''


def test_the_engines_satisfy_the_protocol_under_mypy(tmp_path):
    pytest.importorskip("mypy", reason="mypy is the project's type checker (pip install mypy)")
    _shadow_tree(tmp_path)
    code, out = _mypy(tmp_path, "fayasm.engines", "typecheck_engines")
    assert code == 0, out
    # The check has teeth: an engine missing the interface's options is refused.
    (tmp_path / "broken_engine.py").write_text(BROKEN_ENGINE)
    code, out = _mypy(tmp_path, "broken_engine")
    assert code == 1 and 'Incompatible types in assignment (expression has type "NoFuel"' in out


# -- the consumers use only the interface ---------------------------------------------------
# Not fayasm/testing/mutants.py: the mutant catalogue injects bugs into one engine's
# internals by design (scripts/fuzz_power.py measures the fuzzer with it).
CONSUMERS = (["fayasm/cli.py", "fayasm/cli_args.py", "fayasm/cli_diff.py", "fayasm/spectest.py",
              "scripts/call_cost.py", "scripts/jit_compile_time.py"]
             + sorted(str(p.relative_to(REPO)) for d in ("fayasm/wast", "fayasm/testing")
                      for p in (REPO / d).glob("*.py") if p.name != "mutants.py")
             + sorted(str(p.relative_to(REPO)) for p in (REPO / "scripts").glob("bench*.py")))


_CODE_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+([\w, ]+)|import\s+([\w.]+))",
                          re.M)


def _imported(path: str) -> set[str]:
    """Every module ``path`` imports, at any depth (inside functions too, and in the
    source of child processes it keeps in strings), relative imports resolved."""
    package = path.rsplit("/", 1)[0].split("/")
    out = set()
    for node in ast.walk(ast.parse((REPO / path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for frm, names, plain in _CODE_IMPORT.findall(node.value):
                out.add(frm or plain)
                out.update(f"{frm}.{n.strip()}" for n in names.split(",") if frm)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            out.add(module)
            out.update(f"{module}.{a.name}" for a in node.names)
    return out


@pytest.mark.parametrize("path", CONSUMERS)
def test_spec_runner_diff_harness_cli_and_benchmarks_reach_no_engine(path):
    engine_modules = ("fayasm.interpreter", "fayasm.translator")
    reached = sorted(m for m in _imported(path) if m.startswith(engine_modules))
    assert not reached, f"{path} imports {reached}: use fayasm.engines"

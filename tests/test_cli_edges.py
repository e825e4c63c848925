"""The command line on a user's own modules (issue 19): ``fayasm diff`` with imports, WASI
and fuel, options in either order, bad numbers in one line, ``wast`` on what is not a
script, module errors naming the file, and results printed in a form ``--invoke`` takes."""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO

import fayasm
from fayasm.cli import main
from fayasm.testing.diff import diff

EXAMPLES = REPO / "examples"
FIB = str(EXAMPLES / "fib.wasm")
HELLO = str(EXAMPLES / "hello.wasm")

HOSTED = """(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "boom" (func $boom (param i32)))
  (import "env" "base" (global $base i32))
  (import "env" "mem" (memory 1))
  (func (export "f") (param i32) (result i32) (call $add (local.get 0) (global.get $base)))
  (func (export "g") (param i32) (call $boom (local.get 0)))
  (func (export "peek") (result i32) (i32.load (i32.const 0))))"""

IMPORTS_PY = """import fayasm
def boom(x):
    raise ValueError(f"boom {x}")
def imports():
    mem = fayasm.Memory(1)
    mem.write(0, b"\\x07\\0\\0\\0")
    return {"env": {"add": lambda a, b: a + b, "boom": boom, "base": 100, "mem": mem}}
"""


def run(capsys, *argv) -> tuple[int, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out + out.err


def test_diff_of_a_module_that_does_not_link_compares_nothing(capsys, tmp_path):
    (tmp_path / "m.wat").write_text(HOSTED)
    code, out = run(capsys, "diff", tmp_path / "m.wat")
    assert code == 2 and "no difference" not in out
    assert "nothing compared: the module did not instantiate" in out and "--imports" in out
    result = diff(fayasm.Module(HOSTED), engines=["interpreter", "python"])
    assert result.ok and result.compared == 0 and "did not instantiate" in result.why_not


def test_diff_takes_host_imports_from_a_file(capsys, tmp_path):
    (tmp_path / "m.wat").write_text(HOSTED)
    (tmp_path / "host.py").write_text(IMPORTS_PY)
    code, out = run(capsys, "diff", tmp_path / "m.wat", "--imports", tmp_path / "host.py",
                    "--random-args", "2")
    assert code == 0, out
    assert "f(i32:-1039577940): returned i32:-1039577840" in out
    assert "host_error: ValueError: boom" in out and "peek(): returned i32:7" in out
    assert "no difference: 6 step(s) compared" in out
    code, out = run(capsys, "diff", tmp_path / "m.wat", "--imports", tmp_path / "none.py")
    assert code == 2 and "no such file" in out


def test_diff_takes_imports_from_python():
    calls = []

    def imports():
        mem = fayasm.Memory(1)
        return {"env": {"add": lambda a, b: calls.append((a, b)) or a * b,
                        "boom": lambda x: None, "base": 3, "mem": mem}}

    result = diff(fayasm.Module(HOSTED), [("f", [fayasm.Val.i32(5)])],
                  engines=["interpreter", "python"], imports=imports)
    assert result.ok and result.compared == 2 and result.outcomes[1].values[0].value == 15
    assert calls == [(5, 3), (5, 3)]  # each engine called the host once


def test_diff_runs_a_wasi_command_with_its_arguments(capsys):
    code, out = run(capsys, "diff", HELLO, "--dir", EXAMPLES, "--", "Ada",
                    EXAMPLES / "hello.c")
    assert code == 0, out
    assert "_start(): returned nothing" in out and "no difference" in out
    code, out = run(capsys, "diff", HELLO, "--dir", EXAMPLES, "--", "/nonexistent/x.c")
    assert code == 0 and "_start(): exited with code 1" in out


def test_diff_compares_wasi_output():
    from fayasm.testing.diff import compare_state
    from fayasm.testing.run import State

    a, b = State(output={"stdout": b"hello\n"}), State(output={"stdout": b"hellO\n"})
    what, where, _, _, _ = compare_state(a, b, "exact", False)
    assert what == "output" and where == "WASI stdout at byte 4"


def test_diff_fuel_is_per_call_and_can_be_set(capsys):
    code, out = run(capsys, "diff", FIB, "--invoke", "fib", "30", "--no-wasmtime")
    assert code == 0 and "trapped: out_of_fuel" in out and "--fuel N" in out
    code, out = run(capsys, "diff", FIB, "--invoke", "fib", "25", "--fuel", "10000000")
    assert code == 0 and "returned i32:75025" in out and "not compared" not in out
    code, out = run(capsys, "diff", FIB, "--invoke", "fib", "25", "--no-fuel")
    assert code == 0 and "returned i32:75025" in out
    # One call running out leaves the next one its own budget.
    plan = [("fib", [fayasm.Val.i32(30)]), ("fib", [fayasm.Val.i32(3)])]
    result = diff(fayasm.Module.from_file(FIB), plan, engines=["jit", "python"])
    assert [o.kind for o in result.outcomes] == ["ok", "trap", "ok"]
    assert result.outcomes[2].values[0].value == 2


def test_diff_file_may_follow_invoke(capsys):
    code, out = run(capsys, "diff", "--invoke", "fib", "20", FIB, "--no-wasmtime")
    assert code == 0 and "fib(i32:20): returned i32:6765" in out


@pytest.mark.parametrize("argv, says", [
    (["run", "--deadline", "-1", FIB], "--deadline"),
    (["run", FIB, "--fuel", "-5"], "--fuel"),
    (["run", FIB, "--deadline", "nan", "--invoke", "fib", "3"], "--deadline"),
    (["diff", "--random-args", "-3", FIB], "--random-args"),
    (["diff", FIB, "--fuel", "-1"], "--fuel"),
    (["fuzz", "--jobs", "0"], "--jobs"),
    (["fuzz", "--time", "-5"], "--time"),
    (["wast", "--max-failures", "-1", FIB], "--max-failures"),
    (["run", FIB, "--max-table-elements", "x"], "--max-table-elements"),
])
def test_bad_numbers_are_one_line(argv, says):
    r = subprocess.run([sys.executable, "-m", "fayasm"] + argv, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in r.stderr, r.stderr


def test_wast_refuses_what_is_not_a_script(capsys, tmp_path):
    code, out = run(capsys, "wast", FIB)
    assert code == 2 and "is a module, not a WAST script" in out and "utf-8" not in out
    (tmp_path / "bin.wast").write_bytes((EXAMPLES / "fib.wasm").read_bytes())
    code, out = run(capsys, "wast", tmp_path / "bin.wast")
    assert code == 1 and "not a WAST script (a binary module)" in out
    (tmp_path / "empty").mkdir()
    code, out = run(capsys, "wast", tmp_path / "empty")  # no .wast files in it
    assert code == 2 and "no .wast files" in out and "total: 0 passed" not in out


def test_module_errors_name_the_file(capsys, tmp_path):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\1\0\0\0\1")
    code, out = run(capsys, "run", bad)
    assert code == 1 and out.strip() == (f"fayasm run: {bad}: DecodeError: unexpected end of "
                                         "section or function (at byte offset 0x9)")
    code, out = run(capsys, "inspect", tmp_path / "missing.wasm")
    assert code == 1 and "cannot read" in out and "No such file" in out
    assert "CompileError" not in out and "DecodeError" not in out


def test_printed_nans_are_accepted_back(capsys, tmp_path):
    wat = tmp_path / "id.wat"
    wat.write_text('(module (func (export "id32") (param f32) (result f32) local.get 0)'
                   ' (func (export "id64") (param f64) (result f64) local.get 0))')
    for name, arg in [("id32", "f32:nan:0x200000"), ("id64", "-nan:0x1"), ("id64", "nan"),
                      ("id32", "-inf"), ("id64", "0x1p-3")]:
        code, out = run(capsys, "run", wat, "--invoke", name, arg)
        assert code == 0, out
        printed = out.strip()
        code, again = run(capsys, "run", wat, "--invoke", name, printed)
        assert code == 0 and again.strip() == printed, (arg, printed, again)
    code, out = run(capsys, "run", wat, "--invoke", "id32", "f32:nan:0x200000")
    assert out.strip() == "nan:0x200000"  # signalling, its payload kept


# -- exports of the wrong kind --------------------------------------------------------------
WASI_MEMORY = ('(import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) '
               '(memory (export "memory") 1)')


@pytest.mark.parametrize("wasi", [False, True], ids=["plain", "wasi"])
def test_run_of_a_module_whose_start_is_not_a_function(capsys, tmp_path, wasi):
    path = tmp_path / "m.wat"
    path.write_text(f'(module {WASI_MEMORY if wasi else ""}'
                    ' (global (export "_start") i32 (i32.const 1)) (func (export "f")))')
    code, out = run(capsys, "run", path)
    assert code == 2 and "Traceback" not in out, out
    assert out.strip() == ("fayasm run: the export _start is a global, not a function; "
                           "choose a function with --invoke (exported functions: f)")
    code, out = run(capsys, "run", path, "--invoke", "f")  # another export still runs
    assert code == 0 and out == ""


def test_run_invoke_of_an_initialize_that_is_not_a_function(capsys, tmp_path):
    path = tmp_path / "m.wat"
    path.write_text(f'(module {WASI_MEMORY} (global (export "_initialize") i32 (i32.const 1)))')
    code, out = run(capsys, "run", path, "--invoke", "_initialize")
    assert code == 2 and out.strip() == "fayasm run: export '_initialize' is not a function"
    path.write_text(f"(module {WASI_MEMORY})")
    code, out = run(capsys, "run", path, "--invoke", "_initialize")
    assert code == 2 and out.strip() == "fayasm run: no export named '_initialize'"


@pytest.mark.parametrize("export", ["memory", "t", "g"])
def test_run_invoke_of_an_export_that_is_not_a_function(capsys, tmp_path, export):
    path = tmp_path / "m.wat"
    path.write_text('(module (memory (export "memory") 1) (table (export "t") 1 funcref)'
                    ' (global (export "g") i32 (i32.const 1)))')
    code, out = run(capsys, "run", path, "--invoke", export)
    assert code == 2 and out.strip() == f"fayasm run: export {export!r} is not a function"
    code, out = run(capsys, "diff", path, "--invoke", export)
    assert code == 2 and out.strip() == f"fayasm diff: no exported function named {export!r}"


# -- --imports files that go wrong ------------------------------------------------------------
@pytest.mark.parametrize("source, says", [
    ('raise RuntimeError("at load")', "--imports {path}: RuntimeError: at load"),
    ('def imports():\n    raise RuntimeError("in the function")\n',
     "--imports {path}: imports(): RuntimeError: in the function"),
    ("imports = 5", ("--imports {path} must define imports, a dict {module: {name: value}} "
                     "or a function returning one")),
], ids=["file-raises", "function-raises", "not-a-dict"])
def test_diff_imports_file_errors_are_one_usage_line(capsys, tmp_path, source, says):
    (tmp_path / "m.wat").write_text('(module (func (export "f")))')
    host = tmp_path / "host.py"
    host.write_text(source)
    code, out = run(capsys, "diff", tmp_path / "m.wat", "--imports", host)
    assert code == 2 and "Traceback" not in out, out
    assert out.strip() == "fayasm diff: " + says.replace("{path}", str(host))

"""What the command line imports (issue 14): building the parser resolves no engine, so
``fayasm inspect`` and ``fayasm --help`` neither import llvmlite nor warn where it is
missing; the default engine is found only by a command that runs one."""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO

FIB = str(REPO / "examples" / "fib.wasm")

# Runs the CLI with llvmlite made unimportable, warnings as errors, and reports what it
# imported: the exit status, then the engine packages that ended up in sys.modules.
_BLOCKED = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "llvmlite" or name.startswith("llvmlite."):
            raise ImportError("llvmlite blocked by the test")
if sys.argv[1] == "block":
    sys.meta_path.insert(0, Block())
from fayasm.cli import main
try:
    code = main(sys.argv[2:])
except SystemExit as e:
    code = e.code
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "llvmlite"
                or m.startswith(("fayasm.translator", "fayasm.interpreter")))
print("STATUS", code, "LOADED", ",".join(loaded), file=sys.stderr)
"""


def _cli(*argv: str, block: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-W", "error", "-c", _BLOCKED,
                           "block" if block else "open", *argv],
                          capture_output=True, text=True, timeout=120)


def _status(r: subprocess.CompletedProcess) -> tuple[str, str]:
    line = [x for x in r.stderr.splitlines() if x.startswith("STATUS")][-1].split()
    return line[1], (line[3] if len(line) > 3 else "")


@pytest.mark.parametrize("argv", [["--help"], ["inspect", FIB], ["inspect", "--wat", FIB],
                                  ["run", "--help"], ["wast", "--help"], ["diff", "--help"],
                                  ["translate", "--help"]])
def test_regression_parser_imports_no_engine(argv):
    r = _cli(*argv)
    assert _status(r) == ("0", ""), r.stderr


@pytest.mark.parametrize("argv", [["--help"], ["inspect", FIB]])
def test_regression_no_llvmlite_warning_where_it_is_missing(argv):
    r = _cli(*argv, block=True)
    assert _status(r) == ("0", ""), r.stderr
    assert "Warning" not in r.stderr and "llvmlite" not in r.stdout


def test_inspect_does_not_import_llvmlite_as_a_command():
    """The real entry point, through ``python -X importtime -m fayasm``."""
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "fayasm", "inspect", FIB],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "fayasm.cli" in r.stderr  # importtime did report
    assert "llvmlite" not in r.stderr


def test_run_still_defaults_to_the_jit():
    r = _cli("run", FIB, "--invoke", "fib", "10")
    status, loaded = _status(r)
    assert status == "0" and r.stdout == "55\n", r.stderr
    assert "fayasm.translator.llvm.engine" in loaded.split(",") and "llvmlite" in loaded


def test_run_without_llvmlite_falls_back_with_one_warning():
    r = subprocess.run([sys.executable, "-c", _BLOCKED, "block", "run", FIB, "--invoke", "fib",
                        "10"], capture_output=True, text=True, timeout=120)
    assert _status(r)[0] == "0" and r.stdout == "55\n", r.stderr
    assert r.stderr.count("llvmlite is not available") == 1


def test_wast_defaults_to_the_jit(tmp_path):
    script = tmp_path / "t.wast"
    script.write_text('(module (func (export "f") (result i32) (i32.const 1)))\n'
                      '(assert_return (invoke "f") (i32.const 1))\n')
    r = _cli("wast", str(script))
    assert _status(r)[0] == "0", r.stderr
    assert "engine jit" in r.stdout

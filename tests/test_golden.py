"""Golden output of the WAT printer and of the jit's LLVM IR (the Python translation's
goldens are in test_translator.py), and the golden check itself: a missing or changed
golden fails with a diff; FAYASM_UPDATE_GOLDEN=1 rewrites them."""
from __future__ import annotations

import pytest
from golden_check import GOLDEN, check_golden, diff

import fayasm
from fayasm.text.printer import print_module

CASES = sorted(p.stem for p in GOLDEN.glob("*.wat"))


def _module(name: str) -> fayasm.Module:
    return fayasm.Module((GOLDEN / f"{name}.wat").read_text(), name=name)


@pytest.mark.parametrize("name", CASES)
def test_golden_wat_printer(name):
    """The printer's text of each golden module is pinned, and it parses back to the
    same module."""
    module = _module(name)
    text = print_module(module.syntax)
    check_golden(f"{name}.wat.golden", text)
    assert fayasm.Module(text).binary == module.binary


def llvm_functions_text(module: fayasm.Module) -> str:
    """The jit's LLVM IR of every defined function of ``module`` before LLVM sees it
    (no target triple or data layout), with the declarations those functions use. The
    one host-dependent choice (x86's pshufb for i8x16.swizzle) is pinned to x86."""
    from fayasm.translator.llvm.module import ModuleEmitter

    emitter = ModuleEmitter(module)
    emitter.x86 = True
    funcs = emitter.functions()
    return "\n\n".join([f"; {module.name}", *sorted(emitter.decls.values()), *funcs]) + "\n"


@pytest.mark.parametrize("name", CASES)
def test_golden_llvm_ir(name):
    """The unoptimised IR of each golden module's functions is pinned."""
    check_golden(f"{name}.ll.golden", llvm_functions_text(_module(name)))


def test_llvm_ir_golden_text_is_the_same_in_a_fresh_process():
    """Nothing in the pinned IR depends on the process (ids, hash order, addresses)."""
    import subprocess
    import sys

    code = ("import sys; sys.path.insert(0, sys.argv[1]); import fayasm; "
            "from test_golden import _module, llvm_functions_text; "
            "sys.stdout.write(llvm_functions_text(_module('tables')))")
    env = {**__import__("os").environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, str(GOLDEN.parent)], env=env,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert out == llvm_functions_text(_module("tables"))


# -- the check itself -------------------------------------------------------------------------

def test_missing_golden_fails(monkeypatch):
    monkeypatch.delenv("FAYASM_UPDATE_GOLDEN", raising=False)
    with pytest.raises(pytest.fail.Exception, match=r"no golden file nowhere\.golden"):
        check_golden("nowhere.golden", "text\n")
    assert not (GOLDEN / "nowhere.golden").exists()


def test_changed_output_fails_with_a_readable_diff(monkeypatch):
    monkeypatch.delenv("FAYASM_UPDATE_GOLDEN", raising=False)
    expected = (GOLDEN / "arith.wat.golden").read_text()
    changed = expected.replace("i64.add", "i64.sub", 1)
    assert changed != expected
    with pytest.raises(pytest.fail.Exception) as info:
        check_golden("arith.wat.golden", changed)
    message = str(info.value)
    assert "--- golden/arith.wat.golden" in message and "+++ generated" in message
    assert "\n-" in message and "i64.add" in message
    assert "\n+" in message and "i64.sub" in message


def test_update_writes_the_golden(tmp_path, monkeypatch):
    import golden_check

    monkeypatch.setattr(golden_check, "GOLDEN", tmp_path)
    monkeypatch.setenv("FAYASM_UPDATE_GOLDEN", "1")
    check_golden("new.golden", "fresh\n")
    assert (tmp_path / "new.golden").read_text() == "fresh\n"
    monkeypatch.delenv("FAYASM_UPDATE_GOLDEN")
    check_golden("new.golden", "fresh\n")


def test_diff_names_both_sides():
    text = diff("a\nb\n", "a\nc\n", "x.golden")
    assert text.splitlines()[:2] == ["--- golden/x.golden", "+++ generated"]
    assert "-b" in text.splitlines() and "+c" in text.splitlines()

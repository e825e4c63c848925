"""A translated file you can keep and ship (issue 14): it checks, before taking anything
else from the runtime, that the installed runtime serves the interface it needs, and
otherwise fails naming the fayasm version that wrote it and both interface numbers."""
from __future__ import annotations

import importlib.util
import sys

import pytest

import fayasm
from fayasm.runtime import support
from fayasm.translator.python.module import ModuleEmitter

WAT = ('(module (memory 1) (func (export "f") (param i32) (result i32)'
       ' (i32.load8_u (local.get 0))))')
# What this file, translated now, needs: the oldest interface serving what it uses (at most
# support.INTERFACE; every file needs 5: the depth _d of 4, and bind_cells for snapshots).
NEED = ModuleEmitter(fayasm.Module(WAT)).needs_interface()


def test_a_typed_reference_file_needs_the_interface_every_file_needs():
    # Every generated function takes the depth _d (interface 4) and every _make binds its
    # closure-variable globals (5), so a 2.0 module and one using typed references both
    # need 5; none can run on an older runtime.
    typed = fayasm.Module('(module (type $t (func)) (func (param (ref null $t))))')
    assert NEED == ModuleEmitter(typed).needs_interface() == 5
    assert "<= 5 <=" in fayasm.translate(typed)


def test_a_gc_file_needs_interface_6():
    # GC (issue 17): the type section as data (gc_types) and the gcobj/gcops helpers; a
    # module without GC still asks for 5, so older runtimes keep running it.
    gc = fayasm.Module('(module (type $s (struct (field i32))) (func (result anyref) '
                       '(struct.new $s (i32.const 1))))')
    assert ModuleEmitter(gc).needs_interface() == support.INTERFACE == 6
    assert "<= 6 <=" in fayasm.translate(gc)


@pytest.fixture
def translated(tmp_path):
    path = tmp_path / "shipped.py"
    path.write_text(fayasm.translate(fayasm.Module(WAT, name="shipped")))
    return path


def _import(path):
    spec = importlib.util.spec_from_file_location("shipped", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_file_imports_and_runs_on_its_own_runtime(translated):
    assert _import(translated).instantiate().exports.f(0) == 0


@pytest.mark.parametrize("installed", [NEED + 1, NEED - 1])
def test_regression_other_interface_names_the_fayasm_to_use(translated, monkeypatch, installed):
    monkeypatch.setattr(support, "INTERFACE", installed)
    monkeypatch.setattr(support, "OLDEST_INTERFACE", installed)
    monkeypatch.setattr(support, "VERSION", "9.9.9")
    with pytest.raises(fayasm.InterfaceError) as info:
        _import(translated)
    message = str(info.value)
    assert f"translated by fayasm {fayasm.__version__}" in message
    assert f"needs runtime interface {NEED}" in message
    assert f"installed fayasm 9.9.9 has runtime interface {installed}" in message
    assert f"install fayasm {fayasm.__version__}" in message
    # Both a fayasm error and what Python raises for a module that cannot be imported.
    assert isinstance(info.value, ImportError) and isinstance(info.value, fayasm.Error)


def test_newer_runtime_that_still_serves_the_interface_imports_it(translated, monkeypatch):
    monkeypatch.setattr(support, "INTERFACE", NEED + 3)
    monkeypatch.setattr(support, "OLDEST_INTERFACE", NEED)
    assert _import(translated).instantiate().exports.f(0) == 0


def test_old_runtime_without_the_new_names_still_gets_the_message(translated, monkeypatch):
    """A runtime from before OLDEST_INTERFACE, VERSION and InterfaceError existed: the
    check uses only getattr on it, and raises an ImportError."""
    for name in ("OLDEST_INTERFACE", "VERSION", "InterfaceError"):
        monkeypatch.delattr(support, name)
    monkeypatch.setattr(support, "INTERFACE", NEED + 1)
    with pytest.raises(ImportError, match=rf"fayasm {fayasm.__version__} and needs runtime "
                       rf"interface {NEED}; the installed fayasm \(version unknown\) has "
                       rf"runtime interface {NEED + 1}"):
        _import(translated)


def test_regression_checked_before_a_missing_helper_fails(translated, monkeypatch):
    """An older runtime lacking a module the file imports: the interface error, not the
    ModuleNotFoundError of that module."""
    monkeypatch.setitem(sys.modules, "fayasm.runtime.memops", None)  # unimportable
    monkeypatch.setattr(support, "INTERFACE", NEED + 1)
    monkeypatch.setattr(support, "OLDEST_INTERFACE", NEED + 1)
    with pytest.raises(fayasm.InterfaceError, match=f"needs runtime interface {NEED}"):
        _import(translated)


def test_runtime_version_is_fayasms():
    from fayasm.runtime.version import VERSION

    assert fayasm.__version__ == VERSION == support.VERSION

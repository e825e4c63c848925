"""WASI from Python (issue 19): ``fayasm.instantiate(m, wasi=WasiConfig(...))`` on every
engine, a reactor's ``_initialize``, a translated file's ``instantiate(wasi=...)``, and
what a path outside every preopen gives, as wasmtime gives it."""
from __future__ import annotations

import importlib.util
import io
import re
import subprocess
import sys

import pytest
from conftest import REPO

import fayasm
from fayasm.testing.run import wasmtime_available

EXAMPLES = REPO / "examples"
HELLO = EXAMPLES / "hello.wasm"

REACTOR = """(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $es (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $inited (mut i32) (i32.const 0))
  (data (i32.const 16) "hi\\n")
  (func (export "_initialize") (global.set $inited (i32.add (global.get $inited) (i32.const 1))))
  (func (export "inited") (result i32) (global.get $inited))
  (func (export "nenv") (result i32)
    (drop (call $es (i32.const 0) (i32.const 4))) (i32.load (i32.const 0)))
  (func (export "hello") (result i32)
    (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.load (i32.const 8))))"""


def test_instantiate_with_wasi_runs_a_reactor(engine):
    out = io.BytesIO()
    config = fayasm.WasiConfig(env={"A": "1", "B": "2"}, stdout=out)
    inst = fayasm.instantiate(fayasm.Module(REACTOR), engine=engine, wasi=config)
    assert inst.exports.inited() == 1  # _initialize ran once, before any other export
    assert inst.exports.nenv() == 2
    assert inst.exports.hello() == 3 and out.getvalue() == b"hi\n"
    assert inst.wasi.memory is inst.exports.memory
    inst.wasi.close()


def test_instantiate_with_wasi_runs_a_command_when_asked(engine):
    out = io.BytesIO()
    config = fayasm.WasiConfig(argv=["hello", "Ada", "/ex/hello.c"],
                               preopens={"/ex": (str(EXAMPLES), "ro")}, stdout=out)
    inst = fayasm.instantiate(fayasm.Module.from_file(HELLO), engine=engine, wasi=config)
    assert out.getvalue() == b""  # a command's _start is the caller's to run
    inst.exports._start()
    assert out.getvalue().decode().splitlines() == [
        "Hello from WebAssembly! (hello, 2 arguments)", "Hello, Ada!",
        "/ex/hello.c: 41 lines, 1294 bytes"]


def test_missing_wasi_says_how_to_give_it():
    with pytest.raises(fayasm.LinkError) as info:
        fayasm.instantiate(fayasm.Module.from_file(HELLO), engine="interpreter")
    assert "pass wasi=fayasm.WasiConfig" in str(info.value).splitlines()[0]
    both = REACTOR.replace('(func (export "inited")',
                           '(func (export "_start")) (func (export "inited")')
    with pytest.raises(fayasm.LinkError, match="both _start and _initialize"):
        fayasm.instantiate(both, engine="interpreter", wasi=fayasm.WasiConfig())
    with pytest.raises(fayasm.ArgumentTypeError):
        fayasm.instantiate(REACTOR, engine="interpreter", wasi={"argv": []})


def _translated(tmp_path, source, name):
    from fayasm.cli import main

    out = tmp_path / f"{name}.py"
    assert main(["translate", str(source), "-o", str(out)]) == 0
    spec = importlib.util.spec_from_file_location(name, out)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, out


def test_a_translated_file_takes_a_wasi_config(tmp_path):
    hello, _ = _translated(tmp_path, HELLO, "hello")
    out = io.BytesIO()
    inst = hello.instantiate(wasi=fayasm.WasiConfig(
        argv=["hello", "/ex/hello.c"], preopens={"/ex": str(EXAMPLES)}, stdout=out))
    inst.exports._start()
    assert out.getvalue().decode().splitlines()[-1] == "/ex/hello.c: 41 lines, 1294 bytes"
    with pytest.raises(fayasm.LinkError, match=r"wasi=fayasm\.WasiConfig"):
        hello.instantiate()
    (tmp_path / "r.wat").write_text(REACTOR)
    reactor, _ = _translated(tmp_path, tmp_path / "r.wat", "reactor")
    inst = reactor.instantiate(wasi=fayasm.WasiConfig(stdout=io.BytesIO()))
    assert inst.exports.inited() == 1
    with pytest.raises(fayasm.ArgumentError, match="--metered"):
        reactor.instantiate(fuel=5, wasi=fayasm.WasiConfig())  # fuel needs a metered translation


def _hello_lines(args, engine="interpreter"):
    out = io.BytesIO()
    config = fayasm.WasiConfig(argv=["hello"] + args, preopens={"examples": str(EXAMPLES)},
                               stdout=out)
    code = fayasm.run(fayasm.Module.from_file(HELLO), wasi=config, engine=engine)
    return code, out.getvalue().decode().splitlines()[1:]


def _wasmtime_hello_lines(args, tmp_path):
    import wasmtime

    store = wasmtime.Store(wasmtime.Engine())
    cfg = wasmtime.WasiConfig()
    cfg.argv = ["hello"] + args
    cfg.preopen_dir(str(EXAMPLES), "examples")
    cfg.stdout_file = str(tmp_path / "out")
    store.set_wasi(cfg)
    linker = wasmtime.Linker(store.engine)
    linker.define_wasi()
    inst = linker.instantiate(store, wasmtime.Module.from_file(store.engine, str(HELLO)))
    try:
        inst.exports(store)["_start"](store)
        code = 0
    except wasmtime.ExitTrap as e:
        code = e.code
    return code, (tmp_path / "out").read_text().splitlines()[1:]


ESCAPES = ["/etc/passwd", "examples/../../etc/passwd", "/examples/hello.c"]


def test_paths_outside_the_preopens_fail_as_on_wasmtime_and_as_the_readme_says(engine, tmp_path):
    code, lines = _hello_lines(ESCAPES, engine)
    assert code == 1 and lines == [
        "/etc/passwd: cannot open: Capabilities insufficient",  # wasi-libc: no preopen
        "examples/../../etc/passwd: cannot open: Operation not permitted",  # the host: EPERM
        "/examples/hello.c: 41 lines, 1294 bytes"]
    if wasmtime_available():
        assert _wasmtime_hello_lines(ESCAPES, tmp_path) == (code, lines)
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### Run WASI programs"):]
    said = " ".join(section[:section.index("\n## ")].split())
    assert "Capabilities insufficient" in said and "EPERM" in said
    assert re.search(r"absolute path[^.]*no preopen[^.]*ENOTCAPABLE", said), said


def test_readme_wasi_reactor_example_runs():
    readme = (REPO / "README.md").read_text()
    block = readme[readme.index("### Call a WASI library from Python"):]
    code = block.split("```python\n", 1)[1].split("```", 1)[0]
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip(), "the example prints what it computed"

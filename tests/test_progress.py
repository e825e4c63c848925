"""The progress line (runtime/progress.py, fayasm/cli_progress.py): the jit's compiles
that take over a second show on stderr, out of the guest's way, and only when wanted."""
from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

import fayasm
from fayasm import cli_progress, engines
from fayasm.runtime import progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def line():
    stream = Tty()
    sink = cli_progress.Line(stream, tty=True, delay=1.0)
    old = progress.set_sink(sink)
    yield sink, stream
    progress.set_sink(old)
    sink.close()


def test_a_short_task_shows_nothing(line):
    sink, stream = line
    with progress.task("jit: compiling m at O2", 10) as t:
        t.update(5)
        sink.draw(t.started + 0.5)
    sink.draw(t.started + 5)
    assert stream.getvalue() == ""


def test_a_long_task_shows_then_is_erased(line):
    sink, stream = line
    t = progress.task("jit: O2 build of m", 2013)
    t.update(340, None, "lowering")
    sink.draw(t.started + 2.2)
    assert stream.getvalue() == ("\rfayasm: jit: O2 build of m, lowering, 340/2013 functions,"
                                 " 2 s\x1b[K")
    t.finish()
    assert stream.getvalue().endswith("\r\x1b[K")


def test_guest_output_erases_the_line_and_a_partial_line_is_not_drawn_over(line):
    sink, stream = line
    t = progress.task("jit: O2 build of m", 10)
    sink.draw(t.started + 2)
    progress.guest_output(b"hello")  # the guest's line is not finished
    assert stream.getvalue().endswith("\r\x1b[K")
    n = len(stream.getvalue())
    sink.draw(t.started + 3)
    assert len(stream.getvalue()) == n
    progress.guest_output(b" world\n")
    sink.draw(t.started + 4)
    assert stream.getvalue().endswith("4 s\x1b[K")
    t.finish()


def test_names_from_the_module_reach_the_terminal_as_text():
    t = progress.Task("jit: compiling \x1b[2J\x07evil")
    assert "\x1b" not in cli_progress.describe(t, t.started) and "?[2J?evil" in \
        cli_progress.describe(t, t.started)


def test_not_a_terminal_gets_plain_lines():
    stream = io.StringIO()
    sink = cli_progress.Line(stream, tty=False, delay=1.0)
    t = progress.Task("jit: O2 build of m", 4)
    sink.changed(t)
    sink.draw(t.started + 1.5)
    t.ended = True
    sink.changed(t)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "fayasm: jit: O2 build of m, 0/4 functions, 2 s"
    assert lines[-1].startswith("fayasm: jit: O2 build of m") and lines[-1].endswith(": done")
    sink.close()


@pytest.mark.parametrize("setting,tty,want", [("", False, False), ("", True, True),
                                              ("0", True, False), ("1", False, True)])
def test_wanted(monkeypatch, setting, tty, want):
    monkeypatch.setenv("FAYASM_PROGRESS", setting)
    stream = Tty() if tty else io.StringIO()
    assert cli_progress.wanted(stream) is want


@pytest.mark.skipif("jit" not in engines.available(), reason="llvmlite missing")
def test_regression_a_slow_compile_on_the_command_line_shows_its_progress(tmp_path):
    """Issue 18: a compile that takes over a second shows the jit's progress; with
    FAYASM_PROGRESS=0, nothing is printed."""
    funcs = "\n".join(f'(func (export "f{i}") (result i32) (i32.const {i}))' for i in range(300))
    path = tmp_path / "m.wasm"
    path.write_bytes(fayasm.Module(f"(module {funcs})").binary)
    # LLVM made slow: every build sleeps 1.5 s (the module compiles whole at O2).
    code = ("import sys, time; from fayasm.translator.llvm import jit; real = jit._build_object; "
            "jit._build_object = lambda *a, **k: (time.sleep(1.5), real(*a, **k))[1]; "
            "from fayasm.cli import main; sys.exit(main(sys.argv[1:]))")
    for setting in ("1", "0"):
        env = dict(os.environ, FAYASM_PROGRESS=setting, FAYASM_CACHE="0")
        r = subprocess.run([sys.executable, "-c", code, "run", str(path), "--invoke", "f7"],
                           capture_output=True, text=True, timeout=300, env=env)
        assert r.returncode == 0, r.stderr
        assert r.stdout == "7\n"
        if setting == "1":
            assert "fayasm: jit: compiling m at O2" in r.stderr and ": done" in r.stderr
        else:
            assert r.stderr == ""

"""The WAST runner's bookkeeping: every command of every script is counted, whether the
script could be read or not."""
from __future__ import annotations

import pytest
from conftest import spec_files

from fayasm.cli import main
from fayasm.wast.parse import count_commands, parse_script


def test_count_commands_matches_the_parser_on_the_2_0_suite():
    files = spec_files("2.0")
    if not files:
        pytest.skip("spec suite not found (set FAYASM_SPEC_DIR)")
    for path in files:
        text = path.read_text()
        assert count_commands(text) == len(parse_script(text)), path.name


def test_count_commands_skips_strings_and_comments():
    text = '(module) ;; (x)\n(; (a) (; (b) ;) ;) (assert_return (invoke "f" ")(\\""))'
    assert count_commands(text) == 2
    assert count_commands("(func) (memory 0)") == 1  # one inline module
    assert count_commands("  \n") == 0
    assert count_commands("garbage") == 1


def test_unreadable_script_counts_its_commands_as_failed(tmp_path, capsys):
    """A script the parser could not read was reported as one failure and its commands as
    nothing: a 3.0 run printed '0 not run' with 120 files unread."""
    good = tmp_path / "good.wast"
    good.write_text('(module (func (export "f") (result i32) (i32.const 1)))\n'
                    '(assert_return (invoke "f") (i32.const 1))\n')
    bad = tmp_path / "bad.wast"
    bad.write_text("(module (func (export \"f\") (result i32) (i32.fancy 1)))\n"
                   "(assert_return (invoke \"f\") (i32.const 1))\n"
                   "(assert_trap (invoke \"f\") \"x\")\n")
    code = main(["wast", "--engine", "interpreter", str(good), str(bad)])
    out = capsys.readouterr()
    assert code == 1
    assert "3 commands not run, counted as failed" in out.err
    assert "total: 2 passed, 3 failed, 0 not run" in out.out


def test_a_run_with_nothing_failed_exits_zero(tmp_path, capsys):
    good = tmp_path / "good.wast"
    good.write_text('(module (func (export "f") (result i32) (i32.const 1)))\n'
                    '(assert_return (invoke "f") (i32.const 1))\n')
    assert main(["wast", "--engine", "interpreter", str(good)]) == 0

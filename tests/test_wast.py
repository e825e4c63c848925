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


SCRIPT_3_0 = """
(module definition $M
  (type $t (func (result i32)))
  (global $g (export "g") (mut i32) (i32.const 0))
  (func $f (type $t) (global.set $g (i32.add (global.get $g) (i32.const 1))) (global.get $g))
  (elem declare func $f)
  (func (export "bump") (result i32) (call_ref $t (ref.func $f)))
  (func (export "null") (result (ref null $t)) (ref.null $t))
  (func (export "some") (result (ref $t)) (ref.func $f))
  (func (export "ext") (param externref) (result externref) (local.get 0)))
(module instance $I1 $M)
(module instance $I2 $M)
(assert_return (invoke $I1 "bump") (i32.const 1))
(assert_return (invoke $I1 "bump") (i32.const 2))
(assert_return (invoke $I2 "bump") (i32.const 1))
(assert_return (invoke $I2 "null") (ref.null))
(assert_return (invoke $I2 "null") (ref.null func))
(assert_return (invoke $I2 "some") (ref.func))
(assert_return (invoke $I2 "ext" (ref.extern 4)) (ref.extern))
(assert_return (invoke $I2 "ext" (ref.extern 4)) (ref.extern 4))
(assert_invalid (module (func (param (ref 7)))) "unknown type")
(assert_invalid (module (type $a (func (param (ref $b)))) (type $b (func))) "unknown type")
"""


def test_3_0_script_forms_run():
    from fayasm.wast.runner import PASSED, Runner

    report = Runner("interpreter").run(parse_script(SCRIPT_3_0))
    assert [o.detail for o in report.failures] == []
    assert report.count(PASSED) == len(report.outcomes) == 13


def test_reference_patterns_do_not_match_the_other_kind():
    from fayasm.wast.runner import FAILED, Runner

    script = SCRIPT_3_0.split("(module instance $I2 $M)")[0] + """
(assert_return (invoke $I1 "null") (ref.null extern))
(assert_return (invoke $I1 "null") (ref.func))
(assert_return (invoke $I1 "some") (ref.null))
(assert_return (invoke $I1 "ext" (ref.extern 4)) (ref.func))
"""
    report = Runner("interpreter").run(parse_script(script))
    assert report.count(FAILED) == 4


def test_either_matches_any_alternative_and_only_those(tmp_path, capsys):
    """``(either r+)`` (the relaxed SIMD files): one of the results, each a constant or a
    pattern; a result matching none fails, and an empty either does not parse."""
    from fayasm.wast.script import EitherPattern

    script = ('(module (func (export "f") (result i32 f32) (i32.const 2) (f32.const nan)))\n'
              '(assert_return (invoke "f") (either (i32.const 1) (i32.const 2))'
              ' (either (f32.const 0) (f32.const nan:canonical)))\n'
              '(assert_return (invoke "f") (either (i32.const 1) (i32.const 3))'
              ' (f32.const nan:canonical))\n')
    cmds = parse_script(script)
    assert isinstance(cmds[1].results[0], EitherPattern)
    assert len(cmds[1].results[0].options) == 2
    path = tmp_path / "either.wast"
    path.write_text(script)
    assert main(["wast", "--engine", "interpreter", str(path)]) == 1
    assert "total: 2 passed, 1 failed, 0 not run" in capsys.readouterr().out
    with pytest.raises(fayasm_error()):
        parse_script('(assert_return (invoke "f") (either))')


def fayasm_error():
    import fayasm

    return fayasm.Error


def test_custom_assertions_need_the_annotation_error_they_name():
    """assert_malformed_custom passes on an annotation's own error only: not on another
    parse error, not on an accepted module; assert_invalid_custom likewise."""
    from fayasm.wast.runner import FAILED, PASSED, Runner

    passing = r"""
(assert_malformed_custom (module quote "(@custom)") "@custom annotation: missing section name")
(assert_malformed_custom (module quote "(func (@custom \"x\"))") "misplaced @custom annotation")
(assert_invalid_custom (module (func (@metadata.code.branch_hint "\01") nop))
  "@metadata.code.branch_hint annotation: invalid target")
"""
    failing = r"""
(assert_malformed_custom (module quote "(@custom)") "@custom annotation: malformed placement")
(assert_malformed_custom (module quote "(func (nop nop))") "unexpected token")
(assert_malformed_custom (module quote "(@custom \"x\")") "@custom annotation: missing")
(assert_invalid_custom (module (func (i32.const 0) drop drop)) "type mismatch")
(assert_invalid_custom (module (func)) "@metadata.code.branch_hint annotation: invalid target")
"""
    report = Runner("interpreter").run(parse_script(passing))
    assert [o.detail for o in report.failures] == [] and report.count(PASSED) == 3
    report = Runner("interpreter").run(parse_script(failing))
    assert report.count(FAILED) == 5
    assert {o.kind for o in report.outcomes} == {"assert_malformed_custom",
                                                 "assert_invalid_custom"}

"""Text annotations (fayasm/text/annotations.py): skipped where they have no meaning,
custom sections, names and branch hints where they have one, errors with the spec's words."""
from __future__ import annotations

import pytest

import fayasm
from fayasm.binary import decode, encode
from fayasm.errors import AnnotationError, AnnotationInvalid, ParseError
from fayasm.runtime.limits import MAX_TEXT_DEPTH
from fayasm.syntax import Custom
from fayasm.text import parse_module
from fayasm.text.printer import print_module


def test_annotations_without_meaning_are_white_space():
    m = parse_module('((@a) module (@b x (y) "z" 1.5 @# (@c)) (func (@d) (export "f")'
                     ' (result i32) (@e) (i32.const 7)) (@f))')
    inst = fayasm.instantiate(fayasm.Module(encode(m)), engine="interpreter")
    assert inst.exports.f() == 7 and m.customs == []


def test_custom_sections_are_placed_as_written():
    m = parse_module("""(module (@custom "a" "1" "2") (@custom "b" (before first) "")
      (@custom "c" (after func) "x") (@custom "d" (before global) "") (func)
      (global i32 (i32.const 0)) (@custom "e" (after last)))""")
    assert m.customs == [Custom("a", b"12", 11), Custom("b", b"", 0), Custom("c", b"x", 3),
                         Custom("d", b"", 5), Custom("e", b"", 11)]
    again = decode(encode(m))
    # In the binary: b before the type section, c after func, d right before global.
    assert [c.name for c in again.customs] == ["b", "c", "d", "a", "e"]
    assert encode(again) == encode(m)
    # The printer writes them back as annotations: printing and parsing keeps them.
    assert parse_module(print_module(again)).customs == again.customs


def test_name_annotations_name_the_module_and_functions():
    m = parse_module('(module $m (@name "Modül") (import "a" "b" (func $i (@name "ι")))'
                     ' (func $f (@name "λ")) (func $g))')
    assert m.names.module == "Modül" and m.names.funcs == {0: "ι", 1: "λ", 2: "g"}
    named = decode(encode(m, names=True)).names
    assert named.module == "Modül" and named.funcs[1] == "λ"
    # The printer writes names that are no identifier as (@name ...), so they come back.
    again = parse_module(print_module(m)).names
    assert again.module == "Modül" and again.funcs == m.names.funcs


def test_name_annotations_name_tags():
    # custom/name_annot.wast's last module (left unread until tags had their @name).
    m = parse_module('(module (type $t (func)) (tag (@name "θ") (type $t))'
                     ' (tag $theta (@name "Θ") (type $t)) (tag $plain (type $t)))')
    assert m.names.tags == {0: "θ", 1: "Θ", 2: "plain"}


@pytest.mark.parametrize("text, message", [
    ("(@custom)", "@custom annotation: missing section name"),
    ('(@custom "x" (after))', "@custom annotation: malformed section kind"),
    ('(@custom "x" (aft type))', "@custom annotation: malformed placement"),
    ('(@custom "x" (after first))', "@custom annotation: malformed placement"),
    ('(@custom "x" 5)', "@custom annotation: unexpected token"),
    ('(func (@custom "x"))', "misplaced @custom annotation"),
    ('(module (@name "a") (@name "b"))', "@name annotation: multiple module names"),
    ('(module (func) (@name "M"))', "misplaced @name annotation"),
    ('(func $f (@name "a") (@name "b"))', "@name annotation: multiple function names"),
    ('(tag $t (@name "a") (@name "b"))', "@name annotation: multiple tag names"),
    ('(@metadata.code.branch_hint "\\01") (func)',
     "@metadata.code.branch_hint annotation: not in a function"),
    ('(func (@metadata.code.branch_hint "\\02") (if (i32.const 0) (then)))',
     "@metadata.code.branch_hint annotation: malformed value"),
])
def test_malformed_meaningful_annotations(text, message):
    with pytest.raises(AnnotationError, match=message.replace("(", r"\(")):
        parse_module(text)


@pytest.mark.parametrize("text, message", [
    ("(@)", "empty annotation id"),
    ('(@"")', "empty annotation id"),
    ("(@x (y)", "unclosed annotation"),
    ("(@x \x01)", "illegal character"),
    ("(@x caf\u00e9)", "illegal character"),
    ("(@x))", "unexpected token"),
    ("( @x)", "unknown operator"),
])
def test_malformed_annotations_are_parse_errors(text, message):
    with pytest.raises(ParseError, match=message) as e:
        parse_module(text)
    assert not isinstance(e.value, AnnotationError)


def test_branch_hints_stand_before_a_branch():
    ok = ('(func (param i32) (@metadata.code.branch_hint "\\01") (if (local.get 0) (then))'
          ' (local.get 0) (@metadata.code.branch_hint "\\00") br_if 0)')
    parse_module(ok)
    with pytest.raises(AnnotationInvalid, match="invalid target"):
        parse_module('(func (@metadata.code.branch_hint "\\01") nop)')
    with pytest.raises(AnnotationError, match="duplicate annotation"):
        parse_module('(func (@metadata.code.branch_hint "\\01") (@metadata.code.branch_hint'
                     ' "\\01") (if (i32.const 0) (then)))')


def test_deeply_nested_annotation_is_an_error_not_a_crash():
    deep = MAX_TEXT_DEPTH + 10
    with pytest.raises(ParseError, match="nesting too deep"):
        parse_module("(@a " + "(" * deep + ")" * deep + ")")
    parse_module("(@a " + "(x " * 500 + ")" * 500 + ") (func)")


def test_branch_hints_are_written_as_their_section():
    """The hints go in the binary as metadata.code.branch_hint, before the code section,
    at each branch's byte offset in its body; the printer writes them back inline."""
    text = r"""(module (func $d) (func (param i32 i32) (result i32)
      (@metadata.code.branch_hint "\00")
      (if (result i32) (local.get 0)
        (then (if (local.get 1) (then (call $d)))
              (@metadata.code.branch_hint "\01") (br_if 0 (i32.const 9) (local.get 1)))
        (else (i32.const 11)))))"""
    m = parse_module(text)
    assert m.branch_hints == {1: {1: 0, 8: 1}}
    assert parse_module(print_module(m)).branch_hints == m.branch_hints
    wasm = encode(m)
    # function 1: the if at byte 3 of its body (after the locals byte and local.get 0),
    # the br_if at byte 16; each hint of size 1.
    section = b"\x19metadata.code.branch_hint" + b"\x01\x01\x02" + b"\x03\x01\x00" \
        + b"\x10\x01\x01"
    assert b"\x00" + bytes([len(section)]) + section + b"\x0a" in wasm
    hints = decode(wasm).customs[0]
    assert hints.name == "metadata.code.branch_hint" and hints.data == section[26:]
    assert encode(decode(wasm)) == wasm

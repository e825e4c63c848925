"""Front-end bugs found by scripts/fuzz_frontend.py, one test each, named after the bug."""
from __future__ import annotations

import fayasm
from fayasm.binary.leb128 import encode_u
from fayasm.binary.names import decode_names
from fayasm.text import parse_module
from fayasm.text.printer import print_module


def _module(body: bytes) -> bytes:
    """A module of one function () -> () with ``body`` (its final end included)."""
    def section(sid: int, payload: bytes) -> bytes:
        return bytes([sid]) + encode_u(len(payload)) + payload

    entry = b"\x00" + body
    return (b"\0asm\x01\0\0\0" + section(1, b"\x01\x60\x00\x00") + section(3, b"\x01\x00")
            + section(10, b"\x01" + encode_u(len(entry)) + entry))


def test_printer_indentation_of_deep_nesting_is_bounded():
    # The printer indented each instruction by its depth: a body nested n deep printed
    # as about n^2 spaces (100,000 blocks, ~10^10 characters: a MemoryError or hang).
    depth = 3000
    m = fayasm.Module(_module(b"\x02\x40" * depth + b"\x0b" * depth + b"\x0b"))
    text = print_module(m.syntax)
    assert len(text) < 100 * 2 * depth, len(text)
    assert parse_module(text).funcs == m.syntax.funcs


def test_name_subsection_size_past_the_end_is_ignored():
    # A name subsection whose size passed the end of the section by the size's own byte
    # made the decoder index past the data: IndexError escaped Module(). A malformed name
    # section is ignored, as custom sections never make a module malformed.
    names = b"\x02\x09" + b"\x02\x00\x01\x00\x03aaa"  # 9 announced, 8 there
    assert decode_names(names, 1) is None
    custom = b"\x04name" + names
    m = fayasm.Module(_module(b"\x0b") + b"\x00" + encode_u(len(custom)) + custom)
    assert m.syntax.names.locals == {}

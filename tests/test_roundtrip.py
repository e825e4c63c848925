"""Round trips over every module of the spec suite: binary -> AST -> binary, and
AST -> WAT -> AST (the printer's output parses back to the same module, and printing is
stable)."""
from __future__ import annotations

import pytest
from conftest import require_spec, spec_files

from fayasm.binary import decode, encode
from fayasm.text import parse_module
from fayasm.text.printer import print_module
from fayasm.wast.parse import parse_script
from fayasm.wast.script import AssertInvalid, AssertTrap, AssertUnlinkable, ModuleDef

FILES = spec_files()


def _modules(path):
    """Every module of a script that must decode or parse: all but the malformed ones."""
    for cmd in parse_script(path.read_text(encoding="utf-8"), source=str(path)):
        d = cmd if isinstance(cmd, ModuleDef) else getattr(cmd, "module", None) or \
            getattr(cmd, "action", None)
        if not isinstance(d, ModuleDef):
            continue
        if isinstance(cmd, (ModuleDef, AssertInvalid, AssertUnlinkable, AssertTrap)):
            if d.kind == "text":
                yield d.line, d.module, False
            elif d.kind == "binary":
                yield d.line, decode(d.data), True
            else:
                yield d.line, parse_module(d.data), False


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_round_trips(path):
    require_spec()
    for line, m, binary in _modules(path):
        assert decode(encode(m)) == m, f"line {line}: binary round trip"
        text = print_module(m)
        again = parse_module(text)
        if binary:
            # The data count section belongs to the binary format; the text has no way to
            # write it. Custom sections print as (@custom ...) annotations and come back.
            again.data_count = m.data_count
        assert again == m, f"line {line}: print -> parse changed the module:\n{text[:2000]}"
        assert print_module(again) == text, f"line {line}: printing is not stable"

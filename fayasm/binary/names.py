"""The name custom section, read leniently.

Subsections 0 (module), 1 (functions) and 2 (locals) are the core spec's; 4-9 and 11
(types, tables, memories, globals, elem and data segments, tags) come from the extended
name section. A malformed name section must not make the module malformed (custom
sections never do), so decoding returns None instead of raising.
"""
from __future__ import annotations

from fayasm.errors import DecodeError
from fayasm.syntax import Names

from .leb128 import encode_u
from .reader import Reader

# Subsection id -> the Names field holding a plain index -> name map.
_MAPS = {1: "funcs", 4: "types", 5: "tables", 6: "mems", 7: "globals", 8: "elems",
         9: "datas", 11: "tags"}


def _name_map(r: Reader) -> dict[int, str]:
    return {r.u32(): r.name() for _ in range(r.length())}


def decode_names(data: bytes, num_funcs: int) -> Names | None:
    names = Names()
    r = Reader(data)
    try:
        while not r.eof():
            sid = r.byte()
            size = r.length()
            end = r.pos + size
            if end > r.end:
                # length() allows the size's own bytes too; a sub-reader must not pass
                # the data (its one-byte fast paths index the data directly).
                raise r.error("length out of bounds")
            sub = Reader(data, r.pos, end)
            if sid == 0:
                names.module = sub.name()
            elif sid in _MAPS:
                setattr(names, _MAPS[sid], _name_map(sub))
            elif sid == 2:
                for _ in range(sub.length()):
                    func = sub.u32()
                    names.locals[func] = _name_map(sub)
            r.pos = end
    except DecodeError:
        return None
    return names


def _name(s: str) -> bytes:
    raw = s.encode("utf-8")
    return encode_u(len(raw)) + raw


def _map(m: dict[int, str]) -> bytes:
    out = bytearray(encode_u(len(m)))
    for idx in sorted(m):
        out += encode_u(idx) + _name(m[idx])
    return bytes(out)


def encode_names(names: Names) -> bytes:
    """The name section's payload; subsections in increasing id order, as the spec asks."""
    out = bytearray()

    def sub(sid: int, payload: bytes) -> None:
        out.append(sid)
        out.extend(encode_u(len(payload)))
        out.extend(payload)

    if names.module is not None:
        sub(0, _name(names.module))
    for sid in sorted([*_MAPS, 2]):
        if sid == 2:
            if names.locals:
                payload = bytearray(encode_u(len(names.locals)))
                for func in sorted(names.locals):
                    payload += encode_u(func) + _map(names.locals[func])
                sub(2, bytes(payload))
        elif getattr(names, _MAPS[sid]):
            sub(sid, _map(getattr(names, _MAPS[sid])))
    return bytes(out)

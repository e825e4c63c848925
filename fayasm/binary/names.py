"""The name custom section (module, function and local names), read leniently.

A malformed name section must not make the module malformed (custom sections never do),
so decoding returns None instead of raising.
"""
from __future__ import annotations

from fayasm.errors import DecodeError
from fayasm.syntax import Names

from .leb128 import encode_u
from .reader import Reader


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
            sub = Reader(data, r.pos, end)
            if sid == 0:
                names.module = sub.name()
            elif sid == 1:
                names.funcs = _name_map(sub)
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
    out = bytearray()

    def sub(sid: int, payload: bytes) -> None:
        out.append(sid)
        out.extend(encode_u(len(payload)))
        out.extend(payload)

    if names.module is not None:
        sub(0, _name(names.module))
    if names.funcs:
        sub(1, _map(names.funcs))
    if names.locals:
        payload = bytearray(encode_u(len(names.locals)))
        for func in sorted(names.locals):
            payload += encode_u(func) + _map(names.locals[func])
        sub(2, bytes(payload))
    return bytes(out)

"""Inputs for the front-end fuzzer (scripts/fuzz_frontend.py): a corpus of seed modules
and the mutators that break them, binary and text.

Every mutator is ``f(rng, data, corpus) -> data`` with ``rng`` a ``random.Random``; an
input is a function of the seed and its index alone (``make_input``), so any finding can
be made again. Binary mutators work on a loose section model (id, payload) and re-encode
section sizes unless breaking them is the point.
"""
from __future__ import annotations

import glob
import os
import random
import re
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
HEADER = b"\0asm\x01\0\0\0"

TYPE, IMPORT, FUNCTION, TABLE, MEMORY, GLOBAL, EXPORT, START, ELEMENT, CODE, DATA, \
    DATACOUNT = range(1, 13)
ORDER = [TYPE, IMPORT, FUNCTION, TABLE, MEMORY, GLOBAL, EXPORT, START, ELEMENT, DATACOUNT,
         CODE, DATA]
VALTYPES = [0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F]
U32_EDGES = [0, 1, 2, 3, 7, 0x3F, 0x40, 0x7F, 0x80, 0xFF, 0x3FFF, 0x4000, 0xFFFF, 0x10000,
             49_999, 50_000, 50_001, 65_536, 65_537, 100_000, 1 << 24, 0x7FFF_FFFF,
             0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF]


# ---------------------------------------------------------------- LEB128

def uleb(value: int, pad: int = 0) -> bytes:
    """Unsigned LEB128 of ``value``, made ``pad`` bytes longer than needed (over-long)."""
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value or pad:
            out.append(b | 0x80)
            if not value:
                break
        else:
            out.append(b)
            return bytes(out)
    # Over-long: continuation bytes carrying zeros, then a final zero.
    out.extend(b"\x80" * (pad - 1))
    out.append(0)
    return bytes(out)


def sleb(value: int, pad: int = 0) -> bytes:
    """Signed LEB128 of ``value``, ``pad`` bytes longer than needed (sign-extending)."""
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        done = (value == 0 and not b & 0x40) or (value == -1 and b & 0x40)
        if done and not pad:
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)
        if done:
            break
    fill = 0x7F if value == -1 else 0x00
    out.extend(bytes([fill | 0x80]) * (pad - 1))
    out.append(fill)
    return bytes(out)


def overflowing_uleb(bits: int = 32) -> bytes:
    """A LEB128 of the longest allowed length whose last byte has bits past ``bits`` set:
    "integer too large"."""
    n = -(-bits // 7)
    used = bits - 7 * (n - 1)
    return b"\xff" * (n - 1) + bytes([0x7F & ~((1 << used) - 1) | 1 << used])


def read_uleb(data: bytes, pos: int, limit: int = 10):
    """(value, end) of the LEB128 at ``pos``, or None if it runs off the data or ``limit``."""
    result = shift = 0
    start = pos
    while pos < len(data) and pos - start < limit:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, pos
    return None


def pick_u32(rng: random.Random, near: int | None = None) -> int:
    r = rng.random()
    if near is not None and r < 0.3:
        return max(0, near + rng.choice([-1, 1, 2, 1000]))
    if r < 0.7:
        return rng.choice(U32_EDGES)
    return rng.getrandbits(rng.choice([4, 8, 16, 32]))


def log_uniform(rng: random.Random, lo: int, hi: int) -> int:
    return int(round(lo * (hi / lo) ** rng.random()))


# ---------------------------------------------------------------- section model

@dataclass
class Parsed:
    """A module as its sections; ``tail`` holds whatever did not parse as a section."""

    sections: list  # [[id, payload bytes]]
    header: bytes = HEADER
    tail: bytes = b""

    def find(self, sid: int) -> int | None:
        for k, (s, _) in enumerate(self.sections):
            if s == sid:
                return k
        return None

    def join(self) -> bytes:
        out = bytearray(self.header)
        for sid, payload in self.sections:
            out.append(sid & 0xFF)
            out += uleb(len(payload))
            out += payload
        out += self.tail
        return bytes(out)


def split(data: bytes) -> Parsed:
    """Sections of a binary, loosely: a non-module becomes a header with a tail."""
    if len(data) < 8:
        return Parsed([], data[:8], data[8:])
    sections = []
    pos = 8
    while pos < len(data):
        r = read_uleb(data, pos + 1, 5)
        if r is None or r[1] + r[0] > len(data):
            break
        size, p = r
        sections.append([data[pos], data[p:p + size]])
        pos = p + size
    return Parsed(sections, data[:8], data[pos:])


def vec_split(payload: bytes):
    """(count, the bytes after it) of a vector payload, or None."""
    r = read_uleb(payload, 0, 5)
    return None if r is None else (r[0], payload[r[1]:])


def vec_append(payload: bytes | None, item: bytes) -> tuple[bytes, int]:
    """The vector with ``item`` appended, and the item's index."""
    v = vec_split(payload) if payload else (0, b"")
    if v is None:
        v = (0, b"")
    count, rest = v
    return uleb(count + 1) + rest + item, count


def put_section(p: Parsed, sid: int, payload: bytes) -> None:
    """Replace section ``sid``, or insert it where the section order puts it."""
    k = p.find(sid)
    if k is not None:
        p.sections[k][1] = payload
        return
    rank = ORDER.index(sid)
    at = len(p.sections)
    for j, (s, _) in enumerate(p.sections):
        if s in ORDER and ORDER.index(s) > rank:
            at = j
            break
    p.sections.insert(at, [sid, payload])


def section_payload(p: Parsed, sid: int) -> bytes | None:
    k = p.find(sid)
    return None if k is None else p.sections[k][1]


def func_type_bytes(params, results) -> bytes:
    return b"\x60" + uleb(len(params)) + bytes(params) + uleb(len(results)) + bytes(results)


def add_function(p: Parsed, params=(), results=(), locals_vec: bytes = b"\x00",
                 body: bytes = b"\x0b", export: bytes | None = None) -> None:
    """Append a type, a function of that type and its code entry (``locals_vec`` is the
    encoded local declarations, ``body`` ends with its ``end``)."""
    types, tidx = vec_append(section_payload(p, TYPE), func_type_bytes(params, results))
    put_section(p, TYPE, types)
    funcs, _ = vec_append(section_payload(p, FUNCTION), uleb(tidx))
    put_section(p, FUNCTION, funcs)
    entry = locals_vec + body
    code, fidx = vec_append(section_payload(p, CODE), uleb(len(entry)) + entry)
    put_section(p, CODE, code)
    if export is not None:
        n_imported = _imported_funcs(p)
        exports, _ = vec_append(section_payload(p, EXPORT),
                                uleb(len(export)) + export + b"\x00" + uleb(fidx + n_imported))
        put_section(p, EXPORT, exports)


def _imported_funcs(p: Parsed) -> int:
    """How many function imports the import section has (0 if it does not parse)."""
    payload = section_payload(p, IMPORT)
    v = vec_split(payload) if payload else None
    if not v:
        return 0
    count, rest = v
    pos, n = 0, 0
    try:
        for _ in range(count):
            for _ in range(2):
                ln, pos = read_uleb(rest, pos, 5)
                pos += ln
            kind = rest[pos]
            pos += 1
            if kind == 0:
                n += 1
                pos = read_uleb(rest, pos, 5)[1]
            elif kind == 1:
                pos += 1
                flags = rest[pos]
                pos = read_uleb(rest, pos + 1, 5)[1]
                if flags & 1:
                    pos = read_uleb(rest, pos, 5)[1]
            elif kind == 2:
                flags = rest[pos]
                pos = read_uleb(rest, pos + 1, 5)[1]
                if flags & 1:
                    pos = read_uleb(rest, pos, 5)[1]
            elif kind == 3:
                pos += 2
            else:
                return n
    except (TypeError, IndexError):
        pass
    return n


def code_entries(payload: bytes):
    """(count, [entry bytes]) of a code section payload, or None if it does not parse."""
    v = vec_split(payload)
    if v is None:
        return None
    count, rest = v
    out, pos = [], 0
    for _ in range(min(count, 100_000)):
        r = read_uleb(rest, pos, 5)
        if r is None or r[1] + r[0] > len(rest):
            return None
        out.append(rest[r[1]:r[1] + r[0]])
        pos = r[1] + r[0]
    if pos != len(rest):
        return None
    return count, out


def join_code(entries) -> bytes:
    return uleb(len(entries)) + b"".join(uleb(len(e)) + e for e in entries)


# ---------------------------------------------------------------- instructions

def _ops():
    from fayasm import isa

    return [op for op in isa.ALL]


_OPS: list = []


def instr_bytes(rng: random.Random, op=None) -> bytes:
    """One instruction with random immediates (of the right kinds, mostly small values)."""
    if not _OPS:
        _OPS.extend(_ops())
    op = op or rng.choice(_OPS)
    out = bytearray(op.opcode_bytes)

    def idx() -> bytes:
        return uleb(rng.choice([0, 0, 1, 2, 3, rng.randrange(16)]) if rng.random() < 0.85
                    else pick_u32(rng))

    for kind in op.imms:
        if kind == "blocktype":
            r = rng.random()
            out += (b"\x40" if r < 0.5 else bytes([rng.choice(VALTYPES)]) if r < 0.85
                    else sleb(rng.choice([0, 1, 2, 5, 1 << 20, (1 << 32) - 1, -3, -64])))
        elif kind in ("label", "func", "type", "table", "local", "global", "elem", "data"):
            out += idx()
        elif kind == "labels":
            n = rng.choice([0, 1, 2, 5, 20])
            out += uleb(n) + b"".join(idx() for _ in range(n + 1))
        elif kind == "mem":
            out.append(0 if rng.random() < 0.9 else rng.choice([1, 0x80]))
        elif kind == "memarg":
            align = (op.align if op.align is not None and rng.random() < 0.7
                     else rng.choice([0, 1, 2, 3, 4, 5, 31, 32, 64, 0xFFFF_FFFF]))
            out += uleb(align) + uleb(rng.choice([0, 0, 4, 0xFFFF_FFFF, rng.getrandbits(16)]))
        elif kind == "i32":
            out += sleb(rng.choice([0, 1, -1, 0x7FFF_FFFF, -0x8000_0000, rng.getrandbits(8)]))
        elif kind == "i64":
            out += sleb(rng.choice([0, -1, (1 << 63) - 1, -(1 << 63), rng.getrandbits(20)]))
        elif kind == "f32":
            out += rng.getrandbits(32).to_bytes(4, "little")
        elif kind == "f64":
            out += rng.getrandbits(64).to_bytes(8, "little")
        elif kind == "v128":
            out += rng.getrandbits(128).to_bytes(16, "little")
        elif kind == "lane":
            out.append(rng.choice([0, 1, 3, 7, 15, 16, 31, 255]))
        elif kind == "shuffle":
            out += bytes(rng.choice([rng.randrange(32), rng.randrange(256)]) for _ in range(16))
        elif kind == "reftype":
            out.append(rng.choice([0x70, 0x6F, 0x70, 0x6F, 0x7F, 0x00]))
        elif kind == "valtypes":
            n = rng.choice([0, 1, 1, 2])
            out += uleb(n) + bytes(rng.choice(VALTYPES) for _ in range(n))
    return bytes(out)


# ---------------------------------------------------------------- binary mutators

_INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x0B, 0x40, 0x41, 0x60, 0x6F, 0x70, 0x7B, 0x7F, 0x80,
                      0xFC, 0xFD, 0xFF]


def _pos(rng: random.Random, data, lo: int = 8) -> int:
    return rng.randrange(lo, len(data)) if len(data) > lo else rng.randrange(max(1, len(data)))


def m_bitflip(rng, data, corpus):
    out = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 3, 8])):
        if out:
            out[_pos(rng, out)] ^= 1 << rng.randrange(8)
    return bytes(out)


def m_byteset(rng, data, corpus):
    out = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 4])):
        if out:
            out[_pos(rng, out)] = (rng.choice(_INTERESTING_BYTES) if rng.random() < 0.7
                                   else rng.randrange(256))
    return bytes(out)


def m_insert_delete(rng, data, corpus):
    out = bytearray(data)
    at = _pos(rng, out) if out else 0
    r = rng.random()
    if r < 0.35:
        out[at:at] = bytes(rng.randrange(256) for _ in range(rng.choice([1, 1, 2, 4, 16])))
    elif r < 0.7:
        del out[at:at + rng.choice([1, 1, 2, 4, 16, 64])]
    else:
        n = rng.choice([1, 2, 4, 16, 64])
        out[at:at] = out[at:at + n] * rng.choice([1, 2, 10])
    return bytes(out)


def m_truncate(rng, data, corpus):
    return data[:rng.randrange(len(data) + 1)]


def m_splice(rng, data, corpus):
    other = rng.choice(corpus.binaries)
    return data[:rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1):]


def m_section_splice(rng, data, corpus):
    p, q = split(data), split(rng.choice(corpus.binaries))
    if not q.sections:
        return m_splice(rng, data, corpus)
    sec = list(rng.choice(q.sections))
    k = p.find(sec[0])
    if k is not None and rng.random() < 0.7:
        p.sections[k] = sec
    else:
        p.sections.insert(rng.randrange(len(p.sections) + 1), sec)
    return p.join()


def m_section_shuffle(rng, data, corpus):
    p = split(data)
    s = p.sections
    if not s:
        return m_bitflip(rng, data, corpus)
    r = rng.random()
    k = rng.randrange(len(s))
    if r < 0.35:
        s.insert(rng.choice([k, k + 1, rng.randrange(len(s) + 1)]), list(s[k]))  # duplicate
    elif r < 0.6 and len(s) > 1:
        j = rng.randrange(len(s))
        s[k], s[j] = s[j], s[k]
    elif r < 0.8:
        del s[k]
    else:
        # An empty or junk section of any id, anywhere (13+ are malformed ids).
        sid = rng.choice([0, 1, 3, 5, 8, 10, 11, 12, 13, 14, 0x7F, 0x80, 0xFF])
        payload = rng.choice([b"", b"\x00", uleb(pick_u32(rng))])
        s.insert(rng.randrange(len(s) + 1), [sid, payload])
    return p.join()


def _encode_size(rng, size: int) -> bytes:
    r = rng.random()
    if r < 0.4:
        return uleb(size, pad=max(0, rng.randint(1, 5) - len(uleb(size))))  # still <= 5 bytes
    if r < 0.6:
        return uleb(size, pad=rng.randint(5, 12) - len(uleb(size)) + 1)  # too long
    if r < 0.75:
        return overflowing_uleb(32)
    return uleb(max(0, size + rng.choice([-2, -1, 1, 2, 1000, 1 << 31])))


def m_section_size(rng, data, corpus):
    """One section's size field re-encoded: over-long (valid up to 5 bytes), too long,
    overflowing, or wrong."""
    p = split(data)
    if not p.sections:
        return m_bitflip(rng, data, corpus)
    k = rng.randrange(len(p.sections))
    out = bytearray(p.header)
    for j, (sid, payload) in enumerate(p.sections):
        out.append(sid)
        out += _encode_size(rng, len(payload)) if j == k else uleb(len(payload))
        out += payload
    return bytes(out + p.tail)


def m_vec_count(rng, data, corpus):
    """A section's leading count made huge, off by one, over-long or overflowing."""
    p = split(data)
    cands = [k for k, (sid, pl) in enumerate(p.sections) if sid not in (0, START) and pl]
    if not cands:
        return m_bitflip(rng, data, corpus)
    k = rng.choice(cands)
    v = vec_split(p.sections[k][1])
    if v is None:
        return m_bitflip(rng, data, corpus)
    count, rest = v
    r = rng.random()
    if r < 0.3:
        new = uleb(count, pad=rng.randint(1, max(1, 5 - len(uleb(count)))))
    elif r < 0.45:
        new = uleb(count, pad=rng.randint(5, 8))
    elif r < 0.55:
        new = overflowing_uleb(32)
    else:
        new = uleb(pick_u32(rng, near=count))
    p.sections[k][1] = new + rest
    return p.join()


def _pad_leb_at(rng, data: bytes, at: int) -> bytes:
    """``data`` with the LEB128 at ``at`` re-encoded over-long (mostly still within the 5
    bytes a u32 may take) or overflowing."""
    r = read_uleb(data, at, 10)
    if r is None:
        return data
    value, end = r
    minimal = len(uleb(value))
    x = rng.random()
    if x < 0.5:
        new = uleb(value, pad=max(1, rng.randint(min(end - at, 5), 5) - minimal))
    elif x < 0.75:
        new = uleb(value, pad=rng.randint(1, 6))
    else:
        new = overflowing_uleb(rng.choice([32, 33, 64]))
    return data[:at] + new + data[end:]


def m_leb_pad(rng, data, corpus):
    """The LEB128 at a random byte of a section (or of one function body, whose size is
    then fixed) re-encoded over-long or overflowing; the sizes around it stay right."""
    p = split(data)
    cands = [k for k, (_, pl) in enumerate(p.sections) if pl]
    if not cands:
        return m_bitflip(rng, data, corpus)
    k = rng.choice(cands)
    pl = p.sections[k][1]
    ce = code_entries(pl) if p.sections[k][0] == CODE else None
    if ce and ce[1] and rng.random() < 0.8:
        entries = ce[1]
        j = rng.randrange(len(entries))
        if entries[j]:
            entries[j] = _pad_leb_at(rng, entries[j], rng.randrange(len(entries[j])))
        p.sections[k][1] = join_code(entries)
    else:
        p.sections[k][1] = _pad_leb_at(rng, pl, rng.randrange(len(pl)))
    return p.join()


def m_code_instrs(rng, data, corpus):
    """Random instructions inserted into (or replacing part of) a function body."""
    p = split(data)
    k = p.find(CODE)
    ce = code_entries(p.sections[k][1]) if k is not None else None
    if not ce or not ce[1]:
        add_function(p, body=b"".join(instr_bytes(rng) for _ in range(rng.choice([1, 3])))
                     + b"\x0b")
        return p.join()
    _count, entries = ce
    j = rng.randrange(len(entries))
    e = entries[j]
    at = rng.randrange(len(e)) if e else 0
    ins = b"".join(instr_bytes(rng) for _ in range(rng.choice([1, 1, 2, 3, 8])))
    if rng.random() < 0.3:
        e = e[:at] + ins + e[at + rng.randrange(1, 8):]
    else:
        e = e[:at] + ins + e[at:]
    entries[j] = e
    p.sections[k][1] = join_code(entries)
    return p.join()


def _nest_body(rng, depth: int) -> bytes:
    """A body of ``depth`` nested blocks, loops and ifs; sometimes subtly broken."""
    style = rng.choice(["block", "loop", "if", "ifelse", "mixed", "result"])
    opens, closes = bytearray(), []
    for _ in range(depth):
        s = rng.choice(["block", "loop", "if", "ifelse"]) if style == "mixed" else style
        if s == "block":
            opens += b"\x02\x40"
            closes.append(b"\x0b")
        elif s == "loop":
            opens += b"\x03\x40"
            closes.append(b"\x0b")
        elif s == "if":
            opens += b"\x41\x00\x04\x40"
            closes.append(b"\x0b")
        elif s == "ifelse":
            opens += b"\x41\x01\x04\x40"
            closes.append(b"\x05\x0b")
        else:
            opens += b"\x02\x7f"
            closes.append(b"\x0b")
    inner = b"\x41\x00" if style == "result" else b""
    ends = bytearray()
    for c in reversed(closes):
        ends += c
    body = bytes(opens) + inner + bytes(ends)
    if style == "result":
        body += b"\x1a"  # drop the outermost block's value
    r = rng.random()
    if r < 0.1:
        body = body[:-1]  # one end short
    elif r < 0.2:
        body += b"\x0b"  # one end too many
    elif r < 0.3:
        body = bytes(opens) + b"\x0c" + uleb(depth + rng.choice([-1, 0, 1])) + bytes(ends)
    return body + b"\x0b"


def _depth(rng) -> int:
    r = rng.random()
    if r < 0.3:
        return rng.randint(1, 20)
    if r < 0.7:
        return log_uniform(rng, 20, 2000)
    if r < 0.95:
        return log_uniform(rng, 2000, 30_000)
    return log_uniform(rng, 30_000, 120_000)


def m_deep_nesting(rng, data, corpus):
    p = split(data)
    add_function(p, body=_nest_body(rng, _depth(rng)))
    return p.join()


def _locals_vec(rng) -> tuple[bytes, int]:
    """Local declarations near and past the limits; (encoded, total locals)."""
    r = rng.random()
    if r < 0.4:
        n = rng.choice([1, 1000, 49_999, 50_000, 50_001, 65_536, 1 << 20, 0x7FFF_FFFF,
                        0xFFFF_FFFF])
        return b"\x01" + uleb(n) + bytes([rng.choice(VALTYPES)]), n
    if r < 0.6:
        # Two declarations whose sum overflows 32 bits.
        a = rng.choice([0x8000_0000, 0xFFFF_FFFF, 0x7FFF_FFFF])
        b = rng.choice([0x8000_0000, 1, 0xFFFF_FFFF])
        return b"\x02" + uleb(a) + b"\x7f" + uleb(b) + b"\x7e", a + b
    # Many declarations of a few locals each.
    k = log_uniform(rng, 10, 60_000)
    each = rng.choice([0, 1, 1, 2])
    decls = b"".join(uleb(each) + bytes([rng.choice(VALTYPES)]) for _ in range(k))
    return uleb(k) + decls, k * each


def m_many_locals(rng, data, corpus):
    p = split(data)
    locals_vec, total = _locals_vec(rng)
    params = ()
    if rng.random() < 0.3:
        params = (0x7F,) * rng.choice([1, 10, 500, 1000])
    # Touch the last local so the validator looks it up.
    last = len(params) + total - 1
    body = (b"\x20" + uleb(max(0, last)) + b"\x1a\x0b") if rng.random() < 0.7 else b"\x0b"
    add_function(p, params=params, locals_vec=locals_vec, body=body)
    return p.join()


def m_many_params(rng, data, corpus):
    """A function type with about 1,000 (wasmtime's cap) or many more params or results."""
    p = split(data)
    n = rng.choice([999, 1000, 1001, 1001, 5000, log_uniform(rng, 10, 100_000)])
    types = [rng.choice(VALTYPES) for _ in range(min(n, 8))]
    vals = tuple(types[k % len(types)] for k in range(n))
    if rng.random() < 0.5:
        add_function(p, params=vals)
    else:
        add_function(p, results=vals, body=b"\x00\x0b")  # unreachable: any results
    return p.join()


def m_long_body(rng, data, corpus):
    """A long straight-line body or a br_table with a huge label vector."""
    p = split(data)
    n = log_uniform(rng, 10, 200_000)
    if rng.random() < 0.5:
        labels = uleb(n) + b"\x00" * (n + 1)
        if rng.random() < 0.3:
            labels = uleb(n)  # the labels are missing: "unexpected end"
        body = b"\x02\x40\x41\x00\x0e" + labels + b"\x0b\x0b"
    else:
        unit = rng.choice([b"\x01", b"\x41\x00\x1a", b"\x20\x00\x1a", b"\x41\x00\x41\x00\x6a\x1a"])
        body = unit * (n // len(unit) + 1) + b"\x0b"
    add_function(p, params=(0x7F,), body=body)
    return p.join()


_BAD_UTF8 = [b"\x80", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82",
             b"\xff", b"\xf8\x88\x80\x80\x80", b"\xef\xbf\xbf", b"\x00"]


def long_name(rng) -> bytes:
    n = log_uniform(rng, 1, 1_000_000) if rng.random() < 0.9 else rng.choice(
        [99_999, 100_000, 100_001])
    r = rng.random()
    if r < 0.4:
        name = b"a" * n
    elif r < 0.7:
        unit = rng.choice(["\u00e9", "\u4e2d", "\U0001f600", "\u0301", "a"]).encode()
        name = unit * max(1, n // len(unit))
    else:
        name = b"n" * n
        at = rng.randrange(len(name) + 1)
        name = name[:at] + rng.choice(_BAD_UTF8) + name[at:]
    return name


def m_long_names(rng, data, corpus):
    p = split(data)
    name = long_name(rng)
    r = rng.random()
    if r < 0.4:
        add_function(p, export=name)
    elif r < 0.6:
        module = long_name(rng) if rng.random() < 0.5 else b"env"
        imp = uleb(len(module)) + module + uleb(len(name)) + name + b"\x03\x7f\x00"  # global
        pl, _ = vec_append(section_payload(p, IMPORT), imp)
        put_section(p, IMPORT, pl)
    elif r < 0.8:
        body = rng.choice([b"", b"payload", bytes(rng.randrange(256) for _ in range(32))])
        p.sections.insert(rng.randrange(len(p.sections) + 1),
                          [0, uleb(len(name)) + name + body])
    else:
        p.sections.append([0, name_section(rng, name)])
    return p.join()


def name_section(rng, name: bytes) -> bytes:
    """A "name" custom section with random subsections, some with long or broken names."""
    out = bytearray(b"\x04name")
    for _ in range(rng.choice([1, 2, 3])):
        sid = rng.choice([0, 1, 2, 3, 4, 7, 9, 11, 12, 0xFF])
        if sid == 0:
            sub = uleb(len(name)) + name
        elif sid == 2:
            n = rng.choice([1, 2, 0xFFFF_FFFF])
            sub = uleb(n) + b"\x00" + uleb(1) + b"\x00" + uleb(len(name)) + name
        else:
            n = rng.choice([1, 2, 1000, 0xFFFF_FFFF])
            sub = uleb(n) + b"".join(uleb(pick_u32(rng)) + uleb(len(name)) + name
                                     for _ in range(min(n, 2)))
        size = len(sub) if rng.random() < 0.8 else pick_u32(rng)
        out += bytes([sid]) + uleb(size) + sub
    return bytes(out)


def m_limits(rng, data, corpus):
    """Memories and tables with edge-case limits, flags and element types."""
    p = split(data)

    def lim() -> bytes:
        flags = rng.choice([0, 1, 1, 2, 3, 0x80])
        lo = rng.choice([0, 1, 65_536, 65_537, 0xFFFF_FFFF, 10_000_001, pick_u32(rng)])
        out = bytes([flags]) + uleb(lo)
        if flags & 1:
            out += uleb(rng.choice([lo, max(0, lo - 1), 65_536, 0xFFFF_FFFF, pick_u32(rng)]))
        return out

    if rng.random() < 0.5:
        put_section(p, MEMORY, uleb(rng.choice([1, 1, 2])) + lim())
    else:
        put_section(p, TABLE, uleb(rng.choice([1, 1, 2, 101]))
                    + bytes([rng.choice([0x70, 0x6F, 0x7F])]) + lim())
    return p.join()


def m_segments(rng, data, corpus):
    """Data and element segments, data count and start with edge-case fields."""
    p = split(data)
    r = rng.random()
    if r < 0.3:
        flags = rng.choice([0, 1, 2, 3, 0x80])
        n = rng.choice([0, 1, 16, 0xFFFF_FFFF, pick_u32(rng)])
        seg = uleb(flags) + (b"\x00" if flags == 2 else b"")
        if flags != 1:
            seg += b"\x41" + sleb(rng.choice([0, -1, 65_535, 1 << 31])) + b"\x0b"
        seg += uleb(n) + b"x" * min(n, 64)
        pl, _ = vec_append(section_payload(p, DATA), seg)
        put_section(p, DATA, pl)
    elif r < 0.5:
        put_section(p, DATACOUNT, uleb(pick_u32(rng)))
    elif r < 0.65:
        put_section(p, START, uleb(pick_u32(rng)))
    else:
        flags = rng.randrange(9)
        seg = uleb(flags)
        if flags in (2, 6):
            seg += uleb(rng.choice([0, 1]))
        if not flags & 1:
            seg += b"\x41\x00\x0b"
        if flags & 4:
            if flags & 3:
                seg += bytes([rng.choice([0x70, 0x6F])])
            n = rng.choice([0, 1, 2, 0xFFFF_FFFF])
            seg += uleb(n) + b"\xd2\x00\x0b" * min(n, 4)
        else:
            if flags & 3:
                seg += bytes([rng.choice([0, 0, 1])])
            n = rng.choice([0, 1, 2, 0xFFFF_FFFF])
            seg += uleb(n) + b"\x00" * min(n, 4)
        pl, _ = vec_append(section_payload(p, ELEMENT), seg)
        put_section(p, ELEMENT, pl)
    return p.join()


def m_globals(rng, data, corpus):
    """A global whose initializer is a (non-)constant expression."""
    p = split(data)
    t = rng.choice(VALTYPES)
    init = b"".join(instr_bytes(rng) for _ in range(rng.choice([0, 1, 1, 2, 3])))
    g = bytes([t, rng.choice([0, 1, 2])]) + init + b"\x0b"
    pl, _ = vec_append(section_payload(p, GLOBAL), g)
    put_section(p, GLOBAL, pl)
    return p.join()


BINARY_MUTATORS = [
    (m_bitflip, 10), (m_byteset, 8), (m_insert_delete, 6), (m_truncate, 4), (m_splice, 4),
    (m_section_splice, 4), (m_section_shuffle, 5), (m_section_size, 4), (m_vec_count, 5),
    (m_leb_pad, 6), (m_code_instrs, 10), (m_deep_nesting, 3), (m_many_locals, 3),
    (m_many_params, 2), (m_long_body, 2), (m_long_names, 3), (m_limits, 3),
    (m_segments, 4), (m_globals, 3),
]


# ---------------------------------------------------------------- text mutators

TOKEN_RE = re.compile(r'\s+|;;[^\n]*|\(;|;\)|\(|\)|"(?:[^"\\\n]|\\.)*"?|[^\s()";]+|.', re.S)
_NUMLIKE = re.compile(r"^[+-]?(?:[0-9]|inf|nan)")
_WORDS = ["module", "func", "param", "result", "local", "type", "import", "export", "memory",
          "table", "global", "mut", "elem", "data", "start", "offset", "item", "declare",
          "block", "loop", "if", "then", "else", "end", "br", "br_if", "br_table", "call",
          "call_indirect", "return", "drop", "select", "unreachable", "nop", "i32.const",
          "i64.const", "f32.const", "f64.const", "v128.const", "i32.add", "local.get",
          "local.set", "memory.grow", "ref.null", "ref.func", "funcref", "externref",
          "i32", "i64", "f32", "f64", "v128", "i8x16", "i32x4", "offset=4", "align=8",
          "binary", "quote", "$x", "$", "0", "-1", "0x80000000", "nan:0x1", "inf", "-0",
          "1.5e10", "0x1p-149", '""', '"a"', "(", ")", "(;", ";)", ";;", "(@x)"]
_CHARS = ["\u0000", "\t", "\r", "\x0b", "\x0c", "\x7f", "\u0085", "\u00a0", "\u00e9",
          "\u0301", "\u200b", "\u2028", "\u202e", "\ufeff", "\ufffe", "\uffff", "\ud800",
          "\udfff", "\U0001f600", "\U0010ffff", "\\", '"', "$", "@", ";", "(", ")"]
_BAD_ESCAPES = ["\\", "\\x", "\\q", "\\0g", "\\u", "\\u{", "\\u{}", "\\u{110000}",
                "\\u{d800}", "\\u{dfff}", "\\u{" + "0" * 300 + "41}", "\\u{ffffffffffffffff}",
                "\\u{1_0}", "\\u{_1}", "\\u{41", "\\ff", "\\t", "\\n", "\\'"]


def tokens(text: str) -> list[str]:
    return TOKEN_RE.findall(text)


def _insert_at_token(rng, text: str, piece: str) -> str:
    toks = tokens(text)
    at = rng.randrange(len(toks) + 1)
    return "".join(toks[:at]) + piece + "".join(toks[at:])


def t_tokens(rng, text, corpus):
    """Token deletion, duplication, swap and replacement."""
    toks = tokens(text)
    if not toks:
        return rng.choice(_WORDS)
    for _ in range(rng.choice([1, 1, 2, 4])):
        k = rng.randrange(len(toks))
        r = rng.random()
        if r < 0.3:
            del toks[k]
        elif r < 0.5:
            toks.insert(k, toks[k] * rng.choice([1, 1, 2]))
        elif r < 0.65 and len(toks) > 1:
            j = rng.randrange(len(toks))
            toks[k], toks[j] = toks[j], toks[k]
        elif r < 0.85:
            toks[k] = rng.choice(_WORDS)
        else:
            toks.insert(k, " " + rng.choice(_WORDS) + " ")
        if not toks:
            break
    return "".join(toks)


def t_parens(rng, text, corpus):
    """Parentheses dropped or added: imbalance."""
    toks = tokens(text)
    parens = [k for k, t in enumerate(toks) if t in ("(", ")")]
    for _ in range(rng.choice([1, 1, 2])):
        if parens and rng.random() < 0.6:
            toks[rng.choice(parens)] = ""
        else:
            toks.insert(rng.randrange(len(toks) + 1), rng.choice(["(", ")", "((", "))"]))
    return "".join(toks)


def _nest_text(rng, depth: int) -> str:
    style = rng.choice(["folded", "flat", "if", "mixed", "parens"])
    if style == "folded":
        s = "(block " * depth + ")" * depth
    elif style == "flat":
        s = "block " * depth + "end " * depth
    elif style == "if":
        depth = max(1, depth // 3)  # 23 characters a level: keep the text under a megabyte
        s = "(if (i32.const 0) (then " * depth + "))" * depth
    elif style == "mixed":
        kinds = [rng.choice(["(block ", "(loop ", "block ", "loop "]) for _ in range(depth)]
        s = "".join(kinds) + "".join(")" if k.startswith("(") else "end " for k in
                                     reversed(kinds))
    else:
        s = "(" * depth + ")" * depth
    r = rng.random()
    if r < 0.1:
        s = s[:-1]
    elif r < 0.2:
        s += ")"
    return s


def t_deep_nesting(rng, text, corpus):
    nest = _nest_text(rng, _depth(rng))
    r = rng.random()
    if r < 0.5:
        return f"(module (func {nest}))"
    if r < 0.8:
        body = text.rstrip()
        # Another field at the end of the seed module.
        if body.endswith(")"):
            return body[:-1] + f" (func {nest}))"
        return body + f"(func {nest})"
    return _insert_at_token(rng, text, " " + nest + " ")


def _huge_number(rng) -> str:
    n = log_uniform(rng, 10, 50_000)
    digits = "".join(rng.choice("0123456789") for _ in range(min(n, 64)))
    digits = (digits * (n // max(1, len(digits)) + 1))[:n].lstrip("0") or "1"
    sign = rng.choice(["", "", "-", "+"])
    return rng.choice([
        sign + digits,
        sign + "0x" + "f" * n,
        sign + "1e" + digits,
        sign + "0x1p" + rng.choice(["+", "-", ""]) + digits,
        sign + "0x1." + "f" * n + "p-1",
        sign + "0." + "0" * n + "1",
        sign + digits[:200] + "." + digits[:200] + "e-" + digits[:20],
        "nan:0x" + "f" * n,
        sign + "1_" * min(n, 5000) + "1",
        sign + "1__1",
        sign + "0x_1",
        sign + "1e+_1",
    ])


def t_huge_numbers(rng, text, corpus):
    toks = tokens(text)
    nums = [k for k, t in enumerate(toks) if _NUMLIKE.match(t)]
    num = _huge_number(rng)
    if nums and rng.random() < 0.7:
        toks[rng.choice(nums)] = num
        return "".join(toks)
    ty = rng.choice(["i32", "i64", "f32", "f64"])
    shape = rng.choice(["i8x16", "i16x8", "i32x4", "i64x2", "f32x4", "f64x2"])
    lanes = {"i8x16": 16, "i16x8": 8, "i32x4": 4, "i64x2": 2, "f32x4": 4, "f64x2": 2}[shape]
    return rng.choice([
        f"(module (func (result {ty}) ({ty}.const {num})))",
        f"(module (memory {num}))",
        f"(module (func (drop (v128.const {shape}{(' ' + num) * lanes}))))",
        f"(module (func (local.get {num})))",
        f"(module (func (i32.load offset={num} (i32.const 0))) (memory 1))",
        f"(module (global {ty} ({ty}.const {num})))",
    ])


def _long_string(rng) -> str:
    n = log_uniform(rng, 10, 300_000)
    unit = rng.choice(["a", "\\00", "\\ff", "\\u{1f600}", "\u00e9", "\U0001f600", "\\n",
                       "\\\\", "ab\\\"c"])
    return '"' + unit * max(1, n // len(unit)) + '"'


def t_long_atoms(rng, text, corpus):
    """Long strings, ids, keywords and comments."""
    r = rng.random()
    if r < 0.35:
        s = _long_string(rng)
        toks = tokens(text)
        strs = [k for k, t in enumerate(toks) if t.startswith('"')]
        if strs and rng.random() < 0.5:
            toks[rng.choice(strs)] = s
            return "".join(toks)
        return rng.choice([f"(module (memory 1) (data (i32.const 0) {s}))",
                           f"(module (func (export {s})))",
                           f'(module (import {s} "f" (func)))'])
    n = log_uniform(rng, 10, 300_000)
    if r < 0.65:
        ident = "$" + rng.choice(["a", "x_", "\u00e9", "!"]) * n
        return rng.choice([f"(module (func {ident} (call {ident})))",
                           f"(module (type {ident} (func)) (func (type {ident})))",
                           _insert_at_token(rng, text, f" {ident} ")])
    if r < 0.8:
        return _insert_at_token(rng, text, " " + rng.choice(["i32.const", "a", "x."]) * n + " ")
    comment = rng.choice(["(;" + "x" * n + ";)", ";;" + "x" * n + "\n", "(;" * n + ";)" * n,
                          "(;" * min(n, 1000) + ";)" * (min(n, 1000) - 1)])
    return _insert_at_token(rng, text, comment)


def t_bad_escapes(rng, text, corpus):
    esc = rng.choice(_BAD_ESCAPES)
    toks = tokens(text)
    strs = [k for k, t in enumerate(toks) if t.startswith('"') and len(t) > 1]
    if strs and rng.random() < 0.7:
        k = rng.choice(strs)
        t = toks[k]
        at = rng.randrange(1, len(t))
        toks[k] = t[:at] + esc + t[at:]
        return "".join(toks)
    return rng.choice([f'(module (memory 1) (data (i32.const 0) "{esc}"))',
                       f'(module (func (export "{esc}")))', f'(module (func $"{esc}"))',
                       f'(module (import "{esc}" "" (func)))'])


def t_unicode(rng, text, corpus):
    """Unicode (and lone surrogates, controls, BOMs) in strings, ids, comments, anywhere."""
    out = text
    for _ in range(rng.choice([1, 1, 2, 4])):
        ch = rng.choice(_CHARS) if rng.random() < 0.7 else chr(rng.choice(
            [rng.randrange(0x80, 0x800), rng.randrange(0x800, 0x10000),
             rng.randrange(0x10000, 0x110000)]))
        at = rng.randrange(len(out) + 1)
        out = out[:at] + ch * rng.choice([1, 1, 3]) + out[at:]
    return out


def t_comments(rng, text, corpus):
    piece = rng.choice(["(;", ";)", "(; (; ;)", "(; ;) ;)", ";;", "(;;)", " (; ok ;) ",
                        "\n;; ok\n", "(@a)", "(@a (b) \"c\")", "(@", "(@ x)"])
    if rng.random() < 0.15:
        return text.rstrip("\n") + rng.choice([";;", "(;", ";; no newline"])
    return _insert_at_token(rng, text, piece)


def t_benign(rng, text, corpus):
    """Changes that keep a module valid: whitespace and comments between tokens."""
    toks = tokens(text)
    for _ in range(rng.choice([1, 3, 10])):
        k = rng.randrange(len(toks) + 1)
        toks.insert(k, rng.choice([" ", "\n", "\t", " (; c ;) ", " ;; c\n", "\r\n"]))
    return "".join(toks)


def t_bytes(rng, text, corpus):
    """Byte-level mutation of the UTF-8, decoded leniently (lone surrogates included)."""
    raw = text.encode("utf-8", "surrogatepass")
    raw = rng.choice([m_bitflip, m_byteset, m_insert_delete, m_truncate])(rng, raw, corpus)
    return raw.decode("utf-8", rng.choice(["replace", "surrogateescape", "ignore"]))


def t_splice(rng, text, corpus):
    other = rng.choice(corpus.texts)
    return text[:rng.randrange(len(text) + 1)] + other[rng.randrange(len(other) + 1):]


def t_embedded_binary(rng, text, corpus):
    """A mutated binary written as ``(module binary ...)``, or a text as ``(module quote)``."""
    if rng.random() < 0.6:
        data = mutate_binary(rng, rng.choice(corpus.binaries), corpus, rng.choice([0, 1]))
        body = "".join(f"\\{b:02x}" for b in data)
        return f'(module binary "{body}")'
    quoted = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'(module quote "{quoted}")'


TEXT_MUTATORS = [
    (t_tokens, 12), (t_parens, 6), (t_deep_nesting, 3), (t_huge_numbers, 6),
    (t_long_atoms, 4), (t_bad_escapes, 5), (t_unicode, 6), (t_comments, 4), (t_benign, 4),
    (t_bytes, 6), (t_splice, 4), (t_embedded_binary, 3),
]


# ---------------------------------------------------------------- corpus and inputs

@dataclass
class Corpus:
    binaries: list = field(default_factory=list)  # seed modules, bytes
    texts: list = field(default_factory=list)  # seed modules, WAT text
    valid_binaries: list = field(default_factory=list)  # the seeds fayasm accepts
    valid_texts: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)  # where the seeds came from -> count


def module_spans(text: str) -> list[str]:
    """The source text of every ``(module ...)`` form of a WAST script at depth 0 or 1
    (so inside assert_invalid too), skipping strings and comments."""
    out, stack = [], []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif text.startswith(";;", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("(;", i):
            depth = 0
            while i < n:
                if text.startswith("(;", i):
                    depth += 1
                    i += 2
                elif text.startswith(";)", i):
                    depth -= 1
                    i += 2
                    if not depth:
                        break
                else:
                    i += 1
            continue
        elif c == "(":
            stack.append(i)
        elif c == ")" and stack:
            start = stack.pop()
            if len(stack) <= 1 and text.startswith("(module", start):
                out.append(text[start:i + 1])
        i += 1
    return out


def load_corpus(spec_dir: str | None = None, generated: int = 40, spec_sample: int = 1) -> Corpus:
    """Seed modules: the spec suite's (binary and text, valid and invalid, and the malformed
    quoted texts; every ``spec_sample``-th file), examples/, scripts/bench/, and
    ``generated`` modules of fayasm.testing.generate. Deterministic for a given checkout and
    spec suite."""
    import fayasm
    from fayasm.binary import encode
    from fayasm.testing.generate import GenConfig, random_module
    from fayasm.text.printer import print_module
    from fayasm.wast.parse import parse_script
    from fayasm.wast.script import AssertInvalid, AssertMalformed, ModuleDef

    if spec_dir is None:
        spec_dir = os.environ.get("FAYASM_SPEC_DIR", os.path.join(os.path.dirname(REPO),
                                                                  "shared", "spec"))
        spec_dir = os.path.join(spec_dir, "2.0")
    c = Corpus()
    bins: dict = {}
    texts: dict = {}

    def add(store, item, source):
        if item not in store:
            store[item] = None
            c.sources[source] = c.sources.get(source, 0) + 1

    for path in sorted(glob.glob(os.path.join(spec_dir, "*.wast")))[::spec_sample]:
        with open(path, encoding="utf-8") as f:
            script = f.read()
        for span in module_spans(script):
            if not span.startswith(("(module binary", "(module quote")):
                add(texts, span, "spec text")
        try:
            cmds = parse_script(script, source=path)
        except fayasm.Error:
            continue
        for cmd in cmds:
            d = cmd if isinstance(cmd, ModuleDef) else getattr(cmd, "module", None)
            if not isinstance(d, ModuleDef):
                continue
            if d.kind == "text" and d.module is not None:
                add(bins, encode(d.module), "spec binary (encoded)")
            elif d.kind == "binary":
                add(bins, bytes(d.data), "spec binary")
            elif d.kind == "quote" and isinstance(cmd, (AssertMalformed, AssertInvalid)):
                add(texts, d.data, "spec quoted text")
    for path in sorted(glob.glob(os.path.join(REPO, "examples", "*.wasm"))
                       + glob.glob(os.path.join(REPO, "scripts", "bench", "*.wasm"))):
        with open(path, "rb") as f:
            add(bins, f.read(), "examples and bench")
    config = GenConfig(max_funcs=3, max_budget=80, max_calls=2, probes=False)
    for k in range(generated):
        g = random_module(k, config)
        add(bins, g.binary(), "generated")
        add(texts, print_module(g.syntax), "generated (printed)")
    if not bins:
        bins[HEADER] = None
    if not texts:
        texts["(module)"] = None
    c.binaries = list(bins)
    c.texts = list(texts)
    c.valid_binaries = [b for b in c.binaries if _accepted(b)] or c.binaries
    c.valid_texts = [t for t in c.texts if _accepted(t)] or c.texts
    return c


def _accepted(source) -> bool:
    import fayasm

    try:
        fayasm.Module(source)
        return True
    except fayasm.Error:
        return False


def _choose(rng, weighted):
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for f, w in weighted:
        x -= w
        if x < 0:
            return f
    return weighted[-1][0]


def mutate_binary(rng, data: bytes, corpus: Corpus, rounds: int | None = None) -> bytes:
    for _ in range(rng.choice([1, 1, 1, 2, 3]) if rounds is None else rounds):
        data = _choose(rng, BINARY_MUTATORS)(rng, data, corpus)
    return data


def make_input(kind: str, seed: int, index: int, corpus: Corpus):
    """(input, names of the mutators applied): input ``index`` of a run with ``seed``."""
    rng = random.Random(f"{seed}/{kind}/{index}")
    names = []
    # Mostly valid seeds, so that mutations reach past the first error.
    valid = rng.random() < 0.7
    if kind == "binary":
        data = rng.choice(corpus.valid_binaries if valid else corpus.binaries)
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            f = _choose(rng, BINARY_MUTATORS)
            names.append(f.__name__)
            data = f(rng, data, corpus)
        return data, names
    text = rng.choice(corpus.valid_texts if valid else corpus.texts)
    for _ in range(rng.choice([1, 1, 1, 2])):
        f = _choose(rng, TEXT_MUTATORS)
        names.append(f.__name__)
        text = f(rng, text, corpus)
    return text, names

"""The instruction table: every WebAssembly 2.0 instruction as one row of data.

The decoder, encoder, text parser, printer, validator, interpreter and generators all
read these rows; none of them lists instructions again. Each ``Op`` has:

- ``name``: the key (equal to the text name, except ``select_t``, whose text is ``select``);
- ``text``: the text-format mnemonic;
- ``prefix``/``code``: the opcode (``prefix`` is None, 0xFC or 0xFD);
- ``imms``: the kinds of immediates, in binary order (see IMMEDIATE_KINDS);
- ``params``/``results``: the operand types, or ``special`` True when typing needs context;
- ``align``: natural alignment (log2) for memory accesses, ``lanes`` for lane immediates;
- ``feature``: the proposal the instruction came from;
- ``id``: a dense index, for dispatch tables.
"""
from __future__ import annotations

from fayasm.runtime.types import ValType

from . import core, simd

# Immediate kinds, in the order they appear in the binary format.
IMMEDIATE_KINDS = {
    "blocktype": "block type: None, a ValType, or a type index",
    "label": "label index",
    "labels": "vector of label indices (br_table targets)",
    "func": "function index",
    "type": "type index",
    "table": "table index",
    "local": "local index",
    "global": "global index",
    "elem": "element segment index",
    "data": "data segment index",
    "mem": "memory index (a zero byte in 2.0)",
    "memarg": "MemArg(align, offset)",
    "i32": "i32 constant as a signed int",
    "i64": "i64 constant as a signed int",
    "f32": "f32 constant as its 32 bits",
    "f64": "f64 constant as its 64 bits",
    "v128": "v128 constant as a 128-bit unsigned int",
    "lane": "lane index",
    "shuffle": "tuple of 16 lane indices",
    "reftype": "reference type",
    "valtypes": "vector of value types (typed select)",
}

TEXT_NAMES = {"select_t": "select"}


class Op:
    """One row of the instruction table (identity-compared; there is one Op per instruction)."""

    __slots__ = ("name", "text", "prefix", "code", "imms", "params", "results", "special",
                 "align", "lanes", "feature", "id")

    def __init__(self, name, prefix, code, imms, params, results, special, align, lanes, feature, id):
        self.name = name
        self.text = TEXT_NAMES.get(name, name)
        self.prefix = prefix
        self.code = code
        self.imms = imms
        self.params = params
        self.results = results
        self.special = special
        self.align = align
        self.lanes = lanes
        self.feature = feature
        self.id = id

    def __repr__(self) -> str:
        return f"<Op {self.name}>"

    def __reduce__(self):
        return (by_name, (self.name,))

    @property
    def opcode_bytes(self) -> bytes:
        if self.prefix is None:
            return bytes([self.code])
        from fayasm.binary.leb128 import encode_u

        return bytes([self.prefix]) + encode_u(self.code)


def by_name(name: str) -> Op:
    return OPS[name]


def _types(text: str) -> tuple[ValType, ...]:
    return tuple(ValType(t) for t in text.split())


def _load(rows: str, ops: list[Op]) -> None:
    feature = None
    for line in rows.strip().splitlines():
        line = line.strip()
        if line.startswith("# feature"):
            feature = line.split()[2].rstrip(":")
            continue
        opcode, name, imms, sig = line.split(None, 3)
        if ":" in opcode:
            prefix_text, code_text = opcode.split(":")
            prefix, code = int(prefix_text, 16), int(code_text)
        else:
            prefix, code = None, int(opcode, 16)
        kinds, align, lanes = [], None, None
        for kind in ([] if imms == "-" else imms.split(",")):
            kind, _, arg = kind.partition(":")
            if kind == "memarg":
                align = int(arg)
            elif kind == "lane":
                lanes = int(arg)
            assert kind in IMMEDIATE_KINDS, kind
            kinds.append(kind)
        if sig == "special":
            params, results, special = (), (), True
        else:
            left, right = sig.split("->")
            params, results, special = _types(left), _types(right), False
        ops.append(Op(name, prefix, code, tuple(kinds), params, results, special, align, lanes,
                      feature, len(ops)))


ALL: list[Op] = []
_load(core.ROWS, ALL)
_load(simd.ROWS, ALL)

OPS: dict[str, Op] = {op.name: op for op in ALL}
BY_TEXT: dict[str, Op] = {}
for _op in ALL:
    BY_TEXT.setdefault(_op.text, _op)
BY_CODE: dict[int, Op] = {op.code: op for op in ALL if op.prefix is None}
BY_PREFIXED: dict[int, dict[int, Op]] = {}
for _op in ALL:
    if _op.prefix is not None:
        BY_PREFIXED.setdefault(_op.prefix, {})[_op.code] = _op

assert len(OPS) == len(ALL), "duplicate instruction name in the table"

"""The instruction table: every WebAssembly instruction fayasm knows as one row of data.

The decoder, encoder, text parser, printer, validator, IR builder, the three engines and
the generators all read these rows; none of them lists instruction facts again (engines
keep only their semantics: what an operator computes, keyed by the row). Each ``Opcode``
has:

- ``name``: the key (equal to the text name, except ``select_t``, whose text is ``select``);
- ``text``: the text-format mnemonic;
- ``prefix``/``code``: the opcode (``prefix`` is None, 0xFC or 0xFD);
- ``imms``: the kinds of immediates, in binary order (see IMMEDIATE_KINDS);
- ``params``/``results``: the operand types, or ``special`` True when typing needs context;
- ``cls``: the operator class (see CLASSES);
- ``traps``, ``nan``, ``reads``, ``writes``, ``relaxed``, ``constexpr``, ``tail``: the flags
  (see FLAGS);
- ``align``: natural alignment (log2) for memory accesses; ``access`` the bytes accessed
  (``1 << align``), ``lanes`` for lane immediates;
- ``shape``/``operator``: the name's halves around the dot (``i32``/``load8_s``);
  ``vector`` whether the shape is one of v128's;
- ``signed``: True for an ``_s`` operator, False for ``_u``, None otherwise;
- ``variant``/``lane_bits``: for a v128 access other than a plain one, ``extend``,
  ``splat``, ``zero`` or ``lane``, and the width of the lane moved (source lanes when
  extending);
- ``feature``: the proposal the instruction came from;
- ``id``: a dense index, for dispatch tables.
"""
from __future__ import annotations

from fayasm.runtime.types import ValType
from fayasm.runtime.values import f32_from_bits, f64_from_bits

from . import core, gc, simd, typedrefs

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
    "reftype": "heap type (ref.null), kept as the reference type it pushes",
    "valtypes": "vector of value types (typed select)",
    "field": "field index of a struct type",
    "count": "a count of operands (array.new_fixed)",
    "casttype": "a reference type (ref.test, ref.cast, br_on_cast): the binary format "
                "gives its nullability by the opcode or br_on_cast's flags",
}

# Operator classes (the spec's own, where it has one).
CLASSES = {
    "control": "blocks, branches, calls, unreachable, nop",
    "parametric": "drop and select",
    "variable": "local.* and global.*",
    "memory": "memory instructions other than loads and stores (size, grow, bulk)",
    "table": "table instructions and elem.drop",
    "ref": "ref.null, ref.is_null, ref.func, ref.as_non_null",
    "const": "a constant from the immediate",
    "load": "a load at an address operand plus the memarg offset (lane loads also take a vector)",
    "store": "a store of the last operand at an address operand plus the memarg offset",
    "unop": "one operand to one result of the same shape",
    "binop": "two operands to one result (shifts: a vector and an i32 count)",
    "ternop": "three operands to one result",
    "testop": "one operand to an i32 truth value",
    "relop": "a comparison of two operands (i32 0/1; lane masks for vectors)",
    "cvtop": "a conversion between shapes or types",
    "splat": "a scalar copied to every lane",
    "extract_lane": "one lane of a vector as a scalar",
    "replace_lane": "a vector with one lane replaced",
    "shuffle": "lanes of two vectors chosen by sixteen immediates",
    "aggregate": "struct, array and i31 instructions (GC)",
}

FLAGS = {
    "trap": "may trap (bounds, division, conversion, unreachable, calls)",
    "nan": "a NaN result's bits are nondeterministic (arithmetic NaN, canonical for canonical "
           "inputs); every other float result is exact",
    "reads": "the result depends on mutable state besides the operands (memory, tables)",
    "writes": "changes state besides the stack and locals",
    "relaxed": "relaxed SIMD: the spec allows a set of results, chosen by a global parameter "
               "(runtime/numerics/relaxed.py); every engine computes the deterministic "
               "profile's choice",
    "constexpr": "also allowed in constant expressions (the extended constants of 3.0)",
    "tail": "a tail call: the callee's frame replaces the caller's, and its results are the "
            "caller's (return_call*); the callee is named by the immediates: a function, a "
            "type and table, or a type with the reference on the stack",
}

TEXT_NAMES = {"select_t": "select", "ref.test_null": "ref.test", "ref.cast_null": "ref.cast"}
# The shapes of a v128 value, as instruction names spell them.
VECTOR_SHAPES = ("v128", "i8x16", "i16x8", "i32x4", "i64x2", "f32x4", "f64x2")


class Opcode:
    """One row of the instruction table (identity-compared; there is one per instruction)."""

    __slots__ = ("name", "text", "prefix", "code", "imms", "params", "results", "special",
                 "align", "access", "lanes", "feature", "id", "cls", "traps", "nan", "reads",
                 "writes", "relaxed", "constexpr", "tail", "shape", "operator", "signed", "variant",
                 "lane_bits", "vector")

    def __init__(self, name, prefix, code, imms, params, results, special, align, lanes, feature,
                 id, cls="control", flags=()):
        self.name = name
        self.text = TEXT_NAMES.get(name, name)
        self.prefix = prefix
        self.code = code
        self.imms = imms
        self.params = params
        self.results = results
        self.special = special
        self.align = align
        self.access = None if align is None else 1 << align
        self.lanes = lanes
        self.feature = feature
        self.id = id
        assert cls in CLASSES, (name, cls)
        assert all(f in FLAGS for f in flags), (name, flags)
        self.cls = cls
        self.traps = "trap" in flags
        self.nan = "nan" in flags
        self.reads = "reads" in flags
        self.writes = "writes" in flags
        self.relaxed = "relaxed" in flags
        self.constexpr = "constexpr" in flags
        self.tail = "tail" in flags
        self.shape, _, self.operator = name.rpartition(".")
        self.signed = (True if self.operator.endswith("_s") else
                       False if self.operator.endswith("_u") else None)
        self.variant, self.lane_bits = _variant(self)
        self.vector = self.shape in VECTOR_SHAPES

    def __repr__(self) -> str:
        return f"<Opcode {self.name}>"

    def __reduce__(self):
        return (by_name, (self.name,))

    @property
    def opcode_bytes(self) -> bytes:
        if self.prefix is None:
            return bytes([self.code])
        from fayasm.binary.leb128 import encode_u

        return bytes([self.prefix]) + encode_u(self.code)

    @property
    def is_test(self) -> bool:
        """A scalar comparison or test: its i32 result is a truth value (0 or 1)."""
        return self.cls in ("relop", "testop") and self.results == (ValType.I32,)


# A constant's immediate (signed ints, float bits) to the raw value engines compute with.
_RAW = {ValType.I32: lambda v: v & 0xFFFFFFFF, ValType.I64: lambda v: v & 0xFFFFFFFFFFFFFFFF,
        ValType.F32: f32_from_bits, ValType.F64: f64_from_bits, ValType.V128: lambda v: v}


def const_value(op: Opcode, imm):
    """The raw value of a ``const`` row's immediate (``imm`` as decoded or parsed)."""
    return _RAW[op.results[0]](imm)


def _variant(op: Opcode) -> tuple[str | None, int | None]:
    """A v128 access's variant and lane width, from the operator's grammar: ``load8x8_s``
    extends 8 lanes of 8 bits, ``load32_splat``/``load64_zero``/``load16_lane`` move one
    lane of the access size; a plain access has neither."""
    if op.cls not in ("load", "store") or op.shape != "v128" or op.operator in ("load", "store"):
        return None, None
    if "x" in op.operator:
        return "extend", int(op.operator[4:].split("x")[0])
    return op.operator.split("_")[1], op.access * 8


def by_name(name: str) -> Opcode:
    return OPS[name]


def _types(text: str) -> tuple[ValType, ...]:
    return tuple(ValType(t) for t in text.split())


def _load(rows: str, ops: list[Opcode]) -> None:
    feature = None
    for line in rows.strip().splitlines():
        line = line.strip()
        if line.startswith("# feature"):
            feature = line.split()[2].rstrip(":")
            continue
        opcode, name, imms, cls, sig = line.split(None, 4)
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
        params: tuple[ValType, ...]
        results: tuple[ValType, ...]
        if sig == "special":
            params, results, special = (), (), True
        else:
            left, right = sig.split("->")
            params, results, special = _types(left), _types(right), False
        cls, *flags = cls.split(",")
        ops.append(Opcode(name, prefix, code, tuple(kinds), params, results, special, align,
                          lanes, feature, len(ops), cls, tuple(flags)))


ALL: list[Opcode] = []
_load(core.ROWS, ALL)
_load(simd.ROWS, ALL)
_load(typedrefs.ROWS, ALL)
_load(gc.ROWS, ALL)

OPS: dict[str, Opcode] = {op.name: op for op in ALL}
BY_TEXT: dict[str, Opcode] = {}
for _op in ALL:
    BY_TEXT.setdefault(_op.text, _op)
BY_CODE: dict[int, Opcode] = {op.code: op for op in ALL if op.prefix is None}
BY_PREFIXED: dict[int, dict[int, Opcode]] = {}
for _op in ALL:
    if _op.prefix is not None:
        BY_PREFIXED.setdefault(_op.prefix, {})[_op.code] = _op

assert len(OPS) == len(ALL), "duplicate instruction name in the table"

"""Instructions of the text format: plain and folded, unfolded into the flat binary order.

The parser is iterative (an explicit stack of open constructs), so that nesting depth is
not limited by Python's recursion limit; like the binary decoder, it refuses a body with
more than MAX_NESTING blocks open at once (runtime.limits). Immediates are read according to the
instruction table's immediate kinds and stored exactly as the binary decoder stores them.

Implicit function types (block types and ``call_indirect`` type uses written inline) are
appended to the type section in the order of the flat instruction sequence, as wabt does:
a folded ``if``'s type comes after its condition's, a folded ``call_indirect``'s after its
operands'.

An empty else branch is left out (``if ... else end`` becomes ``if ... end``): the two are
the same program, and the shorter is the binary form that wabt and the reference
interpreter's encoder write.
"""
from __future__ import annotations

from typing import ClassVar

from fayasm import features, isa
from fayasm.errors import NESTING_TOO_DEEP
from fayasm.runtime.limits import MAX_NESTING
from fayasm.runtime.types import FuncType
from fayasm.syntax import Instr, MemArg

from .base import BaseParser, known_keyword
from .lexer import ERR, ID, KEYWORD, LPAR, NUM, RPAR
from .numbers import (
    SHAPES,
    NumberError,
    is_nat,
    parse_float,
    parse_int,
    parse_lane,
    parse_uint,
    v128_from_lanes,
)

OPS = isa.OPS
BY_TEXT = isa.BY_TEXT
_BLOCK, _LOOP, _IF, _ELSE, _END = OPS["block"], OPS["loop"], OPS["if"], OPS["else"], OPS["end"]
_SELECT, _SELECT_T = OPS["select"], OPS["select_t"]
_TYPE_TABLE = ("type", "table")  # the immediates of call_indirect and return_call_indirect
_SELECT_INSTR = Instr(_SELECT)
_ELSE_INSTR = Instr(_ELSE)
_END_INSTR = Instr(_END)

# Open constructs on the parser's stack (the first item of each frame list).
_PLAIN = 0  # block/loop/if written plainly: [_PLAIN, opener op, label]
_FOLDED = 1  # (op ... operands): [_FOLDED, instr], emitted when the ")" comes
_BLOCK_FRAME = 2  # (block ...) or (loop ...): [_BLOCK_FRAME]
_IF_FRAME = 3  # (if ...): [_IF_FRAME, state, blocktype, label]
# States of a folded if: reading conditions, in (then), after (then), in (else), after (else).
_COND, _THEN, _AFTER_THEN, _ELSE_ST, _AFTER_ELSE = range(5)


def _plan(op: isa.Opcode):
    """How to read ``op``'s immediates: None for none, else the name of a reader method or
    a tuple of per-kind reader names."""
    special = {
        "br_table": "imm_br_table",
        "table.init": "imm_table_init",
        "table.copy": "imm_table_copy",
        "memory.init": "imm_memory_init",
        "v128.const": "imm_v128",
        "i8x16.shuffle": "imm_shuffle",
        "select": "imm_select",
        "ref.test": "imm_cast",
        "ref.cast": "imm_cast",
    }
    if op.name in special:
        return special[op.name]
    if op.imms == ("type", "table"):  # call_indirect and return_call_indirect
        return "imm_call_indirect"
    if not op.imms:
        return None
    return tuple("kind_" + kind for kind in op.imms)


_PLANS = {op: _plan(op) for op in isa.ALL}
_NO_IMM = {op: Instr(op) for op in isa.ALL if _PLANS[op] is None}


class InstrParser(BaseParser):
    """Instruction sequences; the module parser supplies the identifier spaces
    (``func_ids`` ...), ``local_ids``, ``labels``, ``types`` and ``implicit_type``."""

    labels: list
    local_ids: dict

    # -- the sequence machine ----------------------------------------------------------
    def instrs(self, out: list, single: bool = False) -> None:
        """Parse instructions into ``out`` up to the ``)`` that closes the enclosing form,
        which is not consumed. With ``single``, parse exactly one folded instruction."""
        kinds, values = self.kinds, self.values
        labels = self.labels
        append = out.append
        frames: list = []
        if single and kinds[self.i] != LPAR:
            raise self.unexpected()
        while True:
            i = self.i
            k = kinds[i]
            top = frames[-1] if frames else None
            if k == KEYWORD:
                if top is not None and (top[0] == _FOLDED or (
                        top[0] == _IF_FRAME and top[1] != _THEN and top[1] != _ELSE_ST)):
                    # Operands of a folded instruction must themselves be folded.
                    raise self.unexpected()
                op = BY_TEXT.get(values[i])
                if op is None:
                    raise self.unexpected()
                self.i = i + 1
                if op is _BLOCK or op is _LOOP or op is _IF:
                    label = self.opt_id()
                    bt = self.resolve_bt(self.blocktype())
                    append(Instr(op, (bt,)))
                    labels.append(label)
                    if len(labels) > MAX_NESTING:
                        raise self.error(NESTING_TOO_DEEP, i)
                    frames.append([_PLAIN, op, label])
                elif op is _ELSE:
                    if top is None or top[0] != _PLAIN or top[1] is not _IF:
                        raise self.unexpected(i)
                    self.end_label(top[2])
                    top[1] = _ELSE
                    append(_ELSE_INSTR)
                elif op is _END:
                    if top is None or top[0] != _PLAIN:
                        raise self.unexpected(i)
                    self.end_label(top[2])
                    frames.pop()
                    labels.pop()
                    if top[1] is _ELSE and out[-1] is _ELSE_INSTR:
                        out.pop()  # an empty else branch (see the module docstring)
                    append(_END_INSTR)
                else:
                    instr = _NO_IMM.get(op)
                    append(instr if instr is not None else self.immediates(op, False))
            elif k == LPAR:
                if top is not None and top[0] == _IF_FRAME:
                    state = top[1]
                    word = values[i + 1] if kinds[i + 1] == KEYWORD else None
                    if state == _COND and word == "then":
                        self.i = i + 2
                        append(Instr(_IF, (self.resolve_bt(top[2]),)))
                        labels.append(top[3])
                        if len(labels) > MAX_NESTING:
                            raise self.error(NESTING_TOO_DEEP, i)
                        top[1] = _THEN
                        continue
                    if state == _AFTER_THEN and word == "else":
                        self.i = i + 2
                        append(_ELSE_INSTR)
                        top[1] = _ELSE_ST
                        continue
                    if state == _AFTER_THEN or state == _AFTER_ELSE:
                        raise self.unexpected(i + 1)
                if kinds[i + 1] != KEYWORD:
                    raise self.unexpected(i + 1)
                op = BY_TEXT.get(values[i + 1])
                if op is None:
                    raise self.unexpected(i + 1)
                self.i = i + 2
                if op is _BLOCK or op is _LOOP:
                    label = self.opt_id()
                    append(Instr(op, (self.resolve_bt(self.blocktype()),)))
                    labels.append(label)
                    if len(labels) > MAX_NESTING:
                        raise self.error(NESTING_TOO_DEEP, i)
                    frames.append([_BLOCK_FRAME])
                elif op is _IF:
                    label = self.opt_id()
                    # The condition comes first in the flat order: resolve the type later.
                    frames.append([_IF_FRAME, _COND, self.blocktype(), label])
                elif op is _ELSE or op is _END:
                    raise self.unexpected(i + 1)
                else:
                    instr = _NO_IMM.get(op)
                    if instr is None:
                        instr = self.immediates(op, True)
                    frames.append([_FOLDED, instr])
            elif k == RPAR:
                if top is None:
                    return
                kind = top[0]
                if kind == _FOLDED:
                    instr = top[1]
                    if instr.op.imms == _TYPE_TABLE and type(instr.imm[0]) is FuncType:
                        instr = Instr(instr.op, (self.implicit_type(instr.imm[0]), instr.imm[1]))
                    append(instr)
                    frames.pop()
                elif kind == _BLOCK_FRAME:
                    append(_END_INSTR)
                    labels.pop()
                    frames.pop()
                elif kind == _IF_FRAME:
                    state = top[1]
                    if state == _THEN:
                        top[1] = _AFTER_THEN
                    elif state == _ELSE_ST:
                        top[1] = _AFTER_ELSE
                    elif state == _COND:
                        raise self.unexpected(i)  # a folded if needs its (then ...)
                    else:
                        if state == _AFTER_ELSE and out[-1] is _ELSE_INSTR:
                            out.pop()
                        append(_END_INSTR)
                        labels.pop()
                        frames.pop()
                else:  # an unclosed plain block
                    raise self.unexpected(i)
                self.i = i + 1
                if single and not frames:
                    return
            else:
                raise self.unexpected(i)

    def end_label(self, label) -> None:
        """An optional label after ``else``/``end`` must repeat the block's own label."""
        if self.kinds[self.i] == ID:
            if self.values[self.i] != label:
                raise self.error("mismatching label")
            self.i += 1

    # -- block types and type uses -----------------------------------------------------
    def blocktype(self):
        """A block type: None, a ValType, a type index, or a FuncType still to be resolved
        to an (implicit) type index."""
        kinds, values = self.kinds, self.values
        if kinds[self.i] != LPAR or kinds[self.i + 1] != KEYWORD:
            return None
        word = values[self.i + 1]
        if word != "type" and word != "param" and word != "result":
            return None
        explicit, params, results = self.typeuse_parts(False)
        if explicit is not None:
            return explicit
        if not params and len(results) <= 1:
            return results[0] if results else None
        return FuncType(tuple(params), tuple(results))

    def resolve_bt(self, bt):
        if type(bt) is FuncType:
            return self.implicit_type(bt)
        return bt

    def typeuse_parts(self, names: bool):
        """``(type x)? (param ...)* (result ...)*``: (explicit index or None, params,
        results), with params and results checked against the explicit type. With
        ``names``, a param may be ``(param $id t)``; the ids go to ``self.param_names``."""
        kinds, values = self.kinds, self.values
        explicit = None
        start = self.i
        if self.at_paren("type"):
            self.i += 2
            explicit = self.var(self.type_ids, "type")
            self.rpar()
        params: list = []
        results: list = []
        if names:
            self.param_names = []
        while self.at_paren("param"):
            self.i += 2
            if kinds[self.i] == ID and names:
                self.param_names.append((len(params), values[self.i], self.i))
                self.i += 1
                params.append(self.valtype())
            else:
                params.extend(self.valtypes())
            self.rpar()
        while self.at_paren("result"):
            self.i += 2
            results.extend(self.valtypes())
            self.rpar()
        if self.at_paren("param"):
            raise self.unexpected(self.i + 1)  # a parameter after a result
        if explicit is not None and (params or results):
            if explicit >= len(self.types):
                raise self.error(f"unknown type {explicit}", start)
            ft = self.types[explicit]
            if (ft.__class__ is not FuncType or ft.params != tuple(params)
                    or ft.results != tuple(results)):
                raise self.error("inline function type does not match explicit type", start)
        return explicit, params, results

    # -- immediates --------------------------------------------------------------------
    def immediates(self, op: isa.Opcode, folded: bool) -> Instr:
        plan = _PLANS[op]
        if type(plan) is str:
            return getattr(self, plan)(op, folded)
        return Instr(op, tuple([getattr(self, reader)(op) for reader in plan]))

    def kind_label(self, op) -> int:
        kind = self.kinds[self.i]
        if kind == ID:
            name = self.values[self.i]
            labels = self.labels
            for depth in range(len(labels) - 1, -1, -1):
                if labels[depth] == name:
                    self.i += 1
                    return len(labels) - 1 - depth
            raise self.error(f"unknown label ${name}")
        return self.nat()

    def kind_func(self, op) -> int:
        return self.var(self.func_ids, "function")

    def kind_local(self, op) -> int:
        return self.var(self.local_ids, "local")

    def kind_global(self, op) -> int:
        return self.var(self.global_ids, "global")

    def kind_table(self, op) -> int:
        # table.get/set/size/grow/fill: the table index may be left out (table 0).
        if self.at_var():
            return self.var(self.table_ids, "table")
        return 0

    def kind_elem(self, op) -> int:
        return self.var(self.elem_ids, "elem segment")

    def kind_data(self, op) -> int:
        return self.var(self.data_ids, "data segment")

    def kind_mem(self, op) -> int:
        # memory.size/grow/fill/copy: the memory index may be left out (memory 0).
        if self.at_var():
            return self.var(self.mem_ids, "memory")
        return 0

    def kind_memarg(self, op) -> MemArg:
        kinds, values = self.kinds, self.values
        offset = 0
        align = op.align
        mem = 0
        i = self.i
        if kinds[i] == ID or (kinds[i] == NUM and is_nat(values[i]) and (
                op.lanes is None  # a lane access: a lone number is the lane
                or self._is_var(i + 1)
                or (kinds[i + 1] == KEYWORD and values[i + 1].startswith(("offset=", "align="))))):
            mem = self.var(self.mem_ids, "memory")
        if kinds[self.i] == KEYWORD and values[self.i].startswith("offset="):
            # 64 bits: a 32-bit memory's offset must fit 32 (validation says so); 2.0's
            # text has 32-bit offsets.
            if features.current().memory64:
                offset = self._memarg_value(values[self.i][7:], 64, "i64 constant out of range")
            else:
                offset = self._memarg_value(values[self.i][7:], 32, "i32 constant out of range")
        if kinds[self.i] == KEYWORD and values[self.i].startswith("align="):
            text = values[self.i][6:]
            index = self.i
            n = self._memarg_value(text, 64, "i32 constant out of range")
            if n <= 0 or n & (n - 1):
                raise self.error("alignment must be a power of two", index)
            align = n.bit_length() - 1
        return MemArg(align, offset, mem)

    def _memarg_value(self, text: str, bits: int, message: str) -> int:
        if not is_nat(text):
            raise self.unexpected()  # a reserved word: "unknown operator"
        try:
            n = parse_uint(text, bits, message)
        except NumberError as e:
            raise self.error(str(e)) from None
        self.i += 1
        return n

    def kind_i32(self, op) -> int:
        return self._number(parse_int, 32)

    def kind_i64(self, op) -> int:
        return self._number(parse_int, 64)

    def kind_f32(self, op) -> int:
        return self._number(parse_float, 32)

    def kind_f64(self, op) -> int:
        return self._number(parse_float, 64)

    def _number(self, parse, bits: int) -> int:
        if self.kinds[self.i] != NUM:
            raise self.unexpected()
        try:
            n = parse(self.values[self.i], bits)
        except NumberError as e:
            raise self.error(str(e)) from None
        self.i += 1
        return n

    def kind_lane(self, op) -> int:
        if self.kinds[self.i] != NUM or not is_nat(self.values[self.i]):
            raise self.unexpected()
        return self.nat(8, _lane_error())

    def kind_reftype(self, op):
        return self.heaptype()

    def kind_type(self, op) -> int:
        self.last_type = self.var(self.type_ids, "type")
        return self.last_type

    last_type = -1
    field_ids: ClassVar[dict] = {}  # the module parser's own: type index -> field names

    def kind_field(self, op) -> int:
        """A field of the type just read: a number, or a name of that struct type's."""
        if self.kinds[self.i] == ID:
            return self.var(self.field_ids.get(self.last_type, {}), "field")
        return self.nat()

    def kind_count(self, op) -> int:
        return self.nat()

    def kind_casttype(self, op):
        return self.reftype()

    def imm_cast(self, op, folded) -> Instr:
        """``ref.test rt``/``ref.cast rt``: the row by the type's nullability."""
        t = self.reftype()
        if t.nullable:
            op = OPS[op.name + "_null"]
        return Instr(op, (t,))

    def imm_br_table(self, op, folded) -> Instr:
        targets = [self.kind_label(op)]
        while self.at_var():
            targets.append(self.kind_label(op))
        return Instr(op, (tuple(targets[:-1]), targets[-1]))

    def imm_call_indirect(self, op, folded) -> Instr:
        table = self.kind_table(op)
        explicit, params, results = self.typeuse_parts(False)
        if explicit is None:
            ft = FuncType(tuple(params), tuple(results))
            # A folded call_indirect comes after its operands: resolve when it is emitted.
            explicit = ft if folded else self.implicit_type(ft)
        return Instr(op, (explicit, table))

    def imm_table_init(self, op, folded) -> Instr:
        # "table.init x y" is table x, element segment y; "table.init y" uses table 0.
        if self._is_var(self.i) and self._is_var(self.i + 1):
            table = self.var(self.table_ids, "table")
            return Instr(op, (self.kind_elem(op), table))
        return Instr(op, (self.kind_elem(op), 0))

    def imm_memory_init(self, op, folded) -> Instr:
        # "memory.init x y" is memory x, data segment y; "memory.init y" uses memory 0.
        if self._is_var(self.i) and self._is_var(self.i + 1):
            mem = self.var(self.mem_ids, "memory")
            return Instr(op, (self.kind_data(op), mem))
        return Instr(op, (self.kind_data(op), 0))

    def _is_var(self, i: int) -> bool:
        return self.kinds[i] == ID or (self.kinds[i] == NUM and is_nat(self.values[i]))

    def imm_table_copy(self, op, folded) -> Instr:
        if self.at_var():
            dst = self.var(self.table_ids, "table")
            src = self.var(self.table_ids, "table")
            return Instr(op, (dst, src))
        return Instr(op, (0, 0))

    def imm_select(self, op, folded) -> Instr:
        if not self.at_paren("result"):
            return _SELECT_INSTR
        types: list = []
        while self.at_paren("result"):
            self.i += 2
            types.extend(self.valtypes())
            self.rpar()
        return Instr(_SELECT_T, (tuple(types),))

    def imm_v128(self, op, folded) -> Instr:
        kinds, values = self.kinds, self.values
        if kinds[self.i] != KEYWORD or values[self.i] not in SHAPES:
            raise self.unexpected()
        count, bits, kind = SHAPES[values[self.i]]
        self.i += 1
        start = self.i
        while kinds[self.i] == NUM:
            self.i += 1
        if self.i - start != count:
            self.lane_stop(count > self.i - start)
            raise self.error("wrong number of lane literals", start)
        lanes = []
        for j in range(start, start + count):
            try:
                lanes.append(parse_lane(values[j], bits, kind))
            except NumberError as e:
                raise self.error(str(e), j) from None
        return Instr(op, (v128_from_lanes(lanes, bits),))

    def lane_stop(self, short: bool) -> None:
        """Lanes ended early at a token that is an error of its own (a reserved word, an
        unknown keyword): report that rather than the lane count."""
        kind = self.kinds[self.i]
        if short and (kind == ERR or (kind == KEYWORD and not known_keyword(self.values[self.i]))):
            raise self.unexpected()

    def imm_shuffle(self, op, folded) -> Instr:
        kinds, values = self.kinds, self.values
        start = self.i
        while kinds[self.i] == NUM:
            self.i += 1
        if self.i - start != 16:
            self.lane_stop(self.i - start < 16)
            raise self.error("invalid lane length", start)
        lanes = []
        for j in range(start, start + 16):
            try:
                lanes.append(parse_uint(values[j], 8, _lane_error()))
            except NumberError as e:
                raise self.error(str(e), j) from None
        return Instr(op, (tuple(lanes),))


def _lane_error() -> str:
    """The error for a lane index that is no u8: the spec's wording changed in 3.0."""
    return "i8 constant out of range" if features.current().wording_3_0 \
        else "malformed lane index"

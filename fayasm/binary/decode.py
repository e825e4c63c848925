"""Binary decoder: bytes -> syntax.Module, with the spec's wording for every malformed input."""
from __future__ import annotations

import gc

from fayasm import features, isa
from fayasm.closing import Closer, close_module, deftypes
from fayasm.errors import LOCALS_LIMIT, NESTING_TOO_DEEP, TOO_MANY_LOCALS, DecodeError
from fayasm.runtime.limits import MAX_LOCALS, MAX_NESTING
from fayasm.runtime.types import (
    I8,
    I16,
    ArrayType,
    ExternKind,
    FieldType,
    FuncType,
    GlobalType,
    HeapType,
    Limits,
    MemoryType,
    StructType,
    TableType,
    ValType,
)
from fayasm.syntax import (
    ACTIVE,
    DECLARATIVE,
    FUNC_INDICES,
    PASSIVE,
    Custom,
    Data,
    Elem,
    Export,
    Function,
    Global,
    Import,
    Instr,
    MemArg,
    Module,
)

from .names import decode_names
from .reader import Reader

MAGIC = b"\0asm"
VERSION = b"\x01\0\0\0"

CUSTOM, TYPE, IMPORT, FUNCTION, TABLE, MEMORY, GLOBAL, EXPORT, START, ELEMENT, CODE, DATA, \
    DATACOUNT = range(13)
# Section order: ids may appear at most once, in this order (data count sits before code).
ORDER = [TYPE, IMPORT, FUNCTION, TABLE, MEMORY, GLOBAL, EXPORT, START, ELEMENT, DATACOUNT,
         CODE, DATA]

_NUM_TYPES = {0x7F: ValType.I32, 0x7E: ValType.I64, 0x7D: ValType.F32, 0x7C: ValType.F64}
_REF_TYPES = {t.short_code: t for t in ValType.simple() if t.is_ref}
_HEAP_TYPES = {h.value: h for h in HeapType}
# Bumped whenever a concrete heap type (a type index) is read: a module read without one
# has nothing to close (fayasm.closing). It only grows, so a decode running in another
# thread can only make this one close needlessly, never skip closing.
_CONCRETE = [0]
_ELSE = isa.OPS["else"]
_END = isa.OPS["end"]
_IF = isa.OPS["if"]
_DATA_OPS = (isa.OPS["memory.init"], isa.OPS["data.drop"], isa.OPS["array.new_data"],
             isa.OPS["array.init_data"])
_CAST_IMMS = ("label", "casttype", "casttype")


def value_type(r: Reader) -> ValType:
    b = r.peek()
    if b is None:
        r.byte()  # raises "unexpected end"
    if b >= 0x80:
        r.byte()
        raise DecodeError("integer representation too long", r.pos)
    if b >= 0x7C:
        r.pos += 1
        return _NUM_TYPES[b]
    if b >= 0x74:
        r.pos += 1
        if b == 0x7B:
            return ValType.V128
        raise DecodeError("malformed vector type", r.pos - 1)
    return ref_type(r)


def ref_type(r: Reader) -> ValType:
    b = r.byte()
    t = _REF_TYPES.get(b)
    if t is None:
        if b == 0x63 or b == 0x64:
            return ValType.ref(b == 0x63, heap_type(r))
        raise DecodeError("malformed reference type", r.pos - 1)
    return t


def heap_type(r: Reader):
    """An abstract heap type (one byte) or a type index (a non-negative s33)."""
    b = r.peek()
    h = _HEAP_TYPES.get(b)
    if h is not None:
        r.pos += 1
        return h
    pos = r.pos
    x = r.sN(33)
    if x < 0:
        raise DecodeError("malformed heap type", pos)
    _CONCRETE[0] += 1
    return x


def field_type(r: Reader) -> FieldType:
    """A struct field or array element: storage type (i8 0x78, i16 0x77 or a value
    type) and mutability."""
    b = r.peek()
    if b == 0x78 or b == 0x77:
        r.pos += 1
        st = I8 if b == 0x78 else I16
    else:
        st = value_type(r)
    m = r.byte()
    if m > 1:
        raise DecodeError("malformed mutability", r.pos - 1)
    return FieldType(st, bool(m))


def ref_null_type(r: Reader) -> ValType:
    """``ref.null``'s immediate, a heap type, kept as the type it pushes."""
    return ValType.ref(True, heap_type(r))


def limits(r: Reader) -> tuple[Limits, ValType]:
    """Limits and the address type: flag bit 0 says a maximum follows, bit 2 (memory64)
    an i64 address type. Bounds are u64 LEB128s (validation bounds them by type); 2.0's
    are u32s after a one-bit flag."""
    if not features.current().memory64:
        flags = r.uN(1)  # a one-bit LEB128: 0x02 is "integer too large"
        lo = r.u32()
        return Limits(lo, r.u32() if flags & 1 else None), ValType.I32
    flags = r.byte()
    if flags & ~5:  # bit 1 is a shared memory (threads), not in 3.0
        raise DecodeError("malformed limits flags", r.pos - 1)
    lo = r.uN(64)
    return (Limits(lo, r.uN(64) if flags & 1 else None),
            ValType.I64 if flags & 4 else ValType.I32)


def memory_type(r: Reader) -> MemoryType:
    return MemoryType(*limits(r))


def table_type(r: Reader) -> TableType:
    t = ref_type(r)
    return TableType(t, *limits(r))


def table(r: Reader) -> tuple:
    """A table definition: its type, and its initializer expression if it has one
    (``0x40 0x00`` then the type and the expression)."""
    if r.peek() == 0x40:
        r.pos += 1
        r.expect(0, "malformed table")
        t = table_type(r)
        return t, const_expr(r)
    return table_type(r), None


def global_type(r: Reader) -> GlobalType:
    t = value_type(r)
    m = r.byte()
    if m > 1:
        raise DecodeError("malformed mutability", r.pos - 1)
    return GlobalType(t, bool(m))


def block_type(r: Reader):
    b = r.peek()
    if b == 0x40:
        r.pos += 1
        return None
    if b is not None and (b & 0xC0 == 0x40 or b == 0x63 or b == 0x64 or 0x6A <= b <= 0x6E):
        return value_type(r)
    return r.sN(33)


def _zero(r: Reader) -> int:
    r.expect(0, "zero byte expected")
    return 0


def _memarg2(r: Reader) -> MemArg:
    pos = r.pos
    align = r.u32()
    if align >= 32:
        raise DecodeError("malformed memop flags", pos)
    return MemArg(align, r.u32())


def _imm_reader(kind: str, wasm2: bool = False):
    """The function that decodes one immediate of ``kind`` (``wasm2``: as 2.0 does, a
    reserved zero byte for a memory and a u32 offset)."""
    if kind in ("label", "func", "type", "table", "local", "global", "elem", "data", "field",
                "count"):
        return Reader.u32
    if wasm2 and kind == "mem":
        return _zero
    if wasm2 and kind == "memarg":
        return _memarg2
    if kind == "mem":
        return Reader.u32  # a memory index (multi-memory; a zero byte in 2.0)
    if kind == "memarg":
        def memarg(r: Reader) -> MemArg:
            pos = r.pos
            flags = r.u32()
            if flags >= 128:  # bits 0-5: log2 of the alignment; bit 6: a memory index
                raise DecodeError("malformed memop flags", pos)
            if flags & 0x40:
                mem = r.u32()
                return MemArg(flags & 0x3F, r.uN(64), mem)
            return MemArg(flags, r.uN(64))
        return memarg
    if kind == "labels":
        def labels(r: Reader) -> tuple:
            return tuple(r.u32() for _ in range(r.length()))
        return labels
    return {
        "blocktype": block_type,
        "i32": Reader.s32,
        "i64": Reader.s64,
        "f32": Reader.f32_bits,
        "f64": Reader.f64_bits,
        "v128": lambda r: int.from_bytes(r.bytes(16), "little"),
        "lane": Reader.byte,
        "shuffle": lambda r: tuple(r.bytes(16)),
        "reftype": ref_null_type,

        "valtypes": lambda r: tuple(value_type(r) for _ in range(r.length())),
    }[kind]


def _cast_reader(nullable: bool):
    def cast(r: Reader) -> ValType:
        return ValType.ref(nullable, heap_type(r))
    return cast


def _br_on_cast(r: Reader) -> tuple:
    """br_on_cast's immediates (flags, label, two heap types) as (label, rt1, rt2): flag
    bit 0 makes rt1 nullable, bit 1 rt2."""
    flags = r.byte()
    if flags > 3:
        raise DecodeError("malformed br_on_cast flags", r.pos - 1)
    label = r.u32()
    h1 = heap_type(r)
    h2 = heap_type(r)
    return (label, ValType.ref(bool(flags & 1), h1), ValType.ref(bool(flags & 2), h2))


def _entry(op, wasm2: bool = False):
    """(op, immediate readers, shared Instr): an instruction without immediates is
    immutable, so one Instr per opcode serves every occurrence. br_on_cast's one reader
    gives all its immediates (its flags byte says which types are nullable)."""
    if op.imms == _CAST_IMMS:
        return (op, (_br_on_cast,), None)
    if op.imms == ("casttype",):
        return (op, (_cast_reader(op.name.endswith("_null")),), None)
    readers = tuple(_imm_reader(k, wasm2) for k in op.imms)
    return (op, readers, None if readers else Instr(op))


def _tables(wasm2: bool):
    """Per opcode: its entry, for the top level and each prefix."""
    plain = [None] * 256
    for op in isa.ALL:
        if op.prefix is None:
            plain[op.code] = _entry(op, wasm2)
    prefixed = {p: {code: _entry(op, wasm2) for code, op in table.items()}
                for p, table in isa.BY_PREFIXED.items()}
    return plain, prefixed


_CAST_ROW_IMMS = isa.OPS["br_on_cast"].imms
assert isa.OPS["br_on_cast_fail"].imms is _CAST_ROW_IMMS or \
    isa.OPS["br_on_cast_fail"].imms == _CAST_ROW_IMMS
_PLAIN, _PREFIXED = _tables(False)
_PLAIN2, _PREFIXED2 = _tables(True)  # with multi-memory and memory64 off (features.WASM2)
_new = tuple.__new__  # NamedTuple's own __new__ is a slower Python function


def instructions(r: Reader) -> list[Instr]:
    """Decode instructions up to the ``end`` that closes the sequence; that end is consumed."""
    out = []
    append = out.append
    # Openers of the enclosing blocks: an ``else`` is only allowed once, directly in an ``if``.
    openers: list = []
    data = r.data
    plain, prefixed = ((_PLAIN, _PREFIXED) if features.current().multi_memory
                       else (_PLAIN2, _PREFIXED2))
    while True:
        pos = r.pos
        if pos >= r.end:
            r.byte()  # raises "unexpected end"
        b = data[pos]
        r.pos = pos + 1
        entry = plain[b]
        if entry is None:
            if b in prefixed:
                sub = r.u32()
                entry = prefixed[b].get(sub)
                if entry is None:
                    raise DecodeError(f"illegal opcode {b:02x} {sub:02x}", pos)
            else:
                raise DecodeError(f"illegal opcode {b:02x}", pos)
        op, readers, shared = entry
        if shared is not None:
            if op is _END:
                if not openers:
                    return out
                openers.pop()
            elif op is _ELSE:
                if not openers or openers[-1] is not _IF:
                    raise DecodeError("END opcode expected", pos)
                openers[-1] = _ELSE
            append(shared)
            continue
        if len(readers) == 1:
            if op.imms is _CAST_ROW_IMMS:
                append(_new(Instr, (op, readers[0](r))))
                continue
            append(_new(Instr, (op, (readers[0](r),))))
            if op.imms[0] == "blocktype":
                openers.append(op)
                if len(openers) > MAX_NESTING:
                    raise DecodeError(NESTING_TOO_DEEP, pos)
        else:
            append(_new(Instr, (op, tuple([read(r) for read in readers]))))


def const_expr(r: Reader) -> list[Instr]:
    return instructions(r)


def _vec(r: Reader, item) -> list:
    return [item(r) for _ in range(r.length())]


class _Decoder:
    def __init__(self, data: bytes, trusted: bool = False):
        self.r = Reader(data)
        self.trusted = trusted
        self.m = Module()
        self.func_types: list[int] = []
        self.code_count: int | None = None
        self.concrete = _CONCRETE[0]
        # [the module's Closer or None, the module]: lazily decoded bodies close their
        # types with it (made on first need: the module may name types only in bodies)
        self.closer: list = [None, self.m]

    def run(self) -> Module:
        r = self.r
        if len(r.data) < 4:
            raise DecodeError("unexpected end", len(r.data))
        if r.data[:4] != MAGIC:
            raise DecodeError("magic header not detected", 0)
        if len(r.data) < 8:
            raise DecodeError("unexpected end", len(r.data))
        if r.data[4:8] != VERSION:
            raise DecodeError("unknown binary version", 4)
        r.pos = 8
        last = 0  # position of the last non-custom section in ORDER, plus one
        last_id = 0
        while not r.eof():
            start = r.pos
            sid = r.byte()
            if sid > DATACOUNT:
                raise DecodeError("malformed section id", start)
            size = r.length()
            body = r.pos
            if sid == CUSTOM:
                self.custom(size, last_id)
            else:
                rank = ORDER.index(sid) + 1
                if rank <= last:
                    # A repeated or misplaced section: the reference decoder has already
                    # moved on and sees content after the last section it can take.
                    raise DecodeError("unexpected content after last section", start)
                last = rank
                self.section(sid, size)
                # Customs are placed after the last section the encoder would write again;
                # it leaves out empty sections, so they do not count.
                if self.nonempty(sid):
                    last_id = sid
            if r.pos != body + size:
                raise DecodeError("section size mismatch", body)
        m = self.m
        if self.code_count is None:
            self.code_count = 0
        if len(self.func_types) != self.code_count:
            raise DecodeError("function and code section have inconsistent lengths", r.pos)
        if m.data_count is not None and m.data_count != len(m.datas):
            raise DecodeError("data count and data section have inconsistent lengths", r.pos)
        if m.data_count is None and not self.trusted and any(
                i.op in _DATA_OPS for f in m.funcs for i in f.body):
            raise DecodeError("data count section required", r.pos)
        if _CONCRETE[0] != self.concrete:
            self.closer[0] = close_module(m, funcs=not self.trusted)
        for c in m.customs:
            if c.name == "name":
                names = decode_names(c.data, len(m.imported(ExternKind.FUNC)) + len(m.funcs))
                if names is not None:
                    m.names = names
        return m

    def nonempty(self, sid: int) -> bool:
        m = self.m
        return bool({TYPE: m.types, IMPORT: m.imports, FUNCTION: self.func_types,
                     TABLE: m.tables, MEMORY: m.mems, GLOBAL: m.globals, EXPORT: m.exports,
                     ELEMENT: m.elems, CODE: m.funcs, DATA: m.datas}.get(sid, True))

    def custom(self, size: int, after: int) -> None:
        r = self.r
        start = r.pos
        name = r.name()
        rest = size - (r.pos - start)
        data = r.bytes(rest) if rest >= 0 else r.bytes(-1)
        self.m.customs.append(Custom(name, data, after))

    def section(self, sid: int, size: int) -> None:
        r, m = self.r, self.m
        if sid == TYPE:
            self.type_section(r)
        elif sid == IMPORT:
            m.imports = _vec(r, self.import_)
        elif sid == FUNCTION:
            self.func_types = _vec(r, Reader.u32)
        elif sid == TABLE:
            for k, (t, init) in enumerate(_vec(r, table)):
                m.tables.append(t)
                if init is not None:
                    m.table_inits[k] = init
        elif sid == MEMORY:
            m.mems = _vec(r, memory_type)
        elif sid == GLOBAL:
            m.globals = _vec(r, lambda r: Global(global_type(r), const_expr(r)))
        elif sid == EXPORT:
            m.exports = _vec(r, self.export)
        elif sid == START:
            m.start = r.u32()
        elif sid == ELEMENT:
            m.elems = _vec(r, self.elem)
        elif sid == DATACOUNT:
            m.data_count = r.u32()
        elif sid == CODE:
            n = r.length()
            self.code_count = n
            for i in range(n):
                m.funcs.append(self.code(self.func_types[i] if i < len(self.func_types) else 0))
        elif sid == DATA:
            m.datas = _vec(r, self.data)

    def type_section(self, r: Reader) -> None:
        """Rec groups of subtypes; a type outside ``rec`` is a group of its own. The
        groups and ``sub`` declarations go in ``rec_groups`` and ``subtypes``."""
        m = self.m
        groups = []
        explicit = False
        for _ in range(r.length()):
            start = len(m.types)
            if r.peek() == 0x4E:
                r.pos += 1
                explicit = True
                for _ in range(r.length()):
                    self.sub_type(r)
            else:
                self.sub_type(r)
            groups.append((start, len(m.types) - start))
        if explicit:
            m.rec_groups = groups
            _CONCRETE[0] += 1

    def sub_type(self, r: Reader) -> None:
        m = self.m
        b = r.peek()
        if b == 0x50 or b == 0x4F:
            r.pos += 1
            supers = tuple(_vec(r, Reader.u32))
            m.subtypes[len(m.types)] = (b == 0x4F, supers)
            _CONCRETE[0] += 1
        m.types.append(self.comp_type(r))

    def comp_type(self, r: Reader):
        b = r.byte()
        if b == 0x60:
            params = tuple(_vec(r, value_type))
            results = tuple(_vec(r, value_type))
            return FuncType(params, results)
        if b == 0x5F:
            return StructType(tuple(_vec(r, field_type)))
        if b == 0x5E:
            return ArrayType(field_type(r))
        raise DecodeError("integer representation too long" if b & 0x80 else
                          "malformed function type", r.pos - 1)

    def func_type(self, r: Reader) -> FuncType:
        b = r.byte()
        if b != 0x60:
            raise DecodeError("integer representation too long" if b & 0x80 else
                              "malformed function type", r.pos - 1)
        params = tuple(_vec(r, value_type))
        results = tuple(_vec(r, value_type))
        return FuncType(params, results)

    def import_(self, r: Reader) -> Import:
        module = r.name()
        name = r.name()
        kind = r.byte()
        if kind == 0:
            return Import(module, name, ExternKind.FUNC, r.u32())
        if kind == 1:
            return Import(module, name, ExternKind.TABLE, table_type(r))
        if kind == 2:
            return Import(module, name, ExternKind.MEMORY, memory_type(r))
        if kind == 3:
            return Import(module, name, ExternKind.GLOBAL, global_type(r))
        raise DecodeError("malformed import kind", r.pos - 1)

    def export(self, r: Reader) -> Export:
        name = r.name()
        kind = r.byte()
        if kind > 3:
            raise DecodeError("malformed export kind", r.pos - 1)
        return Export(name, ExternKind(kind), r.u32())

    def elem(self, r: Reader) -> Elem:
        pos = r.pos
        flags = r.u32()
        if flags > 7:
            raise DecodeError("malformed elements segment kind", pos)
        mode = (PASSIVE if flags & 1 and not flags & 2
                else DECLARATIVE if flags & 3 == 3 else ACTIVE)
        table, offset = 0, None
        if mode == ACTIVE:
            if flags & 2:
                table = r.u32()
            offset = const_expr(r)
        if flags & 4:  # expressions
            etype = ref_type(r) if flags & 3 else ValType.FUNCREF
            init = _vec(r, const_expr)
        else:
            etype = FUNC_INDICES
            if flags & 3:
                if r.byte() != 0:
                    raise DecodeError("malformed element kind", r.pos - 1)
            ref_func = isa.OPS["ref.func"]
            init = [[Instr(ref_func, (idx,))] for idx in _vec(r, Reader.u32)]
        return Elem(etype, init, mode, table, offset)

    def data(self, r: Reader) -> Data:
        pos = r.pos
        flags = r.u32()
        if flags > 2:
            raise DecodeError("malformed data segment kind", pos)
        if flags == 1:
            return Data(r.bytes(r.length()), PASSIVE)
        memory = r.u32() if flags == 2 else 0
        offset = const_expr(r)
        return Data(r.bytes(r.length()), ACTIVE, memory, offset)

    def code(self, type_idx: int) -> Function:
        r = self.r
        size = r.length()
        start = r.pos
        if self.trusted:
            r.pos = start + size
            return LazyFunction(type_idx, r.data, start, self.closer)
        locals_, body = code_entry(r)
        if r.pos != start + size:
            raise DecodeError("section size mismatch", start)
        return Function(type_idx, locals_, body)


def code_entry(r: Reader) -> tuple[tuple, list[Instr]]:
    """The locals and body of one code entry (after its size)."""
    pos = r.pos
    locals_: list = []
    total = 0
    for _ in range(r.length()):
        n = r.u32()
        t = value_type(r)
        total += n
        if total >= 1 << 32:
            raise DecodeError(TOO_MANY_LOCALS, pos)
        locals_.append((n, t))
    if total > MAX_LOCALS:  # an implementation limit (runtime.limits)
        raise DecodeError(LOCALS_LIMIT, pos)
    flat = tuple(t for n, t in locals_ for _ in range(n))
    return flat, instructions(r)


class LazyFunction(Function):
    """A function of a binary already known valid (fayasm.validcache), whose locals and
    body are decoded on first use; otherwise a Function like any other."""

    def __init__(self, type_idx: int, data: bytes, start: int, closer: list):
        self.type_idx = type_idx
        self._at = (data, start, closer)
        self._decoded: tuple | None = None

    def _load(self) -> tuple:
        if self._decoded is None:
            data, start, closer = self._at
            enabled = gc.isenabled()
            gc.disable()
            try:
                seen = _CONCRETE[0]
                locals_, body = code_entry(Reader(data, start))
                if closer[0] is None and _CONCRETE[0] != seen:
                    closer[0] = Closer(deftypes(closer[1]))
                if closer[0] is not None:
                    locals_ = closer[0].valtypes(locals_)
                    closer[0].body(body)
                self._decoded = (locals_, body)
            finally:
                if enabled:
                    gc.enable()
        return self._decoded

    def __eq__(self, other):
        # The dataclass __eq__ compares only objects of one class; a lazy function
        # equals the eager one decoded from the same bytes.
        if isinstance(other, Function):
            return ((self.type_idx, self.locals, self.body)
                    == (other.type_idx, other.locals, other.body))
        return NotImplemented

    __hash__ = None

    @property
    def locals(self) -> tuple:
        return self._load()[0]

    @locals.setter
    def locals(self, value) -> None:
        self._decoded = (tuple(value), self._load()[1])

    @property
    def body(self) -> list[Instr]:
        return self._load()[1]

    @body.setter
    def body(self, value) -> None:
        self._decoded = (self._load()[0], value)


def decode(data: bytes, trusted: bool = False) -> Module:
    """Decode a binary module; raises DecodeError (with the spec's message) if malformed.
    ``trusted``: the binary is known valid (fayasm.validcache), so function bodies are
    decoded on first use (LazyFunction) and the checks that need them are skipped."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("decode() takes bytes")
    # Decoding allocates a great many small objects and no reference cycles; left on, the
    # cyclic collector rescans them over and over (about half the time on large modules).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _Decoder(bytes(data), trusted).run()
    finally:
        if enabled:
            gc.enable()

"""Modules of the text format: every module field, its abbreviations, and identifier spaces.

Parsing takes two passes over the fields, because identifiers may be used before their
definition: the first binds every identifier (and reads the explicit type definitions,
which implicit type uses must find), the second builds the module in text order.
"""
from __future__ import annotations

from fayasm import features, isa
from fayasm.closing import close_module
from fayasm.errors import LOCALS_LIMIT
from fayasm.runtime.limits import MAX_LOCALS
from fayasm.runtime.types import (
    I8,
    I16,
    ArrayType,
    ExternKind,
    FieldType,
    FuncType,
    GlobalType,
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
    Data,
    Elem,
    Export,
    Function,
    Global,
    Import,
    Instr,
    Module,
)

from . import annotations
from .base import REFTYPES
from .instructions import InstrParser
from .lexer import EOF, ID, KEYWORD, LPAR, NUM, RPAR, STRING, Tokens

_REF_FUNC = isa.OPS["ref.func"]
_I32_CONST = isa.OPS["i32.const"]
_I64_CONST = isa.OPS["i64.const"]
_DATA_OPS = (isa.OPS["memory.init"], isa.OPS["data.drop"])
_KINDS = {"func": ExternKind.FUNC, "table": ExternKind.TABLE, "memory": ExternKind.MEMORY,
          "global": ExternKind.GLOBAL, "tag": ExternKind.TAG}
_DEF_WORDS = {"func": "function", "table": "table", "memory": "memory", "global": "global",
              "tag": "tag"}
PAGE = 65536


class ModuleParser(InstrParser):
    """Parses one module (``(module ...)`` or a bare list of fields) from a token stream."""

    def __init__(self, toks: Tokens, pos: int = 0):
        super().__init__(toks, pos)
        self.types: list = []
        self.rec_groups: list = []  # (start, count) of each type field or rec group
        self.explicit_rec = False
        self.subtypes: dict = {}
        self.field_ids: dict = {}  # type index -> {field name: field index}
        self.type_index: dict[FuncType, int] = {}
        self.type_ids: dict = {}
        self.prebound: dict = {}
        self.skip_definition = False  # a script's (module definition ...)
        self.func_ids: dict = {}
        self.table_ids: dict = {}
        self.mem_ids: dict = {}
        self.global_ids: dict = {}
        self.elem_ids: dict = {}
        self.data_ids: dict = {}
        self.tag_ids: dict = {}
        self.explicit_rec = False
        self.local_ids: dict = {}
        self.labels: list = []
        self.param_names: list = []
        self.m = Module()
        self.counts = {"func": 0, "table": 0, "memory": 0, "global": 0, "elem": 0, "data": 0,
                       "tag": 0}
        self.last_def: tuple | None = None  # (field number, kind word) of the last definition
        self.import_after: tuple | None = None
        self.start_seen: int | None = None
        self.multiple_start: tuple | None = None
        # (first token, last token, defined function index, body) of each function body
        self.func_spans: list = []
        self.first_token: int | None = None  # where the module's own annotations begin

    # -- entry points ------------------------------------------------------------------
    def module(self) -> Module:
        """``(module $id? field*)`` at the cursor; the cursor ends after its ``)``."""
        self.first_token = self.i
        self.open("module")
        if self.skip_definition and self.at_keyword("definition"):
            self.i += 1
        name = self.opt_id()
        named = annotations.take(self.toks, self.i, annotations.NAME)
        if len(named) > 1:
            raise annotations.error(self.toks, named[1],
                                    "@name annotation: multiple module names")
        m = self.fields(RPAR)
        self.rpar()
        m.names.module = named[0].value if named and named[0].value is not None else name
        return m

    def fields(self, terminator: int) -> Module:
        """Module fields up to a token of kind ``terminator`` (not consumed)."""
        kinds, values = self.kinds, self.values
        fields = []
        i = self.i
        if self.first_token is None:
            self.first_token = i
        self.bind_type_names(i)
        while kinds[i] == LPAR:
            end = self.skip_balanced(i)
            word = values[i + 1] if kinds[i + 1] == KEYWORD else None
            fields.append((word, i, end))
            self.bind(word, i, end)
            if kinds[end] == EOF:
                break
            i = end + 1
        for n, (word, i, _end) in enumerate(fields):
            handler = _FIELDS.get(word)
            if handler is None:
                raise self.unexpected(i + 1)
            self.i = i + 2
            handler(self, n, i)
            self.rpar()
        if self.kinds[self.i] != terminator:
            raise self.unexpected()
        if self.import_after is not None or self.multiple_start is not None:
            # The reference parser checks these while assembling the module from its
            # last field backwards: the rightmost offending field is reported.
            found = [e for e in (self.import_after, self.multiple_start) if e is not None]
            _, message, index = max(found, key=lambda e: e[0])
            raise self.error(message, index)
        m = self.m
        if self.toks.annotations:
            customs, m.branch_hints = annotations.check(
                self.toks, self.first_token, self.i, {i for _, i, _ in fields}, self.func_spans)
            m.customs += customs
        m.types = self.types
        if self.explicit_rec:
            m.rec_groups = self.rec_groups + [(k, 1) for k in range(
                sum(c for _, c in self.rec_groups), len(self.types))]
        m.subtypes = self.subtypes
        if self.concrete or self.explicit_rec or self.subtypes:
            close_module(m)
        for space, ids in (("types", self.type_ids), ("tables", self.table_ids),
                           ("mems", self.mem_ids), ("globals", self.global_ids),
                           ("elems", self.elem_ids), ("datas", self.data_ids),
                           ("tags", self.tag_ids)):
            names = getattr(m.names, space)
            # an @name annotation (funcs, tags) wins over the $id
            names.update((index, name) for name, index in ids.items() if index not in names)
        if any(instr.op in _DATA_OPS for f in m.funcs for instr in f.body):
            # Like wat2wasm, a data count section only when code needs one; but also when
            # there are no data segments (wat2wasm then writes none, which makes the
            # binary malformed where the spec expects an invalid module).
            m.data_count = len(m.datas)
        return m

    # -- pass 1: identifiers -----------------------------------------------------------
    def bind_type_names(self, i: int) -> None:
        """Bind every ``(type $id ...)`` name first: a type may name a later one (which
        validation then rejects as an unknown type, not the parser)."""
        kinds, values = self.kinds, self.values
        n = 0
        while kinds[i] == LPAR:
            end = self.skip_balanced(i)
            if kinds[i + 1] == KEYWORD and values[i + 1] == "type":
                if kinds[i + 2] == ID and values[i + 2] not in self.type_ids:
                    self.type_ids[values[i + 2]] = n
                n += 1
            elif kinds[i + 1] == KEYWORD and values[i + 1] == "rec":
                j = i + 2
                while kinds[j] == LPAR and kinds[j + 1] == KEYWORD and values[j + 1] == "type":
                    if kinds[j + 2] == ID and values[j + 2] not in self.type_ids:
                        self.type_ids[values[j + 2]] = n
                    n += 1
                    j = self.skip_balanced(j) + 1
                    if kinds[j - 1] == EOF:
                        break
            if kinds[end] == EOF:
                break
            i = end + 1
        self.prebound = dict(self.type_ids)

    def bind(self, word: str | None, i: int, end: int) -> None:
        kinds, values = self.kinds, self.values
        if word == "type":
            self.i = i + 2
            start = len(self.types)
            self.field_type()
            self.rec_groups.append((start, 1))
            self._implicit_candidate(start)
            return
        if word == "rec":
            self.i = i + 2
            start = len(self.types)
            while self.at_paren("type"):
                self.i += 2
                self.field_type()
                self.rpar()
            if self.kinds[self.i] != RPAR:
                raise self.unexpected()
            self.rec_groups.append((start, len(self.types) - start))
            self.explicit_rec = True
            if len(self.types) - start == 1:
                self._implicit_candidate(start)
            return
        if word in ("func", "table", "memory", "global", "elem", "data", "tag"):
            self._bind(word, i + 2)
            if word == "table" and self._has_child(i, end, "elem"):
                self.counts["elem"] += 1
            elif word == "memory" and self._has_child(i, end, "data"):
                self.counts["data"] += 1
        elif word == "import":
            # (import "m" "n" (kind $id? ...))
            j = i + 2
            if (kinds[j] == STRING and kinds[j + 1] == STRING and kinds[j + 2] == LPAR
                    and kinds[j + 3] == KEYWORD and values[j + 3] in _KINDS):
                self._bind(values[j + 3], j + 4)

    def _bind(self, word: str, i: int) -> None:
        space = self._space(word)
        if self.kinds[i] == ID:
            name = self.values[i]
            if name in space:
                raise self.error(f"duplicate {word} ${name}", i)
            space[name] = self.counts[word]
        self.counts[word] += 1

    def _space(self, word: str) -> dict:
        return {"func": self.func_ids, "table": self.table_ids, "memory": self.mem_ids,
                "global": self.global_ids, "elem": self.elem_ids, "data": self.data_ids,
                "tag": self.tag_ids}[word]

    def _has_child(self, i: int, end: int, word: str) -> bool:
        """Whether the field at ``i`` directly contains ``(word ...)``."""
        kinds, values = self.kinds, self.values
        depth = 0
        for j in range(i, end):
            k = kinds[j]
            if k == LPAR:
                depth += 1
                if depth == 2 and kinds[j + 1] == KEYWORD and values[j + 1] == word:
                    return True
            elif k == RPAR:
                depth -= 1
        return False

    # -- shared pieces -----------------------------------------------------------------
    def _implicit_candidate(self, index: int) -> None:
        """An implicit type use may name type ``index`` if it is a function type alone in
        its rec group, final and without supertypes (what ``(type (func ...))`` is)."""
        ct = self.types[index]
        if ct.__class__ is FuncType and self.subtypes.get(index, (True, ())) == (True, ()):
            self.type_index.setdefault(ct, index)

    def implicit_type(self, ft: FuncType) -> int:
        """The first type index equal to ``ft``, appending a new type if there is none."""
        index = self.type_index.get(ft)
        if index is None:
            index = len(self.types)
            self.types.append(ft)
            self.type_index[ft] = index
        return index

    def inline_exports(self, kind: ExternKind, index: int) -> None:
        while self.at_paren("export"):
            self.i += 2
            name = self.name()
            self.rpar()
            self.m.exports.append(Export(name, kind, index))

    def inline_import(self) -> tuple[str, str]:
        self.i += 2  # (import
        module = self.name()
        name = self.name()
        self.rpar()
        return module, name

    def add_import(self, n: int, at: int, imp: Import) -> None:
        if self.last_def is not None:
            d, word = self.last_def
            self.import_after = (d, f"import after {word}", at)
        self.m.imports.append(imp)

    def definition(self, n: int, word: str) -> None:
        self.last_def = (n, _DEF_WORDS[word])

    def address_type(self) -> ValType:
        """An optional ``i32``/``i64`` before limits (memory64); i32 when left out."""
        if self.kinds[self.i] == KEYWORD and self.values[self.i] in ("i32", "i64"):
            self.i += 1
            return ValType.I64 if self.values[self.i - 1] == "i64" else ValType.I32
        return ValType.I32

    def limits(self, address: ValType = ValType.I32) -> Limits:
        # 64-bit bounds (validation bounds them by kind and address type); 2.0's are u32s.
        bits, message = ((64, "i64 constant out of range") if features.current().memory64
                         else (32, "i32 constant out of range"))
        lo = self.nat(bits, message)
        hi = self.nat(bits, message) if self.kinds[self.i] == NUM else None
        return Limits(lo, hi)

    def memory_type(self) -> MemoryType:
        at = self.address_type()
        return MemoryType(self.limits(at), at)

    def table_type(self) -> TableType:
        at = self.address_type()
        lim = self.limits(at)
        return TableType(self.reftype(), lim, at)

    def global_type(self) -> GlobalType:
        if self.at_paren("mut"):
            self.i += 2
            t = self.valtype()
            self.rpar()
            return GlobalType(t, True)
        return GlobalType(self.valtype(), False)

    def func_typeuse(self) -> tuple[int, int | None]:
        """A function's type use: (type index, number of parameters, or None if unknown)."""
        explicit, params, results = self.typeuse_parts(True)
        if explicit is None:
            return self.implicit_type(FuncType(tuple(params), tuple(results))), len(params)
        if params or results:
            return explicit, len(params)
        if explicit < len(self.types) and self.types[explicit].__class__ is FuncType:
            return explicit, len(self.types[explicit].params)
        return explicit, None

    def const_expr(self, single: bool = False) -> list[Instr]:
        self.local_ids = {}
        self.labels = []
        out: list = []
        self.instrs(out, single)
        return out

    def offset(self) -> list[Instr]:
        """``(offset instr*)`` or its abbreviation, one folded instruction."""
        if self.at_paren("offset"):
            self.i += 2
            out = self.const_expr()
            self.rpar()
            return out
        return self.const_expr(single=True)

    def elem_exprs(self) -> list[list[Instr]]:
        """Element expressions: ``(item instr*)`` or one folded instruction each."""
        out = []
        while self.kinds[self.i] == LPAR:
            if self.at_paren("item"):
                self.i += 2
                out.append(self.const_expr())
                self.rpar()
            else:
                out.append(self.const_expr(single=True))
        return out

    def func_refs(self) -> list[list[Instr]]:
        out = []
        while self.at_var():
            out.append([Instr(_REF_FUNC, (self.var(self.func_ids, "function"),))])
        return out

    def elem_list(self, legacy: bool):
        """``func x*`` or ``reftype expr*``; with ``legacy``, a bare list of function indices."""
        kinds, values = self.kinds, self.values
        if kinds[self.i] == KEYWORD:
            word = values[self.i]
            if word == "func":
                self.i += 1
                return FUNC_INDICES, self.func_refs()
            if word in REFTYPES:
                self.i += 1
                return REFTYPES[word], self.elem_exprs()
        elif self.at_paren("ref"):
            return self.ref_type(), self.elem_exprs()
        if legacy:
            return FUNC_INDICES, self.func_refs()
        raise self.unexpected()

    def strings(self) -> bytes:
        parts = []
        while self.kinds[self.i] == STRING:
            parts.append(self.values[self.i])
            self.i += 1
        return b"".join(parts)

    # -- pass 2: fields ----------------------------------------------------------------
    def field_type(self) -> None:
        """``(type $id? comptype)`` or ``(type $id? (sub final? x* comptype))``, read in
        the first pass (inside a ``rec`` too)."""
        name = self.opt_id()
        index = len(self.types)
        if name is not None:
            if self.prebound.pop(name, None) != index:
                raise self.error(f"duplicate type ${name}", self.i - 1)
            self.type_ids[name] = index
        if self.at_paren("sub"):
            self.i += 2
            final = self.at_keyword("final")
            if final:
                self.i += 1
            supers = []
            while self.at_var():
                supers.append(self.var(self.type_ids, "type"))
            self.subtypes[index] = (final, tuple(supers))
            ct = self.comp_type(index)
            self.rpar()
        else:
            ct = self.comp_type(index)
        if self.kinds[self.i] != RPAR:
            raise self.unexpected()
        self.types.append(ct)

    def comp_type(self, index: int):
        """``(func ...)``, ``(struct (field ...)*)`` or ``(array fieldtype)``."""
        if self.at_paren("struct"):
            self.i += 2
            fields: list = []
            names: dict = {}
            while self.at_paren("field"):
                self.i += 2
                if self.kinds[self.i] == ID:
                    fname = self.values[self.i]
                    if fname in names:
                        raise self.error(f"duplicate field ${fname}")
                    names[fname] = len(fields)
                    self.i += 1
                    fields.append(self.field_type_())
                else:
                    while self.kinds[self.i] != RPAR:
                        fields.append(self.field_type_())
                self.rpar()
            self.rpar()
            self.field_ids[index] = names
            return StructType(tuple(fields))
        if self.at_paren("array"):
            self.i += 2
            ft = self.field_type_()
            self.rpar()
            return ArrayType(ft)
        self.open("func")
        params: list = []
        results: list = []
        while self.at_paren("param"):
            self.i += 2
            if self.opt_id() is not None:
                params.append(self.valtype())
            else:
                params.extend(self.valtypes())
            self.rpar()
        while self.at_paren("result"):
            self.i += 2
            results.extend(self.valtypes())
            self.rpar()
        self.rpar()
        return FuncType(tuple(params), tuple(results))

    def field_type_(self) -> FieldType:
        """A field type: a storage type, or ``(mut storagetype)``."""
        if self.at_paren("mut"):
            self.i += 2
            st = self.storage_type()
            self.rpar()
            return FieldType(st, True)
        return FieldType(self.storage_type(), False)

    def storage_type(self):
        if self.kinds[self.i] == KEYWORD and self.values[self.i] in ("i8", "i16"):
            self.i += 1
            return I8 if self.values[self.i - 1] == "i8" else I16
        return self.valtype()

    def p2_type(self, n: int, at: int) -> None:
        # Already read in the first pass: skip to the closing parenthesis.
        self.i = self.skip_balanced(at)

    def p2_func(self, n: int, at: int) -> None:
        m = self.m
        index = self._next_index("func")
        name = self.func_name(self.opt_id())
        if name is not None:
            m.names.funcs[index] = name
        self.inline_exports(ExternKind.FUNC, index)
        if self.at_paren("import"):
            imp_at = self.i
            module, field = self.inline_import()
            type_idx, _ = self.func_typeuse()
            self.add_import(n, imp_at, Import(module, field, ExternKind.FUNC, type_idx))
            return
        self.definition(n, "func")
        typeuse_at = self.i
        type_idx, nparams = self.func_typeuse()
        local_ids: dict = {}
        local_names: dict = {}
        for pos, pname, tok in self.param_names:
            if pname in local_ids:
                raise self.error(f"duplicate local ${pname}", tok)
            local_ids[pname] = pos
            local_names[pos] = pname
        locals_: list = []
        while self.at_paren("local"):
            self.i += 2
            if self.kinds[self.i] == ID:
                lname = self.values[self.i]
                tok = self.i
                self.i += 1
                if nparams is None:
                    raise self.error(f"unknown type {type_idx}", typeuse_at)
                index_ = nparams + len(locals_)
                if lname in local_ids:
                    raise self.error(f"duplicate local ${lname}", tok)
                local_ids[lname] = index_
                local_names[index_] = lname
                locals_.append(self.valtype())
            else:
                locals_.extend(self.valtypes())
            if len(locals_) > MAX_LOCALS:  # as the binary decoder (runtime.limits)
                raise self.error(LOCALS_LIMIT)
            self.rpar()
        if local_names:
            m.names.locals[index] = local_names
        self.local_ids = local_ids
        self.labels = []
        body: list = []
        first = self.i
        self.instrs(body)
        self.func_spans.append((first, self.i, len(m.funcs), body))
        m.funcs.append(Function(type_idx, tuple(locals_), body))

    def func_name(self, name: str | None, what: str = "function") -> str | None:
        """A function's (or tag's) name: a ``(@name "...")`` at the cursor (after its
        ``$id``), else the id."""
        if not self.toks.annotations:
            return name
        named = annotations.take(self.toks, self.i, annotations.NAME)
        if len(named) > 1:
            raise annotations.error(self.toks, named[1],
                                    f"@name annotation: multiple {what} names")
        return named[0].value if named and named[0].value is not None else name

    def _next_index(self, word: str) -> int:
        key = word + "2"
        index = self.counts.get(key, 0)
        self.counts[key] = index + 1
        return index

    def p2_table(self, n: int, at: int) -> None:
        m = self.m
        index = self._next_index("table")
        self.opt_id()
        self.inline_exports(ExternKind.TABLE, index)
        if self.at_paren("import"):
            imp_at = self.i
            module, field = self.inline_import()
            self.add_import(n, imp_at, Import(module, field, ExternKind.TABLE, self.table_type()))
            return
        self.definition(n, "table")
        at = ValType.I32
        if (self.kinds[self.i] == KEYWORD and self.values[self.i] in ("i32", "i64")
                and self.kinds[self.i + 1] == KEYWORD and self.values[self.i + 1] in REFTYPES):
            at = self.address_type()
        if self.at_reftype():
            # (table reftype (elem ...)): a table just big enough for an active segment.
            rt = self.reftype()
            self.open("elem")
            if self.kinds[self.i] == LPAR:
                init = self.elem_exprs()
            else:
                init = self.func_refs()
            self.rpar()
            size = len(init)
            m.tables.append(TableType(rt, Limits(size, size), at))
            self._next_index("elem")
            # The segment has the table's type, items given as indices or not (3.0 text).
            m.elems.append(Elem(rt, init, ACTIVE, index, [_zero_offset(at)]))
            return
        m.tables.append(self.table_type())
        if self.kinds[self.i] != RPAR:  # (table limits reftype expr): an initializer
            m.table_inits[len(m.tables) - 1] = self.const_expr()

    def p2_memory(self, n: int, at: int) -> None:
        m = self.m
        index = self._next_index("memory")
        self.opt_id()
        self.inline_exports(ExternKind.MEMORY, index)
        if self.at_paren("import"):
            imp_at = self.i
            module, field = self.inline_import()
            self.add_import(n, imp_at, Import(module, field, ExternKind.MEMORY,
                                              self.memory_type()))
            return
        self.definition(n, "memory")
        at = ValType.I32
        if (self.kinds[self.i] == KEYWORD and self.values[self.i] in ("i32", "i64")
                and self.kinds[self.i + 1] == LPAR):
            at = self.address_type()
        if self.at_paren("data"):
            # (memory (data ...)): a memory just big enough for an active segment.
            self.i += 2
            data = self.strings()
            self.rpar()
            pages = (len(data) + PAGE - 1) // PAGE
            m.mems.append(MemoryType(Limits(pages, pages), at))
            self._next_index("data")
            m.datas.append(Data(data, ACTIVE, index, [_zero_offset(at)]))
            return
        m.mems.append(self.memory_type())

    def p2_global(self, n: int, at: int) -> None:
        m = self.m
        index = self._next_index("global")
        self.opt_id()
        self.inline_exports(ExternKind.GLOBAL, index)
        if self.at_paren("import"):
            imp_at = self.i
            module, field = self.inline_import()
            self.add_import(n, imp_at, Import(module, field, ExternKind.GLOBAL,
                                              self.global_type()))
            return
        self.definition(n, "global")
        gt = self.global_type()
        m.globals.append(Global(gt, self.const_expr()))

    def p2_tag(self, n: int, at: int) -> None:
        """``(tag $id? (export ...)* (import ...)? typeuse)``: a tag's type is a function
        type whose results validation requires empty."""
        index = self._next_index("tag")
        self.opt_id()
        name = self.func_name(None, "tag")  # an @name; a bare $id is named with the rest
        if name is not None:
            self.m.names.tags[index] = name
        self.inline_exports(ExternKind.TAG, index)
        if self.at_paren("import"):
            imp_at = self.i
            module, field = self.inline_import()
            self.add_import(n, imp_at, Import(module, field, ExternKind.TAG,
                                              self.func_typeuse()[0]))
            return
        self.definition(n, "tag")
        self.m.tags.append(self.func_typeuse()[0])

    def p2_import(self, n: int, at: int) -> None:
        module = self.name()
        field = self.name()
        self.lpar()
        if self.kinds[self.i] != KEYWORD or self.values[self.i] not in _KINDS:
            raise self.unexpected()
        word = self.values[self.i]
        self.i += 1
        index = self._next_index(word)
        name = self.opt_id()
        kind = _KINDS[word]
        if kind is ExternKind.FUNC:
            name = self.func_name(name)
            if name is not None:
                self.m.names.funcs[index] = name
            desc = self.func_typeuse()[0]
        elif kind is ExternKind.TABLE:
            desc = self.table_type()
        elif kind is ExternKind.MEMORY:
            desc = self.memory_type()
        elif kind is ExternKind.TAG:
            desc = self.func_typeuse()[0]
        else:
            desc = self.global_type()
        self.rpar()
        self.add_import(n, at, Import(module, field, kind, desc))

    def p2_export(self, n: int, at: int) -> None:
        name = self.name()
        self.lpar()
        if self.kinds[self.i] != KEYWORD or self.values[self.i] not in _KINDS:
            raise self.unexpected()
        word = self.values[self.i]
        self.i += 1
        what = "function" if word == "func" else word
        index = self.var(self._space(word), what)
        self.rpar()
        self.m.exports.append(Export(name, _KINDS[word], index))

    def p2_start(self, n: int, at: int) -> None:
        index = self.var(self.func_ids, "function")
        if self.start_seen is not None:
            self.multiple_start = (self.start_seen, "multiple start sections", at)
        self.start_seen = n
        self.m.start = index

    def p2_elem(self, n: int, at: int) -> None:
        self._next_index("elem")
        self.opt_id()
        kinds = self.kinds
        if self.at_keyword("declare"):
            self.i += 1
            etype, init = self.elem_list(False)
            self.m.elems.append(Elem(etype, init, DECLARATIVE))
            return
        if self.at_paren("table"):
            self.i += 2
            table = self.var(self.table_ids, "table")
            self.rpar()
            offset = self.offset()
            etype, init = self.elem_list(False)
            self.m.elems.append(Elem(etype, init, ACTIVE, table, offset))
            return
        if kinds[self.i] == LPAR and not self.at_paren("ref"):
            offset = self.offset()
            etype, init = self.elem_list(True)
            self.m.elems.append(Elem(etype, init, ACTIVE, 0, offset))
            return
        etype, init = self.elem_list(False)
        self.m.elems.append(Elem(etype, init, PASSIVE))

    def p2_data(self, n: int, at: int) -> None:
        self._next_index("data")
        self.opt_id()
        if self.at_paren("memory"):
            self.i += 2
            memory = self.var(self.mem_ids, "memory")
            self.rpar()
            offset = self.offset()
            self.m.datas.append(Data(self.strings(), ACTIVE, memory, offset))
            return
        if self.kinds[self.i] == LPAR:
            offset = self.offset()
            self.m.datas.append(Data(self.strings(), ACTIVE, 0, offset))
            return
        self.m.datas.append(Data(self.strings(), PASSIVE))


_FIELDS = {
    "type": ModuleParser.p2_type,
    "rec": ModuleParser.p2_type,
    "func": ModuleParser.p2_func,
    "table": ModuleParser.p2_table,
    "memory": ModuleParser.p2_memory,
    "global": ModuleParser.p2_global,
    "tag": ModuleParser.p2_tag,
    "import": ModuleParser.p2_import,
    "export": ModuleParser.p2_export,
    "start": ModuleParser.p2_start,
    "elem": ModuleParser.p2_elem,
    "data": ModuleParser.p2_data,
}


def _zero_offset(address: ValType) -> Instr:
    """The offset 0 of an inline segment, of the memory's or table's address type."""
    return Instr(_I64_CONST if address is ValType.I64 else _I32_CONST, (0,))


def parse_module_tokens(toks: Tokens) -> Module:
    """A whole text: one ``(module ...)`` or a bare list of module fields, then the end."""
    p = ModuleParser(toks, 0)
    kinds, values = toks.kinds, toks.values
    if kinds[0] == LPAR and kinds[1] == KEYWORD and values[1] == "module":
        j = 3 if kinds[2] == ID else 2
        if kinds[j] == KEYWORD and values[j] in ("binary", "quote"):
            return _encoded_module(p, j)
        m = p.module()
        if kinds[p.i] != EOF:
            raise p.unexpected()
        return m
    return p.fields(EOF)


def _encoded_module(p: ModuleParser, j: int) -> Module:
    """``(module $id? binary "..."*)`` (decoded) or ``(module $id? quote "..."*)`` (parsed)."""
    binary = p.values[j] == "binary"
    p.i = j + 1
    data = p.strings()
    p.rpar()
    if p.kinds[p.i] != EOF:
        raise p.unexpected()
    if binary:
        from fayasm.binary import decode
        from fayasm.errors import DecodeError

        try:
            return decode(data)
        except DecodeError as e:  # reported as a ParseError at the module, same message
            raise p.error(e.message, 0) from None
    return parse_module_tokens(annotations.read(data.decode("utf-8", "surrogateescape"),
                                                p.toks.source))

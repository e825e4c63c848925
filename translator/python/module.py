"""Lowering a whole module to the source of a standalone Python module.

The generated module imports only fayasm.runtime. Its ``instantiate(imports=None,
wasi=None)`` returns an Instance with the same ``exports`` interface as every engine;
``_make`` builds one instance's functions as closures over that instance's memories,
tables and globals (globals no one else can see become plain closure variables).
"""
from __future__ import annotations

from fayasm import __version__
from fayasm.closing import deftypes, type_indices
from fayasm.ir.build import build_function
from fayasm.linking import plan
from fayasm.runtime.support import INTERFACE
from fayasm.runtime.types import (
    ArrayType,
    ExternKind,
    FuncType,
    GlobalType,
    MemoryType,
    Packed,
    RecRef,
    StructType,
    TableType,
    ValType,
    type_text,
)

from .exprs import helper_name, mem_helper_name
from .function import FunctionEmitter
from .gc import GcLowering
from .names import comment, ident, literal


def _simple(t) -> bool:
    """Whether a value type has a one-word name (all of 2.0's do)."""
    return t.heap is None or t.short_code is not None


def _type_literal(t, ix: dict | None = None) -> str:
    if all(_simple(v) for v in t.params + t.results):
        params, results = " ".join(map(str, t.params)), " ".join(map(str, t.results))
        return f"_rt.functype({literal(params)}, {literal(results)})"
    # Typed references: by text, concrete ones by index into the module's _TYPES.
    ps = [type_text(v, ix or {}) for v in t.params]
    rs = [type_text(v, ix or {}) for v in t.results]
    return f"_rt.functype_in(_TYPES, {literal(ps)}, {literal(rs)})"


def _valtype(t, ix: dict | None) -> str:
    if _simple(t):
        return f"_rt.ValType({literal(str(t))})"
    return f"_rt.valtype_in(_TYPES, {literal(type_text(t, ix or {}))})"


def _limits(lim) -> str:
    return f"_rt.Limits({lim.min}, {lim.max})"


def _address(t) -> str:
    """The address-type argument of a TableType/MemoryType literal (none for i32)."""
    return ", _rt.ValType('i64')" if t.address is ValType.I64 else ""


def _extern_type(kind: ExternKind, t, ix: dict | None = None) -> str:
    if kind is ExternKind.FUNC:
        return _type_literal(t, ix)
    if kind is ExternKind.TABLE:
        return f"_rt.TableType({_valtype(t.elem, ix)}, {_limits(t.limits)}{_address(t)})"
    if kind is ExternKind.MEMORY:
        return f"_rt.MemoryType({_limits(t.limits)}{_address(t)})"
    return f"_rt.GlobalType({_valtype(t.valtype, ix)}, {t.mutable})"


def _def_text(v, k: int, ix: dict) -> str:
    """A value type inside type ``k``'s definition (one type per rec group: a RecRef is
    type ``k`` itself)."""
    if isinstance(v.heap, RecRef):
        return f"(ref null {k + v.heap.index})" if v.nullable else f"(ref {k + v.heap.index})"
    return type_text(v, ix)


def gc_module(m) -> bool:
    """Whether a module has GC types (structs, arrays, rec groups, declared subtyping)
    or instructions: its types then go in the file as a type section (``gc_types``)."""
    return (bool(m.subtypes) or m.rec_groups is not None
            or any(t.__class__ is not FuncType for t in m.types)
            or any(v.heap is not None and v.rep is ValType.ANYREF
                   for ft in m.types for v in ft.params + ft.results)
            or any(ins.op.feature == "gc" for f in m.funcs for ins in f.body)
            or any(ins.op.feature == "gc" for g in m.globals for ins in g.init)
            or any(ins.op.feature == "gc" for e in m.elems for x in e.init for ins in x))


def _storage_spec(st, start: int, ix: dict):
    if st.__class__ is Packed:
        return st.value
    return _def_text(st, start, ix)


def type_spec(m) -> tuple:
    """The module's type section as plain data for ``gc_types``: (groups, types), each
    type (final, supertype indices, composite), a composite ("func", params, results),
    ("struct", fields) or ("array", field), a field (storage text, mutable); concrete
    references by type index."""
    defs = deftypes(m)
    ix = type_indices(m)
    groups = m.rec_groups if m.rec_groups is not None else [(k, 1) for k in range(len(defs))]
    types = []
    for start, count in groups:
        for k in range(start, start + count):
            sub = defs[k].sub
            supers = tuple(start + h.index if isinstance(h, RecRef) else ix[h]
                           for h in sub.supers)
            c = sub.comp
            if c.__class__ is StructType:
                comp: tuple = ("struct", tuple((_storage_spec(f.storage, start, ix), f.mutable)
                                               for f in c.fields))
            elif c.__class__ is ArrayType:
                comp = ("array", (_storage_spec(c.field.storage, start, ix), c.field.mutable))
            else:
                comp = ("func", tuple(_def_text(v, start, ix) for v in c.params),
                        tuple(_def_text(v, start, ix) for v in c.results))
            types.append((sub.final, supers, comp))
    return (tuple(groups), tuple(types))


def typed_refs(m) -> bool:
    """Whether a module's types need more than 2.0's one-word names (typed references)."""
    return (any(not _simple(v) for ft in m.types if ft.__class__ is FuncType
                for v in ft.params + ft.results)
            or any(not _simple(t.elem) for t in m.table_types())
            or any(not _simple(g.valtype) for g in m.global_types()) or bool(m.table_inits))


def _const(expr: tuple, ix: dict | None = None) -> str:
    kind, arg = expr
    if kind == "expr":  # extended constants: the items in order
        return f"('expr', ({''.join(_const(item, ix) + ', ' for item in arg)}))"
    if kind == "gc":  # (name, DefType or None, count): the type by index
        name, d, n = arg
        t = "None" if d is None else f"_TYPES[{(ix or {})[d]}]"
        return f"('gc', ({literal(name)}, {t}, {n}))"
    if kind == "const" and isinstance(arg, float):
        from fayasm.runtime.values import f64_to_bits

        return f"('const', _f64b({f64_to_bits(arg):#x}))"
    return literal((kind, arg))


def interface_check(need: int = INTERFACE) -> list[str]:
    """Lines of a translated file that refuse a runtime not serving the interface ``need``
    the file needs (at most runtime.support.INTERFACE when it was written). They use only
    what every runtime has had, so they work against older and newer ones alike."""
    head = literal(f"this file was translated by fayasm {__version__} and needs runtime "
                   f"interface {need}; the installed fayasm ")
    tail = literal(f": install fayasm {__version__} (pip install fayasm=={__version__}), or "
                   "translate the module again with the installed fayasm")
    return [
        "_RT_HAS = getattr(_rt, 'INTERFACE', 0)",
        f"if not getattr(_rt, 'OLDEST_INTERFACE', _RT_HAS) <= {need} <= _RT_HAS:",
        "    raise getattr(_rt, 'InterfaceError', ImportError)(",
        f"        {head} + str(getattr(_rt, 'VERSION', '(version unknown)'))",
        f"        + ' has runtime interface ' + str(_RT_HAS) + {tail})",
        "del _RT_HAS",
    ]


class ModuleEmitter:
    """Names and module-level data shared by the functions of one module."""

    def __init__(self, module, metered: bool = False, flat: bool = False):
        self.module = module
        self.syntax = module.syntax
        self.info = module.info
        self.metered = metered
        self.flat = flat
        m = self.syntax
        self.nimp_funcs = self.info.num_imported_funcs
        exported_globals = {e.index for e in m.exports if e.kind is ExternKind.GLOBAL}
        nimp_g = self.info.num_imported_globals
        # A global only this module's code can see becomes a closure variable.
        self.cells = {i for i in range(nimp_g, len(self.info.globals))
                      if i not in exported_globals}
        self.used_types: set[int] = set()
        # Defined functions that make tail calls: each gets a trampoline (see trampoline),
        # which is what everything else calls; the function itself is its body.
        self.tailers = {self.nimp_funcs + k for k, f in enumerate(m.funcs)
                        if any(ins.op.tail for ins in f.body)}
        self.tail_imports: set[int] = set()  # imports some tail call names
        # GC: DefTypes (_D<k>) and cast tests (_C<k>) the functions name
        self.gc = GcLowering(self)
        self.is_gc = gc_module(m)
        self.used_deftypes: set[int] = set()
        self.casts: dict = {}  # reference type -> its test's number

    # -- names -------------------------------------------------------------------------
    def func_name(self, index: int) -> str:
        return ident("f", index, self.module.func_name(index))

    def callee(self, index: int) -> str:
        if index < self.nimp_funcs:
            return f"_imp{index}"
        return self.func_name(index)

    def is_tailer(self, index: int) -> bool:
        return index in self.tailers

    def trampoline_name(self, index: int) -> str:
        return f"_tramp{index}"

    def tail_import(self, index: int) -> str:
        """What a trampoline calls for a tail call to import ``index`` (_rt.tail_entry)."""
        self.tail_imports.add(index)
        return f"_impt{index}"

    def local_name(self, func: int, index: int) -> str:
        names = self.syntax.names.locals.get(func)
        return ident("l", index, names.get(index) if names else None, limit=20)

    def memory_name(self, index: int) -> str:
        return f"_mem{index}"

    def mem_is64(self, index: int) -> bool:
        """Whether memory ``index`` has an i64 address type (memory64)."""
        return self.syntax.memory_types()[index].address is ValType.I64

    def table_is64(self, index: int) -> bool:
        return self.syntax.table_types()[index].address is ValType.I64

    def table_name(self, index: int) -> str:
        return f"_tab{index}"

    def type_name(self, index: int) -> str:
        self.used_types.add(index)
        return f"_T{index}"

    def deftype_name(self, index: int) -> str:
        self.used_deftypes.add(index)
        return f"_D{index}"

    def cast_name(self, rt) -> str:
        """The module-level test of reference type ``rt`` (ref.test, ref.cast, br_on_cast)."""
        k = self.casts.setdefault(rt, len(self.casts))
        return f"_C{k}"

    def is_cell_global(self, index: int) -> bool:
        return index in self.cells

    def cell_name(self, index: int) -> str:
        return ident("g", index, self.syntax.names.globals.get(index), limit=20)

    def global_object(self, index: int) -> str:
        return f"_G{index}"

    def global_ref(self, index: int) -> str:
        if index in self.cells:
            return self.cell_name(index)
        return f"{self.global_object(index)}.raw"

    # -- the source ------------------------------------------------------------------------
    def source(self) -> str:
        m, info = self.syntax, self.info
        funcs = []
        helpers, mem_helpers = set(), set()
        flat_funcs = 0
        for k in range(len(m.funcs)):
            index = self.nimp_funcs + k
            ir = build_function(m, info, index)
            fe = FunctionEmitter(self, ir, metered=self.metered, flat=self.flat)
            funcs.append((index, fe.emit()))
            helpers |= fe.x.helpers
            mem_helpers |= fe.x.mem_helpers
            flat_funcs += bool(fe.flat_count)
        out = []
        # Lines 1 and 2 hold no module text: PEP 263 reads an encoding declaration there.
        out.append(f"# Translated from WebAssembly by fayasm {__version__}.")
        out.append(f"# Source sha256: {self.module.hash}")
        out.append(f"# Module: {comment(self.module.name)}")
        out.append("# Do not edit: run `fayasm translate` on the module again instead.")
        out.append('"""A WebAssembly module as Python; MODULE_NAME holds its name."""')
        out.append(f"MODULE_NAME = {literal(self.module.name)}")
        # The runtime's interface is checked before anything else is taken from it, so a
        # runtime of another version fails here, naming the fayasm to use, and not on the
        # first helper it lacks.
        out.append("from fayasm.runtime import support as _rt")
        typed = typed_refs(m)
        out.extend(interface_check(self.needs_interface()))
        out.append("from fayasm.runtime import memops as _MO")
        out.append("from fayasm.runtime.errors import Trap as _Trap")
        out.append("from fayasm.runtime.numerics import OPS as _N")
        out.append("from fayasm.runtime.values import f32_from_bits as _f32b")
        out.append("from fayasm.runtime.values import f32_round as _f32r")
        out.append("from fayasm.runtime.values import f32_to_bits as _f32bits")
        out.append("from fayasm.runtime.values import f64_from_bits as _f64b")
        if self.tailers:
            out.append("_TC = _rt.TailCall")
        out.append("")
        wide = any(t.address is ValType.I64 for t in self.syntax.memory_types())
        # struct refuses an offset past 2**63 with OverflowError (memory64 only).
        out.append("_OOB = (_rt.StructError, IndexError, OverflowError)" if wide
                   else "_OOB = (_rt.StructError, IndexError)")
        out.append("_INF = float('inf')")
        for fmt in "bBhHiIqQd":
            out.append(f"_ld{fmt} = _rt.LD[{literal(fmt)}]")
        for fmt in "HIQd":
            out.append(f"_st{fmt} = _rt.ST[{literal(fmt)}]")
        for op in sorted(helpers):
            out.append(f"{helper_name(op)} = _N[{literal(op)}]")
        for op in sorted(mem_helpers):
            table = "LANE_LOADS" if op.startswith("v128.load") and op.endswith("_lane") else \
                "LANE_STORES" if op.endswith("_lane") else "LOADS"
            out.append(f"{mem_helper_name(op)} = _MO.{table}[{literal(op)}]")
        ix = None
        if self.is_gc:
            ix = type_indices(m)
            out.append("from fayasm.runtime import gcobj as _GO")
            out.append("from fayasm.runtime import gcops as _GX")
            out.append(f"_TYPES = _rt.gc_types({literal(type_spec(m))})")
        elif typed:
            ix = type_indices(m)
            specs = [(tuple(_def_text(v, k, ix) for v in d.sub.comp.params),
                      tuple(_def_text(v, k, ix) for v in d.sub.comp.results))
                     for k, d in enumerate(deftypes(m))]
            out.append(f"_TYPES = _rt.deftypes_from({literal(specs)})")
        self.ix = ix
        for k in sorted(self.used_types):
            if self.is_gc:  # call_indirect checks the declared (sub)type
                out.append(f"_T{k} = _TYPES[{k}]")
            else:
                out.append(f"_T{k} = {_type_literal(m.types[k], ix)}")
        for k in sorted(self.used_deftypes):
            out.append(f"_D{k} = _TYPES[{k}]")
        for rt, k in self.casts.items():
            out.append(f"_C{k} = _GX.cast_test({_valtype(rt, ix)})")
        wasm_names = {self.func_name(self.nimp_funcs + k):
                      self.module.func_name(self.nimp_funcs + k) for k in range(len(m.funcs))}
        out.append(f"_WASM_NAMES = {literal(wasm_names)}")
        out.append("")
        out.extend(self.description())
        out.append("")
        out.extend(self.make(funcs))
        out.append("")
        out.extend(_INSTANTIATE)
        self.flat_funcs = flat_funcs
        return "\n".join(out) + "\n"

    def needs_interface(self) -> int:
        """The runtime interface this file needs: 6 for a module using GC (gcobj, gcops,
        gc_types), else 5, as every ``_make`` binds its closure-variable globals
        (globals.bind_cells, for snapshots); 4 brought the depth _d every generated
        function takes."""
        return 6 if self.is_gc else 5

    def description(self) -> list[str]:
        """The module's instantiation plan (fayasm.linking.plan) as source."""
        p = plan(self.module)
        lines = ["DESCRIPTION = _rt.Description("]
        lines.append("    name=MODULE_NAME,")
        lines.append("    imports=[")
        ix = self.ix
        for mod, name, kind, t in p.imports:
            lines.append(f"        ({literal(mod)}, {literal(name)}, "
                         f"_rt.KINDS[{literal(str(kind))}], {_extern_type(kind, t, ix)}),")
        lines.append("    ],")
        lines.append("    tables=[" + ", ".join(_extern_type(ExternKind.TABLE, t, ix)
                                               for t in p.tables) + "],")
        lines.append("    mems=[" + ", ".join(_extern_type(ExternKind.MEMORY, t)
                                             for t in p.mems) + "],")
        lines.append("    globals_=[")
        for gtype, init in p.globals:
            gt = _extern_type(ExternKind.GLOBAL, gtype, ix)
            lines.append(f"        ({gt}, {_const(init, ix)}),")
        lines.append("    ],")
        lines.append("    elems=[")
        for mode, table, offset, items in p.elems:
            off = _const(offset) if offset else "None"
            lines.append(f"        ({literal(mode)}, {table}, {off}, "
                         f"[{', '.join(_const(i, ix) for i in items)}]),")
        lines.append("    ],")
        lines.append("    datas=[")
        for mode, memory, offset, data in p.datas:
            off = _const(offset) if offset else "None"
            lines.append(f"        ({literal(mode)}, {memory}, {off}, {literal(bytes(data))}),")
        lines.append("    ],")
        exports = [(name, str(kind), index) for name, kind, index in p.exports]
        lines.append(f"    exports={literal(exports)},")
        lines.append(f"    start={literal(p.start)},")
        lines.append("    func_types=[" + ", ".join(_type_literal(t, ix) for t in p.func_types)
                     + "],")
        lines.append(f"    names={literal(p.names)},")
        if p.table_inits:
            lines.append("    table_inits={" + ", ".join(f"{k}: {_const(e, ix)}" for k, e
                                                        in sorted(p.table_inits.items())) + "},")
        ix = ix or type_indices(self.syntax)
        if p.import_deftypes is not None:
            lines.append("    import_deftypes=[" + ", ".join(
                "None" if d is None else f"_TYPES[{ix[d]}]" for d in p.import_deftypes) + "],")
        if p.func_deftypes is not None:
            lines.append("    func_deftypes=[" + ", ".join(
                f"_TYPES[{ix[d]}]" for d in p.func_deftypes) + "],")
        lines.append(")")
        return lines

    def trampoline(self, index: int) -> list[str]:
        """The function a defined function making tail calls is called by: it calls the
        body, then each TailCall the body returns, until a result comes. Its
        ``tail_body`` (runtime.support.tail_entry) lets another trampoline call the body
        directly, so a tail call into this module does not nest trampolines."""
        nparams = len(self.info.funcs[index].params)
        return _trampoline_lines(self.trampoline_name(index), self.func_name(index), nparams)

    def make(self, funcs) -> list[str]:
        info = self.info
        lines = ["def _make(_funcs, _tables, _mems, _globals, _elems, _datas, _budget, _top):"]
        ind = "    "
        for i in range(self.nimp_funcs):
            lines.append(f"{ind}_imp{i} = _rt.callee(_funcs[{i}])")
        for i in range(len(info.mems)):
            lines.append(f"{ind}_mem{i} = _mems[{i}]")
        for i in range(len(info.tables)):
            lines.append(f"{ind}_tab{i} = _tables[{i}]")
        for i in range(len(info.globals)):
            if i in self.cells:
                lines.append(f"{ind}{self.cell_name(i)} = _globals[{i}].raw")
            else:
                lines.append(f"{ind}{self.global_object(i)} = _globals[{i}]")
        for i in sorted(self.tail_imports):
            lines.append(f"{ind}_impt{i} = _rt.tail_entry(_imp{i})")
        for index, body in funcs:
            lines.append("")
            lines.append(f"{ind}# func {index}: {comment(self.module.func_name(index))}")
            lines.extend(ind + line for line in body)
            if index in self.tailers:
                lines.extend(ind + line for line in self.trampoline(index))
        lines.append("")
        lines.extend(ind + line for line in self.cell_accessor())
        names = [self.trampoline_name(index) if index in self.tailers else self.func_name(index)
                 for index, _ in funcs]
        if self.metered:
            lines.append(f"{ind}_bare = [{', '.join(names)}]")
            lines.append(f"{ind}_wrapped = [_rt.metered(f, _budget) for f in _bare]")
            lines.append(f"{ind}_own = dict(zip(_wrapped, _bare))")
            lines.append(f"{ind}_direct = lambda f: _own.get(f, f)")
            lines.append(f"{ind}return _wrapped")
        else:
            lines.append(f"{ind}return [{', '.join(names)}]")
        lines.append("")
        lines.append("")
        lines.append("_make.binds_cells = True  # its globals read the closure variables")
        lines.append("")
        return lines

    def cell_accessor(self) -> list[str]:
        """Lines of ``_make`` that let the runtime read and write the globals kept in
        closure variables (globals.bind_cells), so a snapshot sees what the code sees."""
        cells = sorted(self.cells)
        if not cells:
            return []
        names = ", ".join(self.cell_name(i) for i in cells) + ","
        return ["def _cells(*_v):",
                f"    nonlocal {names[:-1]}",
                "    if _v:",
                f"        {names} = _v",
                f"    return ({names})",
                f"_rt.bind_cells(_globals, ({', '.join(map(str, cells))},), _cells)"]


def _trampoline_lines(name: str, body: str, nparams: int) -> list[str]:
    params = "".join(f"a{k}, " for k in range(nparams))
    # _d, the depth below the frame, is the same for the body and every callee it hands
    # on: each replaces the frame before it, and counts its own units on entry.
    return [f"def {name}({params}_d):",
            f"    r = {body}({params}_d)",
            "    while r.__class__ is _TC:",
            "        r = r.fn(*r.args, _d)",
            "    return r",
            f"{name}.tail_body = {body}"]


_INSTANTIATE = '''
def instantiate(imports=None, wasi=None, fuel=None, deadline=None, limits=None,
                interrupt=None):
    """Instantiate this module: ``imports`` maps module names to {name: value};
    ``wasi`` a fayasm WasiConfig for modules that import WASI; ``fuel``, ``deadline``,
    ``limits`` (a fayasm.ResourceLimits) and ``interrupt`` (a fayasm.Interrupt) as for
    fayasm.instantiate."""
    return _rt.instantiate(DESCRIPTION, _make, imports, wasi=wasi, fuel=fuel, limits=limits,
                           deadline=deadline, interrupt=interrupt)


if __name__ == "__main__":
    import sys

    sys.exit(_rt.run_wasi(DESCRIPTION, _make, sys.argv))
'''.strip("\n").split("\n")



def translate(module, metered: bool = False, flat: bool = False) -> str:
    """The Python source of ``module`` (a fayasm.Module)."""
    return ModuleEmitter(module, metered=metered, flat=flat).source()


__all__ = ["translate", "ModuleEmitter", "GlobalType", "MemoryType", "TableType"]

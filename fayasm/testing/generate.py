"""Hypothesis strategies for valid WebAssembly 2.0 modules that do something observable.

``modules()`` draws a ``Generated``: a ``fayasm.syntax.Module`` and the plan of calls a
differential run makes. A module has:

- imports: deterministic host functions and globals from ``env`` (see ``hosts``);
- a memory (usually), up to two tables, globals of every type, active, passive and
  declarative element segments, active and passive data segments, sometimes a start
  function and, rarely, a segment out of bounds (instantiation traps);
- a few *inner* functions with multi-value signatures whose bodies come from
  ``body.FunctionGen`` (loops, calls, memory, tables, SIMD, traps of every kind);
- helpers: NaN canonicalizers and, rarely, an unguarded recursive function (exhaustion);
- exported *wrappers*: ``runN`` calls an inner function with constant arguments, ``callN``
  takes the arguments from the plan; both reset the fuel global first and pass v128 values
  as two i64 halves (wasmtime's Python API cannot carry v128);
- probes (see ``probes``): one-instruction exports the plan calls many times;
- exports of the memory, tables and globals, so their final state is compared;
- the plan, in the custom section ``fayasm-plan``, so the .wasm file reproduces a run.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hypothesis import strategies as st

from fayasm.closing import close_module
from fayasm.isa import OPS
from fayasm.runtime.types import (
    ExternKind,
    FuncType,
    GlobalType,
    Limits,
    MemoryType,
    TableType,
    ValType,
)
from fayasm.runtime.values import Val
from fayasm.syntax import (
    ACTIVE,
    DECLARATIVE,
    PASSIVE,
    Custom,
    Data,
    Elem,
    Export,
    Function,
    Global,
    Import,
    Instr,
    Module,
    Names,
)

from .body import FunctionGen
from .choose import Chooser, RandomChooser
from .gcgen import add_types as add_gc_types
from .hosts import HOST_FUNCS, HOST_GLOBALS, HOST_MEMORY, HOST_MODULE, HOST_TABLE, REENTER_EXPORT
from .probes import ProbeGen
from .shape import FUNCREF, ORDINARY, VALTYPES, Callee, Shape, Sym
from .values import PLAN_SECTION, plan_to_bytes

SCALAR = [op for op in ORDINARY if not op.vector]  # no SIMD (2.0 or relaxed)

I32, I64, F32, F64, V128 = ValType.I32, ValType.I64, ValType.F32, ValType.F64, ValType.V128
EXTERNREF = ValType.EXTERNREF

FUEL_PER_CALL = 300  # guard units (loop iterations and calls) each exported call may use


@dataclass
class GenConfig:
    """Size and feature knobs of the generator."""

    max_funcs: int = 4
    max_budget: int = 160  # instructions per inner function, roughly
    max_calls: int = 8  # calls in the plan
    simd: bool = True
    hosts: bool = True
    swarm: bool = True  # favour a few instructions per module (see ModuleGen.theme)
    theme: tuple = ()  # names of instructions every module favours (tests, experiments)
    focus: tuple = ()  # a pool of instruction names: each module favours a few of them
    # (a campaign over one feature: ``fayasm fuzz --focus relaxed_simd``)
    probes: bool = True  # exported one-instruction functions the plan calls often (probes.py)
    gc: bool = False  # GC types and instructions (gcgen.py; ``fayasm fuzz --gc``)


@dataclass
class Generated:
    """A generated module, its plan, and how many of its functions are inner ones."""

    syntax: Module
    plan: list
    inner: range = field(default_factory=lambda: range(0))
    metered: bool = False  # run engines with fuel (their metered compilation)

    def module(self):
        """The validated fayasm.Module."""
        from fayasm.module import Module as Public

        return Public.from_syntax(self.syntax, name="fuzz")

    def binary(self) -> bytes:
        from fayasm.binary import encode

        return encode(self.syntax, names=True)

    def wat(self) -> str:
        from fayasm.text.printer import print_module

        return print_module(self.syntax)

    def op_counts(self) -> Counter:
        """How often each instruction occurs in the inner functions."""
        return op_counts(self.syntax, self.inner)


def op_counts(syntax: Module, funcs=None) -> Counter:
    counts: Counter = Counter()
    bodies = syntax.funcs if funcs is None else [syntax.funcs[k] for k in funcs]
    for f in bodies:
        counts.update(i.op.name for i in f.body)
    return counts


def _signed(t: ValType, bits: int) -> int:
    w = 32 if t is I32 else 64
    return bits - (1 << w) if bits >> (w - 1) else bits


class ModuleGen:
    """Builds one module from ``c`` (a Chooser: hypothesis draws or a seeded Random)."""

    def __init__(self, c: Chooser, config: GenConfig):
        self.c = c
        self.cfg = config
        self.m = Module()
        self.shape = Shape(types=self.m.types, simd=config.simd)

    # -- the pieces, in index-space order ------------------------------------------------
    def imports(self) -> None:
        c, m, shape = self.c, self.m, self.shape
        if self.cfg.hosts:
            for name, (ft, _) in HOST_FUNCS.items():
                if (ft.params + ft.results).count(EXTERNREF) and not c.chance(60):
                    continue
                if c.chance(30):
                    index = len(m.imported(ExternKind.FUNC))
                    m.imports.append(Import(HOST_MODULE, name, ExternKind.FUNC,
                                            shape.type_index(ft)))
                    shape.callees.append(Callee(index, ft, name=name, host=True))
            for name, (gt, _) in HOST_GLOBALS.items():
                if c.chance(20):
                    m.imports.append(Import(HOST_MODULE, name, ExternKind.GLOBAL, gt))
                    shape.globals.append(gt)

    def memory_and_tables(self) -> None:
        """A memory (usually; sometimes the host's), up to two tables (the first
        sometimes the host's)."""
        c, m, shape = self.c, self.m, self.shape
        if c.int(0, 9) < 9:
            if self.cfg.hosts and c.chance(15):
                m.imports.append(Import(HOST_MODULE, "memory", ExternKind.MEMORY, HOST_MEMORY))
            else:
                lo = c.weighted([(7, 1), (2, 2), (1 if shape.risky else 0, 0)])
                hi = None if c.chance(50) else lo + c.int(0, 3)
                m.mems.append(MemoryType(Limits(lo, hi)))
            shape.memory = m.memory_types()[0]
            while len(m.mems) < 3 and c.chance(20):  # multi-memory, some 64-bit (memory64)
                lo = c.int(0, 2)
                hi = None if c.chance(50) else lo + c.int(0, 2)
                m.mems.append(MemoryType(Limits(lo, hi), I64 if c.chance(50) else I32))
            shape.mems = m.memory_types()
        if c.chance(80):
            if self.cfg.hosts and c.chance(15):
                m.imports.append(Import(HOST_MODULE, "table", ExternKind.TABLE, HOST_TABLE))
            else:
                lo = c.int(1, 8)
                hi = None if c.chance(60) else lo + c.int(0, 4)
                m.tables.append(TableType(FUNCREF, Limits(lo, hi)))
        if c.chance(25):
            lo = c.int(0, 4)
            m.tables.append(TableType(c.pick((FUNCREF, EXTERNREF)),
                                      Limits(lo, None if c.chance(50) else lo + c.int(0, 3))))
        shape.tables = m.table_types()

    def signature(self) -> FuncType:
        """Mostly short; now and then long ones (argument passing, results returned
        through memory in native code)."""
        c = self.c
        nparams = c.weighted([(3, 0), (4, 1), (3, 2), (1, 3), (1, 10)])
        if nparams == 10:
            nparams = c.int(4, 12)
        params = tuple(c.pick(VALTYPES) for _ in range(nparams))
        nresults = c.weighted([(5, 1), (2, 0), (2, 2), (1, 3), (1, 6)])
        if nresults == 6:
            nresults = c.int(4, 8)
        results = tuple(c.pick(VALTYPES) for _ in range(nresults))
        return FuncType(params, results)

    def globals(self, nfuncs_total: int) -> None:
        c, m, shape = self.c, self.m, self.shape
        imported = [(k, g) for k, g in enumerate(shape.globals) if not g.mutable]
        for _ in range(c.int(0, 4)):
            t = c.pick(VALTYPES)
            gt = GlobalType(t, c.chance(70))
            same = [k for k, g in imported if g.valtype is t]
            if same and c.chance(30):
                init = [Instr(OPS["global.get"], (c.pick(same),))]
            elif t is FUNCREF and nfuncs_total and c.chance(50):
                init = [Instr(OPS["ref.func"], (c.int(0, nfuncs_total - 1),))]
            elif t.is_ref:
                init = [Instr(OPS["ref.null"], (t,))]
            else:
                bits = c.bits(t)
                init = [Instr(OPS[f"{t}.const"], (_signed(t, bits) if t in (I32, I64) else bits,))]
                if t in (I32, I64) and c.chance(30):
                    init = self.extended_const(t, init, same)
            m.globals.append(Global(gt, init))
            shape.globals.append(gt)
        m.globals.append(Global(GlobalType(I32, True),
                                [Instr(OPS["i32.const"], (FUEL_PER_CALL,))]))
        shape.globals.append(GlobalType(I32, True))
        shape.fuel = len(shape.globals) - 1
        m.globals.append(Global(GlobalType(I64, True), [Instr(OPS["i64.const"], (0,))]))
        shape.globals.append(GlobalType(I64, True))
        shape.checksum = len(shape.globals) - 1

    def extended_const(self, t: ValType, init: list, globals_: list) -> list:
        """``init`` (a t.const) combined by add, sub and mul with constants or immutable
        imported globals of type ``t``: 3.0's extended constant expressions."""
        c = self.c
        out = list(init)
        for _ in range(c.int(1, 3)):
            if globals_ and c.chance(40):
                out.append(Instr(OPS["global.get"], (c.pick(globals_),)))
            else:
                out.append(_const_instr(t, c.bits(t)))
            out.append(Instr(OPS[f"{t}.{c.pick(('add', 'sub', 'mul'))}"], ()))
        return out

    def segments(self, funcs: list[tuple[int, FuncType]]) -> None:
        """Element segments (functions placed in tables, passive, declarative) and data."""
        c, m, shape = self.c, self.m, self.shape
        tables = m.table_types()
        if tables and tables[0].elem is FUNCREF and funcs:
            size = tables[0].limits.min
            offset = c.int(0, max(0, size - 1))
            if c.chance(3):
                offset = size + 1  # out of bounds: instantiation traps
            items, slots = [], []
            for k in range(c.int(1, max(1, size - offset))):
                if c.chance(85):
                    f, ft = c.pick(funcs)
                    items.append([Instr(OPS["ref.func"], (f,))])
                    slots.append((offset + k, ft))
                else:
                    items.append([Instr(OPS["ref.null"], (FUNCREF,))])
            expr = [Instr(OPS["i32.const"], (offset,))]
            if offset > 1 and c.chance(30):  # the same offset as an extended constant
                expr = [Instr(OPS["i32.const"], (offset - 1,)), Instr(OPS["i32.const"], (1,)),
                        Instr(OPS["i32.add"], ())]
            m.elems.append(Elem(FUNCREF, items, ACTIVE, 0, expr))
            shape.slots[0] = slots
        for _ in range(c.weighted([(2, 0), (3, 1), (1, 2)])):
            if funcs and c.chance(80):
                items = [[Instr(OPS["ref.func"], (c.pick(funcs)[0],))] if c.chance(80)
                         else [Instr(OPS["ref.null"], (FUNCREF,))] for _ in range(c.int(1, 4))]
                m.elems.append(Elem(FUNCREF, items, PASSIVE))
            else:
                m.elems.append(Elem(EXTERNREF, [[Instr(OPS["ref.null"], (EXTERNREF,))]
                                                for _ in range(c.int(1, 3))], PASSIVE))
        if funcs:
            m.elems.append(Elem(FUNCREF, [[Instr(OPS["ref.func"], (f,))] for f, _ in funcs],
                                DECLARATIVE))
            shape.refs = [f for f, _ in funcs]
        shape.elem_types = [e.type for e in m.elems]
        if m.memory_types():
            size = m.memory_types()[0].limits.min * 65536
            if c.chance(70):
                data = self.blob()
                offset = [Instr(OPS["i32.const"], (c.int(0, 64),))]
                consts = [k for k, g in enumerate(shape.globals)
                          if g == GlobalType(I32, False)
                          and k < len(m.imported(ExternKind.GLOBAL))]
                if consts and c.chance(30):  # an offset from an imported global (42)
                    offset = [Instr(OPS["global.get"], (c.pick(consts),))]
                    if c.chance(40):  # plus a little: an extended constant
                        offset += [Instr(OPS["i32.const"], (c.int(0, 16),)),
                                   Instr(OPS["i32.add"], ())]
                elif c.chance(3):  # out of bounds: instantiation traps
                    offset = [Instr(OPS["i32.const"], (size - len(data) + 1,))]
                m.datas.append(Data(data, ACTIVE, 0, offset))
            for _ in range(c.weighted([(2, 0), (2, 1), (1, 2)])):
                m.datas.append(Data(self.blob(), PASSIVE))
        m.data_count = len(m.datas)
        shape.ndatas = len(m.datas)

    def theme(self) -> None:
        """Swarm testing: most modules favour a few instructions of the table, so those
        run many times with many operands (a bug that needs a particular operand shows)
        while, over many modules, every instruction gets its turn."""
        c = self.c
        if self.cfg.theme:
            self.shape.theme = tuple(OPS[name] for name in self.cfg.theme)
        elif self.cfg.focus:
            pool = [OPS[name] for name in self.cfg.focus]
            self.shape.theme = tuple(c.pick(pool) for _ in range(c.int(1, 6)))
        elif self.cfg.swarm and c.chance(80):
            # Two thirds of the picks from the scalar rows: drawn from the whole table,
            # SIMD (236 of 408 ordinary rows) would crowd out the scalar instructions
            # every program uses, so that each of those would be themed in about one
            # module in a hundred.
            self.shape.theme = tuple(c.pick(SCALAR if c.chance(67) else ORDINARY)
                                     for _ in range(c.int(1, 12)))

    def blob(self) -> bytes:
        n = self.c.int(1, 24)
        if self.c.chance(50):
            return bytes((self.c.int(0, 255),)) * n
        seed = self.c.int(0, 2**32 - 1)
        return bytes((seed * (k + 1) * 2654435761 >> 13) & 0xFF for k in range(n))

    # -- assembly ------------------------------------------------------------------------
    def build(self) -> Generated:
        c, m, shape, cfg = self.c, self.m, self.shape, self.cfg
        shape.risky = c.chance(30)
        if cfg.gc:
            shape.gc = add_gc_types(m)
        self.imports()
        self.memory_and_tables()
        nimp = len(shape.callees)
        sigs = [self.signature() for _ in range(c.int(1, cfg.max_funcs))]
        reenter = None
        if any(ce.name == "h_reenter" for ce in shape.callees):  # the host calls it back
            reenter = c.int(0, len(sigs) - 1)
            sigs[reenter] = FuncType((I32,), (I32,))
        inner = [(nimp + k, ft) for k, ft in enumerate(sigs)]
        for k, ft in enumerate(sigs):
            shape.callees.append(Callee(nimp + k, ft))
        self.globals(nimp + len(sigs))
        self.segments([(c_.index, c_.type) for c_ in shape.callees])
        self.theme()
        shape.deep_nesting = c.chance(8)
        if c.chance(3):
            shape.deep = Sym("deep")
            shape.callees.append(Callee(shape.deep, FuncType((I32,), (I32,))))
        for index, ft in inner:
            gen = FunctionGen(c, shape, ft, c.int(10, cfg.max_budget), self_index=index)
            body = gen.generate(c.int(0, 3) if not c.chance(10) else c.int(8, 40))
            m.funcs.append(Function(shape.type_index(ft), gen.declared_locals, body))
        names = {index: f"f{index - nimp}" for index, _ in inner}
        probe_exports, probe_calls, ac = [], [], c
        if cfg.probes:
            pg = ProbeGen(c, shape, m, FUEL_PER_CALL)
            probe_exports, probe_calls = pg.build(nimp + len(m.funcs), names)
            ac = pg.ac
        helpers = self.helpers(names)
        exports, plan = self.wrappers(inner, names)
        exports += probe_exports
        for call in probe_calls:  # interleaved: probes see state the programs left
            plan.insert(ac.int(0, len(plan)), call)
        self.resolve(helpers)
        void = [index for index, ft in inner if not ft.params and not ft.results]
        if void and c.chance(5):
            m.start = c.pick(void)
        if reenter is not None:
            exports.append(Export(REENTER_EXPORT, ExternKind.FUNC, nimp + reenter))
        self.exports(exports)
        m.names = Names("fuzz", {k: v for k, v in names.items()})
        metered = c.chance(25)
        m.customs.append(Custom(PLAN_SECTION, plan_to_bytes(plan, metered), 11))
        if shape.gc is not None:  # references to its types by index: close them
            close_module(m)
        return Generated(m, plan, range(0, len(inner)), metered)

    def helpers(self, names: dict) -> dict:
        """Define the helpers the bodies call; returns their symbol -> index."""
        m = self.m
        used = []
        for f in m.funcs:
            for ins in f.body:
                if ins.imm and isinstance(ins.imm[0], Sym) and ins.imm[0].name not in used:
                    used.append(ins.imm[0].name)
        index = {}
        for name in sorted(used):
            index[name] = len(m.imported(ExternKind.FUNC)) + len(m.funcs)
            ft, body = helper_body(name, self.shape.checksum)
            m.funcs.append(Function(self.shape.type_index(ft), (), body))
            names[index[name]] = name
        return index

    def resolve(self, index: dict) -> None:
        for f in self.m.funcs:
            for k, ins in enumerate(f.body):
                if ins.imm and isinstance(ins.imm[0], Sym):
                    f.body[k] = Instr(ins.op, (index[ins.imm[0].name],) + ins.imm[1:])

    def wrappers(self, inner, names: dict):
        """Exported entry points, and the plan that calls them."""
        c, m = self.c, self.m
        nfuncs = len(m.imported(ExternKind.FUNC)) + len(m.funcs)
        exports, calls = [], []
        n_run = c.int(min(len(inner), 4), 4)
        n_call = c.weighted([(2, 0), (5, 1), (2, 2)])  # wrappers taking arguments
        for k in range(n_run + n_call):
            # every inner function has a wrapper calling it, while there are few enough
            target, ft = inner[k] if k < min(n_run, len(inner)) else c.pick(inner)
            takes_args = k >= n_run
            name = f"call{k - n_run}" if takes_args else f"run{k}"
            wparams = tuple(p for t in ft.params for p in ((I64, I64) if t is V128 else (t,))) \
                if takes_args else ()
            wresults = tuple(r for t in ft.results for r in ((I64, I64) if t is V128 else (t,)))
            locals_ = list(ft.results)
            body = [Instr(OPS["i32.const"], (FUEL_PER_CALL,)),
                    Instr(OPS["global.set"], (self.shape.fuel,))]
            pos = 0
            for t in ft.params:
                if not takes_args:
                    bits = c.bits(t) if not t.is_ref else None
                    body.append(_const_instr(t, bits))
                elif t is V128:
                    body += [Instr(OPS["local.get"], (pos,)), Instr(OPS["i64x2.splat"], ()),
                             Instr(OPS["local.get"], (pos + 1,)),
                             Instr(OPS["i64x2.replace_lane"], (1,))]
                    pos += 2
                else:
                    body.append(Instr(OPS["local.get"], (pos,)))
                    pos += 1
            body.append(Instr(OPS["call"], (target,)))
            base = len(wparams)
            if V128 in ft.results:  # v128 results leave as two i64 halves
                for j in reversed(range(len(ft.results))):
                    body.append(Instr(OPS["local.set"], (base + j,)))
                for j, t in enumerate(ft.results):
                    if t is V128:
                        for lane in (0, 1):
                            body += [Instr(OPS["local.get"], (base + j,)),
                                     Instr(OPS["i64x2.extract_lane"], (lane,))]
                    else:
                        body.append(Instr(OPS["local.get"], (base + j,)))
            wft = FuncType(wparams, wresults)
            m.funcs.append(Function(self.shape.type_index(wft), tuple(locals_), body))
            index = nfuncs + k
            names[index] = name
            exports.append(Export(name, ExternKind.FUNC, index))
            calls.append((name, wft))
        plan = []
        for name, wft in calls:  # a wrapper with parameters runs with several arguments
            for _ in range(c.int(2, 4) if wft.params else 1):
                plan.append((name, [self.arg(t) for t in wft.params]))
        while len(plan) < self.cfg.max_calls and c.chance(30):
            name, wft = c.pick(calls)
            plan.append((name, [self.arg(t) for t in wft.params]))
        return exports, plan

    def arg(self, t: ValType) -> Val:
        if t is EXTERNREF:
            return Val.externref(None if self.c.chance(30) else self.c.int(0, 15))
        if t is FUNCREF:
            return Val.funcref(None)
        return Val.from_bits(t, self.c.bits(t))

    def exports(self, wrappers: list) -> None:
        m = self.m
        m.exports.extend(wrappers)
        for k in range(len(m.memory_types())):
            m.exports.append(Export("mem" if k == 0 else f"mem{k}", ExternKind.MEMORY, k))
        for k in range(len(m.table_types())):
            m.exports.append(Export(f"t{k}", ExternKind.TABLE, k))
        for k in range(len(self.shape.globals)):  # wasmtime's runner skips v128 ones
            name = {self.shape.fuel: "fuel", self.shape.checksum: "checksum"}.get(k, f"g{k}")
            m.exports.append(Export(name, ExternKind.GLOBAL, k))


def _const_instr(t: ValType, bits) -> Instr:
    if t.is_ref:
        return Instr(OPS["ref.null"], (t,))
    if t in (I32, I64):
        return Instr(OPS[f"{t}.const"], (_signed(t, bits),))
    return Instr(OPS[f"{t}.const"], (bits,))


_CANON = {"canon_f32": (F32, "i32", 0x7FC0_0000, "i32.reinterpret_f32", "i32.eq"),
          "canon_f64": (F64, "i64", 0x7FF8_0000_0000_0000, "i64.reinterpret_f64", "i64.eq"),
          "canon_f32x4": (V128, None, 0x7FC0_0000, None, "i32x4.eq"),
          "canon_f64x2": (V128, None, 0x7FF8_0000_0000_0000, None, "i64x2.eq")}


_TO_I64 = {"i32": ["i64.extend_i32_u"], "i64": [], "f32": ["i32.reinterpret_f32",
                                                           "i64.extend_i32_u"],
           "f64": ["i64.reinterpret_f64"]}


def helper_body(name: str, checksum: int | None = None) -> tuple[FuncType, list]:
    """A helper's type and body. canon_*: a quiet NaN (either sign, any payload) becomes
    the positive canonical NaN; everything else, signalling NaNs included, passes as is.
    observe_*: returns its argument after folding its bits into the checksum global, so
    a value that differs is seen even where its consumer would lose the difference (a
    comparison, a shift count, a branch condition)."""
    def I(n, *imm):  # noqa: E743 - an instruction, tersely
        return Instr(OPS[n], imm)
    if name == "deep":
        return FuncType((I32,), (I32,)), [I("local.get", 0), I("i32.const", 1), I("i32.add"),
                                          I("call", Sym("deep"))]
    if name.startswith("observe_"):
        t = ValType(name[len("observe_"):])
        if t is V128:
            words = [[I("local.get", 0), I("i64x2.extract_lane", k)] for k in (0, 1)]
        else:
            words = [[I("local.get", 0)] + [I(n) for n in _TO_I64[str(t)]]]
        body = []
        for word in words:
            body += [I("global.get", checksum), I("i64.const", 5), I("i64.rotl"), *word,
                     I("i64.xor"), I("global.set", checksum)]
        return FuncType((t,), (t,)), body + [I("local.get", 0)]
    t, it, q, reinterp, eq = _CANON[name]
    if t is V128:
        width = 32 if name.endswith("f32x4") else 64
        splat = sum(q << (k * width) for k in range(128 // width))
        body = [I("v128.const", splat), I("local.get", 0), I("local.get", 0),
                I("v128.const", splat), I("v128.and"), I("v128.const", splat), I(eq),
                I("v128.bitselect")]
    else:
        body = [I(f"{t}.const", q), I("local.get", 0), I("local.get", 0), I(reinterp),
                I(f"{it}.const", q), I(f"{it}.and"), I(f"{it}.const", q), I(eq), I("select")]
    return FuncType((t,), (t,)), body


@st.composite
def modules(draw, config: GenConfig | None = None) -> Generated:
    """A strategy for ``Generated`` modules (valid by construction)."""
    return ModuleGen(Chooser(draw), config or GenConfig()).build()


def focus_names(words) -> tuple:
    """Instruction names for GenConfig.focus: each word a row's name or a feature's
    (``relaxed_simd``: its rows). An unknown word is a ValueError."""
    from fayasm import isa

    out: list = []
    for w in words:
        rows = [op.name for op in isa.ALL if op.feature == w] or (
            [w] if w in OPS else [])
        if not rows:
            raise ValueError(f"no instruction or feature {w!r}")
        out.extend(r for r in rows if r not in out and not OPS[r].special)
    return tuple(out)


def random_module(seed: int, config: GenConfig | None = None) -> Generated:
    """One module from a seeded random source instead of hypothesis (fast, no shrinking)."""
    import random

    return ModuleGen(RandomChooser(random.Random(seed)), config or GenConfig()).build()


def recorded_module(seed: int, config: GenConfig | None = None):
    """(Generated, choices): a seeded random module and the choices that make it again
    through ``replayed_module`` (what campaigns explore with, and shrink)."""
    import random

    from .choose import RecordingChooser

    c = RecordingChooser(random.Random(seed))
    return ModuleGen(c, config or GenConfig()).build(), c.choices


def replayed_module(choices, config: GenConfig | None = None):
    """(Generated, the choices as taken) for a choice sequence (see ``ReplayChooser``)."""
    from .choose import ReplayChooser

    c = ReplayChooser(choices)
    return ModuleGen(c, config or GenConfig()).build(), c.used


__all__ = ["FUEL_PER_CALL", "GenConfig", "Generated", "ModuleGen", "helper_body", "modules",
           "op_counts", "random_module", "recorded_module", "replayed_module"]

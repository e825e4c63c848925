"""Lowering one IR function to the text of an LLVM function.

Every wasm local and every operand-stack slot (keyed by height and type, as the IR
allows) is an ``alloca``; SROA/mem2reg turn them into SSA values, so control flow needs
no phis here: values crossing a label travel through their slots.

Calling convention of every wasm function (defined, imported, reached through a table):
``RET f(ptr ctx, i32 depth, params...)``, where ``ctx`` is the callee's instance context
(a host block for host functions), ``depth`` the call depth (the entry function has 0),
and RET is void, the single result type, or a literal struct of the results.

Traps are explicit checks branching to one cold block per trap code, which calls the
module's ``fy_trap`` (stubs.py): it records the code, walks the frame-pointer chain for
a backtrace and longjmps to the innermost entry wrapper. Every function keeps frame
pointers so that walk is possible. The exception is guard-mode code (guard.py), whose
32-bit memory accesses trap by faulting: the fault handler sends the faulting code to
the same path.
"""
from __future__ import annotations

from fayasm.ir import Const, Local, Op, Slot
from fayasm.runtime.limits import BULK_SHIFT, MAX_CALL_DEPTH, frame_units

from . import types as T
from .types import F32, F64, I32, I64, LL, V128, Layout

# Frames bigger than this (by estimate) check the stack limit on every call; smaller
# ones only every 16 levels of depth (the stack limit keeps a margin for those).
BIG_FRAME = 2048

# Floats with which LLVM folds an operation to its operand or to fneg (x*1, x+(-0), ...),
# which would let a signalling NaN through unquieted. LLVM can only do that with a float
# it can evaluate, so every source of one is laundered through an empty inline asm that
# LLVM cannot see through (``launder``), and float arithmetic itself is not: scalar
# constants (all of them: LLVM evaluates 2.5 - 2.5 to 0.0), float locals before their
# first set (a known 0.0), int-to-float conversions and reinterprets (LLVM evaluates the
# integers), promote/demote, float loads LLVM may forward a stored value to (plain ones;
# guard mode's are volatile), and v128 constants with a foldable lane (float lane
# arithmetic also launders its operands: integer lane operations LLVM evaluates feed it).
_F32_IDENTITIES = {0x00000000, 0x80000000, 0x3F800000, 0xBF800000}
_F64_IDENTITIES = {0x0, 0x8000000000000000, 0x3FF0000000000000, 0xBFF0000000000000}


_LAUNDER_TYPES = frozenset(["float", "double", "<2 x i64>", "<4 x i32>", "<4 x float>",
                            "<2 x double>", "<8 x i16>", "<16 x i8>"])


class FunctionEmitter:
    """Emits one function. ``mod`` (module.ModuleEmitter) knows the module: signatures,
    the context layout, declarations and options."""

    def __init__(self, mod, func, metered: bool = False):
        self.mod = mod
        self.func = func
        self.layout: Layout = mod.layout
        self.metered = metered
        self.lines: list[str] = []
        self.allocas: list[str] = []
        self.slots: dict[tuple, str] = {}
        self.n = 0
        self.trap_blocks: dict[int, str] = {}
        self.extra_blocks: list[list[str]] = []
        self.terminated = False
        self.uses_memory = mod.has_memory
        self.labels: dict[int, str] = {}  # IR label id -> LLVM block branches go to
        info = mod.info
        fi = info.code[func.index - info.num_imported_funcs]
        self.frame = 16 * (len(func.locals) + fi.max_height + 8)  # estimated frame size
        # Stack units of the frame (runtime/limits.py), counted as every engine does. A
        # frame of more than one, or a big one, checks the depth on entry and at every
        # call; the others at their call sites, every 16 levels (call_check).
        self.units = frame_units(len(fi.locals) + fi.max_height)
        self.entry_checked = self.frame > BIG_FRAME or self.units > 1
        self.exhausted = False  # whether the shared exhaustion block is needed
        self.uniform = mod.is_uniform(func.index)  # the body is the uniform entry

    # -- names and text ---------------------------------------------------------------------
    def tmp(self) -> str:
        self.n += 1
        return f"%t{self.n}"

    def newlabel(self, hint: str = "b") -> str:
        self.n += 1
        return f"{hint}{self.n}"

    def emit(self, text: str) -> None:
        if self.terminated:
            # Code after a branch or a return: give it an (unreachable) block of its own.
            self.start(self.newlabel("dead"))
        self.lines.append("  " + text)

    def op(self, text: str) -> str:
        """Emit ``%tN = text`` and return %tN."""
        t = self.tmp()
        self.emit(f"{t} = {text}")
        return t

    def start(self, label: str) -> None:
        self.lines.append(f"{label}:")
        self.terminated = False

    def terminate(self, text: str) -> None:
        self.emit(text)
        self.terminated = True

    def br(self, label: str) -> None:
        self.terminate(f"br label %{label}")

    def cbr(self, cond: str, yes: str, no: str) -> None:
        self.terminate(f"br i1 {cond}, label %{yes}, label %{no}")

    # -- variables --------------------------------------------------------------------------
    def var_ptr(self, var) -> str:
        if type(var) is Local:
            return f"%L{var.index}"
        # By representation: the reference types at one height (a (ref null $t) and the
        # (ref $t) br_on_null leaves there) are one variable.
        key = (var.height, var.type.rep)
        name = self.slots.get(key)
        if name is None:
            name = self.slots[key] = f"%S{var.height}_{var.type.rep}"
            self.allocas.append(f"  {name} = alloca {LL[var.type]}, align 16")
        return name

    def load_var(self, var) -> str:
        return self.op(f"load {LL[var.type]}, ptr {self.var_ptr(var)}")

    def store_var(self, var, value: str) -> None:
        self.emit(f"store {LL[var.type]} {value}, ptr {self.var_ptr(var)}")

    # -- the context ------------------------------------------------------------------------
    def ctx_word(self, index: int, type_: str = "ptr") -> str:
        """Load word ``index`` of the instance context."""
        p = self.op(f"getelementptr inbounds i64, ptr %ctx, i64 {index}")
        return self.op(f"load {type_}, ptr {p}, align 8, !tbaa !2")

    def state(self) -> str:
        """The process state, loaded where it is needed (most functions touch it only on
        cold paths, so it is not loaded on entry)."""
        return self.op("load ptr, ptr %ctx, align 8, !tbaa !2, !invariant.load !6")

    def state_word_ptr(self, index: int) -> str:
        return self.op(f"getelementptr inbounds i64, ptr {self.state()}, i64 {index}")

    def note_caller(self, rec: str, callee_ctx: str) -> None:
        """Just before a call through record ``rec`` with context ``callee_ctx`` (an
        import, call_indirect) that reaches a host function: name this function as the
        caller, so an error raised in the host gets it as the innermost frame of its
        backtrace even where LLVM inlined this function. A host function's record is the
        one whose context is the record's own tail (references.func_record; a wasm record
        matching by chance only costs the store); storing for every call, wasm callees
        too, made call_indirect-heavy code ~60% slower."""
        tail = self.op(f"getelementptr inbounds i64, ptr {rec}, i64 {T.REC_WORDS}")
        host = self.op(f"icmp eq ptr {callee_ctx}, {tail}")
        note, cont = self.newlabel("host"), self.newlabel("call")
        self.terminate(f"br i1 {host}, label %{note}, label %{cont}, !prof !5")
        self.start(note)
        p = self.state_word_ptr(T.S.CALLER)
        self.emit(f"store i64 {self.func.index}, ptr {p}, align 8, !tbaa !2")
        self.br(cont)
        self.start(cont)

    def tail_words(self) -> str:
        """A pointer to this thread's TAIL words (the arguments of a uniform entry)."""
        tb = self.op(f"load ptr, ptr {self.state_word_ptr(T.S.CUR)}, align 8, !tbaa !2")
        return self.op(f"getelementptr inbounds i64, ptr {tb}, i64 {T.TB.TAIL}")

    def store_tail_args(self, types, values) -> None:
        """Put evaluated arguments in the TAIL words, for a uniform entry to take."""
        base = self.tail_words()
        word = 0
        for t, v in zip(types, values):
            p = self.op(f"getelementptr inbounds i64, ptr {base}, i64 {word}")
            self.emit(f"store {LL[t]} {v}, ptr {p}, align 8, !tbaa !2")
            word += T.WORDS[t]

    def memsize(self) -> str:
        return self.op("load i64, ptr %MS")

    def reload_memsize(self) -> None:
        """After anything that may grow memory 0 (calls, memory.grow)."""
        if self.uses_memory:
            v = self.op("load i64, ptr %mscell, align 8, !tbaa !2")
            self.emit(f"store i64 {v}, ptr %MS")

    # -- traps ------------------------------------------------------------------------------
    def trap_if(self, cond: str, code: int) -> None:
        """Trap with ``code`` when the i1 ``cond`` holds; continue in a fresh block."""
        block = self.trap_blocks.get(code)
        if block is None:
            block = self.trap_blocks[code] = f"trap{code}"
        cont = self.newlabel("ok")
        self.terminate(f"br i1 {cond}, label %{block}, label %{cont}, !prof !5")
        self.start(cont)

    def trap_with_arg(self, cond: str, code: int, arg: str) -> None:
        """Like trap_if, for traps whose message carries a value (an element index)."""
        block = self.newlabel("trapa")
        cont = self.newlabel("ok")
        self.terminate(f"br i1 {cond}, label %{block}, label %{cont}, !prof !5")
        self.extra_blocks.append([
            f"{block}:",
            f"  %{block}st = load ptr, ptr %ctx, align 8",
            f"  call void @fy_trap(ptr %{block}st, i64 {code}, i64 {arg}, i64 {self.func.index})",
            "  unreachable"])
        self.start(cont)

    def trap_indirect(self, cond: str, rec: str, idx: str) -> None:
        """call_indirect's type check failed (``cond``): trap "uninitialized element" if
        ``rec`` is the null record, else "indirect call type mismatch"."""
        block = self.newlabel("trapi")
        cont = self.newlabel("ok")
        self.terminate(f"br i1 {cond}, label %{block}, label %{cont}, !prof !5")
        b = block
        self.extra_blocks.append([
            f"{b}:",
            f"  %{b}st = load ptr, ptr %ctx, align 8",
            f"  %{b}np = getelementptr inbounds i64, ptr %{b}st, i64 {T.S.NULL_REC}",
            f"  %{b}nr = load ptr, ptr %{b}np, align 8",
            f"  %{b}is = icmp eq ptr {rec}, %{b}nr",
            f"  %{b}code = select i1 %{b}is, i64 {T.UNINITIALIZED}, i64 {T.MISMATCH}",
            f"  %{b}arg = select i1 %{b}is, i64 {idx}, i64 0",
            f"  call void @fy_trap(ptr %{b}st, i64 %{b}code, i64 %{b}arg, i64 {self.func.index})",
            "  unreachable"])
        self.start(cont)

    def trap(self, code: int) -> None:
        """An unconditional trap (unreachable)."""
        self.emit(f"call void @fy_trap(ptr {self.state()}, i64 {code}, i64 0, "
                  f"i64 {self.func.index})")
        self.terminate("unreachable")

    def unwind_if_failed(self, status: str) -> None:
        """After a runtime callback: a status other than OK means a Python exception is
        pending (see callbacks.py: a callback that could not even start returns 0)."""
        c = self.op(f"icmp ne i32 {status}, {T.OK}")
        self.trap_if(c, T.PENDING)

    def runtime_call(self, op: int, args: list[tuple[str, str]]) -> str:
        """Call the runtime callback (callbacks._runtime_call) with ``args`` (type, value) in an
        i64 buffer; return a pointer to the buffer (results come back in it)."""
        buf = self.tmp()
        self.allocas.append(f"  {buf} = alloca [6 x i64], align 16")
        for k, (ty, v) in enumerate(args):
            p = self.op(f"getelementptr inbounds i64, ptr {buf}, i64 {k}")
            if ty == "i32":
                v = self.op(f"zext i32 {v} to i64")
                ty = "i64"
            self.emit(f"store {ty} {v}, ptr {p}")
        fp = self.op(f"load ptr, ptr {self.state_word_ptr(T.S.RT_CALL)}, align 8, !tbaa !2")
        # Other threads may run native code while Python does: CUR goes back afterwards,
        # and metered code parks its fuel in the thread block meanwhile (refuelling
        # changes it there).
        curp = self.state_word_ptr(T.S.CUR)
        tb = self.op(f"load ptr, ptr {curp}, align 8, !tbaa !2")
        if self.metered:
            fuelp = self.state_word_ptr(T.S.FUEL)
            parked = self.op(f"getelementptr inbounds i64, ptr {tb}, i64 {T.TB.FUEL}")
            v = self.op(f"load i64, ptr {fuelp}, align 8, !tbaa !2")
            self.emit(f"store i64 {v}, ptr {parked}, align 8, !tbaa !2")
        status = self.op(f"call i32 {fp}(i32 {op}, ptr %ctx, ptr {buf})")
        self.emit(f"store ptr {tb}, ptr {curp}, align 8, !tbaa !2")
        if self.metered:
            v = self.op(f"load i64, ptr {parked}, align 8, !tbaa !2")
            self.emit(f"store i64 {v}, ptr {fuelp}, align 8, !tbaa !2")
        self.unwind_if_failed(status)
        return buf

    def call_check(self, d1: str = "%d1") -> None:
        """Before a call: the callee's depth (``d1``, %d1 unless a tail call hands on
        %depth) and the stack space left, looked at when d1 & 15 == 1 and d1 > 1 (see
        depth_check). At the call site rather than on entry, so functions that return
        without calling need no frame at all (shrink-wrapping)."""
        if self.entry_checked:
            # The stack was checked on entry; the depth a callee starts at is checked
            # here, on every call (a callee with a small frame does not check it).
            c = self.op(f"icmp ugt i32 {d1}, {MAX_CALL_DEPTH}")
            cont = self.newlabel("dok")
            self.terminate(f"br i1 {c}, label %exhausted, label %{cont}, !prof !5")
            self.start(cont)
            return
        # Not at %d1 == 1 (calls made by an entry function): 16 small frames fit in
        # the stack margin, and depth 1 is nowhere near the limit.
        m = self.op(f"and i32 {d1}, 15")
        c1 = self.op(f"icmp eq i32 {m}, 1")
        c2 = self.op(f"icmp ugt i32 {d1}, 1")
        c = self.op(f"and i1 {c1}, {c2}")
        chk, cont = self.newlabel("dchk"), self.newlabel("dok")
        self.terminate(f"br i1 {c}, label %{chk}, label %{cont}, !prof !5")
        b = chk
        self.exhausted = True
        self.extra_blocks.append([
            f"{b}:",
            f"  %{b}fa = call ptr @llvm.frameaddress.p0(i32 0)",
            f"  %{b}fi = ptrtoint ptr %{b}fa to i64",
            f"  %{b}fn = sub i64 %{b}fi, {self.frame}",
            f"  %{b}st = load ptr, ptr %ctx, align 8",
            f"  %{b}cp = getelementptr inbounds i64, ptr %{b}st, i64 {T.S.CUR}",
            f"  %{b}tb = load ptr, ptr %{b}cp, align 8",
            f"  %{b}lp = getelementptr inbounds i64, ptr %{b}tb, i64 {T.TB.STACK_LIMIT}",
            f"  %{b}lim = load i64, ptr %{b}lp, align 8",
            f"  %{b}so = icmp ult i64 %{b}fn, %{b}lim",
            f"  %{b}do = icmp ugt i32 {d1}, {MAX_CALL_DEPTH}",
            f"  %{b}x = or i1 %{b}so, %{b}do",
            f"  br i1 %{b}x, label %exhausted, label %{cont}"])
        self.start(cont)

    def fuel(self, count: str | None = None, wide: bool = False) -> None:
        """Spend one unit of fuel (metered code): at calls and branches back to loops; or,
        for a bulk operation on ``count`` (an i32, or an i64 when ``wide``: memory64)
        bytes or elements, a unit per 2**BULK_SHIFT of them (runtime.limits)."""
        if not self.metered:
            return
        p = self.state_word_ptr(T.S.FUEL)
        f = self.op(f"load i64, ptr {p}, align 8, !tbaa !2")
        if count is None:
            f1 = self.op(f"sub i64 {f}, 1")
        else:
            n = count if wide else self.op(f"zext i32 {count} to i64")
            units = self.op(f"lshr i64 {n}, {BULK_SHIFT}")
            f1 = self.op(f"sub i64 {f}, {units}")
        self.emit(f"store i64 {f1}, ptr {p}, align 8, !tbaa !2")
        neg = self.op(f"icmp slt i64 {f1}, 0")
        refuel, cont = self.newlabel("refuel"), self.newlabel("fueled")
        self.terminate(f"br i1 {neg}, label %{refuel}, label %{cont}, !prof !5")
        self.start(refuel)
        self.runtime_call(T.RT_REFUEL, [])
        self.br(cont)
        self.start(cont)

    # -- constants and expressions ------------------------------------------------------------
    def const(self, t, raw) -> str:
        if t is I32 or t is I64:
            return T.const(t, raw)
        if t is F32 or t is F64:
            bits = T.float_bits(t, raw)
            ity, fty = ("i32", "float") if t is F32 else ("i64", "double")
            v = self.op(f"bitcast {ity} {T.const(T.I32 if t is F32 else T.I64, bits)} to {fty}")
            # Every one (see _F32_IDENTITIES): arithmetic on constants folds to identities.
            return self.launder(fty, v)
        if t is V128:
            if _v128_identity_lanes(raw):
                return self.launder("<2 x i64>", T.const(V128, raw))
            return T.const(V128, raw)
        return "null"  # ref.null as a constant

    def launder(self, ty: str, v: str) -> str:
        """``v`` through an empty inline asm: the same bits, but opaque to LLVM's folds.
        Only scalars and 128-bit vectors: the "x" constraint (an SSE register) takes no
        other type, and LLVM reports a bad constraint as a fatal error."""
        assert ty in _LAUNDER_TYPES, ty
        return self.op(f'call {ty} asm "", "=x,0"({ty} {v})')

    def expr(self, e) -> str:
        t = type(e)
        if t is Local or t is Slot:
            return self.load_var(e)
        if t is Const:
            return self.const(e.type, e.value)
        return self.mod.lower_op(self, e)

    def cond(self, e) -> str:
        """An i32 expression as an i1 (comparisons stay i1, without a zext and an icmp)."""
        if type(e) is Op:
            i1 = self.mod.lower_cond(self, e)
            if i1 is not None:
                return i1
        v = self.expr(e)
        return self.op(f"icmp ne i32 {v}, 0")

    # -- the function -------------------------------------------------------------------------
    def emit_function(self) -> str:
        f = self.func
        params = f.type.params
        frame = self.frame
        self.lines = []
        self.start("body")
        self.body_list(f.body)
        if not self.terminated:
            self.terminate("unreachable")  # the IR ends every body with a Return
        name = self.mod.func_symbol(f.index)
        ret = T.ret_type(f.type.results)
        if self.uniform:
            # The uniform entry: the arguments come in the thread block's TAIL words.
            head = [(f"define internal {ret} @{self.mod.tail_symbol(f.index)}(ptr %ctx, "
                    "i32 %depth) #4 {"), "entry:"]
            head += _tail_loads(params)
        else:
            head = [f"define internal {ret} @{name}(ptr %ctx, i32 %depth"
                    + "".join(f", {LL[t]} %p{k}" for k, t in enumerate(params))
                    + ") #0 {", "entry:"]
        # A tail call hands on %depth: the callee's units replace this frame's.
        head.append(f"  %d1 = add i32 %depth, {self.units}")
        for k, t in enumerate(f.locals):
            head.append(f"  %L{k} = alloca {LL[t]}, align 16")
        # Slots are discovered while the body is emitted; their allocas go here too.
        head.extend(self.allocas)
        for k, t in enumerate(params):
            head.append(f"  store {LL[t]} %p{k}, ptr %L{k}")
        for k in range(len(params), len(f.locals)):
            t = f.locals[k]
            zero = T.ZERO[t]
            if t in (F32, F64, V128):
                # Laundered like an identity constant: a float local never set is a
                # known 0.0 to LLVM after mem2reg, and x - 0.0 would fold to x, letting
                # a signalling NaN through unquieted.
                zero = f"%z{k}"
                head.append(f'  %z{k} = call {LL[t]} asm "", "=x,0"({LL[t]} {T.ZERO[t]})')
            head.append(f"  store {LL[t]} {zero}, ptr %L{k}")
        if self.uses_memory:
            head.append(f"  %mbp = getelementptr inbounds i64, ptr %ctx, i64 {Layout.MEM_BASE}")
            head.append("  %membase = load ptr, ptr %mbp, align 8, !tbaa !2, !invariant.load !6")
            head.append(f"  %mcp = getelementptr inbounds i64, ptr %ctx, i64 {Layout.MEM_SIZE}")
            head.append("  %mscell = load ptr, ptr %mcp, align 8, !tbaa !2, !invariant.load !6")
            head.append("  %MS = alloca i64, align 8")
            head.append("  %ms0 = load i64, ptr %mscell, align 8, !tbaa !2")
            head.append("  store i64 %ms0, ptr %MS")
        if self.entry_checked:
            head.extend(self.depth_check(frame))
        head.append("  br label %body")
        tail = []
        if self.exhausted:
            tail += ["exhausted:",
                     "  %exst = load ptr, ptr %ctx, align 8",
                     f"  call void @fy_trap(ptr %exst, i64 {T.EXHAUSTED}, i64 0, i64 {f.index})",
                     "  unreachable"]
        for code, block in sorted(self.trap_blocks.items()):
            tail.append(f"{block}:")
            tail.append(f"  %{block}st = load ptr, ptr %ctx, align 8")
            tail.append(f"  call void @fy_trap(ptr %{block}st, i64 {code}, i64 0, i64 {f.index})")
            tail.append("  unreachable")
        for blk in self.extra_blocks:
            tail.extend(blk)
        text = "\n".join(head + self.lines + tail + ["}"])
        if self.uniform:
            text += "\n\n" + _uniform_wrapper(name, self.mod.tail_symbol(f.index), params, ret)
        return text

    def depth_check(self, frame: int) -> list[str]:
        """Call depth and stack space, checked on entry by functions with big frames or
        more than one stack unit (the others check at their call sites, see call_check).
        The depth is exact: an entry has depth 0, a frame of u units spans depths
        depth .. depth + u - 1, and a frame past MAX_CALL_DEPTH is exhaustion, as on the
        interpreter.
        Small frames look at it only when depth & 15 == 1, which includes that value, and
        the stack margin (process.STACK_MARGIN) covers what 16 of them use between checks;
        a function that calls nothing cannot deepen the recursion, so it needs no check."""
        assert (MAX_CALL_DEPTH + 1) & 15 == 1
        out = ["  %fa = call ptr @llvm.frameaddress.p0(i32 0)",
               "  %fai = ptrtoint ptr %fa to i64",
               f"  %fan = sub i64 %fai, {frame}"]
        out += ["  %st = load ptr, ptr %ctx, align 8",
                f"  %scp = getelementptr inbounds i64, ptr %st, i64 {T.S.CUR}",
                "  %stb = load ptr, ptr %scp, align 8",
                f"  %slp = getelementptr inbounds i64, ptr %stb, i64 {T.TB.STACK_LIMIT}",
                f"  %dover = icmp ugt i32 %d1, {MAX_CALL_DEPTH + 1}",
                "  %slim = load i64, ptr %slp, align 8, !tbaa !2",
                "  %sover = icmp ult i64 %fan, %slim",
                "  %xover = or i1 %dover, %sover",
                "  br i1 %xover, label %exhausted, label %dok, !prof !5",
                "exhausted:",
                # arg 1: raised by the callee's own check, so not one of the live frames
                # (traps.take_error leaves it out, as the other engines do).
                f"  call void @fy_trap(ptr %st, i64 {T.EXHAUSTED}, i64 1, i64 {self.func.index})",
                "  unreachable",
                "dok:"]
        return out

    # Statements are lowered by control.py (bound in module.py).
    def body_list(self, body) -> None:
        """Lower a statement list. A block, loop or if comes back as a generator yielding
        its bodies; they go on an explicit stack, so nesting costs no Python recursion."""
        lower = self.mod.lower_stmt
        work = [iter(body)]  # statement iterators and construct generators, innermost last
        while work:
            for item in work[-1]:
                if type(item) is list:  # a body the construct on top wants lowered now
                    work.append(iter(item))
                    break
                construct = lower(self, item)
                if construct is not None:
                    work.append(construct)
                    break
            else:
                work.pop()


def _tail_words_lines(prefix: str) -> list[str]:
    return [f"  %{prefix}st = load ptr, ptr %ctx, align 8",
            f"  %{prefix}cp = getelementptr inbounds i64, ptr %{prefix}st, i64 {T.S.CUR}",
            f"  %{prefix}tb = load ptr, ptr %{prefix}cp, align 8",
            f"  %{prefix}w = getelementptr inbounds i64, ptr %{prefix}tb, i64 {T.TB.TAIL}"]


def _tail_loads(params) -> list[str]:
    """A uniform entry's first lines: its parameters %p<k> from the TAIL words."""
    out = _tail_words_lines("tw") if params else []
    word = 0
    for k, t in enumerate(params):
        out.append(f"  %tw{k} = getelementptr inbounds i64, ptr %tww, i64 {word}")
        out.append(f"  %p{k} = load {LL[t]}, ptr %tw{k}, align 8, !tbaa !2")
        word += T.WORDS[t]
    return out


def _uniform_wrapper(name: str, uniform: str, params, ret: str) -> str:
    """``name``, the ordinary entry of a function whose body is its uniform entry: it
    puts the arguments in the TAIL words and calls that. (Backtraces skip it: the code
    map lists it as glue.)"""
    lines = [f"define internal {ret} @{name}(ptr %ctx, i32 %depth"
             + "".join(f", {LL[t]} %p{k}" for k, t in enumerate(params)) + ") #0 {", "entry:"]
    if params:
        lines += _tail_words_lines("tw")
    word = 0
    for k, t in enumerate(params):
        lines.append(f"  %tw{k} = getelementptr inbounds i64, ptr %tww, i64 {word}")
        lines.append(f"  store {LL[t]} %p{k}, ptr %tw{k}, align 8, !tbaa !2")
        word += T.WORDS[t]
    if ret == "void":
        lines += [f"  call void @{uniform}(ptr %ctx, i32 %depth)", "  ret void", "}"]
    else:
        lines += [f"  %r = call {ret} @{uniform}(ptr %ctx, i32 %depth)", f"  ret {ret} %r", "}"]
    return "\n".join(lines)


def _foldable(bits: int, width: int) -> bool:
    """Float bits LLVM's folds mistreat: an identity (x*1 -> x, x-0 -> x) or a signalling
    NaN (LLVM folds x+sNaN to that sNaN, unquieted, where wasm must quiet it)."""
    if bits in (_F32_IDENTITIES if width == 32 else _F64_IDENTITIES):
        return True
    frac = 23 if width == 32 else 52
    exp_all = (1 << (width - frac - 1)) - 1
    return ((bits >> frac) & exp_all == exp_all and bits & ((1 << frac) - 1) != 0
            and not bits >> (frac - 1) & 1)


def _v128_identity_lanes(raw: int) -> bool:
    """Whether any lane, read as f32 or as f64, is _foldable."""
    for k in range(4):
        if _foldable((raw >> (32 * k)) & 0xFFFFFFFF, 32):
            return True
    for k in range(2):
        if _foldable((raw >> (64 * k)) & 0xFFFFFFFFFFFFFFFF, 64):
            return True
    return False

"""Lowering the GC instructions to LLVM IR. i31 references, ref.eq and null checks are
native (gcheap.py's word encoding); everything touching an object (allocation, fields,
elements, casts, the extern/any conversions) is a call of the module's GC stub
``@fy_gc``, which records its frame for the collector's stack scan (a ``_setjmp`` there
spills the callee-saved registers into it) and calls the runtime callback (gcrun.py).
Only a module that uses GC instructions gets the stub."""
from __future__ import annotations

from fayasm.runtime.types import DefType, HeapType, Packed, ValType

from . import types as T
from .gcheap import LIST_ITEMS, LIST_SIZE, NATIVE_FIELDS
from .types import LL

# The operations of the GC stub, numbered in this order (gcrun.py).
OP_NAMES = ("struct.new", "struct.new_default", "struct.get", "struct.set", "array.new",
            "array.new_default", "array.new_fixed", "array.new_data", "array.new_elem",
            "array.get", "array.set", "array.len", "array.fill", "array.copy",
            "array.init_data", "array.init_elem", "ref.test", "ref.cast",
            "any.convert_extern", "extern.convert_any", "call_indirect")
OPS = {name: k for k, name in enumerate(OP_NAMES)}
HEAPS = list(HeapType)  # an abstract heap type's index in a cast immediate

STUB = f"""define internal i32 @fy_gc(i32 %op, ptr %ctx, ptr %buf) #2 {{
entry:
  %jb = alloca [40 x i64], align 16
  %r = call i32 @_setjmp(ptr %jb) #3
  %spp = getelementptr inbounds i64, ptr %buf, i64 1
  %sp = ptrtoint ptr %jb to i64
  store i64 %sp, ptr %spp
  %st = load ptr, ptr %ctx
  %rtp = getelementptr inbounds i64, ptr %st, i64 {T.S.RT_CALL}
  %rt = load ptr, ptr %rtp
  %s = call i32 %rt(i32 %op, ptr %ctx, ptr %buf)
  ret i32 %s
}}"""

_HEAP_INDEX = {h: k for k, h in enumerate(HEAPS)}


def _cast_imm(rt: ValType) -> tuple[int, int]:
    """A cast type as the stub's two immediates (gcrun.GcModule.test)."""
    nullable = 1 if rt.nullable else 0
    if rt.heap.__class__ is DefType:
        raise KeyError  # resolved by _cast_imms with the module's DefTypes
    return nullable, _HEAP_INDEX[rt.heap]


def _cast_imms(fe, rt: ValType) -> tuple[int, int]:
    if rt.heap.__class__ is DefType:
        return (1 if rt.nullable else 0) | 2, fe.mod.syntax.deftypes.index(rt.heap)
    return _cast_imm(rt)


def _words(fe, ty: str, v: str) -> list[str]:
    """An operand as i64 words."""
    if ty == "i64":
        return [v]
    if ty == "i32":
        return [fe.op(f"zext i32 {v} to i64")]
    if ty == "float":
        b = fe.op(f"bitcast float {v} to i32")
        return [fe.op(f"zext i32 {b} to i64")]
    if ty == "double":
        return [fe.op(f"bitcast double {v} to i64")]
    if ty == "ptr":
        return [fe.op(f"ptrtoint ptr {v} to i64")]
    return [fe.op(f"extractelement <2 x i64> {v}, i32 0"),
            fe.op(f"extractelement <2 x i64> {v}, i32 1")]


def _result(fe, buf: str, ty: str) -> str:
    p = fe.op(f"getelementptr inbounds i64, ptr {buf}, i64 4")
    if ty == "v128":
        return fe.op(f"load <2 x i64>, ptr {p}, align 8")
    if ty == "i64":
        return fe.op(f"load i64, ptr {p}, align 8")
    w = fe.op(f"load i64, ptr {p}, align 8")
    if ty == "i32":
        return fe.op(f"trunc i64 {w} to i32")
    if ty == "float":
        b = fe.op(f"trunc i64 {w} to i32")
        return fe.op(f"bitcast i32 {b} to float")
    if ty == "double":
        return fe.op(f"bitcast i64 {w} to double")
    return fe.op(f"inttoptr i64 {w} to ptr")


def call(fe, name: str, imm: tuple[int, int], operands: list[tuple[str, str]]) -> str:
    """Call the GC stub for operation ``name``; return the buffer (results from word 4)."""
    fe.mod.decls["fy_gc"] = STUB
    words = [w for ty, v in operands for w in _words(fe, ty, v)]
    n = 4 + max(len(words), 2)
    buf = fe.tmp()
    fe.allocas.append(f"  {buf} = alloca [{n} x i64], align 16")
    head = ["0", "0", str(imm[0]), str(imm[1])]
    for k, v in enumerate(head + words):
        if k < 2:
            continue
        p = fe.op(f"getelementptr inbounds i64, ptr {buf}, i64 {k}")
        fe.emit(f"store i64 {v}, ptr {p}, align 8")
    # As runtime_call: CUR back after Python ran, metered code's fuel parked meanwhile.
    curp = fe.state_word_ptr(T.S.CUR)
    tb = fe.op(f"load ptr, ptr {curp}, align 8, !tbaa !2")
    if fe.metered:
        fuelp = fe.state_word_ptr(T.S.FUEL)
        parked = fe.op(f"getelementptr inbounds i64, ptr {tb}, i64 {T.TB.FUEL}")
        v = fe.op(f"load i64, ptr {fuelp}, align 8, !tbaa !2")
        fe.emit(f"store i64 {v}, ptr {parked}, align 8, !tbaa !2")
    # The operation: above the runtime callback's own numbers (callbacks._runtime_call).
    op = (OPS[name] << 8) | (n << 16)
    status = fe.op(f"call i32 @fy_gc(i32 {op}, ptr %ctx, ptr {buf})")
    fe.emit(f"store ptr {tb}, ptr {curp}, align 8, !tbaa !2")
    if fe.metered:
        v = fe.op(f"load i64, ptr {parked}, align 8, !tbaa !2")
        fe.emit(f"store i64 {v}, ptr {fuelp}, align 8, !tbaa !2")
    fe.unwind_if_failed(status)
    return buf


def indirect_check(fe, bad: str, rec: str, idx: str, type_index: int) -> None:
    """call_indirect in a module with declared subtyping: a type id other than the
    wanted one (``bad``) may still be a subtype's; the runtime decides, else the trap."""
    slow = fe.newlabel("subty")
    cont = fe.newlabel("tyok")
    fe.terminate(f"br i1 {bad}, label %{slow}, label %{cont}, !prof !5")
    fe.start(slow)
    buf = call(fe, "call_indirect", (type_index, 0), [("ptr", rec)])
    ok = _result(fe, buf, "i32")
    fe.trap_indirect(fe.op(f"icmp eq i32 {ok}, 0"), rec, idx)
    fe.br(cont)
    fe.start(cont)


# -- native field access (numeric fields of the runtime's objects, see gcheap.LIST_*) ----------
def _native(storage) -> bool:
    return NATIVE_FIELDS and (storage.__class__ is Packed or storage is ValType.I32
                              or storage is ValType.I64 or storage is ValType.F64
                              or _is_any(storage))


def _is_any(storage) -> bool:
    return storage.__class__ is not Packed and storage.is_ref and storage.rep is ValType.ANYREF


def _read_any(fe, slot: str, slow) -> str:
    """An ``any`` field's word: null for None, the object's address (registered in
    gcheap.HEAP, which must hold what native code names) else; an i31 value, or a
    failure to register, takes ``slow()`` (the callback), which returns its word."""
    out = fe.tmp()
    fe.allocas.append(f"  {out} = alloca ptr, align 8")
    v = fe.op(f"load ptr, ptr {slot}, align 8")
    none = fe.op(f"load ptr, ptr {fe.state_word_ptr(T.S.PY_NONE)}, align 8, !tbaa !2")
    obj, isnone, other, done = (fe.newlabel("anyobj"), fe.newlabel("anynull"),
                                fe.newlabel("anyslow"), fe.newlabel("anyok"))
    fe.terminate(f"br i1 {fe.op(f'icmp eq ptr {v}, {none}')}, label %{isnone}, "
                 f"label %{obj}")
    fe.start(isnone)
    fe.emit(f"store ptr null, ptr {out}, align 8")
    fe.br(done)
    fe.start(obj)
    tp = fe.op(f"getelementptr inbounds i8, ptr {v}, i64 8")
    cls = fe.op(f"load ptr, ptr {tp}, align 8")
    i31 = fe.op(f"load ptr, ptr {fe.state_word_ptr(T.S.I31_TYPE)}, align 8, !tbaa !2")
    reg = fe.newlabel("anyreg")
    fe.terminate(f"br i1 {fe.op(f'icmp eq ptr {cls}, {i31}')}, label %{other}, "
                 f"label %{reg}")
    fe.start(reg)
    key = fe.op(f"call ptr {_api(fe, T.S.PY_FROM_PTR)}(ptr {v})")
    kept, failed = fe.newlabel("anykey"), fe.newlabel("anyfail")
    fe.terminate(f"br i1 {fe.op(f'icmp eq ptr {key}, null')}, label %{failed}, "
                 f"label %{kept}, !prof !5")
    fe.start(kept)
    heap = fe.op(f"load ptr, ptr {fe.state_word_ptr(T.S.HEAP)}, align 8, !tbaa !2")
    r = fe.op(f"call i32 {_api(fe, T.S.PY_DICT_SET)}(ptr {heap}, ptr {key}, ptr {v})")
    fe.emit(f"call void {_api(fe, T.S.PY_DECREF)}(ptr {key})")
    ok = fe.newlabel("anyset")
    fe.terminate(f"br i1 {fe.op(f'icmp ne i32 {r}, 0')}, label %{failed}, label %{ok}, "
                 "!prof !5")
    fe.start(ok)
    fe.emit(f"store ptr {v}, ptr {out}, align 8")
    fe.br(done)
    fe.start(failed)
    fe.emit(f"call void {_api(fe, T.S.PY_ERR_CLEAR)}()")  # out of memory: the callback
    fe.br(other)                                          # raises it properly
    fe.start(other)
    fe.emit(f"store ptr {slow()}, ptr {out}, align 8")
    fe.br(done)
    fe.start(done)
    return fe.op(f"load ptr, ptr {out}, align 8")


def _write_any(fe, slot: str, v: str, slow) -> None:
    """Store the object of word ``v`` (None for null) in ``slot``; an i31 value takes
    ``slow()`` (the callback makes its object)."""
    w = fe.op(f"ptrtoint ptr {v} to i64")
    odd = fe.op(f"trunc i64 {w} to i1")
    fast, other, done = fe.newlabel("anyput"), fe.newlabel("anyputslow"), fe.newlabel("anyputok")
    fe.terminate(f"br i1 {odd}, label %{other}, label %{fast}")
    fe.start(other)
    slow()
    fe.br(done)
    fe.start(fast)
    none = fe.op(f"load ptr, ptr {fe.state_word_ptr(T.S.PY_NONE)}, align 8, !tbaa !2")
    obj = fe.op(f"select i1 {fe.op(f'icmp eq ptr {v}, null')}, ptr {none}, ptr {v}")
    fe.emit(f"call void {_api(fe, T.S.PY_INCREF)}(ptr {obj})")
    old = fe.op(f"load ptr, ptr {slot}, align 8")
    fe.emit(f"store ptr {obj}, ptr {slot}, align 8")
    fe.emit(f"call void {_api(fe, T.S.PY_DECREF)}(ptr {old})")
    fe.br(done)
    fe.start(done)


def _api(fe, word: int) -> str:
    return fe.op(f"load ptr, ptr {fe.state_word_ptr(word)}, align 8, !tbaa !2")


def _slot(fe, obj: str, null_code: int, index: str | None = None,
          oob: bool = False) -> str:
    """The address of item ``index`` (an i64; a constant for a field) of the object
    ``obj``, after the null check (and the bounds check for an array element)."""
    fe.trap_if(fe.op(f"icmp eq ptr {obj}, null"), null_code)
    if oob:
        sp = fe.op(f"getelementptr inbounds i8, ptr {obj}, i64 {LIST_SIZE}")
        size = fe.op(f"load i64, ptr {sp}, align 8")
        fe.trap_if(fe.op(f"icmp uge i64 {index}, {size}"), T.ARRAY_OOB)
    ip = fe.op(f"getelementptr inbounds i8, ptr {obj}, i64 {LIST_ITEMS}")
    items = fe.op(f"load ptr, ptr {ip}, align 8")
    return fe.op(f"getelementptr inbounds ptr, ptr {items}, i64 {index}")


def _read(fe, slot: str, storage, slow=None) -> str:
    if _is_any(storage):
        return _read_any(fe, slot, slow)
    v = fe.op(f"load ptr, ptr {slot}, align 8")
    if storage is ValType.F64:
        return fe.op(f"call double {_api(fe, T.S.PY_AS_DOUBLE)}(ptr {v})")
    r = fe.op(f"call i64 {_api(fe, T.S.PY_AS_U64)}(ptr {v})")
    return r if storage is ValType.I64 else fe.op(f"trunc i64 {r} to i32")


def _write(fe, slot: str, storage, v: str, slow) -> None:
    """Store ``v`` as a new Python value in ``slot``; ``slow()`` (the callback) where the
    C API could not make one (out of memory: the callback raises it properly)."""
    if _is_any(storage):
        _write_any(fe, slot, v, slow)
        return
    if storage is ValType.F64:
        new = fe.op(f"call ptr {_api(fe, T.S.PY_FROM_DOUBLE)}(double {v})")
    else:
        if storage.__class__ is Packed:
            v = fe.op(f"and i32 {v}, {storage.mask}")
        if storage is not ValType.I64:
            v = fe.op(f"zext i32 {v} to i64")
        new = fe.op(f"call ptr {_api(fe, T.S.PY_FROM_U64)}(i64 {v})")
    fast, other, done = fe.newlabel("put"), fe.newlabel("putslow"), fe.newlabel("putok")
    fe.terminate(f"br i1 {fe.op(f'icmp eq ptr {new}, null')}, label %{other}, "
                 f"label %{fast}, !prof !5")
    fe.start(other)
    slow()
    fe.br(done)
    fe.start(fast)
    old = fe.op(f"load ptr, ptr {slot}, align 8")
    fe.emit(f"store ptr {new}, ptr {slot}, align 8")
    fe.emit(f"call void {_api(fe, T.S.PY_DECREF)}(ptr {old})")
    fe.br(done)
    fe.start(done)


def _index(fe, i: str) -> str:
    return fe.op(f"zext i32 {i} to i64")


def _ll(t) -> str:
    if t is ValType.V128:
        return "v128"
    return LL[t]


def _operands(e, a: list[str]) -> list[tuple[str, str]]:
    return [(_ll(x.type), v) for x, v in zip(e.args, a)]


def _sign(fe, name: str, storage, v: str) -> str:
    """A packed value read with ``_s``: sign-extended from its width."""
    if not name.endswith("_s"):
        return v
    shift = 32 - storage.bits
    x = fe.op(f"shl i32 {v}, {shift}")
    return fe.op(f"ashr i32 {x}, {shift}")


def _storage(fe, k: int, field: int | None):
    comp = fe.mod.syntax.deftypes[k].expand()
    return comp.fields[field].storage if field is not None else comp.field.storage


def expr(fe, e, a: list[str]) -> str:
    """A GC instruction with a result."""
    name = e.op.name
    imm = e.imm
    if name == "ref.i31":
        x = fe.op(f"and i32 {a[0]}, 2147483647")
        x = fe.op(f"zext i32 {x} to i64")
        x = fe.op(f"shl i64 {x}, 1")
        x = fe.op(f"or i64 {x}, 1")
        return fe.op(f"inttoptr i64 {x} to ptr")
    if name == "i31.get_s" or name == "i31.get_u":
        fe.trap_if(fe.op(f"icmp eq ptr {a[0]}, null"), T.NULL_I31)
        w = fe.op(f"ptrtoint ptr {a[0]} to i64")
        w = fe.op(f"lshr i64 {w}, 1")
        v = fe.op(f"trunc i64 {w} to i32")
        if name == "i31.get_u":
            return fe.op(f"and i32 {v}, 2147483647")
        v = fe.op(f"shl i32 {v}, 1")
        return fe.op(f"ashr i32 {v}, 1")
    if name == "ref.eq":
        c = fe.op(f"icmp eq ptr {a[0]}, {a[1]}")
        return fe.op(f"zext i1 {c} to i32")
    if name.startswith("ref.test"):
        buf = call(fe, "ref.test", _cast_imms(fe, imm[0]), _operands(e, a))
        return _result(fe, buf, "i32")
    if name.startswith("ref.cast"):
        call(fe, "ref.cast", _cast_imms(fe, imm[0]), _operands(e, a))
        return a[0]
    if name in ("any.convert_extern", "extern.convert_any"):
        return _result(fe, call(fe, name, (0, 0), _operands(e, a)), "ptr")
    if name.startswith("struct.get"):
        st = _storage(fe, imm[0], imm[1])
        def slow_get():
            buf = call(fe, "struct.get", (imm[0], imm[1]), _operands(e, a))
            return _result(fe, buf, _ll(e.type))

        if _native(st):
            slot = _slot(fe, a[0], T.NULL_STRUCT, str(imm[1]))
            return _sign(fe, name, st, _read(fe, slot, st, slow_get))
        return _sign(fe, name, st, slow_get())
    if name.startswith("array.get"):
        st = _storage(fe, imm[0], None)
        def slow_aget():
            buf = call(fe, "array.get", (imm[0], 0), _operands(e, a))
            return _result(fe, buf, _ll(e.type))

        if _native(st):
            slot = _slot(fe, a[0], T.NULL_ARRAY, _index(fe, a[1]), oob=True)
            return _sign(fe, name, st, _read(fe, slot, st, slow_aget))
        return _sign(fe, name, st, slow_aget())
    if name == "array.len":
        if NATIVE_FIELDS:
            fe.trap_if(fe.op(f"icmp eq ptr {a[0]}, null"), T.NULL_ARRAY)
            sp = fe.op(f"getelementptr inbounds i8, ptr {a[0]}, i64 {LIST_SIZE}")
            return fe.op(f"trunc i64 {fe.op(f'load i64, ptr {sp}, align 8')} to i32")
        return _result(fe, call(fe, name, (0, 0), _operands(e, a)), "i32")
    # allocations
    if name in _BULK:
        fe.fuel(a[-1])
    second = imm[1] if len(imm) > 1 else 0
    return _result(fe, call(fe, name, (imm[0], second), _operands(e, a)), "ptr")


# Array operations a metered instance charges by size (the count is the last operand),
# before they run, as bulk memory operations are charged (gcops.fuel).
_BULK = frozenset(("array.new", "array.new_default", "array.new_data", "array.new_elem",
                   "array.fill", "array.copy", "array.init_data", "array.init_elem"))


def effect(fe, s, a: list[str]) -> None:
    """A GC instruction without a result (struct.set, array.set/fill/copy/init_*)."""
    name = s.op.name
    imm = s.imm
    second = imm[1] if len(imm) > 1 else 0

    def slow():
        call(fe, name, (imm[0], second), _operands(s, a))

    if name in _BULK:
        fe.fuel(a[-1])

    if name == "struct.set":
        st = _storage(fe, imm[0], imm[1])
        if _native(st):
            _write(fe, _slot(fe, a[0], T.NULL_STRUCT, str(imm[1])), st, a[1], slow)
            return
    elif name == "array.set":
        st = _storage(fe, imm[0], None)
        if _native(st):
            slot = _slot(fe, a[0], T.NULL_ARRAY, _index(fe, a[1]), oob=True)
            _write(fe, slot, st, a[2], slow)
            return
    slow()


__all__ = ["expr", "effect", "STUB", "OP_NAMES", "OPS", "HEAPS"]

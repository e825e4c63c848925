"""Instance snapshots: the state a module can observe, read between calls from the runtime
objects every engine shares, and put back by the one linking step (plan.link).

What is captured: every memory (pages and bytes), table (elements), global (value) of the
index spaces, imports included; which element and data segments are dropped; a WASI
instance's open descriptors (wasi/snapshot.py); and what ``EXTRA`` hooks add. Every engine
keeps that state on the runtime objects (Memory, Table, Global whose ``raw`` is live on
every engine, the instance's ``elems``/``datas``), so one capture and one restore serve
all three, and a snapshot taken on one engine restores on any other.

References, as stored (never a Func or an object from the index spaces themselves):
  None                 null
  ["f", i]             function ``i`` of the index space: one of the module's own, or an
                       import, which restoring re-binds by its import name from the new
                       imports; a function that is neither cannot be named: SnapshotError
  ["x", value]         an externref holding None/bool/int/float/str/bytes, stored as is
  ["o", k]             any other externref: object ``k`` of the snapshot's ``objects``
                       (kept in memory and by pickle; ``to_bytes`` refuses them)

Restoring validates the whole snapshot against the new instance before it writes
anything, and writes imported memories, tables and mutable globals (the host's objects)
last, so a SnapshotError leaves nothing partly restored.
"""
from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import partial
from typing import TYPE_CHECKING, Any

from . import snapshot_format
from .errors import SnapshotError
from .exceptions import Exn
from .func import ref_fits
from .stack import DEPTH, ENTRIES, THREAD
from .types import PAGE_SIZE, ValType
from .values import bits_from_raw, raw_from_bits

if TYPE_CHECKING:
    from .globals import Global
    from .instance import Instance
    from .memory import Memory
    from .plan import Plan, Spaces
    from .table import Table

_PLAIN = (bool, int, float, str, bytes)
_MASKS = {ValType.I32: 32, ValType.I64: 64, ValType.F32: 32, ValType.F64: 64,
          ValType.V128: 128}

# State beyond the core's, by name: (capture(instance) -> plain value or None,
# restore(instance, value)). Exception tags go here once they exist: a module's own tags
# are made again by instantiating it, so their hook only needs to refuse (or record) an
# exnref held in a global or table; GC objects are refused by _encode_ref until then.
EXTRA: dict[str, tuple[Callable[[Instance], Any], Callable[[Instance, Any], None]]] = {}

# The snapshot the linking step running in this context restores instead of placing
# segments and running the start function (set by fayasm.restore around instantiating).
RESTORING: ContextVar[Snapshot | None] = ContextVar("fayasm_restoring", default=None)


class Snapshot:
    """A captured instance state: ``to_bytes()`` (a versioned file with the module's hash
    and a checksum), ``Snapshot.from_bytes(data)``, pickle; restore it with
    ``fayasm.restore(module, snapshot, ...)``. ``module_hash`` is the SHA-256 of the
    module's binary, ``engine`` the engine it was taken on."""

    __slots__ = ("module_hash", "engine", "mems", "tables", "globals", "elems_dropped",
                 "datas_dropped", "wasi", "extra", "objects")

    def __init__(self, module_hash: str, engine: str, mems: list, tables: list, globals_: list,
                 elems_dropped: list, datas_dropped: list, wasi: Any = None,
                 extra: list | None = None, objects: list | None = None) -> None:
        self.module_hash = module_hash
        self.engine = engine
        self.mems = mems  # [pages, bytes] per memory
        self.tables = tables  # the encoded elements of each table
        self.globals = globals_  # bits (numbers) or an encoded reference, per global
        self.elems_dropped = elems_dropped
        self.datas_dropped = datas_dropped
        self.wasi = wasi  # wasi/snapshot.py's descriptors, or None
        self.extra = extra or []  # [name, value] of each EXTRA hook that had state
        self.objects = objects or []  # externref objects the byte format cannot hold

    def body(self) -> list:
        return [self.engine, self.mems, self.tables, self.globals, self.elems_dropped,
                self.datas_dropped, self.wasi, self.extra]

    def to_bytes(self) -> bytes:
        """The snapshot as bytes (see snapshot_format.py). An externref holding an object
        other than None/bool/int/float/str/bytes has no byte form: pickle the snapshot."""
        if self.objects:
            kinds = sorted({type(o).__name__ for o in self.objects})
            raise SnapshotError(f"the snapshot holds externrefs to {', '.join(kinds)} objects, "
                                "which have no byte form: pickle the snapshot instead")
        return snapshot_format.encode(self.module_hash, self.body())

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview,
                   objects: list | None = None) -> Snapshot:
        """Read a snapshot written by ``to_bytes`` (SnapshotError if it is not one)."""
        digest, body = snapshot_format.decode(data)
        if not isinstance(body, list) or len(body) != 8:
            raise SnapshotError("corrupted snapshot: its contents have the wrong shape")
        engine, mems, tables, globals_, edrop, ddrop, wasi, extra = body
        for value, what in ((mems, "memories"), (tables, "tables"), (globals_, "globals"),
                            (edrop, "element segments"), (ddrop, "data segments"),
                            (extra, "extra state")):
            if not isinstance(value, list):
                raise SnapshotError(f"corrupted snapshot: its {what} are not a list")
        if not isinstance(engine, str):
            raise SnapshotError("corrupted snapshot: no engine name")
        return cls(digest, engine, mems, tables, globals_, edrop, ddrop, wasi, extra,
                   list(objects or []))

    def __reduce__(self) -> tuple:
        body = snapshot_format.encode(self.module_hash, self.body())
        return (_unpickle, (body, self.objects))

    def __repr__(self) -> str:
        size = sum(len(m[1]) for m in self.mems)
        return (f"<Snapshot of module {self.module_hash[:12]} from {self.engine}: "
                f"{len(self.mems)} memories ({size} bytes), {len(self.tables)} tables, "
                f"{len(self.globals)} globals>")


def _unpickle(data: bytes, objects: list) -> Snapshot:
    return Snapshot.from_bytes(data, objects)


def _where(where: tuple) -> str:
    """("table", 0, "element", 5) -> "table 0 element 5": built only for an error."""
    return " ".join(map(str, where))


# -- capturing ------------------------------------------------------------------------------
def check_between_calls() -> None:
    """SnapshotError when wasm code is running on this thread (a host function called
    from it is asking): a snapshot is of an instance at rest, between calls."""
    cell = THREAD.cell
    if cell[DEPTH] or cell[ENTRIES]:
        raise SnapshotError("a snapshot can only be taken between calls, not during one "
                            "(this is inside a call into wasm, from a host function)")


def _encode_ref(t: ValType, raw: Any, funcs: dict[int, int], objects: list,
                where: tuple) -> Any:
    if raw is None:
        return None
    if isinstance(raw, Exn):  # an exnref: its tag's identity has no snapshot form yet
        raise SnapshotError(f"{_where(where)} holds a caught exception (exnref): snapshots "
                            "of exceptions are not supported yet")
    if t.rep is ValType.FUNCREF:
        index = funcs.get(id(raw))
        if index is None:
            name = getattr(raw, "name", None) or "a host function"
            raise SnapshotError(f"{_where(where)} holds {name!r}, a function that is neither the "
                                "module's own nor one of its imports: a snapshot can only "
                                "re-bind those (by index, and imports by their name)")
        return ["f", index]
    if t.rep is ValType.EXTERNREF:
        if type(raw) in _PLAIN:
            return ["x", raw]
        for k, o in enumerate(objects):
            if o is raw:
                return ["o", k]
        objects.append(raw)
        return ["o", len(objects) - 1]
    raise SnapshotError(f"{_where(where)} holds a {t} reference: snapshots of GC objects (and "
                        "exceptions) are not supported yet")


def capture(inst: Instance) -> Snapshot:
    """The snapshot of ``inst`` (Instance.snapshot)."""
    check_between_calls()
    if inst.snapshot_refusal:
        raise SnapshotError(inst.snapshot_refusal)
    module_hash = getattr(inst.module, "hash", None)
    if not isinstance(module_hash, str):
        raise SnapshotError("this instance does not know its module (a translated file run "
                            "on its own): instantiate it through fayasm to snapshot it")
    funcs: dict[int, int] = {}
    for i, f in enumerate(inst.funcs):
        funcs.setdefault(id(f), i)
    objects: list = []
    mems = [[m.pages, bytes(m.view)] for m in inst.mems]
    tables = []
    for ti, t in enumerate(inst.tables):
        et = t.type.elem
        tables.append([_encode_ref(et, e, funcs, objects,
                                   ("table", ti, "element", k))
                       for k, e in enumerate(t.elements)])
    globals_ = []
    for gi, g in enumerate(inst.globals):
        vt = g.type.valtype
        if vt.is_ref:
            globals_.append(_encode_ref(vt, g.raw, funcs, objects, ("global", gi)))
        else:
            globals_.append(bits_from_raw(vt, g.raw))
    wasi = None
    if inst.wasi is not None:
        from .wasi.snapshot import capture_descriptors

        wasi = capture_descriptors(inst.wasi)
    extra = []
    for name, (take, _) in EXTRA.items():
        value = take(inst)
        if value is not None:
            extra.append([name, value])
    return Snapshot(module_hash, inst.engine, mems, tables, globals_,
                    [len(e) == 0 for e in inst.elems], [len(d) == 0 for d in inst.datas],
                    wasi, extra, objects)


# -- restoring ------------------------------------------------------------------------------
def _decode_ref(t: ValType, enc: Any, spaces: Spaces, objects: list,
                where: tuple) -> Any:
    value: Any
    if enc is None:
        value = None
    elif (isinstance(enc, list) and len(enc) == 2 and enc[0] == "f" and type(enc[1]) is int
          and 0 <= enc[1] < len(spaces.funcs) and t.rep is ValType.FUNCREF):
        value = spaces.funcs[enc[1]]
    elif (isinstance(enc, list) and len(enc) == 2 and enc[0] == "x"
          and t.rep is ValType.EXTERNREF and type(enc[1]) in _PLAIN + (memoryview,)):
        value = bytes(enc[1]) if isinstance(enc[1], memoryview) else enc[1]
    elif (isinstance(enc, list) and len(enc) == 2 and enc[0] == "o" and type(enc[1]) is int
          and 0 <= enc[1] < len(objects) and t.rep is ValType.EXTERNREF):
        value = objects[enc[1]]
    else:
        raise SnapshotError(f"the snapshot's {_where(where)} is not a {t} this module can hold")
    if not ref_fits(t, value):
        raise SnapshotError(f"the snapshot's {_where(where)} is not a {t}")
    return value


def _decode_value(t: ValType, enc: Any, spaces: Spaces, objects: list,
                  where: tuple) -> Any:
    if t.is_ref:
        return _decode_ref(t, enc, spaces, objects, where)
    if type(enc) is not int or not 0 <= enc < (1 << _MASKS[t]):
        raise SnapshotError(f"the snapshot's {_where(where)} is not a {t}")
    return raw_from_bits(t, enc)


def _flags(value: Any, n: int, what: str) -> list[bool]:
    if not isinstance(value, list) or len(value) != n or any(type(v) is not bool for v in value):
        raise SnapshotError(f"the snapshot's {what} do not match the module's {n}")
    return value


def restore_state(snap: Snapshot, plan: Plan, spaces: Spaces,
                  imported: Callable[[str, int], bool]) -> tuple[list, list, list]:
    """Check all of ``snap`` against a new instance's ``spaces`` (whose segment instances
    are as instantiating leaves them) and apply its dropped segments; return the writes
    that put the rest in place, as (the instance's own, the imported ones, the EXTRA
    items): the linking step makes the first at once and the second last, once nothing
    else can fail, so that the host's objects are never partly restored."""
    if len(snap.mems) != len(spaces.mems) or len(snap.tables) != len(spaces.tables) \
            or len(snap.globals) != len(spaces.globals):
        raise SnapshotError("the snapshot's memories, tables or globals do not match the "
                            "module's")
    edrop = _flags(snap.elems_dropped, len(plan.elems), "element segments")
    ddrop = _flags(snap.datas_dropped, len(plan.datas), "data segments")
    own: list[Callable[[], None]] = []
    imports: list[Callable[[], None]] = []
    for i, (m, enc) in enumerate(zip(spaces.mems, snap.mems)):
        if not (isinstance(enc, list) and len(enc) == 2 and type(enc[0]) is int
                and isinstance(enc[1], (bytes, memoryview))
                and len(enc[1]) == enc[0] * PAGE_SIZE):
            raise SnapshotError(f"the snapshot's memory {i} is corrupted")
        pages, data = enc
        if not m.pages <= pages <= m.max:
            raise SnapshotError(f"memory {i} has {m.pages} pages (at most {m.max}); the "
                                f"snapshot's has {pages}, which it cannot take")
        (imports if imported("memory", i) else own).append(
            partial(_write_memory, m, pages, data, i))
    for i, (t, enc) in enumerate(zip(spaces.tables, snap.tables)):
        if not isinstance(enc, list):
            raise SnapshotError(f"the snapshot's table {i} is corrupted")
        if not len(t.elements) <= len(enc) <= t.max:
            raise SnapshotError(f"table {i} has {len(t.elements)} elements (at most {t.max}); "
                                f"the snapshot's has {len(enc)}, which it cannot take")
        et = t.type.elem
        elements = [_decode_ref(et, e, spaces, snap.objects, ("table", i, "element", k))
                    for k, e in enumerate(enc)]
        (imports if imported("table", i) else own).append(
            partial(_write_table, t, elements, i))
    for i, (g, enc) in enumerate(zip(spaces.globals, snap.globals)):
        value = _decode_value(g.type.valtype, enc, spaces, snap.objects, ("global", i))
        if imported("global", i) and not g.type.mutable:
            continue  # the host's value: the module cannot have changed it
        (imports if imported("global", i) else own).append(partial(_write_global, g, value))
    extra = []
    for item in snap.extra:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                and item[0] in EXTRA):
            raise SnapshotError("the snapshot holds state this fayasm does not know "
                                f"({item[0] if isinstance(item, list) and item else item!r})")
        extra.append(item)
    for k, dropped in enumerate(edrop):
        if dropped:
            spaces.elems[k] = []
    for k, dropped in enumerate(ddrop):
        if dropped:
            spaces.datas[k] = b""
    return own, imports, extra


def _write_memory(m: Memory, pages: int, data: bytes | memoryview, i: int) -> None:
    if pages > m.pages and m.grow(pages - m.pages) < 0:
        raise SnapshotError(f"memory {i} cannot grow to the snapshot's {pages} pages "
                            "(a resource limit)")
    m.view[:len(data)] = data


def _write_table(t: Table, elements: list, i: int) -> None:
    n = len(elements) - len(t.elements)
    if n and t.grow(n, None) < 0:
        raise SnapshotError(f"table {i} cannot grow to the snapshot's {len(elements)} "
                            "elements (a resource limit)")
    t.elements[:] = elements
    t.sync(0, len(elements))


def _write_global(g: Global, value: Any) -> None:
    g.raw = value


def finish_restore(inst: Instance, extra: list) -> None:
    """Run the EXTRA hooks' restores on the finished instance."""
    for name, value in extra:
        EXTRA[name][1](inst, value)


def check_module(snap: Any, module_hash: str | None) -> Snapshot:
    """``snap`` as a Snapshot of the module with ``module_hash`` (bytes are read first)."""
    if isinstance(snap, (bytes, bytearray, memoryview)):
        snap = Snapshot.from_bytes(snap)
    if not isinstance(snap, Snapshot):
        raise SnapshotError(f"expected a Snapshot (or its bytes), got {type(snap).__name__}")
    if module_hash is None or snap.module_hash != module_hash:
        raise SnapshotError(f"the snapshot is of another module (SHA-256 {snap.module_hash[:16]}"
                            f"..., this one's {str(module_hash)[:16]}...)")
    return snap


__all__ = ["Snapshot", "capture", "restore_state", "finish_restore", "check_module",
           "check_between_calls", "RESTORING", "EXTRA"]

"""What instantiating gives on every engine: the ``Instance`` and its ``Exports`` mapping.
The instantiation itself (one linking step for all engines) is in ``plan``."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .errors import ArgumentTypeError, Error
from .func import Func
from .globals import Global
from .memory import Memory
from .table import Table
from .types import ExternKind, FuncType, GlobalType, MemoryType, TableType

if TYPE_CHECKING:
    from .budget import Budget
    from .resources import Account, Usage
    from .snapshot import Snapshot
    from .wasi.core import Wasi

EXTERN_CLASSES = {ExternKind.FUNC: Func, ExternKind.TABLE: Table, ExternKind.MEMORY: Memory,
                  ExternKind.GLOBAL: Global}


class Exports(Mapping[str, Any]):
    """An instance's exports: ``exports["name"]`` for every name, ``exports.name`` and
    ``getattr(exports, name)`` for the others, and iteration over names.

    The rule for clashes: the mapping's four methods (``keys``, ``items``, ``values``,
    ``get``) and dunders (``__len__``, ``__class__``...) stay the mapping's, so ``dict()``,
    ``len()`` and copying keep working; an export with such a name is reached by indexing.
    Every other attribute name is an export name: nothing internal is reachable.
    """

    # __items: every export, in order; __attrs: those reached as attributes (not a
    # mapping name), which __getattribute__ looks up first, with no other work.
    __slots__ = ("_Exports__items", "_Exports__attrs")
    _PUBLIC = frozenset(("keys", "items", "values", "get"))

    def __init__(self, items: dict[str, Any]) -> None:
        items = dict(items)
        object.__setattr__(self, "_Exports__items", items)
        object.__setattr__(self, "_Exports__attrs",
                           {n: v for n, v in items.items() if not _mapping_name(n)})

    def __getattribute__(self, name: str) -> Any:
        try:
            return _attrs(self)[name]
        except KeyError:
            pass
        if _mapping_name(name):
            return object.__getattribute__(self, name)
        items = object.__getattribute__(self, "_Exports__items")
        raise AttributeError(f"no export named {name!r} (exports: {', '.join(items) or 'none'})")

    def __getitem__(self, name: str) -> Any:
        try:
            return object.__getattribute__(self, "_Exports__items")[name]
        except KeyError:
            raise KeyError(f"no export named {name!r}") from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("exports are read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("exports are read-only")

    def __iter__(self) -> Iterator[str]:
        return iter(object.__getattribute__(self, "_Exports__items"))

    def __len__(self) -> int:
        return len(object.__getattribute__(self, "_Exports__items"))

    def __contains__(self, name: object) -> bool:
        return name in object.__getattribute__(self, "_Exports__items")

    def __dir__(self) -> list[str]:
        return [n for n in object.__getattribute__(self, "_Exports__items") if n.isidentifier()]

    def __reduce__(self) -> tuple[type[Exports], tuple[dict[str, Any]]]:
        return (Exports, (dict(object.__getattribute__(self, "_Exports__items")),))

    def __repr__(self) -> str:
        items = object.__getattribute__(self, "_Exports__items")
        return "<Exports " + ", ".join(f"{n}: {v!r}" for n, v in items.items()) + ">"


_attrs = Exports._Exports__attrs.__get__  # type: ignore[attr-defined]


def _mapping_name(name: str) -> bool:
    """Whether attribute ``name`` is the mapping's own (a public method or a dunder)."""
    return name in Exports._PUBLIC or (name.startswith("__") and name.endswith("__"))


class Instance:
    """An instantiated module: ``.exports``; engines attach what they need (hooks.py).

    Fuel, as a host controls it (the way wasmtime's Store does): ``get_fuel()``,
    ``set_fuel(n)``, ``add_fuel(n)`` and ``set_deadline(seconds)`` work on an instance
    made with ``fuel=`` or ``deadline=`` (whose code counts fuel), on every engine. Fuel
    is the instance's for its whole life: what a call leaves, the next one gets. Called
    from a host function during a call, ``get_fuel`` says what is left at that point and
    ``set_fuel``/``add_fuel`` take effect when the host function returns; a new deadline
    applies from the next call from outside.
    """

    def __init__(self, exports: dict[str, Any], engine: str, module: Any = None) -> None:
        self.exports = Exports(exports)
        self.engine = engine
        self.module = module
        self.engine_state: object = None  # the engine's own per-instance state (hooks.py)
        self.account: Account | None = None  # what the instance holds
        self.budget: Budget | None = None  # when the instance was made metered
        # Why snapshot() must refuse this instance, if an engine knows (hooks.py).
        self.snapshot_refusal: str | None = None
        self.wasi: Wasi | None = None  # the WASI state instantiate(wasi=...) linked
        # The index spaces, imports first (runtime.plan.link fills them on every engine),
        # and the element and data segment instances (a dropped one is empty), which
        # every engine keeps in these very lists.
        self.funcs: list = []
        self.tables: list = []
        self.mems: list = []
        self.globals: list = []
        self.elems: list = []
        self.datas: list = []
        self.tags: list = []  # exception tags, imports first

    def _metered(self) -> Budget:
        if self.budget is None:
            raise Error("this instance does not count fuel: instantiate it with fuel=N "
                        "(or deadline=) to control its fuel")
        return self.budget

    def get_fuel(self) -> int | None:
        """The units of fuel left; None if there is no limit (only a deadline)."""
        return self._metered().remaining()

    def set_fuel(self, fuel: int | None) -> None:
        """Leave exactly ``fuel`` units (None: no limit), whatever was left before."""
        self._metered().set_fuel(fuel)

    def add_fuel(self, fuel: int) -> int | None:
        """Add ``fuel`` units to what is left; returns the new total."""
        from .budget import check_fuel

        budget = self._metered()
        units = check_fuel(fuel)
        if units is None:
            raise ArgumentTypeError("add_fuel needs a number of units")
        left = budget.remaining()
        if left is not None:
            budget.set_fuel(left + units)
        return budget.remaining()

    def set_deadline(self, seconds: float | None) -> None:
        """Bound each later call from outside to ``seconds`` (None: no deadline)."""
        from .budget import check_deadline

        self._metered().timeout = check_deadline(seconds)

    def interrupt(self) -> None:
        """Make this instance's guest trap with ``Interrupted`` at its next check (or its
        next call from outside), from any thread; the request is spent by that trap. Needs
        an instance made with ``interrupt=`` a ``fayasm.Interrupt`` (whose code checks)."""
        if self.budget is None or self.budget.interrupt is None:
            raise Error("this instance's code has no interrupt checks: instantiate it "
                        "with interrupt=fayasm.Interrupt() to stop it from another thread")
        self.budget.pending = True

    def usage(self) -> Usage:
        """What this instance holds now (a ``fayasm.Usage``): bytes of the memories and
        elements of the tables it defines, and how many of each."""
        from .resources import Usage

        return self.account.usage() if self.account is not None else Usage(instances=1)

    def snapshot(self) -> Snapshot:
        """The state this instance's module can observe (memories, tables, globals,
        dropped segments, WASI descriptors), as a ``Snapshot``: ``to_bytes()``, pickle,
        and ``fayasm.restore`` on any engine. Only between calls: inside one (from a host
        function) it raises SnapshotError."""
        from .snapshot import capture

        return capture(self)

    def __repr__(self) -> str:
        return f"<Instance ({self.engine}) exports: {', '.join(self.exports)}>"


__all__ = ["Exports", "Instance", "FuncType", "GlobalType", "MemoryType", "TableType",
           "EXTERN_CLASSES"]

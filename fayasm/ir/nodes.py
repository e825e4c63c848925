"""IR node classes (see the package docstring for their meaning)."""
from __future__ import annotations

from fayasm.isa import Opcode
from fayasm.runtime.types import FuncType, ValType


def op_traps(op: Opcode) -> bool:
    """Whether evaluating ``op`` may trap (its row's ``trap`` flag)."""
    return op.traps


def op_effects(op: Opcode) -> bool:
    """Whether a value-producing ``op`` also changes state (memory.grow, table.grow)."""
    return op.writes


class Expr:
    """An expression. ``pure``: no trap and no read of mutable state; ``depth``: nesting
    height of the tree; ``reads``: the Locals and Slots it reads."""

    __slots__ = ("type",)
    pure = True
    depth = 1

    @property
    def reads(self) -> frozenset:
        return frozenset()


class Const(Expr):
    __slots__ = ("value",)

    def __init__(self, type: ValType, value):
        self.type = type
        self.value = value

    def __repr__(self) -> str:
        return f"{self.type}.const {self.value!r}"


class Local(Expr):
    __slots__ = ("index",)

    def __init__(self, index: int, type: ValType):
        self.index = index
        self.type = type

    @property
    def reads(self) -> frozenset:
        return frozenset([self])

    def __eq__(self, other) -> bool:
        return type(other) is Local and other.index == self.index

    def __hash__(self) -> int:
        return hash(("l", self.index))

    def __repr__(self) -> str:
        return f"l{self.index}"


class Slot(Expr):
    __slots__ = ("height",)

    def __init__(self, height: int, type: ValType):
        self.height = height
        self.type = type

    @property
    def reads(self) -> frozenset:
        return frozenset([self])

    def __eq__(self, other) -> bool:
        return type(other) is Slot and other.height == self.height and other.type is self.type

    def __hash__(self) -> int:
        return hash(("s", self.height, self.type))

    def __repr__(self) -> str:
        return f"s{self.height}:{self.type}"


class Op(Expr):
    __slots__ = ("op", "args", "imm", "pure", "depth", "_reads")

    def __init__(self, op: Opcode, args: tuple, imm: tuple = (), type: ValType | None = None,
                 pure: bool | None = None):
        self.op = op
        self.args = tuple(args)
        self.imm = tuple(imm)
        self.type = type if type is not None else (op.results[0] if op.results else None)
        if pure is None:
            pure = not (op.traps or op.reads or op.writes)
        self.pure = pure and all(a.pure for a in self.args)
        self.depth = 1 + max((a.depth for a in self.args), default=0)
        self._reads: frozenset | None = None

    @property
    def reads(self) -> frozenset:
        if self._reads is None:
            out: frozenset = frozenset()
            for a in self.args:
                out |= a.reads
            self._reads = out
        return self._reads

    def __repr__(self) -> str:
        inner = " ".join(repr(a) for a in self.args)
        imm = (" " + " ".join(map(repr, self.imm))) if self.imm else ""
        return f"({self.op.name}{imm} {inner})" if inner else f"({self.op.name}{imm})"


class Label:
    """A branch target; ``slots`` receive the values a branch carries."""

    __slots__ = ("id", "kind", "height", "types")

    def __init__(self, id: int, kind: str, height: int, types: tuple):
        self.id = id
        self.kind = kind
        self.height = height
        self.types = tuple(types)

    @property
    def slots(self) -> tuple:
        return tuple(Slot(self.height + k, t) for k, t in enumerate(self.types))

    def __repr__(self) -> str:
        return f"L{self.id}({self.kind})"


class Stmt:
    __slots__: tuple[str, ...] = ()

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Set(Stmt):
    __slots__ = ("var", "expr")

    def __init__(self, var, expr: Expr):
        self.var, self.expr = var, expr


class Effect(Stmt):
    __slots__ = ("op", "args", "imm")

    def __init__(self, op: Opcode, args: tuple, imm: tuple = ()):
        self.op, self.args, self.imm = op, tuple(args), tuple(imm)


class Drop(Stmt):
    __slots__ = ("expr",)

    def __init__(self, expr: Expr):
        self.expr = expr


class GlobalSet(Stmt):
    __slots__ = ("index", "expr")

    def __init__(self, index: int, expr: Expr):
        self.index, self.expr = index, expr


class Call(Stmt):
    __slots__ = ("func", "args", "results")

    def __init__(self, func: int, args: tuple, results: tuple):
        self.func, self.args, self.results = func, tuple(args), tuple(results)


class CallIndirect(Stmt):
    __slots__ = ("type_index", "table", "args", "index", "results")

    def __init__(self, type_index: int, table: int, args: tuple, index: Expr, results: tuple):
        self.type_index, self.table = type_index, table
        self.args, self.index, self.results = tuple(args), index, tuple(results)


class TailCall(Stmt):
    """return_call (``index`` None: ``func`` is the callee), return_call_indirect
    (``index`` selects the element of ``table``, checked against ``type_index``) or
    return_call_ref (``table`` None: ``index`` is the function reference, null traps)."""

    __slots__ = ("func", "type_index", "table", "args", "index")

    def __init__(self, func, type_index, table, args: tuple, index):
        self.func, self.type_index, self.table = func, type_index, table
        self.args, self.index = tuple(args), index


class Block(Stmt):
    __slots__ = ("label", "body")

    def __init__(self, label: Label, body: list):
        self.label, self.body = label, body


class Loop(Stmt):
    __slots__ = ("label", "body")

    def __init__(self, label: Label, body: list):
        self.label, self.body = label, body


class If(Stmt):
    __slots__ = ("label", "cond", "then", "else_")

    def __init__(self, label: Label, cond: Expr, then: list, else_: list):
        self.label, self.cond, self.then, self.else_ = label, cond, then, else_


class Br(Stmt):
    __slots__ = ("label", "values")

    def __init__(self, label: Label, values: tuple = ()):
        self.label, self.values = label, tuple(values)


class BrIf(Stmt):
    __slots__ = ("label", "cond", "values")

    def __init__(self, label: Label, cond: Expr, values: tuple = ()):
        self.label, self.cond, self.values = label, cond, tuple(values)


class BrTable(Stmt):
    __slots__ = ("index", "labels", "default", "values")

    def __init__(self, index: Expr, labels: tuple, default: Label, values: tuple = ()):
        self.index, self.labels, self.default = index, tuple(labels), default
        self.values = tuple(values)


class Return(Stmt):
    __slots__ = ("values",)

    def __init__(self, values: tuple = ()):
        self.values = tuple(values)


class Unreachable(Stmt):
    __slots__ = ()


class Throw(Stmt):
    """throw: a new exception of tag ``tag`` (index space, imports first) with ``args``."""

    __slots__ = ("tag", "args")

    def __init__(self, tag: int, args: tuple):
        self.tag, self.args = tag, tuple(args)


class ThrowRef(Stmt):
    """throw_ref: throw the exception ``ref`` (an exnref Expr) again; null traps.
    ``skip``: the enclosing TryTables of this function the exception passes untouched
    (a legacy ``delegate``, which hands it to an outer label's handler)."""

    __slots__ = ("ref", "skip")

    def __init__(self, ref: Expr, skip: int = 0):
        self.ref, self.skip = ref, skip


class TryTable(Stmt):
    """try_table: ``body`` runs as a block's; an exception escaping it is offered to
    ``catches`` in order, each ``(kind, tag, target)`` (kind as syntax.Catch's, ``tag``
    None for the catch_all kinds, ``target`` a Label outside the try_table): the first that
    takes it branches to its target with the payload, then the exnref for the _ref kinds,
    in ``target.slots``. A trap is never caught."""

    __slots__ = ("label", "catches", "body")

    def __init__(self, label: Label, catches: tuple, body: list):
        self.label, self.catches, self.body = label, tuple(catches), body


class Function:
    """A function in IR form. ``locals`` lists the types of params then declared locals;
    ``body`` is the body of ``label`` (kind "function")."""

    __slots__ = ("index", "name", "type", "locals", "label", "body", "labels")

    def __init__(self, index: int, name: str, type: FuncType, locals: tuple, label: Label,
                 body: list, labels: int):
        self.index, self.name, self.type = index, name, type
        self.locals, self.label, self.body = locals, label, body
        self.labels = labels  # how many labels (ids 0..labels-1; 0 is the function's)

    def dump(self) -> str:
        """A readable listing, for debugging and tests."""
        lines = [f"func {self.index} {self.name} {self.type}"]
        _dump(self.body, lines, "  ")
        return "\n".join(lines)


def _dump(body: list, lines: list, ind: str) -> None:
    """List ``body`` into ``lines``, with an explicit stack (nesting may be deep)."""
    work: list = [(iter(body), ind)]
    while work:
        it, ind = work[-1]
        s = next(it, None)
        if s is None:
            work.pop()
        elif isinstance(s, (Block, Loop, TryTable)):
            lines.append(f"{ind}{type(s).__name__.lower()} {s.label!r}")
            work.append((iter([_Text(f"{ind}end")]), ind))
            work.append((iter(s.body), ind + "  "))
        elif isinstance(s, If):
            lines.append(f"{ind}if {s.label!r} {s.cond!r}")
            work.append((iter([_Text(f"{ind}end")]), ind))
            if s.else_:
                work.append((iter(s.else_), ind + "  "))
                work.append((iter([_Text(f"{ind}else")]), ind))
            work.append((iter(s.then), ind + "  "))
        elif type(s) is _Text:
            lines.append(s.text)
        else:
            lines.append(f"{ind}{s!r}")


class _Text:
    """A line of a dump that closes a construct."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

"""Generating typed function references: ``call_ref`` and ``return_call_ref`` on
references made by ``ref.func`` (typed ``(ref $t)``), passed through ``ref.as_non_null``,
``br_on_null``, ``br_on_non_null`` and typed ``select``, sometimes null (in risky
modules), so that "null function reference" and "null reference" traps happen too.

A mixin of ``body.FunctionGen``: it uses the generator's chooser, shape and emitters.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from fayasm.runtime.types import DefType, FuncType, ValType, close_types

from .choose import Chooser
from .shape import Callee, Shape

I32 = ValType.I32


def deftype(ft: FuncType) -> DefType:
    """The closed DefType of a function type without typed references of its own: the
    one a module whose type section holds ``ft`` gives it."""
    return close_types([ft])[0]


class FuncRefGen:
    """The typed-reference expressions of a function generator."""

    # What FunctionGen provides, declared for the type checker.
    c: Chooser
    shape: Shape

    if TYPE_CHECKING:
        def emit(self, name: str, *imm: object) -> None: ...
        def produce(self, types: tuple, depth: int) -> None: ...
        def cond(self, depth: int) -> None: ...
        def temp(self, t: ValType) -> int: ...
        def enter_label(self, kind: str, types: tuple) -> None: ...
        def leave(self) -> None: ...

    def refable(self, results: tuple) -> list[Callee]:
        """Callees ``ref.func`` may name whose results are ``results``."""
        refs = set(self.shape.refs)
        return [c for c in self.shape.callees
                if isinstance(c.index, int) and c.index in refs
                and c.type.results == tuple(results)]

    def call_ref(self, callee: Callee, depth: int, tail: bool = False) -> None:
        """Call ``callee`` through a typed reference (``tail``: return_call_ref)."""
        self.produce(callee.type.params, depth + 1)
        x = self.shape.type_index(callee.type)
        self.func_ref(callee, x, depth)
        self.emit("return_call_ref" if tail else "call_ref", x)

    def func_ref(self, callee: Callee, x: int, depth: int) -> None:
        """Push a reference to ``callee``, typed ``(ref $x)`` or ``(ref null $x)``."""
        d = deftype(callee.type)
        nonnull, nullable = ValType.ref(False, d), ValType.ref(True, d)
        risky = self.shape.risky
        how = self.c.weighted([(4, "func"), (2, "as_non_null"), (2, "br_on_null"),
                               (2, "br_on_non_null"), (2, "select"),
                               (1 if risky else 0, "null")])
        if how == "func":
            self.emit("ref.func", callee.index)
        elif how == "null":
            self.emit("ref.null", nullable)
        elif how == "as_non_null":
            self.nullable_ref(callee, nullable, depth)
            self.emit("ref.as_non_null")
        elif how == "select":
            self.nullable_ref(callee, nullable, depth)
        elif how == "br_on_null":
            # block $out (result (ref $x)) block $null  <ref> br_on_null $null  br $out
            # end  <fallback>  end. No generated code goes inside these blocks: it could
            # branch to them with values of other types (the select's condition is
            # computed before them).
            source = self.ref_source(depth)
            self.emit("block", nonnull)
            self.enter_label("block", (nonnull,))
            self.emit("block", None)
            self.enter_label("block", ())
            self.fixed_ref(callee, nullable, source)
            self.emit("br_on_null", 0)
            self.emit("br", 1)
            self.leave()
            self.emit("end")
            self.fallback(callee)
            self.leave()
            self.emit("end")
        else:
            # block $out (result (ref $x))  <ref> br_on_non_null $out  <fallback>  end
            source = self.ref_source(depth)
            self.emit("block", nonnull)
            self.enter_label("block", (nonnull,))
            self.fixed_ref(callee, nullable, source)
            self.emit("br_on_non_null", 0)
            self.fallback(callee)
            self.leave()
            self.emit("end")

    def nullable_ref(self, callee: Callee, nullable: ValType, depth: int) -> None:
        """A ``(ref null $x)``: the function, null, or a typed select of the two."""
        how = self.c.weighted([(3, "func"), (2, "null"), (3, "select")])
        if how == "select":
            self.emit("ref.func", callee.index)
            self.emit("ref.null", nullable)
            self.cond(depth + 1)
            self.emit("select_t", (nullable,))
        else:
            self.fixed_ref(callee, nullable, how)

    def ref_source(self, depth: int) -> str | int:
        """How ``fixed_ref`` makes a reference: "func", "null", or a local holding a
        condition computed now (for a typed select of the two)."""
        how = self.c.weighted([(3, "func"), (2, "null"), (3, "select")])
        if how != "select":
            return how
        k = self.temp(I32)
        self.cond(depth + 1)
        self.emit("local.set", k)
        return k

    def fixed_ref(self, callee: Callee, nullable: ValType, source: str | int) -> None:
        """A ``(ref null $x)`` from fixed instructions only (see ``ref_source``)."""
        if source == "func":
            self.emit("ref.func", callee.index)
        elif source == "null":
            self.emit("ref.null", nullable)
        else:
            self.emit("ref.func", callee.index)
            self.emit("ref.null", nullable)
            self.emit("local.get", source)
            self.emit("select_t", (nullable,))

    def fallback(self, callee: Callee) -> None:
        """What a null reference is replaced by: the function itself (careful modules),
        or a trap (risky ones, sometimes)."""
        if self.shape.risky and self.c.chance(30):
            self.emit("unreachable")
        else:
            self.emit("ref.func", callee.index)

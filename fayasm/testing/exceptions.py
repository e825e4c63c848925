"""Generating exception handling: throws (under a condition, so code after them stays
live) and try_table statements whose catches land in blocks that consume the payload, so
exceptions cross calls and handlers catch what callees throw; sometimes a caught exnref
is thrown again (throw_ref). A mixin of body.FunctionGen.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from fayasm.runtime.types import HeapType, ValType
from fayasm.syntax import CATCH, CATCH_ALL, CATCH_ALL_REF, CATCH_REF, Catch

from .choose import Chooser
from .shape import Shape

EXNREF_NN = ValType.ref(False, HeapType.EXN)  # what the _ref catches deliver


class ExceptionGen:
    """The exception statements of a function generator."""

    # What FunctionGen provides, declared for the type checker.
    c: Chooser
    shape: Shape
    budget: int

    if TYPE_CHECKING:
        def emit(self, name: str, *imm: object) -> None: ...
        def produce(self, types: tuple, depth: int) -> None: ...
        def cond(self, depth: int) -> None: ...
        def temp(self, t: ValType) -> int: ...
        def consume(self, t: ValType) -> None: ...
        def statement(self, depth: int) -> None: ...
        def block_type(self, params, results): ...
        def enter_label(self, kind: str, types: tuple) -> None: ...
        def leave(self) -> None: ...

    def throw_if(self, depth: int) -> None:
        """``if <cond> (throw $t <payload>)``."""
        index, ft = self.c.pick(self.shape.tags)
        self.cond(depth)
        self.emit("if", None)
        self.enter_label("if", ())
        self.produce(ft.params, depth + 1)
        self.emit("throw", index)
        self.leave()
        self.emit("end")

    def legacy_try(self, depth: int) -> None:
        """The legacy form: ``try body (catch $t payload-consumed [rethrow])* (catch_all
        ...)? end``, or ``try body delegate 0``."""
        c = self.c
        index, ft = c.pick(self.shape.tags)
        self.emit("try", None)
        self.enter_label("block", ())
        for _ in range(c.int(1, 3)):
            if self.budget <= 0:
                break
            self.statement(depth + 1)
        if c.chance(35):
            self.leave()
            self.emit("delegate", 0)
            return
        if c.chance(80):
            self.emit("catch", index)
            for t in reversed(ft.params):
                self.consume(t)
            self.rethrow_if(depth)
        if c.chance(50):
            self.emit("catch_all")
            self.rethrow_if(depth)
        self.leave()
        self.emit("end")

    def rethrow_if(self, depth: int) -> None:
        """Now and then, under a condition, the caught exception again."""
        if self.c.chance(30):
            self.cond(depth)
            self.emit("if", None)
            self.emit("rethrow", 1)
            self.emit("end")

    def try_stmt(self, depth: int) -> None:
        """block $out (block $h (result payload [exnref]) (try_table (catch.. $h)
        (catch_all $out)? body) br $out) <payload consumed>."""
        c = self.c
        if c.chance(30):
            return self.legacy_try(depth)
        index, ft = c.pick(self.shape.tags)
        kind = c.weighted([(3, CATCH_REF), (4, CATCH), (2, CATCH_ALL_REF), (2, CATCH_ALL)])
        carried = (ft.params if kind < 2 else ()) + ((EXNREF_NN,) if kind & 1 else ())
        self.emit("block", None)
        self.enter_label("block", ())
        self.emit("block", self.block_type((), carried))
        self.enter_label("catch", carried)
        catches = [Catch(kind, index if kind < 2 else None, 0)]
        if kind < 2 and c.chance(40):
            catches.append(Catch(CATCH_ALL, None, 1))  # other tags skip the handler
        self.emit("try_table", None, tuple(catches))
        self.enter_label("block", ())
        for _ in range(c.int(1, 4)):
            if self.budget <= 0:
                break
            self.statement(depth + 1)
        self.leave()
        self.emit("end")
        self.emit("br", 1)
        self.leave()
        self.emit("end")
        if kind & 1:
            if c.chance(50):  # throw it again, under a condition, else drop it
                tmp = self.temp(ValType.EXNREF)
                self.emit("local.set", tmp)
                self.cond(depth)
                self.emit("if", None)
                self.emit("local.get", tmp)
                self.emit("throw_ref")
                self.emit("end")
            else:
                self.emit("drop")
        for t in reversed(ft.params if kind < 2 else ()):
            self.consume(t)
        self.leave()
        self.emit("end")


__all__ = ["ExceptionGen"]

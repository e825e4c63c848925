"""Operands chosen with intent: addresses, lengths, divisors, conditions, indices.

A uniformly random i32 address is out of bounds nearly always, a random divisor is rarely
zero, a random table index rarely hits an entry. These helpers (mixed into
``FunctionGen``) steer operands to where the interesting behaviour is: a small hot region
of memory that stores and loads share, the last bytes before the end of memory, offsets
that overflow 32 bits, divisors of zero and -1, slots that hold functions, grow requests
just past the maximum. Each still falls back to an arbitrary expression sometimes.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from fayasm.runtime.types import Limits, ValType

if TYPE_CHECKING:
    from .choose import Chooser
    from .shape import Shape

I32, I64, F32, F64 = ValType.I32, ValType.I64, ValType.F32, ValType.F64

HOT = 256  # stores and loads mostly hit [0, HOT)
_BIG_OFFSETS = (0xFFFF, 0x10000, 0xFFF0, 0x7FFF_FFFF, 0xFFFF_FFF0, 0xFFFF_FFFF)
_HUGE_OFFSETS = (1 << 32, 1 << 63, (1 << 64) - 1, (1 << 64) - 0x10000)
_FAR64 = (1 << 32, 1 << 63, (1 << 64) - 1, (1 << 64) - 8, (1 << 64) - 0x10000)
I32 = ValType.I32
_FAR = (0xFFFF_FFFF, 0xFFFF_FFFC, 0x8000_0000, 0x7FFF_FFFF, 0x10000, 0x1_0000 - 1)


class Operands:
    """Mixed into FunctionGen (which provides c, emit, expr, const, shape, counters)."""

    # What FunctionGen provides, declared for the type checker.
    c: Chooser
    shape: Shape
    counters: list[int]

    if TYPE_CHECKING:
        def emit(self, name: str, *imm: object) -> None: ...
        def expr(self, t: ValType, depth: int) -> None: ...
        def const(self, t: ValType) -> None: ...

    def i32(self, v: int) -> None:
        v &= 0xFFFF_FFFF
        self.emit("i32.const", v - (1 << 32) if v >> 31 else v)

    def cond(self, depth: int) -> None:
        """An i32 used as a condition: a comparison most of the time, so both ways happen."""
        how = self.c.weighted([(3, "expr"), (4, "compare"), (1, "counter")])
        if how == "counter" and self.counters:
            self.emit("local.get", self.c.pick(self.counters))
            self.i32(self.c.int(0, 6))
            self.emit(self.c.pick(("i32.gt_s", "i32.lt_u", "i32.eq", "i32.ne")))
        elif how == "compare":
            t = self.c.pick((I32, I64, F32, F64))
            self.expr(t, depth + 1)
            self.expr(t, depth + 1)
            names = {I32: ("eq", "ne", "lt_s", "lt_u", "gt_s", "ge_u"),
                     I64: ("eq", "ne", "lt_s", "gt_u", "le_s", "ge_s"),
                     F32: ("eq", "ne", "lt", "gt", "le", "ge"),
                     F64: ("eq", "ne", "lt", "gt", "le", "ge")}[t]
            self.emit(f"{t}.{self.c.pick(names)}")
        else:
            self.expr(I32, depth + 1)

    def address(self, size: int, depth: int) -> None:
        """An i32 address for an access of ``size`` bytes."""
        c = self.c
        risky = self.shape.risky
        how = c.weighted([(8, "hot"), (3, "masked"), (3 if self.counters else 0, "counter"),
                          (2 if risky else 1, "edge"), (2 if risky else 0, "expr"),
                          (1 if risky else 0, "far")])
        if how == "hot":
            self.i32(c.int(0, HOT - size))
        elif how == "masked":
            self.expr(I32, depth + 1)
            self.i32(c.pick((0xFF, 0x3F, 0x3FF, 0xFFF8, 0xFFFF)))
            self.emit("i32.and")
        elif how == "counter":
            self.emit("local.get", c.pick(self.counters))
            self.i32(c.pick((1, 2, 4, 8, 16)))
            self.emit("i32.mul")
            self.i32(c.int(0, 64))
            self.emit("i32.add")
        elif how == "edge":  # the last bytes of memory: ending exactly at its end, one
            # byte past it, one byte before it, or somewhere near
            self.end_minus(c.weighted([(3, size), (2, size - 1), (2, size + 1),
                                       (2, c.int(0, 2 * size + 1))]))
        elif how == "far":
            self.i32(c.pick(_FAR))
        else:
            self.expr(I32, depth + 1)

    def offset(self, wide: bool = False) -> int:
        """A memarg offset; ``wide`` (a 64-bit memory): now and then one past 32 bits,
        up to 2**64 - 1, where address + offset overflows 64 bits."""
        c = self.c
        how = c.weighted([(12, "zero"), (5, "small"), (1, "big"), (1 if wide else 0, "huge")])
        if how == "small":
            return c.int(1, 64)
        if how == "big":
            return c.pick(_BIG_OFFSETS)
        if how == "huge":
            return c.pick(_HUGE_OFFSETS)
        return 0

    def memory(self, wide_ok: bool) -> int:
        """A memory index: mostly 0; another memory when there are several (multi-memory);
        a 64-bit one only if ``wide_ok`` (its accesses take i64 addresses)."""
        mems = self.shape.mems
        choices = [k for k, mt in enumerate(mems) if k and (wide_ok or mt.address is I32)]
        if not choices or self.c.chance(60):
            return 0
        return self.c.pick(choices)

    def widen_address(self) -> None:
        """The i32 address on the stack as a 64-bit memory's i64 address: zero-extended,
        sometimes moved far out (past 2**32, near 2**64: bounds checks must not wrap)."""
        self.emit("i64.extend_i32_u")
        if self.c.chance(15):
            v = self.c.pick(_FAR64)
            self.emit("i64.const", v - (1 << 64) if v >> 63 else v)
            self.emit("i64.add")

    def length(self, depth: int, limit: int = 64) -> None:
        """A byte count for memory.fill/copy/init."""
        how = self.c.weighted([(6, "small"), (1 if self.shape.risky else 0, "edge"),
                               (1, "expr")])
        if how == "small":
            self.i32(self.c.int(0, limit))
        elif how == "edge":
            self.i32(self.c.pick((0x10000, 0xFFFF_FFFF, 0x8000_0000, 0x1_0001)))
        else:
            self.expr(I32, depth + 1)
            self.i32(0x7F)
            self.emit("i32.and")

    def end_minus(self, k: int) -> None:
        """The address ``k`` bytes before the end of memory 0."""
        self.emit("memory.size", 0)
        self.i32(16)
        self.emit("i32.shl")
        self.i32(k)
        self.emit("i32.sub")

    def bulk_operands(self, name: str, depth: int) -> None:
        """Destination, source (or fill value, or segment offset), length; sometimes a
        range that ends exactly at the end of memory (or one byte past it, or before)."""
        c = self.c
        at_end = c.chance(20)
        n = c.int(0, 16)
        if at_end:
            self.end_minus(n + c.weighted([(3, 0), (1, -1), (1, 1)]))
        else:
            self.address(1, depth)
        if name == "memory.fill":
            self.expr(I32, depth + 1)
        elif name == "memory.copy":
            if at_end and c.chance(50):
                self.end_minus(n + c.weighted([(3, 0), (1, -1), (1, 1)]))
            else:
                self.address(1, depth)
        else:  # memory.init: an offset into the data segment
            self.i32(c.weighted([(5, 0), (3, 1), (2, 4), (1, 100)]))
        if at_end:
            self.i32(n)
        else:
            self.length(depth)

    def grow_delta(self, limits: Limits, depth: int, table: bool = False) -> None:
        """Pages (or entries) to grow by: small; just past the maximum; or far too many.
        Never a size that would make memories large or tables huge on success."""
        c = self.c
        options = [(6, "small"), (2, "masked"), (2, "huge")]
        if limits.max is not None:
            options.append((2, "past_max"))
        how = c.weighted(options)
        if how == "small":
            self.i32(c.int(0, 2))
        elif how == "masked":
            self.expr(I32, depth + 1)
            self.i32(1 if limits.max is None else 3)
            self.emit("i32.and")
        elif how == "past_max":
            assert limits.max is not None  # only offered with a maximum
            self.i32(limits.max - limits.min + c.int(0, 1))
        else:
            self.i32(c.pick((0xFFFF_FFFF, 0x8000_0000) if table else
                            (0xFFFF_FFFF, 0x8000_0000, 0x10001)))

    def divisor(self, t: ValType, depth: int) -> None:
        """The right operand of div/rem: zero and -1 now and then, mostly nonzero."""
        how = self.c.weighted([(4 if self.shape.risky else 1, "expr"), (3, "nonzero"),
                               (1, "edge")])
        if how == "nonzero":
            self.expr(t, depth + 1)
            self.emit(f"{t}.const", self.c.pick((1, 3, 7, 0x100, -1 << 8)))
            self.emit(f"{t}.or")
        elif how == "edge":
            self.emit(f"{t}.const", self.c.pick((0, -1, 1, 2, -2)))
        else:
            self.expr(t, depth + 1)

    def nan_operand(self, t: ValType, depth: int) -> None:
        """An operand of an exact float operation (neg, abs, copysign, reinterpret): a
        NaN's bits a third of the time, signalling half of those, since these must keep
        every bit of it while the arithmetic may not."""
        if not self.c.chance(33):
            return self.expr(t, depth + 1)
        width = 32 if t in (I32, F32) else 64
        bits = self.c.nan(width)
        if t in (I32, I64) and bits >> (width - 1):
            bits -= 1 << width
        self.emit(f"{t}.const", bits)

    def float_operand(self, t: ValType, depth: int) -> None:
        """A float to convert to an integer: boundary constants half the time (a fifth
        in careful modules: many are out of range)."""
        if self.c.chance(50 if self.shape.risky else 20):
            self.const(t)
        else:
            self.expr(t, depth + 1)

    def index_expr(self, n: int, depth: int) -> None:
        """An i32 index into something of ``n`` entries: mostly in range, sometimes past it."""
        risky = self.shape.risky
        how = self.c.weighted([(5, "small"), (2 if risky else 0, "expr"),
                               (1 if risky else 0, "far")])
        if how == "small":
            past = risky or self.c.chance(10)
            self.i32(self.c.int(0, n + 1 if past else max(n - 1, 0)))
        elif how == "far":
            self.i32(self.c.pick((0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF)))
        else:
            self.expr(I32, depth + 1)

    def table_index(self, x: int, depth: int) -> None:
        self.index_expr(self.shape.tables[x].limits.min, depth)

    def table_length(self, depth: int) -> None:
        how = self.c.weighted([(6, "small"), (1 if self.shape.risky else 0, "edge"),
                               (1, "expr")])
        if how == "small":
            self.i32(self.c.int(0, 4))
        elif how == "edge":
            self.i32(self.c.pick((0xFFFF_FFFF, 0x8000_0000, 100)))
        else:
            self.expr(I32, depth + 1)

    def shuffle(self) -> tuple:
        how = self.c.weighted([(1, "identity"), (1, "reverse"), (1, "interleave"), (3, "any")])
        if how == "identity":
            return tuple(range(16))
        if how == "reverse":
            return tuple(range(31, 15, -1))
        if how == "interleave":
            return tuple(i // 2 + 16 * (i % 2) for i in range(16))
        return tuple(self.c.int(0, 31) for _ in range(16))


__all__ = ["Operands", "HOT"]

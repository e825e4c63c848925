"""The commands of a WAST script, as the parser produces them and the runner consumes them.

Arguments are exact ``Val``s. Expected results are ``Val``s or patterns: ``NanPattern``
for ``nan:canonical``/``nan:arithmetic``, ``V128Pattern`` for a v128 with per-lane
patterns, ``RefPattern`` for "any non-null reference of this type" (``ref.func`` /
``ref.extern`` without an argument), ``EitherPattern`` for ``(either r+)`` (one of
several results, as relaxed SIMD allows). ``ref.extern N`` is ``Val.externref(N)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from fayasm.runtime.types import ValType
from fayasm.runtime.values import Val
from fayasm.syntax import Module


@dataclass
class NanPattern:
    type: ValType  # F32 or F64
    kind: str  # "canonical" or "arithmetic"


@dataclass
class V128Pattern:
    shape: str  # "f32x4" or "f64x2" (the only shapes with NaN lanes)
    lanes: list  # each an int (lane bits) or a NanPattern


@dataclass
class RefPattern:
    """A reference result: ``(ref.func)`` / ``(ref.extern)`` (any non-null reference of
    that hierarchy: ``type`` is FUNCREF or EXTERNREF), or ``(ref.null)`` with no heap
    type (any null reference: ``null`` True, ``type`` None)."""

    type: ValType | None
    null: bool = False
    # GC (3.0): ``(ref.struct)``, ``(ref.array)``, ``(ref.i31)``, ``(ref.eq)``,
    # ``(ref.any)``: any non-null reference of that abstract heap type
    heap: str | None = None


@dataclass
class EitherPattern:
    options: list  # ``(either r1 r2 ...)``: the result matches any one of these


Result = Union[Val, NanPattern, V128Pattern, RefPattern, EitherPattern]


@dataclass
class ModuleDef:
    """``(module ...)``: ``kind`` is "text" (``module`` is parsed), "binary" (``data`` is
    bytes) or "quote" (``data`` is text to parse when the command runs)."""

    kind: str
    name: str | None = None
    module: Module | None = None
    data: Union[bytes, str, None] = None
    line: int = 0
    definition: bool = False  # ``(module definition ...)``: compiled, not instantiated
    error: Exception | None = None  # a text module the parser found invalid (unknown type)


@dataclass
class ModuleInstance:
    """``(module instance $I? $M)``: instantiate the module definition ``$M``."""

    name: str | None
    module: str | None
    line: int = 0


@dataclass
class Invoke:
    name: str
    args: list[Val] = field(default_factory=list)
    module: str | None = None  # a $name, or None for the most recent module
    line: int = 0


@dataclass
class Get:
    name: str
    module: str | None = None
    line: int = 0


Action = Union[Invoke, Get]


@dataclass
class Register:
    as_name: str
    module: str | None = None
    line: int = 0


@dataclass
class AssertReturn:
    action: Action
    results: list[Result]
    line: int = 0


@dataclass
class AssertTrap:
    action: Union[Action, ModuleDef]  # a module: instantiation must trap
    message: str
    line: int = 0


@dataclass
class AssertExhaustion:
    action: Action
    message: str
    line: int = 0


@dataclass
class AssertMalformed:
    module: ModuleDef
    message: str
    line: int = 0


@dataclass
class AssertInvalid:
    module: ModuleDef
    message: str
    line: int = 0


@dataclass
class AssertMalformedCustom:
    """3.0's ``assert_malformed_custom``: the text of an annotation with a meaning is
    malformed or misplaced (fayasm.errors.AnnotationError)."""

    module: ModuleDef
    message: str
    line: int = 0


@dataclass
class AssertInvalidCustom:
    """3.0's ``assert_invalid_custom``: an annotation with a meaning stands on the wrong
    target (fayasm.errors.AnnotationInvalid)."""

    module: ModuleDef
    message: str
    line: int = 0


@dataclass
class AssertUnlinkable:
    module: ModuleDef
    message: str
    line: int = 0


Command = Union[ModuleDef, Register, Invoke, Get, AssertReturn, AssertTrap, AssertExhaustion,
                AssertMalformed, AssertInvalid, AssertMalformedCustom, AssertInvalidCustom,
                AssertUnlinkable]

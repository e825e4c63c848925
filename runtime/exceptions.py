"""Exception handling (WebAssembly 3.0): tags, the exception objects wasm throws and
catches, and the Python exception that carries one through Python frames.

Every engine shares these, so an exception thrown by an instance on one engine is caught
by an instance on another: a thrown exception travels as a ``WasmException`` (a
``fayasm.Error``, never a Trap: wasm cannot catch traps), whose ``exn`` is the ``Exn``
an ``exnref`` holds. Payloads are raw values (values.py), as Func.raw takes them.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .errors import ArgumentError, Error, format_frames
from .types import DefType, FuncType, ValType, close_types


class Tag:
    """An exception tag: ``Tag(params)`` takes a FuncType (whose results must be empty) or
    the parameter types (ValTypes or names). Tags are compared by identity: two tags of
    the same type are different tags. ``.type`` is the FuncType, ``.deftype`` its closed
    type, which import matching compares."""

    __slots__ = ("type", "deftype", "name", "__weakref__")

    def __init__(self, params: FuncType | Iterable[Any] = (), deftype: DefType | None = None,
                 name: str | None = None) -> None:
        ft = params if isinstance(params, FuncType) else FuncType(tuple(params), ())
        if ft.results:
            raise ArgumentError("a tag's type has no results (non-empty tag result type)")
        if deftype is None:
            if not ft.closed:
                raise ArgumentError("a tag made from Python takes closed types")
            deftype = close_types([ft])[0]
        self.type = ft
        self.deftype = deftype
        self.name = name

    def __repr__(self) -> str:
        return f"<Tag {self.name or hex(id(self))} {self.type}>"


class Exn:
    """An exception as wasm sees it (what an exnref points to): its tag and raw payload."""

    __slots__ = ("tag", "raw")

    def __init__(self, tag: Tag, raw: Sequence[Any]) -> None:
        self.tag = tag
        self.raw = tuple(raw)

    def __repr__(self) -> str:
        return f"<Exn {self.tag!r} {list(self.raw)}>"


class WasmException(Error):
    """A wasm exception in Python: raised by an export when one escapes it, and by a host
    function to throw one into wasm (``WasmException(tag, payload)``, payload as Python
    values of the tag's parameter types). ``.tag``, ``.payload`` (values as results come
    back), ``.exn`` (the Exn) and ``.frames`` (the wasm backtrace, innermost first)."""

    def __init__(self, tag: Tag, payload: Sequence[Any] = ()) -> None:
        from .func import _to_raw

        if not isinstance(tag, Tag):
            raise ArgumentError(f"WasmException takes a Tag, not {type(tag).__name__}")
        params = tag.type.params
        payload = tuple(payload)
        if len(payload) != len(params):
            raise ArgumentError(f"tag {tag.type} takes {len(params)} values, got {len(payload)}")
        self._init(Exn(tag, [_to_raw(t, v) for t, v in zip(params, payload)]))

    def _init(self, exn: Exn) -> None:
        Error.__init__(self, "uncaught wasm exception")
        self.exn = exn
        self.frames: list[str] = []
        self.skip = 0  # handlers to pass untouched (a legacy delegate's rethrow)

    @classmethod
    def of(cls, exn: Exn) -> WasmException:
        """The Python exception that throws ``exn`` (what ``throw``/``throw_ref`` raise)."""
        e = cls.__new__(cls)
        e._init(exn)
        return e

    @property
    def tag(self) -> Tag:
        return self.exn.tag

    @property
    def payload(self) -> tuple:
        from .func import _from_raw

        return tuple(_from_raw(t, v) for t, v in zip(self.exn.tag.type.params, self.exn.raw))

    def add_frame(self, name: str) -> None:
        self.frames.append(name)

    def __str__(self) -> str:
        head = f"uncaught wasm exception {self.exn.tag!r} {list(self.payload)}"
        if not self.frames:
            return head
        return head + "\nwasm backtrace:\n" + "\n".join(format_frames(self.frames))


def throw(tag: Tag, raw: Sequence[Any]) -> WasmException:
    """The exception for ``throw`` of ``tag`` with the raw operands ``raw``."""
    return WasmException.of(Exn(tag, raw))


def tag_matches(actual: Tag, expected_deftype: DefType) -> bool:
    """Import matching of a tag: its type must be the declared one (types are invariant)."""
    return actual.deftype is expected_deftype


EXNREF = ValType.EXNREF

__all__ = ["Exn", "Tag", "WasmException", "tag_matches", "throw"]

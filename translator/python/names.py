"""The only ways text from a module reaches generated source.

Every name a module carries (name-section names, import and export names, custom
section names, the file name) is hostile until quoted. It enters generated Python only
as ``literal()`` (a quoted constant), ``ident()`` (a prefixed, sanitised identifier) or
``comment()`` (a one-line, printable-ASCII comment): never raw in a docstring, comment,
identifier or expression.
"""
from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")
_NON_COMMENT = re.compile(r"[^\x20-\x7e]")
# PEP 263: "coding[:=]" in a comment on line 1 or 2 re-encodes the whole file (utf-7 then
# turns "+AAo-" in any later comment or string into a newline), so comments never hold it.
_CODING = re.compile(r"(?<=coding)[:=]")


def literal(value) -> str:
    """A Python expression evaluating to ``value``: str, bytes, int, bool, None and
    tuples, lists and dicts of them. Strings are written with ``ascii()``, so the source
    stays ASCII whatever the name holds (quotes, newlines, U+2028, NUL, lone surrogates)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, str):
        return ascii(str(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return repr(bytes(value))
    if isinstance(value, tuple):
        items = [literal(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(literal(v) for v in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no literal for {type(value).__name__}")


def ident(prefix: str, index: int, name: str | None = None, limit: int = 32) -> str:
    """``prefix`` + ``index``, plus a readable, sanitised form of ``name`` if there is one.
    The result starts with the (letter or underscore-letter) prefix and holds the index, so
    it is never a keyword, a dunder or another definition's name."""
    base = f"{prefix}{index}"
    if not name:
        return base
    tail = _UNSAFE.sub("_", name).strip("_")[:limit]
    return f"{base}_{tail}" if tail else base


def comment(text: str, limit: int = 60) -> str:
    """``text`` made safe inside a ``#`` comment: one line of printable ASCII, the rest as
    ``\\x..``/``\\u....`` escapes, cut to ``limit`` characters."""
    safe = _NON_COMMENT.sub(lambda m: ascii(m.group())[1:-1], str(text))
    safe = _CODING.sub(lambda m: f"\\x{ord(m.group()):02x}", safe)
    return safe[:limit] + ("..." if len(safe) > limit else "")

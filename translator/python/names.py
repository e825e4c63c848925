"""Safe Python identifiers for names that come from a module.

Nothing a module contains reaches generated source except through these functions or
``repr()`` of a str/bytes literal, so no name can inject code.
"""
from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


def ident(prefix: str, index: int, name: str | None = None, limit: int = 32) -> str:
    """``prefix`` + ``index``, plus a readable, sanitised form of ``name`` if there is one.
    The result starts with the (letter) prefix, so it is never a keyword or a dunder."""
    base = f"{prefix}{index}"
    if not name:
        return base
    tail = _UNSAFE.sub("_", name).strip("_")[:limit]
    return f"{base}_{tail}" if tail else base


def comment(text: str, limit: int = 60) -> str:
    """Text that is safe inside a ``#`` comment: printable ASCII on one line."""
    safe = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    return safe[:limit]

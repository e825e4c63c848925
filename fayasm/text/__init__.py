"""The WebAssembly text format, 3.0's annotations included (text/annotations.py):
``parse_module`` turns WAT text into a syntax.Module."""
from __future__ import annotations

from fayasm.syntax import Module

from .annotations import read
from .parser import parse_module_tokens


def parse_module(text: str, source: str | None = None) -> Module:
    """Parse a module written as ``(module ...)`` or as a bare list of module fields.

    Malformed text raises fayasm.errors.ParseError (with line and column) and nothing else.
    ``(module binary ...)`` is decoded (a malformed binary is a ParseError with the
    decoder's message); ``(module quote ...)`` is parsed from its quoted text."""
    if not isinstance(text, str):
        raise TypeError("parse_module() takes a str")
    return parse_module_tokens(read(text, source))


__all__ = ["parse_module"]

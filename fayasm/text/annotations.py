"""Annotations of the text format (3.0): ``(@id ...)`` may stand wherever white space may.

``read`` lexes a text and takes every annotation out of the token stream, so the parsers
never see them. Three have a meaning and are kept, by the index of the token each sat
before (``Tokens.annotations``): ``(@custom "name" placement? "bytes"*)`` (a custom
section), ``(@name "text")`` (the name of the module or of a function, over its ``$id``)
and ``(@metadata.code.branch_hint "\\00"|"\\01")`` (before an ``if`` or ``br_if``). Their
contents are checked here; where they stand, by the module parser (``check``), which
raises ``AnnotationError`` for a malformed or misplaced one and ``AnnotationInvalid`` for
a branch hint on another instruction.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from fayasm.errors import AnnotationError, AnnotationInvalid
from fayasm.syntax import Custom

from .lexer import (
    _IDCHARS,
    _STRING_CHARS,
    EOF,
    ERR,
    KEYWORD,
    LPAR,
    MALFORMED_UTF8,
    RPAR,
    STRING,
    UNKNOWN_OPERATOR,
    Tokens,
    decode_string,
    tokenize,
)

CUSTOM, NAME, BRANCH_HINT = "custom", "name", "metadata.code.branch_hint"
BRANCHES = ("if", "br_if")  # what a branch hint may stand before

# A reserved word as the lexer takes it: the id of an annotation is one (``@id``).
_WORD = re.compile(rf'(?:[^ \t\n\r()";]++|;(?!;)|"{_STRING_CHARS}")++')
_PLAIN_ID = re.compile(rf"[{_IDCHARS}]+")
_STRING_PART = re.compile(rf'"{_STRING_CHARS}"')
# Characters no token may hold outside a string: controls other than white space, DEL,
# anything past ASCII.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\U0010ffff]")

# Custom section placement: the section after which a custom section goes, for
# ``(before|after kind)``, as fayasm.syntax.Custom.after (a section id; 0: before all).
# The sections in binary order; the tag section (exceptions) is not written yet, so a
# custom section placed at it goes where memory's neighbours are.
_ORDER = [("type", 1), ("import", 2), ("func", 3), ("table", 4), ("memory", 5), ("tag", 5),
          ("global", 6), ("export", 7), ("start", 8), ("elem", 9), ("datacount", 12),
          ("code", 10), ("data", 11)]
_AFTER = {word: sid for word, sid in _ORDER} | {"last": 11}
_BEFORE = {word: _ORDER[k - 1][1] if k else 0 for k, (word, _) in enumerate(_ORDER)} \
    | {"first": 0}
_SECTION_WORDS = frozenset(_AFTER) | {"first"}


@dataclass
class Annotation:
    """One annotation with a meaning: ``value`` is a Custom, a name or a hint byte;
    ``error`` the message for malformed contents."""

    kind: str
    offset: int  # of its "(" in the text
    value: Any = None
    error: str | None = None
    taken: bool = False


def read(text: str, source: str | None = None) -> Tokens:
    """The tokens of ``text`` without its annotations (see the module docstring)."""
    toks = tokenize(text, source)
    if "(@" in text:
        _strip(toks)
    return toks


def _strip(toks: Tokens) -> None:
    text, kinds, values, offsets = toks.text, toks.kinds, toks.values, toks.offsets
    nk: list = []
    nv: list = []
    no: list = []
    found = toks.annotations
    i = 0
    while kinds[i] != EOF:
        if (kinds[i] == LPAR and offsets[i + 1] == offsets[i] + 1
                and text.startswith("@", offsets[i] + 1)):
            end, result = _annotation(toks, i)
            if isinstance(result, tuple):  # an error: the parser reports it where it stands
                nk.append(ERR)
                nv.append(result[0])
                no.append(result[1])
                break
            if result is not None:
                found.setdefault(len(nk), []).append(result)
            i = end + 1
            continue
        nk.append(kinds[i])
        nv.append(values[i])
        no.append(offsets[i])
        i += 1
    n = len(text)
    toks.kinds, toks.values, toks.offsets = nk + [EOF, EOF], nv + [None, None], no + [n, n]


def _annotation(toks: Tokens, i: int):
    """(index of its ")", an Annotation, None or (message, offset)) for the one at ``i``."""
    text, kinds, values, offsets = toks.text, toks.kinds, toks.values, toks.offsets
    word = _WORD.match(text, offsets[i] + 1)
    assert word is not None  # it starts with "@"
    name = word.group()[1:]
    if not name:
        return i, ("empty annotation id", offsets[i])
    if name.startswith('"') and _STRING_PART.fullmatch(name):
        try:
            raw = decode_string(name[1:-1])
            if not raw:
                return i, ("empty annotation id", offsets[i])
            name = raw.decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return i, (MALFORMED_UTF8, offsets[i])
    elif not _PLAIN_ID.fullmatch(name):
        return i, (UNKNOWN_OPERATOR, offsets[i] + 1)
    depth = 1
    j = i + 2
    while True:
        k = kinds[j]
        if k == EOF:
            return j, ("unclosed annotation", offsets[i])
        if k == LPAR:
            depth += 1
        elif k == RPAR:
            depth -= 1
            if depth == 0:
                break
        elif k == ERR:
            message = values[j]
            if message == UNKNOWN_OPERATOR:  # a reserved word: fine here, but for its characters
                bad = _WORD.match(text, offsets[j])
                rest = _STRING_PART.sub("", bad.group()) if bad is not None else ""
                if _ILLEGAL.search(rest) is None:
                    j += 1
                    continue
                message = "illegal character"
            return j, (message, offsets[j])
        j += 1
    parse = _CONTENTS.get(name)
    if parse is None:
        return j, None
    a = Annotation(name, offsets[i])
    try:
        a.value = parse(toks, i + 2, j)
    except _Malformed as e:
        a.error = str(e)
    return j, a


class _Malformed(Exception):
    pass


def _custom(toks: Tokens, p: int, end: int) -> Custom:
    kinds, values = toks.kinds, toks.values
    if kinds[p] != STRING:
        raise _Malformed("@custom annotation: missing section name")
    try:
        name = values[p].decode("utf-8")
    except UnicodeDecodeError:
        raise _Malformed("@custom annotation: malformed UTF-8 encoding") from None
    p += 1
    after = _AFTER["last"]
    if kinds[p] == LPAR:
        where = values[p + 1] if kinds[p + 1] == KEYWORD else None
        if where not in ("before", "after"):
            raise _Malformed("@custom annotation: malformed placement")
        kind = values[p + 2] if kinds[p + 2] == KEYWORD else None
        if kind not in _SECTION_WORDS:
            raise _Malformed("@custom annotation: malformed section kind")
        table = _BEFORE if where == "before" else _AFTER
        if kind not in table:  # (after first), (before last)
            raise _Malformed("@custom annotation: malformed placement")
        if kinds[p + 3] != RPAR:
            raise _Malformed("@custom annotation: unexpected token")
        after = table[kind]
        p += 4
    data = bytearray()
    while p < end:
        if kinds[p] != STRING:
            raise _Malformed("@custom annotation: unexpected token")
        data += values[p]
        p += 1
    return Custom(name, bytes(data), after)


def _name(toks: Tokens, p: int, end: int) -> str:
    if end != p + 1 or toks.kinds[p] != STRING:
        raise _Malformed("@name annotation: malformed name")
    try:
        return toks.values[p].decode("utf-8")
    except UnicodeDecodeError:
        raise _Malformed("@name annotation: malformed UTF-8 encoding") from None


def _branch_hint(toks: Tokens, p: int, end: int) -> int:
    if end != p + 1 or toks.kinds[p] != STRING or toks.values[p] not in (b"\0", b"\1"):
        raise _Malformed(f"@{BRANCH_HINT} annotation: malformed value")
    return toks.values[p][0]


_CONTENTS = {CUSTOM: _custom, NAME: _name, BRANCH_HINT: _branch_hint}


def take(toks: Tokens, index: int, kind: str) -> list[Annotation]:
    """The annotations of ``kind`` before token ``index``, marked as placed (the parser
    calls this where such an annotation has its meaning)."""
    out = [a for a in toks.annotations.get(index, ()) if a.kind == kind and not a.taken]
    for a in out:
        a.taken = True
    return out


def error(toks: Tokens, a: Annotation, message: str) -> AnnotationError:
    """The AnnotationError ``message`` located at annotation ``a``."""
    line, column = toks.position(a.offset)
    return AnnotationError(message, line, column, toks.source)


def check(toks: Tokens, lo: int, hi: int, fields: set, funcs: list) -> tuple[list, dict]:
    """Place the annotations of one module, tokens ``lo`` to ``hi`` (its terminator):
    custom sections stand before a field (in ``fields``) or the terminator, branch hints
    in a function body before a branch (``funcs``: (first token, last token, defined
    function index, body) of each); a name was taken where it may stand. Returns the
    custom sections in text order and the branch hints (syntax.Module.branch_hints);
    raises for the first annotation in the text that is malformed or misplaced."""
    customs: list = []
    hinted: dict = {}
    places: dict = {}  # a body's first token -> _branch_instrs of it
    starts = [f[0] for f in funcs]
    for index in sorted(k for k in toks.annotations if lo <= k <= hi):
        hints = 0
        for a in toks.annotations[index]:
            if a.error is not None:
                raise error(toks, a, a.error)
            if a.taken:
                continue
            if a.kind == CUSTOM:
                if index not in fields and index != hi:
                    raise error(toks, a, "misplaced @custom annotation")
                customs.append(a.value)
            elif a.kind == NAME:
                raise error(toks, a, "misplaced @name annotation")
            else:
                at = bisect_right(starts, index) - 1  # bodies are in text order
                span = funcs[at] if at >= 0 and index <= funcs[at][1] else None
                if span is None:
                    raise error(toks, a, f"@{BRANCH_HINT} annotation: not in a function")
                hints += 1
                if hints > 1:
                    raise error(toks, a, f"@{BRANCH_HINT} annotation: duplicate annotation")
                if not _before_branch(toks, index):
                    raise AnnotationInvalid(f"@{BRANCH_HINT} annotation: invalid target")
                first, last, k, body = span
                if first not in places:
                    places[first] = _branch_instrs(toks, first, last, body)
                where = places[first].get(index)
                if where is not None:
                    hinted.setdefault(k, {})[where] = a.value
    return customs, hinted


def _branch_instrs(toks: Tokens, first: int, last: int, body: list) -> dict[int, int]:
    """For a function body (tokens ``first`` to ``last``, parsed into ``body``): the
    instruction index of each ``if``/``br_if``, by the token a hint stands before (its
    keyword, or the "(" of its folded form). The parser emits a folded ``if`` at its
    ``(then`` and a folded ``br_if`` at its ")", after the operands: this walk keeps
    that order."""
    kinds, values = toks.kinds, toks.values
    order: list[int] = []
    folded: list[list] = []  # [depth, token, word] of the open folded branches
    depth = 0
    for j in range(first, last):
        k = kinds[j]
        if k == LPAR:
            depth += 1
            word = values[j + 1] if kinds[j + 1] == KEYWORD else None
            if word in BRANCHES:
                folded.append([depth, j, word])
            elif word == "then" and folded and folded[-1][0] == depth - 1:
                order.append(folded[-1][1])
        elif k == RPAR:
            if folded and folded[-1][0] == depth:
                _, tok, word = folded.pop()
                if word == "br_if":
                    order.append(tok)
            depth -= 1
        elif k == KEYWORD and values[j] in BRANCHES and kinds[j - 1] != LPAR:
            order.append(j)
    branches = [n for n, ins in enumerate(body) if ins.op.text in BRANCHES]
    if len(branches) != len(order):  # cannot be; then keep no hints rather than wrong ones
        return {}
    return dict(zip(order, branches))


def _before_branch(toks: Tokens, index: int) -> bool:
    kinds, values = toks.kinds, toks.values
    if kinds[index] == LPAR:
        index += 1
    return kinds[index] == KEYWORD and values[index] in BRANCHES


def print_custom(c: Custom, string) -> str:
    """``(@custom "name" (after kind) "bytes")`` for the printer (``string`` quotes)."""
    after = next((word for word, sid in _ORDER if sid == c.after), None)
    where = "(before first)" if after is None else f"(after {after})"
    return f"(@custom {string(c.name.encode('utf-8'))} {where} {string(c.data)})"

"""The token cursor shared by the module and script parsers: lookahead, expectations,
and the spec's error messages."""
from __future__ import annotations

from typing import ClassVar

from fayasm import isa
from fayasm.errors import ParseError
from fayasm.runtime.types import HeapType, ValType

from .lexer import EOF, ERR, ID, KEYWORD, LPAR, NUM, RPAR, STRING, Tokens
from .numbers import NumberError, is_nat, parse_uint

VALTYPES = {t.value: t for t in ValType.simple()}
REFTYPES = {t.value: t for t in ValType.simple() if t.is_ref}
HEAPTYPES = {str(h): h for h in HeapType}

# Every keyword the text format knows; any other keyword is an "unknown operator".
KNOWN_KEYWORDS = frozenset(isa.BY_TEXT) | frozenset(VALTYPES) | frozenset((
    "module", "type", "func", "param", "result", "local", "global", "table", "memory",
    "elem", "data", "offset", "item", "declare", "import", "export", "start", "mut",
    "extern", "then", "binary", "quote", "register", "invoke", "get", "assert_return",
    "assert_trap", "assert_exhaustion", "assert_malformed", "assert_invalid",
    "assert_unlinkable", "assert_malformed_custom", "assert_invalid_custom", "nan:canonical",
    "nan:arithmetic", "ref.extern", "script",
    "input", "output", "ref", "null", "nofunc", "noextern", "definition", "instance",
    "ref.func", "ref.null", "assert_exception", "rec", "sub", "final", "struct", "array",
    "field", "i8", "i16", "any", "eq", "i31", "none", "ref.i31", "ref.struct", "ref.array",
    "ref.eq", "ref.host", "ref.any", "i8x16", "i16x8", "i32x4", "i64x2", "f32x4",
    "f64x2"))


def known_keyword(word: str) -> bool:
    """Whether the format has this keyword (``offset=N`` and ``align=N`` included)."""
    if word in KNOWN_KEYWORDS:
        return True
    name, eq, value = word.partition("=")
    return bool(eq) and (name == "offset" or name == "align") and is_nat(value)


class BaseParser:
    """A cursor over a token stream (``self.i`` is the current token index)."""

    def __init__(self, toks: Tokens, pos: int = 0):
        self.toks = toks
        self.kinds = toks.kinds
        self.values = toks.values
        self.i = pos

    # -- errors ------------------------------------------------------------------------
    def error(self, message: str, index: int | None = None) -> ParseError:
        return self.toks.error(self.i if index is None else index, message)

    def unexpected(self, index: int | None = None) -> ParseError:
        """The error for the token at ``index``: its own lexical error, "unknown operator"
        for a keyword the format does not have, otherwise "unexpected token"."""
        if index is None:
            index = self.i
        kind = self.kinds[index]
        if kind == ERR:
            return self.error(self.values[index], index)
        if kind == KEYWORD and not known_keyword(self.values[index]):
            return self.error(f"unknown operator {self.values[index]}", index)
        if kind == EOF:
            return self.error("unexpected token (end of input)", index)
        return self.error("unexpected token", index)

    # -- lookahead ---------------------------------------------------------------------
    def at_paren(self, word: str) -> bool:
        """Whether the next tokens are ``(`` ``word``."""
        i = self.i
        return (self.kinds[i] == LPAR and self.kinds[i + 1] == KEYWORD
                and self.values[i + 1] == word)

    def at_keyword(self, word: str) -> bool:
        return self.kinds[self.i] == KEYWORD and self.values[self.i] == word

    # -- expectations ------------------------------------------------------------------
    def lpar(self) -> None:
        if self.kinds[self.i] != LPAR:
            raise self.unexpected()
        self.i += 1

    def rpar(self) -> None:
        if self.kinds[self.i] != RPAR:
            raise self.unexpected()
        self.i += 1

    def keyword(self, word: str) -> None:
        if self.kinds[self.i] != KEYWORD or self.values[self.i] != word:
            raise self.unexpected()
        self.i += 1

    def open(self, word: str) -> None:
        """Consume ``(`` ``word``."""
        self.lpar()
        self.keyword(word)

    def string(self) -> bytes:
        if self.kinds[self.i] != STRING:
            raise self.unexpected()
        self.i += 1
        return self.values[self.i - 1]

    def name(self) -> str:
        """A string that must be valid UTF-8 (import, export and module names)."""
        index = self.i
        data = self.string()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise self.error("malformed UTF-8 encoding", index) from None

    def opt_id(self) -> str | None:
        if self.kinds[self.i] == ID:
            self.i += 1
            return self.values[self.i - 1]
        return None

    def nat(self, bits: int = 32, message: str = "i32 constant out of range") -> int:
        """An unsigned integer token below 2**bits."""
        if self.kinds[self.i] != NUM or not is_nat(self.values[self.i]):
            raise self.unexpected()
        try:
            n = parse_uint(self.values[self.i], bits, message)
        except NumberError as e:
            raise self.error(str(e)) from None
        self.i += 1
        return n

    def at_var(self) -> bool:
        kind = self.kinds[self.i]
        return kind == ID or (kind == NUM and is_nat(self.values[self.i]))

    def var(self, space: dict, what: str) -> int:
        """An index: a number, or an identifier bound in ``space``."""
        kind = self.kinds[self.i]
        if kind == ID:
            index = space.get(self.values[self.i])
            if index is None:
                raise self.error(f"unknown {what} ${self.values[self.i]}")
            self.i += 1
            return index
        return self.nat()

    # Type names ($t) a concrete heap type may use; the module parser binds them.
    type_ids: ClassVar[dict] = {}
    concrete = False  # set once a concrete heap type was read (the module must be closed)

    def valtype(self) -> ValType:
        if self.kinds[self.i] == KEYWORD:
            t = VALTYPES.get(self.values[self.i])
            if t is not None:
                self.i += 1
                return t
        elif self.at_paren("ref"):
            return self.ref_type()
        raise self.unexpected()

    def valtypes(self) -> list[ValType]:
        """Value types up to the next token that is not one."""
        out = []
        kinds, values = self.kinds, self.values
        while True:
            if kinds[self.i] == KEYWORD:
                t = VALTYPES.get(values[self.i])
                if t is None:
                    break
                out.append(t)
                self.i += 1
            elif self.at_paren("ref"):
                out.append(self.ref_type())
            else:
                break
        return out

    def ref_type(self) -> ValType:
        """``(ref null? heaptype)``."""
        self.i += 2
        nullable = self.at_keyword("null")
        if nullable:
            self.i += 1
        t = ValType.ref(nullable, self.heap())
        self.rpar()
        return t

    def reftype(self) -> ValType:
        if self.kinds[self.i] == KEYWORD:
            t = REFTYPES.get(self.values[self.i])
            if t is not None:
                self.i += 1
                return t
        elif self.at_paren("ref"):
            return self.ref_type()
        raise self.unexpected()

    def at_reftype(self) -> bool:
        return ((self.kinds[self.i] == KEYWORD and self.values[self.i] in REFTYPES)
                or self.at_paren("ref"))

    def heap(self):
        """A heap type: an abstract one (a HeapType) or a type index (an int, closed
        with the rest of the module: fayasm.closing)."""
        if self.kinds[self.i] == KEYWORD:
            h = HEAPTYPES.get(self.values[self.i])
            if h is not None:
                self.i += 1
                return h
        elif self.at_var():
            self.concrete = True
            return self.var(self.type_ids, "type")
        raise self.unexpected()

    def heaptype(self) -> ValType:
        """``ref.null``'s immediate: a heap type, kept as the type ``ref.null`` pushes."""
        return ValType.ref(True, self.heap())

    def skip_balanced(self, i: int) -> int:
        """The index of the ``)`` matching the ``(`` at ``i`` (or of EOF if unbalanced)."""
        kinds = self.kinds
        depth = 0
        while True:
            k = kinds[i]
            if k == LPAR:
                depth += 1
            elif k == RPAR:
                depth -= 1
                if depth == 0:
                    return i
            elif k == EOF:
                return i
            i += 1

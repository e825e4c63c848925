"""Tokens of the text format, with their offsets (line and column are computed on demand).

A token is a parenthesis, a keyword, a number, a string, an identifier, or a lexical error.
Malformed tokens (reserved words, bad strings) become ERR tokens that carry the spec's
message, so the error is reported when the parser reaches them, in source order. Past
MAX_TEXT_DEPTH open parentheses the lexer stops with an ERR token (runtime.limits).
Time and memory are linear in the text's length.
"""
from __future__ import annotations

import re
from bisect import bisect_left

from fayasm.errors import TEXT_TOO_DEEP, ParseError
from fayasm.runtime.limits import MAX_TEXT_DEPTH

from .numbers import NUMBER_RE

# Token kinds.
LPAR, RPAR, KEYWORD, NUM, STRING, ID, ERR, EOF = range(8)

_IDCHARS = r"0-9A-Za-z!#$%&'*+\-./:<=>?@\\^_`|~"
_STRING_CHARS = r'(?:[^"\\\x00-\x1f\x7f]++|\\[^\x00-\x1f\x7f])*+'
_END = r"(?=[ \t\n\r()]|;;|\Z)"  # where a token must end

# Skip white space and line comments, then take one token, its kind told by the group:
# 1 "(", 2 ")", 3 keyword, 4 number, 5 identifier, 6 quoted identifier (3.0's $"..."),
# 7 string body, 8 reserved word, 9 block comment start, 10 a character that starts no
# token (a broken string).
# Keywords, numbers, identifiers and strings must end at white space, a parenthesis or a
# comment: otherwise the whole run of characters is a reserved word, so ``$l"a"`` is one
# reserved token (an error), not two tokens, as the spec requires.
# A line comment ends at a newline, which the text format spells LF, CR or CR LF.
# Repeats are possessive (``*+``, ``++``): the regex engine then keeps no backtracking
# state per repetition, so a long string, comment run or bad token costs memory and time
# linear in its length with a small constant; no token needs to backtrack into a run.
_TOKEN = re.compile(
    r"[ \t\n\r]*+(?:;;[^\n\r]*+[ \t\n\r]*+)*+(?:"
    r"(\()(?!;)|(\))"
    rf"|([a-z][{_IDCHARS}]*){_END}"
    rf"|({NUMBER_RE.pattern}){_END}"
    rf"|\$([{_IDCHARS}]+){_END}"
    rf'|\$"({_STRING_CHARS})"{_END}'
    rf'|"({_STRING_CHARS})"{_END}'
    rf'|((?:[^ \t\n\r()";]++|;(?!;)|"{_STRING_CHARS}")++)'
    r"|(\(;)|(.))?", re.S)
_COMMENT_DELIM = re.compile(r"\(;|;\)")
_NEWLINE = re.compile("\n")
_SURROGATE = re.compile("[\ud800-\udfff]")
# An escape; a run of \hh escapes (data segments are mostly that) is one match.
_ESCAPE = re.compile(
    r"((?:\\[0-9a-fA-F]{2})++)"
    r"|\\(?:u\{([0-9a-fA-F]++(?:_[0-9a-fA-F]++)*+)\}|([tnr\"'\\])|(.?))", re.S)
# In a string literal that does not lex: the first character that is not plain content.
_STRING_TROUBLE = re.compile(r"[^\x00-\x1f\x7f\\]*+(?:\\[^\x00-\x1f\x7f][^\x00-\x1f\x7f\\]*+)*+")
_SIMPLE_ESCAPES = {"t": b"\t", "n": b"\n", "r": b"\r", '"': b'"', "'": b"'", "\\": b"\\"}

UNKNOWN_OPERATOR = "unknown operator"
MALFORMED_UTF8 = "malformed UTF-8 encoding"
EMPTY_ID = "empty identifier"


class Tokens:
    """The token stream of one text: parallel lists of kinds, values and offsets.

    Values: keyword and number text, string bytes, identifier name (without ``$``), error
    message; EOF closes the lists."""

    __slots__ = ("text", "source", "kinds", "values", "offsets", "annotations", "_lines")

    def __init__(self, text: str, source: str | None, kinds: list, values: list, offsets: list):
        self.text = text
        self.source = source
        self.kinds = kinds
        self.values = values
        self.offsets = offsets
        # The annotations with a meaning, by the index of the token each precedes
        # (text.annotations; the others are gone from the stream).
        self.annotations: dict = {}
        self._lines: list[int] | None = None

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        lines = self._lines
        if lines is None:
            lines = self._lines = [m.start() for m in _NEWLINE.finditer(self.text)]
        offset = max(0, min(offset, len(self.text)))
        line = bisect_left(lines, offset)  # newlines before the offset
        start = lines[line - 1] + 1 if line else 0
        return line + 1, offset - start + 1

    def error(self, index: int, message: str) -> ParseError:
        """A ParseError located at token ``index``."""
        index = min(index, len(self.offsets) - 1)
        line, column = self.position(self.offsets[index])
        return ParseError(message, line, column, self.source)


def decode_string(body: str) -> bytes:
    """The bytes of a string literal's body (between the quotes); raises ValueError(message)."""
    if "\\" not in body:
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(MALFORMED_UTF8) from None
    out = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(body):
        if m.start() > pos:
            try:
                out += body[pos:m.start()].encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(MALFORMED_UTF8) from None
        pos = m.end()
        hexbytes, uni, simple, _bad = m.groups()
        if hexbytes is not None:
            out += bytes.fromhex(hexbytes.replace("\\", ""))
        elif simple is not None:
            out += _SIMPLE_ESCAPES[simple]
        elif uni is not None:
            digits = uni.replace("_", "").lstrip("0")
            code = int(digits or "0", 16) if len(digits) <= 8 else 1 << 32
            if code >= 0x110000 or 0xD800 <= code < 0xE000:
                raise ValueError(MALFORMED_UTF8)
            out += chr(code).encode("utf-8")
        else:
            raise ValueError("illegal escape")
    if pos < len(body):
        try:
            out += body[pos:].encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(MALFORMED_UTF8) from None
    return bytes(out)


def _quoted_id(body: str) -> tuple[int, str]:
    """(ID, name) for a quoted identifier ``$"body"``: the name is the string's text, so
    ``$"fh"`` is ``$fh``; or (ERR, message) for an empty or non-UTF-8 one."""
    try:
        raw = decode_string(body)
    except ValueError as e:
        return ERR, str(e)
    if not raw:
        return ERR, EMPTY_ID
    try:
        return ID, raw.decode("utf-8")
    except UnicodeDecodeError:
        return ERR, MALFORMED_UTF8


def _reserved(word: str) -> str:
    """The message for a reserved word (a run of characters that is no token)."""
    if _SURROGATE.search(word):
        return MALFORMED_UTF8
    if word == "$":
        return EMPTY_ID  # a $ with no idchar or string after it ($"l"0 is no token)
    return UNKNOWN_OPERATOR


def _bad_string(text: str, pos: int) -> str:
    """The message for a string literal starting at ``pos`` that does not lex."""
    m = _STRING_TROUBLE.match(text, pos + 1)
    assert m is not None  # the pattern matches the empty string
    i = m.end()
    if i >= len(text) or text[i] == "\n":
        return "unclosed string literal"
    if text[i] == "\\":  # followed by a control character, or by nothing
        return "illegal escape" if i + 1 < len(text) else "unclosed string literal"
    return "illegal control character in string literal"


def tokenize(text: str, source: str | None = None) -> Tokens:
    """Split ``text`` into tokens; never raises (lexical errors become ERR tokens)."""
    kinds: list = []
    values: list = []
    offsets: list = []
    kappend, vappend, oappend = kinds.append, values.append, offsets.append
    depth = 0  # parentheses open
    pos: int | None = 0
    while pos is not None:
        restart = None
        for m in _TOKEN.finditer(text, pos):
            g = m.lastindex
            if g == 1:
                depth += 1
                if depth > MAX_TEXT_DEPTH:
                    # Past the limit: the rest is not read (the parser reports this token).
                    kappend(ERR)
                    vappend(TEXT_TOO_DEEP)
                    oappend(m.end() - 1)
                    break
                kappend(LPAR)
                vappend("(")
                oappend(m.end() - 1)
            elif g == 2:
                depth -= 1
                kappend(RPAR)
                vappend(")")
                oappend(m.end() - 1)
            elif g == 3:
                word = m.group(3)
                if word == "inf" or word == "nan" or (word.startswith("nan:0x")
                                                      and NUMBER_RE.fullmatch(word)):
                    kappend(NUM)  # float literals that look like keywords
                else:
                    kappend(KEYWORD)
                vappend(word)
                oappend(m.start(3))
            elif g == 4:
                kappend(NUM)
                vappend(m.group(4))
                oappend(m.start(4))
            elif g == 7:
                body = m.group(7)
                try:
                    vappend(decode_string(body))
                    kappend(STRING)
                except ValueError as e:
                    vappend(str(e))
                    kappend(ERR)
                oappend(m.start(7) - 1)
            elif g == 5:
                kappend(ID)
                vappend(m.group(5))
                oappend(m.start(5) - 1)
            elif g == 6:
                kind, value = _quoted_id(m.group(6))
                kappend(kind)
                vappend(value)
                oappend(m.start(6) - 2)
            elif g == 8:
                kappend(ERR)
                vappend(_reserved(m.group(8)))
                oappend(m.start(8))
            elif g == 9:
                # A block comment: they nest, so find the end by hand and start again.
                start = m.start(9)
                depth = 1
                for d in _COMMENT_DELIM.finditer(text, start + 2):
                    if d.group() == "(;":
                        depth += 1
                    else:
                        depth -= 1
                        if depth == 0:
                            restart = d.end()
                            break
                if depth:
                    kappend(ERR)
                    vappend("unclosed comment")
                    oappend(start)
                break
            elif g == 10:
                start = m.start(10)
                kappend(ERR)
                vappend(_bad_string(text, start) if text[start] == '"' else UNKNOWN_OPERATOR)
                oappend(start)
                break
        pos = restart
    n = len(text)
    # Two EOFs, so that one token of lookahead past the current one is always possible.
    kinds += (EOF, EOF)
    values += (None, None)
    offsets += (n, n)
    if _SURROGATE.search(text) is not None:
        _flag_surrogates(text, kinds, values, offsets)
    return Tokens(text, source, kinds, values, offsets)


def _flag_surrogates(text, kinds, values, offsets) -> None:
    """Text that came from bytes that are not UTF-8 (kept as surrogate escapes): report the
    first bad character, also inside comments, at the first token after it."""
    found = _SURROGATE.search(text)
    assert found is not None  # called only for text with a surrogate
    bad = found.start()
    for i, off in enumerate(offsets):
        if off > bad or kinds[i] == EOF:
            if kinds[i - 1] == ERR if i else False:
                return
            kinds.insert(i, ERR)
            values.insert(i, MALFORMED_UTF8)
            offsets.insert(i, bad)
            return

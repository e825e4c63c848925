"""WAST scripts (the spec test format): text -> a list of script.Command.

Text modules are parsed here; ``(module binary ...)`` keeps its bytes and
``(module quote ...)`` its text (the strings concatenated without separator, as the
reference interpreter does), both for the runner to process when the command runs.
Module names keep their ``$``: ``ModuleDef.name``, ``Invoke.module``, ``Get.module`` and
``Register.module`` are like ``"$m"``.
"""
from __future__ import annotations

import re

from fayasm.errors import ValidationError
from fayasm.runtime.gcobj import HostAny
from fayasm.runtime.types import ValType
from fayasm.runtime.values import Val
from fayasm.text.annotations import read
from fayasm.text.base import BaseParser, known_keyword
from fayasm.text.lexer import EOF, KEYWORD, LPAR, NUM, RPAR, STRING
from fayasm.text.numbers import (
    SHAPES,
    NumberError,
    parse_float,
    parse_int,
    parse_lane,
    v128_from_lanes,
)
from fayasm.text.parser import ModuleParser

from .script import (
    AssertExhaustion,
    AssertInvalid,
    AssertInvalidCustom,
    AssertMalformed,
    AssertMalformedCustom,
    AssertReturn,
    AssertTrap,
    AssertUnlinkable,
    Command,
    EitherPattern,
    Get,
    Invoke,
    ModuleDef,
    ModuleInstance,
    NanPattern,
    RefPattern,
    Register,
    V128Pattern,
)

_GC_PATTERNS = ("ref.struct", "ref.array", "ref.i31", "ref.eq", "ref.any")

_FIELD_WORDS = frozenset(("type", "import", "func", "table", "memory", "global", "export",
                          "start", "elem", "data"))
_NUM_TYPES = {"i32.const": ValType.I32, "i64.const": ValType.I64, "f32.const": ValType.F32,
              "f64.const": ValType.F64}
_NAN_PATTERNS = {"nan:canonical": "canonical", "nan:arithmetic": "arithmetic"}


class ScriptParser(BaseParser):
    """Commands of a script, one after another."""

    def script(self) -> list[Command]:
        kinds, values = self.kinds, self.values
        if kinds[0] == LPAR and kinds[1] == KEYWORD and values[1] in _FIELD_WORDS:
            # A script may be just the fields of one module.
            p = ModuleParser(self.toks, 0)
            m = p.fields(EOF)
            return [ModuleDef("text", None, m, None, 1)]
        out = []
        while kinds[self.i] != EOF:
            out.append(self.command())
        return out

    def line(self, index: int) -> int:
        return self.toks.position(self.toks.offsets[index])[0]

    def message(self) -> str:
        return self.string().decode("utf-8", "replace")

    def command(self) -> Command:
        kinds, values = self.kinds, self.values
        start = self.i
        if kinds[start] != LPAR or kinds[start + 1] != KEYWORD:
            raise self.unexpected(start if kinds[start] != LPAR else start + 1)
        word = values[start + 1]
        line = self.line(start)
        if word == "module":
            if kinds[start + 2] == KEYWORD and values[start + 2] == "instance":
                self.i = start + 3
                first = self.opt_module()
                second = self.opt_module()
                self.rpar()
                return (ModuleInstance(None, first, line) if second is None
                        else ModuleInstance(first, second, line))
            return self.module_def()
        if word in ("invoke", "get"):
            return self.action()
        self.i = start + 2
        if word == "register":
            name = self.name()
            module = self.opt_module()
            self.rpar()
            return Register(name, module, line)
        if word == "assert_return":
            action = self.action()
            results = []
            while kinds[self.i] == LPAR:
                results.append(self.result())
            self.rpar()
            return AssertReturn(action, results, line)
        if word == "assert_trap":
            if self.at_paren("module"):
                what = self.module_def()
            else:
                what = self.action()
            message = self.message()
            self.rpar()
            return AssertTrap(what, message, line)
        if word == "assert_exhaustion":
            action = self.action()
            message = self.message()
            self.rpar()
            return AssertExhaustion(action, message, line)
        cls = {"assert_malformed": AssertMalformed, "assert_invalid": AssertInvalid,
               "assert_malformed_custom": AssertMalformedCustom,
               "assert_invalid_custom": AssertInvalidCustom,
               "assert_unlinkable": AssertUnlinkable}.get(word)
        if cls is None:
            raise self.unexpected(start + 1)
        module = self.module_def()
        message = self.message()
        self.rpar()
        return cls(module, message, line)

    def opt_module(self) -> str | None:
        name = self.opt_id()
        return None if name is None else "$" + name

    def module_def(self) -> ModuleDef:
        start = self.i
        line = self.line(start)
        self.open("module")
        definition = self.at_keyword("definition")
        if definition:
            self.i += 1
        name = self.opt_module()
        if self.at_keyword("binary"):
            self.i += 1
            data = self.strings()
            self.rpar()
            return ModuleDef("binary", name, None, data, line, definition)
        if self.at_keyword("quote"):
            self.i += 1
            text = self.strings().decode("utf-8", "surrogateescape")
            self.rpar()
            return ModuleDef("quote", name, None, text, line, definition)
        p = ModuleParser(self.toks, start)
        if definition:
            p.skip_definition = True
        try:
            m = p.module()
        except ValidationError as e:  # read, but invalid (its types are closed as it is read)
            self.i = self.skip_balanced(start) + 1
            return ModuleDef("text", name, None, None, line, definition, e)
        self.i = p.i
        return ModuleDef("text", name, m, None, line, definition)

    def strings(self) -> bytes:
        parts = []
        while self.kinds[self.i] == STRING:
            parts.append(self.values[self.i])
            self.i += 1
        return b"".join(parts)

    def action(self):
        start = self.i
        line = self.line(start)
        self.lpar()
        if self.at_keyword("invoke"):
            self.i += 1
            module = self.opt_module()
            name = self.name()
            args = []
            while self.kinds[self.i] == LPAR:
                args.append(self.const())
            self.rpar()
            return Invoke(name, args, module, line)
        if self.at_keyword("get"):
            self.i += 1
            module = self.opt_module()
            name = self.name()
            self.rpar()
            return Get(name, module, line)
        raise self.unexpected()

    def number(self, parse, bits: int) -> int:
        if self.kinds[self.i] != NUM:
            raise self.unexpected()
        try:
            n = parse(self.values[self.i], bits)
        except NumberError as e:
            raise self.error(str(e)) from None
        self.i += 1
        return n

    def const(self, patterns: bool = False):
        """``(t.const c)``, ``(v128.const shape c*)``, ``(ref.null t)``, ``(ref.extern n)``;
        with ``patterns`` also the result patterns (NaN kinds, ``(ref.func)``, ...)."""
        self.lpar()
        kinds, values = self.kinds, self.values
        if kinds[self.i] != KEYWORD:
            raise self.unexpected()
        word = values[self.i]
        self.i += 1
        t = _NUM_TYPES.get(word)
        if t is not None:
            if patterns and (t is ValType.F32 or t is ValType.F64) and kinds[self.i] == KEYWORD \
                    and values[self.i] in _NAN_PATTERNS:
                kind = _NAN_PATTERNS[values[self.i]]
                self.i += 1
                self.rpar()
                return NanPattern(t, kind)
            if t is ValType.I32 or t is ValType.I64:
                value = self.number(parse_int, 32 if t is ValType.I32 else 64)
            else:
                value = self.number(parse_float, 32 if t is ValType.F32 else 64)
            self.rpar()
            return Val.from_bits(t, value)
        if word == "v128.const":
            value = self.v128(patterns)
            self.rpar()
            return value
        if word == "ref.null":
            if patterns and self.kinds[self.i] == RPAR:
                self.rpar()
                return RefPattern(None, True)
            t = self.heaptype()
            self.rpar()
            return Val(t)
        if word == "ref.extern":
            if patterns and self.kinds[self.i] != NUM:
                self.rpar()
                return RefPattern(ValType.EXTERNREF)
            n = self.nat()
            self.rpar()
            return Val.externref(n)
        if word == "ref.host":
            n = self.nat()
            self.rpar()
            return Val(ValType.ANYREF, ref=HostAny(n))
        if word in _GC_PATTERNS and patterns:
            if self.kinds[self.i] != RPAR:
                raise self.unexpected()
            self.rpar()
            return RefPattern(ValType.ANYREF, False, word[4:])
        if word == "ref.func" and patterns:
            if self.kinds[self.i] != RPAR:  # (ref.func $f): the runner cannot name one
                raise self.unexpected()
            self.rpar()
            return RefPattern(ValType.FUNCREF)
        raise self.unexpected(self.i - 1)

    def result(self):
        """An expected result: a constant or pattern, or ``(either r+)`` (WebAssembly 3.0,
        used by the relaxed SIMD files): any one of the alternatives."""
        if self.at_paren("either"):
            self.i += 2
            options = []
            while self.kinds[self.i] == LPAR:
                options.append(self.result())
            if not options:
                raise self.unexpected()
            self.rpar()
            return EitherPattern(options)
        return self.const(patterns=True)

    def v128(self, patterns: bool):
        kinds, values = self.kinds, self.values
        if kinds[self.i] != KEYWORD or values[self.i] not in SHAPES:
            raise self.unexpected()
        shape = values[self.i]
        count, bits, kind = SHAPES[shape]
        self.i += 1
        lanes: list = []
        nan_lanes = False
        for _ in range(count):
            if (patterns and kind == "f" and kinds[self.i] == KEYWORD
                    and values[self.i] in _NAN_PATTERNS):
                lanes.append(NanPattern(ValType.F32 if bits == 32 else ValType.F64,
                                        _NAN_PATTERNS[values[self.i]]))
                nan_lanes = True
                self.i += 1
                continue
            if kinds[self.i] != NUM:
                at = kinds[self.i]
                if at == LPAR or at == RPAR or (at == KEYWORD and known_keyword(values[self.i])):
                    raise self.error("wrong number of lane literals")
                raise self.unexpected()
            try:
                lanes.append(parse_lane(values[self.i], bits, kind))
            except NumberError as e:
                raise self.error(str(e)) from None
            self.i += 1
        if kinds[self.i] == NUM:
            raise self.error("wrong number of lane literals")
        if nan_lanes:
            return V128Pattern(shape, lanes)
        return Val.v128(v128_from_lanes(lanes, bits))


def parse_script(text: str, source: str | None = None) -> list[Command]:
    """Parse a WAST script; malformed text raises fayasm.errors.ParseError."""
    if not isinstance(text, str):
        raise TypeError("parse_script() takes a str")
    return ScriptParser(read(text, source)).script()



_MODULE_FIELDS = frozenset(["type", "rec", "import", "func", "table", "memory", "global", "tag",
                            "export", "start", "elem", "data"])


def count_commands(text: str) -> int:
    """How many top-level forms (commands) a script has, read tolerantly: parentheses
    outside strings and comments. For a script the parser cannot read, so that its
    commands are counted, not lost (at least 1 for a non-empty unreadable text)."""
    depth = count = 0
    inline = False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif text.startswith(";;", i):
            i = text.find("\n", i)
            if i < 0:
                break
        elif text.startswith("(;", i):
            level, i = 1, i + 2
            while i < n and level:
                if text.startswith("(;", i):
                    level, i = level + 1, i + 2
                elif text.startswith(";)", i):
                    level, i = level - 1, i + 2
                else:
                    i += 1
            continue
        elif c == "(":
            if depth == 0:
                count += 1
                if count == 1:
                    first = re.match(r"\(\s*([a-z_]*)", text[i:i + 40])
                    inline = first is not None and first.group(1) in _MODULE_FIELDS
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        i += 1
    if count and inline:  # a script that is one inline module's fields
        return 1
    return max(count, 1 if text.strip() else 0)

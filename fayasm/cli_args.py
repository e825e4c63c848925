"""What the command line reads and prints: argument values (``i32:7``, ``f64:nan:0x1``),
results in the same forms, option types that reject bad numbers in one line, and module
files whose errors name the file."""
from __future__ import annotations

import argparse
import math
import os

import fayasm
from fayasm.runtime.types import ValType
from fayasm.runtime.values import Val


class UsageError(Exception):
    """A bad command line: reported in one line, exit status 2."""


class FileProblem(Exception):
    """A module file that cannot be read or is not a valid module: one line, status 1."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line ("fayasm run: argument --fuel: ...")."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


# -- values -------------------------------------------------------------------------------------

_WIDTH = {ValType.F32: 32, ValType.F64: 64}


def parse_arg(text: str, t: ValType | None) -> Val:
    """A command-line argument as a Val: typed (``i32:7``, ``f64:-1.5``, ``f32:nan:0x1``)
    or converted by the parameter's type ``t``. Floats take the text format's forms
    (``inf``, ``nan``, ``nan:0x200000``, ``-0x1p-3``) and Python's; what format_result
    prints is accepted back."""
    if ":" in text and text.split(":", 1)[0] in ("i32", "i64", "f32", "f64", "v128"):
        name, text = text.split(":", 1)
        given = ValType(name)
        if t is not None and given is not t:
            raise UsageError(f"argument {name}:{text} given for a {t} parameter")
        t = given
    if t is None:
        raise UsageError(f"cannot tell the type of argument {text!r}")
    try:
        if t in (ValType.I32, ValType.I64, ValType.V128):
            v = int(text.replace("_", ""), 0)
            bits = {ValType.I32: 32, ValType.I64: 64, ValType.V128: 128}[t]
            if not -(1 << (bits - 1)) <= v < (1 << bits):
                raise UsageError(f"{text} does not fit in {t}")
            return Val(t, v)
        if t in (ValType.F32, ValType.F64):
            return Val.from_bits(t, _float_bits(text, _WIDTH[t]))
    except ValueError:
        raise UsageError(f"{text!r} is not a valid {t}") from None
    if t.is_ref:
        if text != "null":
            raise UsageError(f"only null can be passed for {t}")
        return Val(t)
    raise UsageError(f"cannot pass {t} arguments")


def _float_bits(text: str, width: int) -> int:
    from fayasm.text.numbers import NumberError, parse_float

    try:
        return parse_float(text, width)
    except NumberError:
        pass  # not the text format's form: Python's (".5", "1E3", "Infinity")
    x = float.fromhex(text) if "0x" in text.lower() else float(text)
    v = Val.f32(x) if width == 32 else Val.f64(x)
    if math.isinf(v.value) and not math.isinf(x):
        raise ValueError("out of range")
    return v.bits


def format_result(v: Val) -> str:
    """A result as ``fayasm run`` prints it, in a form parse_arg accepts back: NaNs in the
    text format's ``nan``/``-nan:0x...`` (payload) form, so their bits survive."""
    if v.type in (ValType.I32, ValType.I64):
        return str(v.value)
    if v.type in (ValType.F32, ValType.F64):
        x = v.value
        if x != x:
            width = _WIDTH[v.type]
            mbits = 23 if width == 32 else 52
            payload = v.bits & ((1 << mbits) - 1)
            sign = "-" if v.bits >> (width - 1) else ""
            return f"{sign}nan" if payload == 1 << (mbits - 1) else f"{sign}nan:0x{payload:x}"
        return repr(x)
    if v.type is ValType.V128:
        return f"0x{v.bits:032x}"
    return "null" if v.ref is None else repr(v.ref)


# -- option types (argparse ``type=``) ----------------------------------------------------------

def size(text: str) -> int:
    """A byte count such as 65536, 64MiB or 1GB."""
    from fayasm.runtime.resources import parse_size

    try:
        return parse_size(text)
    except fayasm.Error as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _whole(text: str, minimum: int | None, what: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if minimum is not None and value < minimum:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
    return value


def count(text: str) -> int:
    """A whole number >= 0."""
    return _whole(text, 0, "a whole number, 0 or more")


def positive(text: str) -> int:
    """A whole number >= 1."""
    return _whole(text, 1, "a whole number, 1 or more")


def integer(text: str) -> int:
    """Any whole number (a seed)."""
    return _whole(text, None, "a whole number")


def seconds(text: str) -> float:
    """A number of seconds >= 0 (``inf``: never)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, 0 or more, got {text!r}")
    return value


def duration(text: str) -> float:
    """90, 30s, 10m or 1h, as seconds (> 0)."""
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        value = float(text[:-1]) * units[text[-1]] if text and text[-1] in units else float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value) or value <= 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (examples: 90, 30s, 10m, 1h)")
    return value


# -- module files -------------------------------------------------------------------------------

MODULE_SUFFIXES = (".wasm", ".wat", ".wast")


def looks_like_module(text: str) -> bool:
    return text.endswith(MODULE_SUFFIXES) or (not text.startswith("-") and os.path.isfile(text))


def load(path: str) -> fayasm.Module:
    """The module in ``path``; FileProblem naming the file if it cannot be read or is not
    a valid module."""
    try:
        return fayasm.Module.from_file(path)
    except fayasm.FileError as e:
        raise FileProblem(str(e)) from None
    except fayasm.CompileError as e:
        text = str(e)
        where = "" if text.startswith(path) else f"{path}: "
        raise FileProblem(f"{where}{type(e).__name__}: {text}") from None


__all__ = ["UsageError", "FileProblem", "Parser", "parse_arg", "format_result", "size", "count",
           "positive", "integer", "seconds", "duration", "load", "looks_like_module"]

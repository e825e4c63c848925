"""Running WAST scripts: every command of the spec test suite, on any engine.

With ``engine=None`` only module-level commands are judged (decoding, parsing,
validation) and the rest are reported as not run, never as passed.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field

from fayasm import engines
from fayasm.errors import (
    AnnotationError,
    AnnotationInvalid,
    CompileError,
    DecodeError,
    ValidationError,
)
from fayasm.module import Module
from fayasm.runtime.errors import Error, Exhaustion, LinkError, Trap
from fayasm.runtime.func import HostError
from fayasm.runtime.gcobj import heap_test
from fayasm.runtime.types import HeapType, ValType
from fayasm.runtime.values import Val
from fayasm.spectest import spectest_imports

from .script import (
    AssertExhaustion,
    AssertInvalid,
    AssertInvalidCustom,
    AssertMalformed,
    AssertMalformedCustom,
    AssertReturn,
    AssertTrap,
    AssertUnlinkable,
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

PASSED, FAILED, NOT_RUN = "passed", "failed", "not run"


@dataclass
class Outcome:
    line: int
    kind: str
    status: str
    detail: str = ""


@dataclass
class Report:
    source: str
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str, kind: str | None = None) -> int:
        return sum(1 for o in self.outcomes
                   if o.status == status and (kind is None or o.kind == kind))

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == FAILED]


HEAPS = {"struct": HeapType.STRUCT, "array": HeapType.ARRAY, "i31": HeapType.I31,
         "eq": HeapType.EQ, "any": HeapType.ANY}


class Failure(Exception):
    """A command did not do what the script says."""


def command_kind(cmd) -> str:
    if isinstance(cmd, (Invoke, Get)):
        return "action"
    return {ModuleDef: "module", ModuleInstance: "module", Register: "register",
            AssertReturn: "assert_return",
            AssertTrap: "assert_trap", AssertExhaustion: "assert_exhaustion",
            AssertMalformed: "assert_malformed", AssertInvalid: "assert_invalid",
            AssertMalformedCustom: "assert_malformed_custom",
            AssertInvalidCustom: "assert_invalid_custom",
            AssertUnlinkable: "assert_unlinkable"}[type(cmd)]


def _message_matches(actual: str, expected: str) -> bool:
    # The reference interpreter's rule: the expected text is a prefix of the actual message.
    return actual.startswith(expected)


def nan_matches(t: ValType, bits: int, kind: str) -> bool:
    if t is ValType.F32:
        exp, quiet, payload = 0x7F800000, 0x00400000, 0x007FFFFF
        mag = bits & 0x7FFFFFFF
    else:
        exp, quiet, payload = 0x7FF0000000000000, 0x0008000000000000, 0x000FFFFFFFFFFFFF
        mag = bits & 0x7FFFFFFFFFFFFFFF
    if mag & exp != exp or not mag & payload:
        return False
    if kind == "canonical":
        return mag == exp | quiet
    return bool(mag & quiet)


def result_matches(actual: Val, expected) -> bool:
    if isinstance(expected, Val):
        if expected.type.is_ref:
            # A reference result is matched by its hierarchy: an exported function's
            # static result type ((ref null $t), nullfuncref...) is not the pattern's.
            if not actual.type.is_ref or actual.type.rep is not expected.type.rep:
                return False
            if expected.ref is None:
                return actual.ref is None
            return actual.ref is not None and actual.ref == expected.ref
        if actual.type is not expected.type:
            return False
        return actual.bits == expected.bits
    if isinstance(expected, NanPattern):
        return actual.type is expected.type and nan_matches(actual.type, actual.bits,
                                                            expected.kind)
    if isinstance(expected, RefPattern):
        if not actual.type.is_ref:
            return False
        if expected.null:
            return actual.ref is None
        if expected.heap is not None:
            return (actual.type.rep is expected.type and actual.ref is not None
                    and heap_test(actual.ref, HEAPS[expected.heap]))
        return actual.type.rep is expected.type and actual.ref is not None
    if isinstance(expected, EitherPattern):
        return any(result_matches(actual, option) for option in expected.options)
    if isinstance(expected, V128Pattern):
        if actual.type is not ValType.V128:
            return False
        width = 32 if expected.shape.endswith("x4") else 64
        lane_type = ValType.F32 if width == 32 else ValType.F64
        for k, lane in enumerate(expected.lanes):
            bits = (actual.bits >> (k * width)) & ((1 << width) - 1)
            if isinstance(lane, NanPattern):
                if not nan_matches(lane_type, bits, lane.kind):
                    return False
            elif bits != lane:
                return False
        return True
    raise TypeError(f"unknown expected result {expected!r}")


class Runner:
    """Runs the commands of one script; keeps its modules, instances and registrations."""

    def __init__(self, engine: str | None = "interpreter", source: str = "<wast>"):
        self.engine = engine
        self.source = source
        self.instances: dict[str, object] = {}
        self.current = None
        self.registry: dict[str, object] = {"spectest": spectest_imports()}
        self.definitions: dict[str, Module] = {}  # (module definition $M ...)

    # -- modules ---------------------------------------------------------------
    def build(self, d: ModuleDef) -> Module:
        if d.error is not None:
            raise d.error
        if d.kind == "text":
            return Module.from_syntax(d.module, name=d.name)
        return Module(d.data, name=d.name)

    def instantiate(self, module: Module):
        return engines.instantiate(module, self.registry, engine=self.engine)

    def instance(self, name: str | None):
        inst = self.instances.get(name) if name else self.current
        if inst is None:
            raise Failure(f"no module {name or '(current)'} to act on")
        return inst

    # -- actions ---------------------------------------------------------------
    def act(self, action) -> list[Val]:
        inst = self.instance(action.module)
        try:
            ext = inst.exports[action.name]
        except KeyError:
            raise Failure(f"no export {action.name!r}") from None
        if isinstance(action, Get):
            return [ext.val]
        return ext.invoke(action.args)

    # -- commands --------------------------------------------------------------
    def run(self, commands) -> Report:
        report = Report(self.source)
        for cmd in commands:
            kind = command_kind(cmd)
            try:
                status = self.step(cmd)
                report.outcomes.append(Outcome(cmd.line, kind, status))
            except Failure as e:
                report.outcomes.append(Outcome(cmd.line, kind, FAILED, str(e)))
            except HostError as e:
                report.outcomes.append(Outcome(cmd.line, kind, FAILED,
                                               f"host error {e.original!r}"))
            except Exception as e:  # noqa: BLE001 - a crash is a failed command, not a stop
                report.outcomes.append(Outcome(cmd.line, kind, FAILED,
                                               f"unexpected {type(e).__name__}: {e}\n"
                                               + traceback.format_exc(limit=-3)))
        return report

    def step(self, cmd) -> str:
        if isinstance(cmd, ModuleInstance):
            module = self.definitions.get(cmd.module) if cmd.module else None
            if module is None:
                raise Failure(f"no module definition {cmd.module}")
            if self.engine is None:
                return NOT_RUN
            try:
                inst = self.instantiate(module)
            except Error as e:
                self.current = None
                raise Failure(f"module does not instantiate: {e}") from None
            self.current = inst
            if cmd.name:
                self.instances[cmd.name] = inst
            return PASSED
        if isinstance(cmd, ModuleDef):
            try:
                module = self.build(cmd)
            except CompileError as e:
                self.current = None
                raise Failure(f"module does not compile: {e}") from None
            if cmd.definition:
                if cmd.name:
                    self.definitions[cmd.name] = module
                return PASSED
            if self.engine is None:
                self.current = None
                return PASSED
            try:
                inst = self.instantiate(module)
            except Error as e:
                self.current = None
                raise Failure(f"module does not instantiate: {e}") from None
            self.current = inst
            if cmd.name:
                self.instances[cmd.name] = inst
            return PASSED
        if isinstance(cmd, Register):
            if self.engine is None:
                return NOT_RUN
            self.registry[cmd.as_name] = self.instance(cmd.module).exports
            return PASSED
        if isinstance(cmd, AssertMalformed):
            return self.expect_compile_error(cmd.module, cmd.message, DecodeError)
        if isinstance(cmd, AssertInvalid):
            return self.expect_compile_error(cmd.module, cmd.message, ValidationError)
        if isinstance(cmd, AssertMalformedCustom):
            return self.expect_compile_error(cmd.module, cmd.message, AnnotationError)
        if isinstance(cmd, AssertInvalidCustom):
            return self.expect_compile_error(cmd.module, cmd.message, AnnotationInvalid)
        if self.engine is None:
            return NOT_RUN
        if isinstance(cmd, (Invoke, Get)):
            try:
                self.act(cmd)
            except Trap as e:
                raise Failure(f"unexpected trap: {e.message}") from None
            return PASSED
        if isinstance(cmd, AssertReturn):
            try:
                got = self.act(cmd.action)
            except Trap as e:
                raise Failure(f"unexpected trap: {e.message}") from None
            if len(got) != len(cmd.results) or not all(
                    result_matches(a, x) for a, x in zip(got, cmd.results)):
                raise Failure(f"got {got}, expected {cmd.results}")
            return PASSED
        if isinstance(cmd, AssertTrap):
            if isinstance(cmd.action, ModuleDef):
                return self.expect_instantiation_trap(cmd.action, cmd.message)
            return self.expect_trap(cmd.action, cmd.message, Trap)
        if isinstance(cmd, AssertExhaustion):
            return self.expect_trap(cmd.action, cmd.message, Exhaustion)
        if isinstance(cmd, AssertUnlinkable):
            module = self.compile_or_fail(cmd.module)
            try:
                self.instantiate(module)
            except LinkError as e:
                if not _message_matches(str(e), cmd.message):
                    raise Failure(f"link error {str(e)!r}, expected {cmd.message!r}") from None
                return PASSED
            raise Failure(f"linked, expected {cmd.message!r}")
        raise Failure(f"unknown command {cmd!r}")

    def compile_or_fail(self, d: ModuleDef) -> Module:
        try:
            return self.build(d)
        except CompileError as e:
            raise Failure(f"module does not compile: {e}") from None

    def expect_compile_error(self, d: ModuleDef, message: str, cls) -> str:
        try:
            self.build(d)
        except cls as e:
            if not _message_matches(e.message, message):
                raise Failure(f"{type(e).__name__} {e.message!r}, expected {message!r}") from None
            return PASSED
        except CompileError as e:
            raise Failure(f"{type(e).__name__} {e}, expected {cls.__name__} {message!r}") from None
        raise Failure(f"module accepted, expected {cls.__name__} {message!r}")

    def expect_trap(self, action, message: str, cls) -> str:
        try:
            got = self.act(action)
        except cls as e:
            if not _message_matches(e.message, message):
                raise Failure(f"trap {e.message!r}, expected {message!r}") from None
            return PASSED
        except Trap as e:
            raise Failure(f"trap {type(e).__name__} {e.message!r}, expected {message!r}") from None
        raise Failure(f"returned {got}, expected trap {message!r}")

    def expect_instantiation_trap(self, d: ModuleDef, message: str) -> str:
        module = self.compile_or_fail(d)
        try:
            self.instantiate(module)
        except Trap as e:
            if not _message_matches(e.message, message):
                raise Failure(f"trap {e.message!r}, expected {message!r}") from None
            return PASSED
        except LinkError as e:
            raise Failure(f"link error {e}, expected trap {message!r}") from None
        raise Failure(f"instantiated, expected trap {message!r}")


def run_file(path: str, engine: str | None = "interpreter") -> Report:
    """Parse and run one .wast file."""
    from .parse import parse_script

    with open(path, encoding="utf-8") as f:
        text = f.read()
    commands = parse_script(text, source=path)
    return Runner(engine, source=path).run(commands)

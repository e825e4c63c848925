"""Checked by mypy, not run (tests/test_engine_interface.py): each engine satisfies the
engine interface, with the engine's own compiled type."""
from __future__ import annotations

from fayasm.engines import EngineProtocol, TranslatingEngine
from fayasm.interpreter import Compiled as InterpreterCompiled
from fayasm.interpreter import Engine as Interpreter
from fayasm.translator.llvm.engine import CompiledModule as JitCompiled
from fayasm.translator.llvm.engine import Engine as Jit
from fayasm.translator.python.engine import Compiled as PythonCompiled
from fayasm.translator.python.engine import Engine as Python

_interpreter: EngineProtocol[InterpreterCompiled] = Interpreter()
_python: TranslatingEngine[PythonCompiled] = Python()
_jit: EngineProtocol[JitCompiled] = Jit()

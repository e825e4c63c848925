"""WASI preview 1 (``wasi_snapshot_preview1``) as engine-neutral host functions.

``WasiConfig`` describes what a program gets (arguments, environment, preopened
directories, standard streams); ``Wasi(config)`` is one run's state, whose ``imports()``
any engine links and whose ``start(instance)`` runs a command and returns its exit code.
Files are reached only through preopened directories, resolved component by component so
that nothing outside them can be named (see sandbox.py).
"""
from . import command
from .config import Preopen, WasiConfig
from .constants import ERRNO, ERRNO_NAMES, MODULE
from .core import CALLS, Wasi, signature

__all__ = ["CALLS", "command", "ERRNO", "ERRNO_NAMES", "MODULE", "Preopen", "Wasi", "WasiConfig",
           "signature"]

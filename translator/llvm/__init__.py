"""engine="jit": the IR lowered to LLVM IR and compiled to native code with llvmlite.

Modules: types (value types, native layouts), function/control/exprs/simd/memops
(lowering one function), stubs (trap helper, entry wrappers, host trampolines), module
(a whole module), jit (LLVM driver), cache (disk cache), tiering (which optimisation
level, background tier-up), glue (entry wrappers and host trampolines shared per
signature), natives (table and global mirrors), calls (calling native code from Python),
engine (compile and instantiate).

The Python side of the native protocol, one job each: process (the process state),
threads (per-thread blocks), traps (trap decoding), codemap (code addresses -> names for
backtraces), typeids (canonical type ids), references (funcref/externref words and their
registries), argbuffers (host call buffers), callbacks (host calls and runtime
operations from native code), metering (fuel hand-over).
"""
from .engine import Engine

__all__ = ["Engine"]

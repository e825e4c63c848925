"""engine="jit": the IR lowered to LLVM IR and compiled to native code with llvmlite.

Modules: types (value types, native layouts), function/control/exprs/simd/memops
(lowering one function), stubs (trap helper, entry wrappers, host trampolines), module
(a whole module), jit (LLVM driver), cache (disk cache), tiering (which optimisation
level, background tier-up), bridge (the Python side of the native protocol: state,
callbacks, traps, references), natives (table and global mirrors), calls (calling native
code from Python), engine (compile and instantiate).
"""
from .engine import Engine

__all__ = ["Engine"]

"""Lowerings of the IR: python/ (Python source) and llvm/ (native code through llvmlite)."""

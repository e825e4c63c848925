"""The validator: ``validate(module)`` checks a decoded ``syntax.Module`` against the
WebAssembly 2.0 validation rules and returns a ``ModuleInfo`` that later stages reuse."""
from .info import BlockInfo, FuncInfo, ModuleInfo
from .module import validate

__all__ = ["validate", "ModuleInfo", "FuncInfo", "BlockInfo"]

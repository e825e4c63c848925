"""The Python lowering: a module becomes Python source that imports only fayasm.runtime."""
from .module import translate

__all__ = ["translate"]

"""The binary format: decode bytes into a syntax Module, and encode one back."""
from .decode import decode
from .encode import encode

__all__ = ["decode", "encode"]

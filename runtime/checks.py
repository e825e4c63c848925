"""Checks of arguments given from Python: a bad one raises ArgumentTypeError (wrong type)
or ArgumentError (out of range), both fayasm Errors (and TypeError/ValueError)."""
from __future__ import annotations

import math

from .errors import ArgumentError, ArgumentTypeError


def whole(value: object, what: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` if it is an int (not a bool) within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError(f"{what} must be a whole number, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ArgumentError(f"{what} must be {minimum} or more, got {value}")
    if maximum is not None and value > maximum:
        raise ArgumentError(f"{what} must be {maximum} or less, got {value}")
    return value


def seconds(value: object, what: str) -> float:
    """``value`` if it is a number of seconds >= 0 (not NaN; infinity means never)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentTypeError(f"{what} must be a number of seconds, got {type(value).__name__}")
    if math.isnan(value) or value < 0:
        raise ArgumentError(f"{what} must be 0 seconds or more, got {value}")
    return float(value)


__all__ = ["whole", "seconds"]

"""Canonical type ids: the numbers call_indirect compares, one per function type, the
same for every instance in the process."""
from __future__ import annotations

import threading

from fayasm.runtime.types import FuncType

from . import types as T

_TYPE_IDS: dict[FuncType, int] = {}
_LOCK = threading.Lock()  # threads could race to intern the same type


def typeid(ft: FuncType) -> int:
    """The canonical type id call_indirect compares (types.encoded_typeid, else an
    interned number)."""
    tid = _TYPE_IDS.get(ft)
    if tid is None:
        with _LOCK:
            tid = _TYPE_IDS.get(ft)
            if tid is None:
                tid = T.encoded_typeid(ft)
                if tid is None:
                    tid = T.INTERNED | len(_TYPE_IDS)
                _TYPE_IDS[ft] = tid
    return tid


__all__ = ["typeid"]

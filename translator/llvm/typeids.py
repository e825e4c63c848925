"""Canonical type ids: the numbers call_indirect compares, one per function type, the
same for every instance in the process."""
from __future__ import annotations

import threading

from fayasm.runtime.types import DefType, FuncType, close_types

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


_DEF_IDS: dict[DefType, int] = {}
DECLARED = 1 << 61  # set in the id of a DefType that is more than its FuncType


def deftype_id(d: DefType) -> int:
    """The type id of a function's declared DefType (a module with rec groups or declared
    subtyping): its FuncType's when it is just that (final, no supertypes, alone in its
    group), so other modules' call_indirect still match it; else an interned number that
    matches only itself (the slow path then checks declared subtyping)."""
    tid = _DEF_IDS.get(d)
    if tid is None:
        ft = d.expand()
        if close_types([ft])[0] is d:
            tid = typeid(ft)
        else:
            with _LOCK:
                tid = _DEF_IDS.get(d)
                if tid is None:
                    tid = T.INTERNED | DECLARED | len(_DEF_IDS)
        _DEF_IDS[d] = tid
    return tid


__all__ = ["typeid", "deftype_id", "DECLARED"]

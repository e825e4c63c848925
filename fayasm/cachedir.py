"""Where fayasm keeps its caches: FAYASM_CACHE_DIR, else the user cache directory
($XDG_CACHE_HOME or ~/.cache, then "fayasm"); FAYASM_CACHE=0 turns every cache off."""
from __future__ import annotations

import os


def cache_dir(sub: str) -> str | None:
    """The folder of the cache named ``sub``, or None when caching is off."""
    if os.environ.get("FAYASM_CACHE", "1") == "0":
        return None
    d = os.environ.get("FAYASM_CACHE_DIR")
    if not d:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        d = os.path.join(base, "fayasm")
    return os.path.join(d, sub)

"""The disk cache of compiled objects.

An entry is keyed by the module's hash, the llvmlite and LLVM versions, the host CPU (name
and features, since code is compiled for them), the cache format and the compile options.
Each file starts with a magic line and the SHA-256 of its payload; an entry that fails
that check (truncated, corrupted) is ignored, removed and rebuilt, so a broken cache can
never reach LLVM. Location: FAYASM_CACHE_DIR, else the user cache directory (the python
engine's convention), in a "jit" subfolder; FAYASM_CACHE=0 turns caching off.
"""
from __future__ import annotations

import hashlib
import os

from fayasm import cachedir
from fayasm.runtime import limits

FORMAT = "3"  # bump when the generated code or the glue protocol changes
_MAGIC = b"FAYASM-JIT\n"


def cache_dir() -> str | None:
    """Where compiled objects are cached (fayasm.cachedir); None when caching is off."""
    return cachedir.cache_dir("jit")


def _code_digest() -> str:
    """A digest of the lowering's own source, so any change to the code generator gives
    new keys (FORMAT alone would rely on remembering to bump it)."""
    h = hashlib.sha256()
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        for name in sorted(os.listdir(here)):
            if name.endswith(".py"):
                with open(os.path.join(here, name), "rb") as f:
                    h.update(name.encode() + b"\0" + f.read())
        # The limits the generated code compiles in (depth, frame units).
        with open(limits.__file__, "rb") as f:
            h.update(b"limits\0" + f.read())
    except OSError:
        pass
    return h.hexdigest()[:16]


_DIGEST = _code_digest()


def key(parts: list[str]) -> str:
    h = hashlib.sha256("\x00".join([FORMAT, _DIGEST] + parts).encode())
    return h.hexdigest()[:40]


def path_for(k: str) -> str | None:
    d = cache_dir()
    return os.path.join(d, k + ".o") if d else None


def load(k: str) -> bytes | None:
    """The payload cached under ``k``, or None (missing, unreadable or corrupted)."""
    path = path_for(k)
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    head = len(_MAGIC) + 32
    if data[:len(_MAGIC)] == _MAGIC and len(data) > head:
        payload = data[head:]
        if hashlib.sha256(payload).digest() == data[len(_MAGIC):head]:
            return payload
    try:
        os.remove(path)  # corrupted: rebuilt by the caller
    except OSError:
        pass
    return None


def store(k: str, payload: bytes) -> None:
    """Cache ``payload`` under ``k`` (best effort, atomic)."""
    path = path_for(k)
    if not path:
        return
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
    except OSError:
        pass


def remove(k: str) -> None:
    """Drop the entry ``k`` (it loaded but could not be used)."""
    path = path_for(k)
    if path:
        try:
            os.remove(path)
        except OSError:
            pass

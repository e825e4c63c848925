"""The memo of binaries this front end has already decoded and validated.

Decoding and validating every function body is most of the time a big module takes to
reach its first call once an engine has its compiled code cached (a 300 KB module: about
0.2 s of 0.3 s). A binary recorded here is known valid, so Module() decodes its function
bodies on first use and validates only when something asks for Module.info; the engines'
warm paths ask for neither. An entry is keyed by the SHA-256 of the binary and a digest of
the front end's own source, so a changed decoder or validator never trusts an old verdict.
Whoever can write this folder can also write the jit's cached native code, so the memo
adds no trust that the caches did not already need. Only binaries of at least MIN_SIZE
bytes are recorded: below that, validating costs less than a file lookup saves.
"""
from __future__ import annotations

import hashlib
import os

from fayasm.cachedir import cache_dir

MIN_SIZE = 32 * 1024
_FRONT_END = ("binary", "validate", "isa")
_FILES = ("syntax.py", "validcache.py", "errors.py")
_digest: list[str] = []


def _front_end_digest() -> str:
    """A digest of the decoder's, validator's and instruction table's source."""
    if not _digest:
        here = os.path.dirname(os.path.abspath(__file__))
        h = hashlib.sha256()
        paths = [os.path.join(here, f) for f in _FILES]
        for d in _FRONT_END:
            folder = os.path.join(here, d)
            try:
                paths += [os.path.join(folder, f) for f in sorted(os.listdir(folder))
                          if f.endswith(".py")]
            except OSError:
                pass
        for p in paths:
            try:
                with open(p, "rb") as f:
                    h.update(p[len(here):].encode() + b"\0" + f.read())
            except OSError:
                h.update(b"?")
        _digest.append(h.hexdigest())
    return _digest[0]


def _entry(binary_hash: str) -> tuple[str | None, bytes]:
    """(path of the entry, the content it must hold) for a binary's SHA-256."""
    d = cache_dir("valid")
    key = hashlib.sha256(f"{_front_end_digest()}\0{binary_hash}".encode()).hexdigest()
    return (os.path.join(d, key[:40]) if d else None), key.encode()


def known_valid(binary_hash: str) -> bool:
    """Whether the binary with this SHA-256 was validated before by this front end."""
    path, content = _entry(binary_hash)
    if path is None:
        return False
    try:
        with open(path, "rb") as f:
            return f.read() == content
    except OSError:
        return False


def remember(binary_hash: str) -> None:
    """Record that the binary with this SHA-256 is valid (best effort, atomic)."""
    path, content = _entry(binary_hash)
    if path is None:
        return
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(content)
        os.replace(tmp, path)
    except OSError:
        pass

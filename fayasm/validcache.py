"""The memo of binaries this front end has already decoded and validated.

Decoding and validating every function body is most of the time a big module takes to
reach its first call once an engine has its compiled code cached (a 300 KB module: about
0.2 s of 0.3 s). A binary recorded here is known valid, so Module() decodes its function
bodies on first use and validates only when something asks for Module.info; the engines'
warm paths ask for neither. An entry is keyed by the SHA-256 of the binary and a digest of
the source of every module the verdict depends on (the decoder, the validator and all the
fayasm modules they import, runtime/types.py included), so a change to any of them never
trusts an old verdict.
Whoever can write this folder can also write the jit's cached native code, so the memo
adds no trust that the caches did not already need. Only binaries of at least MIN_SIZE
bytes are recorded: below that, validating costs less than a file lookup saves.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import sys

from fayasm import features
from fayasm.cachedir import cache_dir

MIN_SIZE = 32 * 1024
# Where the verdict comes from: the decoder, the validator, the code that decides to
# validate, and this memo's own key. Everything in fayasm they import, directly or
# inside functions, is found by reading their imports (front_end_sources).
ROOTS = ("fayasm.binary.decode", "fayasm.validate", "fayasm.module", "fayasm.validcache")
_digest: list[str] = []


@functools.lru_cache(maxsize=None)
def _origin(name: str) -> str | None:
    """The source file of fayasm module ``name`` (None if it names no module, e.g. a
    class), found without importing it: only ``fayasm.X`` goes through the import
    system (which knows where fayasm.runtime lives), deeper names through the folders."""
    parts = name.split(".")
    if parts[0] != "fayasm":
        return None
    loaded = sys.modules.get(name)
    if loaded is not None:  # already imported: it says where it came from
        path = getattr(loaded, "__file__", None)
        return path if isinstance(path, str) and path.endswith(".py") else None
    try:
        spec = importlib.util.find_spec(".".join(parts[:2]))
    except (ImportError, ValueError, AttributeError):
        return None
    path = spec.origin if spec is not None else None
    for part in parts[2:]:
        if path is None or os.path.basename(path) != "__init__.py":
            return None  # an attribute of a module, not a submodule
        folder = os.path.dirname(path)
        package = os.path.join(folder, part, "__init__.py")
        module = os.path.join(folder, part + ".py")
        path = package if os.path.isfile(package) else module if os.path.isfile(module) else None
    return path if path is not None and path.endswith(".py") else None


# An import statement at the start of a line, at any indentation (so imports inside
# functions count): "from X import A, B" (parenthesised over lines, too) or "import X".
# Reading the text is 50 times faster than parsing it; tests check that it finds what
# the ast finds in every module of the front end.
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([.\w]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)"
                     r"|import[ \t]+([^\n#;]*))", re.M)


def _names(text: str) -> list[str]:
    """The names of an import list ("a as b, c", "(a,\n b)")."""
    return [n.split()[0] for n in text.strip("()\\ \t\n").replace("\n", " ").split(",")
            if n.strip()]


def imported_modules(name: str, path: str, source: str) -> list[str]:
    """The fayasm modules that module ``name`` (source ``path``) imports anywhere in it:
    for "from P import N", P.N where that is a module, else P."""
    package = name if os.path.basename(path) == "__init__.py" else name.rpartition(".")[0]
    out = []
    for m in _IMPORT.finditer(source):
        base, names, plain = m.groups()
        if plain is not None:
            out += _names(plain)
            continue
        level = len(base) - len(base.lstrip("."))
        base = base[level:]
        if level:
            parts = package.split(".")
            parent = ".".join(parts[:len(parts) - level + 1])
            base = f"{parent}.{base}" if base else parent
        where = _origin(base)
        if where is None or os.path.basename(where) != "__init__.py":
            out.append(base)  # a plain module: what it gives are its attributes
            continue
        for n in _names(names):
            sub = f"{base}.{n}"
            out.append(sub if _origin(sub) else base)
    return [m for m in out if m == "fayasm" or m.startswith("fayasm.")]


def front_end_sources() -> list[str]:
    """The source files of ROOTS and of every fayasm module they import, transitively
    (runtime/types.py among them: page limits and value type codes), sorted."""
    seen: dict[str, str] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _origin(name)
        if path is None:
            continue
        seen[name] = path
        data = _read(path)
        if data is not None:
            todo += imported_modules(name, path, data.decode("utf-8", "replace"))
    return sorted(set(seen.values()))


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _front_end_digest() -> str:
    """A digest of the source of everything the verdict depends on (front_end_sources)."""
    if not _digest:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        h = hashlib.sha256()
        for p in front_end_sources():
            data = _read(p)
            h.update(os.path.relpath(p, root).encode() + b"\0")
            h.update(b"?" if data is None else hashlib.sha256(data).digest())
        _digest.append(h.hexdigest())
    return _digest[0]


def _entry(binary_hash: str) -> tuple[str | None, bytes]:
    """(path of the entry, the content it must hold) for a binary's SHA-256."""
    d = cache_dir("valid")
    wanted = features.current().key  # a verdict holds for one feature set
    key = hashlib.sha256(f"{_front_end_digest()}\0{wanted}\0{binary_hash}".encode()).hexdigest()
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

"""fayasm.validcache: a binary validated once decodes its bodies lazily and skips
validation the next time; nothing invalid, small or from another front end is trusted."""
from __future__ import annotations

import os

import pytest

import fayasm
from fayasm import validcache
from fayasm.binary.decode import LazyFunction


def _big_wat(n: int = 400, broken: bool = False) -> str:
    funcs = []
    for i in range(n):
        funcs.append(f"""(func $f{i} (export "f{i}") (param i32) (result i32) (local i64)
      (local.set 1 (i64.extend_i32_s (local.get 0)))
      (i32.store (i32.const {4 * (i % 16)}) (i32.add (local.get 0) (i32.const {i})))
      (i32.add (i32.wrap_i64 (i64.mul (local.get 1) (i64.const {i + 3})))
               (i32.load (i32.const {4 * (i % 16)}))))""")
    if broken:  # a type error in the last function only
        funcs.append("(func $bad (result i32) (i64.const 1))")
    # A data segment takes the binary past validcache.MIN_SIZE.
    data = "(data (i32.const 1024) \"" + "fayasm" * 4096 + "\")"
    return "(module (memory (export \"mem\") 1)\n" + "\n".join(funcs) + data + ")"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FAYASM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("FAYASM_CACHE", raising=False)
    return tmp_path


@pytest.fixture(scope="module")
def big() -> bytes:
    binary = fayasm.Module(_big_wat()).binary
    assert len(binary) >= validcache.MIN_SIZE
    return binary


def _is_lazy(m: fayasm.Module) -> bool:
    return all(isinstance(f, LazyFunction) for f in m.syntax.funcs)


def test_second_load_of_a_valid_binary_is_lazy_and_the_same_module(cache, big):
    first = fayasm.Module(big)
    assert not _is_lazy(first) and first._info is not None
    assert len(os.listdir(cache / "valid")) == 1
    second = fayasm.Module(big)
    assert _is_lazy(second) and second._info is None
    assert second.syntax == first.syntax  # decodes every body on the way
    assert second.info.funcs == first.info.funcs
    assert second.hash == first.hash


@pytest.mark.parametrize("engine", ["interpreter", "python", "jit"])
def test_lazy_module_runs_like_an_eager_one(cache, big, engine):
    eager = fayasm.instantiate(fayasm.Module(big), engine=engine)
    lazy_module = fayasm.Module(big)
    assert _is_lazy(lazy_module)
    lazy = fayasm.instantiate(lazy_module, engine=engine)
    for name in ("f0", "f7", "f399"):
        for arg in (0, 5, -9):
            assert lazy.exports[name](arg) == eager.exports[name](arg)
    assert bytes(lazy.exports.mem.buffer[:64]) == bytes(eager.exports.mem.buffer[:64])


def test_jit_warm_path_neither_validates_nor_decodes_bodies(cache, big):
    """What makes a cached big module fast to reach its first call: nothing between the
    bytes and the cached native code touches a function body."""
    fayasm.instantiate(fayasm.Module(big), engine="jit").exports.f1(1)  # fills the caches
    m = fayasm.Module(big)
    assert fayasm.instantiate(m, engine="jit").exports.f1(2) == 2 * 4 + (2 + 1)
    assert m._info is None
    assert not any(f._decoded for f in m.syntax.funcs)


def test_invalid_binary_is_never_recorded(cache):
    from fayasm.binary import encode
    from fayasm.text import parse_module

    binary = encode(parse_module(_big_wat(broken=True)))
    assert len(binary) >= validcache.MIN_SIZE
    for _ in range(2):
        with pytest.raises(fayasm.ValidationError, match="type mismatch"):
            fayasm.Module(binary)
    assert not (cache / "valid").exists()


def test_small_binaries_are_not_recorded(cache):
    m = fayasm.Module(fayasm.Module("(module (func (export \"f\")))").binary)
    assert m._info is not None
    assert not (cache / "valid").exists()


def test_cache_off_trusts_nothing(cache, big, monkeypatch):
    fayasm.Module(big)
    monkeypatch.setenv("FAYASM_CACHE", "0")
    assert not _is_lazy(fayasm.Module(big))


def test_entry_from_another_front_end_is_not_trusted(cache, big):
    """An entry whose content is not this front end's key (another fayasm version,
    a truncated write) is ignored and rewritten."""
    fayasm.Module(big)
    (entry,) = (cache / "valid").iterdir()
    entry.write_bytes(b"0" * 64)
    assert not _is_lazy(fayasm.Module(big))
    assert _is_lazy(fayasm.Module(big))


# -- the key: every source the verdict depends on -------------------------------------------

def _fresh_key(monkeypatch) -> str:
    monkeypatch.setattr(validcache, "_digest", [])
    return validcache._entry("ab" * 32)[1].decode()


def test_regression_key_changes_when_runtime_types_changes(cache, monkeypatch):
    """Validation reads page limits and value type codes from runtime/types.py: an edit
    there must not keep trusting verdicts given before it (issue 14)."""
    import io

    from fayasm.runtime import types

    before = _fresh_key(monkeypatch)
    real_open = open
    target = os.path.realpath(types.__file__)

    def edited_open(path, mode="r", *args, **kwargs):
        if os.path.realpath(path) == target:
            data = real_open(path, "rb").read() + b"\nMAX_PAGES = 1\n"
            return io.BytesIO(data) if "b" in mode else io.StringIO(data.decode())
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(validcache, "open", edited_open, raising=False)
    assert _fresh_key(monkeypatch) != before
    monkeypatch.undo()
    monkeypatch.setenv("FAYASM_CACHE_DIR", str(cache))
    assert _fresh_key(monkeypatch) == before


def test_sources_are_what_the_decoder_and_validator_import():
    import fayasm.runtime.limits as limits
    import fayasm.runtime.types as types
    from fayasm.isa import core
    from fayasm.validate import code

    got = {os.path.realpath(p) for p in validcache.front_end_sources()}
    for m in (types, limits, core, code, validcache):
        assert os.path.realpath(m.__file__) in got, m.__name__
    # No engine: a change to an engine says nothing about what is valid.
    assert not any(os.sep + d + os.sep in p for p in got
                   for d in ("interpreter", "translator", "llvm"))


def test_import_scan_finds_what_the_ast_finds():
    """front_end_sources reads imports with a regular expression (fast); for every module
    it reaches, that finds the same fayasm imports as parsing the module would."""
    import ast

    from fayasm import validcache as vc

    names = {}
    for name in vc.ROOTS:
        names[name] = vc._origin(name)
    todo = list(names)
    while todo:
        name = todo.pop()
        path = names[name]
        source = open(path, encoding="utf-8").read()
        by_text = set(vc.imported_modules(name, path, source))
        by_ast = set()
        package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                by_ast |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parent = ".".join(parts[:len(parts) - node.level + 1])
                    base = f"{parent}.{base}" if base else parent
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    by_ast.add(sub if vc._origin(sub) else base)
        by_ast = {m for m in by_ast if m == "fayasm" or m.startswith("fayasm.")}
        assert by_text == by_ast, name
        for m in by_text:
            if m not in names and vc._origin(m):
                names[m] = vc._origin(m)
                todo.append(m)
    assert {os.path.realpath(p) for p in names.values()} == \
        {os.path.realpath(p) for p in vc.front_end_sources()}

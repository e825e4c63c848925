"""The rules of the house (docs: DESIGN.md, "Rules of the house"), checked on the source.

Every module of the distribution is read as source and its imports collected from the AST,
imports inside functions included (``importlib.import_module("...")`` and ``__import__``
with a literal name count too): fayasm/ as ``fayasm``, translator/ as
``fayasm.translator``, runtime/ as ``fayasm.runtime``. The rules:

- runtime: a module of ``fayasm.runtime`` imports only ``fayasm.runtime`` and the
  standard library.
- generated Python: the source ``fayasm.translate`` produces imports only
  ``fayasm.runtime`` and the standard library.
- front end: imports no engine. An engine is ``fayasm.interpreter``,
  ``fayasm.translator`` (and everything under them) or llvmlite. The front end is every
  module of ``fayasm`` except these, which exist to drive engines:
    ``fayasm.interpreter.*``  an engine itself;
    ``fayasm.testing.*``      the differential-testing harness (runs engines by design);
    ``fayasm.cli``, ``fayasm.cli_args``, ``fayasm.cli_diff``, ``fayasm.__main__``  the CLI;
    ``fayasm.engines``        the registry, which names engines by string and imports them
                              on demand (it is the one place that may).
  So ``fayasm`` itself (the public API), the decoder, validator, text format, IR, isa,
  linking, wast runner, WASI helpers and caches are front end.
- engines: an engine imports no other engine (they meet only through runtime objects).
- no import cycles between modules: every import is an edge (one inside a function too);
  only imports under ``if TYPE_CHECKING:`` are not, since they never run. Importing
  ``a.b`` is an edge to ``a.b`` only, not to its parent package.

A failure names the importing file and line, what it imports and the rule it breaks.
"""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"fayasm": ROOT / "fayasm", "fayasm.translator": ROOT / "translator",
           "fayasm.runtime": ROOT / "runtime"}
ENGINES = ("fayasm.interpreter", "fayasm.translator", "llvmlite")
NOT_FRONT_END = ("fayasm.interpreter", "fayasm.testing", "fayasm.cli", "fayasm.cli_args",
                 "fayasm.cli_diff", "fayasm.__main__", "fayasm.engines")
# Each engine's own code (the jit's includes llvmlite): "another engine" is the rest of ENGINES.
ENGINE_OWN = {"fayasm.interpreter": ("fayasm.interpreter",),
              "fayasm.translator.python": ("fayasm.translator.python",),
              "fayasm.translator.llvm": ("fayasm.translator.llvm", "llvmlite")}
STDLIB = frozenset(sys.stdlib_module_names)


def within(name: str, prefixes) -> bool:
    """Whether dotted ``name`` is one of ``prefixes`` or inside one."""
    if isinstance(prefixes, str):
        prefixes = (prefixes,)
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    target: str  # dotted name imported (a module, or a package's attribute's package)
    path: Path
    line: int
    where: str  # "top level", "in a function", "under TYPE_CHECKING", "dynamic"

    def __str__(self) -> str:
        return f"{_shown(self.path)}:{self.line} ({self.importer}) imports {self.target} " \
               f"[{self.where}]"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def discover(sources: dict[str, Path]) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's __init__) for every .py file."""
    mods = {}
    for prefix, top in sources.items():
        for path in sorted(top.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(top).with_suffix("").parts)
            package = parts[-1] == "__init__"
            if package:
                parts.pop()
            mods[".".join([prefix, *parts])] = (path, package)
    return mods


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _dynamic_name(node: ast.Call) -> str | None:
    """The literal module name of ``importlib.import_module("x")`` / ``__import__("x")``."""
    f = node.func
    named = (isinstance(f, ast.Name) and f.id in ("__import__", "import_module")) or (
        isinstance(f, ast.Attribute) and f.attr == "import_module")
    if named and node.args and isinstance(node.args[0], ast.Constant) \
            and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def imports_of(name: str, path: Path, package: bool, mods, source: str | None = None):
    """Every import in module ``name`` (file ``path``), resolved to dotted names."""
    tree = ast.parse(source if source is not None else path.read_text(), str(path))
    found: list[Import] = []

    def resolve_from(node: ast.ImportFrom) -> list[str]:
        if node.level:
            base = name.split(".") if package else name.split(".")[:-1]
            if node.level > 1:
                base = base[:-(node.level - 1)]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        out = []
        for alias in node.names:
            sub = f"{module}.{alias.name}"
            out.append(sub if sub in mods else module)
        return out

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            here = where
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) \
                    and where == "top level":
                here = "in a function"
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit_one(stmt, "under TYPE_CHECKING")
                for stmt in child.orelse:
                    visit_one(stmt, here)
                continue
            visit_one(child, here)

    def visit_one(child: ast.AST, where: str) -> None:
        if isinstance(child, ast.Import):
            for alias in child.names:
                found.append(Import(name, alias.name, path, child.lineno, where))
        elif isinstance(child, ast.ImportFrom):
            for target in dict.fromkeys(resolve_from(child)):
                found.append(Import(name, target, path, child.lineno, where))
        elif isinstance(child, ast.Call) and _dynamic_name(child):
            found.append(Import(name, _dynamic_name(child), path, child.lineno, "dynamic"))
        visit(child, where)

    visit(tree, "top level")
    return found


def module_of(target: str, mods) -> str | None:
    """The module of ours that importing ``target`` runs (its nearest known prefix)."""
    while target:
        if target in mods:
            return target
        target = target.rpartition(".")[0]
    return None


def all_imports(mods) -> list[Import]:
    out = []
    for name, (path, package) in mods.items():
        out += imports_of(name, path, package, mods)
    return out


# -- the rules ------------------------------------------------------------------------------
def runtime_violations(imports) -> list[str]:
    return [f"{i}: runtime imports only fayasm.runtime and the standard library"
            for i in imports if within(i.importer, "fayasm.runtime")
            and not within(i.target, "fayasm.runtime")
            and i.target.split(".")[0] not in STDLIB]


def front_end_violations(imports) -> list[str]:
    return [f"{i}: the front end imports no engine (engines are found by name through "
            f"fayasm.engines)"
            for i in imports if within(i.importer, "fayasm")
            and not within(i.importer, ("fayasm.translator", "fayasm.runtime"))
            and not within(i.importer, NOT_FRONT_END) and within(i.target, ENGINES)]


def engine_violations(imports) -> list[str]:
    out = []
    for i in imports:
        for engine, own in ENGINE_OWN.items():
            # The translator package's own __init__ is no engine (both translators are in it).
            if within(i.importer, engine) and within(i.target, ENGINES) \
                    and not within(i.target, own) and i.target != "fayasm.translator":
                out.append(f"{i}: an engine imports no other engine ({engine} is one)")
    return out


def generated_violations(source: str, label: str) -> list[str]:
    mods = {}
    found = imports_of("generated", Path(label), False, mods, source=source)
    return [f"{i}: generated Python imports only fayasm.runtime and the standard library"
            for i in found if not within(i.target, "fayasm.runtime")
            and i.target.split(".")[0] not in STDLIB]


def cycles(imports, mods) -> list[list[Import]]:
    """Each import cycle between our modules, as the imports that close it (one cycle per
    strongly connected component, the shortest through its first module)."""
    graph: dict[str, dict[str, Import]] = {m: {} for m in mods}
    for i in imports:
        if i.where == "under TYPE_CHECKING":
            continue
        t = module_of(i.target, mods)
        if t is not None and t != i.importer and i.importer in graph:
            graph[i.importer].setdefault(t, i)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    comps: list[list[str]] = []
    counter = [0]

    def strong(root: str) -> None:  # Tarjan's algorithm, iteratively
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(graph[w])))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        comps.append(sorted(comp))

    for m in graph:
        if m not in index:
            strong(m)
    out = []
    for comp in comps:
        members = set(comp)
        start = comp[0]
        # Shortest path back to start inside the component (breadth first).
        prev: dict[str, tuple[str, Import]] = {}
        frontier, seen, closing = [start], {start}, None
        while frontier and closing is None:
            nxt = []
            for v in frontier:
                for w, imp in graph[v].items():
                    if w not in members:
                        continue
                    if w == start:
                        closing = (v, imp)
                        break
                    if w not in seen:
                        seen.add(w)
                        prev[w] = (v, imp)
                        nxt.append(w)
                if closing:
                    break
            frontier = nxt
        path = [closing[1]]
        v = closing[0]
        while v != start:
            v, imp = prev[v]
            path.append(imp)
        out.append(path[::-1])
    return out


def cycle_report(found) -> list[str]:
    return ["import cycle:\n    " + "\n    ".join(map(str, c)) for c in found]


_MODS = discover(SOURCES)
_IMPORTS = all_imports(_MODS)


# -- the tests ---------------------------------------------------------------------------
def test_the_walk_sees_every_package():
    assert "fayasm.runtime.func" in _MODS and "fayasm.translator.llvm.engine" in _MODS
    assert "fayasm.interpreter" in _MODS and _MODS["fayasm.interpreter"][1]
    assert len(_IMPORTS) > 500


def test_runtime_imports_only_runtime_and_the_standard_library():
    bad = runtime_violations(_IMPORTS)
    assert not bad, "\n".join(bad)


def test_the_front_end_imports_no_engine():
    bad = front_end_violations(_IMPORTS)
    assert not bad, "\n".join(bad)


def test_engines_import_no_other_engine():
    bad = engine_violations(_IMPORTS)
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    bad = cycle_report(cycles(_IMPORTS, _MODS))
    assert not bad, "\n".join(bad)


_GENERATED = {
    "numeric": """(module (func (export "f") (param i32 f32) (result f64)
        (f64.promote_f32 (f32.add (local.get 1) (f32.convert_i32_s (local.get 0))))))""",
    "memory, tables, globals": """(module
        (import "env" "h" (func $h (param i32)))
        (memory (export "m") 1) (table 2 funcref) (global $g (mut i64) (i64.const 1))
        (elem (i32.const 0) $f) (data (i32.const 8) "hi")
        (type $t (func (param i32) (result i32)))
        (func $f (type $t) (i32.load (local.get 0)))
        (func (export "g") (param i32) (result i32)
          (call $h (local.get 0)) (global.set $g (i64.const 2))
          (memory.fill (i32.const 0) (i32.const 1) (i32.const 4))
          (call_indirect (type $t) (local.get 0) (i32.const 0))))""",
    "v128": """(module (func (export "v") (param v128) (result v128)
        (i32x4.add (local.get 0) (local.get 0))))""",
    "wasi": """(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
        (memory (export "memory") 1) (func (export "_start") (call 0 (i32.const 0))))""",
}


@pytest.mark.parametrize("metered", [False, True], ids=["plain", "metered"])
@pytest.mark.parametrize("label", list(_GENERATED))
def test_generated_python_imports_only_the_runtime(label, metered):
    import fayasm

    source = fayasm.translate(fayasm.Module(_GENERATED[label]), metered=metered)
    bad = generated_violations(source, f"<generated: {label}>")
    assert not bad, "\n".join(bad)


# -- the checks themselves can fail --------------------------------------------------------------
def _fake(tmp_path: Path, files: dict[str, str]) -> tuple[dict, list]:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    sources = {"fayasm": tmp_path / "fayasm", "fayasm.runtime": tmp_path / "runtime",
               "fayasm.translator": tmp_path / "translator"}
    for top in sources.values():
        top.mkdir(exist_ok=True)
    mods = discover(sources)
    return mods, all_imports(mods)


def test_the_checks_find_what_they_look_for(tmp_path):
    mods, imports = _fake(tmp_path, {
        "fayasm/__init__.py": "",
        "fayasm/a.py": "def f():\n    from . import b\n",
        "fayasm/b.py": "from fayasm.a import f\n",
        "fayasm/front.py": "import importlib\n"
                           "def g():\n    importlib.import_module('fayasm.translator.llvm')\n",
        "fayasm/typed.py": "from typing import TYPE_CHECKING\n"
                           "if TYPE_CHECKING:\n    from fayasm import untyped\n",
        "fayasm/untyped.py": "from . import typed\n",
        "fayasm/interpreter/__init__.py": "from ..translator.python import x\n",
        "runtime/__init__.py": "",
        "runtime/r.py": "import json\nfrom fayasm.module import Module\n",
        "translator/__init__.py": "",
        "translator/python/__init__.py": "",
        "translator/python/x.py": "",
    })
    rt = runtime_violations(imports)
    assert len(rt) == 1 and "runtime/r.py:2" in rt[0] and "fayasm.module" in rt[0]
    fe = front_end_violations(imports)
    assert len(fe) == 1 and "fayasm/front.py:3" in fe[0] and "[dynamic]" in fe[0]
    found = cycles(imports, mods)
    assert len(found) == 1, cycle_report(found)
    report = cycle_report(found)[0]
    assert "fayasm/a.py:2" in report and "[in a function]" in report and "fayasm/b.py:1" in report
    en = engine_violations(imports)
    assert len(en) == 1 and "fayasm/interpreter/__init__.py:1" in en[0]
    src = "import os\nfrom fayasm.runtime import support\nfrom fayasm import interpreter\n"
    gen = generated_violations(src, "<g>")
    assert len(gen) == 1 and "<g>:3" in gen[0]

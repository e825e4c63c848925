"""The rules of the house (docs/architecture.md, "The rules"), checked on the source.

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

Trap messages come only from fayasm/runtime/errors.py (``TRAP_MESSAGES``): no other module
of an engine or of the runtime has a string constant containing one (docstrings aside).
"unreachable" is also the instruction's name and LLVM's terminator, so for it only its use
as a message counts: an argument of a call to ``Trap``/``trap``, or generated source that
makes such a call.

Private names stay in their package: no module uses an underscore name (``obj._x``,
``getattr(obj, "_x")``, ``from m import _x``) that another Python package defines and its
own does not (generated code counts as a package of its own). Engines use runtime objects
through the hooks fayasm/runtime/hooks.py documents. The AST cannot tell types, so this is
an approximation: a name is a package's if the package defines it (def, class, variable,
``self._x = ``, ``__slots__``), or, failing any definition, assigns it on an object
(``inst._x = ``); a name two packages both define is not caught. UNDERSCORE_ALLOWED lists
exceptions, each with its reason (none today).

A failure names the file and line, what it imports or uses and the rule it breaks.
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


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) \
                and node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(node.body[0].value, ast.Constant):
            out.add(id(node.body[0].value))
    return out


def _is_trap_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
    return name in ("Trap", "trap")


def trap_message_violations(mods, messages) -> list[str]:
    """String constants spelling out a trap message in the engines and the runtime."""
    out = []
    for name, (path, _) in mods.items():
        if not within(name, ENGINES[:2] + ("fayasm.runtime",)) or name == "fayasm.runtime.errors":
            continue
        tree = ast.parse(path.read_text(), str(path))
        docs = _docstrings(tree)
        in_trap_call = {id(a) for n in ast.walk(tree) if _is_trap_call(n) for arg in n.args
                        for a in ast.walk(arg)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str) \
                    or id(node) in docs:
                continue
            text = node.value
            for m in messages:
                if m == "unreachable":
                    hit = (text == m and id(node) in in_trap_call) or any(
                        f"{call}({q}{m}{q})" in text for call in ("trap", "Trap") for q in "\"'")
                else:
                    hit = m in text
                if hit:
                    out.append(f"{_shown(path)}:{node.lineno} ({name}) spells out the trap "
                               f"message {m!r}: take it from fayasm.runtime.errors")
    return out


def package_of(module: str, mods=None) -> str:
    """The Python package ``module`` is in (a package's __init__ is in itself), for the
    underscore rule; translated source is "generated", a module not ours its own name."""
    if module.startswith("<generated"):
        return "generated"
    mods = _MODS if mods is None else mods
    known = module_of(module, mods)
    if known is None:
        return module
    return known if mods[known][1] else known.rpartition(".")[0]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_definitions(trees, mods=None) -> dict[str, set[str]]:
    """Underscore name -> the packages that define it: as a function, class, module or
    class variable, an attribute of ``self``/``cls`` assigned, or a ``__slots__`` entry.
    A name defined none of these ways belongs to the packages that assign it as an
    attribute of some other object (``inst._x = ...``)."""
    out: dict[str, set[str]] = {}
    attached: dict[str, set[str]] = {}
    for module, tree in trees.items():
        pkg = package_of(module, mods)
        for node in ast.walk(tree):
            names = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names = [node.id]
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                    and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                names = [node.attr]
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets):
                names = [c.value for c in ast.walk(node.value)
                         if isinstance(c, ast.Constant) and isinstance(c.value, str)]
            for n in names:
                if _private(n):
                    out.setdefault(n, set()).add(pkg)
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                    and _private(node.attr):
                attached.setdefault(node.attr, set()).add(pkg)
    for n, pkgs in attached.items():
        out.setdefault(n, pkgs)
    return out


def underscore_violations(trees, allowed=frozenset(), paths=None, mods=None) -> list[str]:
    """Uses of another package's underscore names: ``obj._name``, ``getattr(obj, "_name")``
    and ``from pkg import _name``, where ``_name`` is defined in some other package and not
    in the user's own. (A name both packages define is not caught.)"""
    owners = private_definitions(trees, mods)
    out = []
    for module, tree in trees.items():
        pkg = package_of(module, mods)
        path = (SOURCE_OF if paths is None else paths).get(module, Path(module))
        for node in ast.walk(tree):
            used = []
            if isinstance(node, ast.Attribute) and _private(node.attr):
                used = [node.attr]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("getattr", "setattr", "hasattr") \
                    and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                    and isinstance(node.args[1].value, str) and _private(node.args[1].value):
                used = [node.args[1].value]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                used = [a.name for a in node.names if _private(a.name)
                        and package_of(node.module, mods) != pkg]
                for name in used:
                    if (module, name) not in allowed:
                        out.append(f"{_shown(path)}:{node.lineno} ({module}) imports {name} "
                                   f"from {node.module}: another package's private name")
                continue
            for name in used:
                theirs = owners.get(name, set())
                if theirs and pkg not in theirs and (module, name) not in allowed:
                    out.append(f"{_shown(path)}:{node.lineno} ({module}) uses .{name}, a private "
                               f"name of {', '.join(sorted(theirs))}: use its documented "
                               f"interface (fayasm/runtime/hooks.py for the engine hooks)")
    return out


_MODS = discover(SOURCES)
_IMPORTS = all_imports(_MODS)
SOURCE_OF = {m: p for m, (p, _) in _MODS.items()}
_TREES = {m: ast.parse(p.read_text(), str(p)) for m, (p, _) in _MODS.items()}
# (module, private name) pairs the underscore rule lets through, each with its reason.
UNDERSCORE_ALLOWED: dict[tuple[str, str], str] = {}


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


def test_trap_messages_come_only_from_runtime_errors():
    from fayasm.runtime.errors import SPEC_TRAP_MESSAGES, TRAP_MESSAGES

    assert set(SPEC_TRAP_MESSAGES) <= set(TRAP_MESSAGES)
    bad = trap_message_violations(_MODS, TRAP_MESSAGES)
    assert not bad, "\n".join(bad)


def test_no_package_uses_another_packages_private_names():
    bad = underscore_violations(_TREES, frozenset(UNDERSCORE_ALLOWED))
    assert not bad, "\n".join(bad)


def test_the_engine_hooks_exist_where_hooks_py_says():
    from fayasm.runtime import func, hooks, instance, table
    from fayasm.runtime import globals as globals_

    classes = {"Func": func.Func, "Table": table.Table, "Global": globals_.Global,
               "Instance": instance.Instance}
    assert set(hooks.HOOKS) == set(classes)
    inst = instance.Instance({}, "test")
    for name, attrs in hooks.HOOKS.items():
        cls = classes[name]
        for attr in attrs:
            assert hasattr(cls, attr) or (cls is instance.Instance and hasattr(inst, attr)), \
                f"hooks.py lists {name}.{attr}, which {cls.__name__} does not have"
            assert attr in hooks.__doc__, f"hooks.py's docstring does not explain {name}.{attr}"


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
    trees = dict(_TREES)
    trees[f"<generated: {label}>"] = ast.parse(source)
    bad += [b for b in underscore_violations(trees) if b.startswith("<generated")]
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


def test_the_trap_message_check_finds_spelled_out_messages(tmp_path):
    mods, _ = _fake(tmp_path, {
        "fayasm/__init__.py": "",
        "fayasm/interpreter/__init__.py": (
            '"""Traps "integer divide by zero" (a docstring: fine)."""\n'
            'def f(name, i, out):\n'
            '    if name == "unreachable":\n'          # the instruction's name: fine
            '        raise Trap(f"undefined element {i}")\n'
            '    out.add(\'raise _rt.trap("unreachable")\')\n'
            '    raise Trap("unreachable")\n'),
        "runtime/errors.py": 'MEM_OOB = "out of bounds memory access"\n',
        "runtime/memory.py": 'OOB = "out of bounds memory access"\n',
    })
    bad = trap_message_violations(mods, ["unreachable", "integer divide by zero",
                                         "undefined element", "out of bounds memory access"])
    lines = sorted(b.split(" (")[0].replace(f"{tmp_path}/", "") for b in bad)
    assert lines == ["fayasm/interpreter/__init__.py:4", "fayasm/interpreter/__init__.py:5",
                     "fayasm/interpreter/__init__.py:6", "runtime/memory.py:1"], bad


def test_the_underscore_check_finds_private_names_used_across_packages(tmp_path):
    mods, _ = _fake(tmp_path, {
        "fayasm/__init__.py": "",
        "runtime/__init__.py": "",
        "runtime/func.py": ("class Func:\n    __slots__ = ('_raw', 'raw')\n"
                            "    def _wrap(self):\n        self._seen = 1\n"
                            "        return self._raw\n"
                            "def _helper():\n    pass\n"),
        "fayasm/interpreter/__init__.py": (
            "from fayasm.runtime.func import _helper\n"
            "def run(f, inst):\n"
            "    f.raw()\n"                       # public: fine
            "    f._raw()\n"
            "    getattr(f, '_seen')\n"
            "    inst._ctx = 1\n"                 # the interpreter's own attachment: fine
            "    f._unknown()\n"),                # nobody's: not ours to judge
        "fayasm/testing/__init__.py": "def look(inst):\n    return inst._ctx\n",
    })
    trees = {m: ast.parse(p.read_text()) for m, (p, _) in mods.items()}
    paths = {m: p for m, (p, _) in mods.items()}
    bad = underscore_violations(trees, paths=paths, mods=mods)
    where = sorted(b.split(" (")[0].replace(f"{tmp_path}/", "") for b in bad)
    assert where == ["fayasm/interpreter/__init__.py:1", "fayasm/interpreter/__init__.py:4",
                     "fayasm/interpreter/__init__.py:5", "fayasm/testing/__init__.py:2"], bad
    assert not underscore_violations(trees, frozenset({("fayasm.testing", "_ctx"),
                                                       ("fayasm.interpreter", "_raw"),
                                                       ("fayasm.interpreter", "_seen"),
                                                       ("fayasm.interpreter", "_helper")}),
                                     paths=paths, mods=mods)

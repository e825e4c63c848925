"""Count the instruction facts the engines list by hand, and the lines of code per engine.

Issue 14's figure: how many tables keyed by instruction name (or by the part after the
dot, such as ``load8_s``), and how many comparisons of a name with a string literal, live
outside the instruction table. A table is a dict, set, tuple or list literal with two or
more such string keys/elements. Run before and after a change and compare:

    python scripts/count_tables.py            # summary per area
    python scripts/count_tables.py --list     # every finding, with file:line
    python scripts/count_tables.py --root ../old-checkout   # another checkout's figures
"""
from __future__ import annotations

import argparse
import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fayasm import isa

# The areas counted: the engines, the IR they share, and the helpers that re-list facts.
AREAS = {
    "interpreter": ["fayasm/interpreter"],
    "ir": ["fayasm/ir"],
    "python engine": ["translator/python"],
    "llvm engine": ["translator/llvm"],
    "runtime": ["runtime"],
    "front end": ["fayasm/linking.py", "fayasm/validate"],
    "testing": ["fayasm/testing"],
}

NAMES = {op.name for op in isa.ALL} | {op.text for op in isa.ALL}
SUFFIXES = {n.split(".", 1)[1] for n in NAMES if "." in n} - NAMES
# Suffixes that are also ordinary words in code would count every use of the word.
SUFFIXES -= {"get", "set", "size", "copy", "init", "drop", "fill", "const", "load", "store",
             "grow", "abs", "min", "max", "and", "or", "xor", "not", "all_true", "any_true"}


def _kind(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    if value in NAMES:
        return "name"
    if value in SUFFIXES:
        return "suffix"
    return None


def _strings(nodes) -> list[str]:
    return [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def scan(path: pathlib.Path) -> list[tuple[str, int, str]]:
    """Findings in one file: (kind, line, text) with kind table-name, table-suffix or compare."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        elements = None
        if isinstance(node, ast.Dict):
            elements = [k for k in node.keys if k is not None]
        elif isinstance(node, (ast.Set, ast.Tuple, ast.List)):
            elements = node.elts
        if elements is not None:
            kinds = [_kind(s) for s in _strings(elements)]
            names, suffixes = kinds.count("name"), kinds.count("suffix")
            if names >= 2 and names >= suffixes:
                found.append(("table-name", node.lineno, f"{names} names"))
            elif suffixes >= 2:
                found.append(("table-suffix", node.lineno, f"{suffixes} suffixes"))
        if isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators):
                if isinstance(op, (ast.Eq, ast.NotEq)) and _kind(
                        getattr(right, "value", None)) or (
                        isinstance(op, (ast.Eq, ast.NotEq))
                        and _kind(getattr(node.left, "value", None))):
                    found.append(("compare", node.lineno, ast.unparse(node)[:70]))
    return found


def files(root: pathlib.Path, spec: str) -> list[pathlib.Path]:
    path = root / spec
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print every finding")
    parser.add_argument("--root", type=pathlib.Path, default=ROOT,
                        help="the checkout to count (default: this one)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    totals = {"table-name": 0, "table-suffix": 0, "compare": 0}
    print(f"{'area':16} {'lines':>7} {'name tables':>12} {'suffix tables':>14} {'compares':>9}")
    for area, specs in AREAS.items():
        counts = {k: 0 for k in totals}
        lines = 0
        for spec in specs:
            for path in files(root, spec):
                lines += len(path.read_text().splitlines())
                for kind, line, text in scan(path):
                    counts[kind] += 1
                    if args.list:
                        print(f"  {path.relative_to(root)}:{line}: {kind}: {text}")
        for k in totals:
            totals[k] += counts[k]
        print(f"{area:16} {lines:7} {counts['table-name']:12} {counts['table-suffix']:14} "
              f"{counts['compare']:9}")
    print(f"{'total':16} {'':7} {totals['table-name']:12} {totals['table-suffix']:14} "
          f"{totals['compare']:9}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Deeply nested functions, for the nesting tests and scripts/bench_nesting.py.

``nested_wat(depth, cases)`` is a module whose export ``f(x)`` runs through ``depth``
levels of nesting: blocks, ifs and loops in turn, then, innermost, a switch like a
parser's ``yy_reduce`` (a br_table over ``cases`` nested blocks, each case's code after
its block's end, then a branch out). ``expected(cases, x)`` is what ``f(x)`` returns.
The text is built in time and memory linear in its size.
"""
from __future__ import annotations

SKIP = 0x7FFF_FFF0  # an argument for which every if takes its else branch


def _outer(levels: int, folded: bool) -> tuple[list[str], list[str]]:
    """Openers and closers of ``levels`` constructs (block, if, loop in turn)."""
    opens, closes = [], []
    for d in range(levels):
        kind = d % 3
        if kind == 0:
            opens.append("(block" if folded else "block")
            closes.append(")" if folded else "end")
        elif kind == 1:
            cond = f"(i32.ne (local.get 0) (i32.const {SKIP}))"
            if folded:
                opens.append(f"(if {cond} (then")
                closes.append(")(else (local.set 1 (i32.const -2))))")
            else:
                opens.append(f"{cond} if")
                closes.append("else i32.const -2 local.set 1 end")
        else:
            opens.append("(loop" if folded else "loop")
            closes.append(")" if folded else "end")
    return opens, closes


def switch_text(cases: int) -> str:
    """A br_table over ``cases`` cases (case k sets local 1 to 3k+1; the default, -1)
    and a branch out of all of them: ``cases + 2`` blocks nested, in plain syntax."""
    parts = ["block\n" * (cases + 2)]
    parts.append("local.get 0 br_table " + " ".join(map(str, range(cases + 1))) + "\n")
    for k in range(cases):
        parts.append(f"end i32.const {3 * k + 1} local.set 1 br {cases - k}\n")
    parts.append("end i32.const -1 local.set 1\nend\n")
    return "".join(parts)


def nested_wat(depth: int, cases: int = 0, folded: bool = False) -> str:
    """A module whose function ``f`` is nested ``depth`` deep (see the module docstring);
    ``folded`` writes the outer constructs in the folded syntax."""
    if cases:
        assert depth >= cases + 2, "the switch alone nests cases + 2 deep"
    opens, closes = _outer(depth - (cases + 2 if cases else 0), folded)
    inner = switch_text(cases) if cases else "i32.const 7 local.set 1\n"
    return ('(module (func (export "f") (param i32) (result i32) (local i32)\n'
            + "\n".join(opens) + "\n" + inner + "\n".join(reversed(closes))
            + "\nlocal.get 1))\n")


def expected(cases: int, x: int) -> int:
    """What ``f(x)`` of ``nested_wat(depth, cases)`` returns (x a signed i32)."""
    if x == SKIP:
        return -2
    if not cases:
        return 7
    return 3 * x + 1 if 0 <= x < cases else -1


def stacked_wat(depth: int) -> str:
    """A function that leaves a value below each of ``depth`` nested blocks, so the
    operand stack grows with the nesting: ``f(x)`` returns x + depth."""
    return ('(module (func (export "f") (param i32) (result i32)\n'
            + "i32.const 1 block (result i32)\n" * depth + "local.get 0\n"
            + "end i32.add\n" * depth + "))\n")

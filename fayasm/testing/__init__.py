"""Differential testing of fayasm's engines: a generator of valid modules, a diff that runs
one module on several engines (and on wasmtime) in lockstep, and fuzzing campaigns.

    from hypothesis import given
    from fayasm.testing.generate import modules
    from fayasm.testing.diff import diff

    @given(modules())
    def test_engines_agree(g):
        result = diff(g.module(), g.plan, wasmtime=True, metered=g.metered)
        assert result.ok, result.difference.report()

The same from the command line: ``fayasm diff FILE`` and ``fayasm fuzz``.

Modules (one job each):

- ``generate``  the hypothesis strategy ``modules()``: module layout, wrappers, plan
- ``body``      type-directed generation of function bodies (valid by construction)
- ``probes``    one-instruction exported functions, called with many telling arguments
- ``operands``  operands chosen with intent: addresses, divisors, lengths, indices
- ``shape``     what a body may use of its module; the instruction table grouped by type
- ``choose``    decisions (from hypothesis, a seeded random, or a replay), simplest first
- ``values``    boundary constants, random arguments, the plan a module carries
- ``hosts``     deterministic host functions and globals, with a call log
- ``nan``       the spec's NaN rules
- ``run``       one engine (or wasmtime) running a module step by step
- ``diff``      lockstep comparison and the report of the first difference
- ``campaign``  fuzzing: seeded modules, shrinking, the corpus, replay
- ``shrink``    simplifying the choices behind a module that shows a difference
- ``parallel``  campaigns in several processes with a watchdog for hangs
- ``mutants``   bugs to inject into an engine, each with a witness (scripts/fuzz_power.py)

Requires hypothesis (``pip install fayasm[test]``); wasmtime is used when installed.
"""

from fayasm.runtime.support import ensure_recursion_limit as _ensure_recursion_limit

# The engines raise the recursion limit on their first instantiation; raising it here,
# before any hypothesis test runs, keeps hypothesis from warning that a test changed it.
_ensure_recursion_limit()

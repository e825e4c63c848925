"""``fayasm diff`` and ``fayasm fuzz``: differential testing from the command line (the
logic is in fayasm.testing)."""
from __future__ import annotations

import argparse
import os

import fayasm
from fayasm import engines
from fayasm.cli_args import (
    UsageError,
    count,
    duration,
    integer,
    load,
    looks_like_module,
    parse_arg,
    positive,
)
from fayasm.runtime.types import ExternKind
from fayasm.runtime.wasi import command


def engine_list(values) -> list[str]:
    names = [n for v in values or [] for n in v.split(",") if n]
    known = engines.names()
    for n in names:
        if n not in known:
            raise UsageError(f"unknown engine {n!r} (engines: {', '.join(known)})")
    available = engines.available()
    missing = [n for n in names if n not in available]
    if missing:
        raise UsageError(f"engine(s) not available here: {', '.join(missing)}")
    return names or available


def _take_file(args) -> None:
    """FILE where --invoke took it (``fayasm diff --invoke fib 20 m.wasm``): --invoke's
    values are a name and numbers, so the last one that names a module file is FILE."""
    if args.file is not None:
        return
    for k in range(len(args.invoke or ()) - 1, 0, -1):
        if looks_like_module(args.invoke[k]):
            args.file = args.invoke.pop(k)
            return
    raise UsageError("missing FILE (a .wasm or .wat module)")


def _imports_factory(path: str):
    """A function giving a fresh copy of the imports ``path`` defines (the file runs again
    for each engine, so each gets its own memories, tables and globals)."""
    import runpy

    if not os.path.isfile(path):
        raise UsageError(f"--imports {path}: no such file")

    def load_imports():
        try:
            ns = runpy.run_path(path)
        except Exception as e:  # noqa: BLE001 - any error of the user's file, in one line
            raise UsageError(f"--imports {path}: {type(e).__name__}: {e}") from None
        value = ns.get("imports")
        if callable(value):
            try:
                value = value()
            except Exception as e:  # noqa: BLE001 - as an error of the file itself
                raise UsageError(f"--imports {path}: imports(): {type(e).__name__}: {e}") from None
        if not isinstance(value, dict):
            raise UsageError(f"--imports {path} must define imports, a dict {{module: {{name: "
                             "value}} or a function returning one")
        return value

    load_imports()  # errors show now, not as a difference
    return load_imports


def _plan(args, module):
    if args.invoke:
        name, raw = args.invoke[0], args.invoke[1:]
        export = next((e for e in module.exports if e.name == name), None)
        if export is None or export.kind is not ExternKind.FUNC:
            raise UsageError(f"no exported function named {name!r}")
        if len(raw) != len(export.type.params):
            raise UsageError(f"{name} takes {len(export.type.params)} argument(s) "
                             f"{export.type}, got {len(raw)}")
        return [(name, [parse_arg(a, t) for a, t in zip(raw, export.type.params)])]
    if args.random_args is not None:
        from fayasm.testing.values import default_plan
        from fayasm.wasi import uses_wasi

        plan = default_plan(module, args.random_args, args.seed)
        return [c for c in plan if c[0] != "_initialize"] if uses_wasi(module) else plan
    return None


def _wasi_config(args, module):
    from fayasm.wasi import uses_wasi

    if not uses_wasi(module):
        if args.args:
            raise UsageError(f"arguments {' '.join(args.args)!r} are for a WASI program, and "
                             f"{args.file} does not import WASI")
        return None
    try:
        return command.config(args.dir, args.ro_dir, args.env,
                              [args.file] + list(args.args))
    except ValueError as e:
        raise UsageError(str(e)) from None


def cmd_diff(args) -> int:
    from fayasm.testing.diff import diff
    from fayasm.testing.run import FUEL
    from fayasm.testing.values import format_call

    _take_file(args)
    module = load(args.file)
    names = engine_list(args.engines)
    plan = _plan(args, module)
    imports = _imports_factory(args.imports) if args.imports else None
    fuel = None if args.no_fuel else (args.fuel if args.fuel is not None else FUEL)
    snapshot = None
    if args.snapshot_from:
        from fayasm.cli_snapshot import read_snapshot

        snapshot = read_snapshot(args.snapshot_from)
    result = diff(module, plan, engines=names, wasmtime=not args.no_wasmtime, nan=args.nan,
                  seed=args.seed, imports=imports, wasi=_wasi_config(args, module),
                  fuel=fuel, metered=True if args.fuel is not None else None,
                  program=args.file, snapshot=snapshot)
    if snapshot is not None:
        print(f"from the snapshot {args.snapshot_from} (taken on {snapshot.engine})")
    calls = [None] + result.plan
    for call, outcome in zip(calls, result.outcomes):
        print(f"{'instantiate' if call is None else format_call(*call)}: {outcome.describe()}")
    for note in result.notes:
        print(f"note: {note}")
    if any(o.code == "out_of_fuel" for o in result.outcomes):
        print(f"note: each call gets {fuel:,} units of fuel; --fuel N gives more, --no-fuel "
              "none")
    engines_text = ", ".join(result.engines)
    if result.difference is not None:
        print(result.difference.report())
        return 1
    if not result.compared:
        print(f"nothing compared: {result.why_not}")
        if "unknown import" in result.why_not:
            print("  give the module's imports with --imports FILE.py (a file defining "
                  "imports = {module: {name: value}}); WASI: --dir, --env, -- ARGS")
        return 2
    print(f"no difference: {result.compared} step(s) compared on {engines_text} "
          f"({result.seconds:.2f}s)")
    return 0


def shard(text: str) -> tuple:
    """``--shard I/N`` (argparse type)."""
    from fayasm.testing.campaign import parse_shard

    try:
        return parse_shard(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def cmd_fuzz(args) -> int:
    try:
        from fayasm.testing.campaign import CampaignConfig, merge, replay
        from fayasm.testing.parallel import run_parallel
    except ImportError as e:
        raise fayasm.Error(f"fayasm fuzz needs hypothesis: {e}") from None
    if args.merge:
        missing = [d for d in args.merge if not os.path.isdir(d)]
        if missing:
            raise UsageError(f"no directory {missing[0]!r}")
        try:
            copied, dupes = merge(args.merge, args.corpus)
        except OSError as e:
            raise UsageError(f"cannot merge into {args.corpus}: {e}") from None
        print(f"merged {len(args.merge)} corpora into {args.corpus}: {copied} differences "
              f"copied, {dupes} duplicates left out")
        return 0
    names = engine_list(args.engines)
    if args.replay:
        if not os.path.isdir(args.replay):
            raise UsageError(f"no directory {args.replay!r}")
        results = replay(args.replay, names, wasmtime=not args.no_wasmtime)
        bad = sum(1 for _, r in results if not r.ok)
        print(f"{len(results)} modules replayed, {bad} with differences")
        return 1 if bad else 0
    from fayasm.testing.generate import GenConfig, focus_names

    try:
        gen = GenConfig(focus=focus_names(args.focus or ()), gc=args.gc)
    except ValueError as e:
        raise UsageError(f"--focus: {e}") from None
    config = CampaignConfig(engines=names, wasmtime=not args.no_wasmtime,
                            seconds=args.time, seed=args.seed, corpus=args.corpus,
                            shrink_seconds=args.shrink_time, gen=gen, shard=args.shard,
                            modules=args.modules)
    try:
        if args.ray is not None:
            from fayasm.testing.raybackend import RayMissing, run_ray

            try:
                summary = run_ray(config, None if args.ray == "local" else args.ray,
                                  args.jobs, timeout=args.timeout)
            except RayMissing as e:
                raise UsageError(str(e)) from None
        else:
            summary = run_parallel(config, args.jobs or 1, hang_seconds=args.timeout)
    except OSError as e:
        raise UsageError(f"cannot use the corpus directory: {e}") from None
    print(f"{summary.modules} modules, {summary.executions} executions, "
          f"{summary.differences} differences, {len(summary.found)} saved")
    if summary.task_failures:
        print("tasks failed and were resubmitted: " + ", ".join(
            f"{n} {kind}" for kind, n in sorted(summary.task_failures.items())))
    for f in summary.found:
        first = f.report.splitlines()[0]
        print(f"  {' '.join(map(str, f.signature[:2]))}: {f.files.get('repro', first)}")
    return 1 if summary.found else 0


def add_commands(sub) -> None:
    from fayasm.testing.run import FUEL

    d = sub.add_parser(
        "diff", help="run a module on every engine (and wasmtime) and compare",
        usage="fayasm diff [OPTIONS] FILE [OPTIONS] [-- ARGS ...]",
        description="Instantiate FILE on each engine and on wasmtime (when the wasmtime package "
        "is installed), make the same calls on each, and compare results bit for bit, trap "
        "kinds, memories, globals, tables, host calls and WASI output after every call. The "
        "calls are --invoke NAME ARGS, else the module's own plan (modules from 'fayasm fuzz' "
        "carry one), else every exported function (those with parameters called "
        "--random-args times with seeded arguments). A module that imports WASI gets it "
        "(--dir, --env, and ARGS after -- as its arguments, as 'fayasm run' gives them); "
        "other imports come from --imports FILE.py. Prints the first difference. Exit "
        "status 1 if there is one, 2 if nothing could be compared (the module did not "
        "instantiate, say), 0 if the engines agreed.")
    d.add_argument("file", metavar="FILE", nargs="?")
    d.add_argument("args", nargs="*", metavar="ARGS", help=argparse.SUPPRESS)
    d.add_argument("--invoke", nargs="+", metavar=("NAME", "ARGS"),
                   help="call NAME with ARGS (converted by its parameter types; i32:7 works too)")
    d.add_argument("--random-args", type=count, metavar="N",
                   help="call every export, those with parameters N times with random arguments")
    d.add_argument("--seed", type=integer, default=0, help="seed of the random arguments")
    d.add_argument("--engines", nargs="+", metavar="ENGINE",
                   help="engines to compare, the first being the reference (default: every "
                   f"engine that loads here, of {', '.join(engines.names())})")
    d.add_argument("--no-wasmtime", action="store_true", help="leave wasmtime out")
    d.add_argument("--nan", choices=("exact", "lenient"),
                   help="exact: NaN bits must match; lenient: any two quiet NaNs agree "
                   "(default: exact for fuzz-generated modules, lenient otherwise)")
    fuel = d.add_mutually_exclusive_group()
    fuel.add_argument("--fuel", type=count, metavar="N",
                      help=f"units of fuel for each call (calls and loop iterations; default "
                      f"{FUEL:,}), so that a call that runs away stops")
    fuel.add_argument("--no-fuel", action="store_true", help="run without fuel")
    d.add_argument("--imports", metavar="FILE.py",
                   help="a Python file defining imports: a dict {module: {name: function, "
                   "Memory, Table, Global or number}}, or a function returning one (the file "
                   "runs once per engine, so each gets its own)")
    d.add_argument("--from", dest="snapshot_from", metavar="FILE",
                   help="start every engine from the snapshot in FILE ('fayasm run "
                   "--snapshot-out'), not afresh; wasmtime runs the module pre-initialized "
                   "with it (or sits out, with a note, where it cannot be)")
    command.add_options(d)  # for a module that imports WASI, as 'fayasm run' takes them
    d.set_defaults(func=cmd_diff)

    f = sub.add_parser(
        "fuzz", help="generate valid modules and diff them across engines",
        description="A differential fuzzing campaign: generate valid modules (loops, calls, "
        "memory, tables, SIMD, traps, host calls), run each on every engine and on wasmtime, "
        "and shrink every new kind of difference to a small module, saved in --corpus as "
        ".wasm, .wat and .txt (with a one-line repro command). --replay runs a saved corpus "
        "again. --shard I/N and --modules M split a campaign over machines (--merge joins "
        "their corpora); --ray runs it on a Ray cluster. Exit status 1 if differences "
        "were saved.")
    f.add_argument("--time", type=duration, default=600.0,
                   help="how long to run (90, 30s, 10m, 1h; default 10m)")
    f.add_argument("--seed", type=integer, default=0, help="campaign seed (default 0)")
    f.add_argument("--engines", nargs="+", metavar="ENGINE",
                   help="engines to compare (default: all available)")
    f.add_argument("--corpus", metavar="DIR", default="fuzz-corpus",
                   help="where to save differences (default: ./fuzz-corpus)")
    f.add_argument("--replay", metavar="DIR", help="diff every module saved in DIR again")
    f.add_argument("--no-wasmtime", action="store_true", help="leave wasmtime out")
    f.add_argument("--jobs", type=positive, default=None,
                   help="parallel processes, or with --ray tasks at a time (default 1; with "
                   "--ray, the cluster's CPUs)")
    f.add_argument("--shrink-time", type=duration, default=120.0,
                   help="time limit for shrinking one difference (default 2m)")
    f.add_argument("--shard", type=shard, default=(0, 1), metavar="I/N",
                   help="explore only the I-th of N disjoint slices of the seed space (module "
                   "numbers m with m %% N == I), so that N machines cover one campaign "
                   "without overlap; merge their corpora with --merge")
    f.add_argument("--modules", type=count, default=None, metavar="M",
                   help="the seed range: module numbers 0..M-1 (of this shard); the "
                   "campaign ends when they are done (default: no end but --time)")
    f.add_argument("--merge", nargs="+", metavar="DIR",
                   help="merge the corpora in DIR... into --corpus, keeping per signature "
                   "what one campaign would keep, and exit")
    f.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="run the workers as Ray tasks on the cluster at ADDRESS (alone: "
                   "start a local cluster); needs pip install 'fayasm[ray]'")
    f.add_argument("--timeout", type=duration, default=300.0, metavar="SECONDS",
                   help="a worker with no module finished for this long is killed and its "
                   "module saved as a hang (default 300)")
    f.add_argument("--focus", nargs="+", metavar="NAME",
                   help="favour these instructions, or a feature's (relaxed_simd): each "
                   "module picks a few of them")
    f.add_argument("--gc", action="store_true",
                   help="modules use GC: struct and array types with packed fields and "
                   "subtyping, allocation, field and element access, casts that fail, "
                   "br_on_cast, i31 and ref.eq (engines without GC: leave them out with "
                   "--engines)")
    f.set_defaults(func=cmd_fuzz)


__all__ = ["add_commands", "cmd_diff", "cmd_fuzz", "engine_list"]

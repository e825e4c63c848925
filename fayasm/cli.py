"""The ``fayasm`` command line: run, inspect, wast."""
from __future__ import annotations

import argparse
import os
import sys
import time

import fayasm
from fayasm import engines
from fayasm.runtime.types import ExternKind, ValType
from fayasm.runtime.values import Val, f32_round


class UsageError(Exception):
    pass


# ---------------------------------------------------------------------------
# arguments and results

def parse_arg(text: str, t: ValType | None) -> Val:
    """A command-line argument as a Val: typed (``i32:7``, ``f64:-1.5``, ``f32:nan``) or
    converted by the parameter's type ``t``."""
    if ":" in text and text.split(":", 1)[0] in ("i32", "i64", "f32", "f64", "v128"):
        name, text = text.split(":", 1)
        given = ValType(name)
        if t is not None and given is not t:
            raise UsageError(f"argument {name}:{text} given for a {t} parameter")
        t = given
    if t is None:
        raise UsageError(f"cannot tell the type of argument {text!r}")
    try:
        if t in (ValType.I32, ValType.I64, ValType.V128):
            v = int(text.replace("_", ""), 0)
            bits = {ValType.I32: 32, ValType.I64: 64, ValType.V128: 128}[t]
            if not -(1 << (bits - 1)) <= v < (1 << bits):
                raise UsageError(f"{text} does not fit in {t}")
            return Val(t, v)
        if t in (ValType.F32, ValType.F64):
            x = float.fromhex(text) if "0x" in text.lower() else float(text)
            return Val.f32(x) if t is ValType.F32 else Val.f64(x)
    except ValueError:
        raise UsageError(f"{text!r} is not a valid {t}") from None
    if t.is_ref:
        if text != "null":
            raise UsageError(f"only null can be passed for {t}")
        return Val(t)
    raise UsageError(f"cannot pass {t} arguments")


def format_result(v: Val) -> str:
    if v.type in (ValType.I32, ValType.I64):
        return str(v.value)
    if v.type in (ValType.F32, ValType.F64):
        x = v.value
        if x != x:
            return f"nan:0x{v.bits:x}"
        return repr(x)
    if v.type is ValType.V128:
        return f"0x{v.bits:032x}"
    return "null" if v.ref is None else repr(v.ref)


def _size(text: str) -> int:
    """argparse type: a byte count such as 65536, 64MiB or 1GB."""
    from fayasm.runtime.resources import parse_size

    try:
        return parse_size(text)
    except fayasm.Error as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _count(text: str) -> int:
    """argparse type: a non-negative whole number."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative whole number, got {text!r}")
    return value


def _load(path: str) -> fayasm.Module:
    return fayasm.Module.from_file(path)


# ---------------------------------------------------------------------------
# commands

def cmd_run(args) -> int:
    from fayasm.runtime.wasi import Wasi
    from fayasm.wasi import cli_config, split_run_args, uses_wasi, with_limits

    # FILE and what follows it arrive unparsed (see the run sub-parser): fayasm's options
    # among them are parsed here, appending to --dir/--env; the rest is the program's.
    try:
        args.file, options, program = split_run_args(args.args, args.run_value_options,
                                                     ("--trap-on-grow-failure",))
    except ValueError as e:
        raise UsageError(str(e)) from None
    args.args = []
    args.run_parser.parse_args(options, namespace=args)
    try:
        config = cli_config(args.dir, args.ro_dir, args.env, [args.file] + program)
    except ValueError as e:
        raise UsageError(str(e)) from None
    resource_limits = fayasm.ResourceLimits(
        memory=args.max_memory, table_elements=args.max_table_elements,
        instances=args.max_instances, wasi_output=args.max_output,
        trap_on_grow_failure=args.trap_on_grow_failure)
    config = with_limits(config, resource_limits)
    module = _load(args.file)

    def status(code: int) -> int:
        # A process exit status holds 0..255; a larger WASI code must not wrap to 0.
        return code if 0 <= code <= 255 else 1

    limits = dict(engine=args.engine, fuel=args.fuel, deadline=args.deadline,
                  limits=resource_limits)
    name = args.invoke
    start = next((e for e in module.exports if e.name == "_start"), None)
    command = name is None and start is not None and (
        uses_wasi(module) or (not start.type.params and not start.type.results))
    if command:  # a WASI command: ARGS are its argv[1:]
        with Wasi(config, program=args.file) as wasi:
            try:
                inst = fayasm.instantiate(module, wasi.imports(), **limits)
            except fayasm.WasiExit as e:  # proc_exit from a start function
                return status(e.code)
            return status(wasi.start(inst))
    config.argv = config.argv[:1]  # with --invoke, ARGS are the function's arguments
    wasi = Wasi(config, program=args.file) if uses_wasi(module) else None
    try:
        inst = fayasm.instantiate(module, wasi.imports() if wasi else None, **limits)
        if wasi is not None:
            if "memory" in inst.exports:
                wasi.bind(inst)
            init = inst.exports.get("_initialize")
            if isinstance(init, fayasm.Func) and name != "_initialize":
                init()  # a WASI reactor initializes itself before any export is called
        if name is None:
            if start is not None:
                name = "_start"
            else:
                funcs = [e.name for e in module.exports if e.kind is ExternKind.FUNC]
                raise UsageError("the module has no _start; choose a function with --invoke "
                                 f"(exported functions: {', '.join(funcs) or 'none'})")
        if name not in inst.exports:
            raise UsageError(f"no export named {name!r}")
        func = inst.exports[name]
        if not isinstance(func, fayasm.Func):
            raise UsageError(f"export {name!r} is not a function")
        params = func.type.params
        if len(program) != len(params):
            raise UsageError(f"{name} takes {len(params)} argument(s) {func.type}, "
                             f"got {len(program)}")
        vals = [parse_arg(a, t) for a, t in zip(program, params)]
        for v in func.invoke(vals):
            print(format_result(v))
        return 0
    except fayasm.WasiExit as e:
        return status(e.code)
    finally:
        if wasi is not None:
            wasi.close()


def cmd_inspect(args) -> int:
    module = _load(args.file)
    m = module.syntax
    if args.wat:
        from fayasm.text.printer import print_module

        sys.stdout.write(print_module(m))
        return 0
    print(f"module {module.name}  sha256 {module.hash}")
    print(f"  {len(module.binary)} bytes")
    counts = [("types", len(m.types)), ("imports", len(m.imports)),
              ("functions", len(m.funcs)), ("tables", len(m.tables)), ("memories", len(m.mems)),
              ("globals", len(m.globals)), ("exports", len(m.exports)),
              ("element segments", len(m.elems)), ("data segments", len(m.datas)),
              ("custom sections", len(m.customs))]
    for label, n in counts:
        if n:
            print(f"  {label}: {n}")
    instrs = sum(len(f.body) for f in m.funcs)
    print(f"  instructions: {instrs}")
    if m.start is not None:
        print(f"  start: {module.func_name(m.start)}")
    for c in m.customs:
        print(f"  custom section {c.name!r}: {len(c.data)} bytes")
    if module.imports:
        print("imports:")
        for i in module.imports:
            print(f"  {i}")
    if module.exports:
        print("exports:")
        for e in module.exports:
            print(f"  {e}")
    return 0


def cmd_translate(args) -> int:
    module = _load(args.file)
    t0 = time.perf_counter()
    source = fayasm.translate(module, metered=args.metered)
    out = args.output or os.path.splitext(args.file)[0] + ".py"
    try:
        with open(out, "w", encoding="utf-8") as f:
            f.write(source)
    except OSError as e:
        raise UsageError(f"cannot write {out}: {e.strerror}") from None
    print(f"{args.file} -> {out}: {len(module.syntax.funcs)} functions, "
          f"{source.count(chr(10))} lines ({time.perf_counter() - t0:.2f}s)", file=sys.stderr)
    return 0


def cmd_wast(args) -> int:
    from fayasm.wast.parse import parse_script
    from fayasm.wast.runner import FAILED, NOT_RUN, PASSED, Runner

    engine = None if args.engine == "none" else args.engine
    if engine is not None:
        engines.get(engine)
    files = []
    for path in args.files:
        if os.path.isdir(path):
            files.extend(sorted(os.path.join(path, f) for f in os.listdir(path)
                                if f.endswith(".wast")))
        else:
            files.append(path)
    totals = {PASSED: 0, FAILED: 0, NOT_RUN: 0}
    start = time.perf_counter()
    width = max((len(os.path.basename(f)) for f in files), default=10)
    for n, path in enumerate(files, 1):
        t0 = time.perf_counter()
        try:
            with open(path, encoding="utf-8") as f:
                commands = parse_script(f.read(), source=path)
        except (OSError, UnicodeDecodeError, fayasm.CompileError) as e:
            print(f"{path}: cannot read script: {e}", file=sys.stderr)
            totals[FAILED] += 1
            continue
        report = Runner(engine, source=path).run(commands)
        counts = {s: report.count(s) for s in totals}
        for s in totals:
            totals[s] += counts[s]
        line = (f"[{n}/{len(files)}] {os.path.basename(path):<{width}}  "
                f"{counts[PASSED]:6} passed {counts[FAILED]:5} failed")
        if counts[NOT_RUN]:
            line += f" {counts[NOT_RUN]:6} not run"
        print(f"{line}  ({time.perf_counter() - t0:.1f}s)", flush=True)
        for o in report.failures[:args.max_failures]:
            detail = o.detail if args.verbose else o.detail.splitlines()[0][:200]
            print(f"    line {o.line}: {o.kind}: {detail}")
    print(f"total: {totals[PASSED]} passed, {totals[FAILED]} failed, {totals[NOT_RUN]} not run "
          f"({time.perf_counter() - start:.1f}s, engine {engine or 'none: modules only'})")
    return 1 if totals[FAILED] else 0


# ---------------------------------------------------------------------------
# diff and fuzz: differential testing (the logic is in fayasm.testing)

def _engine_list(values) -> list[str]:
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


def cmd_diff(args) -> int:
    from fayasm.testing.diff import diff
    from fayasm.testing.values import format_call

    module = _load(args.file)
    names = _engine_list(args.engines)
    plan = None
    if args.invoke:
        name, raw = args.invoke[0], args.invoke[1:]
        export = next((e for e in module.exports if e.name == name), None)
        if export is None or export.kind is not ExternKind.FUNC:
            raise UsageError(f"no exported function named {name!r}")
        if len(raw) != len(export.type.params):
            raise UsageError(f"{name} takes {len(export.type.params)} argument(s) "
                             f"{export.type}, got {len(raw)}")
        plan = [(name, [parse_arg(a, t) for a, t in zip(raw, export.type.params)])]
    elif args.random_args is not None:
        from fayasm.testing.values import default_plan

        plan = default_plan(module, args.random_args, args.seed)
    result = diff(module, plan, engines=names, wasmtime=not args.no_wasmtime, nan=args.nan,
                  seed=args.seed)
    calls = [None] + result.plan
    for call, outcome in zip(calls, result.outcomes):
        print(f"{'instantiate' if call is None else format_call(*call)}: {outcome.describe()}")
    for note in result.notes:
        print(f"note: {note}")
    engines_text = ", ".join(result.engines)
    if result.difference is None:
        print(f"no difference: {result.steps} step(s) on {engines_text} "
              f"({result.seconds:.2f}s)")
        return 0
    print(result.difference.report())
    return 1


def _duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        if text and text[-1] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    except ValueError:
        raise UsageError(f"not a duration: {text!r} (examples: 90, 30s, 10m, 1h)") from None


def cmd_fuzz(args) -> int:
    try:
        from fayasm.testing.campaign import CampaignConfig, replay
        from fayasm.testing.parallel import run_parallel
    except ImportError as e:
        raise fayasm.Error(f"fayasm fuzz needs hypothesis: {e}") from None
    names = _engine_list(args.engines)
    if args.replay:
        if not os.path.isdir(args.replay):
            raise UsageError(f"no directory {args.replay!r}")
        results = replay(args.replay, names, wasmtime=not args.no_wasmtime)
        bad = sum(1 for _, r in results if not r.ok)
        print(f"{len(results)} modules replayed, {bad} with differences")
        return 1 if bad else 0
    config = CampaignConfig(engines=names, wasmtime=not args.no_wasmtime,
                            seconds=_duration(args.time), seed=args.seed, corpus=args.corpus,
                            shrink_seconds=_duration(args.shrink_time))
    try:
        summary = run_parallel(config, max(1, args.jobs))
    except OSError as e:
        raise UsageError(f"cannot use the corpus directory: {e}") from None
    print(f"{summary.modules} modules, {summary.executions} executions, "
          f"{summary.differences} differences, {len(summary.found)} saved")
    for f in summary.found:
        print(f"  {' '.join(map(str, f.signature[:2]))}: {f.files.get('repro', f.report.splitlines()[0])}")
    return 1 if summary.found else 0


def _add_testing_commands(sub) -> None:
    d = sub.add_parser(
        "diff", help="run a module on every engine (and wasmtime) and compare",
        description="Instantiate FILE on each engine and on wasmtime (when the wasmtime package "
        "is installed), make the same calls on each, and compare results bit for bit, trap "
        "kinds, memories, globals, tables and host calls after every call. The calls are "
        "--invoke NAME ARGS, else the module's own plan (modules from 'fayasm fuzz' carry "
        "one), else every exported function (those with parameters called --random-args "
        "times with seeded arguments). Prints the first difference; exit status 1 if any.")
    d.add_argument("file", metavar="FILE")
    d.add_argument("--invoke", nargs="+", metavar=("NAME", "ARGS"),
                   help="call NAME with ARGS (converted by its parameter types; i32:7 works too)")
    d.add_argument("--random-args", type=int, metavar="N",
                   help="call every export, those with parameters N times with random arguments")
    d.add_argument("--seed", type=int, default=0, help="seed of the random arguments")
    d.add_argument("--engines", nargs="+", metavar="ENGINE",
                   help=f"engines to compare, the first being the reference (default: all "
                   f"available: {', '.join(engines.available())})")
    d.add_argument("--no-wasmtime", action="store_true", help="leave wasmtime out")
    d.add_argument("--nan", choices=("exact", "lenient"),
                   help="exact: NaN bits must match; lenient: any two quiet NaNs agree "
                   "(default: exact for fuzz-generated modules, lenient otherwise)")
    d.set_defaults(func=cmd_diff)

    f = sub.add_parser(
        "fuzz", help="generate valid modules and diff them across engines",
        description="A differential fuzzing campaign: generate valid modules (loops, calls, "
        "memory, tables, SIMD, traps, host calls), run each on every engine and on wasmtime, "
        "and shrink every new kind of difference to a small module, saved in --corpus as "
        ".wasm, .wat and .txt (with a one-line repro command). --replay runs a saved corpus "
        "again. Exit status 1 if differences were saved.")
    f.add_argument("--time", default="10m", help="how long to run (90, 30s, 10m, 1h; default 10m)")
    f.add_argument("--seed", type=int, default=0, help="campaign seed (default 0)")
    f.add_argument("--engines", nargs="+", metavar="ENGINE",
                   help="engines to compare (default: all available)")
    f.add_argument("--corpus", metavar="DIR", default="fuzz-corpus",
                   help="where to save differences (default: ./fuzz-corpus)")
    f.add_argument("--replay", metavar="DIR", help="diff every module saved in DIR again")
    f.add_argument("--no-wasmtime", action="store_true", help="leave wasmtime out")
    f.add_argument("--jobs", type=int, default=1, help="parallel processes (default 1)")
    f.add_argument("--shrink-time", default="2m",
                   help="time limit for shrinking one difference (default 2m)")
    f.set_defaults(func=cmd_fuzz)


# ---------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fayasm", description="A WebAssembly runtime for Python.",
        epilog="Run 'fayasm COMMAND --help' for the options of a command.")
    p.add_argument("--version", action="version", version=f"fayasm {fayasm.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser(
        "run", help="run a WASI program, or call one of a module's exports",
        usage="fayasm run [OPTIONS] FILE [OPTIONS] [--] [ARGS ...]",
        description="Instantiate FILE (.wasm or .wat). A module that imports "
        "wasi_snapshot_preview1 or exports _start runs as a WASI command: ARGS are its "
        "arguments (argv[0] is FILE), it sees only the directories given with --dir, and "
        "fayasm exits with its exit code. With --invoke NAME, the export NAME is called "
        "with ARGS converted by its parameter types (the typed forms i32:7, i64:-1, "
        "f32:1.5, f64:nan are accepted too) and the results are printed one per line. "
        "Options may come before or after FILE; everything after -- goes to the program.",
        epilog="example: fayasm run prog.wasm --dir data::/data --env LANG=C -- -v input.txt")
    run.add_argument("--engine", default=None, help=f"engine to run on ({', '.join(engines.names())}; "
                     f"default {engines.default()})")
    run.add_argument("--invoke", metavar="NAME", help="the exported function to call")
    run.add_argument("--fuel", type=int, default=None,
                     help="stop after this many calls and loop iterations")
    run.add_argument("--deadline", type=float, default=None, metavar="SECONDS",
                     help="stop a call that runs longer than this")
    run.add_argument("--max-memory", type=_size, metavar="SIZE",
                     help="cap the memory the module may hold (e.g. 64MiB); a memory.grow "
                     "past it fails, and a module that needs more at the start does not run")
    run.add_argument("--max-table-elements", type=_count, metavar="N",
                     help="cap the table elements the module may hold")
    run.add_argument("--max-instances", type=_count, metavar="N",
                     help="cap the number of instances")
    run.add_argument("--max-output", type=_size, metavar="SIZE",
                     help="cap what a WASI program may write to stdout and to stderr, each")
    run.add_argument("--trap-on-grow-failure", action="store_true",
                     help="a grow past a cap traps instead of returning -1")
    run.add_argument("--dir", action="append", metavar="HOST[::GUEST]",
                     help="let the program use directory HOST, seen as GUEST (default: "
                     "HOST as written); repeatable")
    run.add_argument("--ro-dir", action="append", metavar="HOST[::GUEST]",
                     help="like --dir, but the program cannot change anything in it")
    run.add_argument("--env", action="append", metavar="NAME[=VALUE]",
                     help="set an environment variable for the program (NAME alone passes "
                     "on this process's value); repeatable")
    # FILE and everything after it, unparsed: cmd_run splits fayasm's options from the
    # program's arguments, so that "--" and arguments that look like options reach it.
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="FILE [ARGS]",
                     help="the module, then the program's arguments")
    run.set_defaults(func=cmd_run, run_parser=run,
                     run_value_options=("--engine", "--invoke", "--fuel", "--deadline",
                                        "--dir", "--ro-dir", "--env", "--max-memory",
                                        "--max-table-elements", "--max-instances",
                                        "--max-output"))

    ins = sub.add_parser("inspect", help="show a module's sections, imports and exports",
                         description="Print what FILE contains; with --wat, the whole module "
                         "as WebAssembly text.")
    ins.add_argument("file", metavar="FILE")
    ins.add_argument("--wat", action="store_true", help="print the module as WAT")
    ins.set_defaults(func=cmd_inspect)

    tr = sub.add_parser("translate", help="translate a module to a standalone Python file",
                        description="Write FILE as Python source that imports only "
                        "fayasm.runtime. The generated module has instantiate(imports=None, "
                        "wasi=None) with the same exports interface as every engine; running "
                        "it as a script (python OUT.py [--dir HOST[::GUEST]] [--env K=V] -- "
                        "ARGS) runs the module's _start under WASI.")
    tr.add_argument("file", metavar="FILE")
    tr.add_argument("-o", "--output", metavar="OUT.py",
                    help="where to write (default: FILE with a .py suffix)")
    tr.add_argument("--metered", action="store_true",
                    help="count fuel, so instantiate(fuel=..., deadline=...) can stop it")
    tr.set_defaults(func=cmd_translate)

    wast = sub.add_parser("wast", help="run WAST scripts (the spec test-suite format)",
                          description="Run every command of the given .wast files (or of "
                          "every .wast in a directory) and report per file. With --engine "
                          "none, only decoding, parsing and validation are judged.")
    wast.add_argument("files", nargs="+", metavar="FILE")
    wast.add_argument("--engine", default=engines.default(),
                      help="engine to run on, or 'none' (default %(default)s)")
    wast.add_argument("--max-failures", type=int, default=10, metavar="N",
                      help="failures to show per file (default %(default)s)")
    wast.add_argument("-v", "--verbose", action="store_true", help="show full failure details")
    wast.set_defaults(func=cmd_wast)
    _add_testing_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # Positional ARGS of `run` may come after its options (fayasm run m.wasm --invoke f 1 2),
    # which plain parse_args does not allow once FILE has been taken.
    args, extra = parser.parse_known_args(argv)
    if extra:
        if args.command != "run" or any(x.startswith("--") and x != "--" for x in extra):
            parser.parse_args(argv)  # reports the unrecognized arguments and exits
        args.args = list(args.args) + [x for x in extra if x != "--"]
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except UsageError as e:
        print(f"fayasm {args.command}: {e}", file=sys.stderr)
        return 2
    except fayasm.Trap as e:
        print(f"fayasm: trap: {e}", file=sys.stderr)
        return 1
    except fayasm.Error as e:
        print(f"fayasm: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("fayasm: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


__all__ = ["main", "parse_arg", "format_result", "f32_round"]

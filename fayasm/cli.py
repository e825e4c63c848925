"""The ``fayasm`` command line: run, inspect, translate, wast (diff and fuzz: cli_diff)."""
from __future__ import annotations

import argparse
import os
import sys
import time

import fayasm
from fayasm import cli_progress, engines
from fayasm.cli_args import (
    FileProblem,
    Parser,
    UsageError,
    count,
    format_result,
    load,
    parse_arg,
    seconds,
    size,
)
from fayasm.runtime.types import ExternKind
from fayasm.runtime.values import f32_round
from fayasm.runtime.wasi import command as wasi_cli

# ---------------------------------------------------------------------------
# commands

def cmd_run(args) -> int:
    from fayasm.runtime.wasi import Wasi
    from fayasm.wasi import split_run_args, uses_wasi, with_limits

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
        config = wasi_cli.config(args.dir, args.ro_dir, args.env, [args.file] + program,
                                 symlinks=args.symlinks)
    except ValueError as e:
        raise UsageError(str(e)) from None
    resource_limits = fayasm.ResourceLimits(
        memory=args.max_memory, table_elements=args.max_table_elements,
        instances=args.max_instances, wasi_output=args.max_output,
        trap_on_grow_failure=args.trap_on_grow_failure, max_stack=args.max_stack)
    config = with_limits(config, resource_limits)
    module = load(args.file)

    def status(code: int) -> int:
        # A process exit status holds 0..255; a larger WASI code must not wrap to 0.
        return code if 0 <= code <= 255 else 1

    limits = dict(engine=args.engine, fuel=args.fuel, deadline=args.deadline,
                  limits=resource_limits, compile_timeout=args.compile_timeout)
    name = args.invoke
    start = next((e for e in module.exports if e.name == "_start"), None)
    start_type = start.type if start is not None else None
    if start is not None and not isinstance(start_type, fayasm.FuncType):
        if name is None:  # what would run is not a function: say so, not an AttributeError
            raise UsageError(f"the export _start is a {start.kind}, not a function; choose a "
                             f"function with --invoke (exported functions: {_funcs(module)})")
        start = None
    # --from and --snapshot-out work on the instance itself, as --invoke does.
    command = name is None and isinstance(start_type, fayasm.FuncType) and (
        uses_wasi(module) or (not start_type.params and not start_type.results)) and not (
        args.snapshot_from or args.snapshot_out)
    wasi: Wasi | None
    if command:  # a WASI command: ARGS are its argv[1:]
        with Wasi(config, program=args.file) as wasi:
            try:
                inst = fayasm.instantiate(module, wasi=wasi, **limits)
            except fayasm.WasiExit as e:  # proc_exit from a start function
                return status(e.code)
            return status(wasi.start(inst))
    config.argv = (config.argv or [])[:1]  # with --invoke, ARGS are the function's arguments
    wasi = Wasi(config, program=args.file) if uses_wasi(module) else None
    try:
        # With WASI, a reactor's _initialize runs here, before any export is called
        # (not when restoring: it ran before the snapshot).
        if args.snapshot_from:
            from fayasm.cli_snapshot import read_snapshot

            inst = fayasm.restore(module, read_snapshot(args.snapshot_from), wasi=wasi,
                                  **limits)
        else:
            inst = fayasm.instantiate(module, wasi=wasi, **limits)
        if name is None:
            if start is not None:
                name = "_start"
            else:
                raise UsageError("the module has no _start; choose a function with --invoke "
                                 f"(exported functions: {_funcs(module)})")
        if name not in inst.exports:
            raise UsageError(f"no export named {name!r}")
        func = inst.exports[name]
        if not isinstance(func, fayasm.Func):
            raise UsageError(f"export {name!r} is not a function")
        if wasi is not None and name == "_initialize" and "_start" not in inst.exports:
            return 0  # it has run, once, as the WASI ABI says
        params = func.type.params
        if len(program) != len(params):
            raise UsageError(f"{name} takes {len(params)} argument(s) {func.type}, "
                             f"got {len(program)}")
        vals = [parse_arg(a, t) for a, t in zip(program, params)]
        for v in func.invoke(vals):
            print(format_result(v))
        if args.snapshot_out:
            from fayasm.cli_snapshot import write_file

            write_file(args.snapshot_out, inst.snapshot().to_bytes())
        return 0
    except fayasm.WasiExit as e:
        return status(e.code)
    finally:
        if wasi is not None:
            wasi.close()


def _funcs(module: fayasm.Module) -> str:
    """The names of the module's exported functions, for a usage message."""
    return ", ".join(e.name for e in module.exports if e.kind is ExternKind.FUNC) or "none"


def cmd_inspect(args) -> int:
    module = load(args.file)
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
    from fayasm import features

    used = features.used(m)
    if used:
        print(f"  features: {', '.join(used)}")
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
    if args.engine:
        from fayasm import engines

        # What the engine has to say about running the module (the jit: its bounds
        # checks). Only when asked: inspect imports no engine otherwise.
        notes = getattr(engines.get(args.engine), "notes", None)
        for line in notes(module) if notes is not None else ():
            print(f"{args.engine}: {line}")
    return 0


def cmd_translate(args) -> int:
    module = load(args.file)
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
    from fayasm import features

    chosen = features.WASM2 if args.features == "2.0" else features.WASM3
    with features.using(chosen):
        return _wast(args)


def _wast(args) -> int:
    from fayasm.wast.parse import count_commands, parse_script
    from fayasm.wast.runner import FAILED, NOT_RUN, PASSED, Runner

    engine = None if args.engine == "none" else args.engine or engines.default()
    if engine is not None:
        engines.get(engine)
    files = []
    for path in args.files:
        if os.path.isdir(path):
            found = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".wast"))
            if not found:
                raise UsageError(f"no .wast files in {path}")
            files.extend(found)
        elif path.endswith(".wasm"):
            raise UsageError(f"{path} is a module, not a WAST script: 'fayasm run' runs it, "
                             "'fayasm inspect' shows it")
        else:
            files.append(path)
    if args.shard is not None:
        i, n = args.shard
        files = files[i::n]  # the I-th of N slices of the files, in the order given
    totals = {PASSED: 0, FAILED: 0, NOT_RUN: 0}
    start = time.perf_counter()
    width = max((len(os.path.basename(f)) for f in files), default=10)
    for n, path in enumerate(files, 1):
        t0 = time.perf_counter()
        try:
            with open(path, "rb") as f:
                data = f.read()
            if data[:4] == b"\0asm":
                print(f"{path}: not a WAST script (a binary module)", file=sys.stderr)
                totals[FAILED] += 1
                continue
            commands = parse_script(data.decode("utf-8"), source=path)
        except OSError as e:
            print(f"{path}: cannot read script: {e.strerror}", file=sys.stderr)
            totals[FAILED] += 1
            continue
        except UnicodeDecodeError as e:
            print(f"{path}: not a WAST script: malformed UTF-8 at byte {e.start}",
                  file=sys.stderr)
            totals[FAILED] += 1
            continue
        except fayasm.CompileError as e:
            # Its commands did not pass: each counts as failed, never as absent.
            lost = count_commands(data.decode("utf-8"))
            print(f"{path}: cannot read script: {e} ({lost} commands not run, counted as "
                  "failed)", file=sys.stderr)
            totals[FAILED] += lost
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
    return 1 if totals[FAILED] or totals[NOT_RUN] else 0


# ---------------------------------------------------------------------------

# Help text only: which engine is the default is found out (importing llvmlite) when a
# command runs one, so that building the parser costs nothing (fayasm inspect, --help).
DEFAULT_ENGINE = "jit, or python where llvmlite is not installed"


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
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
    run.add_argument("--engine", default=None,
                     help=f"engine to run on ({', '.join(engines.names())}; "
                     f"default {DEFAULT_ENGINE})")
    run.add_argument("--invoke", metavar="NAME", help="the exported function to call")
    run.add_argument("--fuel", type=count, default=None, metavar="N",
                     help="stop after this many calls and loop iterations")
    run.add_argument("--compile-timeout", type=seconds, default=None, metavar="SECONDS",
                     help="give up compiling after this long (default 60)")
    run.add_argument("--deadline", type=seconds, default=None, metavar="SECONDS",
                     help="stop a call that runs longer than this")
    run.add_argument("--max-memory", type=size, metavar="SIZE",
                     help="cap the memory the module may hold (e.g. 64MiB); a memory.grow "
                     "past it fails, and a module that needs more at the start does not run")
    run.add_argument("--max-table-elements", type=count, metavar="N",
                     help="cap the table elements the module may hold")
    run.add_argument("--max-instances", type=count, metavar="N",
                     help="cap the number of instances")
    run.add_argument("--max-output", type=size, metavar="SIZE",
                     help="cap what a WASI program may write to stdout and to stderr, each")
    run.add_argument("--max-stack", type=count, metavar="UNITS",
                     help="lower the deepest call stack, in stack units (a frame of fewer "
                     "than 64 locals and operand values is one; default and most 20000); "
                     "deeper recursion ends in 'call stack exhausted'")
    run.add_argument("--trap-on-grow-failure", action="store_true",
                     help="a grow past a cap traps instead of returning -1")
    run.add_argument("--snapshot-out", metavar="FILE",
                     help="after the call, write the instance's snapshot to FILE")
    run.add_argument("--from", dest="snapshot_from", metavar="FILE",
                     help="start from the snapshot in FILE (from --snapshot-out) instead "
                     "of instantiating afresh")
    # --dir, --ro-dir, --env, --symlinks: as a translated file takes them
    wasi_cli.add_options(run)
    # FILE and everything after it, unparsed: cmd_run splits fayasm's options from the
    # program's arguments, so that "--" and arguments that look like options reach it.
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="FILE [ARGS]",
                     help="the module, then the program's arguments")
    run.set_defaults(func=cmd_run, run_parser=run,
                     run_value_options=("--engine", "--invoke", "--fuel", "--deadline",
                                        "--compile-timeout", *wasi_cli.OPTIONS, "--max-memory",
                                        "--max-table-elements", "--max-instances",
                                        "--max-output", "--max-stack", "--snapshot-out",
                                        "--from"))

    ins = sub.add_parser("inspect", help="show a module's sections, imports and exports",
                         description="Print what FILE contains; with --wat, the whole module "
                         "as WebAssembly text.")
    ins.add_argument("file", metavar="FILE")
    ins.add_argument("--wat", action="store_true", help="print the module as WAT")
    ins.add_argument("--engine", metavar="E", help="also say how engine E would run it "
                     "(jit: guard pages or explicit bounds checks)")
    ins.set_defaults(func=cmd_inspect)

    tr = sub.add_parser("translate", help="translate a module to a standalone Python file",
                        description="Write FILE as Python source that imports only "
                        "fayasm.runtime. The generated module has instantiate(imports=None, "
                        "wasi=None) with the same exports interface as every engine; running "
                        "it as a script (python OUT.py [--dir HOST[::GUEST]] [--ro-dir ...] "
                        "[--env K=V] "
                        "-- ARGS, read as 'fayasm run' reads them) runs the module's _start "
                        "under WASI.")
    tr.add_argument("file", metavar="FILE")
    tr.add_argument("-o", "--output", metavar="OUT.py",
                    help="where to write (default: FILE with a .py suffix)")
    tr.add_argument("--metered", action="store_true",
                    help="count fuel, so instantiate(fuel=..., deadline=..., interrupt=...) can "
                    "stop it")
    tr.set_defaults(func=cmd_translate)

    wast = sub.add_parser("wast", help="run WAST scripts (the spec test-suite format)",
                          description="Run every command of the given .wast files (or of "
                          "every .wast in a directory) and report per file. With --engine "
                          "none, only decoding, parsing and validation are judged.")
    wast.add_argument("files", nargs="+", metavar="FILE")
    wast.add_argument("--engine", default=None,
                      help=f"engine to run on, or 'none' (default {DEFAULT_ENGINE})")
    wast.add_argument("--max-failures", type=count, default=10, metavar="N",
                      help="failures to show per file (default %(default)s)")
    wast.add_argument("-v", "--verbose", action="store_true", help="show full failure details")
    from fayasm.cli_snapshot import add_command as add_snapshot

    add_snapshot(sub)
    from fayasm.cli_diff import add_commands, shard

    wast.add_argument("--shard", type=shard, default=None, metavar="I/N",
                      help="run only files number I, I+N, I+2N, ... of the files given (a "
                      "directory counts as its .wast files, sorted), so N machines share a run")
    wast.add_argument("--features", choices=("3.0", "2.0"), default="3.0",
                      help="the WebAssembly version whose features modules may use (2.0: "
                      "no multi-memory or memory64, 2.0's errors for their encodings)")
    wast.set_defaults(func=cmd_wast)

    add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    program = []
    if argv[:1] == ["diff"] and "--" in argv:  # what follows -- is the WASI program's argv
        cut = argv.index("--")
        argv, program = argv[:cut], argv[cut + 1:]
    # Positional ARGS of `run` and `diff` may come after their options (fayasm run m.wasm
    # --invoke f 1 2), which plain parse_args does not allow once FILE has been taken.
    args, extra = parser.parse_known_args(argv)
    if extra:
        if args.command not in ("run", "diff") or any(
                x.startswith("--") and x != "--" for x in extra):
            parser.parse_args(argv)  # reports the unrecognized arguments and exits
        args.args = list(args.args) + [x for x in extra if x != "--"]
    if program:
        args.args = list(args.args) + program
    if args.command is None:
        parser.print_help()
        return 2
    try:
        with cli_progress.shown():  # the jit's long compiles, on stderr
            return args.func(args)
    except UsageError as e:
        print(f"fayasm {args.command}: {e}", file=sys.stderr)
        return 2
    except FileProblem as e:
        print(f"fayasm {args.command}: {e}", file=sys.stderr)
        return 1
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

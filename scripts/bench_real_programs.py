#!/usr/bin/env python3
"""Real programs (the SQLite shell, Lua, brotli) on every fayasm engine and on wasmtime:
correct or not, time to result cold and warm, peak RSS.

    python scripts/bench_real_programs.py [--programs sqlite3,lua] [--runners jit,wasmtime]
                                          [--scale 1.0] [--json FILE]

The programs are built (or reused) by scripts/build_real_programs.py. Each measurement is
a fresh subprocess running one program's whole workload (SQLite: a run that writes a
database in a preopened directory, then a second run that reads it back; brotli: compress
to a file, then decompress to stdout) on one runner. "Cold" starts with an empty
FAYASM_CACHE_DIR (for wasmtime: no precompiled module); "warm" runs again on the cache the
cold run filled (the jit's O2 object, the python engine's translation, the validation
record; wasmtime's serialized module), once the jit's background O2 build has finished.
Time to result is wall time from starting the subprocess to the workload's last output,
Python start-up and imports included; "run" is the part spent instantiating and running
(the module already read: for the jit's warm run, its O2 code's run time); peak RSS is
that process's maximum resident set (the jit's O2 build runs in a process of its own, not
counted). "Correct" means every
run's stdout, exit code and the files it leaves match wasmtime's at the same size (and the
workload's own known answers), judged for the cold and the warm run apart. The interpreter
and the python engine get smaller sizes where the others' would take them minutes
(SIZES); the table says which size each row ran. --table JSON reprints a saved run.

This module also holds the workloads and the runners tests/test_real_programs.py uses.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GUEST_DIR = "/work"  # the guest path of the preopened directory every workload uses


# ------------------------------------------------------------------------- workloads

@dataclass
class Step:
    """One run of the program: its arguments (argv[0] included) and standard input."""
    argv: list[str]
    stdin: bytes = b""


@dataclass
class Workload:
    """Runs of one program sharing a preopened directory: ``files`` are written there
    first; ``keep`` names files whose bytes are part of the result; ``check`` tests the
    result against known answers (returns a complaint or None), whatever the oracle."""
    program: str
    size: int
    files: dict[str, bytes]
    steps: list[Step]
    keep: list[str] = field(default_factory=list)
    check: object = None


def sqlite_workload(n: int) -> Workload:
    """n inserts in one transaction into a database file, then an index, aggregates, a
    join, recursive CTEs and JSON; a second run reopens the file and reads it back."""
    lines = [".bail on",
             "CREATE TABLE cat(id INTEGER PRIMARY KEY, label TEXT NOT NULL);",
             ("CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT, price REAL, cat INTEGER"
              " REFERENCES cat(id), tags TEXT);"),
             "BEGIN;"]
    lines += [f"INSERT INTO cat VALUES ({i}, '{label}');" for i, label in
              enumerate(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"])]
    for i in range(1, n + 1):
        lines.append(f"INSERT INTO item(name, price, cat, tags) VALUES ('item-{i:05d}', "
                     f"{(i * 7919) % 10000 / 100:.2f}, {i % 7}, "
                     f"'{json.dumps({'k': i % 13, 'even': i % 2 == 0})}');")
    lines += [
        "COMMIT;",
        "CREATE INDEX item_cat_price ON item(cat, price);",
        "SELECT count(*), printf('%.2f', sum(price)), min(name), max(name) FROM item;",
        ("SELECT c.label, count(*), printf('%.3f', avg(i.price)) FROM item i JOIN cat c"
         " ON c.id = i.cat GROUP BY c.label ORDER BY c.label;"),
        ("SELECT id, name, price FROM item WHERE cat = 3 AND price > 50.0"
         " ORDER BY price DESC, id LIMIT 5;"),
        ("WITH RECURSIVE fib(a, b, k) AS (SELECT 0, 1, 0 UNION ALL"
         " SELECT b, a + b, k + 1 FROM fib WHERE k < 60) SELECT k, a FROM fib"
         " WHERE k % 15 = 0;"),
        ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000)"
         " SELECT count(*), sum(x * x) FROM c WHERE x % 3 = 0;"),
        ("SELECT json_extract(tags, '$.k') AS k, count(*) FROM item"
         " WHERE json_extract(tags, '$.even') GROUP BY k ORDER BY k LIMIT 4;"),
        ("SELECT json_object('n', count(*), 'cats', json_group_array(DISTINCT cat)) FROM"
         " (SELECT cat FROM item ORDER BY cat);"),
        "UPDATE item SET price = price * 2 WHERE id % 10 = 0;",
        "DELETE FROM item WHERE id % 100 = 1;",
        ("SELECT printf('%.6f', sqrt(2.0)), upper('done'), length(group_concat(name))"
         " FROM item WHERE id <= 10;"),
    ]
    write = "\n".join(lines).encode() + b"\n"
    read = (b".bail on\n"
            b"SELECT count(*), printf('%.2f', sum(price)) FROM item;\n"
            b"PRAGMA integrity_check;\n"
            b"SELECT type, name FROM sqlite_schema ORDER BY name;\n"
            b"SELECT name FROM item WHERE cat = 5 ORDER BY price, id LIMIT 3;\n")
    db = f"{GUEST_DIR}/test.db"
    expect_rows = n - len(range(1, n + 1, 100))

    def check(outcome) -> str | None:
        first, second = outcome.steps[0][0], outcome.steps[1][0]
        if not first.startswith(f"{n}|".encode()):
            return f"first run does not start with the count {n}: {first[:60]!r}"
        if not second.startswith(f"{expect_rows}|".encode()) or b"\nok\n" not in second:
            return f"second run did not read the database back: {second[:80]!r}"
        return None

    return Workload("sqlite3", n, {}, [Step(["sqlite3", db], write), Step(["sqlite3", db], read)],
                    keep=["test.db"], check=check)


LUA_SCRIPT = b"""\
-- fib, string building, table.sort, floats, closures, metatables (no coroutines:
-- this wasm build has no setjmp, and Lua 5.4 yields through longjmp)
local n = tonumber(arg[1])
local depth = tonumber(arg[2])
local function fib(k) if k < 2 then return k end return fib(k - 1) + fib(k - 2) end
print("fib", depth, fib(depth))
local parts = {}
for i = 1, n * 10 do parts[#parts + 1] = string.format("%d:%x", i, i * i) end
local s = table.concat(parts, ",")
print("string", #s, s:sub(1, 24), s:sub(-24))
print("gsub", select(2, s:gsub("%d+:1", "")), s:find("99:", 1, true))
local t, x = {}, 42
for i = 1, n * 10 do x = (x * 1103515245 + 12345) % 2147483648; t[i] = x end
table.sort(t)
print("sort", #t, t[1], t[#t // 2], t[#t])
table.sort(t, function(a, b) return a % 1000 < b % 1000 or (a % 1000 == b % 1000 and a < b) end)
print("sort2", t[1], t[#t])
local acc = 0.0
for i = 1, n * 10 do acc = acc + math.sin(i) / i end
print("float", string.format("%.12f", acc), 2^0.5, 7 // 2, 7 / 2, math.maxinteger)
local words = {}
for w in ("the quick brown fox jumps over the lazy dog"):gmatch("%a+") do
  words[w] = (words[w] or 0) + 1
end
local keys = {}
for k in pairs(words) do keys[#keys + 1] = k end
table.sort(keys)
for _, k in ipairs(keys) do io.write(k, "=", words[k], " ") end
print()
local function counter()
  local c = 0
  return function() c = c + 1; return c * c end
end
local next_square, sq = counter(), {}
for i = 1, 5 do sq[i] = next_square() end
print("closure", table.concat(sq, " "))
local V = setmetatable({}, {__index = function(_, k) return k * 2 end})
print("meta", V[21], select("#", 1, 2, 3), utf8.char(955, 8364))
os.exit(3)
"""


def lua_workload(n: int) -> Workload:
    """The Lua script above: fib, string building, sorting with and without a
    comparator, floats, closures; it exits with code 3."""
    depth = min(27, 8 + n.bit_length())

    def check(outcome) -> str | None:
        out, code = outcome.steps[0][0], outcome.steps[0][1]
        want = f"fib\t{depth}\t{_fib(depth)}\n".encode()
        if not out.startswith(want) or code != 3:
            return f"expected {want!r} first and exit code 3, got {out[:40]!r}, {code}"
        return None

    return Workload("lua", n, {"bench.lua": LUA_SCRIPT},
                    [Step(["lua", f"{GUEST_DIR}/bench.lua", str(n), str(depth)])], check=check)


def _fib(k: int) -> int:
    a, b = 0, 1
    for _ in range(k):
        a, b = b, a + b
    return a


def brotli_text(n: int) -> bytes:
    """About n bytes of text that compresses like prose: repeated words, varying numbers."""
    words = b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod".split()
    out, i = bytearray(), 0
    while len(out) < n:
        out += b"%d %s %s %x\n" % (i, words[i % len(words)], words[(i * 7) % len(words)],
                                   (i * 2654435761) % 65536)
        i += 1
    return bytes(out[:n])


def brotli_workload(n: int) -> Workload:
    """Compress n bytes of text to a file (quality 5), then decompress it to stdout."""
    text = brotli_text(n)

    def check(outcome) -> str | None:
        if outcome.steps[1][0] != text:
            return "decompressing did not give the original text back"
        return None

    return Workload("brotli", n, {"data.txt": text}, [
        Step(["brotli", "-n", "-q", "5", "-o", f"{GUEST_DIR}/data.txt.br",
              f"{GUEST_DIR}/data.txt"]),
        Step(["brotli", "-d", "-c", f"{GUEST_DIR}/data.txt.br"])],
        keep=["data.txt.br"], check=check)


WORKLOADS = {"sqlite3": sqlite_workload, "lua": lua_workload, "brotli": brotli_workload}


# --------------------------------------------------------------------------- running

@dataclass
class Outcome:
    """What a workload did on one runner: (stdout, exit code, stderr) per step, the kept
    files' bytes, or the error that stopped it (a trap, an exhaustion, a crash)."""
    steps: list[tuple[bytes, int, bytes]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    error: str | None = None
    run_seconds: float = 0.0  # in the runs themselves: instantiating and running

    def same_as(self, other: "Outcome") -> str | None:
        """None when stdout, exit codes and kept files match; else the first difference."""
        if self.error or other.error:
            return self.error or f"the reference failed: {other.error}"
        for i, (mine, theirs) in enumerate(zip(self.steps, other.steps)):
            if mine[1] != theirs[1]:
                return f"run {i + 1}: exit code {mine[1]}, expected {theirs[1]}"
            if mine[0] != theirs[0]:
                return f"run {i + 1}: stdout differs\n{_first_diff(mine[0], theirs[0])}"
        if len(self.steps) != len(other.steps):
            return f"{len(self.steps)} runs, expected {len(other.steps)}"
        for name in sorted(set(self.files) | set(other.files)):
            if self.files.get(name) != other.files.get(name):
                return f"file {name} differs ({_describe(self.files.get(name))} vs " \
                       f"{_describe(other.files.get(name))})"
        return None

    def digest(self) -> str:
        h = hashlib.sha256()
        for out, code, _err in self.steps:
            h.update(b"%d:%d:" % (code, len(out)) + out)
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + self.files[name])
        return h.hexdigest()[:16]


def _describe(data) -> str:
    return "missing" if data is None else f"{len(data)} bytes, sha256 " \
        f"{hashlib.sha256(data).hexdigest()[:12]}"


def _first_diff(a: bytes, b: bytes) -> str:
    al, bl = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(al, bl)):
        if x != y:
            return f"line {i + 1}: got {x[:120]!r}\n        expected {y[:120]!r}"
    return f"got {len(al)} lines, expected {len(bl)}"


def _prepare(workload: Workload, root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, data in workload.files.items():
        (root / name).write_bytes(data)
    return root


def _collect(workload: Workload, root: Path, outcome: Outcome) -> Outcome:
    for name in workload.keep:
        if (root / name).is_file():
            outcome.files[name] = (root / name).read_bytes()
    return outcome


def run_fayasm(wasm: Path, workload: Workload, engine: str, root: Path) -> Outcome:
    """The workload's runs, in this process, on one fayasm engine; root is the host
    directory preopened as GUEST_DIR."""
    import fayasm

    _prepare(workload, root)
    outcome = Outcome()
    try:
        module = fayasm.Module.from_file(str(wasm))
        for step in workload.steps:
            out, err = io.BytesIO(), io.BytesIO()
            config = fayasm.WasiConfig(argv=step.argv, preopens={GUEST_DIR: str(root)},
                                       stdin=step.stdin, stdout=out, stderr=err)
            t0 = time.perf_counter()
            try:
                code = fayasm.run(module, wasi=config, engine=engine)
            finally:
                outcome.run_seconds += time.perf_counter() - t0
            outcome.steps.append((out.getvalue(), code, err.getvalue()))
    except fayasm.Error as e:
        outcome.error = f"{type(e).__name__}: {e}"
    return _collect(workload, root, outcome)


def run_wasmtime(wasm: Path, workload: Workload, root: Path,
                 precompiled: Path | None = None) -> Outcome:
    """The workload's runs on wasmtime (the wasmtime package); with ``precompiled``, the
    module is deserialized from that file when it exists, and serialized there when not."""
    import wasmtime

    _prepare(workload, root)
    outcome = Outcome()
    engine = wasmtime.Engine()
    if precompiled is not None and precompiled.is_file():
        module = wasmtime.Module.deserialize_file(engine, str(precompiled))
    else:
        module = wasmtime.Module.from_file(engine, str(wasm))
        if precompiled is not None:
            precompiled.write_bytes(module.serialize())
    with tempfile.TemporaryDirectory() as tmp:
        for i, step in enumerate(workload.steps):
            files = {k: Path(tmp, f"{i}.{k}") for k in ("in", "out", "err")}
            files["in"].write_bytes(step.stdin)
            config = wasmtime.WasiConfig()
            config.argv = step.argv
            config.stdin_file, config.stdout_file, config.stderr_file = (
                str(files[k]) for k in ("in", "out", "err"))
            config.preopen_dir(str(root), GUEST_DIR)
            store = wasmtime.Store(engine)
            store.set_wasi(config)
            linker = wasmtime.Linker(engine)
            linker.define_wasi()
            code = 0
            t0 = time.perf_counter()
            try:
                inst = linker.instantiate(store, module)
                inst.exports(store)["_start"](store)
            except wasmtime.ExitTrap as e:
                code = e.code
            except (wasmtime.Trap, wasmtime.WasmtimeError) as e:
                outcome.error = f"wasmtime: {e}"
                break
            finally:
                inst = linker = store = None  # closes wasmtime's files
                outcome.run_seconds += time.perf_counter() - t0
            outcome.steps.append((files["out"].read_bytes(), code, files["err"].read_bytes()))
    return _collect(workload, root, outcome)


def run_on(runner: str, wasm: Path, workload: Workload, root: Path,
           precompiled: Path | None = None) -> Outcome:
    """``runner`` is a fayasm engine name or "wasmtime"."""
    if runner == "wasmtime":
        return run_wasmtime(wasm, workload, root, precompiled)
    return run_fayasm(wasm, workload, runner, root)


def runners() -> list[str]:
    """Every fayasm engine that loads here, then wasmtime when it is installed."""
    import importlib.util

    from fayasm import engines

    names = list(engines.available())
    return names + (["wasmtime"] if importlib.util.find_spec("wasmtime") else [])


# ----------------------------------------------------------------------- measuring

def worker(program: str, runner: str, size: int, wasm: str, root: str, cache: str) -> None:
    """One measurement, in its own process: run the workload and print one JSON line as
    soon as its last run is done (time and peak RSS then), then let the jit's O2 build
    finish so that the cache is complete for a warm run."""
    t0 = float(os.environ["BENCH_T0"])
    workload = WORKLOADS[program](size)
    outcome = run_on(runner, Path(wasm), workload, Path(root),
                     Path(cache, program + ".cwasm") if runner == "wasmtime" else None)
    elapsed = time.time() - t0
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    complaint = outcome.error or (workload.check(outcome) if workload.check else None)
    result = {"seconds": elapsed, "run_s": outcome.run_seconds, "rss_kib": rss,
              "digest": outcome.digest(),
              "error": outcome.error, "check": complaint,
              "codes": [s[1] for s in outcome.steps]}
    print(json.dumps(result), flush=True)
    if runner == "jit":
        from fayasm import engines

        engines.get("jit").wait_idle(1800)


def measure(program: str, runner: str, size: int, wasm: Path, cache: Path,
            timeout: float) -> dict:
    """Run one worker subprocess with FAYASM_CACHE_DIR=cache; its JSON result."""
    with tempfile.TemporaryDirectory(prefix="fayasm-real-") as root:
        env = dict(os.environ, FAYASM_CACHE_DIR=str(cache), BENCH_T0=repr(time.time()),
                   PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker",
                                 program, runner, str(size), str(wasm), root, str(cache)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                text=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:  # the result may be there, the O2 wait not done
            proc.kill()
            out, err = proc.communicate()
            err = err + f"\nno result within {timeout:.0f} s"
        lines = [ln for ln in out.splitlines() if ln.startswith("{")]
        if not lines:
            tail = (err.strip().splitlines() or ["no output"])[-1]
            return {"error": f"worker exited {proc.returncode}: {tail[:200]}"}
        return json.loads(lines[0])


# program -> runner -> size ("*": every other runner). The python engine and the
# interpreter are far slower than native code, so they get smaller sizes where the
# native runners' would take minutes; wasmtime also runs every size used, as the oracle.
SIZES = {
    "sqlite3": {"*": 20000, "interpreter": 1000},
    "lua": {"*": 20000, "python": 2000, "interpreter": 200},
    "brotli": {"*": 1_000_000, "interpreter": 100_000},
}


def size_for(program: str, runner: str, scale: float = 1.0) -> int:
    sizes = SIZES[program]
    return max(1, int(sizes.get(runner, sizes["*"]) * scale))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--programs", default=",".join(WORKLOADS))
    ap.add_argument("--runners", help="comma-separated fayasm engines and/or wasmtime "
                    "(default: all available)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every size")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per measurement")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--table", type=Path, metavar="JSON",
                    help="print the table of an earlier run's --json file and stop")
    ap.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.table:
        print(table(json.loads(args.table.read_text())))
        return 0
    if args.worker:
        program, runner, size, wasm, root, cache = args.worker
        worker(program, runner, int(size), wasm, root, cache)
        return 0
    sys.path.insert(0, str(REPO / "scripts"))
    sys.path.insert(0, str(REPO))
    import build_real_programs as brp

    programs = args.programs.split(",")
    try:
        built = brp.build(programs, quiet=True)
    except brp.Unavailable as e:
        print(f"bench_real_programs: cannot build the programs: {e}", file=sys.stderr)
        return 2
    names = args.runners.split(",") if args.runners else runners()
    if "wasmtime" not in runners():
        print("note: wasmtime is not installed; correctness is judged by the workloads' "
              "own known answers only", file=sys.stderr)
    have_wasmtime = "wasmtime" in runners()
    command = ['bench_real_programs.py'] + (argv if argv is not None else sys.argv[1:])
    print(f"# {' '.join(command)}\n# {_versions(built)}", flush=True)
    rows = []
    for program in programs:
        plan = [(r, size_for(program, r, args.scale)) for r in names if r != "wasmtime"]
        # wasmtime first at every size another runner uses: its output is the reference.
        sizes = sorted({size for _, size in plan}
                       | ({size_for(program, "*", args.scale)} if "wasmtime" in names else set()),
                       reverse=True)
        if have_wasmtime:
            plan = [("wasmtime", size) for size in sizes] + plan
        reference: dict[int, str | None] = {}
        for runner, size in plan:
            with tempfile.TemporaryDirectory(prefix="fayasm-real-cache-") as cache:
                cold = measure(program, runner, size, built[program], Path(cache),
                               args.timeout)
                warm = measure(program, runner, size, built[program], Path(cache),
                               args.timeout)
            if runner == "wasmtime":
                reference[size] = None if cold.get("error") else cold.get("digest")
            row = {"program": program, "runner": runner, "size": size}
            for label, r in (("cold", cold), ("warm", warm)):
                row[f"{label}_why"] = _judge(r, reference.get(size))
                row[f"{label}_s"] = r.get("seconds")
                row[f"{label}_run_s"] = r.get("run_s")
                row[f"{label}_rss_mib"] = _mib(r.get("rss_kib"))
            rows.append(row)
            print(_line(row), flush=True)
    print()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


def _versions(built: dict) -> str:
    """fayasm's commit, Python, llvmlite, wasmtime, and what built the programs."""
    import platform

    parts = []
    try:
        parts.append("fayasm " + subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
            text=True, timeout=10).stdout.strip())
    except OSError:
        pass
    parts.append("Python " + platform.python_version())
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("llvmlite", "wasmtime"):
        try:
            parts.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            pass
    for name, wasm in built.items():
        try:
            stamp = json.loads(Path(wasm).with_suffix(".json").read_text())
            parts.append(f"{name} from {stamp['package']}")
        except (OSError, ValueError, KeyError):
            pass
    parts.append(f"{os.cpu_count()} CPUs")
    return ", ".join(parts)


def _judge(result: dict, reference: str | None) -> str | None:
    """None when a measurement's result is right, else a one-line reason."""
    if result.get("error"):
        return _short(result["error"])
    if result.get("check"):
        return _short(result["check"])
    if reference and result.get("digest") != reference:
        return "output differs from wasmtime's"
    return None


def _short(why: str) -> str:
    """One line: the first line of a complaint, plus the innermost wasm frame if any."""
    why = why or ""
    lines = why.strip().splitlines()
    if not lines:
        return ""
    frames = [ln.strip() for ln in lines[1:] if ln.strip().startswith("at ")]
    return lines[0] + (f" ({frames[0]})" if frames else "")


def _mib(kib) -> float | None:
    return None if kib is None else kib / 1024


def _fmt(v, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def _line(row: dict) -> str:
    parts = [f"{row['program']:8} {row['runner']:12} size {row['size']:>8}"]
    for label in ("cold", "warm"):
        why = row[f"{label}_why"]
        parts.append(f"{label} {'ok' if why is None else 'WRONG'} {_fmt(row[f'{label}_s'], '.2f')}"
                     f" s (run {_fmt(row.get(f'{label}_run_s'), '.2f')} s)"
                     f" {_fmt(row[f'{label}_rss_mib'], '.0f')} MiB"
                     + (f" ({why})" if why else ""))
    return "  ".join(parts)


def table(rows: list[dict]) -> str:
    """The results as a Markdown table."""
    out = [("| program | runner | size | correct cold | correct warm | cold s | warm s "
            "| warm run s | peak RSS cold MiB | peak RSS warm MiB |"),
           "| --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |"]

    def correct(why):
        return "yes" if why is None else "no: " + why.replace("|", "/")[:120]

    for r in rows:
        out.append(f"| {r['program']} | {r['runner']} | {r['size']} | "
                   f"{correct(r['cold_why'])} | {correct(r['warm_why'])} | "
                   f"{_fmt(r['cold_s'], '.2f')} | {_fmt(r['warm_s'], '.2f')} | "
                   f"{_fmt(r.get('warm_run_s'), '.2f')} | "
                   f"{_fmt(r['cold_rss_mib'], '.0f')} | {_fmt(r['warm_rss_mib'], '.0f')} |")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())

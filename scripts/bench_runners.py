"""The runners bench.py compares, and the worker that measures one runner on one program.

A runner turns a benchmark (its .wasm, or its C source for "native") into Python callables
for its exports. Each measurement runs in a fresh subprocess (`bench.py --worker`), so
peak memory is per runner and program, and a crash or hang costs one result, not the run.
"""
from __future__ import annotations

import ctypes
import gc
import importlib.util
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "scripts" / "bench"
# The flags build.sh gives clang for wasm32, so the native library runs the same program.
NATIVE_FLAGS = ["-O2", "-fno-builtin", "-fno-strict-aliasing", "-fno-math-errno"]


# ---------------------------------------------------------------- which runners exist

def fayasm_engines() -> list[str]:
    """Every fayasm engine that loads here, as runner names ("fayasm-" + engine)."""
    sys.path.insert(0, str(REPO))
    from fayasm import engines

    return ["fayasm-" + name for name in engines.available()]


def native_compiler() -> str | None:
    """The C compiler for the native baseline: $CC, else clang (the compiler that built
    the modules), else gcc or cc."""
    for cc in (os.environ.get("CC"), "clang", "gcc", "cc"):
        if cc and shutil.which(cc):
            return shutil.which(cc)
    return None


def all_runners() -> dict[str, str | None]:
    """Runner name -> None when it can run here, else a note saying why not."""
    out: dict[str, str | None] = {name: None for name in fayasm_engines()}
    for peer, module in (("wasmtime", "wasmtime"), ("ppci-native", "ppci"),
                         ("ppci-python", "ppci"), ("pywasm", "pywasm")):
        out[peer] = None if importlib.util.find_spec(module) else f"{module} is not installed"
    out["native"] = None if native_compiler() else "no C compiler (clang, gcc or cc) found"
    return out


def version(runner: str) -> str:
    """A short version string for the report."""
    from importlib import metadata

    try:
        if runner.startswith("fayasm-"):
            return "fayasm " + metadata.version("fayasm")
        if runner == "native":
            cc = native_compiler()
            first = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
            return first.splitlines()[0] + " " + " ".join(NATIVE_FLAGS)
        dist = {"ppci-native": "ppci", "ppci-python": "ppci"}.get(runner, runner)
        return f"{dist} {metadata.version(dist)}"
    except Exception as e:  # noqa: BLE001 - a missing version must not stop a run
        return f"unknown ({type(e).__name__})"


# ---------------------------------------------------------------- loading a program

def cpu_with_children() -> float:
    """CPU seconds used so far by this process and its finished children (the C compiler)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


class Loaded:
    """A program made ready on a runner: `call(name)` gives a Python callable of an
    export; `setup_s` is the CPU time from bytes (or C source) to a callable instance
    (`setup_wall_s` the wall time)."""

    def __init__(self, runner: str, program: str, signature, work: Path):
        self.runner, self.program, self.signature = runner, program, signature
        self.wasm = (BENCH / f"{program}.wasm").read_bytes()
        self.split: dict[str, float] = {}
        start, cpu = time.perf_counter(), cpu_with_children()
        getattr(self, "_load_" + runner.split("-")[0])(work)
        self.setup_wall_s = time.perf_counter() - start
        self.setup_s = cpu_with_children() - cpu

    def _load_fayasm(self, work):
        import fayasm

        t0 = time.perf_counter()
        module = fayasm.Module(self.wasm)
        t1 = time.perf_counter()
        inst = fayasm.instantiate(module, engine=self.runner[len("fayasm-"):])
        self.split = {"decode_validate_s": t1 - t0,
                      "compile_instantiate_s": time.perf_counter() - t1}
        self._exports = inst.exports
        self.call = lambda name: getattr(self._exports, name)

    def _load_wasmtime(self, work):
        import wasmtime

        store = wasmtime.Store(self._wasmtime_engine)
        inst = wasmtime.Instance(store, wasmtime.Module(self._wasmtime_engine, self.wasm), [])
        exports = inst.exports(store)

        def call(name):
            f = exports[name]
            return lambda *args: f(store, *args)
        self.call = call

    def _load_ppci(self, work):
        import ppci.wasm

        target = self.runner.split("-", 1)[1]
        inst = ppci.wasm.instantiate(ppci.wasm.Module(self.wasm), {}, target=target)
        self.call = lambda name: inst.exports[name]

    def _load_pywasm(self, work):
        import pywasm

        runtime = pywasm.Runtime()
        mod = runtime.instance(pywasm.ModuleDesc.from_reader(io.BytesIO(self.wasm)))
        self.call = lambda name: (lambda *args: runtime.invocate(mod, name, list(args))[0])

    def _load_native(self, work):
        start = time.perf_counter()
        lib = work / f"{self.program}.so"
        cmd = [native_compiler(), *NATIVE_FLAGS, "-shared", "-fPIC", "-o", str(lib),
               str(BENCH / f"{self.program}.c")]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError("native build failed: " + done.stderr.strip()[-500:])
        self.split = {"c_compile_s": time.perf_counter() - start}
        dll = ctypes.CDLL(str(lib))
        kinds = {"i32": ctypes.c_int32, "i64": ctypes.c_int64}

        def call(name):
            f = getattr(dll, name)
            params, results = self.signature
            f.argtypes = [kinds[p] for p in params]
            f.restype = kinds[results[0]] if results else None
            return f
        self.call = call

    @staticmethod
    def prepare(runner: str):
        """Work done once per process before timing the load (engine objects a user
        keeps around: a wasmtime Engine, fayasm's engine registry entry)."""
        warnings.filterwarnings("ignore")
        if runner.startswith("fayasm-"):
            sys.path.insert(0, str(REPO))
            from fayasm import engines

            engines.get(runner[len("fayasm-"):])
        elif runner == "wasmtime":
            import wasmtime

            Loaded._wasmtime_engine = wasmtime.Engine()
        elif runner.startswith("ppci"):
            import logging

            import ppci.wasm  # noqa: F401  (imported here so the load time excludes it)
            logging.disable(logging.CRITICAL)
        elif runner == "pywasm":
            import pywasm  # noqa: F401


def export_signature(wasm: bytes, name: str) -> tuple[list[str], list[str]]:
    """The parameter and result type names of an exported function, read by fayasm's
    decoder (in the parent process, so workers for peers never import fayasm)."""
    sys.path.insert(0, str(REPO))
    import fayasm

    for export in fayasm.Module(wasm).exports:
        if export.name == name:
            return [str(t) for t in export.type.params], [str(t) for t in export.type.results]
    raise KeyError(name)


def unsigned(value: int, signature) -> int:
    """A checksum as an unsigned number of the export's result width, whatever sign
    convention the runner returns it in."""
    bits = 64 if signature[1][0] == "i64" else 32
    return int(value) & ((1 << bits) - 1)


# ---------------------------------------------------------------- measuring

def timed(f, n: int) -> tuple[float, float, int]:
    """CPU seconds and wall seconds taken by one call f(n), and its result. CPU time of
    this process is the measure: other load on the machine inflates it far less than it
    inflates wall time. The GC is left on (a collection first, so it starts clean)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = f(n)
    return time.process_time() - cpu, time.perf_counter() - wall, result


def even(x: float) -> int:
    return max(2, 2 * round(x / 2))


def choose_sizes(run, target: float, checks: dict[int, int]) -> tuple[int, int]:
    """Sizes n1 < n2, n2 about 2*n1, both even (some programs alternate two kinds of unit),
    with t(n2) near `target` seconds; doubles or scales n from 2 until a call takes long enough
    to extrapolate from. These calls also warm the runner up."""
    n, limit = 2, 2**31 - 1
    while True:
        t, _, result = timed(run, n)
        checks[n] = result
        if t >= target / 4 or n >= limit // 2:
            break
        n = min(limit // 2, even(n * min(64.0, max(2.0, target / 4 / max(t, 1e-7) * 1.2))))
    n2 = min(limit, even(n * target / max(t, 1e-9)))
    n1 = max(2, even(n2 / 2))
    return n1, max(n2, 2 * n1)


def peak_rss_mib() -> float:
    """Peak resident set of this process in MiB: VmHWM from /proc (it starts afresh at exec,
    unlike ru_maxrss, which Linux carries over from the parent that spawned us), else
    ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


_stage = "starting"  # what the worker was doing, for the report when it fails


def measure(runner: str, program: str, settings: dict) -> dict:
    """The worker's job: load, check, calibrate and time `program` on `runner`."""
    global _stage
    _stage = "importing the runner"
    usage = resource.getrusage(resource.RUSAGE_SELF)
    Loaded.prepare(runner)
    base = peak_rss_mib()
    out: dict = {"runner": runner, "program": program, "ok": True}
    with tempfile.TemporaryDirectory(prefix="fayasm-bench-") as tmp:
        _stage = "loading"
        loaded = Loaded(runner, program, settings["signature"], Path(tmp))
        out["setup_s"] = loaded.setup_s
        out["setup_wall_s"] = loaded.setup_wall_s
        out["setup_split"] = loaded.split
        _stage = "running"
        if "verify" in settings:  # checksums only, for cross-checking other runners
            run = loaded.call("run")
            out["checksums"] = {str(n): unsigned(run(n), loaded.signature)
                                for n in settings["verify"]}
        elif program == "add":
            out.update(measure_calls(loaded, settings["time"]))
        else:
            out.update(measure_slope(loaded, settings))
    out["rss_base_mib"] = base
    out["rss_peak_mib"] = peak_rss_mib()
    out["cpu_s"] = resource.getrusage(resource.RUSAGE_SELF).ru_utime - usage.ru_utime
    return out


def measure_slope(loaded: Loaded, settings: dict) -> dict:
    """Time per unit of work as the slope (t(n2) - t(n1)) / (n2 - n1), from the fastest of
    `repeats` interleaved calls at each size (CPU time; the wall-time slope is kept too);
    fixed costs (call overhead, setting up the program's data) cancel. Checksums of every
    call are kept for cross-checking."""
    run = loaded.call("run")
    checks: dict[int, int] = {}
    check_n = settings["check_n"]
    checks[check_n] = run(check_n)
    if settings.get("sizes"):
        n1, n2 = settings["sizes"]
    else:
        n1, n2 = choose_sizes(run, settings["time"], checks)
    times: dict[int, list[float]] = {n1: [], n2: []}
    walls: dict[int, list[float]] = {n1: [], n2: []}
    repeats = settings["repeats"]
    for k in range(repeats):
        for n in (n1, n2):
            t, wall, result = timed(run, n)
            times[n].append(t)
            walls[n].append(wall)
            if checks.setdefault(n, result) != result:
                raise RuntimeError(f"run({n}) gave two different checksums: {checks[n]} and "
                                   f"{result}")
        # Slow runners stop repeating once the measurement budget is spent (three at least).
        if k >= 2 and sum(times[n1]) + sum(times[n2]) > settings["budget"]:
            break
    t1, t2 = min(times[n1]), min(times[n2])
    med1, med2 = sorted(times[n1])[len(times[n1]) // 2], sorted(times[n2])[len(times[n2]) // 2]
    slope = (t2 - t1) / (n2 - n1)
    return {
        "n1": n1, "n2": n2, "t1": times[n1], "t2": times[n2],
        "wall1": walls[n1], "wall2": walls[n2],
        "time_per_unit_s": slope,
        "median_time_per_unit_s": (med2 - med1) / (n2 - n1),
        "wall_time_per_unit_s": (min(walls[n2]) - min(walls[n1])) / (n2 - n1),
        "fixed_s": max(0.0, t1 - slope * n1),
        "checksums": {str(n): unsigned(v, loaded.signature) for n, v in checks.items()},
    }


def measure_calls(loaded: Loaded, target: float) -> dict:
    """Calls per second (of CPU time) of the trivial add(a, b) export, from a plain Python
    loop (the loop's own cost, a few tens of nanoseconds a call, is included)."""
    add = loaded.call("add")
    if unsigned(add(2, 3), loaded.signature) != 5:
        raise RuntimeError(f"add(2, 3) returned {add(2, 3)!r}")
    count, best = 100, 0.0
    while True:
        start = time.process_time()
        for i in range(count):
            add(i, 1)
        t = time.process_time() - start
        if t >= target / 4:
            break
        count = int(count * min(50.0, max(2.0, target / 4 / max(t, 1e-7))))
    for _ in range(3):
        start = time.process_time()
        for i in range(count):
            add(i, 1)
        best = max(best, count / (time.process_time() - start))
    return {"calls_per_s": best, "calls": count}


def worker_main(runner: str, program: str, settings_json: str, result_path: str) -> int:
    """Entry point of `bench.py --worker`: writes the measurement, or the error, as JSON."""
    settings = json.loads(settings_json)
    try:
        out = measure(runner, program, settings)
    except BaseException as e:  # noqa: BLE001 - every failure is this job's result
        lines = [line for line in str(e).strip().splitlines() if line.strip()]
        detail = lines[-1][:300] if lines else ""
        out = {"runner": runner, "program": program, "ok": False,
               "problem": f"{_stage}: {type(e).__name__}: {detail}".rstrip(": ")}
    Path(result_path).write_text(json.dumps(out))
    return 0

"""Benchmark fayasm's engines beside wasmtime, ppci, pywasm and native C; write a report.

    python scripts/bench.py [--programs fib,sort] [--runners fayasm-interpreter,pywasm]
                            [--quick] [--time SECONDS] [--repeats N] [--out DIR]
    python scripts/bench.py --render docs/bench/report.json   # redraw from saved results

Every program in scripts/bench/*.c (built to .wasm by scripts/bench/build.sh) exports
run(n): work linear in n, returning a checksum. Time per unit of work is the slope
(t(n2) - t(n1)) / (n2 - n1) between two sizes timed in one process, so start-up and call
overheads cancel; each runner gets sizes scaled to its own speed. Every runner x program
runs in a fresh subprocess (peak RSS is that process's VmHWM). Checksums must agree
across runners; a runner that disagrees is reported and left out of every ratio.
Writes report.md, report.json and chart.png (if matplotlib is installed) to --out.
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_runners as runners

REPO = runners.REPO
BENCH = runners.BENCH
EXPECTED = BENCH / "expected.json"
# Sizes for the smoke test and --quick: small enough for the reference interpreter to
# run every program in about a second in all (pywasm needs about 20 s).
TEST_N = {"fib": 4, "loops": 16, "memory": 2, "nbody": 16, "mandel": 2, "hash": 4,
          "sort": 2, "dispatch": 8, "simd": 4}
# Which runner's checksums the others are verified against, best first (fast ones only:
# the verification recomputes every size any runner used).
REFERENCES = ["native", "wasmtime", "fayasm-jit"]


def programs() -> list[str]:
    """The benchmark programs: sources that include bench.h and have a built module."""
    out = []
    for src in sorted(BENCH.glob("*.c")):
        if '#include "bench.h"' in src.read_text() and src.stem != "add":
            if (BENCH / f"{src.stem}.wasm").exists():
                out.append(src.stem)
    return out


def describe(program: str) -> str:
    """The first sentence of the program's leading comment."""
    text = (BENCH / f"{program}.c").read_text()
    m = re.match(r"\s*/\*(.*?)\*/", text, re.S)
    words = " ".join(line.strip(" *") for line in m.group(1).splitlines()) if m else ""
    return words.split(". ")[0].strip().rstrip(".")


def uses_simd(program: str) -> bool:
    """Whether build.sh compiles the program with -msimd128 (its "wasm-flags:" line)."""
    src = BENCH / f"{program}.c"
    return src.exists() and re.search(r"wasm-flags:.*simd128", src.read_text()) is not None


def signatures() -> dict[str, tuple]:
    names = programs()
    out = {p: runners.export_signature((BENCH / f"{p}.wasm").read_bytes(), "run") for p in names}
    out["add"] = runners.export_signature((BENCH / "add.wasm").read_bytes(), "add")
    return out


# ---------------------------------------------------------------- subprocess jobs

def run_job(runner: str, program: str, settings: dict, timeout: float) -> dict:
    """One runner x program measurement in a fresh Python process."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        result_path = Path(f.name)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", runner, program,
           json.dumps(settings), str(result_path)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        text = result_path.read_text() if result_path.stat().st_size else ""
        if text:
            return json.loads(text)
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"runner": runner, "program": program, "ok": False,
                "problem": f"worker died (exit status {done.returncode}): {tail[0][:300]}"}
    except subprocess.TimeoutExpired:
        return {"runner": runner, "program": program, "ok": False,
                "problem": f"timed out after {timeout:.0f} s"}
    finally:
        result_path.unlink(missing_ok=True)


class Progress:
    """Prints which job runs and an estimate of the time left, from the mean duration of
    finished jobs of the same runner (or of all jobs, for a runner not seen yet)."""

    def __init__(self, jobs: list[tuple[str, str]]):
        self.jobs, self.done, self.start = jobs, {}, time.monotonic()

    def estimate(self, remaining: list[tuple[str, str]]) -> float:
        every = [t for ts in self.done.values() for t in ts]
        mean_all = sum(every) / len(every) if every else 10.0
        total = 0.0
        for runner, _ in remaining:
            ts = self.done.get(runner)
            total += sum(ts) / len(ts) if ts else mean_all
        return total

    def begin(self, index: int) -> None:
        runner, program = self.jobs[index]
        left = self.estimate(self.jobs[index:])
        elapsed = time.monotonic() - self.start
        print(f"[{index + 1:>3}/{len(self.jobs)}] {program:<9} on {runner:<19} "
              f"elapsed {clock(elapsed)}, about {clock(left)} left", end="", flush=True)

    def end(self, index: int, seconds: float, result: dict) -> None:
        self.done.setdefault(self.jobs[index][0], []).append(seconds)
        if not result.get("ok"):
            note = "FAILED: " + result.get("problem", "?")
        elif "calls_per_s" in result:
            note = f"{result['calls_per_s']:,.0f} calls/s"
        else:
            note = (f"{result['time_per_unit_s'] * 1e6:,.3f} us/unit "
                    f"(n={result['n1']}..{result['n2']})")
        print(f"  {seconds:5.1f} s  {note}", flush=True)


def clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s"


# ---------------------------------------------------------------- checksum verification

def verify(results: dict, expected: dict, sigs: dict, timeout: float) -> list[str]:
    """Cross-check checksums: every runner against the committed expected value at the
    smoke size, and against a fast reference runner at every size any runner used.
    Marks each disagreeing result not ok; returns the messages."""
    problems = []
    for program, by_runner in results.items():
        exp = expected.get(program)
        for runner, res in by_runner.items():
            if not res.get("ok") or not exp:
                continue
            got = res["checksums"].get(str(exp["n"]))
            if got is not None and got != exp["checksum"]:
                res["ok"] = False
                res["problem"] = (f"CHECKSUM MISMATCH: run({exp['n']}) = {got:#x}, "
                                  f"expected {exp['checksum']:#x} (scripts/bench/expected.json)")
                problems.append(f"{program} on {runner}: {res['problem']}")
        ok = {r: res for r, res in by_runner.items() if res.get("ok")}
        reference = next((r for r in REFERENCES if r in ok), None)
        if reference is None:
            # No fast reference: compare the sizes runners happen to share, pairwise.
            seen: dict[str, tuple[str, int]] = {}
            for runner, res in ok.items():
                for n, value in res["checksums"].items():
                    if n in seen and seen[n][1] != value:
                        res["ok"] = False
                        res["problem"] = (f"CHECKSUM MISMATCH: run({n}) = {value:#x}, "
                                          f"{seen[n][0]} gave {seen[n][1]:#x}")
                        problems.append(f"{program} on {runner}: {res['problem']}")
                    seen.setdefault(n, (runner, value))
            continue
        sizes = sorted({int(n) for res in ok.values() for n in res["checksums"]})
        settings = {"verify": sizes, "signature": sigs[program]}
        ref = run_job(reference, program, settings, timeout)
        if not ref.get("ok"):
            problems.append(f"{program}: verification on {reference} failed: {ref.get('problem')}")
            continue
        for runner, res in ok.items():
            res["verified_against"] = reference
            for n, value in res["checksums"].items():
                want = ref["checksums"].get(n)
                if want is not None and want != value:
                    res["ok"] = False
                    res["problem"] = (f"CHECKSUM MISMATCH: run({n}) = {value:#x}, "
                                      f"{reference} gives {want:#x}")
                    problems.append(f"{program} on {runner}: {res['problem']}")
                    break
    return problems


def write_expected() -> None:
    """Compute the smoke-size checksums natively and write scripts/bench/expected.json."""
    sigs = signatures()
    out = {}
    for program in programs():
        n = TEST_N.get(program, 2)
        res = run_job("native", program, {"verify": [n], "signature": sigs[program]}, 300)
        if not res.get("ok"):
            sys.exit(f"{program}: {res.get('problem')}")
        out[program] = {"n": n, "checksum": res["checksums"][str(n)]}
        print(f"{program}: run({n}) = {out[program]['checksum']:#x}")
    EXPECTED.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {EXPECTED.relative_to(REPO)}")


# ---------------------------------------------------------------- main

def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--programs", help="comma-separated programs (default: all)")
    ap.add_argument("--runners", help="comma-separated runners (default: all available); "
                    "fayasm engines are fayasm-ENGINE")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: the test sizes, one repeat, no calibration")
    ap.add_argument("--time", type=float, default=0.7,
                    help="target CPU seconds for the larger size's call (default 0.7)")
    ap.add_argument("--repeats", type=int, default=7,
                    help="timed calls per size; the fastest counts (default 7)")
    ap.add_argument("--budget", type=float, default=20.0,
                    help="seconds of timed calls after which a slow runner stops "
                    "repeating (it still makes 3; default 20)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per job (default 600)")
    ap.add_argument("--out", default=str(REPO / "docs" / "bench"), help="report directory")
    ap.add_argument("--no-chart", action="store_true", help="skip chart.png")
    ap.add_argument("--write-expected", action="store_true",
                    help="recompute scripts/bench/expected.json natively, then stop")
    ap.add_argument("--render", metavar="REPORT_JSON",
                    help="only rewrite report.md and chart.png in --out from a saved report.json")
    return ap.parse_args(argv)


def pick(requested: str | None, known: list[str], what: str) -> list[str]:
    if not requested:
        return known
    out = []
    for name in requested.split(","):
        name = name.strip()
        if name not in known and "fayasm-" + name in known:
            name = "fayasm-" + name
        if name not in known:
            sys.exit(f"unknown {what} {name!r}; choose from {', '.join(known)}")
        out.append(name)
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        return runners.worker_main(*argv[1:5])
    args = parse_args(argv)
    if args.write_expected:
        write_expected()
        return 0
    if args.render:
        import bench_report

        saved = json.loads(Path(args.render).read_text())
        saved.pop("ratios", None)  # recomputed from the results
        paths = bench_report.write(saved, Path(args.out), chart=not args.no_chart)
        print("wrote " + ", ".join(str(p) for p in paths))
        return 0
    command = "python scripts/bench.py" + ("" if not argv else " " + shlex.join(argv))
    started = time.time()
    before = machine()
    avail = runners.all_runners()
    all_names = list(avail)
    chosen = pick(args.runners, all_names, "runner")
    skipped = {r: avail[r] for r in chosen if avail[r]}
    for runner, note in skipped.items():
        print(f"skipping {runner}: {note}")
    active = [r for r in chosen if r not in skipped]
    progs = pick(args.programs, programs(), "program")
    expected = json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}
    sigs = signatures()

    jobs = [(r, p) for p in progs for r in active] + [(r, "add") for r in active]
    progress = Progress(jobs)
    results: dict[str, dict[str, dict]] = {p: {} for p in progs}
    calls: dict[str, dict] = {}
    print(f"{len(progs)} programs x {len(active)} runners, plus calls/s of add(): "
          f"{len(jobs)} jobs")
    for index, (runner, program) in enumerate(jobs):
        settings = {"time": 0.05 if args.quick else args.time,
                    "repeats": 1 if args.quick else args.repeats,
                    "budget": args.budget, "signature": sigs[program],
                    "check_n": TEST_N.get(program, 2)}
        if args.quick and program != "add":
            settings["sizes"] = [settings["check_n"], 2 * settings["check_n"]]
        progress.begin(index)
        t0 = time.monotonic()
        res = run_job(runner, program, settings, args.timeout)
        progress.end(index, time.monotonic() - t0, res)
        if not res.get("ok") and uses_simd(program) and res["problem"].startswith("loading"):
            res["problem"] += " (this module uses SIMD: v128 instructions)"
        (calls if program == "add" else results[program])[runner] = res

    print("verifying checksums ...", flush=True)
    problems = verify(results, expected, sigs, args.timeout)
    wall = time.time() - started
    report = {
        "command": command, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "wall_s": wall,
        "machine": dict(machine(), load_average_before=before["load_average"],
                        git_before=before["git"]),
        "settings": {"quick": args.quick, "time": args.time, "repeats": args.repeats,
                     "budget": args.budget},
        "runners": {r: {"available": avail[r] is None, "note": avail[r] or "",
                        "version": runners.version(r) if avail[r] is None else ""}
                    for r in chosen},
        "programs": {p: {"description": describe(p), "simd": uses_simd(p),
                         "checksum_bits": 64 if sigs[p][1][0] == "i64" else 32} for p in progs},
        "results": results, "calls": calls, "problems": problems,
    }
    import bench_report

    paths = bench_report.write(report, Path(args.out), chart=not args.no_chart)
    print(f"done in {clock(wall)}; wrote " + ", ".join(str(p) for p in paths))
    failed = [(p, r, res["problem"]) for p, by in results.items() for r, res in by.items()
              if not res.get("ok")]
    failed += [("add", r, res["problem"]) for r, res in calls.items() if not res.get("ok")]
    for p, r, problem in failed:
        loud = "!!! " if "MISMATCH" in problem else ""
        print(f"{loud}{p} on {r}: {problem}")
    return 1 if problems else 0


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpu": cpu or platform.processor(), "cpus": os.cpu_count(),
            "load_average": os.getloadavg()[0], "git": git_state()}


def git_state() -> str:
    """The commit measured, and whether the engine code had uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "fayasm", "runtime",
                                "translator"], cwd=REPO, capture_output=True, text=True).stdout
    except OSError:
        return "unknown"
    if dirty.strip():
        return head + " with uncommitted changes in fayasm/, runtime/ or translator/"
    return head


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

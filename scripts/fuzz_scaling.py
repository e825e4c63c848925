"""Does a fuzzing campaign scale, and what does Ray cost? Modules/s and executions/s of
the same seed range on 1 and 2 local worker processes (``fayasm fuzz --jobs``) and on 1
and 2 workers under a local Ray cluster (``fayasm fuzz --ray``), in one run.

    python scripts/fuzz_scaling.py                    # 40 modules, every engine + wasmtime
    python scripts/fuzz_scaling.py --modules 20 --repeat 1 --engines interpreter python

Each configuration runs the module numbers 0..M-1 of ``--seed`` (the same modules for
all), timed from the call to the end of the campaign: worker start-up (imports, the
jit's first compilations) counts, as it does in a real campaign; starting the Ray
cluster does not (it is reported apart: a long campaign starts it once). With
``--repeat 2`` the configurations run in the order A B C D D C B A, so a change in the
machine's load during the run weighs on every configuration alike; the table gives the
mean. The machine's load average is printed before and after: on a shared machine the
ratios are what to read. Differences found are counted, not shrunk (``shrink_seconds=0``).
CPU time per module counts every process the run started (workers, the Ray daemons):
on a shared machine whose load exceeds its cores, wall-clock rates follow the share of
the CPU the run gets, and CPU per module is the figure the load does not move. The
driver's CPU time per module (the parent process: the queue and progress for
``--jobs``, the records and the one re-diff per new kind of difference for Ray) is what
bounds how many workers one driver can feed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time


def tree_cpu() -> float:
    """CPU seconds used so far by this process and all its descendants, live or reaped
    (from /proc: utime, stime, cutime, cstime), so Ray's raylet, GCS and workers and the
    --jobs worker processes and manager all count. 0.0 where /proc is missing."""
    tick = os.sysconf("SC_CLK_TCK")
    parent, used = {}, {}
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[pid] = int(fields[1])
        used[pid] = sum(int(x) for x in fields[11:15]) / tick
    me, total = os.getpid(), 0.0
    for pid in used:
        p = pid
        while p not in (0, 1, me) and p in parent:
            p = parent[p]
        if p == me:
            total += used[pid]
    return total


def plain(config, jobs: int):
    from fayasm.testing.parallel import run_parallel

    t0, c0, a0 = time.monotonic(), time.process_time(), tree_cpu()
    summary = run_parallel(config, jobs, out=open(os.devnull, "w"))
    return (time.monotonic() - t0, time.process_time() - c0, tree_cpu() - a0, summary,
            None)


def record_cost(ray, n: int = 3000) -> float:
    """Driver CPU ms to receive one record of a streaming task (records shaped as the
    campaign's: module number, executions, outcome counts)."""
    @ray.remote(num_cpus=1)
    def stream(n):
        for i in range(n):
            yield ("module", i, 2500, {"result": 2000, "integer_divide_by_zero": 40,
                                       "out_of_bounds_memory_access": 120}, None)

    gen = stream.remote(n)
    ray.get(next(gen))  # started
    c0 = time.process_time()
    k = 0
    for ref in gen:
        ray.get(ref)
        k += 1
    return (time.process_time() - c0) * 1000 / max(1, k)


def on_ray(config, jobs: int, records: list | None = None):
    import ray

    from fayasm.testing.raybackend import run_ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no report leaves the machine
    t0 = time.monotonic()
    ray.init(num_cpus=jobs, include_dashboard=False, logging_level="ERROR")
    up = time.monotonic() - t0
    try:
        if records is not None and not records:
            records.append(record_cost(ray))
        t1, c1, a1 = time.monotonic(), time.process_time(), tree_cpu()
        summary = run_ray(config, jobs=jobs, out=open(os.devnull, "w"))
        return (time.monotonic() - t1, time.process_time() - c1, tree_cpu() - a1, summary,
                up)
    finally:
        ray.shutdown()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--modules", type=int, default=40, help="the seed range: modules 0..M-1")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, default=2, help="runs of each configuration")
    p.add_argument("--engines", nargs="+", default=None)
    p.add_argument("--no-wasmtime", action="store_true")
    p.add_argument("--no-ray", action="store_true", help="only the plain configurations")
    args = p.parse_args(argv)

    from fayasm import engines as registry
    from fayasm.testing.campaign import CampaignConfig

    os.environ["FAYASM_CACHE"] = "0"
    names = args.engines or registry.available()
    wasmtime = not args.no_wasmtime
    import importlib.util

    if importlib.util.find_spec("wasmtime") is None:
        wasmtime = False
    configs = [("plain", 1), ("plain", 2)]
    if not args.no_ray:
        if importlib.util.find_spec("ray") is None:
            print("Ray is not installed (pip install 'fayasm[ray]'): plain runs only")
        else:
            configs += [("ray", 1), ("ray", 2)]
    order = []
    for r in range(args.repeat):
        order += configs if r % 2 == 0 else configs[::-1]
    print(f"{args.modules} modules of seed {args.seed}, engines {', '.join(names)}"
          f"{' + wasmtime' if wasmtime else ''}; order: "
          + " ".join(f"{k}{j}" for k, j in order))
    load0 = os.getloadavg()
    print("load average before: " + " ".join(f"{x:.2f}" for x in load0), flush=True)
    runs: dict = {c: [] for c in configs}
    records: list = []  # driver CPU per streamed record, measured once
    for kind, jobs in order:
        config = CampaignConfig(engines=names, wasmtime=wasmtime, seed=args.seed,
                                modules=args.modules, seconds=3600, shrink_seconds=0,
                                corpus=tempfile.mkdtemp(prefix="fayasm-scaling-"),
                                progress=False)
        if kind == "plain":
            seconds, cpu, all_cpu, summary, up = plain(config, jobs)
        else:
            seconds, cpu, all_cpu, summary, up = on_ray(config, jobs, records)
        runs[(kind, jobs)].append((seconds, summary.modules, summary.executions, all_cpu))
        n = max(1, summary.modules)
        print(f"  {kind} x{jobs}: {summary.modules} modules, {summary.executions} executions "
              f"in {seconds:.1f}s" + (f" (cluster start {up:.1f}s, not counted)" if up else "")
              + f"; CPU {all_cpu / n * 1000:.0f} ms/module in all processes, driver "
              f"{cpu * 1000 / n:.1f}; {summary.differences} differences; "
              f"load {os.getloadavg()[0]:.2f}", flush=True)
    load1 = os.getloadavg()
    print("load average after: " + " ".join(f"{x:.2f}" for x in load1))
    print()
    print(f"{'configuration':<14} {'modules/s':>10} {'executions/s':>13} {'vs plain':>9} "
          f"{'CPU s/module':>13} {'vs plain':>9}")
    rates, cost = {}, {}
    for (kind, jobs), rs in runs.items():
        mods = statistics.mean(m / s for s, m, _, _ in rs)
        execs = statistics.mean(e / s for s, _, e, _ in rs)
        cpu = statistics.mean(c / max(1, m) for _, m, _, c in rs)
        rates[(kind, jobs)], cost[(kind, jobs)] = mods, cpu
        base, base_cpu = rates.get(("plain", jobs)), cost.get(("plain", jobs))
        vs = f"{mods / base:9.2f}" if base and kind == "ray" else f"{'':9}"
        vs_cpu = f"{cpu / base_cpu:9.2f}" if base_cpu and kind == "ray" else f"{'':9}"
        print(f"{kind + ' x' + str(jobs):<14} {mods:10.2f} {execs:13.0f} {vs} {cpu:13.3f} "
              f"{vs_cpu}")
    if ("plain", 2) in rates:
        print(f"\nscaling, plain 2 workers / 1: {rates[('plain', 2)] / rates[('plain', 1)]:.2f}")
    if ("ray", 2) in rates:
        overhead = 1 - rates[("ray", 2)] / rates[("plain", 2)]
        print(f"Ray overhead at 2 workers, wall clock: {overhead * 100:.1f}% of plain --jobs 2 "
              f"throughput (target: under 10%)")
        extra = cost[("ray", 2)] / cost[("plain", 2)] - 1
        print(f"Ray overhead at 2 workers, CPU per module (all processes): {extra * 100:+.1f}%"
              " (on a machine with no spare core, throughput is CPU share / this)")
    if records:
        print(f"driver CPU per streamed record: {records[0]:.2f} ms (3,000 records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

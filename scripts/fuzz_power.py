"""How strong is the differential fuzzer? Inject semantic bugs into the engines and see
how many ``fayasm fuzz`` finds, and how fast.

    python scripts/fuzz_power.py                      # every mutant, 150 s each, 2 at a time
    python scripts/fuzz_power.py --seconds 60 --only rem_s_sign select_swap
    python scripts/fuzz_power.py --list
    python scripts/fuzz_power.py --held-out           # only the mutants the generator was
                                                      # not tuned against

Each mutant runs in a process of its own: the bug is patched in by monkeypatching (an
instruction's semantics in one engine's numerics table or handler, its IR before an
engine lowers it, or a bounds check in the JIT's emitter; no file is changed), a small
*witness* module first confirms that the bug is live (the injected engine really
behaves differently on it), then a campaign runs - the same one ``fayasm fuzz`` runs:
generated modules on every engine and wasmtime - until the first difference or the time
limit. The table reports, per mutant, whether it was found, after how many seconds and
modules, and the difference's headline. ``--control`` adds a run with no mutant, which
must find nothing. The seed is fixed (``--seed``), so a run is reproducible up to the
timing of the engines. The mutants themselves, with their witnesses, are the catalogue
in fayasm/testing/mutants.py.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from fayasm.testing.mutants import MUTANTS, witness


def run_one(name: str, seconds: float, seed: int, engines) -> dict:
    """In this process: inject ``name`` (or nothing, for "control") and run a campaign
    until a difference the mutant causes: one that an unmutated run of the same module
    (in a fresh process) does not show. Other differences are bugs the engines have
    anyway; their signatures are set aside and the campaign goes on."""
    import tempfile

    os.environ["FAYASM_CACHE"] = "0"
    from fayasm.testing.campaign import Campaign, CampaignConfig

    out = {"mutant": name, "noise": []}
    if name != "control":
        m = MUTANTS[name]
        m.apply()
        out["witness"] = witness(m, engines)
    corpus = tempfile.mkdtemp(prefix="fayasm-power-")
    known: dict = {}
    t0 = time.monotonic()
    modules = executions = 0
    round_ = 0
    while True:
        left = seconds - (time.monotonic() - t0)
        if left <= 0:
            break
        config = CampaignConfig(engines=engines, wasmtime=True, seconds=left,
                                seed=seed * 100 + round_, corpus=corpus, shrink_seconds=0,
                                stop_on_first=True, progress=False)
        summary = Campaign(config, known=known).run()
        round_ += 1
        found = summary.found[0] if summary.found else None
        if found is not None:
            found.modules_before += modules  # count from the start of this mutant's run
            found.seconds = time.monotonic() - t0
        modules += summary.modules
        executions += summary.executions
        if found is None:
            break
        if name != "control" and _also_without_mutant(found.files["wasm"], engines):
            out["noise"].append(found.report.splitlines()[0] + " | "
                                + " ".join(map(str, found.signature[:2])))
            known[found.signature] = 1_000  # not the mutant's: look further
            continue
        out.update(at_seconds=round(found.seconds, 1), at_modules=found.modules_before,
                   headline=found.report.splitlines()[0] + " | " + found.signature[0] + " "
                   + ",".join(found.signature[1]), report=found.report, file=found.files["wasm"])
        break
    out.update(modules=modules, executions=executions, found="at_seconds" in out,
               seconds=round(time.monotonic() - t0, 1))
    return out


def _also_without_mutant(path: str, engines) -> bool:
    """Whether the module differs on the engines as they are (a fresh process)."""
    cmd = [sys.executable, "-m", "fayasm", "diff", path, "--engines", *engines]
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          env=dict(os.environ, FAYASM_CACHE="0"))
    return proc.returncode != 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=150.0, help="time limit per mutant")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=2, help="mutants run at the same time")
    p.add_argument("--engines", nargs="+", help="engines (default: every available one)")
    p.add_argument("--only", nargs="+", metavar="MUTANT")
    p.add_argument("--control", action="store_true", help="also run with no mutant")
    p.add_argument("--held-out", action="store_true",
                   help="only the mutants written after the generator's last tuning")
    p.add_argument("--list", action="store_true")
    p.add_argument("--json", metavar="FILE", help="write the results here too")
    p.add_argument("--run", metavar="MUTANT", help=argparse.SUPPRESS)  # one, in this process
    args = p.parse_args(argv)
    if args.list:
        for m in MUTANTS.values():
            print(f"{m.name:28} {m.engine:12} {m.description}")
        return 0
    from fayasm import engines as registry

    engines = args.engines or registry.available()
    if args.run:
        print(json.dumps(run_one(args.run, args.seconds, args.seed, engines)))
        return 0
    names = args.only or [n for n, m in MUTANTS.items() if m.held_out or not args.held_out]
    if args.control:
        names = names + ["control"]
    print(f"{len(names)} runs on {', '.join(engines)} + wasmtime, {args.seconds:.0f}s each, "
          f"seed {args.seed}", flush=True)
    results = []
    pending = list(names)
    running: dict = {}
    while pending or running:
        while pending and len(running) < args.jobs:
            n = pending.pop(0)
            cmd = [sys.executable, os.path.abspath(__file__), "--run", n, "--seconds",
                   str(args.seconds), "--seed", str(args.seed), "--engines", *engines]
            running[n] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True)
        for n, proc in list(running.items()):
            if proc.poll() is None:
                continue
            stdout, stderr = proc.communicate()
            del running[n]
            try:
                r = json.loads(stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                r = {"mutant": n, "found": False, "error": (stderr or stdout)[-500:]}
            results.append(r)
            _line(r)
        time.sleep(0.2)
    _summary(results)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    return 0


def _line(r: dict) -> None:
    m = MUTANTS.get(r["mutant"])
    where = m.engine if m else "-"
    if r.get("error"):
        print(f"{r['mutant']:28} {where:12} ERROR {r['error']}", flush=True)
        return
    if r["found"]:
        status = f"found in {r['at_seconds']:6.1f}s after {r['at_modules']:4d} modules"
    else:
        status = f"NOT found in {r['seconds']:.0f}s ({r['modules']} modules)"
    live = r.get("witness", "")
    print(f"{r['mutant']:28} {where:12} {status}  [witness: {live}]", flush=True)
    for n in r.get("noise", []):
        print(f"{'':41} (set aside, also without the mutant: {n})", flush=True)
    if r["found"]:
        print(f"{'':41} {r['headline']}", flush=True)


def _summary(results: list) -> None:
    muts = [r for r in results if r["mutant"] != "control"]
    found = [r for r in muts if r.get("found")]
    print(f"\nfound {len(found)} of {len(muts)} injected bugs")
    held = [r for r in muts if r["mutant"] in MUTANTS and MUTANTS[r["mutant"]].held_out]
    if held:
        print(f"  of them held out (written after the generator's last tuning): found "
              f"{sum(1 for r in held if r.get('found'))} of {len(held)}")
    if found:
        ts = sorted(r["at_seconds"] for r in found)
        ms = sorted(r["at_modules"] for r in found)
        print(f"time to detection: median {ts[len(ts) // 2]:.1f}s, max {ts[-1]:.1f}s; "
              f"modules: median {ms[len(ms) // 2]}, max {ms[-1]}")
    for r in results:
        if r["mutant"] == "control":
            print("control (no mutant): " + ("no difference in "
                  f"{r['modules']} modules" if not r.get("found") else "DIFFERENCE: "
                  + r["headline"]))


if __name__ == "__main__":
    sys.exit(main())

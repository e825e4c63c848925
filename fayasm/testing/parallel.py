"""Campaigns in several processes, with a watchdog for engines that hang.

``run_parallel`` starts ``jobs`` worker processes, each running a ``Campaign`` on its
own slice of the campaign's module numbers (worker k of J takes every J-th number of the
shard, ``campaign.sub_shard``), so J workers explore exactly the modules one would; they
share the corpus and the signatures already saved, and report progress through a queue,
which the parent prints as one line. Before each module runs, a worker writes it to its
own scratch file and sends a heartbeat with its number. A worker silent for
``hang_seconds`` is stuck in an engine (native code cannot be interrupted from Python):
the parent kills it, saves the module it was running as a "hang" difference, and starts
a new worker in its place that resumes after that module. A worker that dies (a crash in
native code) is replaced the same way, its module saved as a "crash".
"""
from __future__ import annotations

import os
import pickle
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from typing import Any

from .campaign import Campaign, CampaignConfig, Found, Summary, save_raw, sub_shard

HANG_SECONDS = 300.0


def _counts(s: Summary) -> tuple:
    return (s.modules, s.executions, s.differences, s.shrink_runs, dict(s.outcomes),
            dict(s.signatures))


def _worker(config: CampaignConfig, queue, known, index: int, scratch: str) -> None:
    def events(event):
        kind, payload = event
        if kind == "progress":
            payload = _counts(payload)
        queue.put((kind, index, payload))

    def heartbeat(binary: bytes, m: int) -> None:
        # The module's number and the counts so far go to the file too, written before the
        # module runs: a queued message can die unsent with the process, the file cannot.
        counts = _counts(campaign.summary)
        with open(scratch, "wb") as f:
            pickle.dump((m, counts, binary), f)
        queue.put(("beat", index, (m, counts)))

    queue.put(("started", index, None))  # imports done: the watchdog starts counting
    try:
        campaign = Campaign(config, events=events, known=known, heartbeat=heartbeat)
        summary = campaign.run()
        events(("progress", summary))
    finally:
        queue.put(("done", index, None))


def run_parallel(config: CampaignConfig, jobs: int = 1, out=None,
                 hang_seconds: float = HANG_SECONDS) -> Summary:
    """Run ``config`` in ``jobs`` processes; see the module docstring."""
    import multiprocessing as mp
    import queue as queues

    out = out or sys.stderr
    tty = getattr(out, "isatty", lambda: False)()
    # spawn, not fork: a forked child of a process with threads (the JIT compiles in
    # background threads) can deadlock on a lock some thread held at the fork
    ctx = mp.get_context("spawn")
    manager = ctx.Manager()
    known = manager.dict()
    q = ctx.Queue()
    scratch_dir = tempfile.mkdtemp(prefix="fayasm-fuzz-")
    t0 = time.monotonic()
    procs: dict[int, Any] = {}
    beats: dict[int, float] = {}
    parts: dict[int, Any] = {}
    offsets: dict[int, Any] = {}
    current: dict[int, int] = {}
    restarts: Counter[int] = Counter()
    total = Summary()

    def start(k: int, first: int | None = None) -> None:
        left = config.seconds - (time.monotonic() - t0)
        cfg = replace(config, shard=sub_shard(config, k, jobs), progress=False,
                      seconds=max(0.0, left), first=config.first if first is None else first)
        p = ctx.Process(target=_worker, args=(cfg, q, known, k, _scratch(scratch_dir, k)),
                        daemon=True)
        p.start()
        procs[k] = p
        beats[k] = time.monotonic()

    def write(text: str) -> None:
        out.write(("\r\033[K" if tty else "") + text + "\n")
        out.flush()

    for k in range(jobs):
        start(k)
    last = 0.0
    try:
        while procs:
            try:
                kind, k, payload = q.get(timeout=1.0)
            except queues.Empty:
                kind = None
            now = time.monotonic()
            if kind == "done":
                procs.pop(k, None)
            elif kind in ("beat", "started"):
                beats[k] = now
                if kind == "beat":
                    current[k], counts = payload
                    parts[k] = _add(offsets.get(k), counts)
            elif kind == "progress":
                parts[k] = _add(offsets.get(k), payload)
            elif kind == "found":
                total.found.append(payload)
            elif kind == "print":
                write(payload)
            if now - t0 > config.seconds + config.shrink_seconds + hang_seconds:
                write("workers did not stop in time; killing them")
                for p in procs.values():
                    p.kill()
                break
            for k, p in list(procs.items()):
                hung = now - beats[k] > hang_seconds and p.is_alive()
                gone = not hung and not p.is_alive() and kind != "done" and q.empty()
                if gone and p.exitcode == 0:
                    procs.pop(k)  # ended without saying so, but cleanly
                    continue
                if not hung and not gone:
                    continue
                if hung:
                    p.kill()
                p.join(timeout=5)
                what = "hang" if hung else "crash"
                m, counts, found = _save_stuck(config, what, _scratch(scratch_dir, k),
                                               hang_seconds, total)
                if counts is not None:
                    parts[k] = _add(offsets.get(k), counts)
                write(f"worker {k}: " + (f"no module finished in {hang_seconds:.0f}s; killed"
                                         if hung else f"died (exit code {p.exitcode})")
                      + (f", module saved as {found.files['wasm']}" if found else ""))
                offsets[k] = parts.get(k)
                restarts[k] += 1
                procs.pop(k)
                if now - t0 < config.seconds and m is not None:
                    start(k, first=m + 1)
            if now - last >= (1.0 if tty else 30.0):
                last = now
                _merge(total, parts, now - t0)
                out.write(("\r" if tty else "") + total.line() + ("" if tty else "\n"))
                out.flush()
    except KeyboardInterrupt:
        write("interrupted")
        for p in procs.values():
            p.kill()
    for p in procs.values():
        p.join(timeout=5)
    _merge(total, parts, time.monotonic() - t0)
    out.write(("\r" if tty else "") + total.line() + "\n")
    manager.shutdown()
    shutil.rmtree(scratch_dir, ignore_errors=True)
    return total


def _scratch(d: str, k: int) -> str:
    return os.path.join(d, f"worker{k}.wasm")


def _add(base, payload):
    """A restarted worker counts from zero: add what its predecessors did."""
    if base is None:
        return payload
    out = [a + b for a, b in zip(base[:4], payload[:4])]
    return (*out, dict(Counter(base[4]) + Counter(payload[4])),
            dict(Counter(base[5]) + Counter(payload[5])))


def _merge(total: Summary, parts: dict, seconds: float) -> None:
    total.modules = sum(p[0] for p in parts.values())
    total.executions = sum(p[1] for p in parts.values())
    total.differences = sum(p[2] for p in parts.values())
    total.shrink_runs = sum(p[3] for p in parts.values())
    total.outcomes = Counter()
    total.signatures = Counter()
    for p in parts.values():
        total.outcomes.update(p[4])
        total.signatures.update(p[5])
    total.seconds = seconds


def _save_stuck(config: CampaignConfig, what: str, scratch: str, seconds: float,
                total: Summary):
    """Keep the module a killed or dead worker was running (not shrunk: it hangs or
    crashes the process): (its number, the worker's counts when it began it, Found), or
    Nones if it had not begun one."""
    try:
        with open(scratch, "rb") as f:
            m, counts, binary = pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError, ValueError):
        return None, None, None
    os.remove(scratch)
    engines = ",".join(config.engines)
    where = "" if m is None else f" (module {m} of seed {config.seed})"
    report = (f"an engine did not finish this module within {seconds:.0f}s{where} "
              f"(engines: {engines}); try each alone with --engines" if what == "hang" else
              f"a worker process died running this module{where} (engines: {engines}); try "
              "each alone with --engines")
    import hashlib

    sig = (what, tuple(config.engines), hashlib.sha256(binary).hexdigest()[:8])
    files = {}
    if config.corpus:
        files = save_raw(config.corpus, what, binary, report, sig, config.engines,
                         config.wasmtime)
    found = Found(sig, (), report, files, total.modules, total.seconds)
    total.found.append(found)
    return m, counts, (found if files else None)


__all__ = ["run_parallel", "HANG_SECONDS"]

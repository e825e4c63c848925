"""Campaigns in several processes, with a watchdog for engines that hang.

``run_parallel`` starts ``jobs`` worker processes, each running a ``Campaign`` with its
own seed; they share the corpus and the signatures already saved, and report progress
through a queue, which the parent prints as one line. Before each module runs, a worker
writes it to its own scratch file and sends a heartbeat. A worker silent for
``hang_seconds`` is stuck in an engine (native code cannot be interrupted from Python):
the parent kills it, saves the module it was running as a "hang" difference, and starts
a new worker in its place with a fresh seed.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from typing import Any

from .campaign import Campaign, CampaignConfig, Found, Summary

HANG_SECONDS = 300.0


def _worker(config: CampaignConfig, queue, known, index: int, scratch: str) -> None:
    def events(event):
        kind, payload = event
        if kind == "progress":
            payload = (payload.modules, payload.executions, payload.differences,
                       payload.shrink_runs, dict(payload.outcomes), dict(payload.signatures))
        queue.put((kind, index, payload))

    def heartbeat(binary: bytes) -> None:
        with open(scratch, "wb") as f:
            f.write(binary)
        queue.put(("beat", index, None))

    queue.put(("started", index, None))  # imports done: the watchdog starts counting
    try:
        summary = Campaign(config, events=events, known=known, heartbeat=heartbeat).run()
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
    restarts: Counter[int] = Counter()
    total = Summary()

    def start(k: int) -> None:
        left = config.seconds - (time.monotonic() - t0)
        cfg = replace(config, seed=config.seed * 1000 + k + 100 * restarts[k], progress=False,
                      seconds=max(0.0, left))
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
                if now - beats[k] > hang_seconds and p.is_alive():
                    p.kill()
                    p.join(timeout=5)
                    found = _save_hang(config, _scratch(scratch_dir, k), hang_seconds, total)
                    write(f"worker {k}: no module finished in {hang_seconds:.0f}s; killed"
                          + (f", module saved as {found.files['wasm']}" if found else ""))
                    offsets[k] = parts.get(k)
                    restarts[k] += 1
                    procs.pop(k)
                    if now - t0 < config.seconds:
                        start(k)
                elif not p.is_alive() and kind != "done" and q.empty():
                    procs.pop(k)  # died without saying so
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


def _save_hang(config: CampaignConfig, scratch: str, seconds: float, total: Summary):
    """Keep the module a killed worker was running (not shrunk: it hangs)."""
    if not config.corpus or not os.path.exists(scratch):
        return None
    import hashlib

    with open(scratch, "rb") as f:
        binary = f.read()
    name = "hang-" + hashlib.sha256(binary).hexdigest()[:8]
    base = os.path.join(config.corpus, name)
    engines = ",".join(config.engines)
    from .campaign import repro_command

    repro = repro_command(base + ".wasm", engines)
    with open(base + ".wasm", "wb") as f:
        f.write(binary)
    report = (f"an engine did not finish this module within {seconds:.0f}s "
              f"(engines: {engines}); try each alone with --engines")
    with open(base + ".txt", "w", encoding="utf-8") as f:
        f.write(report + "\n\nrepro: " + repro + "\n")
    found = Found(("hang", tuple(config.engines), ""), (), report,
                  {"wasm": base + ".wasm", "repro": repro}, total.modules, total.seconds)
    total.found.append(found)
    return found


__all__ = ["run_parallel", "HANG_SECONDS"]

"""Campaigns on a Ray cluster (``fayasm fuzz --ray [ADDRESS]``; ``pip install 'fayasm[ray]'``).

The driver cuts the campaign's module numbers (its shard of the seed space, see
``campaign.module_numbers``) into chunks of ``CHUNK`` and keeps ``jobs`` of them running
as Ray tasks (one CPU each). A task is a streaming generator: after each module it yields
one small record (module number, executions, outcomes, and for a difference its
signature and report), so differences stream back as they happen and the driver always
knows how far each task got. The driver counts, and shrinks each new kind of difference
once (``Campaign.shrink_and_save``: the module is regenerated from its number, so nothing
but the number crosses the network) and saves it under ``--corpus``.

Failures: a task that yields nothing for ``timeout`` seconds while running is stuck in
an engine; it is killed (``ray.cancel(force=True)``), the module it was on is saved as a
"hang", and the rest of its chunk is resubmitted. A task that fails (its worker process
died, its node left the cluster) is resubmitted from the module it was on; a module
that fails ``RETRIES`` times is saved as a "crash" and skipped. Ctrl-C cancels the tasks
and returns what was found (already saved).

``import ray`` happens here only, inside functions: nothing else in fayasm imports it.
"""
from __future__ import annotations

import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace

from fayasm.runtime.errors import Error

from .campaign import Campaign, CampaignConfig, Summary, explore, module_numbers, run_setup

CHUNK = 32  # modules per task: small enough to balance nodes, large enough to cost nothing
RETRIES = 3  # failures of one module before it is saved as a crash and skipped
INSTALL = "pip install 'fayasm[ray]'"


class RayMissing(Exception):
    """Ray is not installed here."""


class RayUnavailable(Error):
    """The Ray cluster cannot be reached or started."""


def _check_reachable(address: str, seconds: float = 5.0) -> None:
    """A HOST:PORT (or ray://HOST:PORT) address that nothing answers on is an error now,
    not a ``ray.init`` that retries for minutes. Other forms ("auto") go to Ray as given."""
    import socket

    rest = address.split("://", 1)[1] if "://" in address else address
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=seconds).close()
    except OSError as e:
        raise RayUnavailable(f"no Ray cluster answers at {address}: "
                             f"{e.strerror or e}") from None


def import_ray():
    try:
        import ray
    except ImportError:
        raise RayMissing(f"--ray needs Ray, which is not installed here: {INSTALL}") from None
    return ray


def run_chunk(cfg: CampaignConfig, numbers: range, seconds: float):
    """The body of one Ray task: diff the modules ``numbers`` (for at most ``seconds``
    from its start: no clock is shared between nodes), yielding ("node", id) first and
    then one record per module."""
    import ray

    stop_at = time.monotonic() + seconds
    os.environ.setdefault("FAYASM_CACHE", "0")
    run_setup(cfg)
    yield ("node", ray.get_runtime_context().get_node_id())
    for m in numbers:
        if time.monotonic() >= stop_at:
            return
        try:
            _, _, result = explore(cfg, m)
        except Exception as e:  # noqa: BLE001 - a broken module must not end the task
            yield ("failed", m, f"{type(e).__name__}: {e}")
            continue
        outcomes = Counter(o.kind if o.kind != "trap" else o.code for o in result.outcomes)
        d = result.difference
        yield ("module", m, result.executions, dict(outcomes),
               None if d is None else (d.signature, d.report()))


_TASK = None


def _task(ray):
    global _TASK
    if _TASK is None:
        _TASK = ray.remote(num_cpus=1, max_retries=0)(run_chunk)
    return _TASK


@dataclass
class _Running:
    """A submitted chunk: what is left of it, where it runs, when it last spoke."""

    numbers: range  # the module numbers not yet reported
    node: str | None = None
    beat: float | None = None  # monotonic time of its last record (None: not started)


def run_ray(config: CampaignConfig, address: str | None = None, jobs: int | None = None,
            out=None, timeout: float = 300.0, chunk: int = CHUNK) -> Summary:
    """Run ``config`` as Ray tasks on the cluster at ``address`` (None: start a local one,
    with ``jobs`` CPUs); see the module docstring."""
    ray = import_ray()
    out = out or sys.stderr
    tty = getattr(out, "isatty", lambda: False)()
    started = not ray.is_initialized()
    if started:
        # no usage report leaves the machine unless the user asked for one
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        opts = dict(include_dashboard=False, logging_level="ERROR", log_to_driver=True)
        if address is not None:
            _check_reachable(address)
        try:
            if address is None:
                ray.init(num_cpus=jobs, **opts)
            else:
                ray.init(address=address, **opts)
        except Exception as e:  # noqa: BLE001 - whatever Ray raises, in one line
            where = "start a local Ray cluster" if address is None else f"connect to {address}"
            raise RayUnavailable(f"cannot {where}: {type(e).__name__}: {e}") from None
    try:
        if jobs is None:
            jobs = max(1, int(ray.cluster_resources().get("CPU", 1)))
        return _Driver(ray, config, jobs, out, tty, timeout, chunk).run()
    finally:
        if started:
            ray.shutdown()


class _Driver:
    def __init__(self, ray, config, jobs, out, tty, timeout, chunk):
        self.ray, self.jobs, self.out, self.tty = ray, jobs, out, tty
        self.timeout = timeout
        if config.modules is not None:  # a bounded range: at least 4 chunks per task slot
            count = max(0, config.modules - config.first) // config.shard[1] + 1
            chunk = max(1, min(chunk, -(-count // (4 * jobs))))
        self.chunk = chunk
        self.show = config.progress
        self.cfg = replace(config, progress=False)
        self.campaign = Campaign(self.cfg, events=self._event)  # shrinks and saves
        self.summary = self.campaign.summary
        self.numbers = iter(_chunks(module_numbers(config), self.chunk))
        self.running: dict = {}  # generator -> _Running
        self.failures: Counter = Counter()  # module number -> failed tasks there
        self.nodes: Counter = Counter()
        self.t0 = time.monotonic()
        self.deadline = self.t0 + config.seconds
        self.last_line = 0.0

    # -- output ------------------------------------------------------------------------
    def _event(self, event) -> None:
        if event[0] == "print":
            self.write(event[1])

    def write(self, text: str) -> None:
        self.out.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.out.flush()

    def progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_line < (1.0 if self.tty else 30.0):
            return
        self.last_line = now
        self.summary.seconds = now - self.t0
        self.summary.nodes = dict(self.nodes)
        if not self.show:
            return
        self.out.write(("\r" if self.tty else "") + self.summary.line()
                       + ("" if self.tty and not force else "\n"))
        self.out.flush()

    # -- the loop ----------------------------------------------------------------------
    def done(self) -> bool:
        s, cfg = self.summary, self.cfg
        return (time.monotonic() >= self.deadline
                or (cfg.max_modules is not None and s.modules >= cfg.max_modules)
                or (cfg.stop_on_first and bool(s.found)))

    def submit(self, numbers: range) -> None:
        left = max(0.0, self.deadline - time.monotonic())
        gen = _task(self.ray).remote(self.cfg, numbers, left)
        self.running[gen] = _Running(numbers)

    def fill(self) -> None:
        while len(self.running) < self.jobs and not self.done():
            numbers = next(self.numbers, None)
            if numbers is None:
                return
            self.submit(numbers)

    def run(self):
        self.campaign.t0 = self.t0
        run_setup(self.cfg)  # the driver shrinks, so it runs modules too
        if self.show:
            self.write(f"ray: {self.jobs} tasks at a time, {self.chunk} modules each")
        try:
            self.fill()
            while self.running and not self.done():
                gens = list(self.running)
                ready, _ = self.ray.wait(gens, num_returns=1, timeout=1.0)
                if ready and len(gens) > 1:  # then every one that has a record: one each
                    ready, _ = self.ray.wait(gens, num_returns=len(gens), timeout=0)
                for gen in ready:
                    if gen in self.running:
                        self.take(gen)
                self.check_hangs()
                self.fill()
                self.progress()
        except KeyboardInterrupt:
            self.write("interrupted")
        self.cancel_all()
        self.summary.seconds = time.monotonic() - self.t0
        self.summary.nodes = dict(self.nodes)
        self.progress(force=True)
        return self.summary

    def cancel_all(self) -> None:
        for gen in list(self.running):
            try:
                self.ray.cancel(gen, force=True)
            except Exception:  # noqa: BLE001 - already finished or gone
                pass
        self.running.clear()

    def take(self, gen) -> None:
        """Read one record of ``gen`` (ready), or its end, or its failure."""
        ray = self.ray
        task = self.running[gen]
        try:
            ref = next(gen)
            record = ray.get(ref)
        except StopIteration:
            self.running.pop(gen)
            if task.numbers and not self.done():
                self.submit(task.numbers)  # it stopped early (it was queued a while)
            return
        except KeyboardInterrupt:
            raise
        except Exception as e:  # noqa: BLE001 - a dead worker, a lost node, ...
            self.running.pop(gen)
            self.failed(task, e)
            return
        task.beat = time.monotonic()
        kind = record[0]
        if kind == "node":
            task.node = record[1]
            return
        m = record[1]
        task.numbers = _after(task.numbers, m)
        if kind == "failed":
            self.write(f"module {m} failed: {record[2]}")
            return
        _, _, executions, outcomes, difference = record
        s = self.summary
        s.modules += 1
        s.executions += executions
        s.outcomes.update(outcomes)
        self.nodes[task.node or "?"] += 1
        if difference is None:
            return
        signature, report = difference
        signature = _tuplify(signature)
        s.differences += 1
        s.signatures[signature] += 1
        if self.campaign.is_new(signature):
            busy = time.monotonic()
            try:
                self.campaign.shrink_and_save(m, signature, report)
            except KeyboardInterrupt:
                raise
            except Exception as e:  # noqa: BLE001 - report it, keep the campaign
                self.write(f"module {m}: shrinking failed: {type(e).__name__}: {e}")
            self.excuse(time.monotonic() - busy)

    def excuse(self, seconds: float) -> None:
        """The driver was busy for ``seconds``: records that waited do not count as late."""
        for task in self.running.values():
            if task.beat is not None:
                task.beat += seconds

    def failed(self, task: _Running, error: Exception) -> None:
        """A task failed (worker died, node left): resubmit from the module it was on,
        unless that module failed ``RETRIES`` times (then save it and skip it)."""
        self.summary.task_failures[type(error).__name__] += 1
        if not task.numbers:
            return
        m = task.numbers[0]
        why = f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
        # a node that left is not the module's fault; a task that never began, neither
        if task.beat is not None and type(error).__name__ != "NodeDiedError":
            self.failures[m] += 1
        if self.failures[m] >= RETRIES:
            self.write(f"module {m}: its task failed {RETRIES} times ({why}); saved, skipped")
            self.keep("crash", m, f"the Ray task running this module failed {RETRIES} "
                      f"times, last with {why} (engines: {', '.join(self.cfg.engines)})")
            task.numbers = task.numbers[1:]
        else:
            self.write(f"module {m}: task failed ({why}); resubmitted")
        if task.numbers and not self.done():
            self.submit(task.numbers)

    def check_hangs(self) -> None:
        now = time.monotonic()
        for gen, task in list(self.running.items()):
            if task.beat is None or now - task.beat <= self.timeout or not task.numbers:
                continue
            self.running.pop(gen)
            try:
                self.ray.cancel(gen, force=True)
            except Exception:  # noqa: BLE001 - it may have just finished
                pass
            m = task.numbers[0]
            self.write(f"module {m}: no result in {self.timeout:.0f}s; task killed, module saved")
            self.keep("hang", m, f"an engine did not finish this module within "
                      f"{self.timeout:.0f}s (module {m} of seed {self.cfg.seed}; engines: "
                      f"{', '.join(self.cfg.engines)}); try each alone with --engines")
            rest = task.numbers[1:]
            if rest and not self.done():
                self.submit(rest)

    def keep(self, kind: str, m: int, report: str) -> None:
        from .campaign import module_seed
        from .generate import recorded_module

        generated, _ = recorded_module(module_seed(self.cfg.seed, m), self.cfg.gen)
        self.campaign.save_module(kind, generated.binary(), report)


def _chunks(numbers, size: int):
    """Consecutive module numbers in ranges of ``size`` (they step by the shard count)."""
    batch = []
    for m in numbers:
        batch.append(m)
        if len(batch) == size:
            yield _as_range(batch)
            batch = []
    if batch:
        yield _as_range(batch)


def _as_range(batch: list) -> range:
    step = batch[1] - batch[0] if len(batch) > 1 else 1
    return range(batch[0], batch[-1] + 1, step)


def _after(numbers: range, m: int) -> range:
    """What is left of ``numbers`` once ``m`` is done."""
    if m not in numbers:
        return numbers
    return numbers[numbers.index(m) + 1:]


def _tuplify(x):
    return tuple(_tuplify(i) for i in x) if isinstance(x, list) else x


__all__ = ["CHUNK", "INSTALL", "RETRIES", "RayMissing", "RayUnavailable", "import_ray",
           "run_chunk", "run_ray"]

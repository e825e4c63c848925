"""Fuzzing campaigns: generate modules, diff them across engines, shrink and save what
differs; and replays of a saved corpus.

A campaign diffs one seeded random module after another (``generate.recorded_module``:
the generator behind the hypothesis strategy, fed by ``random`` instead, which is faster
and explores more widely than hypothesis's draws). A difference whose signature is new is
shrunk by simplifying the choices that made the module (``shrink``; only candidates with
the same signature count, and shrinking stops after ``shrink_seconds``) and the smallest
module is saved. Differences whose signature is already saved are counted, not shrunk
again.

Module number ``m`` of a campaign with seed ``S`` is generated from the seed
``S * 1_000_003 + m`` (``module_seed``), so the seed space is the module numbers 0, 1, 2,
...; ``shard=(I, N)`` takes the numbers ``m % N == I``, and ``modules`` ends the range (a
campaign over ``modules=M`` runs numbers below M). The N shards of a range are disjoint and
together are exactly the unsharded range (``module_numbers``): that is how ``--jobs``,
``--shard`` and the Ray backend split one campaign.

Saved for each difference, in the corpus directory: NAME.wasm (with the plan and
function names), NAME.wat, NAME.txt (the report and a one-line repro command), and a
line in index.jsonl (the signatures, so later campaigns skip known differences).
``merge`` joins several corpora into one, deduplicating by signature.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from .diff import diff
from .generate import GenConfig

BORING = {"i32.const", "i64.const", "f32.const", "f64.const", "v128.const", "local.get",
          "local.set", "local.tee", "global.get", "global.set", "end", "block", "loop", "if",
          "else", "drop", "nop", "call", "unreachable", "i32.eqz", "i32.sub", "br_if"}


@dataclass
class CampaignConfig:
    engines: list
    wasmtime: bool = True
    seconds: float = 600.0
    seed: int = 0
    corpus: str | None = None
    gen: GenConfig = field(default_factory=GenConfig)
    shrink_seconds: float = 120.0
    per_signature: int = 2  # saved examples per coarse signature
    progress: bool = True
    max_modules: int | None = None  # stop after this many (for experiments)
    stop_on_first: bool = False
    shard: tuple = (0, 1)  # (I, N): only module numbers m with m % N == I
    first: int = 0  # module numbers below this are skipped (a restarted worker's resume point)
    modules: int | None = None  # the seed range's end: module numbers below this, or no end
    setup: object = None  # called once in every process that runs modules (tests: a mutant)


def module_seed(seed: int, m: int) -> int:
    """The generator seed of module number ``m`` of the campaign seeded ``seed``."""
    return seed * 1_000_003 + m


def module_numbers(cfg: CampaignConfig):
    """The module numbers ``cfg`` explores, in order: its shard of [first, modules)."""
    i, n = cfg.shard
    m = cfg.first + (i - cfg.first) % n
    while cfg.modules is None or m < cfg.modules:
        yield m
        m += n


def parse_shard(text: str) -> tuple:
    """``I/N`` (0 <= I < N) as (I, N); ValueError otherwise."""
    i, sep, n = text.partition("/")
    try:
        i, n = int(i), int(n)
    except ValueError:
        raise ValueError(f"expected I/N (such as 0/4), got {text!r}") from None
    if not sep or n < 1 or not 0 <= i < n:
        raise ValueError(f"expected I/N with 0 <= I < N, got {text!r}")
    return i, n


def sub_shard(cfg: CampaignConfig, k: int, jobs: int) -> tuple:
    """Worker ``k`` of ``jobs`` sharing ``cfg``'s shard: its own slice of that shard."""
    i, n = cfg.shard
    return i + n * k, n * jobs


def explore(cfg: CampaignConfig, m: int, heartbeat=None):
    """Generate module number ``m`` and diff it: (generated, choices, DiffResult)."""
    from .generate import recorded_module

    generated, choices = recorded_module(module_seed(cfg.seed, m), cfg.gen)
    if heartbeat is not None:
        heartbeat(generated.binary(), m)
    result = diff(generated.module(), generated.plan, engines=cfg.engines,
                  wasmtime=cfg.wasmtime, metered=generated.metered)
    return generated, choices, result


_SETUP_DONE: set = set()


def run_setup(cfg: CampaignConfig) -> None:
    """Call ``cfg.setup`` unless this process already has."""
    if cfg.setup is not None and repr(cfg.setup) not in _SETUP_DONE:
        _SETUP_DONE.add(repr(cfg.setup))
        cfg.setup()


@dataclass
class Found:
    """One saved difference."""

    signature: tuple
    ops: tuple
    report: str
    files: dict
    modules_before: int  # modules generated when it was first seen
    seconds: float  # campaign time when it was first seen


@dataclass
class Summary:
    modules: int = 0
    executions: int = 0
    differences: int = 0  # modules that showed a difference (before deduplication)
    shrink_runs: int = 0
    seconds: float = 0.0
    found: list = field(default_factory=list)
    signatures: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    nodes: dict = field(default_factory=dict)  # node -> modules it ran (the Ray backend)
    task_failures: Counter = field(default_factory=Counter)  # Ray: error kind -> tasks

    def line(self) -> str:
        rate = self.modules / self.seconds if self.seconds else 0.0
        per_node = ""
        if self.nodes and self.seconds:
            per_node = "; " + ", ".join(f"{node[:8]} {n / self.seconds:.1f}/s"
                                        for node, n in sorted(self.nodes.items()))
        return (f"[{_clock(self.seconds)}] {self.modules} modules ({rate:.1f}/s{per_node}), "
                f"{self.executions} executions, {self.differences} differences "
                f"({len(self.found)} saved)")


def _clock(s: float) -> str:
    s = int(s)
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}"


SLOW = ("jit", "python")  # engines worth leaving out while shrinking, slowest first


def shrink_engines(engines: list, difference) -> list:
    """The engines to shrink a difference with: without the slow ones that take no side
    in it, as long as the same engines still come out as the odd ones."""
    from .diff import _odd

    odd = set(difference.signature[1])
    keep = list(engines)
    for name in SLOW:
        if name not in keep or name in odd or name == keep[0]:
            continue
        trial = [n for n in keep if n != name]
        groups = [[e for e in g if e in trial or e == "wasmtime"] for g in difference.groups]
        if set(_odd([g for g in groups if g])) == odd:
            keep = trial
    return keep


def fine_ops(generated) -> tuple:
    counts = generated.op_counts()
    return tuple(sorted(n for n in counts if n not in BORING))[:8]


class Campaign:
    """One campaign in this process. ``events`` (used by ``run_parallel``) receives
    ("progress", Summary), ("found", Found) and ("print", text) instead of ``out``;
    ``known`` may be a dict shared between processes (signature -> examples saved)."""

    def __init__(self, config: CampaignConfig, out=None, events=None, known=None,
                 heartbeat=None):
        self.cfg = config
        self.out = out or sys.stderr
        self.events = events
        # called with each module's binary and number before it runs (shrink trials too)
        self.heartbeat = heartbeat
        self.current = 0  # the module number being diffed or shrunk
        self.summary = Summary()
        self.known = known if known is not None else Counter()  # signature -> saved
        self.known_fine: set = set()
        self.t0 = 0.0
        self.last_progress = 0.0
        self.interrupted = False  # Ctrl-C came while shrinking: stop once it is saved
        if config.corpus:
            os.makedirs(config.corpus, exist_ok=True)
            self._load_index()

    def _load_index(self) -> None:
        path = os.path.join(self.cfg.corpus, "index.jsonl")
        if not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                sig = _tuplify(item.get("signature", []))
                self.known[sig] = self.known.get(sig, 0) + 1
                self.known_fine.add((sig, _tuplify(item.get("ops", []))))

    # -- the loop ----------------------------------------------------------------------
    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def time_up(self) -> bool:
        s = self.summary
        if self.cfg.max_modules is not None and s.modules >= self.cfg.max_modules:
            return True
        if self.cfg.stop_on_first and s.found:
            return True
        return self.elapsed() >= self.cfg.seconds

    def run(self) -> Summary:
        os.environ.setdefault("FAYASM_CACHE", "0")  # do not fill the translation cache
        run_setup(self.cfg)
        self.t0 = time.monotonic()
        try:
            for m in module_numbers(self.cfg):
                if self.time_up():
                    break
                self._round(m)
        except KeyboardInterrupt:
            self._print("interrupted", end=True)
        self.summary.seconds = self.elapsed()
        self._progress(force=True, end=True)
        return self.summary

    def _round(self, m: int) -> None:
        """Module number ``m``: diff it; a difference with a new signature is shrunk
        (see ``shrink``) and saved."""
        cfg = self.cfg
        try:
            self.current = m
            generated, choices, result = explore(cfg, m, self.heartbeat)
            self._count(result)
            if result.difference is None:
                return
            sig = result.difference.signature
            self.summary.differences += 1
            self.summary.signatures[sig] += 1
            if self.known.get(sig, 0) >= cfg.per_signature:
                return
            self._print(f"difference: {result.difference.headline()} - shrinking")
            self._save(*self._shrink(choices, generated, result))
            if self.interrupted:
                raise KeyboardInterrupt
        except Exception as e:  # noqa: BLE001 - a broken module must not end the campaign
            self._print(f"module {m} (seed {module_seed(cfg.seed, m)}) failed: "
                        f"{type(e).__name__}: {e}")

    def is_new(self, signature) -> bool:
        """Whether a difference with ``signature`` is still worth shrinking and saving."""
        return self.known.get(signature, 0) < self.cfg.per_signature

    def shrink_and_save(self, m: int, signature=None, report: str = "") -> Found | None:
        """Module number ``m``, whose difference another process saw (``signature``,
        ``report``): diff it here, shrink and save it (the Ray backend's driver). A
        difference that does not show here is saved unshrunk with the worker's report."""
        cfg = self.cfg
        generated, choices, result = explore(cfg, m)
        d = result.difference
        if signature is not None and (d is None or d.signature != signature):
            self._print(f"module {m}: the difference a worker saw does not show here; "
                        "saved unshrunk")
            self.known[signature] = self.known.get(signature, 0) + 1
            return self.save_module("unreproduced", generated.binary(), report, signature)
        if d is None:
            return None
        self._print(f"difference: {d.headline()} - shrinking")
        before = len(self.summary.found)
        self._save(*self._shrink(choices, generated, result))
        if self.interrupted:
            raise KeyboardInterrupt
        return self.summary.found[-1] if len(self.summary.found) > before else None

    def save_module(self, kind: str, binary: bytes, report: str, signature=None) -> Found:
        """Keep a module as it is (a hang, a crash: not shrunk) and count it found."""
        sig = signature or (kind, tuple(self.cfg.engines), hashlib.sha256(binary).hexdigest()[:8])
        files = {}
        if self.cfg.corpus:
            files = save_raw(self.cfg.corpus, kind, binary, report, sig, self.cfg.engines,
                             self.cfg.wasmtime)
        found = Found(sig, (), report, files, self.summary.modules, self.elapsed())
        self.summary.found.append(found)
        if self.events is not None:
            self.events(("found", found))
        self._print(f"saved {files.get('wasm', '(no corpus directory)')}: {report}")
        return found

    def _shrink(self, choices, generated, result):
        """The simplest module showing the same difference within ``shrink_seconds``,
        diffed on the engines that take a side in it."""
        from .generate import replayed_module
        from .shrink import shrink_choices

        cfg = self.cfg
        target = result.difference.signature
        engines = shrink_engines(cfg.engines, result.difference)
        best = {"generated": generated, "result": result}

        def test(trial):
            g, used = replayed_module(trial, cfg.gen)
            self.summary.shrink_runs += 1
            if self.heartbeat is not None:
                self.heartbeat(g.binary(), self.current)
            r = diff(g.module(), g.plan, engines=engines, wasmtime=cfg.wasmtime,
                     metered=g.metered)
            if r.difference is None or r.difference.signature != target:
                return None
            best["generated"], best["result"] = g, r
            return used

        if cfg.shrink_seconds > 0:
            try:
                shrink_choices(choices, test, time.monotonic() + cfg.shrink_seconds)
            except KeyboardInterrupt:  # Ctrl-C: save the smallest so far, then stop
                self.interrupted = True
                self._print("interrupted while shrinking: saving the smallest module so far")
        return best["generated"], best["result"]

    def _count(self, result) -> None:
        s = self.summary
        s.modules += 1
        s.executions += result.executions
        for o in result.outcomes:
            s.outcomes[o.kind if o.kind != "trap" else o.code] += 1
        self._progress()

    # -- output ------------------------------------------------------------------------
    def _progress(self, force: bool = False, end: bool = False) -> None:
        now = time.monotonic()
        if self.events is not None:
            if force or now - self.last_progress >= 1.0:
                self.last_progress = now
                self.summary.seconds = self.elapsed()
                self.events(("progress", self.summary))
            return
        if not self.cfg.progress:
            return
        tty = getattr(self.out, "isatty", lambda: False)()
        interval = 1.0 if tty else 30.0
        if not force and now - self.last_progress < interval:
            return
        self.last_progress = now
        self.summary.seconds = self.elapsed()
        line = self.summary.line()
        if tty:
            self.out.write("\r" + line + ("\n" if end else ""))
        else:
            self.out.write(line + "\n")
        self.out.flush()

    def _print(self, text: str, end: bool = False) -> None:
        if self.events is not None:
            self.events(("print", text))
            return
        if not self.cfg.progress:
            return
        tty = getattr(self.out, "isatty", lambda: False)()
        self.out.write(("\r\033[K" if tty else "") + text + "\n")
        self.out.flush()

    def _save(self, generated, result) -> None:
        d = result.difference
        ops = fine_ops(generated)
        fine = (d.signature, ops)
        s = self.summary
        self.known[d.signature] = self.known.get(d.signature, 0) + 1
        if fine in self.known_fine:
            return
        self.known_fine.add(fine)
        files = {}
        engines = ",".join(n for n in result.engines if n != "wasmtime")
        if self.cfg.corpus:
            files = save_difference(self.cfg.corpus, generated, result, ops, engines,
                                    self.cfg.wasmtime)
        repro = files.get("repro", "")
        found = Found(d.signature, ops, d.report(), files, s.modules, self.elapsed())
        s.found.append(found)
        if self.events is not None:
            self.events(("found", found))
        self._print(f"saved {files.get('wasm', '(no corpus directory)')}\n{d.report()}"
                    + (f"\n  repro: {repro}" if repro else ""))


def _tuplify(x):
    return tuple(_tuplify(i) for i in x) if isinstance(x, list) else x


def _slug(text: str) -> str:
    """A file-name part from report text (which holds module names): [A-Za-z0-9_.-] only,
    no ``..``."""
    slug = re.sub(r"[^A-Za-z0-9_.]+", "-", text)
    return re.sub(r"\.{2,}", ".", slug).strip("-.")[:60]


def _wat_comment(text: str) -> list[str]:
    """Report lines safe in WAT line comments (printable ASCII; a report holds module text)."""
    return ["".join(c if " " <= c <= "~" else "?" for c in line) for line in text.splitlines()]


def repro_command(wasm_path: str, engines: str, wasmtime: bool = True) -> str:
    """The shell command that diffs a saved case again, every argument shell-quoted."""
    argv = ["fayasm", "diff", wasm_path, "--engines", engines]
    if not wasmtime:
        argv.append("--no-wasmtime")
    return shlex.join(argv)


def save_difference(corpus: str, generated, result, ops, engines: str, wasmtime: bool) -> dict:
    """Write NAME.wasm, NAME.wat, NAME.txt and an index line; returns their paths and the
    repro command."""
    d = result.difference
    binary = generated.binary()
    name = _slug(f"{d.what}-{'-'.join(d.signature[1])}-{'-'.join(ops[:2])}") + "-" + \
        hashlib.sha256(binary).hexdigest()[:8]
    base = os.path.join(corpus, name)
    repro = repro_command(base + ".wasm", engines, wasmtime)
    with open(base + ".wasm", "wb") as f:
        f.write(binary)
    with open(base + ".wat", "w", encoding="utf-8") as f:
        f.write("".join(f";; {line}\n" for line in _wat_comment(d.report())))
        f.write(generated.wat())
    with open(base + ".txt", "w", encoding="utf-8") as f:
        f.write(d.report() + "\n\nrepro: " + repro + "\n")
    with open(os.path.join(corpus, "index.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps({"file": name + ".wasm", "signature": d.signature, "ops": ops,
                            "headline": d.headline()}) + "\n")
    return {"wasm": base + ".wasm", "wat": base + ".wat", "txt": base + ".txt", "repro": repro}


def save_raw(corpus: str, kind: str, binary: bytes, report: str, signature, engines,
             wasmtime: bool = True) -> dict:
    """Write KIND-HASH.wasm, .txt and an index line for a module kept as it is."""
    name = f"{_slug(kind)}-{hashlib.sha256(binary).hexdigest()[:8]}"
    base = os.path.join(corpus, name)
    repro = repro_command(base + ".wasm", ",".join(engines), wasmtime)
    with open(base + ".wasm", "wb") as f:
        f.write(binary)
    with open(base + ".txt", "w", encoding="utf-8") as f:
        f.write(report + "\n\nrepro: " + repro + "\n")
    with open(os.path.join(corpus, "index.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps({"file": name + ".wasm", "signature": signature, "ops": [],
                            "headline": report.splitlines()[0] if report else kind}) + "\n")
    return {"wasm": base + ".wasm", "txt": base + ".txt", "repro": repro}


def read_index(corpus: str) -> list:
    """The entries of ``corpus``/index.jsonl (lines that do not parse are left out)."""
    path = os.path.join(corpus, "index.jsonl")
    if not os.path.exists(path):
        return []
    items = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and isinstance(item.get("file"), str):
                items.append(item)
    return items


def merge(sources, target: str, per_signature: int = 2, out=None) -> tuple:
    """Copy the differences saved in the ``sources`` corpora into ``target``, keeping per
    signature at most ``per_signature`` examples (those of different instructions), as a
    campaign saving into ``target`` would; entries ``target`` holds already count.
    Returns (copied, duplicates)."""
    import shutil

    out = out or sys.stderr
    os.makedirs(target, exist_ok=True)
    known: Counter = Counter()
    fine: set = set()
    for item in read_index(target):
        sig = _tuplify(item.get("signature", []))
        known[sig] += 1
        fine.add((sig, _tuplify(item.get("ops", []))))
    copied = dupes = 0
    lines = []
    for src in sources:
        if os.path.realpath(src) == os.path.realpath(target):
            continue
        for item in read_index(src):
            sig = _tuplify(item.get("signature", []))
            ops = _tuplify(item.get("ops", []))
            name = os.path.basename(item["file"])
            stem = name[:-5] if name.endswith(".wasm") else name
            if not name.endswith(".wasm") or not os.path.isfile(os.path.join(src, name)):
                out.write(f"{src}: {name} is in the index but not in the directory; left out\n")
                continue
            if known[sig] >= per_signature or (sig, ops) in fine:
                dupes += 1
                continue
            known[sig] += 1
            fine.add((sig, ops))
            for suffix in (".wasm", ".wat", ".txt"):
                path = os.path.join(src, stem + suffix)
                if os.path.isfile(path):
                    shutil.copyfile(path, os.path.join(target, stem + suffix))
            lines.append(json.dumps({**item, "file": name}) + "\n")
            copied += 1
    with open(os.path.join(target, "index.jsonl"), "a", encoding="utf-8") as f:
        f.writelines(lines)
    return copied, dupes


def replay(directory: str, engines, wasmtime: bool = True, out=None):
    """Diff every .wasm file in ``directory`` again; returns [(file, DiffResult)]."""
    from fayasm.module import Module

    out = out or sys.stdout
    os.environ.setdefault("FAYASM_CACHE", "0")
    results = []
    files = sorted(f for f in os.listdir(directory) if f.endswith((".wasm", ".wat")))
    wasm_stems = {f[:-5] for f in files if f.endswith(".wasm")}
    for f in files:
        if f.endswith(".wat") and f[:-4] in wasm_stems:
            continue  # the .wasm beside it carries the plan
        path = os.path.join(directory, f)
        try:
            module = Module.from_file(path)
        except Exception as e:  # noqa: BLE001 - a broken corpus file is reported, not fatal
            out.write(f"{f}: cannot load: {e}\n")
            continue
        r = diff(module, engines=engines, wasmtime=wasmtime)
        results.append((f, r))
        status = "ok" if r.ok else "DIFFERENT: " + r.difference.headline()
        out.write(f"{f}: {status}\n")
    return results


__all__ = ["Campaign", "CampaignConfig", "Summary", "replay", "save_difference", "fine_ops",
           "module_seed", "module_numbers", "parse_shard", "sub_shard", "explore", "merge",
           "read_index", "save_raw", "run_setup"]

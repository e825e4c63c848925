"""Fuzz fayasm's front end (decoder, validator, text parser) with mutated modules.

    python scripts/fuzz_frontend.py --binary 1000000 --wat 200000 --seed 1 --jobs 1 \\
        --timeout 1 --max-rss 1GiB --wasmtime --save fuzz-frontend
    python scripts/fuzz_frontend.py --replay fuzz-frontend/hang-binary-1-123.wasm
    python scripts/fuzz_frontend.py --replay binary:123 --seed 1     # input 123 again

Inputs are mutations of valid (and some invalid) modules: the 2.0 spec suite's, examples/,
scripts/bench/ and generated ones (scripts/frontend_mutators.py has the mutators). Each
runs through ``fayasm.Module`` in a worker process; an accepted module is also printed and
parsed back, which must give the same module. Workers are killed when an input takes more
than ``--timeout`` seconds of CPU (a hang) or the process passes ``--max-rss`` (also
capped with RLIMIT_AS); a worker that dies of a signal is a crash. Any exception that is
not a ``fayasm.Error`` is a finding. With ``--wasmtime``, the wasmtime package (configured
for the features fayasm has) says accept or reject too; disagreements are grouped by both
messages and classified, implementation limits apart. Input ``i`` depends only on
``--seed`` and ``i`` (and the checkout), so ``--replay KIND:I`` makes it again; ``--save``
keeps the inputs of findings.
"""
from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import os
import re
import resource
import signal
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import frontend_mutators as fm

PHASES = ["generate", "fayasm", "round trip", "wasmtime"]
GEN, FAYASM, ROUNDTRIP, WASMTIME = range(4)
FAILURES = ["nonfayasm", "hang", "memory", "crash", "roundtrip", "harness"]
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?)(i?B)?\s*", text, re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    unit = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m.group(2).upper()]
    return int(float(m.group(1)) * unit)


@dataclass
class Options:
    binary: int = 0
    wat: int = 0
    seed: int = 0
    jobs: int = 1
    timeout: float = 1.0  # CPU seconds per input
    max_rss: int = 1 << 30
    wasmtime: bool = False
    roundtrip: bool = True
    roundtrip_max: int = 16 << 10  # only inputs up to this size round-trip (time goes there)
    save: str | None = None
    chunk: int = 5000
    spec_sample: int = 1  # every n-th spec file seeds the corpus
    progress: float = 60.0  # seconds between progress lines (0: none)


# ---------------------------------------------------------------- classification

_NUMBERS = re.compile(r"(?<![\w-])(?:0x[0-9a-fA-F]+|[0-9]+)(?![\w-])")
_OPCODE = re.compile(r"(illegal opcode|opcode) [0-9a-fA-F]{2}(?: [0-9a-fA-F]+)?")


def normalize(message: str) -> str:
    """A message without offsets and numbers, for grouping."""
    message = re.sub(r"\s*\(at (?:byte )?offset 0x[0-9a-f]+\)| at <anon>:\d+:\d+", "", message)
    message = message.split("\n")[0]
    return _NUMBERS.sub("N", _OPCODE.sub(r"\1 N", message))[:160]


def _fayasm_message(e) -> str:
    return normalize(getattr(e, "message", None) or str(e))


# (direction, pattern on the message of the side that rejects, class). "F+W-" means
# fayasm accepts and wasmtime rejects.
KNOWN = [
    ("F+W-", r"function params size is out of bounds", "limit: wasmtime allows 1,000 params"),
    ("F+W-", r"function returns size is out of bounds", "limit: wasmtime allows 1,000 results"),
    ("F+W-", r"locals exceed maximum|too many locals",
     "limit: wasmtime allows 50,000 locals, params included (fayasm: 50,000 declared)"),
    ("F+W-", r"string size out of bounds", "limit: wasmtime allows names of 100,000 bytes"),
    ("F+W-", r"br_table size|count is out of bounds|exceeds limit|count exceeds|too many",
     "limit: a wasmtime implementation limit"),
    ("F+W-", r"func body size|function body size|body too large",
     "limit: wasmtime's function size cap"),
    ("F-W+", r"constant expression required",
     "feature: wasmtime always allows extended constant expressions"),
    ("F+W-", r"global\.get of locally defined global",
     "feature: wasmtime lets constants read defined globals only with GC (3.0: always)"),
    ("F-W+", r"^too many locals$", "limit: fayasm allows 50,000 declared locals"),
]


def classify(data, fay_ok: bool, fay_msg: str, fay_offset, wt_ok: bool, wt_msg: str,
             wt_binary: bytes | None = None) -> str:
    """The class of a disagreement: a known implementation limit or feature difference of
    one side, or "unexplained". ``wt_binary``: what wasmtime made of a text it accepted."""
    direction = "F+W-" if fay_ok else "F-W+"
    msg = wt_msg if fay_ok else fay_msg
    for d, pattern, label in KNOWN:
        if d == direction and re.search(pattern, msg):
            return label
    if isinstance(data, str) and direction == "F-W+" and wt_binary is not None \
            and re.match(r"\s*\(\s*module\s+(?:\$\S+\s+)?binary", data):
        # (module binary ...): classify what the decoder says about the bytes.
        from fayasm.binary import decode

        try:
            decode(wt_binary)
        except fayasm_error() as e:
            return classify(wt_binary, False, _fayasm_message(e), getattr(e, "offset", None),
                            wt_ok, wt_msg)
    if isinstance(data, bytes):
        if direction == "F-W+" and fay_offset is not None:
            if (fay_msg in ("integer representation too long", "integer too large")
                    and _in_sections(data, fay_offset, (fm.IMPORT, fm.TABLE, fm.MEMORY))):
                # wasmparser reads limits as u64 (memory64, table64) whatever the features.
                return "deviation: wasmtime reads table and memory limits as 64-bit LEB128s"
            if fay_msg == "zero byte expected" and data[fay_offset:fay_offset + 1] == b"\x80" \
                    and fm.read_uleb(data, fay_offset, 5) is not None \
                    and fm.read_uleb(data, fay_offset, 5)[0] == 0:
                # 2.0 wants the byte 0x00 (binary.wast tests over-long zeros as malformed).
                return ("deviation: wasmtime reads memory indices as LEB128s, so an over-long "
                        "zero passes")
        return "unexplained"
    if direction == "F+W-" and "likely-confusing unicode character" in wt_msg:
        return "text: wasmtime refuses bidirectional-override characters (a lint, not the spec)"
    if direction == "F+W-" and "expected at least one module field" in wt_msg:
        return "text: wasmtime wants a module field (the spec allows zero: an empty module)"
    if direction == "F-W+" and re.search(r'\(\s*import\s+"(?:[^"\\]|\\.)*"\s*[()]', data):
        return "text: wasmtime's WAT parser takes one-name imports (import \"m\")"
    if (direction == "F-W+" and isinstance(fay_offset, tuple)
            and _token_at(data, *fay_offset) in _PLAIN):
        return "text: wasmtime's WAT parser takes plain instructions inside folded ones"
    if direction == "F+W-" and wt_msg.startswith("text:") and "quote" in data:
        return "feature: (module quote ...) is WAST, which wasmtime's WAT parser does not take"
    if direction == "F-W+" and "(@" in data:
        return "feature: wasmtime's WAT parser takes annotations (@...)"
    if direction == "F-W+" and '$"' in data:
        return "feature: wasmtime takes quoted identifiers $\"...\" (WebAssembly 3.0)"
    if (direction == "F+W-" and "invalid float value" in wt_msg
            and re.search(r"[0-9a-fA-F.][pPeE][+-]?[0-9_]{10,}", data)):
        return "limit: wasmtime's float parser cannot hold a huge exponent"
    return "unexplained"


def _plain_names() -> frozenset:
    from fayasm import isa

    return frozenset(op.text for op in isa.ALL) | {"end", "else"}


_PLAIN = _plain_names()


def _token_at(text: str, line: int, column: int) -> str:
    """The token at a 1-based line and column of ``text``."""
    lines = text.split("\n", line)
    if not 0 < line <= len(lines):
        return ""
    m = re.match(r'[^\s()";]+', lines[line - 1][max(0, column - 1):])
    return m.group(0) if m else ""


def _in_sections(data: bytes, offset: int, ids) -> bool:
    """Whether ``offset`` falls in the payload of a section with one of ``ids``."""
    pos = 8
    while pos < len(data):
        r = fm.read_uleb(data, pos + 1, 5)
        if r is None:
            return False
        size, start = r
        if data[pos] in ids and start <= offset < start + size:
            return True
        pos = start + size
    return False


def fayasm_error():
    import fayasm

    return fayasm.Error


# ---------------------------------------------------------------- worker

def wasmtime_engine():
    """A wasmtime Engine with the features fayasm's front end takes (2.0 and the 3.0
    proposals it has: tail calls, extended constants, multi-memory, memory64, relaxed
    SIMD, typed function references), the rest off, and what it could not set; None if
    the package is missing."""
    try:
        import wasmtime
    except ImportError:
        return None, []
    config = wasmtime.Config()
    on = ["wasm_simd", "wasm_bulk_memory", "wasm_reference_types", "wasm_multi_value",
          "wasm_tail_call", "wasm_memory64", "wasm_multi_memory", "wasm_relaxed_simd",
          "wasm_function_references", "wasm_extended_const"]
    off = ["wasm_threads", "wasm_gc", "wasm_exceptions", "wasm_component_model",
           "wasm_custom_page_sizes", "wasm_wide_arithmetic", "wasm_stack_switching",
           "shared_memory"]
    # gc_support stays on: wasmtime keeps externref in its GC heap, so without it every
    # module mentioning externref is rejected ("gc types are disallowed").
    missing = []
    for name, value in [(n, True) for n in on] + [(n, False) for n in off]:
        try:
            setattr(config, name, value)
        except Exception:  # noqa: BLE001 - absent in this version
            missing.append(name)
    return (wasmtime, wasmtime.Engine(config)), missing


def _roundtrip(syntax) -> str | None:
    """None if printing and parsing back gives the same module, else what differs."""
    from fayasm.text import parse_module
    from fayasm.text.printer import print_module

    text = print_module(syntax)
    try:
        again = parse_module(text)
    except Exception as e:  # noqa: BLE001 - a printed module must parse
        return f"printed text does not parse: {type(e).__name__}: {str(e)[:200]}"
    # Custom sections, the data count and debug names belong to the binary format (the
    # printer keeps only names that are valid ids).
    again.customs, again.data_count, again.names = syntax.customs, syntax.data_count, \
        syntax.names
    if again != syntax and _without_empty_else(again) != _without_empty_else(syntax):
        for part in ("types", "imports", "funcs", "tables", "mems", "globals", "exports",
                     "start", "elems", "datas"):
            if getattr(again, part) != getattr(syntax, part):
                return f"print -> parse changed the {part}"
        return "print -> parse changed the module"
    return None


def _without_empty_else(syntax):
    """The functions' bodies with every empty else branch dropped: the text format writes
    ``if ... else end`` and ``if ... end`` alike, and the parser keeps the short form."""
    out = []
    for f in syntax.funcs:
        body = f.body
        out.append((f.type_idx, f.locals, [ins for k, ins in enumerate(body)
                                           if not (ins.op.name == "else" and k + 1 < len(body)
                                                   and body[k + 1].op.name == "end")]))
    return out


def _where(e: BaseException) -> str:
    """The innermost frame of a traceback, as file:line (function)."""
    frames = traceback.extract_tb(e.__traceback__)
    if not frames:
        return "?"
    f = frames[-1]
    path = f.filename
    for root in ("/fayasm/", "/scripts/", "/translator/", "/runtime/"):
        if root in path:
            path = root.strip("/") + "/" + path.split(root, 1)[1]
            break
    return f"{path}:{f.lineno} ({f.name})"


class Stats:
    """Counters of a batch of inputs; merged by the parent."""

    def __init__(self):
        self.inputs = {"binary": 0, "wat": 0}
        self.accepted = {"binary": 0, "wat": 0}
        self.rejected = {"binary": 0, "wat": 0}
        self.roundtrips = 0
        self.fayasm_seconds = {"binary": 0.0, "wat": 0.0}
        self.reject_messages = collections.Counter()  # (kind, message)
        self.mutators = collections.defaultdict(lambda: [0, 0])  # (kind, name) -> acc, rej
        self.oracle = collections.Counter()  # (kind, "agree"/"disagree")
        self.disagreements = {}  # (kind, class, direction, fayasm msg, wasmtime msg) -> [n, [idx]]
        self.findings = []
        self.slowest = []  # (seconds, kind, index, mutators, size)
        self.peak_rss = 0

    def merge(self, other: "Stats") -> None:
        for d in ("inputs", "accepted", "rejected", "fayasm_seconds"):
            for k, v in getattr(other, d).items():
                getattr(self, d)[k] += v
        self.roundtrips += other.roundtrips
        self.reject_messages.update(other.reject_messages)
        for k, (a, r) in other.mutators.items():
            self.mutators[k][0] += a
            self.mutators[k][1] += r
        self.oracle.update(other.oracle)
        for k, (n, idx) in other.disagreements.items():
            mine = self.disagreements.setdefault(k, [0, []])
            mine[0] += n
            mine[1] = (mine[1] + idx)[:5]
        self.findings += other.findings
        self.slowest = sorted(self.slowest + other.slowest, reverse=True)[:10]
        self.peak_rss = max(self.peak_rss, other.peak_rss)

    def __getstate__(self):
        d = dict(self.__dict__)
        d["mutators"] = dict(self.mutators)
        return d

    def __setstate__(self, d):
        self.__dict__.update(d)
        self.mutators = collections.defaultdict(lambda: [0, 0], d["mutators"])


class Worker:
    """Runs inputs [start, stop) of one kind (or a list of given inputs) and reports."""

    def __init__(self, opts: Options, corpus, conn, shared, verbose: bool = False):
        self.opts = opts
        self.corpus = corpus
        self.conn = conn
        self.shared = shared
        self.verbose = verbose
        self.oracle = None

    def setup(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.environ["FAYASM_CACHE"] = "0"  # a memo of a million fuzz inputs helps no one
        if self.opts.wasmtime:
            self.oracle, _ = wasmtime_engine()
        import fayasm
        import fayasm.text.printer  # noqa: F401
        # Address space: what the process has now plus the RSS cap, so an allocation
        # that would take the process far past the cap fails (MemoryError) instead of
        # taking the machine with it.
        vm = _vm_size(os.getpid())
        cap = vm + self.opts.max_rss + (256 << 20)
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or cap < hard:
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))

    def run(self, kind: str, start: int, stop: int, skip=(), given=None) -> None:
        self.setup()
        stats = Stats()
        last_send = time.monotonic()
        next_index = start
        for i in range(start, stop):
            if i in skip:
                next_index = i + 1
                continue
            exit_reason = self.one(kind, i, stats, given)
            next_index = i + 1
            now = time.monotonic()
            if exit_reason or now - last_send > 0.5 or sum(stats.inputs.values()) >= 2000:
                self.conn.send(("batch", next_index, stats))
                stats = Stats()
                last_send = now
            if exit_reason:
                self.conn.send(("exit", next_index, exit_reason))
                return
        self.conn.send(("batch", next_index, stats))
        self.conn.send(("exit", stop, "done"))

    def one(self, kind: str, i: int, stats: Stats, given) -> str | None:
        """Run input ``i``; returns a reason to stop this process (memory) or None."""
        import fayasm

        sh = self.shared
        sh[0] = i
        sh[1] = GEN
        try:
            if given is not None:
                data, names = given[i], ["given"]
            else:
                data, names = fm.make_input(kind, self.opts.seed, i, self.corpus)
        except Exception as e:  # noqa: BLE001 - a bug of the harness, reported as one
            stats.findings.append(dict(cls="harness", kind=kind, index=i, phase="generate",
                                       type=type(e).__name__, message=str(e)[:300],
                                       where=_where(e), traceback=traceback.format_exc()))
            return None
        kind = "binary" if isinstance(data, bytes) else "wat"
        stats.inputs[kind] += 1
        outcome = dict(kind=kind, index=i, mutators=names, size=len(data))
        sh[2] = time.process_time()
        sh[3] = time.monotonic()
        sh[1] = FAYASM
        t0 = time.process_time()
        module = None
        fay_msg = ""
        fay_offset = None
        try:
            module = fayasm.Module(data)
        except fayasm.Error as e:
            fay_msg = _fayasm_message(e)
            # Where it failed: a byte offset, or (line, column) in a text.
            fay_offset = ((e.line, e.column) if isinstance(e, fayasm.ParseError)
                          else getattr(e, "offset", None))
        except MemoryError as e:
            return self._memory(stats, outcome, e, FAYASM)
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            self._nonfayasm(stats, outcome, e, FAYASM)
            return None
        elapsed = time.process_time() - t0
        stats.fayasm_seconds[kind] += elapsed
        stats.slowest.append((elapsed, kind, i, names, len(data)))
        if len(stats.slowest) > 20:
            stats.slowest = sorted(stats.slowest, reverse=True)[:10]
        ok = module is not None
        (stats.accepted if ok else stats.rejected)[kind] += 1
        stats.mutators[(kind, names[-1])][0 if ok else 1] += 1
        if not ok:
            stats.reject_messages[(kind, fay_msg)] += 1
        outcome.update(accepted=ok, message=fay_msg, seconds=elapsed)
        if ok and self.opts.roundtrip and len(data) <= self.opts.roundtrip_max:
            # Each phase has its own time limit.
            sh[2] = time.process_time()
            sh[3] = time.monotonic()
            sh[1] = ROUNDTRIP
            try:
                diff = _roundtrip(module.syntax)
            except MemoryError as e:
                return self._memory(stats, outcome, e, ROUNDTRIP)
            except BaseException as e:
                if isinstance(e, KeyboardInterrupt):
                    raise
                self._nonfayasm(stats, outcome, e, ROUNDTRIP)
                diff = None
            else:
                stats.roundtrips += 1
                if diff is not None:
                    stats.findings.append(dict(outcome, cls="roundtrip", phase="round trip",
                                               message=diff))
        module = None
        if self.oracle is not None:
            sh[2] = time.process_time()
            sh[3] = time.monotonic()
            sh[1] = WASMTIME
            wt_ok, wt_msg, wt_binary = self._wasmtime(data)
            if wt_ok is not None:
                agree = wt_ok == ok
                stats.oracle[(kind, "agree" if agree else "disagree")] += 1
                if not agree:
                    cls = classify(data, ok, fay_msg, fay_offset, wt_ok, wt_msg, wt_binary)
                    key = (kind, cls, "fayasm accepts" if ok else "wasmtime accepts",
                           fay_msg, wt_msg)
                    entry = stats.disagreements.setdefault(key, [0, []])
                    entry[0] += 1
                    if len(entry[1]) < 5:
                        entry[1].append(i)
                outcome.update(wasmtime=wt_ok, wasmtime_message=wt_msg)
        sh[1] = GEN
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        if rss > stats.peak_rss:
            stats.peak_rss = rss
        if self.verbose:
            self.conn.send(("outcome", outcome))
        if rss > self.opts.max_rss:
            stats.findings.append(dict(outcome, cls="memory", phase="after the input",
                                       rss=rss, message=f"peak RSS {rss >> 20} MiB"))
            return "memory"
        return None

    def _wasmtime(self, data):
        """(accepted, message, the binary) by wasmtime."""
        wasmtime, engine = self.oracle
        try:
            binary = data if isinstance(data, bytes) else bytes(wasmtime.wat2wasm(data))
        except Exception as e:  # noqa: BLE001 - the binding's errors (and encoding ones)
            return False, "text: " + normalize(str(e)), None
        try:
            wasmtime.Module.validate(engine, binary)
            return True, "", binary
        except Exception as e:  # noqa: BLE001
            return False, normalize(str(e)), binary

    def _nonfayasm(self, stats, outcome, e, phase) -> None:
        stats.findings.append(dict(outcome, cls="nonfayasm", phase=PHASES[phase],
                                   type=type(e).__name__, message=str(e)[:300], where=_where(e),
                                   traceback=traceback.format_exc()[-3000:]))
        if self.verbose:
            self.conn.send(("outcome", dict(outcome, error=type(e).__name__,
                                            traceback=traceback.format_exc())))

    def _memory(self, stats, outcome, e, phase) -> str:
        stats.findings.append(dict(outcome, cls="memory", phase=PHASES[phase],
                                   message="MemoryError (address space capped at the RSS limit)",
                                   where=_where(e)))
        return "memory"


def _vm_size(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[0]) * _PAGE


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        return 0


def _cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def _worker_main(opts, corpus, conn, shared, kind, start, stop, skip, given, verbose):
    try:
        Worker(opts, corpus, conn, shared, verbose).run(kind, start, stop, skip, given)
    finally:
        conn.close()


# ---------------------------------------------------------------- parent

@dataclass
class Slot:
    """One worker process and the inputs it owes: [acked, stop) less ``skip``."""

    kind: str
    acked: int
    stop: int
    skip: set = field(default_factory=set)
    proc: object = None
    conn: object = None
    shared: object = None
    started: float = 0.0
    restarts_here: int = 0


class Campaign:
    def __init__(self, opts: Options, corpus, given=None, verbose=False, out=sys.stdout):
        self.opts = opts
        self.corpus = corpus
        self.given = given
        self.verbose = verbose
        self.out = out
        self.stats = Stats()
        self.ctx = multiprocessing.get_context("fork")
        self.outcomes = []
        self.elapsed = {"binary": 0.0, "wat": 0.0}

    def _start(self, slot: Slot) -> None:
        parent, child = self.ctx.Pipe(duplex=False)
        slot.conn = parent
        slot.shared = self.ctx.RawArray("d", 4)
        slot.shared[0] = slot.acked
        slot.proc = self.ctx.Process(
            target=_worker_main, daemon=True,
            args=(self.opts, self.corpus, child, slot.shared, slot.kind, slot.acked, slot.stop,
                  frozenset(slot.skip), self.given, self.verbose))
        slot.proc.start()
        child.close()
        slot.started = time.monotonic()

    def _finding(self, slot: Slot, cls: str, **details) -> None:
        """A worker was stopped on its current input: record it, to restart past it."""
        index = int(slot.shared[0])
        phase = PHASES[int(slot.shared[1])]
        self.stats.findings.append(dict(cls=cls, kind=slot.kind, index=index, phase=phase,
                                        **details))
        self.stats.inputs[slot.kind if self.given is None else _given_kind(self.given[index])] \
            += 1
        slot.skip.add(index)

    def _drain(self, slot: Slot) -> str | None:
        """Read the worker's messages; returns its exit reason when it said goodbye."""
        reason = None
        try:
            while slot.conn.poll():
                msg = slot.conn.recv()
                if msg[0] == "batch":
                    slot.acked = msg[1]
                    self.stats.merge(msg[2])
                elif msg[0] == "outcome":
                    self.outcomes.append(msg[1])
                elif msg[0] == "exit":
                    slot.acked = msg[1]
                    reason = msg[2]
        except (EOFError, OSError):
            pass
        return reason

    def _reap(self, slot: Slot) -> None:
        """Kill the worker; keep what it reported before it died."""
        if slot.proc.is_alive():
            try:
                os.kill(slot.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        slot.proc.join()
        self._drain(slot)
        slot.conn.close()

    def _stop(self, slot: Slot, cls: str, index: int, **details) -> None:
        """Kill a worker stuck on input ``index`` and go on past it (unless it finished
        that input after all, just before the kill)."""
        self._reap(slot)
        if slot.acked <= index:
            # Inputs it ran but had not yet reported run again in the next worker.
            self._finding(slot, cls, **details)
        self._restart(slot)

    def _check(self, slot: Slot) -> bool:
        """Watch one worker; returns True while it still has inputs to run."""
        reason = self._drain(slot)
        pid = slot.proc.pid
        if reason is not None:
            slot.proc.join()
            self._drain(slot)
            slot.conn.close()
            if slot.acked >= slot.stop:
                return False
            self._restart(slot)
            return True
        if not slot.proc.is_alive():
            code = slot.proc.exitcode
            self._reap(slot)  # a batch may have arrived just before it died
            if slot.acked >= slot.stop:
                return False
            sig = -code if code is not None and code < 0 else None
            self._finding(slot, "crash", exitcode=code,
                          message=f"killed by {signal.Signals(sig).name}" if sig else
                          f"exit code {code}")
            self._restart(slot)
            return True
        sh = slot.shared
        index, phase, cpu_start, wall_start = int(sh[0]), int(sh[1]), sh[2], sh[3]
        if phase != GEN:
            cpu = _cpu(pid) - cpu_start
            wall = time.monotonic() - wall_start
            if int(sh[0]) != index:
                return True  # it moved on meanwhile: look again next time
            # CPU time, since the machine may be shared; wall time only as a backstop.
            if cpu > self.opts.timeout or wall > max(20.0, 20 * self.opts.timeout):
                self._stop(slot, "hang", index, cpu=round(cpu, 2), wall=round(wall, 2),
                           message=f"over {self.opts.timeout:g} s ({cpu:.2f} s CPU)")
                return True
        rss = _rss(pid)
        if rss > self.opts.max_rss:
            self._stop(slot, "memory", int(sh[0]), rss=rss, message=f"RSS {rss >> 20} MiB")
            return True
        return True

    def _restart(self, slot: Slot) -> None:
        slot.restarts_here = slot.restarts_here + 1 if slot.acked == getattr(
            slot, "_last_acked", None) else 0
        slot._last_acked = slot.acked
        while slot.acked in slot.skip:
            slot.acked += 1
        if slot.acked >= slot.stop:
            slot.proc = None
            return
        if slot.restarts_here > 50:
            raise RuntimeError(f"worker keeps dying at {slot.kind} input {slot.acked}")
        self._start(slot)

    def run(self) -> Stats:
        opts = self.opts
        tasks = collections.deque()
        if self.given is not None:
            tasks.append(("given", 0, len(self.given)))
        for kind, n in (("binary", opts.binary), ("wat", opts.wat)):
            for a in range(0, n, opts.chunk):
                tasks.append((kind, a, min(n, a + opts.chunk)))
        active: list[Slot] = []
        kind_start = {}
        kind_left = collections.Counter(t[0] for t in tasks)
        last_progress = time.monotonic()
        begin = last_progress
        while tasks or active:
            while tasks and len(active) < max(1, opts.jobs):
                kind, a, b = tasks.popleft()
                kind_start.setdefault(kind, time.monotonic())
                slot = Slot(kind, a, b)
                self._start(slot)
                active.append(slot)
            wait([s.conn for s in active if s.conn is not None]
                 + [s.proc.sentinel for s in active], timeout=0.05)
            still = []
            for s in active:
                if self._check(s) and s.proc is not None:
                    still.append(s)
                else:
                    kind_left[s.kind] -= 1
                    if not kind_left[s.kind]:
                        self.elapsed[s.kind] = time.monotonic() - kind_start[s.kind]
            active = still
            now = time.monotonic()
            if opts.progress and now - last_progress > opts.progress:
                last_progress = now
                self._progress(now - begin)
        return self.stats

    def _progress(self, elapsed: float) -> None:
        st = self.stats
        done = sum(st.inputs.values())
        counts = collections.Counter(f["cls"] for f in st.findings)
        print(f"[{elapsed:7.0f} s] {done:,} inputs ({done / max(elapsed, 1e-9):,.0f}/s) "
              f"binary {st.inputs['binary']:,} wat {st.inputs['wat']:,}; findings: "
              + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"),
              file=sys.stderr, flush=True)


def _given_kind(data) -> str:
    return "binary" if isinstance(data, bytes) else "wat"


# ---------------------------------------------------------------- saving and reporting

def input_of(finding: dict, opts: Options, corpus, given=None):
    if given is not None:
        return given[finding["index"]]
    kind = "binary" if finding["kind"] == "binary" else "wat"
    return fm.make_input(kind, opts.seed, finding["index"], corpus)[0]


def write_input(path: str, data) -> None:
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))


def read_input(path: str):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:4] == b"\0asm" or path.endswith(".wasm"):
        return raw
    return raw.decode("utf-8", "surrogatepass")


def save(stats: Stats, opts: Options, corpus, report: dict, per_group: int = 20) -> list[str]:
    """The inputs of findings (and of unexplained wasmtime disagreements) in opts.save."""
    os.makedirs(opts.save, exist_ok=True)
    written = []
    groups = collections.Counter()
    todo = [(f["cls"], f) for f in stats.findings]
    for (kind, cls, _direction, fmsg, wmsg), (_n, idx) in stats.disagreements.items():
        tag = "disagree" if cls == "unexplained" else "known"
        for i in idx[:5 if cls == "unexplained" else 2]:
            todo.append((tag, dict(kind=kind, index=i, cls=tag, message=f"{fmsg} | {wmsg}")))
    for tag, f in todo:
        key = (tag, f.get("type"), f.get("where"), f.get("message", "")[:40])
        groups[key] += 1
        if groups[key] > per_group:
            continue
        ext = "wasm" if f["kind"] == "binary" else "wat"
        path = os.path.join(opts.save, f"{tag}-{f['kind']}-{opts.seed}-{f['index']}.{ext}")
        write_input(path, input_of(f, opts, corpus))
        written.append(path)
    with open(os.path.join(opts.save, "report.json"), "w") as f:
        json.dump(report, f, indent=1, default=str)
    return written


def build_report(stats: Stats, opts: Options, camp: Campaign, corpus, load_seconds: float,
                 wasmtime_info) -> dict:
    for f in stats.findings:
        if "mutators" not in f and f["kind"] in ("binary", "wat") and camp.given is None:
            # Found by the parent (a kill): what the input was, made again.
            data, names = fm.make_input(f["kind"], opts.seed, f["index"], corpus)
            f.update(mutators=names, size=len(data))
    kinds = {}
    for kind in ("binary", "wat"):
        n = stats.inputs[kind]
        if not n:
            continue
        secs = camp.elapsed.get(kind) or 0.0
        failures = collections.Counter(f["cls"] for f in stats.findings if f["kind"] == kind)
        # A hang or crash inside wasmtime is wasmtime's, not fayasm's.
        oracle_failures = collections.Counter(
            f["cls"] for f in stats.findings if f["kind"] == kind and f.get("phase") == "wasmtime")
        dis = collections.Counter()
        groups = []
        for (k, cls, direction, fmsg, wmsg), (c, idx) in sorted(
                stats.disagreements.items(), key=lambda kv: -kv[1][0]):
            if k != kind:
                continue
            dis[cls] += c
            groups.append(dict(cls=cls, direction=direction, fayasm=fmsg, wasmtime=wmsg,
                               count=c, examples=idx))
        kinds[kind] = dict(
            inputs=n, seconds=round(secs, 1), rate=round(n / secs, 1) if secs else None,
            accepted=stats.accepted[kind], rejected=stats.rejected[kind],
            fayasm_us_per_input=round(1e6 * stats.fayasm_seconds[kind] / n, 1),
            failures={c: failures[c] - oracle_failures[c] for c in FAILURES},
            in_wasmtime={c: oracle_failures[c] for c in FAILURES if oracle_failures[c]},
            oracle=dict(agree=stats.oracle[(kind, "agree")],
                        disagree=stats.oracle[(kind, "disagree")], by_class=dict(dis),
                        groups=groups[:60]),
            top_rejections=[(m, c) for (k, m), c in stats.reject_messages.most_common()
                            if k == kind][:15],
            mutators={name: v for (k, name), v in sorted(stats.mutators.items()) if k == kind},
        )
    return dict(
        options=asdict(opts), corpus=dict(binaries=len(corpus.binaries), texts=len(corpus.texts),
                                          sources=corpus.sources, seconds=round(load_seconds, 1)),
        wasmtime=wasmtime_info, kinds=kinds, roundtrips=stats.roundtrips,
        peak_rss_mib=stats.peak_rss >> 20,
        slowest=[dict(seconds=round(s, 3), kind=k, index=i, mutators=m, size=z)
                 for s, k, i, m, z in stats.slowest[:5]],
        findings=[{k: v for k, v in f.items() if k != "traceback"} | (
            {"traceback": f["traceback"]} if "traceback" in f else {})
            for f in stats.findings[:200]],
    )


def print_report(r: dict, out=sys.stdout) -> None:
    o = r["options"]
    w = r["wasmtime"]
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p(f"fayasm front-end fuzz: seed {o['seed']}, {o['jobs']} job(s), timeout {o['timeout']:g} s "
      f"CPU, max RSS {o['max_rss'] >> 20} MiB, round trips "
      + (f"of accepted inputs up to {o['roundtrip_max']:,} bytes" if o["roundtrip"] else "off"))
    c = r["corpus"]
    p(f"corpus: {c['binaries']:,} binaries and {c['texts']:,} texts in {c['seconds']} s "
      f"({', '.join(f'{k} {v:,}' for k, v in c['sources'].items())})")
    if w:
        p(f"wasmtime {w['version']} as oracle; could not set: {', '.join(w['missing']) or '-'}")
    for kind, k in r["kinds"].items():
        rate = f"{k['rate']:,.0f}/s" if k["rate"] else "?"
        p(f"\n{kind}: {k['inputs']:,} inputs in {k['seconds']:,} s ({rate}): "
          f"{k['accepted']:,} accepted, {k['rejected']:,} rejected; fayasm.Module "
          f"{k['fayasm_us_per_input']:,} us an input")
        f = k["failures"]
        p(f"  non-fayasm exceptions {f['nonfayasm']}, hangs > {o['timeout']:g} s {f['hang']}, "
          f"over {o['max_rss'] >> 20} MiB {f['memory']}, crashes {f['crash']}, "
          f"round-trip failures {f['roundtrip']}, harness errors {f['harness']}")
        if k["in_wasmtime"]:
            p(f"  in wasmtime (not fayasm's): {k['in_wasmtime']}")
        orc = k["oracle"]
        if orc["agree"] or orc["disagree"]:
            p(f"  wasmtime agrees on {orc['agree']:,}, disagrees on {orc['disagree']:,}: "
              + ", ".join(f"{cls} {n:,}" for cls, n in sorted(orc["by_class"].items())))
            for g in orc["groups"][:25]:
                p(f"    {g['count']:>7,}  [{g['cls']}] {g['direction']}: fayasm "
                  f"{g['fayasm'] or 'ok'!r} / wasmtime {g['wasmtime'] or 'ok'!r} "
                  f"(e.g. #{g['examples'][0]})")
        p("  most common rejections: "
          + "; ".join(f"{m} {n:,}" for m, n in k["top_rejections"][:8]))
    p(f"\nround trips (print -> parse) of accepted modules: {r['roundtrips']:,}; "
      f"peak RSS of a worker {r['peak_rss_mib']} MiB")
    for s in r["slowest"][:3]:
        p(f"  slow: {s['seconds']} s, {s['kind']} #{s['index']} ({'+'.join(s['mutators'])}, "
          f"{s['size']:,} {'bytes' if s['kind'] == 'binary' else 'characters'})")
    if r["findings"]:
        p("\nfindings:")
        seen = collections.Counter()
        for f in r["findings"]:
            key = (f["cls"], f.get("type"), f.get("where"))
            seen[key] += 1
            if seen[key] > 3:
                continue
            p(f"  {f['cls']} {f['kind']} #{f['index']} in {f.get('phase')}: "
              f"{f.get('type', '')} {f.get('message', '')[:200]} {f.get('where', '')}")


def corpus_for(opts: Options):
    t = time.perf_counter()
    corpus = fm.load_corpus(spec_sample=opts.spec_sample)
    return corpus, time.perf_counter() - t


def wasmtime_info(opts: Options):
    if not opts.wasmtime:
        return None
    # Probed in a child, so that the parent never loads wasmtime (and its threads) before
    # it forks workers.
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)

    def probe(conn):
        oracle, missing = wasmtime_engine()
        version = None
        if oracle is not None:
            try:
                from importlib.metadata import version as v
                version = v("wasmtime")
            except Exception:  # noqa: BLE001
                version = "?"
        conn.send((oracle is not None, version, missing))

    proc = ctx.Process(target=probe, args=(child,))
    proc.start()
    present, version, missing = parent.recv()
    proc.join()
    if not present:
        opts.wasmtime = False
        return None
    return dict(version=version, missing=missing)


def run(opts: Options, corpus=None, out=sys.stdout, quiet=False) -> dict:
    """Run a campaign; returns the report (also printed unless ``quiet``)."""
    load = 0.0
    if corpus is None:
        corpus, load = corpus_for(opts)
    info = wasmtime_info(opts)
    camp = Campaign(opts, corpus, out=out)
    stats = camp.run()
    report = build_report(stats, opts, camp, corpus, load, info)
    if opts.save:
        report["saved"] = save(stats, opts, corpus, report)
    if not quiet:
        print_report(report, out)
        if opts.save:
            print(f"\n{len(report['saved'])} inputs saved in {opts.save}", file=out)
    return report


def replay(opts: Options, items: list[str]) -> int:
    """Run saved files (or KIND:INDEX inputs of --seed) one by one, with the same limits,
    and say what happened to each."""
    corpus = None
    given, labels = [], []
    for item in items:
        m = re.fullmatch(r"(binary|wat):(\d+)", item)
        if m:
            if corpus is None:
                corpus, _ = corpus_for(opts)
            given.append(fm.make_input(m.group(1), opts.seed, int(m.group(2)), corpus)[0])
        else:
            given.append(read_input(item))
        labels.append(item)
    info = wasmtime_info(opts)
    opts.progress = 0
    camp = Campaign(opts, corpus, given=given, verbose=True)
    stats = camp.run()
    bad = 0
    by_index = {o["index"]: o for o in camp.outcomes}
    for k, label in enumerate(labels):
        o = by_index.get(k)
        f = [x for x in stats.findings if x["index"] == k]
        print(f"{label}: {len(given[k]):,} {'bytes' if isinstance(given[k], bytes) else 'chars'}")
        if o is not None and "error" not in o:
            verdict = "accepted" if o["accepted"] else f"rejected: {o['message']}"
            print(f"  fayasm {verdict} in {o['seconds']:.3f} s")
            if "wasmtime" in o:
                verdict = "accepted" if o["wasmtime"] else "rejected: " + o["wasmtime_message"]
                print(f"  wasmtime {verdict}")
        for x in f:
            bad += 1
            print(f"  {x['cls']} in {x.get('phase')}: {x.get('type', '')} {x.get('message', '')}")
            if "traceback" in x:
                print("    " + x["traceback"].rstrip().replace("\n", "\n    "))
    if info is None and opts.wasmtime:
        print("(wasmtime not installed)")
    return 1 if bad else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--binary", type=int, default=0, help="binary inputs to run")
    ap.add_argument("--wat", type=int, default=0, help="text inputs to run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=1, help="worker processes")
    ap.add_argument("--timeout", type=float, default=1.0, help="CPU seconds allowed per input")
    ap.add_argument("--max-rss", type=parse_size, default=1 << 30, help="e.g. 1GiB")
    ap.add_argument("--wasmtime", action="store_true", help="compare accept/reject with wasmtime")
    ap.add_argument("--no-roundtrip", action="store_true",
                    help="do not print and re-parse accepted modules")
    ap.add_argument("--roundtrip-max", type=parse_size, default=16 << 10,
                    help="round-trip accepted inputs up to this size only (default 16KiB)")
    ap.add_argument("--save", metavar="DIR", help="keep the inputs of findings (and report.json)")
    ap.add_argument("--json", metavar="FILE", help="write the report as JSON")
    ap.add_argument("--chunk", type=int, default=5000, help="inputs per worker process")
    ap.add_argument("--spec-sample", type=int, default=1,
                    help="seed the corpus from every n-th spec file only")
    ap.add_argument("--progress", type=float, default=60.0, help="seconds between progress lines")
    ap.add_argument("--replay", nargs="+", metavar="FILE|KIND:INDEX",
                    help="run saved inputs (or binary:I / wat:I of --seed) and show the outcome")
    a = ap.parse_args(argv)
    opts = Options(binary=a.binary, wat=a.wat, seed=a.seed, jobs=a.jobs, timeout=a.timeout,
                   max_rss=a.max_rss, wasmtime=a.wasmtime, roundtrip=not a.no_roundtrip,
                   roundtrip_max=a.roundtrip_max,
                   save=a.save, chunk=max(1, a.chunk), spec_sample=max(1, a.spec_sample),
                   progress=a.progress)
    if a.replay:
        return replay(opts, a.replay)
    if not opts.binary and not opts.wat:
        ap.error("nothing to do: give --binary N and/or --wat N (or --replay)")
    report = run(opts)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1, default=str)
    fails = sum(sum(k["failures"].values()) for k in report["kinds"].values())
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

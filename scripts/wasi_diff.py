"""WASI preview 1, fayasm against wasmtime: run the same raw calls (scripts/wasi_cases.py)
on fayasm's engines and on wasmtime (the PyPI package) and print every difference.

    python scripts/wasi_diff.py                    # every case, every engine
    python scripts/wasi_diff.py --engines interpreter -k readonly
    python scripts/wasi_diff.py --all              # every case, not just differences
    python scripts/wasi_diff.py --json out.json

Each case runs in a fresh directory tree (see make_tree) with "/sb" preopened read-write
as fd 3 and "/ro" read-only as fd 4. What is compared: each call's errno (or that it
trapped), what the guest wrote to stdout, and the tree afterwards. A difference that
docs/wasi.md lists as deliberate is marked with its row there; the summary counts
differences in all, deliberate ones, undecided ones (which should be none), stale ones
(listed as deliberate but no longer different), and cases where fayasm's engines disagree
with each other (always a bug). The exit status is 1 if any of the last three is not 0.
"""
from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import wasi_cases
from wasi_guest import Guest, results

ENGINES = ("interpreter", "python", "jit")


def make_tree(root: Path) -> dict:
    """The directories every case starts from; returns {guest path: (host path, mode)}."""
    (root / "outside.txt").write_text("secret")
    sb = root / "sb"
    (sb / "sub").mkdir(parents=True)
    (sb / "empty").mkdir()
    (sb / "f.txt").write_text("hello")
    (sb / "sub" / "inner.txt").write_text("inner")
    os.symlink("f.txt", sb / "link")
    os.symlink("../outside.txt", sb / "up")
    os.symlink("sub", sb / "dirlink")
    ro = root / "ro"
    (ro / "rdir").mkdir(parents=True)
    (ro / "r.txt").write_text("read only")
    os.symlink("r.txt", ro / "rlink")
    return {"/sb": (sb, "rw"), "/ro": (ro, "ro")}


def snapshot(root: Path) -> dict:
    """Names, types, contents and link targets below ``root`` (no times)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            st = os.lstat(p)
            rel = str(p.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = "link -> " + os.readlink(p)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = "dir"
            else:
                data = p.read_bytes()
                size = f" ({len(data)} bytes)" if len(data) > 40 else ""
                out[rel] = f"file {data[:40]!r}{size}"
    return out


@dataclass
class Outcome:
    results: list
    stdout: bytes
    tree: dict
    error: str = ""      # anything but a trap that stopped the run (a bug in a runner)

    def key(self):
        return (tuple(self.results), self.stdout, tuple(sorted(self.tree.items())), self.error)


def run_fayasm(guest: Guest, engine: str, root: Path, config_extra=None) -> Outcome:
    import fayasm

    preopens = make_tree(root)
    out_path = root / "stdout"
    config = fayasm.WasiConfig(argv=["case"],
                               preopens={g: (str(h), m) for g, (h, m) in preopens.items()},
                               stdin=b"", stdout=str(out_path), stderr=str(root / "stderr"),
                               **(config_extra or {}))
    error = ""
    mem = b""
    try:
        inst = fayasm.instantiate(fayasm.Module(guest.wat()), engine=engine, wasi=config)
        try:
            inst.exports.run()
        except fayasm.Trap:
            pass
        finally:
            inst.wasi.close()
        mem = inst.exports.memory.read(0, 4 * len(guest.steps))
    except Exception as e:  # noqa: BLE001 - reported, not raised: the diff goes on
        error = f"{type(e).__name__}: {e}"
    return _outcome(guest, mem, out_path, root, error)


def run_wasmtime(guest: Guest, root: Path) -> Outcome:
    import wasmtime

    preopens = make_tree(root)
    out_path = root / "stdout"
    (root / "stdin").write_bytes(b"")
    cfg = wasmtime.WasiConfig()
    cfg.argv = ["case"]
    cfg.stdin_file = str(root / "stdin")
    cfg.stdout_file = str(out_path)
    cfg.stderr_file = str(root / "stderr")
    for g, (h, m) in preopens.items():
        cfg.preopen_dir(str(h), g, m == "rw")
    error = ""
    mem = b""
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    store.set_wasi(cfg)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    try:
        inst = linker.instantiate(store, wasmtime.Module(engine, guest.wat()))
        try:
            inst.exports(store)["run"](store)
        except (wasmtime.Trap, wasmtime.WasmtimeError):
            pass
        memory = inst.exports(store)["memory"]
        mem = bytes(memory.read(store, 0, 4 * len(guest.steps)))
    except Exception as e:  # noqa: BLE001
        error = f"{type(e).__name__}: {e}"
    del linker, store, engine  # closes wasmtime's descriptors before the tree is read
    return _outcome(guest, mem, out_path, root, error)


def _outcome(guest, mem, out_path, root, error) -> Outcome:
    stdout = out_path.read_bytes() if out_path.exists() else b""
    tree = {k: v for k, v in snapshot(root).items() if k not in ("stdout", "stderr", "stdin")}
    res = results(mem, len(guest.steps)) if mem else []
    return Outcome(res, stdout, tree, error)


def describe(guest: Guest, o: Outcome) -> str:
    if o.error:
        return "error " + o.error
    parts = []
    for (name, _), r in zip(guest.steps, o.results):
        if r is None:
            break
        parts.append(f"{name}={_errno(r)}")
    return " ".join(parts)


def _errno(r) -> str:
    from fayasm.runtime.wasi import ERRNO_NAMES

    if r == "trap":
        return "trap"
    return ERRNO_NAMES[r] if isinstance(r, int) and r < len(ERRNO_NAMES) else str(r)


def tree_diff(a: dict, b: dict) -> list[str]:
    lines = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            lines.append(f"      {k}: fayasm {a.get(k, '(none)')}, wasmtime {b.get(k, '(none)')}")
    return lines


def compare(case, engines, tmp: Path, with_wasmtime: bool) -> dict:
    """Run one case everywhere; a report entry."""
    guest = Guest()
    case.build(guest)
    outcomes = {}
    for engine in engines:
        d = tmp / f"{case.slug}-{engine}"
        d.mkdir()
        outcomes[engine] = run_fayasm(guest, engine, d)
    wt = None
    if with_wasmtime:
        d = tmp / f"{case.slug}-wasmtime"
        d.mkdir()
        wt = run_wasmtime(guest, d)
    first = outcomes[engines[0]]
    engines_agree = all(o.key() == first.key() for o in outcomes.values())
    differs = wt is not None and first.key() != wt.key()
    return {"case": case, "guest": guest, "outcomes": outcomes, "wasmtime": wt,
            "engines_agree": engines_agree, "differs": differs}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("-k", default="", help="only cases whose name or group contains this")
    ap.add_argument("--all", action="store_true", help="print every case, not only differences")
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e]
    try:
        import wasmtime  # noqa: F401
        with_wasmtime = True
    except ImportError:
        with_wasmtime = False
        print("wasmtime is not installed: only fayasm's engines are compared")
    cases = [c for c in wasi_cases.CASES if args.k in c.name or args.k in c.group]
    counts = {"cases": 0, "differ": 0, "deliberate": 0, "undecided": 0, "stale": 0,
              "engines_disagree": 0}
    by_group: dict[str, int] = {}
    rows = []
    with tempfile.TemporaryDirectory(prefix="wasi-diff-") as tmp:
        for case in cases:
            r = compare(case, engines, Path(tmp), with_wasmtime)
            counts["cases"] += 1
            guest, fy, wt = r["guest"], r["outcomes"][engines[0]], r["wasmtime"]
            if not r["engines_agree"]:
                counts["engines_disagree"] += 1
                print(f"ENGINES DISAGREE  {case.name}")
                for e, o in r["outcomes"].items():
                    print(f"    {e:12} {describe(guest, o)}")
            if r["differs"]:
                counts["differ"] += 1
                by_group[case.group] = by_group.get(case.group, 0) + 1
                counts["deliberate" if case.deliberate else "undecided"] += 1
            if case.deliberate and with_wasmtime and not r["differs"]:
                counts["stale"] += 1
                print(f"STALE  {case.name}: listed as deliberate ({case.deliberate}) "
                      "but no longer differs")
            if r["differs"] or args.all:
                tag = ("DIFFERS" + (f" (deliberate: {case.deliberate})" if case.deliberate
                                    else " (undecided)")) if r["differs"] else "same"
                print(f"[{case.group}] {case.name}: {tag}")
                print(f"    fayasm   {describe(guest, fy)}")
                if wt is not None:
                    print(f"    wasmtime {describe(guest, wt)}")
                    if fy.stdout != wt.stdout:
                        print(f"    stdout: fayasm {fy.stdout!r}, wasmtime {wt.stdout!r}")
                    for line in tree_diff(fy.tree, wt.tree):
                        print(line)
            rows.append({"case": case.name, "group": case.group, "differs": r["differs"],
                         "deliberate": case.deliberate, "fayasm": describe(guest, fy),
                         "wasmtime": describe(guest, wt) if wt else None,
                         "engines_agree": r["engines_agree"]})
    groups = ", ".join(f"{g} {n}" for g, n in sorted(by_group.items())) or "none"
    print(f"\n{counts['cases']} cases on {', '.join(engines)}"
          + (" and wasmtime" if with_wasmtime else "")
          + f": {counts['differ']} differ from wasmtime ({groups}); "
          f"{counts['deliberate']} deliberate, {counts['undecided']} undecided, "
          f"{counts['stale']} stale; fayasm's engines disagree in {counts['engines_disagree']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"counts": counts, "by_group": by_group,
                                               "cases": rows}, indent=1))
    return 1 if counts["undecided"] or counts["stale"] or counts["engines_disagree"] else 0


if __name__ == "__main__":
    sys.exit(main())

"""Turn bench.py's measurements into report.json, report.md and chart.png.

Ratios are relative times, time(A) / time(B) per unit of work: below 1 means A is faster.
Geometric means run over the programs both runners measured with agreeing checksums.
"""
from __future__ import annotations

import json
import math
from pathlib import Path


def ok_time(report: dict, program: str, runner: str) -> float | None:
    res = report["results"].get(program, {}).get(runner)
    if res and res.get("ok") and res.get("time_per_unit_s", 0) > 0:
        return res["time_per_unit_s"]
    return None


def geomean(values: list[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def ratios(report: dict) -> dict:
    """time(a) / time(b) for every ordered pair of runners: per program and geometric mean."""
    names = measured_runners(report)
    out: dict = {}
    for a in names:
        for b in names:
            if a == b:
                continue
            per = {}
            for p in report["results"]:
                ta, tb = ok_time(report, p, a), ok_time(report, p, b)
                if ta and tb:
                    per[p] = ta / tb
            out.setdefault(a, {})[b] = {"per_program": per, "geomean": geomean(list(per.values())),
                                        "programs": len(per)}
    return out


def measured_runners(report: dict) -> list[str]:
    return [r for r, info in report["runners"].items() if info["available"]]


# ---------------------------------------------------------------- formatting

def fmt_time(seconds: float | None) -> str:
    """A time per unit in microseconds, three significant digits."""
    if seconds is None:
        return "—"
    us = seconds * 1e6
    return f"{us:,.0f}" if us >= 100 else f"{us:.3g}"


def fmt_ratio(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def table(header: list[str], rows: list[list[str]], numeric: bool = True) -> list[str]:
    align = ["---"] + ["---:" if numeric else "---"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def cell_time(report: dict, program: str, runner: str) -> str:
    res = report["results"][program].get(runner)
    if res is None:
        return "—"
    if not res.get("ok"):
        return "MISMATCH" if "MISMATCH" in res.get("problem", "") else "failed"
    return fmt_time(res["time_per_unit_s"])


def markdown(report: dict, rat: dict) -> str:
    runners = measured_runners(report)
    progs = list(report["results"])
    fayasm = [r for r in runners if r.startswith("fayasm-")]
    others = [r for r in runners if not r.startswith("fayasm-")]
    m = report["machine"]
    out = [
        "# fayasm benchmark report", "",
        "Produced by (from the repository root):", "",
        "```sh", report["command"], "```", "",
        f"{report['date']}; wall time {report['wall_s'] / 60:.1f} min; {m['cpu']} "
        f"({m['cpus']} CPUs), {m['platform']}, Python {m['python']}; 1-minute load average "
        f"{m['load_average_before']:.1f} before, {m['load_average']:.1f} after; "
        + (f"fayasm at {m['git']}." if m.get("git_before", m["git"]) == m["git"] else
           f"fayasm changed during the run: it started at {m['git_before']} and ended at "
           f"{m['git']}."), "",
        *([("**A --quick smoke run: tiny sizes and one call each, so the times below are not "
            "measurements (some slopes even come out negative).**"), ""]
          if report["settings"]["quick"] else []),
        ("Each program exports `run(n)`: work linear in `n`, returning a checksum. **Time per "
         "unit** is the slope `(t(n2) - t(n1)) / (n2 - n1)` between two sizes timed in one "
         "process, where `t` is the CPU time of the call (fastest of several interleaved calls "
         "at each size; CPU time, because other load on a shared machine inflates it far less "
         "than wall time; wall-time slopes are in report.json), with `n2 ≈ 2 n1` "
         "scaled to each runner's speed; so start-up, call overhead and the programs' own set-up "
         "cancel out. Every runner x program runs in a fresh subprocess. Checksums are "
         "checked against the committed value at the smoke size and against a fast reference "
         "runner at every size used; a runner that disagrees is marked MISMATCH and left out of "
         "every ratio. **Relative time** is time(A) / time(B): below 1, A is faster. Geometric "
         "means cover the programs both runners measured (their count in brackets when fewer "
         "than all)."), "",
        "## Runners", "",
    ]
    rows = [[f"`{r}`", info["version"] if info["available"] else f"skipped: {info['note']}"]
            for r, info in report["runners"].items()]
    out += table(["runner", "version"], rows, numeric=False)
    out += ["## Programs", ""]
    rows = [[f"`{p}`", report["programs"][p]["description"]] for p in progs]
    out += table(["program", "what one unit of work is"], rows, numeric=False)

    out += ["## Time per unit of work (µs)", ""]
    rows = [[f"`{p}`"] + [cell_time(report, p, r) for r in runners] for p in progs]
    out += table(["program"] + runners, rows)

    base = "native" if "native" in runners else None
    if base:
        out += ["## Relative time to native C (clang -O2)", ""]
        out += ratio_table(report, rat, [r for r in runners if r != base], base, progs)

    for engine in fayasm:
        peers = [r for r in runners if r != engine]
        out += [f"## `{engine}`: relative time to each other runner", ""]
        header = ["program"] + [f"vs {p}" for p in peers]
        rows = []
        for p in progs:
            rows.append([f"`{p}`"]
                        + [fmt_ratio(rat[engine][q]["per_program"].get(p)) for q in peers])
        rows.append(["**geomean**"] + [geo_cell(rat[engine][q], len(progs)) for q in peers])
        out += table(header, rows)

    if len(others) > 1:
        out += ["## Peers: relative time to each other (geometric means)", ""]
        rows = [[f"`{a}`"] + ["" if a == b else geo_cell(rat[a][b], len(progs)) for b in others]
                for a in others]
        out += table(["runner"] + [f"vs {b}" for b in others], rows)

    out += ["## Compile and instantiate (CPU s)", "",
            ("CPU time from module bytes to a callable instance, in a fresh process with the "
             "runner's library already imported (fayasm: decode, validate, compile, "
             "instantiate; native: the C compiler building a shared library, then loading it). "
             "Wall times are in report.json (`setup_wall_s`)."), ""]
    rows = []
    for p in progs + (["add"] if report["calls"] else []):
        src = report["calls"] if p == "add" else report["results"][p]
        rows.append([f"`{p}`"] + [fmt_s(src.get(r, {}).get("setup_s")
                                        if src.get(r, {}).get("ok") else None)
                                  for r in runners])
    out += table(["program"] + runners, rows)

    if report["calls"]:
        out += ["## Calls per second of a trivial export", "",
                ("`add(a, b)` called in a plain Python loop (whose own cost, a few tens of "
                 "nanoseconds a call, is included); native calls go through ctypes."), ""]
        rows = []
        for r in runners:
            res = report["calls"].get(r, {})
            if res.get("ok"):
                rows.append([f"`{r}`", f"{res['calls_per_s']:,.0f}",
                             f"{1e6 / res['calls_per_s']:.3g}"])
            else:
                rows.append([f"`{r}`", "failed", res.get("problem", "")])
        out += table(["runner", "calls/s", "µs/call"], rows)

    out += ["## Peak memory (MiB)", "",
            ("Peak resident set (`VmHWM`, else `ru_maxrss`) of the subprocess that measured "
             "each pair; the first row is that process before loading the program (Python plus "
             "the runner's library), so the difference is what the program and the runner's "
             "work on it cost."), ""]
    base_row = ["*after imports*"]
    for r in runners:
        bases = [res["rss_base_mib"] for res in (report["results"][p].get(r, {}) for p in progs)
                 if "rss_base_mib" in res]
        base_row.append(f"{min(bases):.0f}" if bases else "—")
    rows = [base_row]
    for p in progs:
        rows.append([f"`{p}`"] + [mib(report["results"][p].get(r)) for r in runners])
    out += table(["program"] + runners, rows)

    problems = [(p, r, res["problem"]) for p, by in report["results"].items()
                for r, res in by.items() if not res.get("ok")]
    problems += [("add", r, res["problem"]) for r, res in report["calls"].items()
                 if not res.get("ok")]
    if problems or report["problems"]:
        out += ["## Problems", ""]
        out += [f"- `{p}` on `{r}`: {problem}" for p, r, problem in problems]
        out += [f"- {msg}" for msg in report["problems"] if not any(msg.startswith(f"{p} on {r}")
                                                                     for p, r, _ in problems)]
        out += [""]
    out += ["## Sizes and noise", "",
            ("`n1`/`n2`: the slope's two sizes for each runner; then how far the slope from the "
             "median calls lies from the slope from the fastest calls (the figure reported): a "
             "large number means a noisy measurement."), ""]
    rows = []
    for p in progs:
        cells = []
        for r in runners:
            res = report["results"][p].get(r, {})
            if "n1" not in res:
                cells.append("—")
                continue
            best, median = res["time_per_unit_s"], res["median_time_per_unit_s"]
            noise = f", {100 * (median / best - 1):+.0f}%" if best > 0 else ""
            cells.append(f"{res['n1']:,}/{res['n2']:,}{noise}")
        rows.append([f"`{p}`"] + cells)
    out += table(["program"] + runners, rows)
    return "\n".join(out)


def ratio_table(report: dict, rat: dict, rows_runners: list[str], base: str,
                progs: list[str]) -> list[str]:
    rows = [[f"`{p}`"] + [fmt_ratio(rat[r][base]["per_program"].get(p)) for r in rows_runners]
            for p in progs]
    rows.append(["**geomean**"] + [geo_cell(rat[r][base], len(progs)) for r in rows_runners])
    return table(["program"] + rows_runners, rows)


def geo_cell(entry: dict, total: int) -> str:
    text = f"**{fmt_ratio(entry['geomean'])}**"
    return text + (f" ({entry['programs']})" if entry["programs"] < total else "")


def fmt_s(seconds: float | None) -> str:
    return "—" if seconds is None else (f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}")


def mib(res: dict | None) -> str:
    return f"{res['rss_peak_mib']:.0f}" if res and "rss_peak_mib" in res else "—"


# ---------------------------------------------------------------- chart

def draw_chart(report: dict, path: Path) -> str | None:
    """A grouped bar chart of relative time to native (log scale); None if drawn, else why not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install matplotlib); chart skipped"
    runners = measured_runners(report)
    progs = list(report["results"])
    base = next((b for b in ("native", "wasmtime") if b in runners), None)
    bars = [r for r in runners if r != base]
    if not bars or not progs:
        return "nothing to chart"
    rat = ratios(report)
    labels = progs + ["geomean"]
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(labels) + 2), 5.5))
    width = 0.8 / len(bars)
    missing: list[float] = []
    for k, r in enumerate(bars):
        values = []
        for p in progs:
            if base:
                values.append(rat[r][base]["per_program"].get(p))
            else:
                values.append((ok_time(report, p, r) or 0) * 1e6 or None)
        values.append(rat[r][base]["geomean"] if base else None)
        xs = [i + (k - (len(bars) - 1) / 2) * width for i in range(len(labels))]
        ax.bar([x for x, v in zip(xs, values) if v], [v for v in values if v], width, label=r)
        missing += [x for x, v, p in zip(xs, values, progs) if not v and p in report["results"]
                    and r in report["results"][p]]
    ax.set_yscale("log")
    for x in missing:  # a runner that failed (or disagreed) on a program
        ax.annotate("✗", (x, 0.0), xycoords=("data", "axes fraction"), ha="center",
                    va="bottom", xytext=(0, 3), textcoords="offset points", color="firebrick")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel(f"time per unit relative to {base} (log)" if base else "µs per unit (log)")
    ax.set_title("fayasm benchmarks: time per unit of work"
                 + (f" relative to {base}" if base else "")
                 + ("" if not missing else "  (✗: failed)"))
    if base:
        ax.axhline(1.0, color="black", linewidth=0.8)
    ax.grid(axis="y", which="major", alpha=0.3)
    ax.legend(fontsize=8, ncol=min(4, len(bars)), loc="upper center",
              bbox_to_anchor=(0.5, -0.07), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def write(report: dict, out: Path, chart: bool = True) -> list[Path]:
    """Write report.json, report.md and (when possible) chart.png into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    report = dict(report, ratios=ratios(report))
    paths = [out / "report.json", out / "report.md"]
    paths[0].write_text(json.dumps(report, indent=1) + "\n")
    paths[1].write_text(markdown(report, report["ratios"]) + "\n")
    if chart:
        why_not = draw_chart(report, out / "chart.png")
        if why_not:
            print(why_not)
        else:
            paths.append(out / "chart.png")
    return paths

"""Campaigns split over machines: sharding the seed space, merging corpora, ``wast
--shard``, and the Ray backend (a local 2-CPU cluster finds an injected bug, and survives
a hanging and a crashing worker; skipped where Ray is not installed)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from fayasm import cli
from fayasm.testing.campaign import (
    Campaign,
    CampaignConfig,
    merge,
    module_numbers,
    parse_shard,
    read_index,
    sub_shard,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _modules_of(config: CampaignConfig) -> dict:
    """Module number -> binary for every module ``config`` generates. The heartbeat
    keeps each module and then raises, which ends that module before any engine runs
    (a campaign reports a failing module and goes on)."""
    seen = {}

    class Stop(Exception):
        pass

    def heartbeat(binary, m):
        assert m not in seen
        seen[m] = binary
        raise Stop

    Campaign(config, heartbeat=heartbeat).run()
    return seen


def test_shards_partition_the_unsharded_run():
    """Shards 0..N-1 of a seed range generate, together, exactly the modules of the
    unsharded run: the same numbers, the same bytes, none twice."""
    base = dict(engines=["interpreter", "python"], wasmtime=False, seed=7, modules=11,
                progress=False)
    whole = _modules_of(CampaignConfig(**base))
    assert sorted(whole) == list(range(11))
    assert len(set(whole.values())) == 11  # different modules, not one repeated
    for n in (2, 3, 4):
        union: dict = {}
        for i in range(n):
            part = _modules_of(CampaignConfig(**base, shard=(i, n)))
            assert all(m % n == i for m in part)
            assert not union.keys() & part.keys()
            union.update(part)
        assert union == whole


def test_sub_shards_of_workers_partition_their_shard():
    """--jobs J inside --shard I/N: the J workers' slices are exactly the shard."""
    for i, n, jobs in ((0, 1, 2), (1, 3, 2), (2, 4, 3)):
        cfg = CampaignConfig(engines=[], shard=(i, n), modules=50)
        whole = list(module_numbers(cfg))
        parts = [list(module_numbers(CampaignConfig(engines=[], shard=sub_shard(cfg, k, jobs),
                                                    modules=50))) for k in range(jobs)]
        assert sorted(m for p in parts for m in p) == whole


def test_a_resumed_worker_starts_after_its_module():
    cfg = CampaignConfig(engines=[], shard=(1, 3), first=8, modules=20)
    assert list(module_numbers(cfg)) == [10, 13, 16, 19]


def test_parse_shard_rejects_bad_slices():
    assert parse_shard("2/5") == (2, 5)
    for bad in ("5/5", "-1/3", "1", "a/b", "0/0", "1/"):
        with pytest.raises(ValueError, match="expected I/N"):
            parse_shard(bad)


def test_fuzz_shard_bad_value_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["fuzz", "--shard", "3/3"])
    assert e.value.code == 2
    assert "0 <= I < N" in capsys.readouterr().err


def test_run_parallel_covers_exactly_the_range(tmp_path):
    """Two worker processes over a range of 5 modules run 5 modules between them."""
    from fayasm.testing.parallel import run_parallel

    config = CampaignConfig(engines=["interpreter", "python"], wasmtime=False, seed=3,
                            modules=5, corpus=str(tmp_path), seconds=120)
    summary = run_parallel(config, jobs=2, out=open(os.devnull, "w"))
    assert summary.modules == 5


def crash_on_module_2():
    """(setup for worker processes) The process dies, as a crash in native code would,
    once module 2 has started."""
    from fayasm.testing import campaign

    real = campaign.explore

    def explore(cfg, m, heartbeat=None):
        def beat(binary, n):
            heartbeat(binary, n)
            if n == 2:
                os._exit(3)
        return real(cfg, m, beat)
    campaign.explore = explore


def test_run_parallel_saves_the_module_a_dead_worker_ran_and_goes_on(tmp_path):
    from fayasm.testing.parallel import run_parallel

    config = CampaignConfig(engines=["interpreter", "python"], wasmtime=False, seed=3,
                            modules=5, corpus=str(tmp_path), seconds=120,
                            setup=crash_on_module_2)
    summary = run_parallel(config, jobs=2, out=open(os.devnull, "w"))
    assert summary.modules == 4
    assert [f.signature[0] for f in summary.found] == ["crash"]
    from fayasm.testing.campaign import module_seed
    from fayasm.testing.generate import recorded_module

    saved = open(summary.found[0].files["wasm"], "rb").read()
    assert saved == recorded_module(module_seed(3, 2))[0].binary()
    assert [i["signature"][0] for i in read_index(str(tmp_path))] == ["crash"]


def test_ctrl_c_while_shrinking_saves_the_smallest_so_far(tmp_path, monkeypatch):
    """Ctrl-C during a shrink ends the campaign, with the difference saved."""
    from fayasm.interpreter import code
    from fayasm.testing import shrink
    from fayasm.testing.generate import GenConfig

    ops = dict(code.NUMERIC)
    good = ops["i32.rem_s"]
    ops["i32.rem_s"] = lambda a, b: (good(a, b) + 1) & 0xFFFF_FFFF
    monkeypatch.setattr(code, "NUMERIC", ops)
    monkeypatch.setenv("FAYASM_CACHE", "0")
    calls = []

    def interrupted_shrink(choices, test, deadline):
        calls.append(test(choices[: len(choices) // 2]))
        raise KeyboardInterrupt
    monkeypatch.setattr(shrink, "shrink_choices", interrupted_shrink)
    config = CampaignConfig(engines=["interpreter", "python"], wasmtime=False, seconds=60,
                            seed=5, corpus=str(tmp_path), shrink_seconds=8, progress=False,
                            gen=GenConfig(theme=("i32.rem_s",)))
    summary = Campaign(config).run()
    assert calls and len(summary.found) == 1
    assert os.path.isfile(summary.found[0].files["wasm"])
    assert summary.seconds < 60


# -- merge -----------------------------------------------------------------------------------

def _corpus(path, entries):
    """A corpus with index lines (signature, ops) and their files."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "index.jsonl"), "w") as f:
        for name, sig, ops in entries:
            for suffix in (".wasm", ".wat", ".txt"):
                with open(os.path.join(path, name + suffix), "w") as g:
                    g.write(name)
            f.write(json.dumps({"file": name + ".wasm", "signature": sig, "ops": ops,
                                "headline": name}) + "\n")


def test_merge_dedups_by_signature(tmp_path):
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    x, y, z = ["result", ["python"], "i32"], ["trap", ["jit"], "f64"], ["hang", ["jit"], "1"]
    _corpus(a, [("a1", x, ["i32.add"]), ("a2", y, [])])
    _corpus(b, [("b1", x, ["i32.add"]),  # same signature and instructions as a1
                ("b2", x, ["i32.mul"]),  # a second example of x: kept
                ("b3", x, ["i32.shl"]),  # a third: over the two per signature
                ("b4", z, [])])
    with open(b / "index.jsonl", "a") as f:  # an entry whose file is gone
        f.write(json.dumps({"file": "gone.wasm", "signature": z, "ops": ["x"]}) + "\n")
        f.write("not json\n")
    err = open(os.devnull, "w")
    assert merge([str(a), str(b)], str(out), out=err) == (4, 2)
    names = sorted(item["file"] for item in read_index(str(out)))
    assert names == ["a1.wasm", "a2.wasm", "b2.wasm", "b4.wasm"]
    assert sorted(os.listdir(out)) == sorted(
        [f"{n}{s}" for n in ("a1", "a2", "b2", "b4") for s in (".wasm", ".wat", ".txt")]
        + ["index.jsonl"])
    assert merge([str(a), str(b)], str(out), out=err) == (0, 6)  # again: nothing new


def test_fuzz_merge_command(tmp_path, capsys):
    a, out = tmp_path / "a", tmp_path / "out"
    _corpus(a, [("a1", ["result", ["python"], "i32"], [])])
    assert cli.main(["fuzz", "--merge", str(a), "--corpus", str(out)]) == 0
    assert "1 differences copied, 0 duplicates" in capsys.readouterr().out
    assert cli.main(["fuzz", "--merge", str(tmp_path / "nope"), "--corpus", str(out)]) == 2


# -- wast --shard ------------------------------------------------------------------------------

def test_wast_shard_runs_every_nth_file(tmp_path, capsys):
    for k in range(5):
        (tmp_path / f"s{k}.wast").write_text("(module)\n")
    seen = []
    for i in range(3):
        assert cli.main(["wast", str(tmp_path), "--engine", "interpreter",
                         "--shard", f"{i}/3"]) == 0
        out = capsys.readouterr().out
        seen.append([line.split()[1] for line in out.splitlines() if line.startswith("[")])
    assert seen == [["s0.wast", "s3.wast"], ["s1.wast", "s4.wast"], ["s2.wast"]]


# -- Ray -----------------------------------------------------------------------------------------

def test_no_ray_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as if not installed
    code = cli.main(["fuzz", "--ray", "--time", "5", "--engines", "interpreter", "python"])
    assert code == 2
    assert "pip install 'fayasm[ray]'" in capsys.readouterr().err


def test_ray_address_nobody_answers_on_is_one_line_exit_1(capsys):
    """--ray HOST:PORT with no cluster there: a fayasm error at once, not minutes of
    ray.init retries (port 1 of the loopback address refuses)."""
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'fayasm[ray]')")
    import time

    t0 = time.monotonic()
    code = cli.main(["fuzz", "--ray", "127.0.0.1:1", "--time", "5",
                     "--engines", "interpreter", "python"])
    assert code == 1
    err = capsys.readouterr().err
    assert "no Ray cluster answers at 127.0.0.1:1" in err and len(err.splitlines()) == 1
    assert time.monotonic() - t0 < 30


def test_only_the_ray_backend_imports_ray():
    """``import ray`` is lazy: no module but raybackend names it."""
    import re

    pattern = re.compile(r"^\s*(import ray\b|from ray\b)", re.M)
    offenders = []
    for folder in ("fayasm", "runtime", "translator"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
            for f in files:
                path = os.path.join(dirpath, f)
                if f.endswith(".py") and pattern.search(open(path, encoding="utf-8").read()):
                    offenders.append(os.path.relpath(path, ROOT))
    assert offenders == [os.path.join("fayasm", "testing", "raybackend.py")]


RAY_SCRIPT = textwrap.dedent('''
    import json, os, sys, threading, time
    import ray
    from ray.cluster_utils import Cluster
    from fayasm.testing.campaign import CampaignConfig
    from fayasm.testing.generate import GenConfig
    from fayasm.testing.mutants import MUTANTS
    from fayasm.testing.raybackend import run_ray

    def faults():
        """In the Ray workers: module 2 hangs, module 5 kills its worker process."""
        import fayasm.testing.raybackend as rb
        real = rb.explore
        def explore(cfg, m, heartbeat=None):
            if m == 2:
                time.sleep(3600)
            if m == 5:
                os._exit(3)
            return real(cfg, m, heartbeat)
        rb.explore = explore

    corpus = sys.argv[1]
    t0 = time.monotonic()
    # two nodes of one CPU each; the head node runs no tasks
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    cluster.add_node(num_cpus=1)
    leaving = cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, logging_level="ERROR")
    out = open(os.path.join(corpus, "log.txt"), "w")
    engines = ["interpreter", "python"]
    t1 = time.monotonic()
    bug = run_ray(CampaignConfig(engines=engines, wasmtime=False, seed=5, seconds=90,
                                 shrink_seconds=5, stop_on_first=True,
                                 setup=MUTANTS["rem_s_sign"].apply,
                                 gen=GenConfig(theme=("i32.rem_s",)),
                                 corpus=os.path.join(corpus, "bug")),
                  jobs=2, out=out)
    t2 = time.monotonic()
    state = {}
    config = CampaignConfig(engines=engines, wasmtime=False, seed=1, modules=12, seconds=120,
                            shrink_seconds=0, setup=faults, corpus=os.path.join(corpus, "faults"))

    def leave():  # the second node leaves while it runs the campaign's tasks
        while not (state.get("driver") and state["driver"].nodes.get(leaving.node_id)):
            time.sleep(0.05)
        cluster.remove_node(leaving)
        state["left"] = time.monotonic() - t2

    import fayasm.testing.raybackend as rb
    real_write = rb._Driver.write
    def write(self, text):
        state["driver"] = self
        real_write(self, text)
    rb._Driver.write = write
    threading.Thread(target=leave, daemon=True).start()
    faulty = run_ray(config, jobs=2, out=out, timeout=4)
    t3 = time.monotonic()
    with open(os.path.join(corpus, "report.json"), "w") as f:
        f.write(json.dumps({
            "cluster_seconds": t1 - t0, "left": state.get("left"),
            "faults": {"modules": faulty.modules, "nodes": faulty.nodes, "seconds": t3 - t2,
                       "task_failures": dict(faulty.task_failures),
                       "found": [[f.signature[0], f.files.get("wasm")] for f in faulty.found]},
            "bug": {"modules": bug.modules, "seconds": t2 - t1, "shrink_runs": bug.shrink_runs,
                    "found": [[list(f.signature[1]), f.files.get("wat")] for f in bug.found]}}))
    out.close()
    ray.shutdown()
    cluster.shutdown()
''')


def test_ray_local_cluster_survives_faults_and_finds_an_injected_bug(tmp_path):
    """A local Ray cluster of two 1-CPU nodes (in a subprocess: the mutant patches the
    process it runs in). A campaign with the python engine's i32.rem_s broken (the mutant
    rem_s_sign) finds it, shrinks it in the driver and saves it. Then a range of 12
    modules where module 2 hangs and module 5 kills its worker, and one node leaves the
    cluster part way: the other 10 modules run, the hang is saved after the timeout, the
    crash after its retries, and the node's task is resubmitted."""
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'fayasm[ray]')")
    from fayasm.testing.raybackend import RETRIES
    env = dict(os.environ, FAYASM_CACHE="0", RAY_USAGE_STATS_ENABLED="0")
    proc = subprocess.run([sys.executable, "-c", RAY_SCRIPT, str(tmp_path)], cwd=str(tmp_path),
                          env=env, capture_output=True, text=True, timeout=600)
    log = (tmp_path / "log.txt").read_text() if (tmp_path / "log.txt").exists() else ""
    assert proc.returncode == 0, proc.stderr[-3000:] + log
    report = json.loads((tmp_path / "report.json").read_text())
    faults, bug = report["faults"], report["bug"]
    assert bug["found"], (bug, log)
    odd, wat = bug["found"][0]
    assert odd == ["python"]
    assert "i32.rem_s" in open(wat).read()
    assert bug["shrink_runs"] > 0
    assert faults["modules"] == 10, (faults, log)
    assert sum(faults["nodes"].values()) == 10
    kinds = sorted(kind for kind, _ in faults["found"])
    assert kinds == ["crash", "hang"], (faults, log)
    assert all(os.path.isfile(path) for _, path in faults["found"])
    assert report["left"] is not None
    # The crashing module fails RETRIES times; the node that left fails at least one more
    # task. Ray reports that loss as NodeDiedError or, when it sees the worker go first, as
    # WorkerCrashedError (CI saw both), so count them together.
    failures = faults["task_failures"]
    assert failures.get("WorkerCrashedError", 0) >= RETRIES, (faults, log)
    assert failures.get("WorkerCrashedError", 0) + failures.get("NodeDiedError", 0) \
        >= RETRIES + 1, (faults, log)


def test_fuzz_scaling_script_runs_and_reports_every_configuration():
    """scripts/fuzz_scaling.py on a tiny range (without Ray here, so it stays seconds):
    every configuration ran the whole range, and the table and ratios are printed."""
    script = os.path.join(ROOT, "scripts", "fuzz_scaling.py")
    proc = subprocess.run([sys.executable, script, "--modules", "2", "--repeat", "1",
                           "--no-ray", "--engines", "interpreter", "python", "--no-wasmtime"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert out.count(": 2 modules,") == 2, out  # plain x1 and x2, each the whole range
    assert "load average before" in out and "scaling, plain 2 workers / 1" in out

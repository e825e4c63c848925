"""Recording, replaying and shrinking the choices behind a generated module, and a
campaign that finds an injected bug and saves it shrunk."""
from __future__ import annotations

import os

import pytest

from fayasm.testing.generate import recorded_module, replayed_module
from fayasm.testing.shrink import shrink_choices

pytestmark = pytest.mark.filterwarnings("ignore:The recursion limit")


def test_a_recorded_module_replays_to_the_same_bytes():
    for seed in range(5):
        g, choices = recorded_module(seed)
        again, used = replayed_module(choices)
        assert again.binary() == g.binary() and again.plan == g.plan
        assert used == choices


def test_the_empty_sequence_is_the_simplest_valid_module():
    g, used = replayed_module([])
    g.module()  # validates
    assert not any(used)  # past its end, a sequence reads as zeros
    big, _ = recorded_module(11)
    assert len(g.binary()) < len(big.binary()) // 4


def test_shrink_choices_finds_the_minimal_failing_sequence():
    """A test that fails while the choices sum to at least 10 and contain a 7: the result
    is as short and as small as the passes can make it."""
    def test(seq):
        return seq if sum(seq) >= 10 and 7 in seq else None

    import time

    start = [3, 0, 9, 7, 1, 4, 4, 0, 2, 8, 5]
    best = shrink_choices(start, test, time.monotonic() + 10)
    assert test(best) is not None
    assert len(best) <= 4 and sum(best) <= 11, best


def test_shrink_stops_at_its_deadline():
    import time

    calls = []

    def test(seq):
        calls.append(seq)
        time.sleep(0.01)
        return seq if seq and seq[-1] else None

    t0 = time.monotonic()
    best = shrink_choices(list(range(1, 400)), test, t0 + 0.3)
    assert time.monotonic() - t0 < 1.0
    assert best[-1]


@pytest.fixture
def broken_rem(monkeypatch):
    """The interpreter with i32.rem_s returning the remainder's absolute value."""
    from fayasm.interpreter import code

    ops = dict(code.NUMERIC)
    good = ops["i32.rem_s"]

    def rem(a, b):
        r = good(a, b)
        return (-r if r >> 31 else r) & 0xFFFF_FFFF
    ops["i32.rem_s"] = rem
    monkeypatch.setattr(code, "NUMERIC", ops)


def test_campaign_finds_and_shrinks_an_injected_bug(tmp_path, broken_rem, monkeypatch):
    """A campaign over interpreter and python (i32.rem_s themed, so it comes up at once)
    stops at the difference and saves a module much smaller than the one it found."""
    from fayasm.testing.campaign import Campaign, CampaignConfig
    from fayasm.testing.generate import GenConfig

    monkeypatch.setenv("FAYASM_CACHE", "0")
    config = CampaignConfig(engines=["interpreter", "python"], wasmtime=False, seconds=60,
                            seed=5, corpus=str(tmp_path), shrink_seconds=8,
                            stop_on_first=True, progress=False,
                            gen=GenConfig(theme=("i32.rem_s",)))
    summary = Campaign(config).run()
    assert summary.found, summary.line()
    found = summary.found[0]
    assert "i32.rem_s" in open(found.files["wat"]).read()
    assert summary.shrink_runs > 0
    first, _ = recorded_module(5 * 1_000_003 + found.modules_before - 1,
                               GenConfig(theme=("i32.rem_s",)))
    saved = os.path.getsize(found.files["wasm"])
    assert saved < len(first.binary()) // 2, (saved, len(first.binary()))

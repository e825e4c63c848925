"""Instance snapshots (runtime/snapshot.py, fayasm.restore): taken on every engine, restored
on every engine (jit -> interpreter and interpreter -> jit included), through bytes and
pickle; references, dropped segments, WASI descriptors; the errors for a snapshot inside
a call, of another module, corrupted or from a future format, with nothing restored."""
from __future__ import annotations

import os
import pickle
import random
import struct
import zlib

import pytest
from conftest import test_engines

import fayasm
from fayasm.runtime import snapshot_format
from fayasm.runtime.snapshot import Snapshot

ENGINES = test_engines()
PAIRS = [(a, b) for a in ENGINES for b in ENGINES]

WAT = r'''
(module
  (import "env" "log" (func $log (param i32)))
  (memory (export "mem") 1 10)
  (global $g (mut i32) (i32.const 5))
  (global $h (mut f32) (f32.const 1.5))
  (global $v (mut v128) (v128.const i64x2 0 0))
  (global $r (mut funcref) (ref.null func))
  (global (export "eg") (mut i64) (i64.const 7))
  (table $t 4 funcref)
  (table $x 2 externref)
  (elem (table $t) (i32.const 0) func $inc $get)
  (elem $p func $inc)
  (elem declare func $log)
  (data $d "hello")
  (data $keep "world")
  (func $inc (export "inc") (global.set $g (i32.add (global.get $g) (i32.const 1)))
     (i32.store (i32.const 100) (global.get $g)))
  (func $get (export "get") (result i32) (global.get $g))
  (func (export "setf") (param i32) (global.set $h (f32.reinterpret_i32 (local.get 0))))
  (func (export "getf") (result i32) (i32.reinterpret_f32 (global.get $h)))
  (func (export "setv") (global.set $v (v128.const i64x2 0x0123456789abcdef -1)))
  (func (export "getv") (result i64) (i64x2.extract_lane 0 (global.get $v)))
  (func (export "setr") (global.set $r (ref.func $get)))
  (func (export "callr") (result i32) (call_indirect (result i32) (i32.const 3)))
  (func (export "putr") (table.set $t (i32.const 3) (global.get $r)))
  (func (export "drop") (data.drop $d) (elem.drop $p))
  (func (export "init") (param i32) (memory.init $d (local.get 0) (i32.const 0) (i32.const 5)))
  (func (export "initk") (param i32) (memory.init $keep (local.get 0) (i32.const 0) (i32.const 5)))
  (func (export "tinit") (table.init $t $p (i32.const 0) (i32.const 0) (i32.const 1)))
  (func (export "grow") (result i32) (memory.grow (i32.const 2)))
  (func (export "tgrow") (result i32) (table.grow $t (ref.null func) (i32.const 3)))
  (func (export "put") (table.set $t (i32.const 2) (ref.func $log)))
  (func (export "call2") (param i32) (call_indirect (param i32) (local.get 0) (i32.const 2)))
  (func (export "setx") (param externref) (table.set $x (i32.const 1) (local.get 0)))
  (func (export "getx") (result externref) (table.get $x (i32.const 1)))
)'''

SNAN = 0x7FA00001  # a signalling f32 NaN: its bits must survive


@pytest.fixture(scope="module")
def module():
    return fayasm.Module(WAT)


def _host(logs):
    return {"env": {"log": lambda x: logs.append(x)}}


def _worked(inst):
    """Run the instance into a state that touches everything a snapshot captures."""
    e = inst.exports
    e.inc()
    e.inc()
    assert e.grow() == 1
    assert e.tgrow() == 4
    e.put()
    e.setf(SNAN)
    e.setv()
    e.setr()
    e.putr()
    e.setx("hi")
    e.drop()
    e.eg.value = -3
    return inst


def _check(r, logs):
    e = r.exports
    assert e["get"]() == 7
    assert e.mem.read(100, 4) == b"\x07\0\0\0"
    assert e.mem.size == 3
    assert e.getf() & 0xFFFFFFFF == SNAN
    assert e.getv() == 0x0123456789ABCDEF
    assert e.callr() == 7
    e.call2(42)
    assert logs[-1] == 42
    assert e.getx() == "hi"
    assert e.eg.value == -3
    with pytest.raises(fayasm.Trap, match="out of bounds memory access"):
        e.init(0)  # dropped
    with pytest.raises(fayasm.Trap, match="out of bounds table access"):
        e.tinit()  # dropped
    e.initk(200)  # not dropped
    assert e.mem.read(200, 5) == b"world"
    e.inc()
    assert e["get"]() == 8


@pytest.mark.parametrize("src,dst", PAIRS)
def test_restore_on_every_engine_from_every_engine(module, src, dst):
    logs: list = []
    snap = _worked(fayasm.instantiate(module, _host(logs), engine=src)).snapshot()
    assert snap.engine == src
    for form in (snap, snap.to_bytes(), pickle.loads(pickle.dumps(snap))):
        _check(fayasm.restore(module, form, _host(logs), engine=dst), logs)


@pytest.mark.parametrize("src,dst", [("jit", "interpreter"), ("interpreter", "jit")])
def test_jit_and_interpreter_hand_over_and_agree(module, src, dst):
    """The fuzz-case hand-over: state from one engine, and both continue identically."""
    if src not in ENGINES or dst not in ENGINES:
        pytest.skip("engine not available")
    logs: list = []
    a = _worked(fayasm.instantiate(module, _host(logs), engine=src))
    b = fayasm.restore(module, a.snapshot().to_bytes(), _host(logs), engine=dst)
    for inst in (a, b):
        inst.exports.inc()
    assert a.exports["get"]() == b.exports["get"]() == 8
    assert a.snapshot().body()[1:] == b.snapshot().body()[1:]  # all but the engine's name


def test_the_start_function_does_not_run_again(engine):
    m = fayasm.Module('''(module (global $n (export "n") (mut i32) (i32.const 0))
        (func $s (global.set $n (i32.add (global.get $n) (i32.const 1)))) (start $s))''')
    inst = fayasm.instantiate(m, engine=engine)
    r = fayasm.restore(m, inst.snapshot(), engine=engine)
    assert r.exports.n.value == 1


def test_snapshot_inside_a_host_call_is_refused(engine):
    m = fayasm.Module('(module (import "env" "h" (func $h)) (func (export "f") (call $h)))')
    box: dict = {}
    seen: list = []

    def h():
        with pytest.raises(fayasm.SnapshotError, match="between calls"):
            box["i"].snapshot()
        seen.append(True)

    box["i"] = fayasm.instantiate(m, {"env": {"h": h}}, engine=engine)
    box["i"].exports.f()
    assert seen == [True]
    box["i"].snapshot()  # after the call: fine


def test_imported_functions_rebind_by_name(engine):
    m = fayasm.Module('''(module (import "env" "a" (func $a (result i32)))
        (table (export "t") 1 funcref) (elem declare func $a)
        (func (export "put") (table.set (i32.const 0) (ref.func $a)))
        (func (export "call") (result i32) (call_indirect (result i32) (i32.const 0))))''')
    inst = fayasm.instantiate(m, {"env": {"a": lambda: 1}}, engine=engine)
    inst.exports.put()
    snap = inst.snapshot().to_bytes()
    r = fayasm.restore(m, snap, {"env": {"a": lambda: 2}}, engine=engine)
    assert r.exports.call() == 2
    with pytest.raises(fayasm.LinkError, match=r'unknown import "env"\."a"'):
        fayasm.restore(m, snap, {}, engine=engine)


def test_a_foreign_function_in_a_table_is_refused_by_name(engine):
    m = fayasm.Module('(module (table (export "t") 1 funcref))')
    inst = fayasm.instantiate(m, engine=engine)
    stranger = fayasm.Func(lambda: None, fayasm.FuncType((), ()), name="stranger")
    inst.exports.t.set(0, stranger)
    with pytest.raises(fayasm.SnapshotError, match=r"'stranger'.*neither the module's own "
                                                   "nor one of its imports"):
        inst.snapshot()


class Token:
    def __init__(self, v):
        self.v = v

    def __eq__(self, other):
        return isinstance(other, Token) and other.v == self.v


def test_externref_objects_pickle_but_have_no_byte_form(module, engine):
    logs: list = []
    inst = fayasm.instantiate(module, _host(logs), engine=engine)
    inst.exports.setx(Token(3))
    snap = inst.snapshot()
    with pytest.raises(fayasm.SnapshotError, match=r"Token objects.*pickle"):
        snap.to_bytes()
    r = fayasm.restore(module, pickle.loads(pickle.dumps(snap)), _host(logs), engine=engine)
    assert r.exports.getx() == Token(3)
    same = fayasm.restore(module, snap, _host(logs), engine=engine)
    assert same.exports.getx() is inst.exports.getx()


def test_imported_memory_table_and_global_are_written(engine):
    m = fayasm.Module('''(module (import "h" "m" (memory 1 4)) (import "h" "g" (global (mut i32)))
        (import "h" "t" (table 1 externref))
        (func (export "f") (i32.store (i32.const 8) (i32.const 99))
          (drop (memory.grow (i32.const 1)))
          (global.set 0 (i32.const 11)) (table.set (i32.const 0) (ref.extern 0)))
        )'''.replace("(ref.extern 0)", "(table.get (i32.const 0))"))
    mem, g, t = fayasm.Memory(1, 4), fayasm.Global(fayasm.Val.i32(0), mutable=True), \
        fayasm.Table("externref", 1)
    t.set(0, "x")
    inst = fayasm.instantiate(m, {"h": {"m": mem, "g": g, "t": t}}, engine=engine)
    inst.exports.f()
    snap = inst.snapshot()
    mem2, g2, t2 = fayasm.Memory(1, 4), fayasm.Global(fayasm.Val.i32(0), mutable=True), \
        fayasm.Table("externref", 1)
    fayasm.restore(m, snap, {"h": {"m": mem2, "g": g2, "t": t2}}, engine=engine)
    assert mem2.size == 2 and mem2.read(8, 1) == b"\x63"
    assert g2.value == 11 and t2.get(0) == "x"


def test_another_module_is_refused(module, engine):
    other = fayasm.Module('(module (memory 1))')
    snap = fayasm.instantiate(other, engine=engine).snapshot()
    with pytest.raises(fayasm.SnapshotError, match="another module"):
        fayasm.restore(module, snap, _host([]), engine=engine)
    with pytest.raises(fayasm.SnapshotError, match="another module"):
        fayasm.restore(module, snap.to_bytes(), _host([]), engine=engine)


def _rewrite(data: bytes, **changes) -> bytes:
    snap = Snapshot.from_bytes(data)
    for k, v in changes.items():
        setattr(snap, k, v)
    return snap.to_bytes()


def test_corrupted_future_and_foreign_bytes_are_refused(module):
    good = _worked(fayasm.instantiate(module, _host([]), engine=ENGINES[0])).snapshot().to_bytes()
    flipped = bytearray(good)
    flipped[len(flipped) // 2] ^= 0x40
    with pytest.raises(fayasm.SnapshotError, match="checksum"):
        Snapshot.from_bytes(bytes(flipped))
    with pytest.raises(fayasm.SnapshotError):
        Snapshot.from_bytes(good[:-9])
    with pytest.raises(fayasm.SnapshotError, match="not a fayasm snapshot"):
        Snapshot.from_bytes(b"\0asm\1\0\0\0")
    future = bytearray(good)
    struct.pack_into("<I", future, len(snapshot_format.MAGIC), snapshot_format.FORMAT_VERSION + 1)
    with pytest.raises(fayasm.SnapshotError, match=r"version 2 .*newer fayasm"):
        fayasm.restore(module, bytes(future), _host([]))
    with pytest.raises(fayasm.SnapshotError, match="a snapshot is bytes"):
        Snapshot.from_bytes("text")  # type: ignore[arg-type]


def _reseal(data: bytes) -> bytes:
    body = data[:-4]
    return body + struct.pack("<I", zlib.crc32(body))


def test_hostile_snapshot_bytes_raise_only_snapshot_errors(module):
    """Mutations of a snapshot's structure (the checksum fixed up, so that the decoder and
    the checks behind it see them) give a restore or a SnapshotError, never another
    exception."""
    data = _worked(fayasm.instantiate(module, _host([]), engine="interpreter")).snapshot() \
        .to_bytes()
    head = len(snapshot_format.MAGIC) + 4 + 32
    # The structure: the start of the body and everything after the memory's bytes.
    structure = list(range(head, head + 80)) + list(range(len(data) - 700, len(data) - 4))
    rng = random.Random(21)
    refused = 0
    for _ in range(300):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            mutated[rng.choice(structure)] = rng.randrange(256)
        try:
            fayasm.restore(module, _reseal(bytes(mutated)), _host([]), engine="interpreter")
        except fayasm.SnapshotError:
            refused += 1
    assert refused > 100


def test_nothing_is_partly_restored(engine):
    """A snapshot whose last part the new instance cannot take leaves the imported memory
    it would have written untouched."""
    m = fayasm.Module('''(module (import "h" "m" (memory 1)) (global $g (mut i32) (i32.const 0))
        (func (export "f") (i32.store (i32.const 0) (i32.const 7))
          (global.set $g (i32.const 1))))''')
    mem = fayasm.Memory(1)
    inst = fayasm.instantiate(m, {"h": {"m": mem}}, engine=engine)
    inst.exports.f()
    bad = _rewrite(inst.snapshot().to_bytes(), globals=[1 << 40])  # no i32
    fresh = fayasm.Memory(1)
    with pytest.raises(fayasm.SnapshotError, match="global 0 is not a i32"):
        fayasm.restore(m, bad, {"h": {"m": fresh}}, engine=engine)
    assert fresh.read(0, 4) == bytes(4)
    wrong = _rewrite(inst.snapshot().to_bytes(), datas_dropped=[True])
    with pytest.raises(fayasm.SnapshotError, match="data segments"):
        fayasm.restore(m, wrong, {"h": {"m": fresh}}, engine=engine)
    assert fresh.read(0, 4) == bytes(4)


def test_gc_like_and_typed_references(engine):
    m = fayasm.Module('''(module (type $t (func (result i32)))
        (func $one (type $t) (i32.const 1)) (func $two (type $t) (i32.const 2))
        (table $tt 2 (ref $t) (ref.func $one)) (elem declare func $two)
        (global $gr (mut (ref $t)) (ref.func $one))
        (func (export "swap") (table.set $tt (i32.const 1) (ref.func $two))
          (global.set $gr (ref.func $two)))
        (func (export "t1") (result i32) (call_ref $t (table.get $tt (i32.const 1))))
        (func (export "g") (result i32) (call_ref $t (global.get $gr))))''')
    inst = fayasm.instantiate(m, engine=engine)
    inst.exports.swap()
    for dst in ENGINES:
        r = fayasm.restore(m, inst.snapshot().to_bytes(), engine=dst)
        assert (r.exports.t1(), r.exports.g()) == (2, 2)
    bad = _rewrite(inst.snapshot().to_bytes(), tables=[[["f", 0], None]])
    with pytest.raises(fayasm.SnapshotError, match="table 0 element 1 is not a"):
        fayasm.restore(m, bad, engine=engine)


def test_memory64_and_multi_memory(engine):
    m = fayasm.Module('''(module (memory $a i64 1) (memory $b 1 3)
        (func (export "f") (i64.store $a (i64.const 60000) (i64.const -1))
          (drop (memory.grow $b (i32.const 2))) (i32.store8 $b (i32.const 131073) (i32.const 5)))
        (func (export "ga") (result i64) (i64.load $a (i64.const 60000)))
        (func (export "gb") (result i32) (i32.load8_u $b (i32.const 131073)))
        (func (export "sb") (result i32) (memory.size $b)))''')
    inst = fayasm.instantiate(m, engine=engine)
    inst.exports.f()
    for dst in ENGINES:
        r = fayasm.restore(m, inst.snapshot().to_bytes(), engine=dst)
        assert (r.exports.ga(), r.exports.gb(), r.exports.sb()) == (-1, 5, 3)


def test_regression_jit_data_drop_shows_in_instance_datas():
    """The jit's data.drop once only zeroed a length word of its native context, so the
    instance's data instances (what a snapshot reads) still held the dropped bytes."""
    if "jit" not in ENGINES:
        pytest.skip("no jit")
    m = fayasm.Module('(module (memory 1) (data $d "abc") (func (export "d") (data.drop $d)))')
    inst = fayasm.instantiate(m, engine="jit")
    assert inst.datas == [b"abc"]
    inst.exports.d()
    assert inst.datas == [b""]
    assert inst.snapshot().datas_dropped == [True]


def test_regression_python_engine_closure_globals_are_live():
    """The python engine keeps a global no other module sees in a closure variable, so
    its Global object kept the initial value while the code changed the variable."""
    m = fayasm.Module('''(module (global $g (mut i32) (i32.const 1))
        (func (export "set") (global.set $g (i32.const 9)))
        (func (export "get") (result i32) (global.get $g)))''')
    inst = fayasm.instantiate(m, engine="python")
    inst.exports.set()
    assert inst.globals[0].raw == 9
    inst.globals[0].raw = 4  # and a write reaches the code
    assert inst.exports["get"]() == 4


def test_a_file_translated_for_interface_4_is_refused():
    from fayasm.runtime import support

    m = fayasm.Module('(module (global $g (mut i32) (i32.const 1)) (func (export "f")))')
    ns: dict = {}
    exec(compile(fayasm.translate(m), "<t>", "exec"), ns)
    del ns["_make"].binds_cells
    inst = support.instantiate(ns["DESCRIPTION"], ns["_make"])
    inst.module = m
    with pytest.raises(fayasm.SnapshotError, match="interface 4"):
        inst.snapshot()


WASI_WAT = r'''
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "data.txt")
  (func (export "open") (result i32)
    (drop (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 0)
                      (i64.const 6) (i64.const 0) (i32.const 0) (i32.const 16)))
    (i32.load (i32.const 16)))
  (func (export "read4") (param i32) (result i32)
    (i32.store (i32.const 32) (i32.const 64)) (i32.store (i32.const 36) (i32.const 4))
    (drop (call $read (local.get 0) (i32.const 32) (i32.const 1) (i32.const 40)))
    (i32.load (i32.const 64)))
  (func (export "_initialize")))
'''


def test_wasi_descriptors_reopen_at_their_offset(tmp_path, engine):
    (tmp_path / "data.txt").write_bytes(b"abcdefghijkl")
    m = fayasm.Module(WASI_WAT)
    cfg = fayasm.WasiConfig(preopens={"/d": str(tmp_path)})
    inst = fayasm.instantiate(m, engine=engine, wasi=cfg)
    fd = inst.exports.open()
    assert fd == 4
    assert inst.exports.read4(fd).to_bytes(4, "little") == b"abcd"
    snap = inst.snapshot().to_bytes()
    for dst in ENGINES:
        r = fayasm.restore(m, snap, engine=dst, wasi=fayasm.WasiConfig(
            preopens={"/d": str(tmp_path)}))
        assert r.exports.read4(fd).to_bytes(4, "little") == b"efgh"
    with pytest.raises(fayasm.SnapshotError, match="preopen '/d'"):
        fayasm.restore(m, snap, engine=engine, wasi=fayasm.WasiConfig())
    os.remove(tmp_path / "data.txt")
    with pytest.raises(fayasm.SnapshotError, match="cannot reopen WASI descriptor 4"):
        fayasm.restore(m, snap, engine=engine,
                       wasi=fayasm.WasiConfig(preopens={"/d": str(tmp_path)}))


COUNTER = r'''
(module
  (memory (export "memory") 1)
  (global $n (mut i32) (i32.const 0))
  (table 2 funcref) (elem (i32.const 0) $work)
  (data $msg "abc")
  (func $init (export "init")
    (local $i i32)
    (loop $l
      (i32.store8 (i32.add (i32.const 1000) (local.get $i)) (i32.add (local.get $i) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 100))))
    (global.set $n (i32.const 41)) (drop (memory.grow (i32.const 1)))
    (i32.store (i32.const 70000) (i32.const 9)) (data.drop $msg))
  (func $work (export "work") (result i32)
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (i32.add (global.get $n)
      (i32.add (i32.load8_u (i32.const 1050)) (i32.load (i32.const 70000)))))
  (func (export "viatable") (result i32) (call_indirect (result i32) (i32.const 0))))
'''


@pytest.fixture
def counter(tmp_path):
    path = tmp_path / "c.wat"
    path.write_text(COUNTER)
    return path


@pytest.mark.parametrize("src,dst", [p for p in PAIRS if p[0] != p[1] or p[0] == "jit"])
def test_cli_run_snapshot_out_then_from(counter, tmp_path, capsys, src, dst):
    from fayasm.cli import main

    snap = tmp_path / "s.snap"
    assert main(["run", str(counter), "--engine", src, "--invoke", "init",
                 "--snapshot-out", str(snap)]) == 0
    assert main(["run", str(counter), "--engine", dst, "--from", str(snap),
                 "--invoke", "work"]) == 0
    assert capsys.readouterr().out.split() == ["102"]


def test_cli_from_a_bad_or_missing_snapshot(counter, tmp_path, capsys):
    from fayasm.cli import main

    bad = tmp_path / "bad.snap"
    bad.write_bytes(b"garbage")
    assert main(["run", str(counter), "--from", str(bad), "--invoke", "work"]) == 1
    assert "SnapshotError: not a fayasm snapshot" in capsys.readouterr().err
    assert main(["run", str(counter), "--from", str(tmp_path / "none"), "--invoke", "work"]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_diff_from_a_jit_snapshot(counter, tmp_path, capsys):
    from fayasm.cli import main

    snap = tmp_path / "s.snap"
    assert main(["run", str(counter), "--engine", ENGINES[-1], "--invoke", "init",
                 "--snapshot-out", str(snap)]) == 0
    capsys.readouterr()
    assert main(["diff", str(counter), "--from", str(snap), "--invoke", "work"]) == 0
    out = capsys.readouterr().out
    assert "work(): returned i32:102" in out and "no difference" in out


def test_diff_from_a_snapshot_finds_a_difference_in_the_state():
    """A snapshot restored on every engine is compared like a fresh instance: engines that
    agree give no difference, and the compared state is the restored one."""
    from fayasm.testing.diff import diff

    m = fayasm.Module(COUNTER)
    inst = fayasm.instantiate(m, engine=ENGINES[-1])
    inst.exports.init()
    result = diff(m, [("work", [])], engines=ENGINES, snapshot=inst.snapshot())
    assert result.difference is None and result.compared == 2
    assert result.outcomes[1].values[0].bits == 102
    assert result.engines == ENGINES


def test_diff_from_a_snapshot_runs_wasmtime_on_the_preinitialized_module():
    pytest.importorskip("wasmtime")
    from fayasm.testing.diff import diff

    m = fayasm.Module(COUNTER)
    inst = fayasm.instantiate(m, engine=ENGINES[-1])
    inst.exports.init()
    result = diff(m, [("work", []), ("work", [])], engines=ENGINES, wasmtime=True,
                  snapshot=inst.snapshot().to_bytes())
    assert result.engines == ENGINES + ["wasmtime"]
    assert result.difference is None and result.compared == 3
    assert [o.values[0].bits for o in result.outcomes[1:]] == [102, 103]
    # A state a module cannot hold: wasmtime sits out and a note says why.
    x = fayasm.Module('(module (table (export "t") 1 externref) (func (export "f")))')
    xi = fayasm.instantiate(x, engine=ENGINES[0])
    xi.exports.t.set(0, 7)
    result = diff(x, [("f", [])], engines=ENGINES, wasmtime=True, snapshot=xi.snapshot())
    assert result.engines == ENGINES and result.difference is None
    assert any("wasmtime sat out" in n and "externref" in n for n in result.notes)


NESTED_WAT = r'''
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_renumber" (func $renumber (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "sub")
  (data (i32.const 8) "f.txt")
  (func (export "open") (result i32)
    ;; the directory sub (O_DIRECTORY), then f.txt below it
    (drop (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 3) (i32.const 2)
                      (i64.const 8192) (i64.const 6) (i32.const 0) (i32.const 16)))
    (drop (call $open (i32.load (i32.const 16)) (i32.const 0) (i32.const 8) (i32.const 5)
                      (i32.const 0) (i64.const 6) (i64.const 0) (i32.const 0) (i32.const 20)))
    (i32.load (i32.const 20)))
  (func (export "read2") (param i32) (result i32)
    (i32.store (i32.const 32) (i32.const 64)) (i32.store (i32.const 36) (i32.const 2))
    (drop (call $read (local.get 0) (i32.const 32) (i32.const 1) (i32.const 40)))
    (i32.load16_u (i32.const 64)))
  (func (export "renumber") (param i32 i32) (result i32)
    (call $renumber (local.get 0) (local.get 1)))
  (func (export "_initialize")))
'''


def test_wasi_files_below_an_opened_directory_reopen(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f.txt").write_bytes(b"0123456789")
    m = fayasm.Module(NESTED_WAT)
    cfg = lambda: fayasm.WasiConfig(preopens={"/d": str(tmp_path)})  # noqa: E731
    inst = fayasm.instantiate(m, engine=ENGINES[-1], wasi=cfg())
    fd = inst.exports.open()
    assert fd == 5 and inst.exports.read2(fd) == 0x3130  # "01"
    snap = inst.snapshot()
    kinds = [rec[1][0] for rec in snap.wasi]
    assert kinds == ["stdio", "stdio", "stdio", "preopen", "path", "path"]
    assert snap.wasi[-1][1][2] == "sub/f.txt"
    for dst in ENGINES:
        r = fayasm.restore(m, snap.to_bytes(), engine=dst, wasi=cfg())
        assert r.exports.read2(fd) == 0x3332  # "23": the offset came along
    assert inst.exports.renumber(fd, 4) == 0  # f.txt moves to 4, closing the directory
    moved = inst.snapshot()
    assert [rec[0] for rec in moved.wasi] == [0, 1, 2, 3, 4]
    r = fayasm.restore(m, moved, engine=ENGINES[0], wasi=cfg())
    assert moved.wasi[4][1][:3] == ["path", "/d", "sub/f.txt"]
    assert r.exports.read2(4) == 0x3332


def test_metered_instances_snapshot_and_restore_with_fuel(module, engine):
    logs: list = []
    inst = fayasm.instantiate(module, _host(logs), engine=engine, fuel=10_000)
    _worked(inst)
    r = fayasm.restore(module, inst.snapshot(), _host(logs), engine=engine, fuel=10_000)
    _check(r, logs)
    assert r.get_fuel() is not None and r.get_fuel() < 10_000


def test_hostile_wasi_and_extra_state_is_refused(tmp_path):
    """The parts of a snapshot the structure mutations above do not reach: descriptor
    records and extra state of every wrong shape give SnapshotError."""
    (tmp_path / "data.txt").write_bytes(b"abcdefgh")
    m = fayasm.Module(WASI_WAT)
    cfg = lambda: fayasm.WasiConfig(preopens={"/d": str(tmp_path)})  # noqa: E731
    inst = fayasm.instantiate(m, engine="interpreter", wasi=cfg())
    inst.exports.open()
    good = inst.snapshot().to_bytes()
    fd4 = Snapshot.from_bytes(good).wasi[4]
    bad_records = [
        [[0, ["stdio", [1]], 0, 0, 0, False, True, False, 0]],
        [[0, ["stdio", 7], 0, 0, 0, False, True, False, 0]],
        [[0, ["preopen", ["x"]], 0, 0, 0, False, False, True, 0]],
        [[0, ["pipe"], 0, 0, 0, False, False, False, 0]],
        [fd4[:8] + [1 << 70]],
        [fd4[:4] + [1 << 20] + fd4[5:]],
        [fd4[:1] + [["path", "/d", "../../etc/passwd", False]] + fd4[2:]],
        [fd4, fd4],
        "descriptors",
        [[5000] + fd4[1:]],
    ]
    for recs in bad_records:
        with pytest.raises(fayasm.SnapshotError):
            fayasm.restore(m, _rewrite(good, wasi=recs), engine="interpreter", wasi=cfg())
    for extra in ([[["x"], 1]], [["unknown", 1]], ["x"]):
        with pytest.raises(fayasm.SnapshotError, match="does not know"):
            fayasm.restore(m, _rewrite(good, extra=extra), engine="interpreter", wasi=cfg())

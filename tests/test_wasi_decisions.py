"""WASI preview 1 against wasmtime, decided (issue 23).

Every case of scripts/wasi_cases.py (raw calls with bad pointers, undefined flag values,
the read-only preopen, errno choices, symlinks) gives fayasm's decided answer on every
engine: wasmtime's, or a difference docs/wasi.md lists as deliberate. With wasmtime
installed, the differences are exactly the listed ones. Then: what a trap looks like, that
a call which traps has done nothing, and WasiConfig.symlinks / ``fayasm run --symlinks``.
"""
from __future__ import annotations

import importlib.util
import io
import os
import sys
from pathlib import Path

import pytest

import fayasm
from fayasm import cli

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"


def _load(name: str):
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


wasi_guest = _load("wasi_guest")
wasi_cases = _load("wasi_cases")
wasi_diff = _load("wasi_diff")
Guest = wasi_guest.Guest
CASES = {c.name: c for c in wasi_cases.CASES}
GROUPS = sorted({c.group for c in wasi_cases.CASES})

# Each case's errnos, step by step ("trap": the step trapped). The decisions are in
# docs/wasi.md; where a case is not listed there, this is what wasmtime answers.
EXPECTED = {
    # pointer
    'fd_write iovec array out of bounds': 'trap',
    'fd_write iovec data out of bounds': 'trap',
    'fd_write nwritten out of bounds': 'trap',
    'fd_write iovec data wraps out of bounds': 'trap',
    'fd_read iovec data out of bounds': 'SUCCESS trap',
    'fd_read nread out of bounds': 'SUCCESS trap',
    'fd_pread iovec data out of bounds': 'SUCCESS trap',
    'fd_pwrite iovec data out of bounds': 'SUCCESS trap',
    'fd_fdstat_get out of bounds': 'trap',
    'fd_filestat_get out of bounds': 'trap',
    'fd_prestat_get out of bounds': 'trap',
    'fd_prestat_dir_name out of bounds': 'trap',
    'fd_seek newoffset out of bounds': 'SUCCESS trap',
    'fd_tell out of bounds': 'SUCCESS trap',
    'fd_readdir buffer out of bounds': 'trap',
    'fd_readdir bufused out of bounds': 'trap',
    'clock_time_get out of bounds': 'trap',
    'clock_res_get out of bounds': 'trap',
    'random_get out of bounds': 'trap',
    'random_get wraps out of bounds': 'trap',
    'args_sizes_get out of bounds': 'trap',
    'args_get buffer out of bounds': 'trap',
    'environ_sizes_get out of bounds': 'trap',
    'path_open path out of bounds': 'trap',
    'path_open fd result out of bounds': 'trap',
    'path_filestat_get result out of bounds': 'trap',
    'path_create_directory path out of bounds': 'trap',
    'path_readlink buffer out of bounds': 'trap',
    'path_unlink_file path out of bounds': 'trap',
    'poll_oneoff subscriptions out of bounds': 'trap',
    'poll_oneoff nevents out of bounds': 'trap',
    'random_get of 0 bytes at the end of memory': 'SUCCESS',
    'fd_write of 0 iovecs at an address past the end': 'SUCCESS',
    'random_get of 0 bytes past the end': 'SUCCESS',
    'fd_write to an unknown fd with iovecs out of bounds': 'trap',
    'path_open from an unknown fd with a path out of bounds': 'trap',
    'path_open of a missing file with the result out of bounds': 'trap',
    'path_open creating a file with the result out of bounds': 'trap',
    'fd_fdstat_get of an unknown fd into a pointer out of bounds': 'BADF',
    'fd_write with a later iovec out of bounds': 'trap',
    # align
    'fd_write iovec array misaligned': 'trap',
    'fd_write nwritten misaligned': 'trap',
    'fd_fdstat_get misaligned': 'trap',
    'fd_filestat_get misaligned': 'trap',
    'fd_prestat_get misaligned': 'trap',
    'fd_seek newoffset misaligned': 'SUCCESS trap',
    'clock_time_get misaligned': 'trap',
    'args_sizes_get misaligned': 'trap',
    'args_get argv misaligned': 'trap',
    'path_open fd result misaligned': 'trap',
    'path_filestat_get result misaligned': 'trap',
    'poll_oneoff subscriptions misaligned': 'trap',
    'fd_readdir bufused misaligned': 'trap',
    'a byte buffer needs no alignment': 'SUCCESS SUCCESS',
    'fd_write of 0 iovecs at a misaligned address': 'SUCCESS',
    # flags
    'clock_time_get unknown clock': 'trap',
    'clock_res_get unknown clock': 'trap',
    'fd_seek unknown whence': 'SUCCESS trap',
    'fd_advise unknown advice': 'SUCCESS trap',
    'path_open unknown oflags bit': 'trap',
    'path_open unknown fdflags bit': 'trap',
    'path_open unknown lookupflags bit': 'trap',
    'path_open unknown rights bit': 'trap',
    'fd_fdstat_set_flags unknown bit': 'SUCCESS trap',
    'fd_filestat_set_times unknown fstflags bit': 'SUCCESS trap',
    'path_filestat_set_times unknown fstflags bit': 'trap',
    'path_filestat_get unknown lookupflags bit': 'trap',
    'poll_oneoff unknown event type': 'INVAL',
    'poll_oneoff unknown subclockflags bit': 'INVAL',
    'poll_oneoff unknown clock': 'INVAL',
    'proc_raise unknown signal': 'trap',
    'sock_shutdown unknown sdflags bit': 'trap',
    'path_link unknown lookupflags bit': 'trap',
    'fd_fdstat_set_rights unknown rights bit': 'trap',
    'path_open unknown inheriting rights bit': 'trap',
    'sock_recv unknown riflags bit': 'trap',
    'sock_accept unknown fdflags bit': 'trap',
    'fd_seek whence beyond a byte': 'SUCCESS trap',
    'fd_filestat_set_times fstflags beyond 16 bits': 'SUCCESS trap',
    'unknown oflags bit with an unknown fd': 'trap',
    # readonly
    'read a file': 'SUCCESS SUCCESS',
    'open for writing': 'PERM',
    'open with FD_WRITE only': 'PERM',
    'open with FD_FILESTAT_SET_SIZE but no FD_WRITE': 'SUCCESS',
    'open with FD_ALLOCATE but no FD_WRITE': 'SUCCESS',
    'open with every right': 'PERM',
    'open with O_APPEND and read rights': 'SUCCESS',
    'open with O_CREAT of an existing file': 'PERM',
    'create a file': 'PERM',
    'open with O_TRUNC': 'PERM',
    'open a directory': 'SUCCESS',
    'open a directory with write rights': 'PERM',
    'open with O_DSYNC': 'SUCCESS',
    'set O_APPEND on a file': 'SUCCESS SUCCESS',
    'fd_filestat_set_times on a file': 'SUCCESS PERM',
    'fd_filestat_set_times on the preopen': 'PERM',
    'fd_filestat_set_size on a file': 'SUCCESS NOTCAPABLE',
    'fd_allocate on a file': 'SUCCESS NOTCAPABLE',
    'fd_write on a file': 'SUCCESS BADF',
    'fd_sync and fd_datasync on a file': 'SUCCESS SUCCESS NOTCAPABLE',
    'path_filestat_set_times': 'PERM',
    'path_filestat_set_times to now': 'PERM',
    'mkdir': 'PERM',
    'rmdir': 'PERM',
    'unlink': 'PERM',
    'unlink a missing file': 'PERM',
    'rename inside': 'PERM',
    'rename out of it': 'PERM',
    'rename into it': 'PERM',
    'hard link out of it': 'PERM',
    'hard link into it': 'PERM',
    'symlink': 'PERM',
    'readlink and readdir': 'SUCCESS SUCCESS',
    'a directory opened below it stays read-only': 'SUCCESS PERM PERM',
    'open with O_SYNC': 'SUCCESS',
    # errno
    'fd_allocate on a writable file': 'SUCCESS SUCCESS',
    'fd_fdstat_set_rights dropping a right': 'SUCCESS SUCCESS',
    'clock_time_get process and thread cputime': 'SUCCESS SUCCESS',
    'clock_res_get process cputime': 'SUCCESS',
    'poll_oneoff on a process cputime clock': 'SUCCESS',
    'proc_raise': 'NOTSUP',
    'fd_prestat_dir_name of stdout': 'NOTDIR',
    'fd_prestat_dir_name of an opened directory': 'SUCCESS NOTDIR',
    'fd_prestat_get of a file and of an unknown fd': 'SUCCESS BADF BADF',
    'fd_prestat_dir_name buffer too short': 'NAMETOOLONG',
    'fd_readdir on stdout': 'BADF',
    'fd_readdir on a file': 'SUCCESS BADF',
    'path_open from stdout': 'BADF',
    'path_open from a file': 'SUCCESS NOTDIR',
    'path_filestat_get from stdout and from a file': 'BADF SUCCESS BADF',
    'path_create_directory from stdout': 'BADF',
    'fd_sync and fd_datasync on stdout': 'BADF BADF',
    'fd_sync on a directory': 'SUCCESS SUCCESS SUCCESS SUCCESS',
    'fd_advise on stdout': 'BADF',
    'fd_advise on a directory': 'BADF',
    'fd_allocate on stdout': 'BADF',
    'fd_filestat_set_size on stdout and on a directory': 'BADF BADF',
    'fd_filestat_set_times on stdout': 'BADF',
    'fd_fdstat_set_flags on stdout': 'BADF',
    'fd_fdstat_set_flags on a directory': 'BADF',
    'fd_fdstat_set_flags O_SYNC': 'SUCCESS INVAL',
    'fd_seek and fd_tell on stdout and on a directory': 'SPIPE SPIPE BADF BADF',
    'fd_seek before the start': 'SUCCESS INVAL',
    'fd_read and fd_write on the wrong stream or a directory': 'BADF BADF BADF BADF',
    'fd_pread on stdin and fd_pwrite on stdout': 'SPIPE SPIPE',
    'fd_write on a file opened read-only': 'SUCCESS BADF',
    'fd_read on a file opened write-only': 'SUCCESS BADF',
    'fd_filestat_set_size on a file opened read-only': 'SUCCESS NOTCAPABLE',
    'fd_close unknown, fd_renumber to unknown': 'BADF BADF BADF',
    'poll_oneoff with no subscriptions': 'INVAL',
    'poll_oneoff on an unknown fd': 'SUCCESS',
    'poll_oneoff on a directory': 'SUCCESS',
    'sockets on stdin and on an unknown fd': 'NOTSOCK BADF NOTSOCK',
    'path_open empty path and missing file': 'NOENT NOENT',
    'path_open a file with a trailing slash': 'NOTDIR',
    'path_open O_DIRECTORY on a file': 'NOTDIR',
    'path_open O_CREAT|O_EXCL of an existing file': 'EXIST',
    'path_open a directory for writing': 'ISDIR',
    'path_open O_DIRECTORY with write rights': 'ISDIR',
    'path_open O_TRUNC without write rights': 'SUCCESS',
    'path_open O_CREAT without write rights': 'SUCCESS',
    'path_open a symlink without following': 'LOOP',
    'path_open through .. out of the preopen': 'PERM PERM',
    'path_open a long path and a long component': 'NAMETOOLONG NAMETOOLONG',
    'path_open a path with a NUL byte': 'INVAL',
    'path_open invalid UTF-8': 'ILSEQ',
    'path_readlink of a file and of a directory': 'INVAL INVAL',
    'path_readlink into a short buffer': 'SUCCESS SUCCESS',
    'path_remove_directory of a file, a non-empty dir, and .': 'NOTDIR NOTEMPTY INVAL',
    'path_unlink_file of a directory and of a path ending in /': 'ISDIR NOTDIR',
    'path_create_directory of an existing name': 'EXIST EXIST',
    'path_rename a directory onto a file and onto a non-empty directory': 'NOTDIR NOTEMPTY',
    'path_rename a file onto a directory': 'ISDIR',
    'path_link to an existing name and of a directory': 'EXIST PERM',
    'path_filestat_set_times both given and now': 'INVAL',
    'fd_write to a file opened with O_APPEND': 'SUCCESS SUCCESS SUCCESS',
    'fd_seek without FD_SEEK': 'SUCCESS NOTCAPABLE',
    'open with O_DSYNC in the writable preopen': 'SUCCESS SUCCESS',
    'fd_filestat_set_size on a file opened with the right but no FD_WRITE': 'SUCCESS INVAL',
    'fd_allocate on a file opened with the right but no FD_WRITE': 'SUCCESS BADF',
    # symlink
    'a relative symlink pointing outside, then followed': 'SUCCESS PERM PERM PERM PERM SUCCESS',
    'path_link following symlinks, inside and out': 'SUCCESS SUCCESS PERM',
    'an absolute symlink': 'PERM',
    'a symlink to a directory outside, then walked through': 'SUCCESS PERM PERM',
    'a symlink that stays inside, then followed': 'SUCCESS SUCCESS SUCCESS SUCCESS',
    'a dangling symlink, then created through': 'SUCCESS PERM',
    'an empty target': 'NOENT',
    'over an existing name': 'EXIST EXIST',
    "the preopen's own symlink to outside, followed": 'PERM SUCCESS',
    # basic
    'write to stdout': 'SUCCESS',
    'create, write, seek, read': 'SUCCESS SUCCESS SUCCESS SUCCESS SUCCESS SUCCESS',
    'mkdir, rename, unlink, rmdir': 'SUCCESS SUCCESS SUCCESS SUCCESS',
    'truncate and times': 'SUCCESS SUCCESS SUCCESS SUCCESS',
    'args, environ, clocks, random, yield':
        'SUCCESS SUCCESS SUCCESS SUCCESS SUCCESS SUCCESS SUCCESS',
    'poll_oneoff on a clock and stdout': 'SUCCESS SUCCESS',
    'hard link and rename over': 'SUCCESS SUCCESS',
    'fd_write of two iovecs': 'SUCCESS',
    'fd_read into two iovecs': 'SUCCESS SUCCESS SUCCESS',
}

# What some cases leave behind: (stdout, {path below the tree: state or None if absent}).
EFFECTS = {
    # a call that traps has done nothing (wasmtime writes, or creates, then traps)
    "fd_write nwritten out of bounds": (b"", {}),
    "fd_write nwritten misaligned": (b"", {}),
    "path_open creating a file with the result out of bounds": (b"", {"sb/made.txt": None}),
    # fd_write and fd_read use every iovec (wasmtime only the first non-empty one)
    "fd_write of two iovecs": (b"one two\n", {}),
    "fd_read into two iovecs": (b"hello", {}),
    "fd_write with a later iovec out of bounds": (b"", {}),
    # fd_allocate allocates (wasmtime: ENOTSUP)
    "fd_allocate on a writable file": (b"", {"sb/f.txt": "file b'hello" + "\\x00" * 35
                                             + "' (100 bytes)"}),
    # the guest's escaping symlink exists, but nothing outside was reached
    "a relative symlink pointing outside, then followed":
        (b"", {"sb/esc": "link -> ../outside.txt", "outside.txt": "file b'secret'"}),
    "a dangling symlink, then created through":
        (b"", {"sb/dangle": "link -> ../made.txt", "made.txt": None}),
    "a symlink that stays inside, then followed": (b"inner", {"sb/in": "link -> sub/inner.txt"}),
    # a flags value with an undefined bit used to be ignored, and the link was made
    "path_link unknown lookupflags bit": (b"", {"sb/hard": None}),
    "create, write, seek, read": (b"cde", {"sb/new.txt": "file b'abcdef'"}),
    "path_link following symlinks, inside and out":
        (b"", {"sb/hard": "file b'hello'", "sb/hard2": "file b'hello'", "sb/hard_up": None}),
}


def run_case(case, engine: str, root: Path, **config):
    guest = Guest()
    case.build(guest)
    return guest, wasi_diff.run_fayasm(guest, engine, root, config)


def answers(guest, outcome) -> str:
    assert not outcome.error, outcome.error
    return " ".join(wasi_diff._errno(r) for r in outcome.results if r is not None)


def test_every_case_has_a_decided_answer():
    assert set(EXPECTED) == set(CASES)
    assert set(EFFECTS) <= set(CASES)


@pytest.mark.parametrize("group", GROUPS)
def test_decided_answers(engine, tmp_path, group):
    wrong = []
    for case in wasi_cases.CASES:
        if case.group != group:
            continue
        root = tmp_path / case.slug
        root.mkdir()
        guest, outcome = run_case(case, engine, root)
        got = answers(guest, outcome)
        if got != EXPECTED[case.name]:
            wrong.append(f"{case.name}: {got}, decided {EXPECTED[case.name]}")
        if case.name in EFFECTS:
            stdout, paths = EFFECTS[case.name]
            if outcome.stdout != stdout:
                wrong.append(f"{case.name}: stdout {outcome.stdout!r}, decided {stdout!r}")
            for path, state in paths.items():
                if outcome.tree.get(path) != state:
                    wrong.append(f"{case.name}: {path} is {outcome.tree.get(path)}, "
                                 f"decided {state}")
    assert not wrong, "\n".join(wrong)


def test_differences_from_wasmtime_are_the_documented_ones(tmp_path):
    pytest.importorskip("wasmtime", reason="wasmtime (the PyPI package) is the oracle")
    undecided, stale = [], []
    for case in wasi_cases.CASES:
        r = wasi_diff.compare(case, ["interpreter"], tmp_path, with_wasmtime=True)
        if r["differs"] and not case.deliberate:
            undecided.append(f"{case.name}: fayasm "
                             f"{wasi_diff.describe(r['guest'], r['outcomes']['interpreter'])}, "
                             f"wasmtime {wasi_diff.describe(r['guest'], r['wasmtime'])}")
        if case.deliberate and not r["differs"]:
            stale.append(case.name)
    assert not undecided, "differences no row of docs/wasi.md explains:\n" + "\n".join(undecided)
    assert not stale, f"listed as deliberate but the same as wasmtime: {stale}"


def test_every_deliberate_difference_has_a_row_in_the_docs():
    doc = (REPO / "docs" / "wasi.md").read_text()
    rows = {line.split("|")[1].strip() for line in doc.splitlines()
            if line.startswith("| ") and line.count("|") >= 4}
    missing = {c.deliberate for c in wasi_cases.CASES if c.deliberate} - rows
    assert not missing, f"rows missing from docs/wasi.md: {missing}"
    assert "docs/wasi.md" in (REPO / "README.md").read_text()


# ---------------------------------------------------------------------------------------
# what a trap is

TRAPPING = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $a (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $c (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "\\18\\00\\00\\00\\03\\00\\00\\00ok\\n")
  (func (export "oob") (result i32)
    (call $w (i32.const 1) (i32.const 65532) (i32.const 1) (i32.const 8)))
  (func (export "misaligned") (result i32) (call $c (i32.const 0) (i64.const 0) (i32.const 4)))
  (func (export "undefined_clock") (result i32)
    (call $c (i32.const 7) (i64.const 0) (i32.const 8)))
  (func (export "half") (result i32)
    (i32.store (i32.const 8) (i32.const 0x55555555))
    (call $a (i32.const 8) (i32.const 65536)))
  (func (export "argc") (result i32) (i32.load (i32.const 8)))
  (func (export "ok") (result i32)
    (call $w (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 0))))"""


@pytest.mark.parametrize("export,code,words", [
    ("oob", "memory_out_of_bounds", "out of bounds memory access: 8 bytes at 0xfffc"),
    ("misaligned", "wasi_misaligned_pointer", "misaligned pointer: 0x4 is not 8-byte aligned"),
    ("undefined_clock", "wasi_invalid_argument", "clockid value 0x7 is not defined"),
])
def test_an_abi_violation_is_a_trap_naming_the_call(engine, export, code, words):
    """It used to be an errno (EFAULT, EINVAL) or nothing at all (a misaligned pointer);
    the instance stays usable after it."""
    out = io.BytesIO()
    inst = fayasm.instantiate(TRAPPING, engine=engine, wasi=fayasm.WasiConfig(stdout=out))
    with pytest.raises(fayasm.Trap) as info:
        inst.exports[export]()
    assert info.value.code == code
    assert words in str(info.value) and " in WASI " in str(info.value)
    assert inst.exports.ok() == 0 and out.getvalue() == b"ok\n"
    inst.wasi.close()


def test_a_call_that_traps_has_written_nothing(engine):
    """args_sizes_get checks both result pointers before writing either (wasmtime writes
    the first, then traps on the second)."""
    inst = fayasm.instantiate(TRAPPING, engine=engine, wasi=fayasm.WasiConfig())
    with pytest.raises(fayasm.Trap):
        inst.exports.half()
    assert inst.exports.argc() == 0x55555555
    inst.wasi.close()


def test_a_long_iovec_array_is_not_walked_past_iov_max():
    """fd_write uses at most IOV_MAX (1024) iovecs, and checks no others: a guest with a
    big memory cannot make one call loop over hundreds of millions of entries."""
    from fayasm.runtime.memory import Memory
    from fayasm.runtime.wasi import Wasi

    out = io.BytesIO()
    wasi = Wasi(fayasm.WasiConfig(stdout=out))
    mem = Memory(2)
    wasi.bind(mem)
    mem.write(0, (130000).to_bytes(4, "little") + (1).to_bytes(4, "little"))
    mem.write(130000, b"x")
    # 1024 good iovecs of one byte each, then garbage that is never looked at
    mem.write(8, mem.read(0, 8) * 1023)
    mem.write(8 * 1024, b"\xff" * 8 * 100)
    calls = wasi.imports()["wasi_snapshot_preview1"]
    assert calls["fd_write"](1, 0, 16000, 100000) == 0
    assert out.getvalue() == b"x" * 1024
    wasi.close()


# ---------------------------------------------------------------------------------------
# symlinks a guest makes

def _symlink_guest(targets: list[tuple[str, str]], then=None) -> "wasi_cases.Case":
    def build(g):
        for target, name in targets:
            g.call("path_symlink", g.text(target), 3, g.text(name))
        if then:
            then(g)
    return wasi_cases.Case("symlinks", "symlink", build)


LINKS = [("f.txt", "a"), ("sub/inner.txt", "b"), ("../outside.txt", "c"), ("sub/../f.txt", "d"),
         ("/etc/passwd", "e"), (".", "self"), ("sub/..", "f")]


@pytest.mark.parametrize("policy,answer", [
    ("allow", "SUCCESS SUCCESS SUCCESS SUCCESS PERM SUCCESS SUCCESS"),
    ("inside", "SUCCESS SUCCESS PERM PERM PERM SUCCESS PERM"),
    ("none", "PERM PERM PERM PERM PERM PERM PERM"),
])
def test_symlinks_policy(engine, tmp_path, policy, answer):
    guest, outcome = run_case(_symlink_guest(LINKS), engine, tmp_path, symlinks=policy)
    assert answers(guest, outcome) == answer
    made = {k for k, v in outcome.tree.items() if k.startswith("sb/") and v.startswith("link")}
    expected = {f"sb/{name}" for (target, name), r in zip(LINKS, answer.split()) if r == "SUCCESS"}
    assert made == expected | {"sb/link", "sb/up", "sb/dirlink"}  # those are make_tree's


def _escapes(root: Path) -> list[str]:
    """The symlinks below root/sb that a host following them would leave sb through."""
    sb = (root / "sb").resolve()
    out = []
    for dirpath, dirnames, filenames in os.walk(root / "sb"):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if p.is_symlink() and name not in ("up",):  # "up" is the host's own
                real = Path(os.path.realpath(p))
                if real != sb and sb not in real.parents:
                    out.append(str(p.relative_to(root)))
    return sorted(out)


def _rearrange(g):
    """Links made deep down, then their directory moved up and a link added that climbs
    through another: what a check of the target at creation time alone would miss."""
    g.call("path_create_directory", 3, g.text("sub/deep"))
    g.call("path_symlink", g.text("../../f.txt"), 3, g.text("sub/deep/x"))
    g.call("path_rename", 3, g.text("sub/deep"), 3, g.text("deep"))
    g.call("path_symlink", g.text("self/.."), 3, g.text("climb"))


def test_guest_symlinks_the_host_would_follow_out_unless_inside(engine, tmp_path):
    """The risk, measured on the host: with symlinks="allow" the guest leaves links that
    lead out of its preopen for any host program that follows them (the guest itself
    cannot, see the symlink cases above); with "inside" it leaves none."""
    links = [(".", "self"), ("../outside.txt", "out")]
    (tmp_path / "allow").mkdir()
    run_case(_symlink_guest(links, _rearrange), engine, tmp_path / "allow")
    assert _escapes(tmp_path / "allow") == ["sb/climb", "sb/deep/x", "sb/out"]
    (tmp_path / "inside").mkdir()
    guest, outcome = run_case(_symlink_guest(links, _rearrange), engine, tmp_path / "inside",
                              symlinks="inside")
    assert answers(guest, outcome) == "SUCCESS PERM SUCCESS PERM SUCCESS PERM"
    assert _escapes(tmp_path / "inside") == []


def test_symlinks_config_is_checked():
    with pytest.raises(fayasm.ArgumentError, match="symlinks must be one of allow, inside, none"):
        fayasm.WasiConfig(symlinks="sometimes")
    assert "symlinks='none'" in repr(fayasm.WasiConfig(symlinks="none"))
    assert fayasm.WasiConfig().symlinks == "allow"


MAKE_LINK = """(module
  (import "wasi_snapshot_preview1" "path_symlink"
    (func $s (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "../x.txt")
  (data (i32.const 16) "link")
  (func (export "_start")
    (call $exit
      (call $s (i32.const 0) (i32.const 8) (i32.const 3) (i32.const 16) (i32.const 4)))))"""


def test_cli_symlinks_option(tmp_path, capsys):
    module = tmp_path / "link.wat"
    module.write_text(MAKE_LINK)
    for policy, status in (("allow", 0), ("inside", 63), ("none", 63)):
        box = tmp_path / policy
        box.mkdir()
        args = ["run", str(module), "--dir", f"{box}::/sb"]
        if policy != "allow":
            args[2:2] = ["--symlinks", policy]
        assert cli.main(args) == status
        assert os.path.islink(box / "link") == (status == 0)
    with pytest.raises(SystemExit) as info:
        cli.main(["run", str(module), "--symlinks", "maybe"])
    assert info.value.code == 2
    assert "invalid choice: 'maybe'" in capsys.readouterr().err

#!/usr/bin/env python3
"""Build real C programs to wasm32-wasi from sources fetched through package registries.

    python scripts/build_real_programs.py [--out DIR] [--programs sqlite3,lua,brotli] [--force]

Programs (their sources come from registry packages that bundle them, at pinned versions):

    sqlite3   the SQLite shell, from the amalgamation the `sqlite3` npm package ships
    lua       the Lua 5.4 interpreter, from the Lua sources the `lupa` PyPI sdist bundles
    brotli    the brotli command-line tool, from the C sources of the `brotli` PyPI sdist

Downloads, extracted sources and objects live in a cache folder, never in the repository:
$FAYASM_REAL_PROGRAMS_DIR, else "real-programs" in fayasm's cache folder
($FAYASM_CACHE_DIR, else ~/.cache/fayasm). The .wasm files go to DIR (default: the
cache's bin/). A program whose recipe, sources and compiler are unchanged is reused, so a
second run fetches and compiles nothing. Needs clang with the wasm32-wasi target, lld and
wasi-libc (Debian: clang lld wasi-libc libclang-rt-dev-wasm32; scripts/ci_deps.sh), npm
for SQLite and pip for the others; when one is missing, or a registry cannot be reached,
it says so and exits with status 2.

tests/test_real_programs.py and scripts/bench_real_programs.py build through build().
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

TARGET = "wasm32-wasi"


class Unavailable(Exception):
    """A toolchain or a registry this build needs is not there; the message says which."""


# ------------------------------------------------------------------- what gets built

@dataclass
class Program:
    """How one program is fetched and built.

    ``registry``/``package``/``version``: where its sources come from. ``root``: the
    folder (inside the extracted sources) that ``units`` are relative to. ``units``: the
    C files to compile, each with its own extra flags. ``shims``: our own small C files
    and headers (name -> text) for what wasi-libc lacks, written beside the objects.
    ``libs``: link flags. ``note``: what the build leaves out and why."""
    name: str
    registry: str
    package: str
    version: str
    root: str
    units: list[tuple[str, list[str]]]
    shims: dict[str, str] = field(default_factory=dict)
    libs: list[str] = field(default_factory=list)
    fetch_env: dict[str, str] = field(default_factory=dict)
    note: str = ""


# What wasi-libc (Debian's 2022 snapshot) does not have: permission and ownership changes,
# realpath, tmpfile. Each fails with an errno, as on a file system that cannot do it.
POSIX_SHIM_H = """\
/* Declarations of what wasi-libc lacks (defined in posix_shim.c). */
#include <stdio.h>
#include <sys/types.h>
int chmod(const char *path, mode_t mode);
int chown(const char *path, uid_t owner, gid_t group);
char *realpath(const char *path, char *resolved);
"""
POSIX_SHIM_C = """\
/* What wasi-libc lacks: each call fails with ENOSYS, as on a system without it. */
#include <errno.h>
#include <stddef.h>
#include "posix_shim.h"
int chmod(const char *path, mode_t mode) { (void)path; (void)mode; errno = ENOSYS; return -1; }
int chown(const char *path, uid_t owner, gid_t group) {
  (void)path; (void)owner; (void)group; errno = ENOSYS; return -1;
}
char *realpath(const char *path, char *resolved) {
  (void)path; (void)resolved; errno = ENOSYS; return NULL;
}
FILE *tmpfile(void) { errno = ENOSYS; return NULL; }
"""

# Lua raises errors with longjmp; wasm32-wasi (clang 14) has no setjmp. This build ends
# the program at the first error instead: it prints "lua: MESSAGE" to stderr and exits 1
# (2 for out of memory), so pcall cannot catch errors; a coroutine yield (also a longjmp in
# Lua 5.4) ends it the same way. os.tmpname and os.execute fail.
LUA_WASI_H = """\
/* Lua on wasm32-wasi without setjmp: an error ends the program (see lua_wasi.c). */
struct lua_State;
_Noreturn void lua_wasi_throw(struct lua_State *L, int status);
#define LUAI_THROW(L, c) lua_wasi_throw(L, (c)->status)
#define LUAI_TRY(L, c, a) a
#define luai_jmpbuf int
#define LUA_TMPNAMBUFSIZE 32
#define lua_tmpnam(b, e) { (b)[0] = '\\0'; e = 1; }
#define l_system(cmd) ((cmd) == NULL ? 0 : -1)
"""
LUA_WASI_C = """\
/* Lua's error throw on wasm32-wasi: print the error object and exit. */
#include <stdio.h>
#include <stdlib.h>
#include "lua.h"
_Noreturn void lua_wasi_throw(lua_State *L, int status) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "lua: %s\\n", msg ? msg : "(error object is not a string value)");
  fflush(NULL);
  exit(status == LUA_ERRMEM ? 2 : 1);
}
"""
# ldo.c includes <setjmp.h>, which wasi-libc does not have.
SETJMP_H = ("/* wasm32-wasi has no setjmp; Lua's throw is lua_wasi_throw. */\n"
            "typedef int jmp_buf[1];\n")

SQLITE_DEFS = ["-DSQLITE_OMIT_LOAD_EXTENSION", "-DSQLITE_THREADSAFE=0", "-DSQLITE_OMIT_POPEN",
               "-DSQLITE_NOHAVE_SYSTEM", "-DSQLITE_ENABLE_MATH_FUNCTIONS",
               "-D_WASI_EMULATED_SIGNAL", "-D_WASI_EMULATED_PROCESS_CLOCKS",
               "-D_WASI_EMULATED_GETPID"]

PROGRAMS: dict[str, Program] = {p.name: p for p in [
    Program(
        "sqlite3", "npm", "sqlite3", "6.0.1", "sqlite-autoconf-3520000",
        units=[("sqlite3.c", SQLITE_DEFS),
               ("shell.c", SQLITE_DEFS + ["-include", "posix_shim.h"]),
               ("posix_shim.c", [])],
        shims={"posix_shim.h": POSIX_SHIM_H, "posix_shim.c": POSIX_SHIM_C},
        libs=["-lwasi-emulated-signal", "-lwasi-emulated-process-clocks",
              "-lwasi-emulated-getpid"],
        note="no extensions, threads, popen or .system; chmod and realpath fail"),
    Program(
        "lua", "pypi", "lupa", "2.8", "lupa-2.8/third-party/lua54",
        units=[("onelua.c", ["-include", "lua_wasi.h", "-D_WASI_EMULATED_SIGNAL",
                             "-D_WASI_EMULATED_PROCESS_CLOCKS"]),
               ("lua_wasi.c", []), ("posix_shim.c", [])],
        shims={"lua_wasi.h": LUA_WASI_H, "lua_wasi.c": LUA_WASI_C, "setjmp.h": SETJMP_H,
               "posix_shim.h": POSIX_SHIM_H, "posix_shim.c": POSIX_SHIM_C},
        libs=["-lwasi-emulated-signal", "-lwasi-emulated-process-clocks"],
        # lupa's sdist builds LuaJIT while pip prepares its metadata unless told not to.
        fetch_env={"LUPA_NO_LUAJIT": "true"},
        note="no setjmp on wasm32-wasi: an error or a coroutine yield ends the program"),
    Program(
        "brotli", "pypi", "brotli", "1.2.1", "brotli-1.2.1/c",
        units=[(f"{d}/{f}", ["-Iinclude"]) for d, files in [
            ("common", ["constants", "context", "dictionary", "platform",
                        "shared_dictionary", "transform"]),
            ("dec", ["bit_reader", "decode", "huffman", "prefix", "state", "static_init"]),
            ("enc", ["backward_references", "backward_references_hq", "bit_cost",
                     "block_splitter", "brotli_bit_stream", "cluster", "command",
                     "compound_dictionary", "compress_fragment",
                     "compress_fragment_two_pass", "dictionary_hash", "encode",
                     "encoder_dict", "entropy_encode", "fast_log", "histogram",
                     "literal_cost", "memory", "metablock", "static_dict",
                     "static_dict_lut", "static_init", "utf8_util"])]
            for f in [f + ".c" for f in files]]
        + [("tools/brotli.c", ["-Iinclude", "-include", "posix_shim.h",
                               "-D_WASI_EMULATED_PROCESS_CLOCKS"]),
           ("posix_shim.c", [])],
        shims={"posix_shim.h": POSIX_SHIM_H, "posix_shim.c": POSIX_SHIM_C},
        libs=["-lwasi-emulated-process-clocks"],
        note="copying permissions and owners to an output file fails (use -n)"),
]}

RECIPE = 2  # bump when build_program's commands change
CFLAGS = ["-O2"]
LDFLAGS = ["-Wl,--strip-debug"]  # keeps the name section (wasm backtraces name functions)


# ------------------------------------------------------------------------ where

def cache_root() -> Path:
    """$FAYASM_REAL_PROGRAMS_DIR, else real-programs/ in fayasm's cache folder (the one
    cachedir.py uses, even when FAYASM_CACHE=0 turns fayasm's own caches off)."""
    explicit = os.environ.get("FAYASM_REAL_PROGRAMS_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("FAYASM_CACHE_DIR")
    if not base:
        home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(home, "fayasm")
    return Path(base) / "real-programs"


def _say(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, flush=True)


def _run(cmd: list[str], what: str, cwd=None, env=None, timeout=600) -> str:
    """Run ``cmd``; Unavailable naming ``what`` (with the tail of its output) on failure."""
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except FileNotFoundError:
        raise Unavailable(f"{what}: {cmd[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise Unavailable(f"{what}: {cmd[0]} took more than {timeout} s") from None
    if proc.returncode:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise Unavailable(f"{what} failed (exit {proc.returncode}):\n{tail}")
    return proc.stdout


# -------------------------------------------------------------------- toolchain

def toolchain() -> tuple[str, str]:
    """(clang's path, its version line), after checking that it compiles and links a
    wasm32-wasi command with wasi-libc and the emulation libraries; else Unavailable."""
    clang = os.environ.get("FAYASM_WASI_CC") or shutil.which("clang")
    if not clang:
        raise Unavailable("clang is not installed (Debian: apt-get install clang lld "
                          "wasi-libc libclang-rt-dev-wasm32; see scripts/ci_deps.sh)")
    ver = _run([clang, "--version"], "clang --version").splitlines()[0].strip()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "probe.c")
        src.write_text("#include <stdio.h>\n#include <signal.h>\n"
                       "int main(void) { signal(SIGINT, SIG_IGN); puts(\"ok\"); return 0; }\n")
        _run([clang, f"--target={TARGET}", "-O2", "-D_WASI_EMULATED_SIGNAL", str(src),
              "-o", str(Path(tmp, "probe.wasm")), "-lwasi-emulated-signal"],
             f"the {TARGET} toolchain check (clang, lld, wasi-libc, libclang-rt-dev-wasm32)")
    return clang, ver


# ------------------------------------------------------------------------ fetch

def _safe_extract(tar: tarfile.TarFile, dest: Path, members) -> None:
    """Extract ``members`` without letting a name leave ``dest``."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, members=members, filter="data")
        return
    for m in members:  # pragma: no cover - Pythons before 3.11.4
        target = (dest / m.name).resolve()
        if not str(target).startswith(str(dest.resolve()) + os.sep) or m.issym() or m.islnk():
            raise Unavailable(f"refusing archive member {m.name!r}")
    tar.extractall(dest, members=members)


def fetch(prog: Program, root: Path, quiet: bool = False) -> Path:
    """The package's archive in root/downloads, fetched with the registry's own client
    (npm pack, pip download) unless already there."""
    downloads = root / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    stem = {"npm": f"{prog.package}-{prog.version}.tgz",
            "pypi": f"{prog.package}-{prog.version}.tar.gz"}[prog.registry]
    archive = downloads / stem
    if archive.is_file():
        return archive
    with tempfile.TemporaryDirectory(dir=downloads) as tmp:
        t0 = time.monotonic()
        if prog.registry == "npm":
            npm = shutil.which("npm")
            if not npm:
                raise Unavailable(f"{prog.name}: npm is not installed (it fetches the "
                                  f"{prog.package} package; Debian: apt-get install npm)")
            _say(f"{prog.name}: npm pack {prog.package}@{prog.version}", quiet)
            # Bounded retries and timeouts: an unreachable registry fails in minutes.
            _run([npm, "pack", f"{prog.package}@{prog.version}", "--pack-destination", tmp,
                  "--loglevel=error", "--fetch-retries=1", "--fetch-timeout=60000"],
                 f"npm pack {prog.package}@{prog.version}", cwd=tmp)
        else:
            _say(f"{prog.name}: pip download {prog.package}=={prog.version} (sdist)", quiet)
            env = dict(os.environ, **prog.fetch_env)
            _run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                  prog.package, "--disable-pip-version-check", "-q", "--timeout", "60",
                  "--retries", "1", "-d", tmp,
                  f"{prog.package}=={prog.version}"],
                 f"pip download {prog.package}=={prog.version}", env=env)
        got = [p for p in Path(tmp).iterdir() if p.name.lower() == stem.lower()]
        if not got:
            raise Unavailable(f"{prog.name}: the registry gave "
                              f"{sorted(p.name for p in Path(tmp).iterdir())}, not {stem}")
        os.replace(got[0], archive)
        _say(f"{prog.name}: fetched {archive.name} ({archive.stat().st_size // 1024} KiB, "
             f"{time.monotonic() - t0:.1f} s)", quiet)
    return archive


def unpack(prog: Program, archive: Path, root: Path) -> Path:
    """The program's source folder (prog.root) under root/src, extracted once."""
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    dest = root / "src" / f"{prog.name}-{prog.version}-{digest}"
    if (dest / ".complete").is_file():
        return dest / prog.root
    if dest.exists():
        shutil.rmtree(dest)
    tmp = Path(tempfile.mkdtemp(dir=_mkdir(root / "src")))
    try:
        with tarfile.open(archive) as tar:
            if prog.registry == "npm":
                # The npm package keeps the amalgamation as a tarball of its own.
                inner = [m for m in tar.getmembers()
                         if m.name.startswith("package/deps/sqlite-autoconf-")
                         and m.name.endswith(".tar.gz")]
                if not inner:
                    raise Unavailable(f"{archive.name} has no deps/sqlite-autoconf-*.tar.gz")
                with tarfile.open(fileobj=tar.extractfile(inner[0])) as amalgamation:
                    wanted = [m for m in amalgamation.getmembers()
                              if m.name.startswith(prog.root + "/")]
                    _safe_extract(amalgamation, tmp, wanted)
            else:
                wanted = [m for m in tar.getmembers() if m.name.startswith(prog.root + "/")]
                _safe_extract(tar, tmp, wanted)
        if not (tmp / prog.root).is_dir():
            raise Unavailable(f"{archive.name} has no {prog.root}/")
        (tmp / ".complete").write_text(archive.name + "\n")
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest / prog.root


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


# ------------------------------------------------------------------------ build

def recipe_key(prog: Program, archive: Path, clang_version: str) -> str:
    """A digest of everything the output depends on: sources, recipe, compiler."""
    h = hashlib.sha256()
    h.update(hashlib.sha256(archive.read_bytes()).digest())
    h.update(json.dumps([RECIPE, prog.name, prog.root, prog.units, prog.shims, prog.libs,
                         CFLAGS, LDFLAGS, TARGET, clang_version]).encode())
    return h.hexdigest()[:20]


def build_program(prog: Program, out: Path, root: Path, clang: str, clang_version: str,
                  force: bool = False, quiet: bool = False, jobs: int = 2) -> Path:
    """out/NAME.wasm, built unless out/NAME.json records the same recipe key."""
    archive = fetch(prog, root, quiet)
    key = recipe_key(prog, archive, clang_version)
    wasm, stamp = out / f"{prog.name}.wasm", out / f"{prog.name}.json"
    if not force and wasm.is_file() and stamp.is_file():
        try:
            if json.loads(stamp.read_text()).get("key") == key:
                _say(f"{prog.name}: up to date, {wasm}", quiet)
                return wasm
        except ValueError:
            pass
    src = unpack(prog, archive, root)
    objdir = _mkdir(root / "build" / f"{prog.name}-{key}")
    for name, text in prog.shims.items():
        (objdir / name).write_text(text)
    t0 = time.monotonic()
    _say(f"{prog.name}: compiling {len(prog.units)} files with {clang_version}", quiet)

    def compile_unit(unit: tuple[str, list[str]]) -> Path:
        rel, flags = unit
        path = objdir / rel if rel in prog.shims else src / rel
        obj = objdir / (rel.replace("/", "_")[:-2] + ".o")
        if not obj.is_file():
            tmp_obj = obj.with_suffix(".o.tmp")
            # The prefix maps keep the cache's location out of __FILE__ (asserts), so
            # the output is the same wherever the cache is.
            _run([clang, f"--target={TARGET}", *CFLAGS, "-I", str(objdir), "-I", str(src),
                  f"-ffile-prefix-map={src}=src", f"-ffile-prefix-map={objdir}=shim",
                  *flags, "-c", str(path), "-o", str(tmp_obj)],
                 f"{prog.name}: compiling {rel}", cwd=src)
            os.replace(tmp_obj, obj)
        return obj

    # The biggest files first, so two workers finish together.
    units = sorted(prog.units, key=lambda u: -(src / u[0]).stat().st_size
                   if (src / u[0]).is_file() else 0)
    with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
        objects = list(pool.map(compile_unit, units))
    out.mkdir(parents=True, exist_ok=True)
    tmp_wasm = out / f".{prog.name}.wasm.tmp"
    _run([clang, f"--target={TARGET}", *LDFLAGS, "-o", str(tmp_wasm),
          *map(str, objects), *prog.libs], f"{prog.name}: linking")
    os.replace(tmp_wasm, wasm)
    for stale in (root / "build").glob(f"{prog.name}-*"):  # objects of older recipes
        if stale != objdir:
            shutil.rmtree(stale, ignore_errors=True)
    stamp.write_text(json.dumps({
        "key": key, "package": f"{prog.registry}:{prog.package}=={prog.version}",
        "source": prog.root, "compiler": clang_version, "note": prog.note}, indent=1) + "\n")
    _say(f"{prog.name}: built {wasm} ({wasm.stat().st_size // 1024} KiB, "
         f"{time.monotonic() - t0:.1f} s)", quiet)
    return wasm


def build(names=None, out: Path | None = None, force: bool = False,
          quiet: bool = False, jobs: int | None = None,
          root: Path | None = None) -> dict[str, Path]:
    """Build (or reuse) the named programs (default: all) in the cache folder ``root``
    (default: cache_root()); name -> .wasm path. Raises Unavailable when the toolchain,
    a client or a registry is missing."""
    names = list(names or PROGRAMS)
    unknown = [n for n in names if n not in PROGRAMS]
    if unknown:
        raise ValueError(f"unknown program(s) {unknown}; known: {sorted(PROGRAMS)}")
    root = Path(root) if root else cache_root()
    out = Path(out) if out else root / "bin"
    clang, clang_version = toolchain()
    jobs = jobs or min(2, os.cpu_count() or 1)
    return {n: build_program(PROGRAMS[n], out, root, clang, clang_version, force, quiet,
                             jobs) for n in names}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="where the .wasm files go (default: the "
                    "cache's bin/)")
    ap.add_argument("--programs", help=f"comma-separated, from {','.join(PROGRAMS)}")
    ap.add_argument("--force", action="store_true", help="rebuild even when up to date")
    ap.add_argument("--jobs", type=int, help="parallel compiles (default: up to 2)")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    try:
        built = build(args.programs.split(",") if args.programs else None, args.out,
                      args.force, jobs=args.jobs)
    except Unavailable as e:
        print(f"build_real_programs: cannot build: {e}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"build_real_programs: {e}", file=sys.stderr)
        return 2
    print(f"done in {time.monotonic() - t0:.1f} s (cache: {cache_root()}):")
    for name, path in built.items():
        print(f"  {name:8} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

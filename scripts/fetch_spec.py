#!/usr/bin/env python3
"""Fetch the official WebAssembly spec test suite for fayasm's tests.

    python scripts/fetch_spec.py [DEST]

writes DEST/2.0/*.wast (the WebAssembly 2.0 suite, testsuite commit a810159) and
DEST/3.0/*.wast (commit 193e551). DEST defaults to ../shared/spec beside the repository,
where the tests look first; elsewhere, point FAYASM_SPEC_DIR at it.
"""
from __future__ import annotations

import argparse
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SUITES = {"2.0": "a810159", "3.0": "193e551"}
URL = "https://github.com/WebAssembly/testsuite/archive/{commit}.tar.gz"


def fetch(version: str, commit: str, dest: Path) -> int:
    url = URL.format(commit=commit)
    print(f"fetching {url} ...", flush=True)
    with urllib.request.urlopen(url, timeout=120) as response:
        data = response.read()
    out = dest / version
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            # Only the .wast files at the root of the suite (and its LICENSE).
            if len(parts) != 2 or not member.isfile():
                continue
            name = parts[1]
            if name.endswith(".wast") or name == "LICENSE":
                (out / name).write_bytes(tar.extractfile(member).read())
                count += name.endswith(".wast")
    print(f"  {count} .wast files in {out}")
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", nargs="?", default=str(REPO.parent / "shared" / "spec"),
                        help="where to write the suite (default: %(default)s)")
    parser.add_argument("--version", choices=sorted(SUITES), action="append",
                        help="which suite(s) to fetch (default: all)")
    args = parser.parse_args()
    dest = Path(args.dest)
    try:
        for version in args.version or sorted(SUITES):
            fetch(version, SUITES[version], dest)
    except OSError as e:
        print(f"fetch failed: {e}", file=sys.stderr)
        return 1
    if dest.resolve() != (REPO.parent / "shared" / "spec").resolve():
        print(f"set FAYASM_SPEC_DIR={dest} so the tests find it")
    return 0


if __name__ == "__main__":
    sys.exit(main())

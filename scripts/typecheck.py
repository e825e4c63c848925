"""Type-check fayasm with mypy the way CI does (`python scripts/typecheck.py`; exit 1 on
findings). The settings, and which modules must be fully annotated, are in pyproject.toml.

mypy cannot follow setuptools' package-dir mapping (runtime/ and translator/ install as
fayasm.runtime and fayasm.translator), so this checks a tree of links laid out the
installed way, kept in .mypy_cache/ so a second run reuses mypy's cache."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".mypy_cache"
# The folders installed under the fayasm package, by their installed name.
MAPPED = {"runtime": REPO / "runtime", "translator": REPO / "translator"}


def shadow_tree(root: Path, repo: Path = REPO) -> Path:
    """Lay out ``repo``'s package the installed way under ``root`` (links, remade each
    time so a new or deleted module shows) and return the package folder."""
    pkg = root / "fayasm"
    pkg.mkdir(parents=True, exist_ok=True)
    wanted = {e: repo / "fayasm" / e for e in os.listdir(repo / "fayasm")
              if e != "__pycache__"}
    wanted.update({name: repo / name for name in MAPPED})
    for entry in os.listdir(pkg):
        if entry not in wanted or os.readlink(pkg / entry) != str(wanted[entry]):
            os.unlink(pkg / entry)
    for entry, target in wanted.items():
        if not os.path.lexists(pkg / entry):
            os.symlink(target, pkg / entry)
    return pkg


def mypy_command(root: Path, *targets: str) -> list[str]:
    """The mypy command line CI runs from ``root`` (a shadow tree): the project's
    config, the package (or ``targets``, module names) and a cache kept between runs."""
    args = [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
            "--cache-dir", str(CACHE / "cache")]
    if not targets:
        return args + ["-p", "fayasm"]
    for target in targets:
        args += ["-m", target]
    return args


def main(argv: list[str]) -> int:
    try:
        import mypy  # noqa: F401 - only to say what is missing
    except ImportError:
        print("typecheck: mypy is not installed (pip install -e '.[test]')", file=sys.stderr)
        return 2
    root = CACHE / "tree"
    shadow_tree(root)
    command = mypy_command(root, *argv)
    # Paths in mypy's messages point at the sources, not at the links.
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    out = (result.stdout + result.stderr).replace("fayasm/runtime/", "runtime/")
    sys.stdout.write(out.replace("fayasm/translator/", "translator/"))
    if result.returncode == 1:
        print("typecheck: fix these, or see [tool.mypy] in pyproject.toml for what is checked",
              file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

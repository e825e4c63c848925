"""One WASI command line for ``fayasm run`` and a translated file run as a script
(runtime/wasi/command.py, issue 14): the same environment (``--env NAME`` passes this
process's value on in both), the same arguments and the same ``--dir`` errors."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO

from fayasm.runtime.wasi import command

ARGS_ENV = REPO / "tests" / "wasi" / "args_env.wasm"


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("script") / "args_env.py"
    subprocess.run([sys.executable, "-m", "fayasm", "translate", str(ARGS_ENV), "-o", str(out)],
                   check=True, capture_output=True, timeout=120)
    return str(out)


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "UNSET_HERE")}
    return {**env, "HOME": "/home/fayasm-test", **extra}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fayasm", "run", str(ARGS_ENV), *args],
                          capture_output=True, text=True, timeout=120, env=_env())


def _script(path: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, path, *args], capture_output=True, text=True,
                          timeout=120, env=_env())


def _guest_view(out: str) -> list[str]:
    """What the program printed about its arguments (argv[0] aside) and environment."""
    return [line for line in out.splitlines()
            if line.startswith(("env", "HOME", "argc", "argv["))
            and not line.startswith("argv[0]")]


@pytest.mark.parametrize("args", [
    ["--env", "HOME", "--env", "A=1", "--env", "UNSET_HERE", "--", "q"],
    ["x", "--env=HOME", "y", "--", "--env", "B=2"],
    ["--env", "EMPTY=", "--env", "EQ=a=b"],
])
def test_regression_script_and_cli_give_the_same_environment(script, args):
    """A translated script's ``--env HOME`` gave the program HOME="" where ``fayasm run``
    passed the host's value on."""
    cli, py = _cli(*args), _script(script, *args)
    assert cli.returncode == py.returncode == 0, (cli.stderr, py.stderr)
    assert _guest_view(cli.stdout) == _guest_view(py.stdout)
    if "HOME" in args or "--env=HOME" in args:
        assert "HOME /home/fayasm-test" in py.stdout
        assert any(line.endswith("[HOME=/home/fayasm-test]") for line in py.stdout.splitlines())


def _message(r: subprocess.CompletedProcess, prefix: str) -> str:
    (line,) = [x for x in r.stderr.splitlines() if x.strip()]
    assert line.startswith(prefix), line
    return line[len(prefix):]


@pytest.mark.parametrize("option", ["--dir", "--ro-dir"])
@pytest.mark.parametrize("spec", ["/nonexistent/fayasm", "{file}", "x::", "::guest", ""])
def test_regression_script_has_the_clis_dir_checks(script, tmp_path, option, spec):
    """A bad --dir is a usage error naming it, exit status 2, from both (the script used
    to take any --dir and fail later, or not at all)."""
    spec = spec.format(file=str(ARGS_ENV))
    cli, py = _cli(option, spec), _script(script, option, spec)
    assert cli.returncode == py.returncode == 2, (cli.stderr, py.stderr)
    assert _message(cli, "fayasm run: ") == _message(py, "args_env.py: ")
    assert option in py.stderr and "Traceback" not in py.stderr


def test_missing_option_value_is_the_same_error(script):
    cli, py = _cli("--env"), _script(script, "--env")
    assert cli.returncode == py.returncode == 2
    assert _message(cli, "fayasm run: ") == _message(py, "args_env.py: ") == "--env needs a value"


def test_script_dir_reaches_the_program(script, tmp_path):
    (tmp_path / "d").mkdir()
    r = _script(script, "--ro-dir", f"{tmp_path / 'd'}::/data", "--", "a")
    assert r.returncode == 0 and "argv[1] (1 bytes) = [a]" in r.stdout, r.stderr


# -- the parser itself ------------------------------------------------------------------------

def test_split_takes_options_anywhere_before_the_separator():
    assert command.split(["a", "--env", "X", "--dir=d", "-v", "--", "--env", "Y"]) == \
        (["--env", "X", "--dir=d"], ["a", "-v", "--env", "Y"])
    assert command.split(["--help", "b"]) == (["--help"], ["b"])
    with pytest.raises(ValueError, match="--dir needs a value"):
        command.split(["--dir"])


def test_config_reads_env_from_the_given_environment(tmp_path):
    cfg = command.config([str(tmp_path)], [f"{tmp_path}::/ro"], ["HOME", "A=1", "GONE", "B=x=y"],
                         ["prog"], environ={"HOME": "/h"})
    assert cfg.env == [(b"HOME", b"/h"), (b"A", b"1"), (b"B", b"x=y")]
    assert [(p.guest, p.host, p.readonly) for p in cfg.preopens] == \
        [(str(tmp_path), str(tmp_path), False), ("/ro", str(tmp_path), True)]
    for bad in ("=x", "=", "A\0=1"):
        with pytest.raises(ValueError, match="--env"):
            command.config([], [], [bad], ["prog"], environ={})
    with pytest.raises(ValueError, match="not a valid path"):
        command.config(["a\0b"], [], [], ["prog"])

"""What path_symlink may create: WasiConfig.symlinks.

The guest can never follow a symlink out of its preopens (sandbox.py expands every link
itself and refuses one that climbs too high or is absolute), so for the guest a link is
harmless. The risk is the host's: a relative target such as "../../home/user/.ssh" is a
real symlink on the host file system, and a host program that later follows links in
that directory (a backup, tar -h, rsync -L, a web server, a second guest given the same
tree under a different preopen) reads or writes outside what the guest was given.

    "allow"   any relative target (wasmtime's behaviour; the default)
    "inside"  only targets with no ".." component: such a link names something below its
              own directory, so it stays inside wherever the guest later moves the link or
              the directories holding it (a check of where a target with ".." lands when
              it is made would not: renaming the link's directory to a shallower place
              changes where it points)
    "none"    no symlink at all

A refused symlink fails with EPERM, wasmtime's errno for a link it will not make. Absolute
targets are refused under every policy.
"""
from __future__ import annotations

from .constants import EPERM
from .guest import WasiErrno
from .sandbox import check_symlink_target


def check_new_symlink(policy: str, target: str) -> None:
    """Fail unless ``policy`` lets the guest make a symlink to ``target``."""
    if policy == "none":
        raise WasiErrno(EPERM)
    check_symlink_target(target)
    if policy == "inside" and ".." in target.split("/"):
        raise WasiErrno(EPERM)


__all__ = ["check_new_symlink"]

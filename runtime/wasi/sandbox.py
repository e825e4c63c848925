"""Path resolution inside the sandbox, one component at a time.

A guest path is resolved below a directory handle the way openat(2) would, except that
the host kernel never follows a symlink or a ".." for us: every directory on the way is
opened with O_NOFOLLOW relative to the previous one, ".." pops back to a directory we
already hold, and symlinks are read and expanded here. So the walk can never leave the
starting directory: ".." at the top, an absolute path, or a symlink whose target is
absolute or climbs too high all fail with EPERM (wasmtime's errno for an escape), and a
file swapped for a symlink between our check and our use makes the O_NOFOLLOW open fail
instead of being followed.

The result is a (directory descriptor, final name) pair; callers act on the final name
with *at calls that do not follow symlinks (os.open(..., O_NOFOLLOW, dir_fd=...),
os.stat(..., dir_fd=..., follow_symlinks=False), os.unlink(..., dir_fd=...), ...).
"""
from __future__ import annotations

import errno
import os
import stat
from collections import deque

from .constants import ELOOP, ENOENT, ENOTDIR, EPERM
from .guest import WasiErrno
from .handles import O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW

# O_PATH (Linux) opens a directory for lookups only, so walking through a directory that
# we may search but not read works as it does for the kernel's own lookup.
_WALK = getattr(os, "O_PATH", os.O_RDONLY) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
MAX_SYMLINKS = 40  # Linux's limit on symlinks followed in one lookup


class Resolved:
    """The directory (``dir_fd``) holding the final component ``name`` of a path; a context
    manager that closes the directories opened on the way."""

    __slots__ = ("dir_fd", "name", "_owned")

    def __init__(self, dir_fd: int, name: str, owned: list[int]):
        self.dir_fd = dir_fd
        self.name = name
        self._owned = owned

    def __enter__(self) -> "Resolved":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        owned, self._owned = self._owned, []
        for fd in owned:
            os.close(fd)

    def lstat(self) -> os.stat_result | None:
        """os.stat of the final component itself (None if it does not exist)."""
        try:
            return os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None


def _components(path: str) -> list[str]:
    # Empty components come from repeated slashes and mean nothing; "." is kept because a
    # path ending in "." names the directory itself.
    return [c for c in path.split("/") if c]


def resolve(root_fd: int, path: str, follow: bool) -> Resolved:
    """Resolve ``path`` below the directory ``root_fd``. ``follow``: a symlink as the final
    component is followed (intermediate ones always are). A trailing slash requires the
    result, if it exists, to be a directory (ENOTDIR otherwise), and follows a final
    symlink as POSIX says."""
    if not path:
        raise WasiErrno(ENOENT)
    if path.startswith("/"):
        raise WasiErrno(EPERM)
    trailing = path.endswith("/")
    queue = deque(_components(path))
    stack = [root_fd]          # stack[0] is borrowed; the rest are ours
    links = 0
    name = "."
    try:
        while queue:
            comp = queue.popleft()
            last = not queue
            if comp == ".":
                name = "."
                continue
            if comp == "..":
                if len(stack) == 1:
                    raise WasiErrno(EPERM)  # would climb above the sandbox root
                os.close(stack.pop())
                name = "."
                continue
            top = stack[-1]
            if last:
                name = comp
                if not (follow or trailing):
                    break
                try:
                    st = os.stat(comp, dir_fd=top, follow_symlinks=False)
                except FileNotFoundError:
                    break  # the caller may be about to create it
                if not stat.S_ISLNK(st.st_mode):
                    break
            else:
                try:
                    stack.append(os.open(comp, _WALK, dir_fd=top))
                    continue
                except OSError as e:
                    # O_NOFOLLOW|O_DIRECTORY on a symlink fails (ELOOP or ENOTDIR); anything
                    # else (ENOENT, EACCES) is the answer.
                    if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                        raise
                    st = os.stat(comp, dir_fd=top, follow_symlinks=False)
                    if not stat.S_ISLNK(st.st_mode):
                        raise WasiErrno(ENOTDIR) from None
            # comp is a symlink to follow: splice its target into the walk.
            links += 1
            if links > MAX_SYMLINKS:
                raise WasiErrno(ELOOP)
            target = os.readlink(comp, dir_fd=top)
            if target.startswith("/"):
                raise WasiErrno(EPERM)  # absolute targets point outside the sandbox
            if last and target.endswith("/"):
                trailing = True
            parts = _components(target)
            if not parts:
                raise WasiErrno(ENOENT)
            queue.extendleft(reversed(parts))
            name = "."
        result = Resolved(stack[-1], name, stack[1:])
    except BaseException:
        for fd in stack[1:]:
            os.close(fd)
        raise
    if trailing:
        final = result.lstat()
        if final is not None and not stat.S_ISDIR(final.st_mode):
            result.close()
            raise WasiErrno(ENOTDIR)
    return result


def check_symlink_target(target: str) -> None:
    """path_symlink: an absolute target could only ever point outside (EPERM, as
    wasmtime); a relative one is checked again whenever it is followed."""
    if target.startswith("/"):
        raise WasiErrno(EPERM)
    if not target:
        raise WasiErrno(ENOENT)

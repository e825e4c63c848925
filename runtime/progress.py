"""Progress of long work (the jit's compiles), for a front end to show: engines report
tasks here, and nothing is shown unless a sink is installed (the CLI's progress line,
fayasm/cli_progress.py). The guest's output to the process's own stdout or stderr is
announced first (``guest_output``), so a sink drawing on a terminal can get out of its
way.
"""
from __future__ import annotations

import threading
import time
from typing import Protocol


class Sink(Protocol):
    def changed(self, task: Task) -> None: ...

    def guest_output(self, data: bytes) -> None: ...


_sink: Sink | None = None
_lock = threading.Lock()


class Task:
    """One piece of work: ``what`` it is, ``done`` of ``total`` units (total 0: unknown),
    the phase it is in (``detail``), when it ``started`` (time.monotonic) and whether it
    has ``ended``."""

    __slots__ = ("what", "done", "total", "detail", "started", "ended")

    def __init__(self, what: str, total: int = 0):
        self.what, self.done, self.total, self.detail = what, 0, total, ""
        self.started = time.monotonic()
        self.ended = False

    def update(self, done: int, total: int | None = None, detail: str | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if detail is not None:
            self.detail = detail
        _tell(self)

    def finish(self) -> None:
        if not self.ended:
            self.ended = True
            _tell(self)

    def __enter__(self) -> Task:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()


def task(what: str, total: int = 0) -> Task:
    """A new task, reported to the sink."""
    t = Task(what, total)
    _tell(t)
    return t


def _tell(t: Task) -> None:
    sink = _sink
    if sink is not None:
        sink.changed(t)


def guest_output(data: bytes) -> None:
    """The guest is about to write ``data`` to the process's stdout or stderr."""
    sink = _sink
    if sink is not None:
        sink.guest_output(data)


def set_sink(sink: Sink | None) -> Sink | None:
    """Install ``sink`` (None: none); the one it replaces."""
    global _sink
    with _lock:
        old, _sink = _sink, sink
    return old


__all__ = ["Task", "Sink", "task", "guest_output", "set_sink"]

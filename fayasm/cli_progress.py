"""The command line's progress line: work the engines report (runtime.progress: the jit's
compiles) shows on stderr once it has taken over DELAY seconds, as one line redrawn in
place on a terminal, or a line now and then otherwise. Shown when stderr is a terminal,
or when FAYASM_PROGRESS=1 asks for it; FAYASM_PROGRESS=0 silences it.
"""
from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from fayasm.runtime import progress

DELAY = 1.0  # seconds a task runs before it is shown
TICK = 0.25  # seconds between redraws on a terminal
EVERY = 5.0  # seconds between lines when stderr is not a terminal


def wanted(stream: TextIO | None = None) -> bool:
    """Whether to show progress on ``stream`` (default sys.stderr)."""
    setting = os.environ.get("FAYASM_PROGRESS", "")
    if setting in ("0", "1"):
        return setting == "1"
    stream = sys.stderr if stream is None else stream
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def describe(task: progress.Task, now: float) -> str:
    """One task as the line shows it."""
    parts = [task.what]
    if task.detail:
        parts.append(task.detail)
    if task.total:
        parts.append(f"{task.done}/{task.total} functions")
    parts.append(f"{now - task.started:.0f} s")
    # Names come from the module: nothing in them may reach the terminal as a control.
    return "".join(c if c.isprintable() else "?" for c in ", ".join(parts))


class Line:
    """A progress.Sink drawing on ``stream``: a terminal (``tty``) gets one line
    redrawn in place and erased when the work is done or the guest writes (and drawn
    again only once the guest's output ends a line); anything else gets a plain line at
    most every EVERY seconds."""

    def __init__(self, stream: TextIO, tty: bool, delay: float = DELAY):
        self.stream, self.tty, self.delay = stream, tty, delay
        self.tasks: dict[int, progress.Task] = {}
        self.shown: set[int] = set()  # tasks (ids) shown so far
        self.lock = threading.RLock()
        self.drawn = False  # a line is on the terminal
        self.line_start = True  # the guest's output so far ends a line
        self.last_line = 0.0
        self.stop = threading.Event()
        self.ticker: threading.Thread | None = None

    # -- progress.Sink ------------------------------------------------------------------------
    def changed(self, task: progress.Task) -> None:
        with self.lock:
            if task.ended:
                self.tasks.pop(id(task), None)
                if id(task) in self.shown:
                    self.shown.discard(id(task))
                    if not self.tty:
                        self._write(f"fayasm: {describe(task, time.monotonic())}: done\n")
                if not self.tasks:
                    self.clear()
                return
            self.tasks[id(task)] = task
            if self.ticker is None:
                self.ticker = threading.Thread(target=self._tick, name="fayasm-progress",
                                               daemon=True)
                self.ticker.start()

    def guest_output(self, data: bytes) -> None:
        with self.lock:
            self.clear()
            if data:
                self.line_start = data.endswith(b"\n")

    # -- drawing ----------------------------------------------------------------------------
    def _tick(self) -> None:
        while not self.stop.wait(TICK):
            self.draw()

    def draw(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self.lock:
            shown = [t for t in self.tasks.values() if now - t.started >= self.delay]
            if not shown:
                self.clear()
                return
            self.shown.update(id(t) for t in shown)
            text = "fayasm: " + "; ".join(describe(t, now) for t in shown)
            if self.tty:
                if not self.line_start:
                    return
                width = shutil.get_terminal_size((80, 24)).columns
                self._write("\r" + text[:max(10, width - 1)] + "\x1b[K")
                self.drawn = True
            elif now - self.last_line >= EVERY:
                self.last_line = now
                self._write(text + "\n")

    def clear(self) -> None:
        with self.lock:
            if self.drawn:
                self._write("\r\x1b[K")
                self.drawn = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        self.stop.set()
        self.clear()


@contextmanager
def shown(stream: TextIO | None = None) -> Iterator[Line | None]:
    """Show the engines' progress on ``stream`` (default sys.stderr) inside the block,
    if wanted()."""
    stream = sys.stderr if stream is None else stream
    if not wanted(stream):
        yield None
        return
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    line = Line(stream, tty)
    old = progress.set_sink(line)
    try:
        yield line
    finally:
        progress.set_sink(old)
        line.close()


__all__ = ["wanted", "describe", "Line", "shown", "DELAY"]

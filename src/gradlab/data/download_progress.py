"""How a download shows its progress: one file's bar (a terminal) or its periodic lines (a log, CI, a pipe).

Progress(label, stream)     begin(url, total, start_bytes), update(done), note(message), end(message)
byte_size(n)                512 B, 4.9 MB, 1.2 GB
"""

from __future__ import annotations

import shutil
import sys
import time

from ..progress import Pace, clock

__all__ = ["Progress", "byte_size"]


def byte_size(n: float) -> str:
    """A byte count for people: 512 B, 4.9 MB, 1.2 GB (powers of 1000, as download sites count)."""
    if n < 1e3:
        return f"{n:.0f} B"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if n < scale * 1e3 or unit == "GB":
            return f"{n / scale:.1f} {unit}"
    raise AssertionError


class Progress:
    """Progress of one file on a text stream (stderr by default).

    On a terminal: one line redrawn in place (at most every 0.1 s),
        train-images-idx3-ubyte.gz [##########..........]  52%  4.9/9.5 MB  12.3 MB/s  0:01 left
    elsewhere (a log, CI, a pipe): a line when the file starts, one every `interval` seconds, one at the end.
    stream=None (or quiet) prints nothing. The clock is injectable for tests.
    """

    def __init__(self, label: str, stream=sys.stderr, interval: float = 10.0, clock=time.monotonic, width: int = 24):
        self.label = label
        self.stream = stream
        self.clock = clock
        self.width = width
        self.pace = Pace(stream, interval, redraw=0.1, clock=clock)
        self.tty = self.pace.tty
        self.total: int | None = None
        self.start_bytes = 0
        self.done = 0
        self.started = clock()
        self._drawn = False

    def note(self, message: str) -> None:
        """A line of its own (a retry, a resume), not overwritten by the bar."""
        if self.stream is None:
            return
        if self._drawn:
            self.stream.write("\n")
            self._drawn = False
        self.stream.write(f"  {message}\n")
        self.stream.flush()

    def begin(self, url: str, total: int | None, start_bytes: int = 0) -> None:
        """A transfer starts: `total` bytes in all when known, `start_bytes` of them already on disk."""
        self.total, self.start_bytes, self.done = total, start_bytes, start_bytes
        self.started = self.clock()
        self.pace.restart()
        if self.stream is None:
            return
        if not self.tty:
            size = f" ({byte_size(total)})" if total else ""
            resumed = f", resuming at {byte_size(start_bytes)}" if start_bytes else ""
            self.stream.write(f"downloading {url}{size}{resumed}\n")
            self.stream.flush()
        else:
            self._draw()

    def update(self, done: int) -> None:
        self.done = done
        if self.stream is None or not self.pace.due():
            return
        if self.tty:
            self._draw()
        else:
            self.stream.write(f"  {self.label}: {self._figures()}\n")
            self.stream.flush()

    def end(self, message: str) -> None:
        if self.stream is None:
            return
        if self.tty:
            self._draw()
            self.stream.write("\n")
            self._drawn = False
        self.stream.write(f"  {self.label}: {message}\n")
        self.stream.flush()

    def rate(self) -> float:
        elapsed = self.clock() - self.started
        return (self.done - self.start_bytes) / elapsed if elapsed > 0 else 0.0

    def _figures(self) -> str:
        rate = self.rate()
        parts = []
        if self.total:
            parts.append(f"{byte_size(self.done)}/{byte_size(self.total)} ({100 * self.done / self.total:.0f}%)")
        else:
            parts.append(byte_size(self.done))
        parts.append(f"{byte_size(rate)}/s")
        if self.total and rate > 0:
            parts.append(f"{clock((self.total - self.done) / rate)} left")
        return ", ".join(parts)

    def _draw(self) -> None:
        rate = self.rate()
        if self.total:
            filled = min(self.width, self.width * self.done // self.total)
            bar = " [" + "#" * filled + "." * (self.width - filled) + "]"
            figures = f"{100 * self.done / self.total:3.0f}%  {byte_size(self.done)}/{byte_size(self.total)}"
            running = rate > 0 and self.done < self.total
            left = f"  {clock((self.total - self.done) / rate)} left" if running else ""
        else:
            bar, figures, left = "", byte_size(self.done), ""
        columns = shutil.get_terminal_size((80, 24)).columns - 1  # a wrapped line cannot be redrawn with \r
        line = f"{self.label}{bar}  {figures}  {byte_size(rate)}/s{left}"
        if len(line) > columns:
            line = f"{self.label}  {figures}  {byte_size(rate)}/s{left}"[:columns]
        self.stream.write("\r" + line.ljust(min(columns, 79)))
        self.stream.flush()
        self._drawn = True

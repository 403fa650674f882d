"""What every progress line shares (training, downloads, the synthetic-data writer): when a line is due, and
how it shows time."""

from __future__ import annotations

import time

__all__ = ["Pace", "clock"]


class Pace:
    """When a progress line is due. On a terminal one line is redrawn in place, at most every `redraw`
    seconds; elsewhere (a log, CI, a pipe), where a redrawn line shows nothing until it ends, a new line
    every `interval` seconds, so a long run neither floods the log nor stays silent. `tty` says which.
    The clock is injectable for tests."""

    def __init__(self, stream, interval: float = 10.0, redraw: float = 0.1, clock=time.monotonic):
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.every = redraw if self.tty else interval
        self.clock = clock
        self.last = clock()

    def restart(self) -> None:
        """Count the wait from now (a new epoch, a new file)."""
        self.last = self.clock()

    def due(self) -> bool:
        """Whether a line is due now; if so, the wait starts again."""
        now = self.clock()
        if now - self.last < self.every:
            return False
        self.last = now
        return True


def clock(seconds: float) -> str:
    """A duration as m:ss, or h:mm:ss past an hour (5 -> '0:05', 3725 -> '1:02:05')."""
    seconds = max(round(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"

"""How progress lines show time: one format for training, downloads and anything else that runs long."""

from __future__ import annotations

__all__ = ["clock"]


def clock(seconds: float) -> str:
    """A duration as m:ss, or h:mm:ss past an hour (5 -> '0:05', 3725 -> '1:02:05')."""
    seconds = max(round(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"

"""Checked argument types for the command line (argparse `type=`): a bad value gets a clear message
from argparse, with the sub-command's usage, before any work starts."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def whole(least: int, most: int | None = None):
    """A parser for whole numbers >= least, and <= most if given (whole(1): a positive count such as --epochs)."""
    wanted = "a positive whole number" if least == 1 else f"a whole number >= {least}"
    if most is not None:
        wanted = f"a whole number from {least} to {most}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}") from None
        if value < least or (most is not None and value > most):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        return value

    return parse


def port(text: str) -> int:
    """A TCP port to listen on: a whole number from 1 to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port is a whole number, got {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"a port lies between 1 and 65535, got {value}")
    return value


def finite(text: str) -> float:
    """Any finite number (a price, a cost, a start point): 'nan' and 'inf' are refused."""
    return _number(text)


def positive(text: str) -> float:
    """A finite number > 0 (a learning rate)."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def non_negative(text: str) -> float:
    """A finite number >= 0 (a regularisation strength)."""
    value = _number(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def output_file(text: str) -> str:
    """A file the command will write (a figure, a model): its folder must exist and be writable, so a
    typo fails at once rather than after minutes of computation."""
    path = Path(text).expanduser()
    folder = path.parent
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name inside it, e.g. {path / 'out'}")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {text}: the folder {folder} does not exist (create it first)")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"cannot write {text}: permission denied (choose another folder)")
    return str(path)


FIGURE_FORMATS = (".png", ".svg", ".pdf", ".jpg", ".jpeg")


def figure_file(text: str) -> str:
    """A figure to write: 'none' to skip it, else an output_file whose name ends in a format matplotlib writes."""
    if text.lower() == "none":
        return "none"
    if Path(text).suffix.lower() not in FIGURE_FORMATS:
        raise argparse.ArgumentTypeError(
            f"{text!r} needs a picture format as its ending: one of {', '.join(FIGURE_FORMATS)} (or 'none')"
        )
    return output_file(text)

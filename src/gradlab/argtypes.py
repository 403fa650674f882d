"""Checked argument types for the command line (argparse `type=`): a bad value gets a clear message."""

from __future__ import annotations

import argparse


def whole(least: int):
    """A parser for whole numbers >= least (whole(1): a positive count such as --epochs)."""

    def parse(text: str) -> int:
        value = int(text)
        if value < least:
            wanted = "a positive whole number" if least == 1 else f"a whole number >= {least}"
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        return value

    return parse


def positive(text: str) -> float:
    """A number > 0 (a learning rate)."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def non_negative(text: str) -> float:
    """A number >= 0 (a regularisation strength)."""
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value

"""Lesson 0 (the tour): the one warm-up exercise, the slope of the line through two points.

slope = rise / run = (y2 − y1) / (x2 − x1)
"""

from __future__ import annotations

import numpy as np

from . import grading
from .core import exercise


def _equals(value: float):
    """A predicate: the answer is `value` (the result of a known mistake) and not the right one."""

    def predicate(got, want) -> bool:
        return grading.relative_error(got, value) <= 1e-9 and grading.relative_error(got, want) > 1e-9

    return predicate


@exercise("tour.slope_of_line")
def _slope_of_line(fn):
    corners = grading.points(seed=0, n=5, low=-3, high=3, shape=(4,))
    for x1, y1, dx, y2 in corners:
        x2 = x1 + np.copysign(0.5 + abs(dx), dx)  # the two x are at least 0.5 apart
        at = f"(x1, y1) = ({x1:.3g}, {y1:.3g}), (x2, y2) = ({x2:.3g}, {y2:.3g})"
        rise, run = y2 - y1, x2 - x1
        got = grading.call(fn, x1, y1, x2, y2)
        grading.expect_close(
            got,
            rise / run,
            at=at,
            hints=[
                (
                    grading.sign_flipped,
                    "the sign is flipped at {at}: the rise is y2 − y1 and the run x2 − x1, both end minus start",
                ),
                (
                    _equals(run / rise),
                    "that is the run over the rise, upside down: slope = rise / run = (y2 − y1)/(x2 − x1)",
                ),
                (_equals(rise), "that is the rise y2 − y1 alone: divide it by the run x2 − x1"),
                (
                    _equals(y2 / x2),
                    "that is y2/x2, the slope of the line from the origin to the second point: use both points",
                ),
            ],
        )

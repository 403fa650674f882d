"""Small helpers several lessons' checkers share: closeness tests, hint predicates for a typical mistake's
answer, and reading the learner's answer as an array.

They would sit well in grading.py, next to expect_close and its hint predicates (off_by_factor,
sign_flipped, …); they live here while grading.py is being edited elsewhere.
"""

from __future__ import annotations

import numpy as np

from . import grading
from .core import Wrong


def mistake(value):
    """A hint predicate: the answer equals `value` (what one particular mistake gives), to a relative 1e-9,
    and is not the right answer."""
    value = np.asarray(value, dtype=np.float64)

    def predicate(got, want):
        got = np.asarray(got, dtype=np.float64)
        if got.shape != value.shape:
            return False
        return grading.relative_error(got, value) <= 1e-9 and grading.relative_error(got, want) > 1e-9

    return predicate


def near(a, b, tol: float = 1e-9) -> bool:
    """a ≈ b: same shape, a finite and max|a − b| <= tol·max(1, max|b|) (absolute near 0, relative elsewhere)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return False
    return float(np.max(np.abs(a - b), initial=0.0)) <= tol * max(1.0, float(np.max(np.abs(b), initial=0.0)))


def like(variant):
    """A hint predicate: the learner's answer is near this (wrong) variant and not near the right answer."""
    return lambda got, want: near(got, variant) and not near(got, want)


def as_array(value, wrong: str) -> np.ndarray:
    """The learner's value as a float64 array; Wrong(wrong) when it is not numbers, `{type}` in `wrong` standing
    for the name of the value's type."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(wrong.format(type=type(value).__name__)) from None

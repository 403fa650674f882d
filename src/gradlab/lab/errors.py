"""LabError: a request the lab cannot answer, with the control it concerns (shown next to it)."""

from __future__ import annotations

import math

import numpy as np

from ..calculus.expressions import ExpressionError

__all__ = ["LabError", "clean", "expression_error", "plain"]


class LabError(Exception):
    """An answer for the page: HTTP `status`, a readable `message`, and the `field` it belongs to."""

    def __init__(self, message: str, field: str | None = None, status: int = 422, column: int | None = None):
        super().__init__(message)
        self.message, self.field, self.status, self.column = message, field, status, column

    def __reduce__(self):  # raised in a worker process, it reaches the server whole (field and status too)
        return LabError, (self.message, self.field, self.status, self.column)

    def payload(self) -> dict:
        body = {"detail": self.message, "field": self.field}
        if self.column is not None:
            body["column"] = self.column
        return body


def expression_error(error: ExpressionError, field: str) -> LabError:
    """The parser's refusal, with the formula and a caret under the offending part."""
    return LabError(str(error), field=field, column=error.column)


def plain(error: Exception) -> str:
    """A failure of the arithmetic as a sentence (Python's own text for these is "(34, 'Numerical result out of
    range')" or "float() argument must be ... not 'complex'", which tells a learner nothing)."""
    if isinstance(error, OverflowError):
        return "the numbers grow beyond the largest a float can hold (about 1.8e308)"
    if isinstance(error, ZeroDivisionError):
        return "it divides by zero"
    if isinstance(error, TypeError) and "complex" in str(error):
        return "the result is a complex number (a root or fractional power of a negative number)"
    return str(error)


def clean(value):
    """Plain JSON: arrays to lists, numpy scalars to Python numbers, NaN and ±inf to None."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc":
            value = np.real(value).astype(np.float64)
            shown = value.astype(object)
            shown[~np.isfinite(value)] = None
            return shown.tolist()
        if value.dtype.kind in "iub":
            return value.tolist()
        return [clean(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (complex, np.complexfloating)):
        return clean(float(np.real(value)))
    return value

"""Helpers a checker grades with: points the learner did not choose, a guarded call, a relative-error
comparison that names what is wrong, and a gradient check by central differences in float64.

Thresholds (CS231n's): a relative error <= 1e-7 where the function is smooth (SMOOTH), <= 1e-4 near
kinks such as relu at 0 (KINK).

Hints are pairs (predicate, text): predicate(got, want) -> bool says whether the wrong answer has a known
shape (twice the answer, its negative, its transpose, ...); the first true predicate's text is the
verdict. The text may say "{at}" where the point belongs; otherwise " (at <point>)" is appended. The
text may also be a function (got, want) -> str.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .core import LearnerError, NotAttempted, Wrong, note_point

__all__ = [
    "KINK",
    "SMOOTH",
    "call",
    "expect_close",
    "gradient_check",
    "off_by_constant",
    "off_by_factor",
    "points",
    "relative_error",
    "sign_flipped",
    "transposed",
]

SMOOTH = 1e-7
KINK = 1e-4
_SAME = 1e-6  # how close a wrong answer must be to k·want, -want, ... for a hint's predicate to fire

Hint = tuple[Callable[[np.ndarray, np.ndarray], bool], "str | Callable[[np.ndarray, np.ndarray], str]"]


def points(seed: int, n: int, low: float, high: float, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """n points drawn uniformly from [low, high) with a seeded generator, float64.

    shape=None gives an array of n numbers; a shape gives an array (n, *shape): n points of that shape."""
    rng = np.random.default_rng(seed)
    size = n if shape is None else (n, *tuple(shape))
    return rng.uniform(low, high, size=size).astype(np.float64)


def call(fn: Callable, *args, none_ok: bool = False, **kwargs):
    """fn(*args, **kwargs), with the learner's mistakes turned into verdicts.

    NotImplementedError (the unchanged exercise) or a None result -> NotAttempted (none_ok=True accepts None,
    for functions that work in place); any other exception -> LearnerError naming it. NumPy's floating-point
    warnings are silenced: a NaN or inf in the answer is reported by expect_close instead."""
    if not callable(fn):
        raise Wrong(f"check expects your function itself, got {type(fn).__name__} (pass the name without ())")
    try:
        with np.errstate(all="ignore"):
            value = fn(*args, **kwargs)
    except NotImplementedError:
        raise NotAttempted() from None
    except (Wrong, NotAttempted, LearnerError):
        raise
    except Exception as error:
        text = str(error).strip().splitlines()
        detail = f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
        raise LearnerError(f"your function raised {detail}") from error
    if value is None and not none_ok:
        raise NotAttempted(
            "not attempted yet: your function returned None (replace `raise NotImplementedError` with code "
            "that ends with `return ...`)"
        )
    return value


def relative_error(a, b, floor: float = 1e-12) -> float:
    """max over elements of |a - b| / max(|a|, |b|, floor)  (0.0 for empty arrays)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(all="ignore"):
        error = np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)
    if error.size == 0:
        return 0.0
    return float(np.max(error))


def _as_array(got, at: str) -> np.ndarray:
    if hasattr(got, "numpy") and not isinstance(got, np.ndarray):  # a gradlab (or torch) Tensor
        got = got.numpy()
    try:
        array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"your answer at {at} is a {type(got).__name__}, not a number or an array of numbers") from None
    return array


def _shape(x: np.ndarray) -> str:
    return "one number" if x.shape == () else str(x.shape)


def _fmt(x: np.ndarray) -> str:
    if x.ndim == 0:
        return f"{float(x):.10g}"
    return np.array2string(x, precision=6, threshold=12, edgeitems=2, max_line_width=100)


def _hint_for(got: np.ndarray, want: np.ndarray, hints: Sequence[Hint], at: str) -> str | None:
    for predicate, text in hints:
        try:
            fires = bool(predicate(got, want))
        except Exception:  # a predicate that does not apply to this answer (e.g. a shape it cannot handle)
            fires = False
        if fires:
            message = text(got, want) if callable(text) else text
            return message.replace("{at}", at) if "{at}" in message else f"{message} (at {at})"
    return None


def expect_close(got, want, at: str, tol: float = SMOOTH, hints: Sequence[Hint] = ()) -> float:
    """Pass when relative_error(got, want) <= tol; otherwise raise Wrong with the most specific hint.

    In order: a wrong shape ("your answer has shape (3,), expected (3, 1)", unless a hint recognises the
    answer), NaN or inf in the answer, the first hint whose predicate(got, want) is true, else
    "expected W, got G at <at>" with the relative error. Returns the relative error."""
    got = _as_array(got, at)
    want = np.asarray(want, dtype=np.float64)
    note_point(at)
    if got.shape != want.shape:
        hint = _hint_for(got, want, hints, at)
        raise Wrong(hint or f"your answer has shape {got.shape}, expected {_shape(want)} (at {at})")
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(want)):
        what = "NaN" if np.any(np.isnan(got)) else "inf"
        raise Wrong(f"your answer contains {what} at {at}: a division by zero, or a number that overflowed?")
    error = relative_error(got, want)
    if error <= tol:
        return error
    hint = _hint_for(got, want, hints, at)
    if hint:
        raise Wrong(hint)
    raise Wrong(f"expected {_fmt(want)}, got {_fmt(got)} at {at} (relative error {error:.2g}, allowed {tol:.0e})")


def _numerical_gradient(f: Callable, x: np.ndarray, h: float) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp = x.copy()
        xm = x.copy()
        xp[i] += h
        xm[i] -= h
        fp = _scalar(call(f, xp))
        fm = _scalar(call(f, xm))
        grad[i] = (fp - fm) / (2 * h)
    return grad


def _scalar(value) -> float:
    array = _as_array(value, "a perturbed point")
    if array.size != 1:
        raise Wrong(f"the function should return one number, but it returned shape {array.shape}")
    return float(array.reshape(()))


def gradient_check(
    f: Callable, grad: Callable, x, tol: float = SMOOTH, h: float = 1e-5, at: str | None = None, hints=()
) -> float:
    """Compare grad(x) with the central differences of the scalar function f at x, in float64:

        ∂f/∂xᵢ ≈ (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h      (error O(h²) from the Taylor series, plus rounding ~ ε·|f|/h)

    Elements are compared by relative error, with a floor of 1e-4·max|numerical gradient| under the
    denominator so that components which are zero up to rounding noise do not fail. Both f and grad may be
    the learner's (they are called through `call`). Raises Wrong when the error exceeds tol; returns it."""
    x = np.array(x, dtype=np.float64)
    where = at or (f"x = {float(x):.4g}" if x.ndim == 0 else f"the point of shape {x.shape}")
    analytic = _as_array(call(grad, x.copy()), where)
    numeric = _numerical_gradient(f, x, h)
    note_point(where)
    if analytic.shape != numeric.shape:
        hint = _hint_for(analytic, numeric, hints, where)
        raise Wrong(hint or f"your gradient has shape {analytic.shape}, the parameter {numeric.shape} (at {where})")
    if not np.all(np.isfinite(analytic)):
        raise Wrong(f"your gradient contains NaN or inf at {where}")
    floor = max(1e-12, 1e-4 * float(np.max(np.abs(numeric), initial=0.0)))
    error = relative_error(analytic, numeric, floor=floor)
    if error <= tol:
        return error
    hint = _hint_for(analytic, numeric, hints, where)
    if hint:
        raise Wrong(hint)
    worst = np.unravel_index(np.argmax(np.abs(analytic - numeric)), analytic.shape) if analytic.ndim else ()
    place = f" (worst at index {tuple(int(i) for i in worst)})" if worst else ""
    raise Wrong(
        f"your gradient disagrees with central differences at {where}{place}: relative error {error:.2g}, "
        f"allowed {tol:.0e}; expected {_fmt(numeric)}, got {_fmt(analytic)}"
    )


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and relative_error(a, b) <= _SAME


def off_by_factor(k: float) -> Callable[[np.ndarray, np.ndarray], bool]:
    """A predicate: got ≈ k·want (and not ≈ want), e.g. a forgotten factor 2 from the power rule."""

    def predicate(got, want) -> bool:
        got, want = np.asarray(got, float), np.asarray(want, float)
        return _close(got, k * want) and not _close(got, want)

    predicate.__name__ = f"off_by_factor({k:g})"
    return predicate


def sign_flipped(got, want) -> bool:
    """A predicate: got ≈ −want (and want ≠ 0), e.g. a gradient step taken uphill."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    return _close(got, -want) and not _close(got, want)


def transposed(got, want) -> bool:
    """A predicate: got ≈ wantᵀ (and not ≈ want), e.g. X·g where Xᵀ·g was needed."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    return want.ndim >= 2 and _close(got.T, want) and not _close(got, want)


def off_by_constant(got, want) -> bool:
    """A predicate: got − want is the same nonzero constant in every element (a missing +C, a bias term).

    Needs an array of two or more elements: for one number every wrong answer is off by a constant, so the
    predicate says False (grade such answers at several points, as one array, to use it)."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    if got.shape != want.shape or got.size < 2:
        return False
    diff = (got - want).ravel()
    scale = max(float(np.max(np.abs(want))), 1e-12)
    return abs(diff[0]) > _SAME * scale and float(np.max(np.abs(diff - diff[0]))) <= _SAME * scale

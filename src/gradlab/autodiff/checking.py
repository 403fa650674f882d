"""Finite differences, and `gradcheck`: the engine's gradients compared with them.

Three ways to estimate f'(x) from values of f alone:
    forward   (f(x + h) - f(x)) / h             error O(h) + rounding O(ε/h):  best h ≈ sqrt(ε) ≈ 1.5e-8
    central   (f(x + h) - f(x - h)) / (2h)      error O(h²) + rounding O(ε/h): best h ≈ ε^(1/3) ≈ 6e-6
    complex   Im f(x + ih) / h                  error O(h²), no subtraction, so h can be tiny (1e-20)
(ε = 2.2e-16, float64's machine epsilon; steps are scaled by max(1, |x|).) The complex step needs
f to be analytic and written with ops that accept complex numbers (no abs, max, comparisons).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gradients import gradients
from .modes import enable_grad
from .tensor import Tensor

__all__ = ["GradcheckError", "GradcheckResult", "gradcheck", "numerical_derivative", "numerical_gradient"]

_EPS = np.finfo(np.float64).eps
_DEFAULT_STEP = {"forward": np.sqrt(_EPS), "central": _EPS ** (1 / 3), "complex": 1e-20}


def _number(value):
    """A function's output as a plain Python number (real or complex)."""
    if isinstance(value, Tensor):
        value = value.data
    array = np.asarray(value)
    if array.size != 1:
        raise ValueError(f"the function must return a single number, it returned shape {array.shape}")
    return array.reshape(()).item()


def _step(method: str, x, h):
    if method not in _DEFAULT_STEP:
        raise ValueError(f"method must be 'forward', 'central' or 'complex', got {method!r}")
    if h is not None:
        if not h > 0:
            raise ValueError(f"the step h must be positive, got {h}")
        return h
    return _DEFAULT_STEP[method] * max(1.0, abs(x)) if method != "complex" else _DEFAULT_STEP[method]


def numerical_derivative(f, x: float, h: float | None = None, method: str = "central") -> float:
    """Estimate f'(x) for a function of one number by finite differences (see the module docstring)."""
    x = float(x)
    h = _step(method, x, h)
    if method == "forward":
        return (_number(f(x + h)) - _number(f(x))) / h
    if method == "central":
        return (_number(f(x + h)) - _number(f(x - h))) / (2 * h)
    return complex(_number(f(complex(x, h)))).imag / h


def numerical_gradient(f, x, h: float | None = None, method: str = "central") -> np.ndarray:
    """Estimate ∇f(x) for f: array -> number, one coordinate at a time (2n evaluations for central)."""
    x = np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat = grad.reshape(-1)
    for i in range(x.size):

        def along(t, i=i):
            point = x.astype(type(t) if isinstance(t, complex) else np.float64, copy=True)
            point.reshape(-1)[i] = t
            return f(point)

        flat[i] = numerical_derivative(along, x.reshape(-1)[i], h, method)
    return grad


class GradcheckError(AssertionError):
    """The engine's derivative disagrees with finite differences."""


@dataclass
class GradcheckResult:
    """Outcome of `gradcheck`: the worst element over all inputs, modes and orders checked."""

    ok: bool
    max_abs_error: float
    max_rel_error: float
    worst_input: int
    worst_index: tuple
    analytic: float
    numerical: float
    mode: str = "rev"
    order: int = 1

    def __bool__(self):
        return self.ok

    def __str__(self):
        status = "passed" if self.ok else "FAILED"
        what = "first" if self.order == 1 else "second"
        return (
            f"gradcheck {status}: worst element ({what} derivative, {self.mode} mode) is input "
            f"{self.worst_input} at index {self.worst_index}: engine {self.analytic:.10g}, finite "
            f"differences {self.numerical:.10g} (abs error {self.max_abs_error:.3g}, "
            f"rel error {self.max_rel_error:.3g})"
        )


def gradcheck(
    f,
    *inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    modes=("rev",),
    order: int = 1,
    raise_exception: bool = True,
) -> GradcheckResult:
    """Compare the engine's derivatives of f with central differences, in float64.

    f maps Tensors to a Tensor of any shape. A fixed random vector r turns it into the scalar
    s(x) = Σ r · f(x). For every element k of every input, the engine's ∂s/∂x_k must match
    (s(x + eps·e_k) - s(x - eps·e_k)) / (2 eps) within |engine - numerical| <= atol + rtol·|numerical|.
    modes: "rev" takes ∂s/∂x from one backward pass with gradient r; "fwd" from one forward-mode
    pass per element, ⟨r, J e_k⟩. order=2 also checks the second derivative: the same test
    applied to the engine's first derivative x ↦ ∂s/∂x (so its derivative is reverse-over-reverse
    in "rev" mode and forward-over-reverse in "fwd" mode).
    """
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order}")
    unknown = set(modes) - {"rev", "fwd"}
    if unknown or not modes:
        raise ValueError(f"modes must be a non-empty selection of 'rev' and 'fwd', got {modes!r}")
    arrays = [np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64) for x in inputs]
    r = _projection(f, arrays, seed)
    checks = [_check(f, arrays, r, mode, eps, atol, rtol, order=1) for mode in modes]
    if order == 2:
        first = _first_derivative(f, r)
        r2 = _projection(first, arrays, seed + 1)
        checks += [_check(first, arrays, r2, mode, eps, atol, rtol, order=2) for mode in modes]
    worst = max(checks, key=lambda c: c[0])
    result = worst[1]
    result.ok = all(c[0] <= 1.0 for c in checks)
    if not result.ok and raise_exception:
        raise GradcheckError(str(result))
    return result


def _evaluate(f, arrays) -> np.ndarray:
    result = f(*[Tensor(a) for a in arrays])
    return result.data if isinstance(result, Tensor) else np.asarray(result)


def _projection(f, arrays, seed: int) -> np.ndarray:
    """The fixed random weights r that turn f's output into one number Σ r · f(x)."""
    return np.random.default_rng(seed).standard_normal(_evaluate(f, arrays).shape)


def _first_derivative(f, r):
    """x ↦ ∂/∂x Σ r · f(x) computed by the engine, all inputs' gradients joined in one vector."""
    from .functional import grad
    from .ops.reduction import sum as total
    from .ops.shape import concatenate, reshape

    def first(*xs):
        grads = grad(lambda *ys: total(f(*ys) * r), argnums=tuple(range(len(xs))))(*xs)
        return concatenate([reshape(g, (-1,)) for g in grads])

    return first


def _engine_derivatives(f, arrays, r, mode):
    """∂/∂x Σ r · f(x) for every input, by the engine in the given mode."""
    if mode == "rev":
        leaves = [Tensor(a, requires_grad=True) for a in arrays]
        with enable_grad():
            out = f(*leaves)
        out = out if isinstance(out, Tensor) else Tensor(out)
        if not out.requires_grad:
            return [np.zeros_like(a) for a in arrays]
        return gradients(out, leaves, gradient=r)
    from .functional import jvp

    found = [np.zeros_like(a) for a in arrays]
    zeros = tuple(np.zeros_like(a) for a in arrays)
    for i, a in enumerate(arrays):
        for k in np.ndindex(a.shape):
            tangents = list(zeros)
            tangents[i] = np.zeros_like(a)
            tangents[i][k] = 1.0
            _, derivative = jvp(f, tuple(arrays), tuple(tangents))
            found[i][k] = np.sum(r * np.asarray(derivative.data if isinstance(derivative, Tensor) else derivative))
    return found


def _check(f, arrays, r, mode, eps, atol, rtol, order):
    """(badness, result) of one mode at one order; badness > 1 means outside the tolerance."""
    analytic = _engine_derivatives(f, arrays, r, mode)
    worst = (0.0, GradcheckResult(True, 0.0, 0.0, -1, (), 0.0, 0.0, mode, order))
    for i, a in enumerate(arrays):
        for k in np.ndindex(a.shape):
            plus = [v.copy() for v in arrays]
            minus = [v.copy() for v in arrays]
            plus[i][k] += eps
            minus[i][k] -= eps
            numerical = float(np.sum(r * _evaluate(f, plus)) - np.sum(r * _evaluate(f, minus))) / (2 * eps)
            engine = float(analytic[i][k])
            abs_error = abs(engine - numerical)
            badness = abs_error / (atol + rtol * abs(numerical))
            if badness >= worst[0]:
                rel_error = abs_error / max(abs(engine), abs(numerical), 1e-300)
                worst = (
                    badness,
                    GradcheckResult(badness <= 1.0, abs_error, rel_error, i, k, engine, numerical, mode, order),
                )
    return worst

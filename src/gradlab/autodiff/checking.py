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

from .tensor import Tensor, enable_grad

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
    """The engine's gradient disagrees with finite differences."""


@dataclass
class GradcheckResult:
    """Outcome of `gradcheck`: the worst element over all inputs, and whether all were close."""

    ok: bool
    max_abs_error: float
    max_rel_error: float
    worst_input: int
    worst_index: tuple
    analytic: float
    numerical: float

    def __bool__(self):
        return self.ok

    def __str__(self):
        status = "passed" if self.ok else "FAILED"
        return (
            f"gradcheck {status}: worst element is input {self.worst_input} at index {self.worst_index}: "
            f"engine {self.analytic:.10g}, finite differences {self.numerical:.10g} "
            f"(abs error {self.max_abs_error:.3g}, rel error {self.max_rel_error:.3g})"
        )


def gradcheck(
    f, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0, raise_exception: bool = True
) -> GradcheckResult:
    """Compare the engine's gradient of f with central differences, in float64.

    f maps Tensors to a Tensor of any shape. A fixed random vector r turns it into the scalar
    s(x) = Σ r · f(x); the engine's ∂s/∂x (one backward pass with gradient r) must match
    (s(x + eps·e_k) - s(x - eps·e_k)) / (2 eps) for every element k of every input, within
    |engine - numerical| <= atol + rtol · |numerical|.
    """
    arrays = [np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64) for x in inputs]
    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    with enable_grad():
        out = f(*leaves)
    out = out if isinstance(out, Tensor) else Tensor(out)
    r = np.random.default_rng(seed).standard_normal(out.shape)
    if out.requires_grad:
        out.backward(gradient=r)
    analytic = [leaf.grad if leaf.grad is not None else np.zeros_like(leaf.data) for leaf in leaves]

    def projected(values) -> float:
        result = f(*[Tensor(v) for v in values])
        data = result.data if isinstance(result, Tensor) else np.asarray(result)
        return float(np.sum(r * data))

    worst = None
    for i, a in enumerate(arrays):
        for k in np.ndindex(a.shape):
            plus = [v.copy() for v in arrays]
            minus = [v.copy() for v in arrays]
            plus[i][k] += eps
            minus[i][k] -= eps
            numerical = (projected(plus) - projected(minus)) / (2 * eps)
            engine = float(analytic[i][k])
            abs_error = abs(engine - numerical)
            badness = abs_error / (atol + rtol * abs(numerical))
            if worst is None or badness > worst[0]:
                worst = (badness, i, k, engine, numerical, abs_error)
    if worst is None:
        return GradcheckResult(True, 0.0, 0.0, -1, (), 0.0, 0.0)
    badness, i, k, engine, numerical, abs_error = worst
    rel_error = abs_error / max(abs(engine), abs(numerical), 1e-300)
    result = GradcheckResult(badness <= 1.0, abs_error, rel_error, i, k, engine, numerical)
    if not result.ok and raise_exception:
        raise GradcheckError(str(result))
    return result

"""Derivatives of plain Python functions: exact (by the engine) and by finite differences.

derivative(f)(x)            f'(x), exact, from the engine's reverse mode (order=2: f''(x))
numerical_derivative(...)   f'(x) from values of f only: forward, central or complex step
step_size_study(f, x)       how the error of each finite difference depends on the step h
partial(f, i)(*args)        ∂f/∂(argument i)
gradient(f)(*args)          ∇f, all partial derivatives as one vector
directional_derivative      ∇f · v/‖v‖: the slope when walking in direction v
tangent_line(f, x0)         the line y = f(x0) + f'(x0)(x - x0) that touches f at x0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..autodiff import grad, jvp
from ..autodiff.checking import numerical_derivative

__all__ = [
    "StepStudy",
    "TangentLine",
    "derivative",
    "directional_derivative",
    "gradient",
    "numerical_derivative",
    "partial",
    "step_size_study",
    "tangent_line",
]


def derivative(f, order: int = 1):
    """Return x ↦ dⁿf/dxⁿ (x), exact up to rounding: the engine applies the chain rule, no step h."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"order must be a positive whole number, got {order!r}")
    result = f
    for _ in range(order):
        result = grad(result)
    return result


def partial(f, argnum: int):
    """Return (*args) ↦ ∂f/∂args[argnum]: the slope along one argument, the others held fixed."""
    return grad(f, argnums=argnum)


def gradient(f):
    """Return (*args) ↦ ∇f as a NumPy vector.

    For f of several numbers, ∇f = [∂f/∂x, ∂f/∂y, ...]; for f of one array, ∇f has its shape.
    Example: f(x, y) = x²y + 3xy² has ∇f(2, 3) = [2xy + 3y², x² + 6xy] = [39, 40].
    """

    def gradient_f(*args):
        if len(args) == 1:
            return np.asarray(grad(f)(args[0]), dtype=np.float64)
        return np.array([float(g) for g in grad(f, argnums=tuple(range(len(args))))(*args)])

    return gradient_f


def directional_derivative(f, x, direction, normalize: bool = True) -> float:
    """∇f(x) · v / ‖v‖ (the unit-speed slope of f along v), from one forward-mode pass.

    With normalize=False it is ∇f(x) · v.
    """
    x = np.asarray(x, dtype=np.float64)
    v = np.asarray(direction, dtype=np.float64)
    if v.shape != x.shape:
        raise ValueError(f"the direction has shape {v.shape} but the point has shape {x.shape}")
    length = float(np.linalg.norm(v))
    if normalize:
        if length == 0:
            raise ValueError("the direction is the zero vector; it has no unit direction")
        v = v / length
    return float(np.asarray(jvp(f, (x,), (v,))[1]))


@dataclass(frozen=True)
class TangentLine:
    """y = y0 + slope · (x - x0): the straight line touching f at x0."""

    x0: float
    y0: float
    slope: float

    @property
    def intercept(self) -> float:
        return self.y0 - self.slope * self.x0

    def __call__(self, x):
        return self.y0 + self.slope * (np.asarray(x, dtype=np.float64) - self.x0)

    def __str__(self):
        return f"y = {self.slope:.6g}·x + {self.intercept:.6g}  (touching at x = {self.x0:.6g})"


def tangent_line(f, x0: float) -> TangentLine:
    """The tangent of f at x0, with the slope from the engine."""
    x0 = float(x0)
    y0 = float(np.asarray(getattr(f(x0), "data", f(x0))))
    return TangentLine(x0, y0, float(grad(f)(x0)))


@dataclass
class StepStudy:
    """Errors of finite differences over a range of steps h, for each method.

    errors[method][i] is |estimate - exact| at step steps[i]; best[method] is the step with the
    smallest error. Forward differences have truncation error ~h and rounding error ~ε/h, so
    their best h is near sqrt(ε) ≈ 1e-8; central differences ~h² and ~ε/h, best near ε^(1/3) ≈
    1e-5; the complex step has no subtraction, so its error keeps falling as h shrinks.
    """

    steps: np.ndarray
    errors: dict
    best: dict
    exact: float

    def table(self) -> str:
        methods = list(self.errors)
        lines = ["h          " + "".join(f"{m:>14}" for m in methods)]
        for i, h in enumerate(self.steps):
            lines.append(f"{h:<10.1e} " + "".join(f"{self.errors[m][i]:>14.3e}" for m in methods))
        lines.append("best h     " + "".join(f"{self.best[m]:>14.1e}" for m in methods))
        return "\n".join(lines)

    def plot(self, path=None):
        """Error against step size on log-log axes, one line per method (matplotlib); saved if path is given."""
        from ..plotting import finish, new_figure

        figure, axes = new_figure(path, figsize=(7, 4.5))
        for method, errors in self.errors.items():
            shown = np.where(errors > 0, errors, np.nan)
            axes.loglog(
                self.steps, shown, marker="o", markersize=3, label=f"{method} (best h = {self.best[method]:.0e})"
            )
        axes.set_xlabel("step h")
        axes.set_ylabel("|estimate - exact|")
        axes.set_title("Finite differences: truncation error (right) against rounding error (left)")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
        return finish(figure, path)


def step_size_study(f, x: float, exact: float | None = None, steps=None, methods=("forward", "central", "complex")):
    """Measure how the error of each finite-difference method depends on the step h.

    `exact` defaults to the engine's derivative. Returns a StepStudy (see its docstring).
    """
    x = float(x)
    exact = float(grad(f)(x)) if exact is None else float(exact)
    steps = np.logspace(-16, -1, 31) if steps is None else np.asarray(steps, dtype=np.float64)
    errors, best = {}, {}
    for method in methods:
        found = []
        for h in steps:
            try:
                with np.errstate(all="ignore"):
                    found.append(abs(numerical_derivative(f, x, h=float(h), method=method) - exact))
            except (TypeError, ValueError):
                found.append(np.nan)
        errors[method] = np.array(found)
        finite = np.where(np.isfinite(errors[method]), errors[method], np.inf)
        best[method] = float(steps[int(np.argmin(finite))])
    return StepStudy(steps, errors, best, exact)

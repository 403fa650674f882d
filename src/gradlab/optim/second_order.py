"""Second-order methods: steps that use curvature, not just slope.

Newton's method models f near x by its second-order Taylor expansion
    f(x + d) ≈ f(x) + ∇f(x)ᵀ d + ½ dᵀ H(x) d,
whose minimum is at d = -H⁻¹ ∇f. Near a minimum with H positive definite the error squares at
every step (quadratic convergence); far from it the model can mislead, so each step is cut back
until f drops enough (a backtracking line search), and where H is not positive definite (a
saddle, or the wrong side of a hill) it is shifted by μI until it is, which bends the step
towards plain gradient descent (the Levenberg idea).

Gauss–Newton minimises a sum of squares ½‖r(x)‖². With J the Jacobian of the residuals r, the
Hessian JᵀJ + Σ r_i ∇²r_i is approximated by JᵀJ: no second derivatives are needed, and the step
solves the linear least-squares problem J d ≈ -r.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..autodiff import hessian, jacfwd, value_and_grad

__all__ = ["OptimizeResult", "gauss_newton", "newton"]


@dataclass
class OptimizeResult:
    """Where a method ended, and the whole path it took there."""

    x: np.ndarray
    value: float
    steps: int
    converged: bool
    message: str
    path: list = field(default_factory=list)  # x after every step, starting with x0
    values: list = field(default_factory=list)  # f (or ½‖r‖²) at each point of the path
    grad_norms: list = field(default_factory=list)  # ‖∇f‖ at each point of the path
    shifts: list = field(default_factory=list)  # μ added to the Hessian at each step (0: none)


def _positive_definite_direction(h: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, float]:
    """d solving (H + μI) d = -g with the smallest μ ≥ 0 (from a short ladder) that makes H + μI
    positive definite, tested by a Cholesky factorisation."""
    n = len(g)
    scale = max(1.0, float(np.abs(h).max()))
    shift = 0.0
    for _ in range(60):
        try:
            factor = np.linalg.cholesky(h + shift * np.eye(n))
        except np.linalg.LinAlgError:
            shift = max(2 * shift, 1e-8 * scale)
            continue
        return -np.linalg.solve(factor.T, np.linalg.solve(factor, g)), shift
    raise RuntimeError("newton: could not make the Hessian positive definite (it has NaN or Inf entries?)")


def _backtrack(f, x, value, g, d, shrink=0.5, sufficient=1e-4, max_halvings=60) -> float:
    """The largest t in 1, ½, ¼, … with f(x + t d) ≤ f(x) + c·t·∇fᵀd (the Armijo condition)."""
    slope = float(g @ d)
    t = 1.0
    for _ in range(max_halvings):
        trial = float(f(x + t * d))
        if np.isfinite(trial) and trial <= value + sufficient * t * slope:
            return t
        t *= shrink
    return t


def _note_point(result: OptimizeResult, x, value: float, g, step: int, max_steps: int, tol: float) -> bool:
    """Add the point to the path and tell whether to stop there (and why, in result.message)."""
    result.path.append(x.copy())
    result.values.append(value)
    result.grad_norms.append(float(np.linalg.norm(g)))
    if not np.isfinite(value) or not np.all(np.isfinite(g)):
        result.message = f"the objective or its gradient is not finite at step {step}"
        return True
    if result.grad_norms[-1] <= tol:
        result.converged, result.message = True, f"gradient norm {result.grad_norms[-1]:.2e} <= tol {tol}"
        return True
    if step == max_steps:
        result.message = f"stopped after max_steps={max_steps} with gradient norm {result.grad_norms[-1]:.2e}"
        return True
    return False


def _as_float(value) -> float:
    return float(np.asarray(value.data if hasattr(value, "data") else value))


def newton(f, x0, tol: float = 1e-10, max_steps: int = 100, line_search: bool = True) -> OptimizeResult:
    """Minimise f: Rⁿ → R by Newton's method, x ← x - t (H + μI)⁻¹ ∇f(x).

    Gradients and Hessians come from the engine (reverse mode, and forward-over-reverse).
    Stops when ‖∇f‖ ≤ tol. With line_search=False every step is the full Newton step (t = 1).
    """
    x = np.array(x0, dtype=np.float64).reshape(-1)
    objective = lambda z: _as_float(f(z))  # noqa: E731
    value_grad = value_and_grad(f)
    curvature = hessian(f)
    result = OptimizeResult(x, np.inf, 0, False, "")
    for step in range(max_steps + 1):
        value, g = value_grad(x)
        value, g = float(value), np.asarray(g, dtype=np.float64).reshape(-1)
        if _note_point(result, x, value, g, step, max_steps, tol):
            break
        h = np.asarray(curvature(x), dtype=np.float64).reshape(len(x), len(x))
        d, shift = _positive_definite_direction(h, g)
        result.shifts.append(shift)
        t = _backtrack(objective, x, value, g, d) if line_search else 1.0
        x = x + t * d
        result.steps = step + 1
    result.x, result.value = result.path[-1], result.values[-1]
    return result


def gauss_newton(residuals, x0, tol: float = 1e-10, max_steps: int = 100) -> OptimizeResult:
    """Minimise ½‖r(x)‖² for a residual function r: Rⁿ → Rᵐ by Gauss–Newton steps.

    Each step solves J d ≈ -r in the least-squares sense (J = ∂r/∂x from the engine's forward
    mode), then backtracks until ½‖r‖² drops. Stops when ‖Jᵀr‖ (the gradient) ≤ tol.
    """
    x = np.array(x0, dtype=np.float64).reshape(-1)

    def r_of(z):
        out = residuals(z)
        return np.asarray(out.data if hasattr(out, "data") else out, dtype=np.float64).reshape(-1)

    jac = jacfwd(residuals)
    half_square = lambda z: 0.5 * float(r_of(z) @ r_of(z))  # noqa: E731
    result = OptimizeResult(x, np.inf, 0, False, "")
    for step in range(max_steps + 1):
        r = r_of(x)
        j = np.asarray(jac(x), dtype=np.float64).reshape(len(r), len(x))
        g = j.T @ r
        value = 0.5 * float(r @ r)
        if _note_point(result, x, value, g, step, max_steps, tol):
            break
        d = np.linalg.lstsq(j, -r, rcond=None)[0]
        t = _backtrack(half_square, x, value, g, d)
        x = x + t * d
        result.steps = step + 1
    result.x, result.value = result.path[-1], result.values[-1]
    return result

"""Checkers for lesson 7, going deeper: a Jacobian, a Hessian and Newton's step, each written by hand.

    deeper.jacobian      J(x) of f(x) = (x₀²·x₁, sin(x₀·x₁), x₀·e^(x₁)), a 3 × 2 matrix, J[i, j] = ∂fᵢ/∂xⱼ
    deeper.hessian_2x2   H(x, y) of f(x, y) = x³·y + sin(y), H[i, j] = ∂²f/∂xᵢ∂xⱼ
    deeper.newton_step   x − H⁻¹·∇f, the step that lands on the minimum of a quadratic in one go

The answers are compared with the engine's own (gl.jacfwd, gl.hessian) at points the learner did not choose.
"""

from __future__ import annotations

import numpy as np

import gradlab as gl

from . import grading
from .common import as_array
from .core import Wrong, exercise

__all__ = ["example_function", "quadratic_bowl"]


def example_function(x):
    """f(x) = (x₀²·x₁, sin(x₀·x₁), x₀·e^(x₁)): R² → R³, so its Jacobian is 3 × 2."""
    return gl.stack([x[0] ** 2 * x[1], gl.sin(x[0] * x[1]), x[0] * gl.exp(x[1])])


def _close(a, b, tol=1e-9) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and grading.relative_error(a, b) <= tol


def _expect_matrix(got, want, at: str, *hints) -> None:
    """A Jacobian or Hessian against the engine's: the hint for every entry's sign flipped first, then `hints`."""
    grading.expect_close(
        got, want, at=at, hints=[(grading.sign_flipped, "every entry has the wrong sign at {at}"), *hints]
    )


def _at(x) -> str:
    return "x = (" + ", ".join(f"{v:.3g}" for v in np.ravel(x)) + ")"


def _array(value, at: str) -> np.ndarray:
    return as_array(value, f"your answer at {at} is a {{type}}, not an array of numbers")


@exercise("deeper.jacobian")
def _jacobian(fn):
    jac = gl.jacfwd(example_function)
    for x in grading.points(seed=7, n=5, low=-1.5, high=1.5, shape=(2,)):
        at = _at(x)
        got = _array(grading.call(fn, x.copy()), at)
        want = np.asarray(jac(x), dtype=np.float64)
        if got.shape == (2, 3):
            raise Wrong(
                "your Jacobian is (2, 3), expected (3, 2): rows are outputs, columns are inputs, "
                "J[i, j] = ∂fᵢ/∂xⱼ (transpose it)"
            )
        if got.shape == (3, 2):
            no_inner = want.copy()
            no_inner[1] = np.cos(x[0] * x[1])
            if _close(got[1], no_inner[1]) and not _close(got[1], want[1]):
                raise Wrong(
                    f"row 2 (f₂ = sin(x₀·x₁)) is missing the inner derivative at {at}: "
                    "∂/∂x₀ sin(x₀·x₁) = x₁·cos(x₀·x₁), and ∂/∂x₁ = x₀·cos(x₀·x₁)"
                )
            half = want.copy()
            half[0, 0] = x[0] * x[1]
            if _close(got[0, 0], half[0, 0]) and not _close(got[0, 0], want[0, 0]):
                raise Wrong(f"J[0, 0] = ∂(x₀²·x₁)/∂x₀ is off by a factor 2 at {at}: the power rule gives 2·x₀·x₁")
        _expect_matrix(got, want, at, (lambda got, want: got.shape == want.shape, _name_entry))


def _name_entry(got, want) -> str:
    """Name the first wrong entry of a Jacobian of the right shape."""
    bad = np.abs(got - want) > 1e-7 * np.maximum(np.maximum(np.abs(got), np.abs(want)), 1e-12)
    i, j = (int(k) for k in np.argwhere(bad)[0])
    names = ["x₀²·x₁", "sin(x₀·x₁)", "x₀·e^(x₁)"]
    return (
        f"J[{i}, {j}] = ∂f{i + 1}/∂x{j} (f{i + 1} = {names[i]}) is wrong at {{at}}: "
        f"expected {want[i, j]:.6g}, got {got[i, j]:.6g}"
    )


def _hessian_function(v):
    return v[0] ** 3 * v[1] + gl.sin(v[1])


@exercise("deeper.hessian_2x2")
def _hessian(fn):
    hess = gl.hessian(_hessian_function)
    for x, y in grading.points(seed=70, n=5, low=-2, high=2, shape=(2,)):
        at = f"(x, y) = ({x:.3g}, {y:.3g})"
        got = _array(grading.call(fn, x, y), at)
        want = np.asarray(hess(np.array([x, y])), dtype=np.float64)
        if got.shape == (2,):
            raise Wrong(
                "your answer has shape (2,): that is the shape of the gradient; the Hessian is the 2 × 2 matrix "
                "H[i, j] = ∂²f/∂xᵢ∂xⱼ"
            )
        if got.shape == (2, 2):
            if _close(got[0, 1], 0.0, tol=0) and _close(got[1, 0], 0.0, tol=0) and not _close(want[0, 1], 0.0):
                raise Wrong(
                    f"your off-diagonal entries are 0 at {at}, but ∂²f/∂x∂y = 3x² is not: differentiate "
                    "∂f/∂x = 3x²·y once more, with respect to y"
                )
            if not _close(got[0, 1], got[1, 0]):
                raise Wrong(
                    f"your matrix is not symmetric at {at}: for a smooth f the mixed partials agree, "
                    "∂²f/∂x∂y = ∂²f/∂y∂x"
                )
        _expect_matrix(
            got,
            want,
            at,
            (lambda g, w, y=y: _close(g[1, 1], np.cos(y)), "H[1, 1] = ∂²/∂y² sin(y) is −sin(y), not cos(y) (at {at})"),
            (
                lambda g, w, x=x, y=y: _close(g[0, 0], 3 * x * y),
                "H[0, 0] is off by a factor 2 at {at}: ∂/∂x (3x²·y) = 6x·y",
            ),
        )


def quadratic_bowl(n: int, seed: int):
    """A random quadratic f(x) = ½ xᵀA x − bᵀx with A symmetric positive definite: returns (f, A, b)."""
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n, n))
    a = m @ m.T + n * np.eye(n)
    b = rng.normal(size=n)
    return (lambda x: 0.5 * x @ (a @ x) - b @ x), a, b


@exercise("deeper.newton_step")
def _newton_step(fn):
    for trial in range(4):
        _, a, b = quadratic_bowl(3, seed=700 + trial)
        x = grading.points(seed=71 + trial, n=1, low=-3, high=3, shape=(3,))[0]
        g = a @ x - b
        at = f"the quadratic bowl #{trial + 1}, starting at {_at(x)}"
        got = _array(grading.call(fn, x.copy(), g.copy(), a.copy()), at)
        step = np.linalg.solve(a, g)
        want = x - step
        grading.expect_close(
            got,
            want,
            at=at,
            tol=1e-9,
            hints=[
                (
                    lambda got, want, x=x, a=a, g=g: _close(got, x - a @ g),
                    "you multiplied the gradient by H; Newton divides by the curvature: "
                    "solve H·d = ∇f (np.linalg.solve(H, g)) and step x − d",
                ),
                (
                    lambda got, want, x=x, s=step: _close(got, x + s),
                    "you stepped uphill: the step is x − H⁻¹·∇f",
                ),
                (
                    lambda got, want, x=x, g=g: _close(got, x - g),
                    "that is a gradient step with learning rate 1: Newton scales the gradient by H⁻¹",
                ),
                (
                    lambda got, want, s=step: _close(got, -s) or _close(got, s),
                    "you returned the step H⁻¹·∇f itself; return the new point x − H⁻¹·∇f",
                ),
            ],
        )
        if not np.allclose(a @ got, b, rtol=1e-8, atol=1e-10):  # pragma: no cover - implied by the value test
            raise Wrong("your step does not land on the minimum of the quadratic")
    return "one step lands on the minimum of each of 4 quadratic bowls (∇f = 0 there)"

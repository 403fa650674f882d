"""Checkers for lesson 2, gradients ("which way is downhill?").

The tutorial's function f(x, y) = x²y + 3xy² (f(2, 3) = 66, ∇f(2, 3) = [39, 40]) and project 2's profit
    profit(p, s) = (p − c)(a − b·p + k·ln(1 + s)) − s.

    gradients.partial_x                 ∂f/∂x = 2xy + 3y²
    gradients.gradient                  ∇f = [2xy + 3y², x² + 6xy], shape (2,)
    gradients.directional_derivative    D_v f = ∇f · v/‖v‖
    gradients.profit_gradient           [∂profit/∂p, ∂profit/∂s]
"""

from __future__ import annotations

import numpy as np

from .. import autodiff as gl
from . import grading
from .common import mistake
from .core import Wrong, exercise


def f(x, y):
    """The tutorial's f(x, y) = x²y + 3xy²."""
    return x**2 * y + 3 * x * y**2


def _points(seed, n=4):
    """(2, 3) first, the tutorial's point, then seeded points the learner did not choose."""
    return [np.array([2.0, 3.0]), *grading.points(seed=seed, n=n, low=-3, high=3, shape=(2,))]


@exercise("gradients.partial_x")
def _partial_x(fn):
    for x, y in _points(21):
        got = grading.call(fn, x, y)
        want = 2 * x * y + 3 * y**2
        grading.expect_close(
            got,
            want,
            at=f"(x, y) = ({x:.3g}, {y:.3g})",
            hints=[
                (mistake(x**2 + 6 * x * y), "that is ∂f/∂y: for ∂f/∂x differentiate in x and hold y fixed"),
                (
                    mistake(2 * x * y + 3 * y**2 + x**2 + 6 * x * y),
                    "you added ∂f/∂y as well: a partial derivative moves x only, y stays a constant",
                ),
                (
                    mistake(2 * x * y + 6 * x * y),
                    "3xy² in x gives 3y² (y² is a constant factor), not 6xy: you differentiated in y",
                ),
                (mistake(2 * x * y), "the term 3xy² is missing: in x it contributes 3y²"),
                (mistake(3 * y**2), "the term x²y is missing: in x it contributes 2xy"),
                (mistake(2 * x + 3 * y**2), "x²y differentiates in x to 2x·y: keep the constant factor y"),
            ],
        )
        grading.gradient_check(lambda x, y=y: f(x, y), lambda x, y=y: fn(x, y), x, at=f"(x, y) = ({x:.3g}, {y:.3g})")


@exercise("gradients.gradient")
def _gradient(fn):
    for x, y in _points(22):
        got = grading.call(fn, x, y)
        want = np.array([2 * x * y + 3 * y**2, x**2 + 6 * x * y])
        at = f"(x, y) = ({x:.3g}, {y:.3g})"
        grading.expect_close(
            got,
            want,
            at=at,
            hints=[
                (
                    lambda got, want: np.shape(got) in ((2, 1), (1, 2)),
                    lambda got, want: (
                        f"your gradient has shape {np.shape(got)}; return a flat vector of shape (2,), "
                        "np.array([df_dx, df_dy])"
                    ),
                ),
                (
                    lambda got, want: np.shape(got) == (),
                    "you returned one number: the gradient is a vector of both partial derivatives, shape (2,)",
                ),
                (
                    lambda got, want: grading.relative_error(np.asarray(got)[::-1], want) <= 1e-9,
                    "the components are in the wrong order: ∇f = [∂f/∂x, ∂f/∂y]",
                ),
                (
                    grading.sign_flipped,
                    "that is −∇f, the direction of steepest descent: the gradient itself points uphill",
                ),
                (
                    mistake([2 * x * y + 3 * y**2, x**2 + 3 * y**2]),
                    "∂f/∂y is wrong: x²y gives x² and 3xy² gives 6xy (differentiate in y, hold x fixed)",
                ),
            ],
        )
        grading.gradient_check(lambda p: f(p[0], p[1]), lambda p: fn(p[0], p[1]), np.array([x, y]), at=at)


def _tutorial(p):
    return f(p[0], p[1])


def _bowl(p):
    return gl.exp(0.3 * p[0]) * gl.cos(p[1]) + p[0] * p[1] ** 2


@exercise("gradients.directional_derivative")
def _directional(fn):
    from ..calculus import gradient

    rng = np.random.default_rng(23)
    for name, func in (("x²y + 3xy²", _tutorial), ("e^(0.3x)·cos y + xy²", _bowl)):
        grad = gradient(func)
        for _ in range(3):
            p = rng.uniform(-2, 2, size=2)
            v = rng.uniform(-3, 3, size=2)
            got = grading.call(fn, grad, p.copy(), v.copy())
            g = grad(p)
            want = float(g @ v / np.linalg.norm(v))
            at = f"f = {name}, point ({p[0]:.3g}, {p[1]:.3g}), v = ({v[0]:.3g}, {v[1]:.3g})"
            if np.shape(got) == (2,):
                raise Wrong(
                    f"you returned a vector (at {at}): the directional derivative is one number, the dot product "
                    "∇f · v/‖v‖ (np.dot, or @), not the elementwise product"
                )
            grading.expect_close(
                got,
                want,
                at=at,
                hints=[
                    (
                        mistake(g @ v),
                        "divide by ‖v‖: ∇f · v is the slope per step of length ‖v‖; v/‖v‖ makes it per unit step",
                    ),
                    (
                        mistake(g @ v / np.linalg.norm(v) ** 2),
                        "divide by ‖v‖ once, not by ‖v‖²: the unit vector is v/‖v‖",
                    ),
                    (
                        mistake(np.linalg.norm(g)),
                        "that is ‖∇f‖, the slope in the steepest direction; the slope along v is ∇f · v/‖v‖",
                    ),
                    (grading.sign_flipped, "the sign is flipped: walking along v, the slope is +∇f · v/‖v‖"),
                ],
            )


def _profit(z, a, b, k, c):
    p, s = z[0], z[1]
    return (p - c) * (a - b * p + k * gl.log(1 + s)) - s


@exercise("gradients.profit_gradient")
def _profit_gradient(fn):
    rng = np.random.default_rng(24)
    for _ in range(5):
        a, b, k = rng.uniform(60, 150), rng.uniform(1, 4), rng.uniform(2, 8)
        c = rng.uniform(0.1, 0.5) * a / b
        p, s = rng.uniform(c, a / b), rng.uniform(0, 200)
        got = grading.call(fn, p, s, a, b, k, c)
        q = a - b * p + k * np.log1p(s)
        dp, ds = q - b * (p - c), k * (p - c) / (1 + s) - 1
        want = np.array([dp, ds])
        at = f"p = {p:.4g}, s = {s:.4g} (a = {a:.4g}, b = {b:.3g}, k = {k:.3g}, c = {c:.4g})"
        grading.expect_close(
            got,
            want,
            at=at,
            hints=[
                (
                    mistake([dp, ds + 1]),
                    "∂profit/∂s is missing the − 1: each unit of advertising spend is paid for (the − s in profit)",
                ),
                (
                    mistake([dp, k * (p - c) - 1]),
                    "∂profit/∂s: d/ds ln(1 + s) = 1/(1 + s), the inner derivative of ln(1 + s) is missing",
                ),
                (
                    mistake([dp - k * np.log1p(s), ds]),
                    "∂profit/∂p lost the advertising term: the demand q = a − b·p + k·ln(1 + s) includes k·ln(1 + s)",
                ),
                (
                    mistake([q, ds]),
                    "∂profit/∂p needs the product rule: q + (p − c)·∂q/∂p = q − b·(p − c)",
                ),
                (
                    lambda got, want: grading.relative_error(np.asarray(got)[::-1], want) <= 1e-9,
                    "the components are in the wrong order: [∂profit/∂p, ∂profit/∂s]",
                ),
            ],
        )
        grading.gradient_check(
            lambda z, a=a, b=b, k=k, c=c: _profit(z, a, b, k, c),
            lambda z, a=a, b=b, k=k, c=c: fn(z[0], z[1], a, b, k, c),
            np.array([p, s]),
            at=at,
        )

"""Checkers for lesson 1, derivatives ("how fast is it changing?").

    derivatives.central_difference   f'(x) ≈ (f(x + h) − f(x − h)) / 2h
    derivatives.product_rule         d/dx [x²·sin x] = 2x·sin x + x²·cos x
    derivatives.chain_rule           d/dx sin(x²) = cos(x²)·2x
    derivatives.best_price           profit(p) = (p − c)(a − b·p) is largest at p* = (a/b + c)/2

Each checker grades at points the learner did not choose and recognises the typical wrong answers
(a forward difference, a missing term, a forgotten inner derivative, a dropped cost) by comparing
the answer with what that mistake would give.
"""

from __future__ import annotations

import numpy as np

from .. import autodiff as gl
from . import grading
from .core import Wrong, exercise


def _near(value):
    """A hint predicate: the answer equals `value` (what one particular mistake gives)."""
    value = np.asarray(value, dtype=np.float64)
    return lambda got, want: grading.relative_error(got, value) <= 1e-9 and grading.relative_error(got, want) > 1e-9


# f, f', a name: smooth test functions for the finite-difference exercise
_TEST_FUNCTIONS = (
    (np.sin, np.cos, "sin"),
    (np.exp, np.exp, "exp"),
    (lambda x: x**3 - 2 * x, lambda x: 3 * x**2 - 2, "x³ − 2x"),
)


_BOTH_SIDES = "step to both sides, x − h and x + h, and divide by the distance 2h"


@exercise("derivatives.central_difference")
def _central_difference(fn):
    xs = grading.points(seed=11, n=6, low=-2, high=2)
    for i, x in enumerate(xs):
        f, df, name = _TEST_FUNCTIONS[i % len(_TEST_FUNCTIONS)]
        h = (1e-2, 1e-3)[i % 2]
        got = grading.call(fn, f, x, h)
        want = (f(x + h) - f(x - h)) / (2 * h)
        forward = (f(x + h) - f(x)) / h
        backward = (f(x) - f(x - h)) / h
        exact = df(x)
        grading.expect_close(
            got,
            want,
            at=f"f = {name}, x = {x:.3g}, h = {h:g}",
            tol=1e-9,
            hints=[
                (_near(forward), "that is the forward difference (f(x + h) − f(x))/h: " + _BOTH_SIDES),
                (_near(backward), "that is the backward difference (f(x) − f(x − h))/h: " + _BOTH_SIDES),
                (
                    grading.off_by_factor(2),
                    "off by a factor 2: x − h and x + h are 2h apart, so divide by 2h, not h",
                ),
                (
                    grading.sign_flipped,
                    "the sign is flipped: it is f(x + h) − f(x − h), the value on the right minus the one on the left",
                ),
                (
                    lambda got, want, exact=exact: grading.relative_error(got, exact) < 1e-7,
                    "that is the exact derivative, not the central difference with the step h you were given: "
                    "use that h (the point here is to see the method's own error)",
                ),
            ],
        )


def _product(x):
    return x**2 * np.sin(x)


@exercise("derivatives.product_rule")
def _product_rule(fn):
    xs = grading.points(seed=12, n=5, low=-3, high=3)
    for x in xs:
        got = grading.call(fn, x)
        want = 2 * x * np.sin(x) + x**2 * np.cos(x)
        grading.expect_close(
            got,
            want,
            at=f"x = {x:.3g}",
            hints=[
                (
                    _near(2 * x * np.cos(x)),
                    "that is f′·g′ = 2x·cos x: the derivative of a product is f′·g + f·g′, not f′·g′",
                ),
                (_near(2 * x * np.sin(x)), "only the first term f′·g = 2x·sin x: add f·g′ = x²·cos x"),
                (_near(x**2 * np.cos(x)), "only the second term f·g′ = x²·cos x: add f′·g = 2x·sin x"),
                (
                    _near(2 * x * np.sin(x) - x**2 * np.cos(x)),
                    "the second term has the wrong sign: d/dx sin x = +cos x (it is cos whose derivative is −sin)",
                ),
                (grading.sign_flipped, "the sign is flipped: both terms of f′·g + f·g′ come with a plus"),
            ],
        )
    for x in xs[:3]:  # and against central differences of h(x) = x² sin x itself, in float64
        grading.gradient_check(_product, fn, x)


def _composite(x):
    return np.sin(x**2)


@exercise("derivatives.chain_rule")
def _chain_rule(fn):
    xs = grading.points(seed=13, n=5, low=-2, high=2)
    for x in xs:
        got = grading.call(fn, x)
        want = np.cos(x**2) * 2 * x
        grading.expect_close(
            got,
            want,
            at=f"x = {x:.3g}",
            hints=[
                (
                    _near(np.cos(x**2)),
                    lambda got, want: (
                        f"off by a factor {float(want / got):.3g} = 2x: did you forget the inner derivative? "
                        "d/dx sin(u) = cos(u)·du/dx with u = x², du/dx = 2x"
                    ),
                ),
                (
                    _near(np.cos(x) * 2 * x),
                    "the outer derivative belongs at the inner value: cos(x²)·2x, not cos(x)·2x",
                ),
                (
                    _near(np.cos(2 * x)),
                    "cos(2x) differentiates the inside and puts it inside: the chain rule multiplies, cos(x²)·2x",
                ),
                (
                    _near(2 * x * np.sin(x**2)),
                    "the outer function is still sin: its derivative is cos, so cos(x²)·2x",
                ),
                (grading.sign_flipped, "the sign is flipped: d/du sin u = +cos u"),
            ],
        )
    for x in xs[:3]:
        grading.gradient_check(_composite, fn, x)


@exercise("derivatives.best_price")
def _best_price(fn):
    rng = np.random.default_rng(14)
    for _ in range(5):
        a = float(rng.uniform(50, 200))
        b = float(rng.uniform(0.5, 5))
        c = float(rng.uniform(0.05, 0.8) * a / b)  # a cost below a/b, so a profitable price exists
        got = grading.call(fn, a, b, c)
        want = (a / b + c) / 2

        def profit(p, a=a, b=b, c=c):
            return (p - c) * (a - b * p)

        def slope_message(got, want, profit=profit):
            p = float(np.asarray(got, dtype=np.float64).reshape(-1)[0])
            slope = float(gl.grad(profit)(p))
            return (
                f"at your price p = {p:.6g} the slope profit′(p) is {slope:.4g}, not 0: "
                "solve profit′(p) = a − 2b·p + b·c = 0 for p"
            )

        grading.expect_close(
            got,
            want,
            at=f"a = {a:.4g}, b = {b:.4g}, c = {c:.4g}",
            hints=[
                (
                    _near(a / (2 * b)),
                    "you dropped the cost: a/(2b) maximises the revenue p·(a − b·p); the profit is (p − c)(a − b·p)",
                ),
                (_near(a / b), "a/b is the price at which demand falls to zero: nobody buys there"),
                (
                    _near((a / b - c) / 2),
                    "the cost enters with a plus sign: p* = (a/b + c)/2 (a dearer product sells at a higher price)",
                ),
                (
                    grading.off_by_factor(2),
                    "off by a factor 2: profit′(p) = a − 2b·p + b·c has 2b·p (p appears twice in (p − c)(a − b·p))",
                ),
                (lambda got, want: np.size(got) == 1, slope_message),
            ],
        )
        slope = float(gl.grad(profit)(float(got)))  # the learner's price is where the derivative is zero
        if abs(slope) > 1e-6 * max(1.0, a):
            raise Wrong(f"profit′ at your price is {slope:.3g}, not 0")

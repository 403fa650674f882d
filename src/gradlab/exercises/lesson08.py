"""Checkers for lesson 8, sums, integrals and probability.

integrals.sum_of_squares     Σ_{k=1}^{n} k² by its closed form n(n+1)(2n+1)/6, against the sum itself
integrals.trapezoid          ∫_a^b f ≈ h·(f(x₀)/2 + f(x₁) + … + f(x_{n−1}) + f(x_n)/2), h = (b − a)/n
integrals.monte_carlo_mean   E[g(X)] ≈ mean of g(xᵢ), with its standard error s/√n
"""

from __future__ import annotations

import numpy as np

from ..calculus import power_sum
from . import grading
from .core import Wrong, exercise

__all__ = ["reference_trapezoid"]


def _same(got, want, tol: float = 1e-9) -> bool:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return got.shape == want.shape and grading.relative_error(got, want) <= tol


@exercise("integrals.sum_of_squares")
def _sum_of_squares(fn):
    rng = np.random.default_rng(8)
    ns = [1, 2, 3, 10, *(int(n) for n in rng.integers(11, 100_000, size=4))]
    for n in ns:
        got = grading.call(fn, n)
        brute = sum(k * k for k in range(1, n + 1))  # the sum itself, term by term
        grading.expect_close(
            got,
            float(brute),
            at=f"n = {n}",
            tol=1e-12,
            hints=[
                (lambda g, w, n=n: _same(g, n * (n + 1) / 2), "that is Σ k = n(n+1)/2 (at {at}); square the terms"),
                (lambda g, w, n=n: _same(g, (n * (n + 1) / 2) ** 2), "that is Σ k³ = (n(n+1)/2)² (at {at})"),
                (
                    lambda g, w, n=n: _same(g, power_sum(n - 1, 2)),
                    "you summed k = 1 … n − 1 (at {at}): the sum runs to n, inclusive",
                ),
                (grading.off_by_factor(6), "off by a factor 6 (at {at}): the formula divides by 6"),
                (grading.off_by_factor(3), "off by a factor 3 (at {at}): is it (2n + 1), and / 6?"),
            ],
        )
    got = grading.call(fn, 0)
    if not (np.ndim(got) == 0 and isinstance(got, int | float | np.number) and got == 0):
        raise Wrong(f"for n = 0 the sum is empty and equals 0; your function gave {got!r}")


def reference_trapezoid(f, a: float, b: float, n: int) -> float:
    """h·(f(x₀)/2 + f(x₁) + … + f(x_{n−1}) + f(x_n)/2) with x_k = a + k·h, h = (b − a)/n."""
    x = np.linspace(a, b, n + 1)
    y = np.array([float(f(v)) for v in x])
    h = (b - a) / n
    return float(h * (y[0] / 2 + y[1:-1].sum() + y[-1] / 2))


_CASES = [
    ("exp(x) on [0, 1]", np.exp, 0.0, 1.0),
    ("x² on [0, 2]", lambda x: x**2, 0.0, 2.0),
    ("sin(x) on [0, π]", np.sin, 0.0, np.pi),
    ("1/(1 + x²) on [−1, 3]", lambda x: 1 / (1 + x**2), -1.0, 3.0),
]


def _riemann_left(f, a, b, n):
    h = (b - a) / n
    return h * sum(float(f(a + k * h)) for k in range(n))


def _full_ends(f, a, b, n):
    h = (b - a) / n
    return h * sum(float(f(a + k * h)) for k in range(n + 1))


@exercise("integrals.trapezoid")
def _trapezoid(fn):
    for label, f, a, b in _CASES:
        for n in (1, 3, 10, 64):
            at = f"{label}, n = {n}"
            got = grading.call(fn, f, a, b, n)
            want = reference_trapezoid(f, a, b, n)
            h = (b - a) / n
            grading.expect_close(
                got,
                want,
                at=at,
                tol=1e-10,
                hints=[
                    (
                        lambda g, w, f=f, a=a, b=b, n=n: _same(g, _full_ends(f, a, b, n)),
                        "you gave the end points full weight (at {at}): the trapezoid rule weighs f(a) and f(b) by ½",
                    ),
                    (
                        lambda g, w, f=f, a=a, b=b, n=n: _same(g, _riemann_left(f, a, b, n)),
                        "that is a left Riemann sum, rectangles of height f(left end) (at {at}): "
                        "a trapezoid averages both ends of each slice",
                    ),
                    (
                        lambda g, w, f=f, a=a, b=b, n=n: n > 1 and _same(g, reference_trapezoid(f, a, b, n - 1)),
                        "you used n points, n − 1 slices (at {at}): n slices need n + 1 points, "
                        "np.linspace(a, b, n + 1)",
                    ),
                    (
                        lambda g, w, h=h: h != 1 and _same(np.asarray(g) * h, w),
                        "you forgot to multiply by the slice width h = (b − a)/n (at {at})",
                    ),
                ],
            )
    # the rule's error shrinks like h²: halving h quarters it
    exact = np.e - 1
    errors = [abs(float(grading.call(fn, np.exp, 0.0, 1.0, n)) - exact) for n in (16, 32)]
    ratio = errors[0] / errors[1]
    if not 3.9 < ratio < 4.1:  # pragma: no cover - implied by the values above
        raise Wrong(f"halving h should divide the error by 4, your rule's error dropped by {ratio:.3g}")
    return f"correct on 4 integrands × 4 slice counts; halving h divided the error by {ratio:.3f} (error ∝ h²)"


@exercise("integrals.monte_carlo_mean")
def _monte_carlo_mean(fn):
    cases = [
        ("g(x) = x², x ~ N(0, 1)", lambda x: x**2, lambda rng, n: rng.normal(size=n)),
        ("g(x) = e^x, x ~ U(0, 1)", np.exp, lambda rng, n: rng.uniform(size=n)),
        ("g(x) = cos(x), x ~ N(1, 2²)", np.cos, lambda rng, n: rng.normal(1.0, 2.0, size=n)),
    ]
    for seed, (label, g, sampler) in enumerate(cases):
        for n in (5, 1000):
            samples = sampler(np.random.default_rng(800 + seed), n)
            at = f"{label}, n = {n}"
            got = grading.call(fn, g, samples.copy())
            try:
                got = np.asarray(got, dtype=np.float64)
            except (TypeError, ValueError):
                got = None
            if got is None or got.shape != (2,):
                raise Wrong(f"return two numbers, (estimate, standard error), as a tuple (at {at})")
            values = g(samples)
            mean, s = values.mean(), values.std(ddof=1)
            want = np.array([mean, s / np.sqrt(n)])
            grading.expect_close(
                got,
                want,
                at=at,
                tol=1e-9,
                hints=[
                    (
                        lambda got, w, s=samples: _same(got[0], s.mean()) and not _same(got[0], w[0]),
                        "you averaged the samples themselves (at {at}): average g(samples)",
                    ),
                    (
                        lambda got, w, s=s: _same(got[1], s),
                        "your standard error is s, the spread of one value (at {at}); the mean of n values "
                        "varies n times less in variance: s/√n",
                    ),
                    (
                        lambda got, w, s=s, n=n: _same(got[1], s / n),
                        "you divided s by n (at {at}): the standard error shrinks like 1/√n, s/√n",
                    ),
                    (
                        lambda got, w, v=values, n=n: _same(got[1], v.std() / np.sqrt(n)),
                        "use the sample standard deviation, which divides by n − 1: np.std(values, ddof=1) (at {at})",
                    ),
                    (
                        lambda got, w: _same(got[0], w[0]) and not _same(got[1], w[1]),
                        lambda got, w: (
                            f"the estimate is right, the standard error is not: expected {w[1]:.6g}, "
                            f"got {got[1]:.6g} (at {{at}}); it is s/√n with s = np.std(values, ddof=1)"
                        ),
                    ),
                ],
            )

"""Integrals: definite (1-D and 2-D, by SciPy's adaptive quadrature), Monte Carlo expectations,
and probability as area under a density curve.

    integrate(f, a, b)               ∫_a^b f(x) dx
    integrate2d(f, (a, b), (c, d))   ∫_a^b ∫_c^d f(x, y) dy dx
    expectation(g, sampler, n)       E[g(X)] ≈ (1/n) Σ g(x_i), with its standard error s/√n
    probability(pdf, a, b)           P(a ≤ X ≤ b) = ∫_a^b p(x) dx
Functions may be written with gradlab ops (returning Tensors) or with plain Python and NumPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import integrate as quadrature

__all__ = [
    "MonteCarloEstimate",
    "expectation",
    "exponential_pdf",
    "integrate",
    "integrate2d",
    "normal_pdf",
    "probability",
    "uniform_pdf",
]


def _number(value) -> float:
    value = getattr(value, "data", value)
    array = np.asarray(value, dtype=np.float64)
    if array.size != 1:
        raise ValueError(f"the integrand must return one number per point, it returned shape {array.shape}")
    return float(array.reshape(()))


def integrate(f, a: float, b: float, with_error: bool = False):
    """∫_a^b f(x) dx by adaptive Gauss–Kronrod quadrature (scipy.integrate.quad).

    a and b may be ±inf. With with_error=True returns (value, estimated absolute error).
    Example: integrate(lambda x: x**2, 0, 2) = 8/3 ≈ 2.666667.
    """
    value, error = quadrature.quad(lambda x: _number(f(x)), a, b, limit=200)
    return (value, error) if with_error else value


def integrate2d(f, x_range, y_range, with_error: bool = False):
    """∫∫ f(x, y) over x in x_range, y in y_range (inner integral over y, as ∫_a^b ∫_c^d … dy dx).

    y_range may hold functions of x for a region between two curves: (lambda x: 0, lambda x: x).
    Example: integrate2d(lambda x, y: x*y, (0, 1), (0, 2)) = 1.
    """
    (a, b), (c, d) = x_range, y_range
    low = c if callable(c) else (lambda x, c=c: c)
    high = d if callable(d) else (lambda x, d=d: d)
    # scipy's dblquad wants func(y, x): the argument order is swapped here, once, so callers never see it
    value, error = quadrature.dblquad(lambda y, x: _number(f(x, y)), a, b, low, high)
    return (value, error) if with_error else value


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A sample mean with its standard error: the true value lies within ±2·error about 95% of the time."""

    mean: float
    standard_error: float
    n: int

    def __float__(self):
        return self.mean

    def __str__(self):
        return f"{self.mean:.6g} ± {self.standard_error:.2g} (n = {self.n})"


def expectation(g, sampler, n: int = 100_000, seed: int = 0) -> MonteCarloEstimate:
    """E[g(X)] ≈ (1/n) Σ g(x_i) over n draws x_i = sampler(rng, n), with standard error s/√n.

    sampler(rng, n) returns n samples (e.g. lambda rng, n: rng.normal(size=n)); g is applied to
    the whole array of samples at once.
    """
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be a whole number >= 2, got {n!r}")
    samples = sampler(np.random.default_rng(seed), n)
    values = np.asarray(getattr(g(samples), "data", g(samples)), dtype=np.float64).reshape(-1)
    if values.size != n:
        raise ValueError(f"g returned {values.size} values for {n} samples; it must work element-wise")
    return MonteCarloEstimate(float(values.mean()), float(values.std(ddof=1) / math.sqrt(n)), n)


def probability(pdf, a: float = -math.inf, b: float = math.inf) -> float:
    """P(a ≤ X ≤ b) = ∫_a^b p(x) dx for a density p; with the default bounds it should be 1."""
    return integrate(pdf, a, b)


def normal_pdf(mean: float = 0.0, std: float = 1.0):
    """p(x) = exp(-(x - μ)² / 2σ²) / (σ √(2π))."""
    if not std > 0:
        raise ValueError(f"std must be positive, got {std}")
    return lambda x: np.exp(-((x - mean) ** 2) / (2 * std**2)) / (std * math.sqrt(2 * math.pi))


def uniform_pdf(low: float = 0.0, high: float = 1.0):
    """p(x) = 1/(high - low) on [low, high], 0 elsewhere."""
    if not high > low:
        raise ValueError(f"high must exceed low, got [{low}, {high}]")
    return lambda x: np.where((x >= low) & (x <= high), 1.0 / (high - low), 0.0)


def exponential_pdf(rate: float = 1.0):
    """p(x) = λ e^(-λx) for x ≥ 0."""
    if not rate > 0:
        raise ValueError(f"rate must be positive, got {rate}")
    return lambda x: np.where(np.asarray(x) >= 0, rate * np.exp(-rate * np.maximum(x, 0)), 0.0)

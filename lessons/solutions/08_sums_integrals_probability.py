"""Reference solutions for lessons/08_sums_integrals_probability.ipynb (one block per exercise cell)."""

import numpy as np

from gradlab.exercises import check


# exercise: integrals.sum_of_squares
def sum_of_squares(n):
    """Σ_{k=1}^{n} k² = n(n+1)(2n+1)/6, exactly (// keeps whole numbers whole; the product is divisible by 6)."""
    return n * (n + 1) * (2 * n + 1) // 6


check("integrals.sum_of_squares", sum_of_squares)


# exercise: integrals.trapezoid
def trapezoid(f, a, b, n):
    """∫_a^b f(x) dx ≈ h·(f(x₀)/2 + f(x₁) + … + f(x_{n−1}) + f(x_n)/2), with h = (b − a)/n."""
    h = (b - a) / n
    x = np.linspace(a, b, n + 1)  # n slices need n + 1 points
    y = f(x)
    return h * (y[0] / 2 + y[1:-1].sum() + y[-1] / 2)


check("integrals.trapezoid", trapezoid)


# exercise: integrals.monte_carlo_mean
def monte_carlo_mean(g, samples):
    """(mean of g(xᵢ), s/√n) with s the sample standard deviation of the g(xᵢ)."""
    values = g(samples)
    n = len(values)
    return values.mean(), values.std(ddof=1) / np.sqrt(n)


check("integrals.monte_carlo_mean", monte_carlo_mean)

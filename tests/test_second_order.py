"""Newton's method and Gauss–Newton."""

import numpy as np
import pytest

import gradlab as gl
from gradlab.optim import gauss_newton, newton


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def test_newton_converges_quadratically_on_a_strictly_convex_function():
    """f = Σ (e^x - x) + ½ (x₀ - x₁)², minimum at 0. Near it each error is about the square of
    the one before: e_{k+1} / e_k² stays bounded while e_k shrinks to nothing."""

    def f(x):
        return (gl.exp(x) - x).sum() + 0.5 * (x[0] - x[1]) ** 2

    result = newton(f, [1.0, -0.5], line_search=False, tol=1e-14)
    errors = [float(np.linalg.norm(p)) for p in result.path]
    print("errors per step:", ", ".join(f"{e:.3e}" for e in errors))
    assert result.converged and errors[-1] < 1e-12
    # pairs above the rounding floor of float64 (below ~1e-8 the next error is lost in rounding)
    close = [(a, b) for a, b in zip(errors, errors[1:]) if 1e-8 < a < 0.1]
    assert len(close) >= 3
    for before, after in close:
        assert after <= 1.0 * before**2  # squared, not merely smaller


def test_newton_beats_gradient_descent_on_rosenbrock():
    start = np.array([-1.2, 1.0])
    result = newton(rosenbrock, start, tol=1e-8)
    assert result.converged
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-8)

    gradient = gl.grad(rosenbrock)
    x, gd_steps, budget = start.copy(), None, 40 * result.steps
    for step in range(1, budget + 1):
        g = gradient(x)
        if np.linalg.norm(g) <= 1e-8:
            gd_steps = step
            break
        x = x - 1e-3 * g  # about the largest fixed step that does not diverge here
    print(f"Newton: {result.steps} steps; gradient descent: not there after {budget} steps, at {x}")
    assert result.steps < 50
    assert gd_steps is None  # forty times Newton's step count is not enough for gradient descent
    assert np.linalg.norm(x - 1) > 1e-3


def test_newton_escapes_a_saddle_thanks_to_the_shift():
    """At (0, 0.1) the Hessian of x² - y² + y⁴/4·… is indefinite; the shifted step still goes downhill."""

    def f(p):
        return p[0] ** 2 - p[1] ** 2 + 0.25 * p[1] ** 4

    result = newton(f, [0.5, 0.1])
    assert result.shifts[0] > 0
    assert result.converged
    np.testing.assert_allclose(abs(result.x[1]), np.sqrt(2), rtol=1e-8)
    assert all(b <= a + 1e-12 for a, b in zip(result.values, result.values[1:]))


def test_gauss_newton_fits_an_exponential_decay():
    t = np.linspace(0, 2, 30)
    y = 3.0 * np.exp(-1.7 * t) + 0.01 * np.sin(40 * t)
    result = gauss_newton(lambda p: p[0] * gl.exp(p[1] * t) - y, [1.0, 0.0])
    assert result.converged and result.steps < 20
    np.testing.assert_allclose(result.x, [3.0, -1.7], atol=0.02)


def test_newton_reports_a_non_finite_start():
    with np.errstate(invalid="ignore"):
        result = newton(lambda p: gl.log(p).sum(), [-1.0, 1.0])
    assert not result.converged and "not finite" in result.message


def test_newton_matches_the_closed_form_of_a_quadratic_in_one_step():
    a = np.array([[3.0, 1.0], [1.0, 2.0]])
    b = np.array([1.0, -1.0])
    result = newton(lambda x: 0.5 * x @ (a @ x) - b @ x, [5.0, 5.0], line_search=False)
    assert result.steps == 1
    np.testing.assert_allclose(result.x, np.linalg.solve(a, b))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_gauss_newton_reports_non_finite_residuals(bad):
    result = gauss_newton(lambda p: p - bad, [0.0], max_steps=3)
    assert not result.converged and "not finite" in result.message

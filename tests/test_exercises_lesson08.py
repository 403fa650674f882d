"""Lesson 8's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import numpy as np

from exercise_harness import Lesson, failed
from gradlab.exercises import check

LESSON = Lesson("08_sums_integrals_probability")
solution = LESSON.solution


# integrals.sum_of_squares ----------------------------------------------------------------------------------


def test_sum_of_squares_float_division_passes_too():
    assert check("integrals.sum_of_squares", lambda n: n * (n + 1) * (2 * n + 1) / 6).status == "passed"


def test_sum_of_squares_is_sum_of_integers():
    assert "that is Σ k = n(n+1)/2" in failed("integrals.sum_of_squares", lambda n: n * (n + 1) // 2)


def test_sum_of_squares_is_sum_of_cubes():
    assert "that is Σ k³" in failed("integrals.sum_of_squares", lambda n: (n * (n + 1) // 2) ** 2)


def test_sum_of_squares_stops_one_early():
    message = failed("integrals.sum_of_squares", lambda n: sum(k * k for k in range(n)))
    assert "you summed k = 1 … n − 1" in message


def test_sum_of_squares_forgot_the_six():
    assert "off by a factor 6" in failed("integrals.sum_of_squares", lambda n: n * (n + 1) * (2 * n + 1))


def test_sum_of_squares_empty_sum():
    message = failed("integrals.sum_of_squares", lambda n: n * (n + 1) * (2 * n + 1) // 6 if n else 1)
    assert "for n = 0 the sum is empty" in message


# integrals.trapezoid ---------------------------------------------------------------------------------------


def test_trapezoid_reports_the_h_squared_error():
    result = check("integrals.trapezoid", solution("integrals.trapezoid"))
    assert "error ∝ h²" in result.message and "4.00" in result.message


def test_trapezoid_a_loop_passes_too():
    def loop(f, a, b, n):
        h = (b - a) / n
        return sum(h * (f(a + k * h) + f(a + (k + 1) * h)) / 2 for k in range(n))

    assert check("integrals.trapezoid", loop).status == "passed"


def test_trapezoid_end_points_full_weight():
    def wrong(f, a, b, n):
        return (b - a) / n * f(np.linspace(a, b, n + 1)).sum()

    assert "end points full weight" in failed("integrals.trapezoid", wrong)


def test_trapezoid_left_riemann_sum():
    def wrong(f, a, b, n):
        return (b - a) / n * f(np.linspace(a, b, n + 1)[:-1]).sum()

    assert "left Riemann sum" in failed("integrals.trapezoid", wrong)


def test_trapezoid_n_points_not_n_slices():
    def wrong(f, a, b, n):
        x = np.linspace(a, b, n)
        y = f(x)
        h = x[1] - x[0] if n > 1 else b - a
        return h * (y[0] / 2 + y[1:-1].sum() + y[-1] / 2) if n > 1 else h * (f(a) + f(b)) / 2

    assert "you used n points, n − 1 slices" in failed("integrals.trapezoid", wrong)


def test_trapezoid_forgot_h():
    def wrong(f, a, b, n):
        y = f(np.linspace(a, b, n + 1))
        return y[0] / 2 + y[1:-1].sum() + y[-1] / 2

    assert "forgot to multiply by the slice width" in failed("integrals.trapezoid", wrong)


# integrals.monte_carlo_mean --------------------------------------------------------------------------------


def test_monte_carlo_one_number():
    assert "return two numbers" in failed("integrals.monte_carlo_mean", lambda g, x: g(x).mean())


def test_monte_carlo_averaged_the_samples():
    def wrong(g, x):
        return x.mean(), g(x).std(ddof=1) / np.sqrt(len(x))

    assert "you averaged the samples themselves" in failed("integrals.monte_carlo_mean", wrong)


def test_monte_carlo_spread_not_error():
    assert "the spread of one value" in failed(
        "integrals.monte_carlo_mean", lambda g, x: (g(x).mean(), g(x).std(ddof=1))
    )


def test_monte_carlo_divided_by_n():
    def wrong(g, x):
        return g(x).mean(), g(x).std(ddof=1) / len(x)

    assert "you divided s by n" in failed("integrals.monte_carlo_mean", wrong)


def test_monte_carlo_population_std():
    def wrong(g, x):
        return g(x).mean(), g(x).std() / np.sqrt(len(x))

    assert "np.std(values, ddof=1)" in failed("integrals.monte_carlo_mean", wrong)

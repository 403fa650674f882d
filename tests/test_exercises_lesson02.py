"""Lesson 2's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import numpy as np

from exercise_harness import Lesson, failed
from gradlab.calculus import gradient
from gradlab.exercises import check

LESSON = Lesson("02_gradients")
exercise_cells = LESSON.exercise_cells


def test_the_tutorial_values_hold():
    """The course text's f(2, 3) = 66 and ∇f(2, 3) = [39, 40] are right; gradlab agrees."""
    f = lambda x, y: x**2 * y + 3 * x * y**2  # noqa: E731
    assert f(2, 3) == 66
    np.testing.assert_allclose(gradient(f)(2.0, 3.0), [39.0, 40.0], rtol=1e-15)


# gradients.partial_x


def test_partial_x_rejects_partial_y():
    assert "that is ∂f/∂y" in failed("gradients.partial_x", lambda x, y: x**2 + 6 * x * y)


def test_partial_x_rejects_sum_of_both_partials():
    message = failed("gradients.partial_x", lambda x, y: 2 * x * y + 3 * y**2 + x**2 + 6 * x * y)
    assert "added ∂f/∂y as well" in message


def test_partial_x_rejects_differentiating_y_squared():
    assert "not 6xy" in failed("gradients.partial_x", lambda x, y: 2 * x * y + 6 * x * y)


def test_partial_x_rejects_a_missing_term():
    assert "3xy² is missing" in failed("gradients.partial_x", lambda x, y: 2 * x * y)


def test_partial_x_rejects_dropping_the_constant_factor():
    assert "keep the constant factor y" in failed("gradients.partial_x", lambda x, y: 2 * x + 3 * y**2)


# gradients.gradient


def right_gradient(x, y):
    return np.array([2 * x * y + 3 * y**2, x**2 + 6 * x * y])


def test_gradient_rejects_a_column_vector():
    message = failed("gradients.gradient", lambda x, y: right_gradient(x, y).reshape(2, 1))
    assert "shape (2, 1)" in message and "shape (2,)" in message


def test_gradient_rejects_swapped_components():
    assert "wrong order" in failed("gradients.gradient", lambda x, y: right_gradient(x, y)[::-1])


def test_gradient_rejects_the_negative_gradient():
    assert "steepest descent" in failed("gradients.gradient", lambda x, y: -right_gradient(x, y))


def test_gradient_rejects_a_single_number():
    assert "one number" in failed("gradients.gradient", lambda x, y: 2 * x * y + 3 * y**2)


def test_gradient_rejects_a_wrong_y_component():
    message = failed("gradients.gradient", lambda x, y: np.array([2 * x * y + 3 * y**2, x**2 + 3 * y**2]))
    assert "∂f/∂y is wrong" in message


def test_gradient_accepts_a_list():
    assert check("gradients.gradient", lambda x, y: [2 * x * y + 3 * y**2, x**2 + 6 * x * y])


# gradients.directional_derivative


def test_directional_rejects_unnormalised_direction():
    assert "divide by ‖v‖" in failed("gradients.directional_derivative", lambda grad, p, v: grad(p) @ v)


def test_directional_rejects_dividing_by_norm_squared():
    message = failed("gradients.directional_derivative", lambda grad, p, v: grad(p) @ v / (v @ v))
    assert "not by ‖v‖²" in message


def test_directional_rejects_the_elementwise_product():
    message = failed("gradients.directional_derivative", lambda grad, p, v: grad(p) * v / np.linalg.norm(v))
    assert "returned a vector" in message and "dot product" in message


def test_directional_rejects_the_gradient_norm():
    message = failed("gradients.directional_derivative", lambda grad, p, v: np.linalg.norm(grad(p)))
    assert "that is ‖∇f‖" in message


def test_directional_rejects_flipped_sign():
    message = failed("gradients.directional_derivative", lambda grad, p, v: -grad(p) @ v / np.linalg.norm(v))
    assert "sign is flipped" in message


# gradients.profit_gradient


def right_profit_gradient(p, s, a, b, k, c):
    return np.array([a - 2 * b * p + b * c + k * np.log1p(s), k * (p - c) / (1 + s) - 1])


def test_profit_gradient_rejects_free_advertising():
    message = failed("gradients.profit_gradient", lambda *args: right_profit_gradient(*args) + [0, 1])
    assert "missing the − 1" in message


def test_profit_gradient_rejects_missing_inner_derivative_of_log():
    def wrong(p, s, a, b, k, c):
        return np.array([right_profit_gradient(p, s, a, b, k, c)[0], k * (p - c) - 1])

    assert "1/(1 + s)" in failed("gradients.profit_gradient", wrong)


def test_profit_gradient_rejects_price_slope_without_advertising():
    def wrong(p, s, a, b, k, c):
        return right_profit_gradient(p, s, a, b, k, c) - [k * np.log1p(s), 0]

    assert "lost the advertising term" in failed("gradients.profit_gradient", wrong)


def test_profit_gradient_rejects_missing_product_rule():
    def wrong(p, s, a, b, k, c):
        return np.array([a - b * p + k * np.log1p(s), k * (p - c) / (1 + s) - 1])

    assert "product rule" in failed("gradients.profit_gradient", wrong)


def test_profit_gradient_rejects_swapped_components():
    message = failed("gradients.profit_gradient", lambda *args: right_profit_gradient(*args)[::-1])
    assert "wrong order" in message

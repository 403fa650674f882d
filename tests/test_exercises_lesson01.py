"""Lesson 1's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import numpy as np

from exercise_harness import Lesson, failed
from gradlab.exercises import check

LESSON = Lesson("01_derivatives")
exercise_cells = LESSON.exercise_cells


# derivatives.central_difference


def test_central_difference_rejects_forward_difference():
    message = failed("derivatives.central_difference", lambda f, x, h: (f(x + h) - f(x)) / h)
    assert "forward difference" in message


def test_central_difference_rejects_backward_difference():
    message = failed("derivatives.central_difference", lambda f, x, h: (f(x) - f(x - h)) / h)
    assert "backward difference" in message


def test_central_difference_rejects_dividing_by_h():
    message = failed("derivatives.central_difference", lambda f, x, h: (f(x + h) - f(x - h)) / h)
    assert "off by a factor 2" in message and "divide by 2h" in message


def test_central_difference_rejects_flipped_sign():
    message = failed("derivatives.central_difference", lambda f, x, h: (f(x - h) - f(x + h)) / (2 * h))
    assert "sign is flipped" in message


def test_central_difference_rejects_its_own_step():
    message = failed("derivatives.central_difference", lambda f, x, h: (f(x + 1e-6) - f(x - 1e-6)) / 2e-6)
    assert "use that h" in message


# derivatives.product_rule


def test_product_rule_rejects_product_of_derivatives():
    message = failed("derivatives.product_rule", lambda x: 2 * x * np.cos(x))
    assert "f′·g′" in message and "f′·g + f·g′" in message


def test_product_rule_rejects_first_term_only():
    assert "only the first term" in failed("derivatives.product_rule", lambda x: 2 * x * np.sin(x))


def test_product_rule_rejects_second_term_only():
    assert "only the second term" in failed("derivatives.product_rule", lambda x: x**2 * np.cos(x))


def test_product_rule_rejects_wrong_sign_of_second_term():
    message = failed("derivatives.product_rule", lambda x: 2 * x * np.sin(x) - x**2 * np.cos(x))
    assert "wrong sign" in message and "+cos x" in message


# derivatives.chain_rule


def test_chain_rule_rejects_forgotten_inner_derivative():
    message = failed("derivatives.chain_rule", lambda x: np.cos(x**2))
    assert "forget the inner derivative" in message and "= 2x" in message


def test_chain_rule_rejects_outer_derivative_at_x():
    assert "at the inner value" in failed("derivatives.chain_rule", lambda x: np.cos(x) * 2 * x)


def test_chain_rule_rejects_cos_of_inner_derivative():
    assert "cos(2x)" in failed("derivatives.chain_rule", lambda x: np.cos(2 * x))


def test_chain_rule_rejects_sin_kept():
    assert "still sin" in failed("derivatives.chain_rule", lambda x: 2 * x * np.sin(x**2))


def test_chain_rule_rejects_flipped_sign():
    assert "sign is flipped" in failed("derivatives.chain_rule", lambda x: -np.cos(x**2) * 2 * x)


# derivatives.best_price


def test_best_price_rejects_revenue_maximum():
    assert "dropped the cost" in failed("derivatives.best_price", lambda a, b, c: a / (2 * b))


def test_best_price_rejects_choke_price():
    assert "demand falls to zero" in failed("derivatives.best_price", lambda a, b, c: a / b)


def test_best_price_rejects_cost_with_minus_sign():
    assert "plus sign" in failed("derivatives.best_price", lambda a, b, c: (a / b - c) / 2)


def test_best_price_rejects_missing_half():
    assert "off by a factor 2" in failed("derivatives.best_price", lambda a, b, c: a / b + c)


def test_best_price_names_the_slope_at_any_other_wrong_price():
    message = failed("derivatives.best_price", lambda a, b, c: (a / b + c) / 3)
    assert "the slope profit′(p) is" in message and "not 0" in message


def test_a_crashing_answer_is_reported_not_raised():
    result = check("derivatives.product_rule", lambda x: 1 / 0)
    assert result.status == "failed" and "ZeroDivisionError" in result.message

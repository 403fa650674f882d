"""Lesson 7's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import numpy as np

from exercise_harness import Lesson, failed
from gradlab.exercises import check

LESSON = Lesson("07_going_deeper")
solution = LESSON.solution


def with_entry(name, index, value):
    """The reference solution of `name` with the entry `index` of its answer replaced by value(*args)."""
    right = solution(name)

    def wrong(*args):
        answer = right(*args)
        answer[index] = value(*args)
        return answer

    return wrong


# deeper.jacobian -------------------------------------------------------------------------------------------


def test_jacobian_transposed():
    right = solution("deeper.jacobian")
    message = failed("deeper.jacobian", lambda x: right(x).T)
    assert "(2, 3), expected (3, 2): rows are outputs" in message


def test_jacobian_missing_inner_derivative():
    wrong = with_entry("deeper.jacobian", 1, lambda x: np.cos(x[0] * x[1]))
    assert "missing the inner derivative" in failed("deeper.jacobian", wrong)


def test_jacobian_power_rule_factor():
    wrong = with_entry("deeper.jacobian", (0, 0), lambda x: x[0] * x[1])
    assert "J[0, 0] = ∂(x₀²·x₁)/∂x₀ is off by a factor 2" in failed("deeper.jacobian", wrong)


def test_jacobian_sign_flipped():
    right = solution("deeper.jacobian")
    assert "every entry has the wrong sign" in failed("deeper.jacobian", lambda x: -right(x))


def test_jacobian_product_rule_missing_term_names_the_entry():
    wrong = with_entry("deeper.jacobian", (2, 1), lambda x: np.exp(x[1]))  # d/dx₁ of x₀·e^(x₁) without its x₀
    message = failed("deeper.jacobian", wrong)
    assert "J[2, 1] = ∂f3/∂x1" in message and "expected" in message


# deeper.hessian_2x2 ----------------------------------------------------------------------------------------


def test_hessian_returned_the_gradient():
    message = failed("deeper.hessian_2x2", lambda x, y: np.array([3 * x**2 * y, x**3 + np.cos(y)]))
    assert "that is the shape of the gradient" in message


def test_hessian_no_mixed_partials():
    right = solution("deeper.hessian_2x2")
    message = failed("deeper.hessian_2x2", lambda x, y: np.diag(np.diag(right(x, y))))
    assert "off-diagonal entries are 0" in message


def test_hessian_not_symmetric():
    wrong = with_entry("deeper.hessian_2x2", (1, 0), lambda x, y: 3 * x**2 * y)
    assert "not symmetric" in failed("deeper.hessian_2x2", wrong)


def test_hessian_second_derivative_of_sine():
    wrong = with_entry("deeper.hessian_2x2", (1, 1), lambda x, y: np.cos(y))
    assert "is −sin(y), not cos(y)" in failed("deeper.hessian_2x2", wrong)


def test_hessian_power_rule_factor():
    wrong = with_entry("deeper.hessian_2x2", (0, 0), lambda x, y: 3 * x * y)
    assert "H[0, 0] is off by a factor 2" in failed("deeper.hessian_2x2", wrong)


# deeper.newton_step ----------------------------------------------------------------------------------------


def test_newton_multiplied_by_h():
    assert "you multiplied the gradient by H" in failed("deeper.newton_step", lambda x, g, H: x - H @ g)


def test_newton_uphill():
    message = failed("deeper.newton_step", lambda x, g, H: x + np.linalg.solve(H, g))
    assert "you stepped uphill" in message


def test_newton_plain_gradient_step():
    assert "gradient step with learning rate 1" in failed("deeper.newton_step", lambda x, g, H: x - g)


def test_newton_returned_the_step():
    message = failed("deeper.newton_step", lambda x, g, H: np.linalg.solve(H, g))
    assert "you returned the step" in message


def test_newton_passes_with_explicit_inverse_too():
    assert check("deeper.newton_step", lambda x, g, H: x - np.linalg.inv(H) @ g).status == "passed"

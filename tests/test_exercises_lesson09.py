"""Lesson 9's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import numpy as np

from exercise_harness import Lesson, failed
from gradlab.apps.recommender import _sgd_epoch
from gradlab.exercises import lesson09

LESSON = Lesson("09_recommender")
solution = LESSON.solution


def e_of(r, mu, b_u, b_i, p_u, q_i):
    return r - (mu + b_u + b_i + p_u @ q_i)


# recommender.grad_p_u --------------------------------------------------------------------------------------


def test_grad_p_u_forgot_the_factor_2():
    def wrong(r, mu, b_u, b_i, p_u, q_i, lam):
        return -e_of(r, mu, b_u, b_i, p_u, q_i) * q_i + lam * p_u

    assert "off by a factor 2" in failed("recommender.grad_p_u", wrong)


def test_grad_p_u_forgot_the_regularisation():
    def wrong(r, mu, b_u, b_i, p_u, q_i, lam):
        return -2 * e_of(r, mu, b_u, b_i, p_u, q_i) * q_i

    assert "the regularisation term is missing" in failed("recommender.grad_p_u", wrong)


def test_grad_p_u_sign_of_the_error():
    def wrong(r, mu, b_u, b_i, p_u, q_i, lam):
        return 2 * e_of(r, mu, b_u, b_i, p_u, q_i) * q_i + 2 * lam * p_u

    assert "the sign of the error term is flipped" in failed("recommender.grad_p_u", wrong)


def test_grad_p_u_half_the_regularisation():
    def wrong(r, mu, b_u, b_i, p_u, q_i, lam):
        return -2 * e_of(r, mu, b_u, b_i, p_u, q_i) * q_i + lam * p_u

    assert "is 2λ·p_u, not λ·p_u" in failed("recommender.grad_p_u", wrong)


def test_grad_p_u_user_vector_instead_of_item_vector():
    def wrong(r, mu, b_u, b_i, p_u, q_i, lam):
        return -2 * e_of(r, mu, b_u, b_i, p_u, q_i) * p_u + 2 * lam * p_u

    assert "multiplies the item's vector q_i" in failed("recommender.grad_p_u", wrong)


def test_grad_p_u_checked_against_central_differences_too():
    """The engine's gradient the checker compares with agrees with finite differences (float64)."""
    from gradlab.exercises import grading

    r, mu, b_u, b_i, p_u, q_i, lam = next(lesson09._parameter_sets(seed=1))
    grad = solution("recommender.grad_p_u")
    error = grading.gradient_check(
        lambda p: lesson09.rating_loss(r, mu, b_u, b_i, p, q_i, lam), lambda p: grad(r, mu, b_u, b_i, p, q_i, lam), p_u
    )
    assert error < 1e-7


# recommender.grad_b_u --------------------------------------------------------------------------------------


def test_grad_b_u_forgot_the_factor_2():
    def wrong(r, mu, b_u, b_i, p_u, q_i, lam):
        return -e_of(r, mu, b_u, b_i, p_u, q_i) + lam * b_u

    assert "off by a factor 2" in failed("recommender.grad_b_u", wrong)


def test_grad_b_u_forgot_the_regularisation():
    def wrong(r, mu, b_u, b_i, p_u, q_i, lam):
        return -2 * e_of(r, mu, b_u, b_i, p_u, q_i)

    assert "the regularisation term is missing" in failed("recommender.grad_b_u", wrong)


def test_grad_b_u_sign_of_the_error():
    def wrong(r, mu, b_u, b_i, p_u, q_i, lam):
        return 2 * e_of(r, mu, b_u, b_i, p_u, q_i) + 2 * lam * b_u

    assert "∂e/∂b_u = −1" in failed("recommender.grad_b_u", wrong)


# recommender.sgd_update ------------------------------------------------------------------------------------


def test_the_checkers_step_is_gradlabs_kernel():
    """reference_sgd_update takes the same step as the compiled kernel on one rating (float64 factors)."""
    r, mu, b_u, b_i, p_u, q_i, _ = next(lesson09._parameter_sets(seed=3))
    lr, reg, reg_bias = 0.03, 0.05, 0.2
    want = lesson09.reference_sgd_update(r, mu, b_u, b_i, p_u, q_i, lr, reg, reg_bias)
    user_bias, item_bias = np.array([b_u]), np.array([b_i])
    p, q = p_u[None].copy(), q_i[None].copy()
    zero = np.zeros(1, dtype=np.int64)
    _sgd_epoch(zero, zero, np.array([r]), zero, mu, user_bias, item_bias, p, q, lr, reg, reg_bias)
    for got, expected in zip((user_bias[0], item_bias[0], p[0], q[0]), want):
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def step_with(change):
    """The right step with one thing changed: change(e, args) returns the (b_u, b_i, p_u, q_i) to give back."""

    def sgd_update(r, mu, b_u, b_i, p_u, q_i, lr, reg, reg_bias):
        return change(e_of(r, mu, b_u, b_i, p_u, q_i), b_u, b_i, p_u, q_i, lr, reg, reg_bias)

    return sgd_update


def test_sgd_uphill():
    def change(e, b_u, b_i, p_u, q_i, lr, reg, rb):
        return (
            b_u - lr * (e - rb * b_u),
            b_i - lr * (e - rb * b_i),
            p_u - lr * (e * q_i - reg * p_u),
            q_i - lr * (e * p_u - reg * q_i),
        )

    assert "you stepped uphill" in failed("recommender.sgd_update", step_with(change))


def test_sgd_factor_2_not_folded():
    def change(e, b_u, b_i, p_u, q_i, lr, reg, rb):
        return (
            b_u + 2 * lr * (e - rb * b_u),
            b_i + 2 * lr * (e - rb * b_i),
            p_u + 2 * lr * (e * q_i - reg * p_u),
            q_i + 2 * lr * (e * p_u - reg * q_i),
        )

    assert "folds the factor 2 of the gradient into lr" in failed("recommender.sgd_update", step_with(change))


def test_sgd_used_the_updated_p_u():
    def change(e, b_u, b_i, p_u, q_i, lr, reg, rb):
        p_u = p_u + lr * (e * q_i - reg * p_u)
        return b_u + lr * (e - rb * b_u), b_i + lr * (e - rb * b_i), p_u, q_i + lr * (e * p_u - reg * q_i)

    assert "used the p_u you had just updated" in failed("recommender.sgd_update", step_with(change))


def test_sgd_biases_still():
    def change(e, b_u, b_i, p_u, q_i, lr, reg, rb):
        return b_u, b_i, p_u + lr * (e * q_i - reg * p_u), q_i + lr * (e * p_u - reg * q_i)

    assert "the biases did not move" in failed("recommender.sgd_update", step_with(change))


def test_sgd_no_regularisation():
    def change(e, b_u, b_i, p_u, q_i, lr, reg, rb):
        return b_u + lr * e, b_i + lr * e, p_u + lr * e * q_i, q_i + lr * e * p_u

    assert "the step has no regularisation" in failed("recommender.sgd_update", step_with(change))


def test_sgd_bias_with_the_factor_lambda():
    def change(e, b_u, b_i, p_u, q_i, lr, reg, rb):
        return (
            b_u + lr * (e - reg * b_u),
            b_i + lr * (e - reg * b_i),
            p_u + lr * (e * q_i - reg * p_u),
            q_i + lr * (e * p_u - reg * q_i),
        )

    assert "their own regularisation strength λ_b" in failed("recommender.sgd_update", step_with(change))


def test_sgd_returns_four_values():
    assert "as a tuple: (b_u, b_i, p_u, q_i)" in failed("recommender.sgd_update", lambda *args: args[4])

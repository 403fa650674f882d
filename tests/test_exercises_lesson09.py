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


# recommender.precision_at_k --------------------------------------------------------------------------------


def top_hits(scores, seen, liked, k, leave_out_seen=True, descending=True):
    """Per user, how many of the k best-ranked films are liked (the seen ones left out unless told otherwise)."""
    if leave_out_seen:
        scores = np.where(seen, -np.inf if descending else np.inf, scores)
    top = np.argsort(-scores if descending else scores, axis=1)[:, :k]
    return np.take_along_axis(liked, top, axis=1).sum(axis=1)


def test_precision_counts_the_films_seen_in_training():
    def wrong(scores, seen, liked, k):
        return top_hits(scores, seen, liked, k, leave_out_seen=False)[liked.any(axis=1)].mean() / k

    assert "still in the lists: set their scores to −inf" in failed("recommender.precision_at_k", wrong)


def test_precision_averaged_over_every_user():
    def wrong(scores, seen, liked, k):
        return top_hits(scores, seen, liked, k).mean() / k

    assert "only over the users with at least one liked" in failed("recommender.precision_at_k", wrong)


def test_precision_is_recall():
    def wrong(scores, seen, liked, k):
        users = liked.any(axis=1)
        return np.mean(top_hits(scores, seen, liked, k)[users] / liked[users].sum(axis=1))

    assert "that is recall@k" in failed("recommender.precision_at_k", wrong)


def test_precision_of_the_lowest_scores():
    def wrong(scores, seen, liked, k):
        return top_hits(scores, seen, liked, k, descending=False)[liked.any(axis=1)].mean() / k

    assert "the k lowest scores" in failed("recommender.precision_at_k", wrong)


def test_precision_not_divided_by_k():
    def wrong(scores, seen, liked, k):
        return top_hits(scores, seen, liked, k)[liked.any(axis=1)].mean()

    assert "divide the hits by k" in failed("recommender.precision_at_k", wrong)


def test_the_reference_precision_on_a_case_worked_by_hand():
    """Two users, four films; user 0 saw film 0 and liked films 1 and 3, user 1 liked nothing (not averaged)."""
    scores = np.array([[9.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0]])
    seen = np.array([[True, False, False, False], [False] * 4])
    liked = np.array([[False, True, False, True], [False] * 4])
    # user 0's top 2 among films 1-3 are films 3 and 2: one hit of 2
    assert lesson09.reference_precision_at_k(scores, seen, liked, 2) == 0.5


# recommender.ease ------------------------------------------------------------------------------------------


def test_ease_without_the_constraint_is_ridge():
    def wrong(X, lam):
        G = X.T @ X
        return np.linalg.solve(G + lam * np.eye(len(G)), G)

    assert "plain ridge regression" in failed("recommender.ease", wrong)


def test_ease_sign_flipped():
    def wrong(X, lam):
        P = np.linalg.inv(X.T @ X + lam * np.eye(X.shape[1]))
        return P / np.diag(P) - np.eye(len(P))

    assert "the sign is flipped" in failed("recommender.ease", wrong)


def test_ease_rows_scaled_instead_of_columns():
    def wrong(X, lam):
        P = np.linalg.inv(X.T @ X + lam * np.eye(X.shape[1]))
        return np.eye(len(P)) - P / np.diag(P)[:, None]

    assert "you scaled the rows" in failed("recommender.ease", wrong)


def test_ease_without_lambda():
    def wrong(X, lam):
        P = np.linalg.inv(X.T @ X)
        return np.eye(len(P)) - P / np.diag(P)

    assert "λ is missing" in failed("recommender.ease", wrong)


def test_ease_from_the_users_gram_matrix():
    def wrong(X, lam):
        P = np.linalg.inv(X @ X.T + lam * np.eye(X.shape[0]))
        return np.eye(len(P)) - P / np.diag(P)

    assert "not from XXᵀ" in failed("recommender.ease", wrong)


def test_ease_with_a_diagonal():
    def wrong(X, lam):
        return lesson09.reference_ease(X, lam) + 0.5 * np.eye(X.shape[1])  # the right B, but items predict themselves

    assert "diagonal must be 0" in failed("recommender.ease", wrong)


def test_the_reference_ease_satisfies_the_stationarity_condition():
    """The closed form solves (XᵀX + λI)B = XᵀX − diag(γ) for some γ, with diag(B) = 0: the Lagrange conditions."""
    X = (np.random.default_rng(5).uniform(size=(30, 8)) < 0.4).astype(float)
    lam = 2.0
    B = lesson09.reference_ease(X, lam)
    G = X.T @ X
    residual = G - (G + lam * np.eye(8)) @ B  # must be diag(γ): zero off the diagonal
    np.testing.assert_allclose(residual - np.diag(np.diag(residual)), 0, atol=1e-9)
    np.testing.assert_array_equal(np.diag(B), 0)

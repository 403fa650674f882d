"""Lesson 13's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import numpy as np
import pytest

from exercise_harness import Lesson, failed
from gradlab.exercises import check
from gradlab.exercises.lesson13 import softmax

LESSON = Lesson("13_policy_gradient")


# rl.score_function ------------------------------------------------------------------------------------------


def one_hot(n, a):
    return np.eye(n)[a]


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda W, s, a: np.outer(s, one_hot(W.shape[1], a)), "you left out −π"),
        (lambda W, s, a: np.outer(s, softmax(s @ W)), "you wrote s πᵀ"),
        (lambda W, s, a: np.outer(s, softmax(s @ W) - one_hot(W.shape[1], a)), "wrong sign"),
        (
            lambda W, s, a: np.outer(s, softmax(s @ W)[a] * (one_hot(W.shape[1], a) - softmax(s @ W))),
            "you differentiated π(a) itself",
        ),
        (lambda W, s, a: np.outer(one_hot(W.shape[1], a) - softmax(s @ W), s), "not (e_a − π) sᵀ"),
        (lambda W, s, a: one_hot(W.shape[1], a) - softmax(s @ W), "the chain rule through z = s W"),
    ],
)
def test_score_function_mistakes(wrong, hint):
    assert hint in failed("rl.score_function", wrong)


def test_score_function_through_the_engine_passes_too():
    import gradlab as gl

    assert check("rl.score_function", lambda W, s, a: gl.grad(lambda W: gl.log_softmax(gl.Tensor(s) @ W)[a])(W))


# rl.discounted_returns --------------------------------------------------------------------------------------


def tail_sums(r, gamma):
    return np.array([sum(gamma**k * r[t + k] for k in range(len(r) - t)) for t in range(len(r))])


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda r, g: np.cumsum(r[::-1])[::-1], "you forgot γ"),
        (lambda r, g: np.cumsum(r), "you summed the past"),
        (lambda r, g: np.array([sum(g**k * r[k] for k in range(t, len(r))) for t in range(len(r))]), "from the start"),
        (lambda r, g: tail_sums(r, g)[::-1], "reverse order"),
        (lambda r, g: tail_sums(r, g)[0], "you returned one number"),
    ],
)
def test_discounted_returns_mistakes(wrong, hint):
    assert hint in failed("rl.discounted_returns", wrong)


def test_discounted_returns_as_a_list_passes():
    assert check("rl.discounted_returns", lambda r, g: list(tail_sums(r, g)))


# rl.reinforce_gradient --------------------------------------------------------------------------------------


def estimate(W, S, A, psi, mean=True):
    P = softmax(S @ W)
    total = S.T @ ((np.eye(W.shape[1])[A] - P) * psi[:, None])
    return total / len(A) if mean else total


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda W, S, A, G, b: estimate(W, S, A, G), "you left out the baseline"),
        (lambda W, S, A, G, b: estimate(W, S, A, G + b), "you added the baseline"),
        (lambda W, S, A, G, b: estimate(W, S, A, G - b, mean=False), "off by a factor T"),
        (lambda W, S, A, G, b: -estimate(W, S, A, G - b), "the sign is flipped"),
        (
            lambda W, S, A, G, b: estimate(W, S, A, np.full(len(A), G.sum() - b.sum())),
            "the whole episode's return",
        ),
    ],
)
def test_reinforce_gradient_mistakes(wrong, hint):
    assert hint in failed("rl.reinforce_gradient", wrong)

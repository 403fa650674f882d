"""Lesson 10's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import numpy as np
import pytest

from exercise_harness import Lesson, failed
from gradlab.exercises import check
from gradlab.exercises.lesson10 import softmax_rows

LESSON = Lesson("10_attention")


# attention.softmax_jacobian --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x: np.diag(softmax_rows(x) * (1 - softmax_rows(x))), "off-diagonal entries are 0"),
        (lambda x: -np.outer(softmax_rows(x), softmax_rows(x)), "the diagonal is missing its s_i term"),
        (lambda x: np.diag(softmax_rows(x)), "you kept only diag(s)"),
        (lambda x: np.outer(softmax_rows(x), softmax_rows(x)) - np.diag(softmax_rows(x)), "wrong sign"),
        (lambda x: np.diag(np.exp(x)) - np.outer(np.exp(x), np.exp(x)), "you used e^x where the softmax"),
        (lambda x: softmax_rows(x), "is n × n"),
    ],
)
def test_softmax_jacobian_mistakes(wrong, hint):
    assert hint in failed("attention.softmax_jacobian", wrong)


# attention.scaled_attention --------------------------------------------------------------------------------


def scores(q, k):
    return q @ k.T / np.sqrt(q.shape[1])


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda q, k, v: softmax_rows(q @ k.T) @ v, "you did not scale the scores"),
        (lambda q, k, v: softmax_rows(q @ k.T / q.shape[1]) @ v, "you divided by d_k"),
        (lambda q, k, v: softmax_rows(scores(q, k).T).T @ v, "your softmax runs down the columns"),
        (lambda q, k, v: softmax_rows(scores(q, k)), "you returned the weights A"),
        (lambda q, k, v: softmax_rows(q @ k / np.sqrt(q.shape[1])) @ v, "your function raised ValueError"),
    ],
)
def test_scaled_attention_mistakes(wrong, hint):
    assert hint in failed("attention.scaled_attention", wrong)


def test_scaled_attention_accepts_the_engine_and_a_different_but_right_softmax():
    from gradlab.nn import scaled_dot_product_attention

    assert check("attention.scaled_attention", lambda q, k, v: scaled_dot_product_attention(q, k, v).numpy())

    def unshifted(s):
        return np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)

    assert check("attention.scaled_attention", lambda q, k, v: unshifted(scores(q, k)) @ v)


# attention.softmax_backward --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda a, g: a * g, "you kept only the diagonal of J"),
        (lambda a, g: a * (g - (g * a).sum(axis=0, keepdims=True)), "you summed over the wrong axis"),
        (lambda a, g: a * (g - g.sum(axis=1, keepdims=True)), "you subtracted Σ_j G_j instead of Σ_j G_j·A_j"),
        (lambda a, g: -a * (g - (g * a).sum(axis=1, keepdims=True)), "every entry has the wrong sign"),
    ],
)
def test_softmax_backward_mistakes(wrong, hint):
    assert hint in failed("attention.softmax_backward", wrong)


def test_softmax_backward_through_the_full_jacobian_passes_too():
    def through_jacobian(a, g):
        return np.stack([(np.diag(row) - np.outer(row, row)) @ up for row, up in zip(a, g)])

    assert check("attention.softmax_backward", through_jacobian)

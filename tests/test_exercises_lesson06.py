"""Lesson 6's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import numpy as np
import pytest

from exercise_harness import Lesson, failed
from gradlab.exercises import check

NAMES = ("xor.forward", "xor.backward", "xor.train")
LESSON = Lesson("06_final_project_xor")


def test_solution_blocks_are_the_exercises():
    assert list(LESSON.solutions) == list(NAMES)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ---------------------------------------------------------------- forward


def _forward(hidden=np.tanh, output=_sigmoid, b1=True, b2=True, flat=False, swap=False):
    def forward(params, X):
        h = hidden(X @ params["W1"] + (params["b1"] if b1 else 0))
        p = output(h @ params["W2"] + (params["b2"] if b2 else 0))
        p = p.ravel() if flat else p
        return (p, h) if swap else (h, p)

    return forward


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_forward(hidden=lambda z: z), "your hidden layer is linear"),
        (_forward(hidden=_sigmoid), "your hidden layer uses sigmoid"),
        (_forward(b1=False), "b1 is missing"),
        (_forward(output=lambda z: z), "your output is not squashed into (0, 1)"),
        (_forward(b2=False), "b2 is missing"),
        (_forward(flat=True), "p should have shape (n, 1)"),
        (_forward(swap=True), "you returned (p, h)"),
    ],
)
def test_forward_wrong(wrong, hint):
    assert hint in failed("xor.forward", wrong)


# ---------------------------------------------------------------- backward


def _backward(tanh_rule=True, sign=1.0, mean=True, transpose_w1=False, mse_like=False, per_example_bias=False):
    def backward(params, X, y):
        n = len(X)
        h, p = _forward()(params, X)
        dz2 = sign * (p - y) / (n if mean else 1)
        if mse_like:
            dz2 = dz2 * p * (1 - p)
        dh = dz2 @ params["W2"].T
        dz1 = dh * (1 - h**2) if tanh_rule else dh
        dW1 = (X.T @ dz1).T if transpose_w1 else X.T @ dz1
        db1 = dz1 if per_example_bias else dz1.sum(axis=0)
        return {"W1": dW1, "b1": db1, "W2": h.T @ dz2, "b2": dz2.sum(axis=0)}

    return backward


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_backward(transpose_w1=True), "your dW1 has shape (4, 2), W1 has (2, 4)"),
        (_backward(tanh_rule=False), "did you forget the derivative of tanh?"),
        (_backward(sign=-1.0), "has the wrong sign"),
        (_backward(mean=False), "n = 8 times too large"),
        (_backward(mse_like=True), "you multiplied by the sigmoid's derivative p(1 − p) again"),
        (_backward(per_example_bias=True), "your db1 has shape (8, 4), b1 has (4,): one row per example"),
        (lambda params, X, y: {"W1": 0, "W2": 0}, "your gradients lack b1, b2"),
    ],
)
def test_backward_wrong(wrong, hint):
    assert hint in failed("xor.backward", wrong)


# ---------------------------------------------------------------- train


def _train(init="random", update="right", steps_scale=1.0):
    def train(steps=2000, lr=0.5, seed=1):
        X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        y = np.array([[0.0], [1.0], [1.0], [0.0]])
        rng = np.random.default_rng(seed)
        if init == "random":
            params = {"W1": rng.normal(size=(2, 4)), "W2": rng.normal(size=(4, 1))}
        else:
            params = {"W1": np.full((2, 4), 0.5), "W2": np.full((4, 1), 0.5)}
        params.update({"b1": np.zeros(4), "b2": np.zeros(1)})
        backward = _backward()
        for _ in range(int(steps * steps_scale)):
            grads = backward(params, X, y)
            for name, value in params.items():
                if update == "right":
                    params[name] = value - lr * grads[name]
                elif update == "uphill":
                    params[name] = value + lr * grads[name]
                else:  # rebinding the loop variable: the dict never changes
                    value = value - lr * grads[name]
        return params

    return train


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_train(update="rebind"), "your parameters never changed"),
        (_train(init="constant"), "all four hidden units are identical"),
        (_train(update="uphill"), "your loss went up during training"),
        (_train(steps_scale=0.005), "after 2000 steps with lr = 0.5 your outputs are"),
    ],
)
def test_train_wrong(wrong, hint):
    assert hint in failed("xor.train", wrong)


def test_train_reference_passes():
    assert check("xor.train", _train()).status == "passed"

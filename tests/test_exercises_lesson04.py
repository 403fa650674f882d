"""Lesson 4's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import numpy as np
import pytest

from exercise_harness import Lesson, failed
from gradlab.exercises import check

LESSON = Lesson("04_gradient_descent")


def test_solution_blocks_are_the_exercises():
    assert set(LESSON.solutions) == {"descent.step", "descent.run", "descent.training_loop"}


# ---------------------------------------------------------------- descent.step


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda x, g, lr: x + lr * g, "you stepped uphill"),
        (lambda x, g, lr: x - g, "the learning rate is missing"),
        (lambda x, g, lr: -lr * g, "you returned the step −lr·g"),
        (lambda x, g, lr: x - g / lr, "you divided by the learning rate"),
    ],
)
def test_step_wrong(wrong, hint):
    assert hint in failed("descent.step", wrong)


def test_step_in_place():
    def in_place(x, g, lr):
        x -= lr * g
        return x

    assert "changed the caller's x in place" in failed("descent.step", in_place)


# ---------------------------------------------------------------- descent.run


def _loop(stop, count_offset=0, copy=True, budget=True):
    """A descent loop with a chosen stopping test (a typical mistake when it is not ‖g‖ <= tol)."""

    def run(grad, x0, lr=0.1, tol=1e-6, max_steps=10_000):
        x = np.array(x0, dtype=float) if copy else x0
        steps = 0
        while not budget or steps < max_steps:
            g = grad(x)
            if stop(g, lr, tol):
                break
            x -= lr * g
            steps += 1
        return x, steps + count_offset

    return run


def test_run_reference_loop_passes():
    assert check("descent.run", _loop(lambda g, lr, tol: np.linalg.norm(g) <= tol)).status == "passed"


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_loop(lambda g, lr, tol: False), "never stopped early"),
        (_loop(lambda g, lr, tol: np.linalg.norm(g) > tol), "the test the wrong way round"),
        (_loop(lambda g, lr, tol: np.linalg.norm(g) <= tol, count_offset=1), "off by one"),
        (_loop(lambda g, lr, tol: np.linalg.norm(g) <= tol, copy=False), "changed x0 in place"),
        (_loop(lambda g, lr, tol: np.max(np.abs(g)) <= tol), "the largest |component|"),
        (_loop(lambda g, lr, tol: lr * np.linalg.norm(g) <= tol), "you stopped when the step lr·‖g‖"),
        (_loop(lambda g, lr, tol: np.linalg.norm(g) <= tol, budget=False), "stop at the budget"),
        (lambda grad, x0, lr=0.1, tol=1e-6, max_steps=10_000: np.array(x0, dtype=float), "return two things"),
    ],
)
def test_run_wrong(wrong, hint):
    assert hint in failed("descent.run", wrong)


# ---------------------------------------------------------------- descent.training_loop


def _regression(factor=2.0, mean=True, sign=1.0, bias=True, fixed_residual=False):
    def training_loop(X, y, lr=0.1, epochs=500):
        n, d = X.shape
        w, b = np.zeros(d), 0.0
        r = X @ w + b - y
        for _ in range(epochs):
            if not fixed_residual:
                r = X @ w + b - y
            scale = factor / n if mean else factor
            w = w - sign * lr * scale * (X.T @ r)
            if bias:
                b = b - sign * lr * scale * np.sum(r)
        return w, b

    return training_loop


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_regression(factor=1.0), "you moved half as far"),
        (_regression(mean=False), "40 times too far"),
        (_regression(sign=-1.0), "you stepped uphill"),
        (_regression(bias=False), "your bias did not move"),
        (_regression(fixed_residual=True), "recompute the residual"),
    ],
)
def test_training_loop_wrong(wrong, hint):
    assert hint in failed("descent.training_loop", wrong)


def test_training_loop_wrong_shape():
    def column(X, y, lr=0.1, epochs=500):
        return np.zeros((X.shape[1], 1)), 0.0

    assert "should have shape (3,)" in failed("descent.training_loop", column)

"""Lesson 5's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import numpy as np
import pytest

from exercise_harness import Lesson, failed
from gradlab.exercises import check

NAMES = ("optimizers.momentum_step", "optimizers.rmsprop_step", "optimizers.adam_step")
LESSON = Lesson("05_optimizers")


def test_solution_blocks_are_the_exercises():
    assert set(LESSON.solutions) == set(NAMES)


# ---------------------------------------------------------------- momentum


def _old_velocity(x, g, v, lr, mu):
    return x - lr * v, mu * v + g


def _no_fade(x, g, v, lr, mu):
    v = v + g
    return x - lr * v, v


def _average(x, g, v, lr, mu):
    v = mu * v + (1 - mu) * g
    return x - lr * v, v


def _other_convention(x, g, v, lr, mu):
    v = mu * v - lr * g
    return x + v, v


def _momentum_uphill(x, g, v, lr, mu):
    v = mu * v + g
    return x + lr * v, v


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_old_velocity, "you moved with the old velocity"),
        (_no_fade, "the velocity never fades"),
        (_average, "that is an average"),
        (_other_convention, "you used the other convention"),
        (_momentum_uphill, "you stepped uphill"),
        (lambda x, g, v, lr, mu: x - lr * (mu * v + g), "return 2 things"),
    ],
)
def test_momentum_wrong(wrong, hint):
    assert hint in failed("optimizers.momentum_step", wrong)


# ---------------------------------------------------------------- RMSProp


def _rms(square=True, root=True, weight=True, old=False, sign=1.0):
    def rmsprop_step(x, g, s, lr, rho, eps):
        s_new = rho * s + ((1 - rho) if weight else 1.0) * (g**2 if square else g)
        used = s if old else s_new
        with np.errstate(all="ignore"):
            return x - sign * lr * g / ((np.sqrt(used) if root else used) + eps), s_new

    return rmsprop_step


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_rms(root=False), "you divided by s; divide by its square root"),
        (_rms(old=True), "you divided by the old s"),
        (_rms(weight=False), "the new g² needs the weight (1 − rho)"),
        (_rms(square=False), "s is an average of the squares g², not of g"),
        (_rms(sign=-1.0), "you stepped uphill"),
    ],
)
def test_rmsprop_wrong(wrong, hint):
    assert hint in failed("optimizers.rmsprop_step", wrong)


# ---------------------------------------------------------------- Adam


def _adam(correct_m=True, correct_v=True, root=True, state_hat=False, square=True, fixed=False, t_shift=0):
    def adam_step(x, g, m, v, t, lr, beta1, beta2, eps):
        if fixed:
            beta1, beta2, eps = 0.9, 0.999, 1e-8
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * (g**2 if square else g)
        m_hat = m / (1 - beta1 ** (t + t_shift)) if correct_m else m
        v_hat = v / (1 - beta2 ** (t + t_shift)) if correct_v else v
        with np.errstate(all="ignore"):
            x = x - lr * m_hat / ((np.sqrt(v_hat) if root else v_hat) + eps)
        return (x, m_hat, v_hat) if state_hat else (x, m, v)

    return adam_step


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_adam(correct_m=False, correct_v=False), "you forgot the bias correction"),
        (_adam(correct_v=False), "you corrected m but not v"),
        (_adam(correct_m=False), "you corrected v but not m"),
        (_adam(state_hat=True), "you returned the corrected m̂ and v̂ as the new state"),
        (_adam(root=False), "divide by the square root of v̂"),
        (_adam(square=False), "v is an average of the squares g², not of g"),
        (_adam(fixed=True), "your step uses the default numbers"),
        (_adam(t_shift=1), "your bias correction uses t + 1"),
    ],
)
def test_adam_wrong(wrong, hint):
    assert hint in failed("optimizers.adam_step", wrong)


def test_adam_forgotten_correction_names_the_first_step_factor():
    result = check("optimizers.adam_step", _adam(correct_m=False, correct_v=False))
    assert "3.16 times too long" in result.message  # (1 − 0.9) / √(1 − 0.999)
    assert "step t = 1" in result.message


def test_adam_correction_from_t_minus_one_at_the_first_step():
    result = check("optimizers.adam_step", _adam(t_shift=-1))
    assert result.status == "failed"
    assert "did the bias correction divide by 1 − beta1**0 = 0?" in result.message

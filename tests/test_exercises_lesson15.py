"""Lesson 15's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import numpy as np

from exercise_harness import Lesson, failed

LESSON = Lesson("15_diffusion")


# diffusion.q_sample -----------------------------------------------------------------------------------------


def test_q_sample_without_square_roots():
    message = failed("diffusion.q_sample", lambda x0, t, eps, ab: ab[t] * x0 + (1 - ab[t]) * eps)
    assert "the square roots are missing" in message


def test_q_sample_coefficients_swapped():
    message = failed("diffusion.q_sample", lambda x0, t, eps, ab: np.sqrt(1 - ab[t]) * x0 + np.sqrt(ab[t]) * eps)
    assert "swapped" in message


def test_q_sample_off_by_one_step():
    message = failed(
        "diffusion.q_sample", lambda x0, t, eps, ab: np.sqrt(ab[t - 1]) * x0 + np.sqrt(1 - ab[t - 1]) * eps
    )
    assert "off by one step" in message


def test_q_sample_noise_coefficient_a_variance():
    message = failed("diffusion.q_sample", lambda x0, t, eps, ab: np.sqrt(ab[t]) * x0 + (1 - ab[t]) * eps)
    assert "a standard deviation, not a variance" in message


# diffusion.gaussian_score -----------------------------------------------------------------------------------


def test_gaussian_score_sign():
    assert "the sign is flipped" in failed("diffusion.gaussian_score", lambda x, mu, s: (x - mu) / s**2)


def test_gaussian_score_divided_by_sigma():
    assert "divide by σ², the variance" in failed("diffusion.gaussian_score", lambda x, mu, s: -(x - mu) / s)


def test_gaussian_score_without_the_mean():
    assert "subtract the mean first" in failed("diffusion.gaussian_score", lambda x, mu, s: -x / s**2)


def test_gaussian_score_half():
    assert "off by a factor 2" in failed("diffusion.gaussian_score", lambda x, mu, s: -(x - mu) / (2 * s**2))


# diffusion.reverse_mean -------------------------------------------------------------------------------------


def _mean(coefficient=lambda b, ab: b / np.sqrt(1 - ab), divisor=lambda b, ab: np.sqrt(1 - b), sign=-1.0):
    def reverse_mean(x, eps_hat, t, beta, alpha_bar):
        b, ab = beta[t], alpha_bar[t]
        return (x + sign * coefficient(b, ab) * eps_hat) / divisor(b, ab)

    return reverse_mean


def test_reverse_mean_adds_the_noise():
    assert "added instead of removed" in failed("diffusion.reverse_mean", _mean(sign=1.0))


def test_reverse_mean_without_the_division():
    assert "divide by √α_t = √(1 − β_t)" in failed("diffusion.reverse_mean", _mean(divisor=lambda b, ab: 1.0))


def test_reverse_mean_divides_by_alpha_bar():
    message = failed("diffusion.reverse_mean", _mean(divisor=lambda b, ab: np.sqrt(ab)))
    assert "not by √ᾱ_t of all steps" in message


def test_reverse_mean_sqrt_beta():
    message = failed("diffusion.reverse_mean", _mean(coefficient=lambda b, ab: np.sqrt(b) / np.sqrt(1 - ab)))
    assert "β_t itself, not √β_t" in message


def test_reverse_mean_removes_all_the_noise():
    message = failed("diffusion.reverse_mean", _mean(coefficient=lambda b, ab: np.sqrt(1 - ab)))
    assert "remove only this step's share" in message

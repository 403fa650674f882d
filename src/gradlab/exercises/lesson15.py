"""Checkers for lesson 15, diffusion: noising in one step, the score of a Gaussian, and one step back.

diffusion.q_sample        x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε
diffusion.gaussian_score  ∇ₓ log N(x; μ, σ² I) = −(x − μ)/σ², against the engine's gradient of log p
diffusion.reverse_mean    the mean of one reverse step, (x_t − β_t/√(1 − ᾱ_t) ε̂) / √α_t
"""

from __future__ import annotations

import math

import numpy as np

import gradlab as gl

from ..apps.diffusion import Schedule
from . import grading
from .common import as_array, like
from .core import exercise

SCHEDULE = Schedule(T=100)


def _cases(seed: int):
    rng = np.random.default_rng(seed)
    for t in (1, 7, 40, 100):
        yield int(t), rng.standard_normal((5, 2)), rng.standard_normal((5, 2))


@exercise("diffusion.q_sample")
def _q_sample(fn):
    alpha_bar = SCHEDULE.alpha_bar.copy()
    for t, x0, eps in _cases(150):
        at = f"t = {t}"
        got = as_array(grading.call(fn, x0.copy(), t, eps.copy(), alpha_bar.copy()), "your x_t is a {type}")
        a = alpha_bar[t]
        want = math.sqrt(a) * x0 + math.sqrt(1 - a) * eps
        grading.expect_close(
            got,
            want,
            at=at,
            hints=[
                (
                    like(a * x0 + (1 - a) * eps),
                    "the square roots are missing: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε — ᾱ_t and 1 − ᾱ_t are "
                    "variances, the coefficients are their square roots",
                ),
                (
                    like(math.sqrt(1 - a) * x0 + math.sqrt(a) * eps),
                    "the two coefficients are swapped: the data keeps √ᾱ_t (near 1 for small t), the noise gets "
                    "√(1 − ᾱ_t)",
                ),
                (
                    like(math.sqrt(alpha_bar[t - 1]) * x0 + math.sqrt(1 - alpha_bar[t - 1]) * eps),
                    "off by one step: use alpha_bar[t] (the array starts with ᾱ_0 = 1 at index 0)",
                ),
                (
                    like(math.sqrt(a) * x0 + (1 - a) * eps),
                    "the noise's coefficient is √(1 − ᾱ_t), not 1 − ᾱ_t: a standard deviation, not a variance",
                ),
            ],
        )


def _log_gaussian(x, mu, sigma):
    """log N(x; μ, σ² I) up to its constant: −‖x − μ‖² / (2σ²)."""
    diff = x - mu
    return -(diff * diff).sum() / (2 * sigma**2)


@exercise("diffusion.gaussian_score")
def _gaussian_score(fn):
    rng = np.random.default_rng(151)
    for sigma in (0.7, 1.3, 2.3):  # none with σ = 2σ², where dividing by σ and by 2σ² agree
        mu = rng.uniform(-2, 2, 2)
        x = mu + rng.standard_normal(2) * sigma
        at = f"x = ({x[0]:.3g}, {x[1]:.3g}), μ = ({mu[0]:.3g}, {mu[1]:.3g}), σ = {sigma}"
        got = as_array(grading.call(fn, x.copy(), mu.copy(), sigma), "your score is a {type}")
        want = np.asarray(gl.grad(_log_gaussian)(x, mu, sigma), dtype=np.float64)  # the engine's ∇ₓ log p
        grading.expect_close(
            got,
            want,
            at=at,
            hints=[
                (
                    grading.sign_flipped,
                    "the sign is flipped: the score points uphill, towards the more probable points, so at x it "
                    "points back to μ: −(x − μ)/σ²",
                ),
                (like(-(x - mu) / sigma), "divide by σ², the variance, not by σ: log p = −‖x − μ‖²/(2σ²)"),
                (like(-x / sigma**2), "subtract the mean first: the score is zero at x = μ, −(x − μ)/σ²"),
                (like(-(x - mu) / (2 * sigma**2)), "off by a factor 2: the derivative of ‖x − μ‖²/2 is x − μ"),
            ],
        )


@exercise("diffusion.reverse_mean")
def _reverse_mean(fn):
    s = SCHEDULE
    for t, x, eps_hat in _cases(152):
        if t == 1:
            continue
        at = f"t = {t}"
        got = as_array(
            grading.call(fn, x.copy(), eps_hat.copy(), t, s.beta.copy(), s.alpha_bar.copy()), "your mean is a {type}"
        )
        b, ab = s.beta[t], s.alpha_bar[t]
        a = 1 - b
        want = (x - b / math.sqrt(1 - ab) * eps_hat) / math.sqrt(a)
        grading.expect_close(
            got,
            want,
            at=at,
            hints=[
                (
                    like((x + b / math.sqrt(1 - ab) * eps_hat) / math.sqrt(a)),
                    "the noise is added instead of removed: subtract β_t/√(1 − ᾱ_t) ε̂",
                ),
                (like(x - b / math.sqrt(1 - ab) * eps_hat), "divide by √α_t = √(1 − β_t) at the end"),
                (
                    like((x - b / math.sqrt(1 - ab) * eps_hat) / math.sqrt(ab)),
                    "divide by √α_t of this one step (α_t = 1 − β_t), not by √ᾱ_t of all steps so far",
                ),
                (
                    like((x - math.sqrt(b) / math.sqrt(1 - ab) * eps_hat) / math.sqrt(a)),
                    "ε̂'s coefficient is β_t/√(1 − ᾱ_t): β_t itself, not √β_t",
                ),
                (
                    like((x - math.sqrt(1 - ab) * eps_hat) / math.sqrt(a)),
                    "remove only this step's share of the noise, β_t/√(1 − ᾱ_t) ε̂, not all of it √(1 − ᾱ_t) ε̂",
                ),
            ],
        )

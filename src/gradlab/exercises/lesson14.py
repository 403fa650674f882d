"""Checkers for lesson 14, the GAN: the game's value, the generator's gradient, and the mode-collapse metric.

gan.discriminator_value   V = mean log σ(r) + mean log(1 − σ(f)), stable for logits far from 0
gan.generator_gradient    ∂L_G/∂f for L_G = −mean log σ(f) (non-saturating): −(1 − σ(f)) / n
gan.mode_coverage         (modes covered, share of samples within 3σ of their nearest mode)
"""

from __future__ import annotations

import numpy as np

from ..apps.gan import GRID, RING, mode_metrics
from . import grading
from .common import as_array, like, near
from .core import Wrong, exercise


def _sigmoid(t):
    return 0.5 * (1 + np.tanh(0.5 * t))


def _value(r, f):
    return float(-np.mean(np.logaddexp(0, -r)) - np.mean(np.logaddexp(0, f)))


def _logits(seed, n):
    return grading.points(seed=seed, n=n, low=-3, high=3)


@exercise("gan.discriminator_value")
def _discriminator_value(fn):
    cases = [(_logits(140, 7), _logits(141, 5)), (_logits(142, 3), _logits(143, 9))]
    for r, f in cases:
        at = f"{len(r)} real and {len(f)} fake logits"
        got = float(as_array(grading.call(fn, r.copy(), f.copy()), f"your V for {at} is a {{type}}, not a number"))
        want = _value(r, f)
        if near(got, -want):
            raise Wrong(
                f"your V has the wrong sign ({at}): V = mean log D(x) + mean log(1 − D(G(z))) is ≤ 0; its "
                "negative is the binary cross-entropy the discriminator descends"
            )
        if near(got, float(-np.mean(np.logaddexp(0, -r)) - np.mean(np.logaddexp(0, -f)))):
            raise Wrong(
                f"the fake term is log D(G(z)) instead of log(1 − D(G(z))) ({at}): the discriminator wants to say "
                "'fake', so it scores 1 − σ(f)"
            )
        if near(got, float(np.mean(_sigmoid(r)) + np.mean(1 - _sigmoid(f)))):
            raise Wrong(f"you averaged the probabilities themselves ({at}); V averages their logarithms")
        if near(got, float(np.sum(np.log(_sigmoid(r))) + np.sum(np.log(1 - _sigmoid(f))))):
            raise Wrong(f"you summed instead of averaging ({at}): each term is a mean over its own batch")
        grading.expect_close(got, want, at=at)
    # far logits: a confident discriminator must not give -inf
    r, f = np.array([-800.0, 2.0, 40.0]), np.array([800.0, -40.0, 0.5])
    got = float(as_array(grading.call(fn, r.copy(), f.copy()), "your V is a {type}, not a number"))
    if not np.isfinite(got):
        raise Wrong(
            "V is not finite at logits ±800: σ(−800) rounds to 0 and log 0 = −inf — compute "
            "log σ(d) = −log(1 + e^(−d)) = −np.logaddexp(0, −d) and log(1 − σ(d)) = −np.logaddexp(0, d)"
        )
    grading.expect_close(got, _value(r, f), at="logits ±800", tol=1e-9)


@exercise("gan.generator_gradient")
def _generator_gradient(fn):
    for seed, n in ((144, 6), (145, 11)):
        f = _logits(seed, n)
        at = f"{n} fake logits"
        got = as_array(grading.call(fn, f.copy()), f"your gradient for {at} is a {{type}}, not an array of numbers")
        want = -(1 - _sigmoid(f)) / n
        hints = [
            (
                like(-_sigmoid(f) / n),
                "that is the saturating loss's gradient, ∂/∂f mean log(1 − σ(f)) = −σ(f)/n, "
                "which vanishes where σ(f) ≈ 0 — when the generator is worst. L_G = −mean log σ(f)",
            ),
            (like(-want), "the sign is flipped: raising a fake's logit lowers −log σ(f), so ∂L_G/∂f < 0"),
            (like(want * n), "off by a factor n: L_G is a mean over the batch, so each ∂L_G/∂f_j carries 1/n"),
            (
                like(_sigmoid(f) * (1 - _sigmoid(f)) / n * -1),
                "you multiplied by σ'(f) = σ(1 − σ): the derivative of log σ(f) is σ'(f)/σ(f) = 1 − σ(f)",
            ),
        ]
        grading.expect_close(got, want, at=at, hints=hints)
    f = _logits(146, 4)
    grading.gradient_check(lambda t: float(np.mean(np.logaddexp(0, -t))), fn, f)


def _mode_cases():
    rng = np.random.default_rng(147)
    ring = RING.sample(300, rng)
    collapsed = GRID.centres[[7]] + 2.5 * GRID.sigma * rng.standard_normal((200, 2))
    stray = GRID.centres[[0, 12, 20]] + 5 * GRID.sigma  # nearest to a mode, yet not high quality
    collapsed = np.concatenate([collapsed, stray])
    spread = GRID.centres[rng.integers(25, size=400)] + 2.0 * GRID.sigma * rng.standard_normal((400, 2))
    return [(ring, RING), (collapsed, GRID), (spread, GRID)]


@exercise("gan.mode_coverage")
def _mode_coverage(fn):
    for samples, mixture in _mode_cases():
        at = f"{len(samples)} samples on the {mixture.name}"
        answer = grading.call(fn, samples.copy(), mixture.centres.copy(), mixture.sigma)
        if not isinstance(answer, tuple | list) or len(answer) != 2:
            raise Wrong("return two numbers: `return modes_covered, high_quality_share`")
        modes, share = float(as_array(answer[0], "modes is a {type}")), float(as_array(answer[1], "share is a {type}"))
        want = mode_metrics(samples, mixture)
        distance = np.linalg.norm(samples[:, None, :] - mixture.centres[None], axis=2)
        nearest, closest = distance.argmin(axis=1), distance.min(axis=1)
        if near(share, 100 * want["high_quality"]) and want["high_quality"] > 0:
            raise Wrong(f"your share is a percentage ({at}); return the fraction between 0 and 1")
        if near(share, float(np.mean(closest <= mixture.sigma))) and not near(share, want["high_quality"]):
            raise Wrong(f"your threshold is σ ({at}); a sample is high quality within 3σ of its nearest mode")
        if near(modes, len(np.unique(nearest))) and not near(modes, want["modes"]):
            raise Wrong(
                f"you counted every mode that is nearest to some sample ({at}); a mode is covered only when one of "
                "its samples is high quality (within 3σ)"
            )
        grading.expect_close(share, want["high_quality"], at=at + " (high-quality share)", tol=1e-12)
        grading.expect_close(modes, want["modes"], at=at + " (modes covered)", tol=1e-12)

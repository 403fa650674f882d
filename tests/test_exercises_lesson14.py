"""Lesson 14's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import numpy as np

from exercise_harness import Lesson, failed

LESSON = Lesson("14_gan")
solution = LESSON.solution


def sig(t):
    return 1 / (1 + np.exp(-t))


# gan.discriminator_value -----------------------------------------------------------------------------------


def test_value_with_the_wrong_sign():
    right = solution("gan.discriminator_value")
    assert "wrong sign" in failed("gan.discriminator_value", lambda r, f: -right(r, f))


def test_value_scoring_fakes_as_real():
    def wrong(r, f):
        return np.mean(np.log(sig(r))) + np.mean(np.log(sig(f)))

    assert "log D(G(z)) instead of log(1 − D(G(z)))" in failed("gan.discriminator_value", wrong)


def test_value_summed_instead_of_averaged():
    def wrong(r, f):
        return np.sum(np.log(sig(r))) + np.sum(np.log(1 - sig(f)))

    assert "summed instead of averaging" in failed("gan.discriminator_value", wrong)


def test_value_that_overflows_for_a_confident_discriminator():
    def wrong(r, f):
        with np.errstate(all="ignore"):
            return np.mean(np.log(sig(r))) + np.mean(np.log(1 - sig(f)))

    assert "np.logaddexp" in failed("gan.discriminator_value", wrong)


# gan.generator_gradient ------------------------------------------------------------------------------------


def test_generator_gradient_of_the_saturating_loss():
    assert "saturating loss's gradient" in failed("gan.generator_gradient", lambda f: -sig(f) / len(f))


def test_generator_gradient_sign_flipped():
    assert "sign is flipped" in failed("gan.generator_gradient", lambda f: (1 - sig(f)) / len(f))


def test_generator_gradient_without_the_mean():
    assert "factor n" in failed("gan.generator_gradient", lambda f: -(1 - sig(f)))


def test_generator_gradient_times_the_sigmoids_derivative():
    assert "σ'(f)" in failed("gan.generator_gradient", lambda f: -sig(f) * (1 - sig(f)) / len(f))


# gan.mode_coverage -----------------------------------------------------------------------------------------


def _coverage(threshold=3, percent=False, any_sample=False):
    def wrong(samples, centres, sigma):
        distance = np.linalg.norm(samples[:, None, :] - centres[None], axis=2)
        nearest = distance.argmin(axis=1)
        good = distance.min(axis=1) <= threshold * sigma
        modes = len(np.unique(nearest if any_sample else nearest[good]))
        return modes, float(np.mean(good)) * (100 if percent else 1)

    return wrong


def test_coverage_as_a_percentage():
    assert "percentage" in failed("gan.mode_coverage", _coverage(percent=True))


def test_coverage_within_one_sigma():
    assert "threshold is σ" in failed("gan.mode_coverage", _coverage(threshold=1))


def test_coverage_counting_modes_without_a_good_sample():
    assert "only when one of its samples is high quality" in failed("gan.mode_coverage", _coverage(any_sample=True))

"""Lesson 11's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import numpy as np
import pytest
from scipy.signal import convolve2d, correlate2d

from exercise_harness import Lesson, failed

LESSON = Lesson("11_convolution_gradient", convolve2d=convolve2d, correlate2d=correlate2d)
NAMES = ["conv.weight_gradient", "conv.input_gradient", "conv.strided_input_gradient"]


def test_every_exercise_has_a_solution():
    assert set(LESSON.solutions) == set(NAMES)


# conv.weight_gradient ----------------------------------------------------------------------------------


def test_weight_gradient_convolved():
    message = failed("conv.weight_gradient", lambda x, g: convolve2d(x, g, "valid"))
    assert "you convolved" in message and "correlate2d(X, G, 'valid')" in message


def test_weight_gradient_arguments_swapped():
    message = failed("conv.weight_gradient", lambda x, g: correlate2d(g, x, "valid"))
    assert "rotated by 180°" in message and "not correlate(G, X)" in message


def test_weight_gradient_full_mode():
    message = failed("conv.weight_gradient", lambda x, g: correlate2d(x, g, "full"))
    assert "shape of a 'full' correlation" in message and "mode='valid'" in message


def test_weight_gradient_sign():
    assert "wrong sign" in failed("conv.weight_gradient", lambda x, g: -correlate2d(x, g, "valid"))


# conv.input_gradient -----------------------------------------------------------------------------------


def test_input_gradient_correlated():
    message = failed("conv.input_gradient", lambda g, w: correlate2d(g, w, "full"))
    assert "you correlated" in message and "convolve2d(G, W, 'full')" in message


@pytest.mark.parametrize("mode", ["valid", "same"])
def test_input_gradient_not_full(mode):
    message = failed("conv.input_gradient", lambda g, w: convolve2d(g, w, mode))
    assert "smaller than X" in message and "mode='full'" in message


def test_input_gradient_sign():
    assert "wrong sign" in failed("conv.input_gradient", lambda g, w: -convolve2d(g, w, "full"))


# conv.strided_input_gradient ---------------------------------------------------------------------------


def spread(g, step):
    """g with step − 1 zeros between neighbouring entries."""
    out = np.zeros((step * (g.shape[0] - 1) + 1, step * (g.shape[1] - 1) + 1))
    out[::step, ::step] = g
    return out


def placed(a, shape):
    out = np.zeros(shape)
    h, w = min(shape[0], a.shape[0]), min(shape[1], a.shape[1])
    out[:h, :w] = a[:h, :w]
    return out


def test_strided_not_dilated():
    message = failed("conv.strided_input_gradient", lambda g, w, shape, s: placed(convolve2d(g, w, "full"), shape))
    assert "you convolved G itself" in message and "s − 1 zeros" in message


def test_strided_dilated_too_far():
    def wrong(g, w, shape, s):
        return placed(convolve2d(spread(g, s + 1), w, "full"), shape)

    assert "stretched" in failed("conv.strided_input_gradient", wrong)


def test_strided_not_padded_to_the_input():
    message = failed("conv.strided_input_gradient", lambda g, w, shape, s: convolve2d(spread(g, s), w, "full"))
    assert "never under the filter" in message and "pad the result with zeros" in message


def test_strided_correlated():
    def wrong(g, w, shape, s):
        return placed(correlate2d(spread(g, s), w, "full"), shape)

    assert "you correlated" in failed("conv.strided_input_gradient", wrong)

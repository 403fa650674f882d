"""Checkers for lesson 11, convolution's gradient: both gradients of Y = correlate(X, W, "valid"), by hand.

    conv.weight_gradient          ∂L/∂W = correlate(X, G, "valid")          (G = ∂L/∂Y)
    conv.input_gradient           ∂L/∂X = convolve(G, W, "full")
    conv.strided_input_gradient   stride s: ∂L/∂X = convolve(dilate(G, s), W, "full"), zero-padded to X's shape

One image channel, one filter. The answers are compared with the engine's gradients (gl.grad of
L = Σ Y·G through gl.conv2d) for random X, W and G the learner did not choose.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import convolve2d, correlate2d

import gradlab as gl

from . import grading
from .common import as_array, like
from .core import Wrong, exercise

__all__ = ["engine_gradients"]


def engine_gradients(x, w, grad_y, stride: int = 1):
    """(∂L/∂X, ∂L/∂W) of L = Σ correlate(X, W)[::s, ::s] · G from the engine, for 2-D X, W and G."""

    def loss(x, w):
        return (gl.conv2d(x[None, None], w[None, None], stride=stride)[0, 0] * grad_y).sum()

    gx, gw = gl.grad(loss, argnums=(0, 1))(gl.Tensor(x), gl.Tensor(w))
    return gx.numpy(), gw.numpy()


def _cases(seed, sizes, stride=1):
    """(X, W, G) for each (H, W, kh, kw) in sizes: random normal, G shaped as the (strided) output."""
    rng = np.random.default_rng(seed)
    for h, wd, kh, kw in sizes:
        x, w = rng.standard_normal((h, wd)), rng.standard_normal((kh, kw))
        g = rng.standard_normal(((h - kh) // stride + 1, (wd - kw) // stride + 1))
        yield x, w, g


def _at(x, w, g, stride=1) -> str:
    where = f"X {x.shape[0]}×{x.shape[1]}, W {w.shape[0]}×{w.shape[1]}, G {g.shape[0]}×{g.shape[1]}"
    return where + (f", stride {stride}" if stride > 1 else "")


def _answer(value, at):
    return as_array(value, f"your answer at {at} is a {{type}}, not an array of numbers")


ROTATED = "your answer is the right one rotated by 180° at {at}: "


@exercise("conv.weight_gradient")
def _weight_gradient(fn):
    for x, w, g in _cases(11, [(6, 7, 3, 2), (8, 5, 4, 4), (5, 9, 2, 3)]):
        at = _at(x, w, g)
        got = _answer(grading.call(fn, x.copy(), g.copy()), at)
        want = engine_gradients(x, w, g)[1]
        full_shape = correlate2d(x, g, "full").shape
        grading.expect_close(
            got,
            want,
            at=at,
            hints=[
                (
                    like(convolve2d(x, g, "valid")),
                    "you convolved at {at}: convolve2d flips G before sliding it; ∂L/∂W[a, b] = "
                    "Σ G[i, j]·X[i + a, j + b] has no flip: it is a correlation, correlate2d(X, G, 'valid')",
                ),
                (
                    lambda got, want, full_shape=full_shape: got.shape == full_shape,
                    f"your answer has the shape of a 'full' correlation, {full_shape}; ∂L/∂W has "
                    f"W's shape {w.shape}: only the offsets where G fits inside X count, mode='valid'",
                ),
                (
                    grading.sign_flipped,
                    "every entry has the wrong sign at {at}: L = Σ Y·G, so ∂L/∂W = +correlate(X, G)",
                ),
                (
                    rotated,
                    ROTATED + "correlate(X, G), not correlate(G, X): G slides over X, "
                    "∂L/∂W[a, b] = Σ G[i, j]·X[i + a, j + b]",
                ),
            ],
        )


@exercise("conv.input_gradient")
def _input_gradient(fn):
    for x, w, g in _cases(12, [(6, 7, 3, 2), (8, 5, 4, 4), (5, 9, 2, 3)]):
        at = _at(x, w, g)
        got = _answer(grading.call(fn, g.copy(), w.copy()), at)
        want = engine_gradients(x, w, g)[0]
        grading.expect_close(
            got,
            want,
            at=at,
            hints=[
                (
                    like(correlate2d(g, w, "full")),
                    "you correlated at {at}: correlate2d slides W unflipped, but ∂L/∂X[u, v] = "
                    "Σ G[i, j]·W[u − i, v − j] runs W backwards: a convolution, convolve2d(G, W, 'full')",
                ),
                (
                    lambda got, want: got.shape != want.shape and got.size < want.size,
                    f"your answer is smaller than X {x.shape}: every input pixel needs a gradient, and the edge "
                    "pixels are reached by only part of the filter: mode='full'",
                ),
                (grading.sign_flipped, "every entry has the wrong sign at {at}: ∂L/∂X = +convolve(G, W, 'full')"),
            ],
        )


def _dilate(g, stride):
    out = np.zeros((stride * (g.shape[0] - 1) + 1, stride * (g.shape[1] - 1) + 1))
    out[::stride, ::stride] = g
    return out


@exercise("conv.strided_input_gradient")
def _strided_input_gradient(fn):
    # (H − kh) is a multiple of the stride in the first case and not in the others (the unreached rows).
    cases = [(7, 9, 3, 3, 2), (8, 8, 3, 2, 2), (10, 9, 2, 3, 3), (9, 11, 4, 3, 3)]
    for (h, wd, kh, kw, s), seed in zip(cases, range(13, 20)):
        x, w, g = next(_cases(seed, [(h, wd, kh, kw)], stride=s))
        at = _at(x, w, g, s)
        got = _answer(grading.call(fn, g.copy(), w.copy(), x.shape, s), at)
        want = engine_gradients(x, w, g, stride=s)[0]
        full = convolve2d(_dilate(g, s), w, "full")
        if got.shape == full.shape and full.shape != want.shape:
            raise Wrong(
                f"your answer is {full.shape}, X is {want.shape} at {at}: the last (H − kh) mod s rows (and columns) "
                "are never under the filter; pad the result with zeros up to X's shape"
            )
        spread = np.zeros(((s + 1) * (g.shape[0] - 1) + 1, (s + 1) * (g.shape[1] - 1) + 1))
        spread[:: s + 1, :: s + 1] = g  # s zeros between neighbours instead of s − 1
        grading.expect_close(
            got,
            want,
            at=at,
            hints=[
                (
                    like(_pad_to(convolve2d(g, w, "full"), want.shape)),
                    "you convolved G itself at {at}: with a stride the outputs sit s pixels apart, so put s − 1 "
                    "zeros between neighbouring entries of G (dilate it) before the full convolution",
                ),
                (
                    like(_pad_to(convolve2d(spread, w, "full"), want.shape)),
                    "your dilated G is stretched at {at}: output (i, j) came from input (s·i, s·j), so neighbouring "
                    "entries of G sit s apart: s − 1 zeros between them, not s",
                ),
                (
                    like(_pad_to(correlate2d(_dilate(g, s), w, "full"), want.shape)),
                    "you correlated at {at}: the filter must run backwards (flipped): convolve2d, not correlate2d",
                ),
            ],
        )


def rotated(got, want) -> bool:
    """A hint predicate: got is want turned by 180° (a flip too many or too few)."""
    return like(np.asarray(want)[::-1, ::-1])(got, want)


def _pad_to(a, shape):
    """a cut or zero-padded (at the bottom and right) to shape."""
    out = np.zeros(shape)
    h, w = min(shape[0], a.shape[0]), min(shape[1], a.shape[1])
    out[:h, :w] = a[:h, :w]
    return out

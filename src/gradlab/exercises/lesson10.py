"""Checkers for lesson 10, attention and the softmax Jacobian, each written by hand in NumPy.

    attention.softmax_jacobian   J(x) = diag(s) − s sᵀ with s = softmax(x): the n × n matrix ∂s_i/∂x_j
    attention.scaled_attention   softmax(Q Kᵀ / √d_k) V, the softmax along each query's row of scores
    attention.softmax_backward   dL/dS = A ⊙ (G − Σ_j G ⊙ A) for A = softmax(S) by rows and G = dL/dA

The answers are compared with the engine's (gl.jacrev(gl.softmax), gradlab.nn.scaled_dot_product_attention,
a backward pass through gl.softmax) at points the learner did not choose.
"""

from __future__ import annotations

import numpy as np

import gradlab as gl
from gradlab.nn import scaled_dot_product_attention

from . import grading
from .common import as_array, like, near
from .core import Wrong, exercise

__all__ = ["softmax_rows"]


def softmax_rows(x: np.ndarray) -> np.ndarray:
    """softmax along the last axis, shifted by the row's largest value so nothing overflows."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _array(value, at: str) -> np.ndarray:
    return as_array(value, f"your answer at {at} is a {{type}}, not an array of numbers")


def _expect(got, want, at: str, hints) -> None:
    """Pass when got ≈ want to 1e-9 of the largest entry (entries near 0 are compared absolutely, so a rounding
    difference in a tiny entry is not an error); otherwise expect_close names the mistake."""
    if near(got, want, tol=1e-9):
        return
    grading.expect_close(got, want, at=at, hints=hints)
    raise Wrong(f"your answer differs from the expected one at {at}")  # pragma: no cover - expect_close raised


@exercise("attention.softmax_jacobian")
def _softmax_jacobian(fn):
    engine = gl.jacrev(gl.softmax)
    for trial, n in enumerate((3, 4, 6)):
        x = grading.points(seed=100 + trial, n=1, low=-2, high=2, shape=(n,))[0]
        at = "x = (" + ", ".join(f"{v:.3g}" for v in x) + ")"
        got = _array(grading.call(fn, x.copy()), at)
        want = np.asarray(engine(x), dtype=np.float64)
        s = softmax_rows(x)
        if got.shape == (n,):
            raise Wrong(
                f"your answer has shape ({n},): the Jacobian of softmax: Rⁿ → Rⁿ is n × n, "
                "J[i, j] = ∂s_i/∂x_j (every weight depends on every score)"
            )
        _expect(
            got,
            want,
            at,
            [
                (
                    like(np.diag(s * (1 - s))),
                    "your off-diagonal entries are 0 at {at}: ∂s_i/∂x_j = −s_i·s_j ≠ 0 "
                    "for i ≠ j (raising one score lowers every other weight, since the weights sum to 1)",
                ),
                (
                    like(-np.outer(s, s)),
                    "the diagonal is missing its s_i term at {at}: J = diag(s) − s sᵀ, so J[i, i] = s_i − s_i²",
                ),
                (like(np.diag(s)), "you kept only diag(s) at {at}: subtract the outer product s sᵀ"),
                (
                    grading.sign_flipped,
                    "every entry has the wrong sign at {at}: J = diag(s) − s sᵀ, not s sᵀ − diag(s)",
                ),
                (
                    like(np.diag(np.exp(x)) - np.outer(np.exp(x), np.exp(x))),
                    "you used e^x where the softmax s = e^x / Σ e^x belongs (at {at})",
                ),
            ],
        )
    return "equal to gl.jacrev(gl.softmax) at 3 points, for n = 3, 4 and 6"


@exercise("attention.scaled_attention")
def _scaled_attention(fn):
    rng = np.random.default_rng(110)
    for n_q, n_k, d_k, d_v in ((3, 4, 5, 2), (2, 6, 8, 3), (4, 4, 16, 4)):
        q, k, v = rng.normal(size=(n_q, d_k)), rng.normal(size=(n_k, d_k)), rng.normal(size=(n_k, d_v))
        at = f"Q {q.shape}, K {k.shape}, V {v.shape}"
        got = _array(grading.call(fn, q.copy(), k.copy(), v.copy()), at)
        want = scaled_dot_product_attention(q, k, v).numpy()
        scores = q @ k.T
        _expect(
            got,
            want,
            at,
            [
                (
                    like(softmax_rows(scores) @ v),
                    "you did not scale the scores at {at}: divide Q Kᵀ by √d_k "
                    "(d_k = the width of a query, Q.shape[1])",
                ),
                (
                    like(softmax_rows(scores / d_k) @ v),
                    "you divided by d_k at {at}; divide by √d_k: q·k has "
                    "variance d_k, so its standard deviation is √d_k",
                ),
                (
                    like(softmax_rows((scores / np.sqrt(d_k)).T).T @ v),
                    "your softmax runs down the columns at {at}: each query's row of scores must sum to 1 (axis=-1)",
                ),
                (
                    lambda g, w, n_q=n_q, n_k=n_k: g.shape == (n_q, n_k),
                    "you returned the weights A at {at}; the output is A V, a weighted average of the values",
                ),
            ],
        )
    return "equal to softmax(Q Kᵀ / √d_k) V for 3 shapes, d_k = 5, 8 and 16"


@exercise("attention.softmax_backward")
def _softmax_backward(fn):
    rng = np.random.default_rng(120)
    for shape in ((2, 3), (3, 5), (4, 4)):
        scores, upstream = rng.normal(size=shape), rng.normal(size=shape)
        at = f"scores and dL/dA of shape {shape}"
        weights = softmax_rows(scores)
        got = _array(grading.call(fn, weights.copy(), upstream.copy()), at)
        _, pullback = gl.vjp(gl.softmax, scores)
        (want,) = pullback(upstream)
        _expect(
            got,
            want,
            at,
            [
                (
                    like(weights * upstream),
                    "you kept only the diagonal of J at {at}: each row also needs "
                    "− A ⊙ Σ_j (G ⊙ A), since every score moves every weight of its row",
                ),
                (
                    like(weights * (upstream - (upstream * weights).sum(axis=0, keepdims=True))),
                    "you summed over the wrong axis at {at}: Σ_j runs along each row (axis=-1, keepdims=True)",
                ),
                (
                    like(weights * (upstream - upstream.sum(axis=-1, keepdims=True))),
                    "you subtracted Σ_j G_j instead of Σ_j G_j·A_j at {at}: the row of J is s_i(δ_ij − s_j)",
                ),
                (grading.sign_flipped, "every entry has the wrong sign at {at}: dL/dS = A ⊙ (G − Σ_j G ⊙ A)"),
            ],
        )
    grading.gradient_check(
        lambda s: float(np.sum(softmax_rows(s) * np.arange(1.0, 7.0).reshape(2, 3))),
        lambda s: fn(softmax_rows(s), np.arange(1.0, 7.0).reshape(2, 3)),
        rng.normal(size=(2, 3)),
    )
    return "equal to the engine's backward pass through softmax for 3 shapes, and to central differences"

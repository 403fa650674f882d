"""Checkers for lesson 9, the recommender: the gradient of one rating's loss, and one SGD step.

For one observed rating r of item i by user u, with r̂ = μ + b_u + b_i + p_u·q_i and e = r − r̂,

    L = e² + λ (‖p_u‖² + ‖q_i‖² + b_u² + b_i²)
    ∂L/∂p_u = −2 e q_i + 2 λ p_u          ∂L/∂b_u = −2 e + 2 λ b_u

    recommender.grad_p_u     ∂L/∂p_u, checked against the engine's gradient (gl.grad) at random parameters
    recommender.grad_b_u     ∂L/∂b_u, the same way
    recommender.sgd_update   one per-rating step exactly as gradlab's compiled kernel takes it
                             (gradlab.apps.recommender.kernels._sgd_epoch; the factor 2 folded into lr):
                                 b_u += lr (e − λ_b b_u)      b_i += lr (e − λ_b b_i)
                                 p_u += lr (e q_i − λ p_u)    q_i += lr (e p_u − λ q_i)   (old p_u, old q_i)
"""

from __future__ import annotations

import numpy as np

import gradlab as gl

from . import grading
from .core import Wrong, exercise

__all__ = ["rating_loss", "reference_sgd_update"]


def rating_loss(r, mu, b_u, b_i, p_u, q_i, lam):
    """L = (r − μ − b_u − b_i − p_u·q_i)² + λ (‖p_u‖² + ‖q_i‖² + b_u² + b_i²): gradlab ops, so the engine
    differentiates it."""
    e = r - (mu + b_u + b_i + (p_u * q_i).sum())
    return e**2 + lam * ((p_u * p_u).sum() + (q_i * q_i).sum() + b_u**2 + b_i**2)


def _parameter_sets(seed: int, n: int = 6, k: int = 4):
    """n random (r, μ, b_u, b_i, p_u, q_i, λ) with k factors, float64, like a model part-way through training."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield (
            float(rng.integers(1, 6)),
            float(rng.uniform(3.0, 4.0)),
            float(rng.normal(0, 0.5)),
            float(rng.normal(0, 0.5)),
            rng.normal(0, 0.6, size=k),
            rng.normal(0, 0.6, size=k),
            float(rng.uniform(0.02, 0.5)),
        )


def _same(got, want, tol: float = 1e-9) -> bool:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return got.shape == want.shape and grading.relative_error(got, want) <= tol


def _at(r, b_u, b_i, p_u, q_i, lam) -> str:
    return (
        f"r = {r:g}, b_u = {b_u:.3g}, b_i = {b_i:.3g}, λ = {lam:.3g},"
        f" p_u = {np.round(p_u, 3)}, q_i = {np.round(q_i, 3)}"
    )


def _gradient_cases(fn, seed: int, wrt: str):
    """Per random parameter set (seeded): the learner's answer, the engine's gradient of rating_loss with respect
    to `wrt` ("p_u" or "b_u"), where that is (for the message), the error e = r − r̂ and the parameters by name."""
    for values in _parameter_sets(seed=seed):
        r, mu, b_u, b_i, p_u, q_i, lam = values
        args = dict(zip(("r", "mu", "b_u", "b_i", "p_u", "q_i", "lam"), values))
        at = _at(r, b_u, b_i, p_u, q_i, lam)
        got = grading.call(fn, r, mu, b_u, b_i, p_u.copy(), q_i.copy(), lam)
        want = gl.grad(lambda v: rating_loss(**{**args, wrt: v}))(args[wrt])  # noqa: B023 - used at once
        yield got, want, at, r - (mu + b_u + b_i + p_u @ q_i), args


@exercise("recommender.grad_p_u")
def _grad_p_u(fn):
    for got, want, at, e, args in _gradient_cases(fn, seed=9, wrt="p_u"):
        p_u, q_i, lam = args["p_u"], args["q_i"], args["lam"]
        grading.expect_close(
            got,
            want,
            at=at,
            tol=grading.SMOOTH,
            hints=[
                (
                    grading.off_by_factor(0.5),
                    "off by a factor 2: the derivative of e² is 2·e·∂e/∂p_u, and of λ‖p_u‖² it is 2λ·p_u (at {at})",
                ),
                (
                    lambda g, w, e=e, q=q_i: _same(g, -2 * e * q),
                    "the regularisation term is missing: λ‖p_u‖² adds 2λ·p_u to the gradient (at {at})",
                ),
                (
                    lambda g, w, e=e, q=q_i, p=p_u, lam=lam: _same(g, 2 * e * q + 2 * lam * p),
                    "the sign of the error term is flipped: e = r − r̂ and ∂e/∂p_u = −q_i, so the data term is "
                    "−2·e·q_i (at {at})",
                ),
                (
                    lambda g, w, e=e, q=q_i, p=p_u, lam=lam: _same(g, -2 * e * q + lam * p),
                    "the regularisation's derivative is 2λ·p_u, not λ·p_u (at {at})",
                ),
                (
                    lambda g, w, e=e, p=p_u, lam=lam: _same(g, -2 * e * p + 2 * lam * p),
                    "∂(p_u·q_i)/∂p_u = q_i: the error multiplies the item's vector q_i, not p_u (at {at})",
                ),
                (grading.sign_flipped, "the whole gradient has the wrong sign (at {at}): that is −∂L/∂p_u"),
            ],
        )
    return "matches the engine's gradient (gl.grad) at 6 random parameter sets, to 1e-7"


@exercise("recommender.grad_b_u")
def _grad_b_u(fn):
    for got, want, at, e, args in _gradient_cases(fn, seed=90, wrt="b_u"):
        b_u, lam = args["b_u"], args["lam"]
        grading.expect_close(
            got,
            want,
            at=at,
            hints=[
                (
                    grading.off_by_factor(0.5),
                    "off by a factor 2: d(e²)/db_u = 2·e·(−1), d(λ·b_u²)/db_u = 2λ·b_u (at {at})",
                ),
                (
                    lambda g, w, e=e: _same(g, -2 * e),
                    "the regularisation term is missing: λ·b_u² adds 2λ·b_u (at {at})",
                ),
                (
                    lambda g, w, e=e, b=b_u, lam=lam: _same(g, 2 * e + 2 * lam * b),
                    "the sign of the error term is flipped: ∂e/∂b_u = −1, so the data term is −2·e (at {at})",
                ),
                (grading.sign_flipped, "the whole derivative has the wrong sign (at {at})"),
            ],
        )
    return "matches the engine's derivative (gl.grad) at 6 random parameter sets"


def reference_sgd_update(r, mu, b_u, b_i, p_u, q_i, lr, reg, reg_bias):
    """One per-rating step as gradlab's kernel takes it; returns new (b_u, b_i, p_u, q_i), inputs untouched."""
    e = r - (mu + b_u + b_i + p_u @ q_i)
    return (
        b_u + lr * (e - reg_bias * b_u),
        b_i + lr * (e - reg_bias * b_i),
        p_u + lr * (e * q_i - reg * p_u),
        q_i + lr * (e * p_u - reg * q_i),
    )


def _describe_step(got, want, old, e, args) -> str | None:
    """Name the mistake in a wrong step, comparing it with the steps typical mistakes take."""
    _r, _mu, b_u, b_i, p_u, q_i, lr, reg, reg_bias = args
    names = ("b_u", "b_i", "p_u", "q_i")
    moved = [np.asarray(g, dtype=np.float64) - o for g, o in zip(got, old)]
    right = [w - o for w, o in zip(want, old)]
    if all(_same(m, -s) for m, s in zip(moved, right)):
        return "you stepped uphill: with e = r − r̂, the step is p_u += lr·(e·q_i − λ·p_u) (plus, not minus)"
    if all(_same(m, 2 * s) for m, s in zip(moved, right)):
        return (
            "your steps are twice gradlab's: it folds the factor 2 of the gradient into lr, p_u += lr·(e·q_i − λ·p_u)"
        )
    new_p = want[2]
    if _same(got[3], q_i + lr * (e * new_p - reg * q_i)):
        return (
            "q_i's step used the p_u you had just updated: compute both steps from the values before the update, "
            "as the gradient does (keep a copy of the old p_u)"
        )
    if _same(got[0], b_u) and _same(got[1], b_i):
        return "the biases did not move: b_u += lr·(e − λ_b·b_u) and b_i += lr·(e − λ_b·b_i)"
    if _same(got[2], p_u + lr * e * q_i) or _same(got[0], b_u + lr * e):
        return "the step has no regularisation: subtract λ·p_u inside the bracket (and λ_b·b_u for the biases)"
    if _same(got[0], b_u + lr * (e - reg * b_u)) and reg != reg_bias:
        return "the biases have their own regularisation strength λ_b (reg_bias), not λ (reg)"
    for name, g, w in zip(names, got, want):
        if not _same(g, w):
            return f"{name} is wrong: expected {np.round(w, 6)}, got {np.round(np.asarray(g, dtype=np.float64), 6)}"
    return None


@exercise("recommender.sgd_update")
def _sgd_update(fn):
    rng = np.random.default_rng(99)
    for r, mu, b_u, b_i, p_u, q_i, _ in _parameter_sets(seed=909, n=5):
        lr, reg, reg_bias = float(rng.uniform(0.005, 0.05)), float(rng.uniform(0.02, 0.1)), float(rng.uniform(0.1, 0.3))
        args = (r, mu, b_u, b_i, p_u, q_i, lr, reg, reg_bias)
        at = f"r = {r:g}, lr = {lr:.3g}, λ = {reg:.3g}, λ_b = {reg_bias:.3g}"
        got = grading.call(fn, r, mu, b_u, b_i, p_u.copy(), q_i.copy(), lr, reg, reg_bias)
        if not isinstance(got, tuple | list) or len(got) != 4:
            raise Wrong("return the four new values as a tuple: (b_u, b_i, p_u, q_i)")
        try:
            got = [np.asarray(g, dtype=np.float64) for g in got]
        except (TypeError, ValueError):
            raise Wrong("return numbers and arrays of numbers: (b_u, b_i, p_u, q_i)") from None
        want = reference_sgd_update(*args)
        if all(_same(g, w, tol=1e-12) for g, w in zip(got, want)):
            continue
        e = r - (mu + b_u + b_i + p_u @ q_i)
        hint = _describe_step(got, want, (b_u, b_i, p_u, q_i), e, args)
        raise Wrong(f"{hint} (at {at})")
    return "the same step as gradlab's SGD kernel on 5 random ratings, to 1e-12"

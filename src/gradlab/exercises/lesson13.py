"""Checkers for lesson 13, policy gradients, each written by hand in NumPy.

    rl.score_function       ∇_W log π(a|s) = s (e_a − π)ᵀ for the linear softmax policy π = softmax(s W)
    rl.discounted_returns   G_t = Σ_{k≥t} γ^{k−t} r_k for every t of an episode
    rl.reinforce_gradient   ĝ = (1/T) Σ_t ∇_W log π(a_t|s_t) · (G_t − b_t), the REINFORCE estimate with a baseline

The answers are compared with the engine's gradients (gl.grad of gl.log_softmax and of the mean of
log π · (G − b)) and with the tail sums written out, at points the learner did not choose.
"""

from __future__ import annotations

import numpy as np

import gradlab as gl

from . import grading
from .common import as_array, like, near
from .core import Wrong, exercise

__all__ = ["softmax"]


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax along the last axis, shifted by the largest value so nothing overflows."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _engine_score(W, s, a) -> np.ndarray:
    """∇_W log π(a|s) by the engine: gl.grad of gl.log_softmax(s W)[a]."""
    return np.asarray(gl.grad(lambda W: gl.log_softmax(gl.Tensor(s) @ W)[a])(W), dtype=np.float64)


def _engine_estimate(W, S, A, psi) -> np.ndarray:
    """∇_W of mean_t(log π(a_t|s_t) · ψ_t) by the engine, ψ held fixed."""
    rows = np.arange(len(A))
    return np.asarray(gl.grad(lambda W: (gl.log_softmax(gl.Tensor(S) @ W)[rows, A] * psi).mean())(W), dtype=np.float64)


def _array(value, at: str) -> np.ndarray:
    return as_array(value, f"your answer at {at} is a {{type}}, not an array of numbers")


def _expect(got, want, at: str, hints) -> None:
    if near(got, want, tol=1e-9):
        return
    grading.expect_close(got, want, at=at, hints=hints)
    raise Wrong(f"your answer differs from the expected one at {at}")  # pragma: no cover - expect_close raised


@exercise("rl.score_function")
def _score_function(fn):
    rng = np.random.default_rng(130)
    for n_obs, n_act in ((4, 2), (3, 3), (5, 4)):
        W, s = rng.normal(size=(n_obs, n_act)), rng.normal(size=n_obs)
        a = int(rng.integers(n_act))
        at = f"s of size {n_obs}, {n_act} actions, a = {a}"
        got = _array(grading.call(fn, W.copy(), s.copy(), a), at)
        want = _engine_score(W, s, a)
        p, e = softmax(s @ W), np.eye(n_act)[a]
        if got.shape == (n_act, n_obs) and n_act != n_obs:
            raise Wrong(
                f"your answer has shape {got.shape}, W has {W.shape}: a gradient has its parameter's shape, "
                "so it is the outer product s (e_a − π)ᵀ, not (e_a − π) sᵀ"
            )
        if got.shape == (n_act,):
            raise Wrong(
                f"your answer has shape ({n_act},): that is ∂log π/∂z = e_a − π for the logits z; "
                "the chain rule through z = s W multiplies it by s: ∇_W = s (e_a − π)ᵀ"
            )
        _expect(
            got,
            want,
            at,
            [
                (
                    like(np.outer(s, e)),
                    "you left out −π at {at}: log π(a) = z_a − log Σ_b e^{z_b}, and the log-sum-exp term "
                    "contributes −π (the softmax) to ∂/∂z",
                ),
                (like(np.outer(s, p)), "you wrote s πᵀ at {at}: ∂log π(a)/∂z = e_a − π (one-hot minus the softmax)"),
                (grading.sign_flipped, "every entry has the wrong sign at {at}: it is e_a − π, not π − e_a"),
                (
                    like(np.outer(s, p[a] * (e - p))),
                    "you differentiated π(a) itself at {at}, not log π(a): ∇log π = ∇π / π, so divide by π(a)",
                ),
            ],
        )
    return "equal to the engine's ∇_W log π(a|s) for 3 policies"


@exercise("rl.discounted_returns")
def _discounted_returns(fn):
    rng = np.random.default_rng(131)
    for T, gamma in ((5, 0.9), (8, 0.5), (1, 0.99)):
        r = np.round(rng.normal(size=T), 3)
        at = f"rewards {np.array2string(r, precision=3)}, γ = {gamma}"
        got = _array(grading.call(fn, r.copy(), gamma), at)
        want = np.array([sum(gamma**k * r[t + k] for k in range(T - t)) for t in range(T)])
        if got.shape == ():
            raise Wrong(f"you returned one number at {at}; return G_t for every step t, an array of length {T}")
        _expect(
            got,
            want,
            at,
            [
                (like(np.cumsum(r[::-1])[::-1]), "you forgot γ at {at}: G_t = r_t + γ G_{t+1}"),
                (
                    like(np.cumsum(r)),
                    "you summed the past at {at}: G_t is the reward still to come, Σ_{k≥t} γ^{k−t} r_k "
                    "(run the recursion backwards from the last step)",
                ),
                (
                    like(np.array([sum(gamma**k * r[k] for k in range(t, T)) for t in range(T)])),
                    "your discount counts from the start of the episode at {at}: G_t weights r_k by γ^{k−t}, "
                    "so the first reward in G_t has weight 1",
                ),
                (like(want[::-1]), "your returns are in reverse order at {at}: reverse back after the backward loop"),
            ],
        )
    return "equal to Σ_{k≥t} γ^{k−t} r_k for 3 episodes"


@exercise("rl.reinforce_gradient")
def _reinforce_gradient(fn):
    rng = np.random.default_rng(132)
    for T, n_obs, n_act in ((6, 4, 2), (10, 3, 3), (4, 5, 2)):
        W = rng.normal(size=(n_obs, n_act))
        S, A = rng.normal(size=(T, n_obs)), rng.integers(0, n_act, T)
        G, b = rng.normal(2.0, 1.0, size=T), rng.normal(1.0, 0.5, size=T)
        at = f"T = {T} steps, {n_obs} observations, {n_act} actions"
        got = _array(grading.call(fn, W.copy(), S.copy(), A.copy(), G.copy(), b.copy()), at)

        def estimate(psi, W=W, S=S, A=A):
            return _engine_estimate(W, S, A, psi)

        want = estimate(G - b)
        _expect(
            got,
            want,
            at,
            [
                (like(estimate(G)), "you left out the baseline at {at}: weight each step by G_t − b_t"),
                (like(estimate(G + b)), "you added the baseline at {at}: subtract it, G_t − b_t"),
                (like(T * want), "off by a factor T at {at}: take the mean over the episode's steps, not the sum"),
                (grading.sign_flipped, "the sign is flipped at {at}: that is the gradient of the loss −J, not of J"),
                (
                    like(estimate(np.full(T, G.sum() - b.sum()))),
                    "you weighted every step by the whole episode's return at {at}: use G_t, the return from t on "
                    "(an action cannot change the rewards that came before it)",
                ),
            ],
        )
    return "equal to the engine's gradient of mean(log π(a_t|s_t) · (G_t − b_t)) for 3 batches"

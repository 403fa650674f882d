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

Ranking, for the top-N part of the lesson:

    recommender.precision_at_k   mean over users with a liked test item of |top k (unseen items) ∩ liked| / k
    recommender.ease             EASE's closed form B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹ (Steck 2019)
"""

from __future__ import annotations

import numpy as np

import gradlab as gl

from . import common, grading
from .core import Wrong, exercise

__all__ = ["rating_loss", "reference_ease", "reference_precision_at_k", "reference_sgd_update"]


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


# --- ranking: precision@k and EASE ------------------------------------------------------------------------


def reference_precision_at_k(scores, seen, liked, k):
    """Mean over the users with at least one liked item of hits/k, where the hits are the liked items among
    the k highest scores once the items seen in training are left out (their scores set to −∞)."""
    ranked = np.argsort(-np.where(seen, -np.inf, scores), axis=1, kind="stable")[:, :k]
    hits = np.take_along_axis(liked, ranked, axis=1).sum(axis=1)
    users = liked.any(axis=1)
    return float(hits[users].mean() / k)


def _ranking_case(seed: int, n_users: int = 30, n_items: int = 40):
    """Random scores (ties impossible), a training mask that favours the high scores (so that forgetting to
    leave the seen items out changes the answer), liked test items among the unseen ones, and users with none."""
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(n_users, n_items))
    seen = rng.uniform(size=scores.shape) < 0.5 * (scores > 0.3)
    liked = ~seen & (rng.uniform(size=scores.shape) < 0.15)
    liked[: n_users // 5] = False  # a fifth of the users liked nothing in the test split
    return scores, seen, liked


@exercise("recommender.precision_at_k")
def _precision_at_k(fn):
    """Graded on three random cases at once, as one array, so that a wrong variant that happens to give the
    right number in one case (precision takes few values) is still told apart by the others."""
    cases = [(*_ranking_case(seed), k) for seed, k in ((1, 5), (2, 10), (3, 3))]
    got = [grading.call(fn, s.copy(), seen.copy(), liked.copy(), k) for s, seen, liked, k in cases]
    got = common.as_array(got, "your precision is a {type}, not one number")
    if got.shape != (3,):
        raise Wrong(f"precision@k is one number (the mean over the users), got an array of shape {got.shape[1:]}")

    def variant(rule):
        return np.array([rule(*case) for case in cases])

    def hits(s, seen, liked, k, leave_out=True, lowest=False):
        s = np.where(seen, np.inf if lowest else -np.inf, s) if leave_out else s
        top = np.argsort(s if lowest else -s, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(liked, top, axis=1).sum(axis=1)

    grading.expect_close(
        got,
        variant(reference_precision_at_k),
        at="3 random cases, k = 5, 10 and 3, 30 users × 40 items",
        tol=1e-9,
        hints=[
            (
                common.mistake(
                    variant(lambda s, seen, liked, k: hits(s, seen, liked, k, False)[liked.any(1)].mean() / k)
                ),
                "the items the user rated in training are still in the lists: set their scores to −inf before "
                "taking the top k (a film the user has seen is no recommendation)",
            ),
            (
                common.mistake(variant(lambda s, seen, liked, k: hits(s, seen, liked, k).mean() / k)),
                "average only over the users with at least one liked test item: the others cannot score a hit",
            ),
            (
                common.mistake(
                    variant(
                        lambda s, seen, liked, k: np.mean(
                            hits(s, seen, liked, k)[liked.any(1)] / liked.sum(1)[liked.any(1)]
                        )
                    )
                ),
                "you divided by the number of liked items (that is recall@k): precision@k divides the hits by k",
            ),
            (
                common.mistake(
                    variant(lambda s, seen, liked, k: hits(s, seen, liked, k, lowest=True)[liked.any(1)].mean() / k)
                ),
                "you took the k lowest scores: sort in descending order (np.argsort(-scores))",
            ),
            (
                common.mistake(variant(lambda s, seen, liked, k: hits(s, seen, liked, k)[liked.any(1)].mean())),
                "divide the hits by k: precision is a share of the list, 0 to 1",
            ),
        ],
    )
    return "the same precision@k as the reference on 3 random cases"


def reference_ease(X, lam):
    """EASE (Steck 2019): B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹, i.e. B_ij = −P_ij / P_jj off the diagonal and
    B_jj = 0: the minimiser of ‖X − XB‖² + λ‖B‖² subject to diag(B) = 0."""
    P = np.linalg.inv(X.T @ X + lam * np.eye(X.shape[1]))
    B = -P / np.diag(P)
    np.fill_diagonal(B, 0.0)
    return B


@exercise("recommender.ease")
def _ease(fn):
    rng = np.random.default_rng(19)
    for lam in (0.5, 4.0, 30.0):
        X = (rng.uniform(size=(40, 12)) < 0.3).astype(np.float64)
        at = f"a 40 × 12 matrix X of 0s and 1s, λ = {lam:g}"
        got = common.as_array(grading.call(fn, X.copy(), lam), "your B is a {type}, not a matrix of numbers")
        want = reference_ease(X, lam)
        if got.shape != want.shape:
            hint = "B is items × items, (XᵀX + λI)⁻¹ is built from XᵀX, not from XXᵀ (users × users)"
            raise Wrong(f"your B has shape {got.shape}, expected {want.shape}: {hint}")
        if common.near(got, want, tol=1e-8):
            continue
        G = X.T @ X
        ridge = np.linalg.solve(G + lam * np.eye(len(G)), G)
        P_without_lam = np.linalg.inv(G)
        mistakes = [
            (
                ridge,
                "that is plain ridge regression, (XᵀX + λI)⁻¹XᵀX: without the constraint diag(B) = 0 each item "
                "predicts itself; the Lagrange multipliers turn it into I − P·diag(1/diag P)",
            ),
            (-want, "the sign is flipped: B = I − P·diag(1/diag P), so off the diagonal B_ij = −P_ij/P_jj"),
            (want.T, "each column j is divided by P_jj (P·diag(1/diag P) scales columns); you scaled the rows"),
            (np.eye(len(G)) - P_without_lam / np.diag(P_without_lam), "λ is missing: P = (XᵀX + λI)⁻¹"),
        ]
        for variant, hint in mistakes:
            if common.near(got, variant, tol=1e-8):
                raise Wrong(f"{hint} (at {at})")
        if not common.near(np.diag(got), np.zeros(len(G)), tol=1e-8):
            raise Wrong(f"B's diagonal must be 0 (an item may not recommend itself), got {np.diag(got)[:3]}… (at {at})")
        worst = np.unravel_index(np.argmax(np.abs(got - want)), want.shape)
        raise Wrong(
            f"B differs from I − P·diag(1/diag P) at {tuple(int(i) for i in worst)}: expected "
            f"{want[worst]:.6g}, got {got[worst]:.6g} (at {at})"
        )
    return "the same B as the closed form for 3 random X and λ, to 1e-8"

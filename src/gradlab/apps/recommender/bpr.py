"""Bayesian personalised ranking (Rendle et al. 2009): learn to rank each user's seen items above unseen ones.

The score of item i for user u is x̂_ui = b_i + p_u·q_i. For a triple (u, i, j) of a user, an item the user
has seen and one the user has not, x̂_uij = x̂_ui - x̂_uj, and BPR maximises

    Σ_(u,i,j) log σ(x̂_uij) - (λ/2) ‖θ‖²,          σ(x) = 1 / (1 + e^-x)

the log-likelihood that every user prefers what they saw. Since d/dx log σ(x) = 1 - σ(x), one triple's
gradient is (1 - σ(x̂_uij)) times the derivative of x̂_uij:

    ∂x̂_uij/∂p_u = q_i - q_j     ∂x̂_uij/∂q_i = p_u     ∂x̂_uij/∂q_j = -p_u     ∂x̂_uij/∂b_i = 1     ∂x̂_uij/∂b_j = -1

so with z = 1 - σ(x̂_uij) = 1 / (1 + e^x̂_uij) a stochastic gradient ascent step is

    p_u += lr (z (q_i - q_j) - λ p_u)      q_i += lr (z p_u - λ q_i)      q_j += lr (-z p_u - λ q_j)
    b_i += lr (z - λ b_i)                  b_j += lr (-z - λ b_j)

(a step of lr down the gradient of the triple's loss -log σ(x̂_uij) + (λ/2)(‖p_u‖² + ‖q_i‖² + ‖q_j‖² + b_i² + b_j²)).
z is the size of the mistake: near 1 when the model ranks j above i, near 0 when the pair is already right.

Sampling: the seen pair (u, i) uniformly from all of them (so active users count as often as they rated),
the unseen j uniformly from the catalogue, redrawn while u has seen it (a binary search in u's sorted row);
a user who has seen every item gives no triple. There are as many triples per epoch as seen pairs. The loop is
compiled by Numba, as kernels._sgd_epoch is, and runs in the factors' precision (float32 by default).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .kernels import FAST


@njit(cache=True, fastmath=FAST)
def _bpr_step(u, i, j, p, q, bias, lr, reg):  # pragma: no cover
    """One ascent step on the triple (u, i, j) (module docstring); returns log σ(x̂_uij) from before the step."""
    k = p.shape[1]
    real = p.dtype.type
    dot = real(0.0)  # in the factors' precision: float32 keeps the loop in float32 SIMD lanes
    for f in range(k):
        dot += p[u, f] * (q[i, f] - q[j, f])
    x = bias[i] - bias[j] + dot
    z = 1.0 / (1.0 + math.exp(x))  # 1 - σ(x), without forming σ(x): exact for large |x| too
    bias[i] += lr * (z - reg * bias[i])
    bias[j] += lr * (-z - reg * bias[j])
    lr_k, z_k, reg_k = real(lr), real(z), real(reg)
    for f in range(k):
        pu, qi, qj = p[u, f], q[i, f], q[j, f]  # every update uses the values from before the step
        p[u, f] += lr_k * (z_k * (qi - qj) - reg_k * pu)
        q[i, f] += lr_k * (z_k * pu - reg_k * qi)
        q[j, f] += lr_k * (-z_k * pu - reg_k * qj)
    # log σ(x) = -log(1 + e^-x), computed on the side that does not overflow
    return -math.log1p(math.exp(-x)) if x > 0 else x - math.log1p(math.exp(x))


@njit(cache=True)
def _seed(seed):  # pragma: no cover
    np.random.seed(seed)  # Numba's generator is its own: seeded inside compiled code


@njit(cache=True, fastmath=FAST)
def _bpr_epoch(indptr, cols, rows, p, q, bias, lr, reg):  # pragma: no cover
    """len(cols) sampled triples, one step each; returns the mean log σ(x̂_uij) met on the way."""
    n_items = q.shape[0]
    total = 0.0
    steps = 0
    for _ in range(len(cols)):
        n = np.random.randint(0, len(cols))
        u, i = rows[n], cols[n]
        lo, hi = indptr[u], indptr[u + 1]
        if hi - lo >= n_items:
            continue
        while True:
            j = np.random.randint(0, n_items)
            where = lo + np.searchsorted(cols[lo:hi], j)
            if where == hi or cols[where] != j:
                break
        total += _bpr_step(u, i, j, p, q, bias, lr, reg)
        steps += 1
    return total / max(steps, 1)


def bpr_factors(indptr, cols, n_items, factors, epochs, lr, reg, init_std, dtype, seed, on_epoch=None):
    """(p, q, b): BPR's user factors, item factors and item biases from the seen pairs in CSR form
    (row u's items, sorted, at cols[indptr[u]:indptr[u+1]]). on_epoch(epoch, mean log σ) is called after each."""
    rng = np.random.default_rng(seed)
    n_users = len(indptr) - 1
    p = rng.normal(0.0, init_std, (n_users, factors)).astype(dtype)
    q = rng.normal(0.0, init_std, (n_items, factors)).astype(dtype)
    bias = np.zeros(n_items)
    rows = np.repeat(np.arange(n_users), np.diff(indptr))
    _seed(int(rng.integers(2**31)))
    for epoch in range(1, epochs + 1):
        fit = _bpr_epoch(indptr, cols, rows, p, q, bias, lr, reg)
        if not math.isfinite(fit):
            raise FloatingPointError(f"BPR diverged in epoch {epoch}: the learning rate {lr:g} is too large")
        if on_epoch is not None:
            on_epoch(epoch, fit)
    return p, q, bias

"""Weighted matrix factorisation for implicit feedback (Hu, Koren & Volinsky 2008), by alternating least squares.

Every (user, item) cell counts: the preference p_ui is 1 where u saw i and 0 elsewhere, and the confidence
c_ui = 1 + α where u saw i, 1 elsewhere (an unseen item is weak evidence of dislike). With user factors x_u
and item factors y_i the loss over all cells is

    L = Σ_u Σ_i c_ui (p_ui - x_u·y_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)

With the items fixed, L is quadratic in each x_u alone; its gradient
    ∂L/∂x_u = -2 Yᵀ C_u (p(u) - Y x_u) + 2 λ x_u
vanishes where
    (Yᵀ C_u Y + λ I) x_u = Yᵀ C_u p(u)
and then the same for each y_i with the users fixed. Forming Yᵀ C_u Y naively costs every item for every user;
the trick of the paper splits it as Yᵀ Y + Yᵀ (C_u - I) Y, where Yᵀ Y is shared by all users (one k × k
product per half-step) and C_u - I is zero except on the n_u items u saw:

    A_u = Yᵀ Y + Σ_{i seen} (c_ui - 1) y_i y_iᵀ + λ I,        b_u = Σ_{i seen} c_ui y_i        (p_ui = 1 there)

A_u is symmetric positive definite, so instead of factorising it (k³) a few conjugate-gradient steps from the
previous x_u solve it well enough (Takács et al. 2011, as the `implicit` library does): each step needs only
A_u v = Yᵀ Y v + Σ (c_ui - 1)(y_i·v) y_i + λ v, O(k² + n_u k). With cg_steps = k the solve is exact (in exact
arithmetic CG converges in k steps). The loop over rows is compiled by Numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels import FAST


@njit(cache=True, fastmath=FAST)
def _cg_rows(indptr, cols, confidence, fixed, gram, reg, solved, cg_steps):  # pragma: no cover
    """For every row u, cg_steps of conjugate gradient on A_u x = b_u (module docstring), from solved[u] and
    into it. fixed holds the other side's factors, gram = fixedᵀ fixed, confidence = 1 + α (every seen pair's)."""
    k = fixed.shape[1]
    real = solved.dtype.type
    r = np.empty(k, dtype=solved.dtype)
    d = np.empty(k, dtype=solved.dtype)
    ad = np.empty(k, dtype=solved.dtype)
    for u in range(len(indptr) - 1):
        x = solved[u]
        # r = b_u - A_u x
        for a in range(k):
            s = -reg * x[a]
            for b in range(k):
                s -= gram[a, b] * x[b]
            r[a] = s
        for n in range(indptr[u], indptr[u + 1]):
            y = fixed[cols[n]]
            yx = real(0.0)
            for a in range(k):
                yx += y[a] * x[a]
            w = real(confidence - (confidence - 1.0) * yx)
            for a in range(k):
                r[a] += w * y[a]
        d[:] = r
        rr = real(0.0)
        for a in range(k):
            rr += r[a] * r[a]
        for _ in range(cg_steps):
            if rr < 1e-20:
                break
            for a in range(k):
                s = reg * d[a]
                for b in range(k):
                    s += gram[a, b] * d[b]
                ad[a] = s
            for n in range(indptr[u], indptr[u + 1]):
                y = fixed[cols[n]]
                yd = real(0.0)
                for a in range(k):
                    yd += y[a] * d[a]
                w = real((confidence - 1.0) * yd)
                for a in range(k):
                    ad[a] += w * y[a]
            dad = real(0.0)
            for a in range(k):
                dad += d[a] * ad[a]
            step = rr / dad
            new_rr = real(0.0)
            for a in range(k):
                x[a] += step * d[a]
                r[a] -= step * ad[a]
                new_rr += r[a] * r[a]
            for a in range(k):
                d[a] = r[a] + (new_rr / rr) * d[a]
            rr = new_rr


def wmf_factors(by_user, by_item, factors, epochs, alpha, reg, cg_steps, init_std, dtype, seed, on_epoch=None):
    """(x, y): user and item factors by alternating conjugate-gradient half-steps. by_user = (indptr, cols) of the
    seen pairs grouped by user, by_item the same grouped by item. on_epoch(epoch, loss) is called after each."""
    rng = np.random.default_rng(seed)
    n_users, n_items = len(by_user[0]) - 1, len(by_item[0]) - 1
    x = rng.normal(0.0, init_std, (n_users, factors)).astype(dtype)
    y = rng.normal(0.0, init_std, (n_items, factors)).astype(dtype)
    confidence = dtype(1.0 + alpha)
    for epoch in range(1, epochs + 1):
        _cg_rows(*by_user, confidence, y, (y.T @ y).astype(dtype), dtype(reg), x, cg_steps)
        _cg_rows(*by_item, confidence, x, (x.T @ x).astype(dtype), dtype(reg), y, cg_steps)
        if on_epoch is not None:
            on_epoch(epoch, wmf_loss(by_user, x, y, alpha, reg))
    return x, y


def wmf_loss(by_user, x, y, alpha, reg) -> float:
    """L of the module docstring, over every cell, without forming the users × items matrix:
    Σ_all (x_u·y_i)² + Σ_seen [(1 + α)(1 - x_u·y_i)² - (x_u·y_i)²] + λ(‖X‖² + ‖Y‖²)."""
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    indptr, cols = by_user
    seen = np.einsum("nk,nk->n", np.repeat(x64, np.diff(indptr), axis=0), y64[cols])
    every = float(np.sum((x64.T @ x64) * (y64.T @ y64)))  # Σ_ui (x_u·y_i)² = trace(XᵀX YᵀY)
    fit = float(np.sum((1.0 + alpha) * (1.0 - seen) ** 2 - seen**2))
    return every + fit + reg * float(np.sum(x64 * x64) + np.sum(y64 * y64))

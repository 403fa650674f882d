"""Alternating least squares: each half-step solved in closed form.

With the items fixed, the loss is a least-squares problem in each user's (b_u, p_u) alone, a ridge
regression whose normal equations give it exactly:
    [b_u; p_u] = (XᵀX + diag(λ_b, λ, …, λ))⁻¹ Xᵀ (r_u - μ - b_I),   X = [1, q_i] over the items u rated
and then the same for each item with the users fixed, so no half-step can raise the loss.
The per-row solve is the compiled kernels._ridge_rows (a Cholesky factorisation of XᵀX + D).
"""

from __future__ import annotations

import numpy as np

from ...data.movielens import Ratings
from .hyper import DEFAULTS, _check_hyper
from .kernels import _ridge_rows
from .model import FactorModel
from .training import _csr, _Fit, _train_rmse


def fit_als(
    train: Ratings,
    factors: int = DEFAULTS["als"]["factors"],
    epochs: int = DEFAULTS["als"]["epochs"],
    reg: float = DEFAULTS["als"]["reg"],
    reg_bias: float = DEFAULTS["als"]["reg_bias"],
    init_std: float = DEFAULTS["als"]["init_std"],
    weighted: bool = DEFAULTS["als"]["weighted"],
    seed: int = 0,
    titles: dict | None = None,
    scale: tuple[float, float] | None = None,
    progress: bool = True,
    out=None,
) -> FactorModel:
    """r̂_ui = μ + b_u + b_i + p_u·q_i by alternating least squares, each half-step in closed form.

    With the items fixed, each user's bias and factors minimise Σ_i (r_ui - μ - b_i - b_u - p_u·q_i)² + λ‖p_u‖²
    + λ_b b_u², a ridge regression on X = [1, q_i] (one row per item the user rated):
        [b_u; p_u] = (XᵀX + diag(λ_b, λ, …, λ))⁻¹ Xᵀ (r_u - μ - b_i)
    then the same for each item with the users fixed. Each half-step can only lower the loss.

    Here λ is charged once per user and per item. SGD charges it at every rating, so its loss is
    Σ_u n_u λ‖p_u‖² + …: weighted=True multiplies λ and λ_b by each row's number of ratings (ALS-WR, Zhou
    et al. 2008) and then minimises exactly SGD's loss. The unweighted form (the default) shrinks
    rarely-rated items harder, which validated better here, in RMSE and far more in top-N ranking: with
    weighted λ a film with one 5-star rating keeps most of its bias and tops everyone's list.
    Items start at N(0, init_std²), biases at 0.
    """
    _check_hyper(factors=factors, epochs=epochs, reg=reg, reg_bias=reg_bias, init_std=init_std)
    if not reg > 0:
        raise ValueError(
            "ALS needs reg > 0: a user with fewer ratings than factors has a singular XᵀX, and λ is what makes "
            "each row's system solvable"
        )
    fit = _Fit(train)
    data, mean = fit.data, fit.mean
    rng = np.random.default_rng(seed)
    n_users, n_items = len(data.users), len(data.items)
    user_bias, item_bias = np.zeros(n_users), np.zeros(n_items)
    p = np.zeros((n_users, factors))
    q = rng.normal(0.0, init_std, (n_items, factors))
    by_user = _csr(data.u, data.i, n_users, data.r)
    by_item = _csr(data.i, data.u, n_items, data.r)
    penalty = np.full(factors + 1, float(reg))
    penalty[0] = reg_bias
    fit.start_epochs("als", epochs, progress, out)
    for epoch in range(1, epochs + 1):
        _ridge_rows(*by_user, q, item_bias, mean, penalty, weighted, p, user_bias)
        _ridge_rows(*by_item, p, user_bias, mean, penalty, weighted, q, item_bias)
        fit.epoch(epoch, _train_rmse((mean, user_bias, item_bias, p, q), data.u, data.i, data.r))
    hyper = {"factors": factors, "epochs": epochs, "reg": reg, "reg_bias": reg_bias, "init_std": init_std}
    hyper.update(weighted=weighted, seed=seed)
    return fit.model(user_bias, item_bias, p, q, "als", hyper, titles, scale)

"""The biases alone, r̂_ui = μ + b_u + b_i: the yardstick any factor model must beat.

It minimises Σ (r_ui - μ - b_u - b_i)² + λ_u Σ b_u² + λ_i Σ b_i² by alternating the two closed forms
(as Surprise's BaselineOnly does)
    b_u = Σ_{i rated by u} (r_ui - μ - b_i) / (λ_u + |I_u|)
    b_i = Σ_{u who rated i} (r_ui - μ - b_u) / (λ_i + |U_i|)
or by per-rating gradient steps (fit_sgd with no factors).
"""

from __future__ import annotations

import numpy as np

from ...data.movielens import Ratings
from .hyper import DEFAULTS, _check_hyper
from .metrics import rmse
from .model import FactorModel
from .sgd import fit_sgd
from .training import _Fit


def fit_baseline(
    train: Ratings,
    epochs: int = DEFAULTS["baseline"]["epochs"],
    reg_user: float = DEFAULTS["baseline"]["reg_user"],
    reg_item: float = DEFAULTS["baseline"]["reg_item"],
    method: str = "als",
    lr: float = 0.005,
    titles: dict | None = None,
    scale: tuple[float, float] | None = None,
    progress: bool = True,
    out=None,
) -> FactorModel:
    """The biases alone, r̂_ui = μ + b_u + b_i, minimising Σ (r_ui - μ - b_u - b_i)² + λ_u Σ b_u² + λ_i Σ b_i².

    method="als" (default) alternates the two closed forms (as Surprise's BaselineOnly does):
        b_u = Σ_{i rated by u} (r_ui - μ - b_i) / (λ_u + |I_u|)
        b_i = Σ_{u who rated i} (r_ui - μ - b_u) / (λ_i + |U_i|)
    method="sgd" takes per-rating gradient steps instead (fit_sgd with no factors; λ_b = reg_user, and
    reg_user is then a per-rating weight, so use a small value such as 0.02).
    """
    if method == "sgd":
        return fit_sgd(
            train, factors=0, epochs=epochs, lr=lr, reg=0.0, reg_bias=reg_user, titles=titles, scale=scale,
            progress=progress, out=out,
        )  # fmt: skip
    if method != "als":
        raise ValueError(f"method must be 'als' or 'sgd', got {method!r}")
    _check_hyper(epochs=epochs, reg_user=reg_user, reg_item=reg_item)
    fit = _Fit(train)
    data, mean = fit.data, fit.mean
    n_users, n_items = len(data.users), len(data.items)
    user_count = np.bincount(data.u, minlength=n_users)
    item_count = np.bincount(data.i, minlength=n_items)
    user_bias, item_bias = np.zeros(n_users), np.zeros(n_items)
    fit.start_epochs("baseline", epochs, progress, out)
    for epoch in range(1, epochs + 1):
        user_bias = np.bincount(data.u, data.r - mean - item_bias[data.i], n_users) / (reg_user + user_count)
        item_bias = np.bincount(data.i, data.r - mean - user_bias[data.u], n_items) / (reg_item + item_count)
        fit.epoch(epoch, rmse(mean + user_bias[data.u] + item_bias[data.i], data.r))
    empty = np.zeros((n_users, 0)), np.zeros((n_items, 0))
    hyper = {"epochs": epochs, "reg_user": reg_user, "reg_item": reg_item, "method": method}
    return fit.model(user_bias, item_bias, *empty, "baseline", hyper, titles, scale)

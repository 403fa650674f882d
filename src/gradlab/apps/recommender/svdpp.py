"""SVD++ (Koren 2008): the biased factor model plus what a user's choice of items says about them.

    r̂_ui = μ + b_u + b_i + q_iᵀ (p_u + z_u),      z_u = |N(u)|^-½ Σ_{j∈N(u)} y_j

N(u) is the set of items u rated in training (implicit feedback: which films, not how many stars), y_j ∈ R^k
one more vector per item. Two users with the same explicit factors but different viewing lists now differ.

Loss and gradient. Taken user by user, the loss is Σ_u L_u with
    L_u = Σ_{i∈R(u)} [e_ui² + λ(‖p_u‖² + ‖q_i‖²) + λ_b(b_u² + b_i²)] + λ_y Σ_{j∈N(u)} ‖y_j‖²,   e_ui = r_ui - r̂_ui
and, since ∂r̂_ui/∂y_j = |N(u)|^-½ q_i for every j ∈ N(u),
    ∂L_u/∂b_u = Σ_i (-2 e_ui + 2 λ_b b_u)           ∂L_u/∂b_i = -2 e_ui + 2 λ_b b_i
    ∂L_u/∂p_u = Σ_i (-2 e_ui q_i + 2 λ p_u)         ∂L_u/∂q_i = -2 e_ui (p_u + z_u) + 2 λ q_i
    ∂L_u/∂y_j = -2 |N(u)|^-½ Σ_{i∈R(u)} e_ui q_i + 2 λ_y y_j
Steps of lr/2 down these (the factor 2 folded into lr, as in sgd.py).

The speed trick (kernels._svdpp_epoch). Surprise's SVDpp steps every y_j, j ∈ N(u), after every rating of u:
O(|N(u)| k) per rating, 150 times the work of plain SGD on an average MovieLens user. Here the ratings are
visited user by user; z_u is summed once per user, b_u, b_i, p_u and q_i step rating by rating as in SGD,
the y-gradient Σ e_ui q_i is accumulated on the way, and each y_j takes a single step when the user's last
rating is done. O(k) per rating, amortised: an epoch costs about twice plain SGD's. Within a user y is
held fixed (as in a mini-batch), so with one rating per user the kernel's step is exactly the gradient
step above (tests/test_svdpp.py checks it against gradlab.autodiff).

After the fit, z_u depends only on the training data, so the model keeps p_u + z_u as its user factors:
a plain FactorModel, which predicts, ranks, saves and loads as any other (y itself is not kept).
"""

from __future__ import annotations

import math

import numpy as np

from ...data.movielens import Ratings
from .hyper import DEFAULTS, _check_hyper
from .kernels import _implicit_sums, _svdpp_epoch
from .model import FactorModel
from .training import _csr, _Fit


def fit_svdpp(
    train: Ratings,
    factors: int = DEFAULTS["svdpp"]["factors"],
    epochs: int = DEFAULTS["svdpp"]["epochs"],
    lr: float = DEFAULTS["svdpp"]["lr"],
    lr_decay: float = DEFAULTS["svdpp"]["lr_decay"],
    reg: float = DEFAULTS["svdpp"]["reg"],
    reg_bias: float = DEFAULTS["svdpp"]["reg_bias"],
    reg_y: float = DEFAULTS["svdpp"]["reg_y"],
    init_std: float = DEFAULTS["svdpp"]["init_std"],
    dtype: str = DEFAULTS["svdpp"]["dtype"],
    seed: int = 0,
    titles: dict | None = None,
    scale: tuple[float, float] | None = None,
    progress: bool = True,
    out=None,
) -> FactorModel:
    """r̂_ui = μ + b_u + b_i + q_iᵀ(p_u + |N(u)|^-½ Σ_{j∈N(u)} y_j) by SGD, user by user (the module docstring
    has the loss, its gradient and the speed trick).

    Each epoch visits the users in a fresh random order, each user's ratings in a random order drawn once
    (drawing it afresh each epoch cost a fifth of the fit and changed nothing measurable on validation);
    with e = r_ui - r̂_ui, per rating
        b_u += lr (e - λ_b b_u)     b_i += lr (e - λ_b b_i)
        p_u += lr (e q_i - λ p_u)   q_i += lr (e (p_u + z_u) - λ q_i)
    and once per user, for every j ∈ N(u),  y_j += lr (|N(u)|^-½ Σ_i e_ui q_i - λ_y y_j).
    The learning rate of epoch t is lr · lr_decay^(t-1). reg is λ, reg_bias λ_b, reg_y λ_y; p and q start at
    N(0, init_std²), y and the biases at 0. dtype as in fit_sgd (float32 factors: faster, same accuracy).
    The model's user factors are p_u + z_u (method "svdpp").
    """
    _check_hyper(
        factors=factors, epochs=epochs, lr=lr, reg=reg, reg_bias=reg_bias, reg_y=reg_y, init_std=init_std
    )  # fmt: skip
    if not (isinstance(lr_decay, int | float) and 0 < lr_decay <= 1):
        raise ValueError(f"lr_decay must be in (0, 1] (1: a constant learning rate), got {lr_decay!r}")
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    fit = _Fit(train)
    data, mean = fit.data, fit.mean
    n_users, n_items = len(data.users), len(data.items)
    rng = np.random.default_rng(seed)
    user_bias, item_bias = np.zeros(n_users), np.zeros(n_items)
    p = rng.normal(0.0, init_std, (n_users, factors)).astype(dtype)
    q = rng.normal(0.0, init_std, (n_items, factors)).astype(dtype)
    y = np.zeros((n_items, factors), dtype=dtype)
    indptr, items, ratings = _csr(data.u, data.i, n_users, data.r)
    # each user's ratings in a random order, drawn once (rows stay together: argsort of row + U(0,1)); only the
    # order of the users is drawn afresh each epoch
    within = np.argsort(np.repeat(np.arange(n_users), np.diff(indptr)) + rng.random(len(items)))
    items, ratings = items[within], ratings[within]
    fit.start_epochs("svdpp", epochs, progress, out)
    for epoch in range(1, epochs + 1):
        step = lr * lr_decay ** (epoch - 1)
        squared = _svdpp_epoch(
            indptr, items, ratings, rng.permutation(n_users), mean, user_bias, item_bias, p, q, y, step, reg,
            reg_bias, reg_y,
        )  # fmt: skip
        train_rmse = math.sqrt(squared / len(ratings))
        if not math.isfinite(train_rmse):
            raise FloatingPointError(
                f"SVD++ diverged in epoch {epoch} (training RMSE {train_rmse}): the learning rate {lr:g} is too large"
            )
        fit.epoch(epoch, train_rmse)
    hyper = {"factors": factors, "epochs": epochs, "lr": lr, "lr_decay": lr_decay, "reg": reg}
    hyper.update(reg_bias=reg_bias, reg_y=reg_y, init_std=init_std, dtype=np.dtype(dtype).name, seed=seed)
    user_factors = p + _implicit(indptr, items, y)
    return fit.model(user_bias, item_bias, user_factors, q, "svdpp", hyper, titles, scale)


def _implicit(indptr: np.ndarray, items: np.ndarray, y: np.ndarray) -> np.ndarray:
    """z_u = |N(u)|^-½ Σ_{j∈N(u)} y_j for every user (rows of the CSR indptr/items)."""
    out = np.empty((len(indptr) - 1, y.shape[1]), dtype=y.dtype)
    _implicit_sums(indptr, items, y, out)
    return out

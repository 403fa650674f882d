"""Per-rating stochastic gradient descent (Funk's algorithm, as in Surprise's SVD).

In a fresh random order each epoch, each rating moves the four parameters it touches against the
gradient of its term of the loss; with e = r_ui - r̂_ui,
    b_u += lr (e - λ_b b_u)          b_i += lr (e - λ_b b_i)
    p_u += lr (e q_i - λ p_u)        q_i += lr (e p_u - λ q_i)
(∂/∂p_u of (r - r̂)² + λ‖p_u‖² is -2 e q_i + 2 λ p_u: the factor 2 is folded into lr).
The pass over the ratings is the compiled kernels._sgd_epoch.
"""

from __future__ import annotations

import math

import numpy as np

from ...data.movielens import Ratings
from .hyper import DEFAULTS, _check_hyper
from .kernels import _sgd_epoch
from .model import FactorModel
from .training import _Fit


def fit_sgd(
    train: Ratings,
    factors: int = DEFAULTS["sgd"]["factors"],
    epochs: int = DEFAULTS["sgd"]["epochs"],
    lr: float = DEFAULTS["sgd"]["lr"],
    reg: float = DEFAULTS["sgd"]["reg"],
    reg_bias: float = DEFAULTS["sgd"]["reg_bias"],
    init_std: float = DEFAULTS["sgd"]["init_std"],
    dtype: str = DEFAULTS["sgd"]["dtype"],
    seed: int = 0,
    titles: dict | None = None,
    scale: tuple[float, float] | None = None,
    progress: bool = True,
    out=None,
) -> FactorModel:
    """r̂_ui = μ + b_u + b_i + p_u·q_i by per-rating SGD, the ratings in a fresh random order each epoch.

    μ is the mean training rating; biases start at 0 and factors at N(0, init_std²). For each rating,
    with e = r_ui - r̂_ui:
        b_u += lr (e - λ_b b_u)    b_i += lr (e - λ_b b_i)    p_u += lr (e q_i - λ p_u)    q_i += lr (e p_u - λ q_i)
    that is, a step of lr/2 down the gradient of (r - r̂)² + λ(‖p_u‖² + ‖q_i‖²) + λ_b(b_u² + b_i²).
    reg is λ, reg_bias is λ_b. factors=0 fits the biases alone.

    The factors are float32 unless dtype="float64": half the bytes per row and twice the SIMD lanes make
    an epoch ~1.6× faster, and float32's rounding (1e-7 relative) is far below the noise of the steps
    themselves (lr·e·q ≈ 1e-3). The training RMSE of each epoch (model.history, the progress line) is
    measured on the way, from each rating's error just before its own update: free, where a separate pass
    after the epoch would add a third to the time. scale (low, high) clips predictions (default: the
    lowest and highest training rating). titles {item id: title} are kept for display.
    """
    _check_hyper(factors=factors, epochs=epochs, lr=lr, reg=reg, reg_bias=reg_bias, init_std=init_std)
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    fit = _Fit(train)
    data, mean = fit.data, fit.mean
    rng = np.random.default_rng(seed)
    user_bias, item_bias = np.zeros(len(data.users)), np.zeros(len(data.items))
    p = rng.normal(0.0, init_std, (len(data.users), factors)).astype(dtype)
    q = rng.normal(0.0, init_std, (len(data.items), factors)).astype(dtype)
    fit.start_epochs("sgd", epochs, progress, out)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(data.r))
        squared = _sgd_epoch(data.u, data.i, data.r, order, mean, user_bias, item_bias, p, q, lr, reg, reg_bias)
        train_rmse = math.sqrt(squared / len(data.r))
        if not math.isfinite(train_rmse):
            raise FloatingPointError(
                f"SGD diverged in epoch {epoch} (training RMSE {train_rmse}): the learning rate {lr:g} is too large"
            )
        fit.epoch(epoch, train_rmse)
    hyper = {"factors": factors, "epochs": epochs, "lr": lr, "reg": reg, "reg_bias": reg_bias, "init_std": init_std}
    hyper.update(dtype=np.dtype(dtype).name, seed=seed)
    return fit.model(user_bias, item_bias, p, q, "sgd" if factors else "baseline", hyper, titles, scale)

"""SVD++ blended with an item-based neighbourhood model: two views of the same ratings, mixed.

    r̂_ui = (1 - α) r̂^svd++_ui + α r̂^knn_ui

The neighbourhood model (Koren 2010, "Factor in the neighbors"; Surprise's KNNBaseline) predicts from u's
own ratings of the items most like i, as deviations from the baseline b_ui = μ + b_u + b_i (fit_baseline):
    r̂^knn_ui = b_ui + Σ_{j∈N_k(i;u)} s_ij e_uj / Σ_{j∈N_k(i;u)} s_ij,      e_uj = r_uj - b_uj
    s_ij = ρ_ij (n_ij - 1) / (n_ij - 1 + shrink)
    ρ_ij = Σ_u e_ui e_uj / √(Σ_u e_ui² · Σ_u e_uj²)   (sums over the n_ij users who rated both i and j)
N_k(i;u) is the k items u rated with the largest positive s_ij. ρ is the Pearson correlation of the baseline
residuals; the shrink factor pulls a correlation seen on few common users towards 0.

Why blend. A low-rank model captures the broad axes of taste and smooths away the local item-to-item
relations (the sequel of a film u loved) that a neighbourhood model reads off directly; their errors are
partly independent, so a mixture beats both. Measured on a held-out tenth of u1.base (benchmarks/recommender.py
--search blend): SVD++ 0.895 (100 factors) or 0.897 (50), item-kNN 0.915, the mixture 0.893.

Why a fixed α. α is a hyper-parameter chosen on that held-out tenth of u1.base, like every other default.
Fitting it per training set (least squares on held-out training ratings) would mean fitting both models
twice, once without the held-out part and once with it, and the blend is meant to fit no slower than
Surprise's SVD.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ...data.movielens import Ratings
from .baseline import fit_baseline
from .hyper import BLEND_DEFAULTS, _check_hyper
from .kernels import _co_rated, _knn_predict, _row_pointers, _shrunk_correlation
from .metrics import Scores, mae, rmse
from .model import FactorModel
from .svdpp import fit_svdpp

MAX_ITEMS = 15_000  # the dense items × items sums take 20 bytes a pair: 4.5 GB at this size


@dataclass
class ItemKnn:
    """The neighbourhood model r̂_ui = b_ui + Σ_{j∈N_k(i;u)} s_ij e_uj / Σ s_ij (see the module docstring).

    baseline gives b_ui and the id maps; each user's rated items and their residuals e_uj are the CSR
    rated[indptr[u]:indptr[u+1]], residuals[...]; similarity is the items × items matrix s (0 on its diagonal).
    """

    baseline: FactorModel
    indptr: np.ndarray
    rated: np.ndarray
    residuals: np.ndarray
    similarity: np.ndarray
    neighbours: int

    def _predict_index(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """r̂ for user and item indices, clipped to the scale; an unknown user or item (-1) gets no
        correction, which leaves the baseline's cold-start answer (μ + b_i, μ + b_u or μ)."""
        correction = np.empty(len(u))
        _knn_predict(u, i, self.indptr, self.rated, self.residuals, self.similarity, self.neighbours, correction)
        return np.clip(_biases(self.baseline, u, i) + correction, *self.baseline.scale)


def _biases(model: FactorModel, u: np.ndarray, i: np.ndarray) -> np.ndarray:
    """μ + b_u + b_i, unclipped, a bias left out where its index is -1 (unknown)."""
    user = np.where(u >= 0, model.user_bias[np.maximum(u, 0)], 0.0)
    return model.mean + user + np.where(i >= 0, model.item_bias[np.maximum(i, 0)], 0.0)


def fit_item_knn(
    train: Ratings,
    neighbours: int = BLEND_DEFAULTS["neighbours"],
    shrink: float = BLEND_DEFAULTS["shrink"],
    progress: bool = False,
) -> ItemKnn:
    """The item-based neighbourhood model on baseline residuals (the module docstring has the formulas).

    Its baseline is fit_baseline's (alternating closed forms, Surprise's BaselineOnly defaults). The sums
    behind ρ_ij and n_ij are the compiled kernels._co_rated: Σ_u |I_u|²/2 updates (7 million on u1.base),
    into dense items × items arrays (MovieLens 100K's 1,682 items: 45 MB while fitting, 11 MB kept).
    """
    if isinstance(neighbours, bool) or not isinstance(neighbours, int | np.integer) or neighbours < 1:
        raise ValueError(f"neighbours must be a whole number >= 1, got {neighbours!r}")
    _check_hyper(shrink=shrink)
    baseline = fit_baseline(train, progress=progress)
    u, i = baseline.users.index(train.user), baseline.items.index(train.item)
    n_users, n_items = len(baseline.users), len(baseline.items)
    if n_items > MAX_ITEMS:
        raise ValueError(
            f"the item-kNN model keeps dense items × items similarities (20 bytes a pair while fitting): "
            f"{n_items:,} items would need {20 * n_items**2 / 1e9:.0f} GB; it takes at most {MAX_ITEMS:,} items "
            "(use fit_svdpp alone for a larger catalogue)"
        )
    by_user = np.argsort(u * n_items + i)  # grouped by user, each user's items in increasing order
    u, i = u[by_user], i[by_user]
    residuals = train.rating[by_user] - _biases(baseline, u, i)
    indptr = _row_pointers(u, n_users)
    # float32 sums: 16 bytes a pair, one cache line per update; the sums are of at most a few hundred terms
    sums = np.zeros((n_items, n_items, 4), dtype=np.float32)
    _co_rated(indptr, i, residuals.astype(np.float32), sums)
    similarity = np.empty((n_items, n_items), dtype=np.float32)
    _shrunk_correlation(sums, float(shrink), similarity)
    return ItemKnn(baseline, indptr, i, residuals, similarity, int(neighbours))


@dataclass
class BlendModel:
    """r̂_ui = (1 - α) r̂^svd++_ui + α r̂^knn_ui, both fitted on the same ratings (so with the same id maps)."""

    svdpp: FactorModel
    knn: ItemKnn
    weight: float
    hyper: dict
    fit_seconds: float
    method: str = "blend"

    def predict(self, users, items):
        """r̂ for raw user and item ids (two arrays of equal length, or two single ids giving a float)."""
        single = np.ndim(users) == 0 and np.ndim(items) == 0
        u = np.atleast_1d(self.svdpp.users.index(users))
        i = np.atleast_1d(self.svdpp.items.index(items))
        if u.shape != i.shape:
            raise ValueError(f"users and items must have the same length, got {u.shape[0]} and {i.shape[0]}")
        result = self._predict_index(u, i)
        return float(result[0]) if single else result

    def _predict_index(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        return (1 - self.weight) * self.svdpp._predict_index(u, i) + self.weight * self.knn._predict_index(u, i)

    def evaluate(self, test: Ratings) -> Scores:
        """RMSE and MAE of the predictions on the ratings of `test`."""
        u, i = self.svdpp.users.index(test.user), self.svdpp.items.index(test.item)
        predicted = self._predict_index(u, i)
        cold = int(((u < 0) | (i < 0)).sum())
        return Scores(rmse(predicted, test.rating), mae(predicted, test.rating), len(test), cold)


def fit_blend(
    train: Ratings,
    weight: float = BLEND_DEFAULTS["weight"],
    neighbours: int = BLEND_DEFAULTS["neighbours"],
    shrink: float = BLEND_DEFAULTS["shrink"],
    factors: int = BLEND_DEFAULTS["factors"],
    seed: int = 0,
    progress: bool = False,
    **svdpp_options,
) -> BlendModel:
    """SVD++ (fit_svdpp with `factors` and svdpp_options, the rest its defaults) and the item-kNN model
    (fit_item_knn), mixed as (1 - weight) r̂^svd++ + weight r̂^knn. fit_seconds is the CPU time of both fits.

    The SVD++ inside has 50 factors by default, not 100: in the mixture the difference shrinks to the seed
    noise (validation 0.8926 against 0.8917) and the blend fits in 0.15 s instead of 0.16–0.21 s (Surprise's SVD:
    0.24 s on the same ratings)."""
    if not (isinstance(weight, int | float) and 0 <= weight <= 1):
        raise ValueError(f"weight must be a number in [0, 1] (the share of the neighbourhood model), got {weight!r}")
    started = time.process_time()
    knn = fit_item_knn(train, neighbours, shrink)
    svdpp = fit_svdpp(train, factors=factors, seed=seed, progress=progress, **svdpp_options)
    hyper = {"weight": weight, "neighbours": neighbours, "shrink": shrink, "svdpp": svdpp.hyper}
    return BlendModel(svdpp, knn, float(weight), hyper, time.process_time() - started)

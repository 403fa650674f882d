"""A movie recommender by matrix factorisation: the same model fitted by gradient steps and in closed form.

The model predicts user u's rating of item i as

    r̂_ui = μ + b_u + b_i + p_u·q_i

μ the global mean rating, b_u and b_i how far user u rates above the mean and how far item i is rated
above it, and p_u, q_i ∈ R^k the latent factors of the user and the item (their dot product is the
part of the taste the biases cannot explain). The fit minimises, over the training ratings,

    Σ (r_ui - r̂_ui)² + λ (‖p_u‖² + ‖q_i‖²) + λ_b (b_u² + b_i²)

Two ways down the same hill:

    fit_sgd   per-rating stochastic gradient steps in shuffled order (Funk's algorithm, as in Surprise's SVD):
              with e = r_ui - r̂_ui, each rating moves its four parameters against the gradient of its term,
                  b_u += lr (e - λ_b b_u)          b_i += lr (e - λ_b b_i)
                  p_u += lr (e q_i - λ p_u)        q_i += lr (e p_u - λ q_i)
              (∂/∂p_u of (r - r̂)² + λ‖p_u‖² is -2 e q_i + 2 λ p_u: the factor 2 is folded into lr)
    fit_als   alternating least squares: with the items fixed the loss is a least-squares problem in each
              user's (b_u, p_u) alone, solved exactly, and then the same for each item:
                  [b_u; p_u] = (XᵀX + diag(λ_b, λ, …, λ))⁻¹ Xᵀ (r_u - μ - b_I),   X = [1, q_i] over the items u rated

and fit_baseline, the biases alone (μ + b_u + b_i), the yardstick any factor model must beat.

Unknown users and items (cold start) have no bias and no factors: their terms are 0, so the prediction
falls back to μ + b_i, μ + b_u or μ. Predictions are clipped to the training data's rating scale.

    model = fit_sgd(train)                         # train: gradlab.data.movielens.Ratings
    model.predict(196, 242); model.evaluate(test)  # RMSE and MAE
    model.recommend(196, n=10); model.similar(50)  # top-N unrated items; nearest items by cosine of q
    model.save("model.npz"); FactorModel.load("model.npz")
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numba import njit

from ..data.movielens import FOLDS, IdMap, Ratings, load_split
from ..npzfile import ModelFileError, read_npz, write_npz

__all__ = [
    "DEFAULTS",
    "FactorModel",
    "FoldResult",
    "RankingScores",
    "Recommendation",
    "Scores",
    "cross_validate",
    "fit",
    "fit_als",
    "fit_baseline",
    "fit_sgd",
    "mae",
    "precision_recall_at_k",
    "rmse",
]

FORMAT = "gradlab.recommender/1"

# Hyper-parameters of each method, chosen by validation on a held-out tenth of u1.base, never on the official
# test files (benchmarks/recommender.py --search): the fastest setting within 0.001 RMSE of the best, and for
# SGD only among settings that fit no slower than Surprise's SVD. The baseline's are Surprise's BaselineOnly's.
DEFAULTS = {
    "sgd": {
        "factors": 100,
        "epochs": 30,
        "lr": 0.01,
        "reg": 0.08,
        "reg_bias": 0.02,
        "init_std": 0.05,
        "dtype": "float32",
    },
    "als": {"factors": 20, "epochs": 10, "reg": 15.0, "reg_bias": 5.0, "init_std": 0.1, "weighted": False},
    "baseline": {"epochs": 10, "reg_user": 15.0, "reg_item": 10.0},
}


class Recommendation(NamedTuple):
    """One recommended item: its raw id, its title ('' when unknown) and the score that ranked it."""

    item: int | str
    title: str
    score: float


@dataclass(frozen=True)
class Scores:
    """Errors of the predictions on a test set: RMSE = √(mean (r - r̂)²), MAE = mean |r - r̂|."""

    rmse: float
    mae: float
    n: int
    cold: int  # test ratings whose user or item was not in the training data

    def __str__(self):
        cold = f", {self.cold} cold-start" if self.cold else ""
        return f"RMSE {self.rmse:.4f}  MAE {self.mae:.4f}  ({self.n:,} ratings{cold})"


@dataclass(frozen=True)
class RankingScores:
    """Mean precision@k and recall@k over the users with at least one relevant test item."""

    precision: float
    recall: float
    k: int
    users: int

    def __str__(self):
        return f"precision@{self.k} {self.precision:.4f}  recall@{self.k} {self.recall:.4f}  ({self.users} users)"


def rmse(predicted, actual) -> float:
    """√(mean (r̂ - r)²)."""
    diff = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.sqrt(np.mean(diff * diff)))


def mae(predicted, actual) -> float:
    """mean |r̂ - r|."""
    return float(np.mean(np.abs(np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64))))


@dataclass
class FactorModel:
    """A fitted model r̂_ui = μ + b_u + b_i + p_u·q_i with its id maps (the baseline has k = 0 factors).

    user_factors is (users, k) and item_factors (items, k); row n belongs to users.ids[n] / items.ids[n].
    rated holds, for each user, the items rated in training (CSR: rated_items[rated_indptr[u]:rated_indptr[u+1]])
    so that recommendations can skip them. history is the training RMSE of each epoch (for SGD measured
    during the epoch, for ALS and the baseline after it).
    """

    mean: float
    user_bias: np.ndarray
    item_bias: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray
    users: IdMap
    items: IdMap
    scale: tuple[float, float]
    rated_indptr: np.ndarray
    rated_items: np.ndarray
    titles: np.ndarray | None = None
    method: str = "sgd"
    hyper: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    fit_seconds: float = 0.0

    @property
    def factors(self) -> int:
        return self.user_factors.shape[1]

    def __repr__(self):
        return (
            f"FactorModel({self.method}, {len(self.users):,} users, {len(self.items):,} items, "
            f"{self.factors} factors, μ = {self.mean:.4f})"
        )

    # --- predictions ---------------------------------------------------------------------------------
    def predict(self, users, items):
        """r̂ for raw user and item ids (two arrays of equal length, or two single ids giving a float).

        An id unseen in training contributes nothing (its bias and factors are 0): cold start.
        Clipped to the rating scale.
        """
        single = np.ndim(users) == 0 and np.ndim(items) == 0
        u = np.atleast_1d(self.users.index(users))
        i = np.atleast_1d(self.items.index(items))
        if u.shape != i.shape:
            raise ValueError(f"users and items must have the same length, got {u.shape[0]} and {i.shape[0]}")
        result = self._predict_index(u, i)
        return float(result[0]) if single else result

    def _predict_index(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        out = np.empty(len(u), dtype=np.float64)
        _predict_kernel(
            u, i, self.mean, self.user_bias, self.item_bias, self.user_factors, self.item_factors, *self.scale, out
        )
        return out

    def evaluate(self, test: Ratings) -> Scores:
        """RMSE and MAE of the clipped predictions on the ratings of `test`."""
        u, i = self.users.index(test.user), self.items.index(test.item)
        predicted = self._predict_index(u, i)
        return Scores(
            rmse(predicted, test.rating), mae(predicted, test.rating), len(test), int(((u < 0) | (i < 0)).sum())
        )

    # --- rankings ------------------------------------------------------------------------------------
    def title(self, item) -> str:
        index = int(self.items.index(item))
        return "" if self.titles is None or index < 0 else str(self.titles[index])

    def _scores_for(self, u: int) -> np.ndarray:
        """r̂ of user index u (or -1: unknown) for every item, unclipped so that ties above the scale still rank."""
        scores = self.mean + self.item_bias
        if u >= 0:
            # in float64, so that rankings agree with predict() to the last digit
            q, p = self.item_factors.astype(np.float64, copy=False), self.user_factors[u].astype(np.float64)
            scores = scores + self.user_bias[u] + q @ p
        return scores

    def rated_by(self, user) -> np.ndarray:
        """Raw ids of the items `user` rated in the training data (empty for an unknown user)."""
        u = int(self.users.index(user))
        if u < 0:
            return self.items.ids[:0]
        return self.items.ids[self.rated_items[self.rated_indptr[u] : self.rated_indptr[u + 1]]]

    def recommend(self, user, n: int = 10, exclude_rated: bool = True) -> list[Recommendation]:
        """The n items with the highest predicted rating for `user`, leaving out those rated in training.

        An unknown user (cold start) gets the items with the highest μ + b_i.
        """
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        u = int(self.users.index(user))
        scores = self._scores_for(u)
        if exclude_rated and u >= 0:
            scores[self.rated_items[self.rated_indptr[u] : self.rated_indptr[u + 1]]] = -np.inf
        best = _top(scores, n)
        return [self._recommendation(j, scores[j], clip=True) for j in best]

    def similar(self, item, n: int = 10, min_ratings: int = 5) -> list[Recommendation]:
        """Because you watched `item`: the n items whose factor vectors point the most the same way,

            cos(q_i, q_j) = q_i·q_j / (‖q_i‖ ‖q_j‖),

        among items rated at least min_ratings times in training (an item seen by two people has factors
        that barely left their random start, so its direction says little). score is the cosine.
        """
        if self.factors == 0:
            raise ValueError("a baseline model has no item factors to compare; train an 'sgd' or 'als' model")
        j = int(self.items.index(item))
        if j < 0:
            raise KeyError(f"item {item!r} was not in the training data, so it has no factors")
        q = self.item_factors.astype(np.float64, copy=False)
        norms = np.linalg.norm(q, axis=1)
        cosine = (q @ q[j]) / np.maximum(norms * norms[j], 1e-300)
        eligible = np.bincount(self.rated_items, minlength=len(self.items)) >= min_ratings
        eligible[j] = False
        cosine = np.where(eligible, cosine, -np.inf)
        best = _top(cosine, min(n, int(eligible.sum())))
        return [self._recommendation(k, cosine[k]) for k in best]

    def _recommendation(self, index: int, score: float, clip: bool = False) -> Recommendation:
        item = self.items.ids[index]
        item = int(item) if self.items.ids.dtype.kind in "iu" else str(item)
        title = "" if self.titles is None else str(self.titles[index])
        score = float(np.clip(score, *self.scale)) if clip else float(score)
        return Recommendation(item, title, score)

    # --- saving --------------------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the model to a .npz file (plain arrays and JSON text, no pickle); returns the path."""
        path = Path(path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {
            "format": np.array(FORMAT),
            "mean": np.array(self.mean),
            "user_bias": self.user_bias,
            "item_bias": self.item_bias,
            "user_factors": self.user_factors,
            "item_factors": self.item_factors,
            "user_ids": self.users.ids,
            "item_ids": self.items.ids,
            "scale": np.array(self.scale, dtype=np.float64),
            "rated_indptr": self.rated_indptr,
            "rated_items": self.rated_items,
            "titles": np.array([], dtype=str) if self.titles is None else self.titles,
            "info": np.array(json.dumps({"method": self.method, "hyper": self.hyper, "fit_seconds": self.fit_seconds})),
            "history": np.array(self.history, dtype=np.float64),
        }
        # written under another name and renamed, so an interrupted save never leaves half a model behind
        return write_npz(path, arrays, compress=True)

    @classmethod
    def load(cls, path) -> FactorModel:
        """Read a model written by save(). Raises FileNotFoundError, or ModelFileError (a ValueError) naming the
        file and what is wrong with it.

        The arrays are checked against each other before the model is built: first their shapes and dtypes,
        from the .npy headers before any data is decompressed (one row of factors per id, one bias per id,
        rated_indptr of users + 1 entries, …), then their contents (ids sorted and distinct, rated_indptr
        rising from 0 to the number of rated items, item indices in range, finite numbers, info a JSON object).
        A truncated or edited file is refused instead of answering with wrong recommendations.
        """
        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no model file at {path}: train one first (gradlab recommend train --save {path})")
        remedy = f"train and save the model again (gradlab recommend train --save {path})"
        arrays = read_npz(path, _check_model_headers, text=_TEXT, remedy=remedy)
        try:
            info = _check_model_arrays(arrays)
        except ModelFileError as error:
            raise ModelFileError(f"{path}: {error}") from None
        titles = arrays["titles"]
        return cls(
            mean=float(arrays["mean"]),
            user_bias=arrays["user_bias"].astype(np.float64, copy=False),
            item_bias=arrays["item_bias"].astype(np.float64, copy=False),
            user_factors=arrays["user_factors"],
            item_factors=arrays["item_factors"],
            users=IdMap(arrays["user_ids"]),  # saved sorted and distinct (checked): the same maps
            items=IdMap(arrays["item_ids"]),
            scale=tuple(float(x) for x in arrays["scale"]),
            rated_indptr=arrays["rated_indptr"].astype(np.int64, copy=False),
            rated_items=arrays["rated_items"].astype(np.int64, copy=False),
            titles=titles if titles.size else None,
            method=info["method"],
            hyper=info["hyper"],
            history=[float(x) for x in arrays["history"]],
            fit_seconds=float(info.get("fit_seconds", 0.0)),
        )


_SAVED = (
    "mean", "user_bias", "item_bias", "user_factors", "item_factors", "user_ids", "item_ids", "scale",
    "rated_indptr", "rated_items", "titles", "info", "history",
)  # fmt: skip
_TEXT = ("format", "info", "titles", "user_ids", "item_ids")  # the arrays that may hold text


def _damaged(problem: str) -> ModelFileError:
    return ModelFileError(f"{problem}: the file is damaged or was edited; train and save the model again")


def _check_model_headers(headers: dict) -> None:
    """The shapes and dtypes of a saved model's arrays against each other, from their .npy headers alone."""
    if "format" not in headers:
        raise ModelFileError(f"not a gradlab recommender model (expected format {FORMAT!r})")
    missing = sorted(set(_SAVED) - set(headers))
    if missing:
        raise _damaged(f"lacks {', '.join(missing)}")

    def need(name: str, shape: tuple, kinds: str, what: str, why: str = "") -> tuple:
        """Check one array (None in shape: any length) and return its shape; why: where the lengths come from."""
        found = headers[name]
        if found.dtype.kind not in kinds:
            raise _damaged(f"{name} holds {found.dtype}, where a model holds {what}")
        if len(found.shape) != len(shape) or any(n not in (None, m) for n, m in zip(shape, found.shape)):
            wanted = tuple("any" if n is None else n for n in shape)
            raise _damaged(f"{name} has shape {found.shape}, not {wanted}{', since ' + why if why else ''}")
        return found.shape

    for name in ("format", "info"):
        need(name, (), "U", "text")
    need("mean", (), "f", "a number")
    need("scale", (2,), "f", "numbers")
    need("history", (None,), "f", "numbers")
    (users,) = need("user_ids", (None,), "iuU", "whole numbers or text")
    (items,) = need("item_ids", (None,), "iuU", "whole numbers or text")
    per_user, per_item = f"user_ids lists {users:,} users", f"item_ids lists {items:,} items"
    need("user_bias", (users,), "f", "numbers", per_user)
    need("item_bias", (items,), "f", "numbers", per_item)
    _, k = need("user_factors", (users, None), "f", "numbers", per_user)
    need("item_factors", (items, k), "f", "numbers", f"{per_item} and user_factors has {k} columns")
    for name in ("user_factors", "item_factors"):
        if headers[name].dtype not in (np.float32, np.float64):
            raise _damaged(f"{name} holds {headers[name].dtype}, where a model holds float32 or float64")
    need("rated_indptr", (users + 1,), "iu", "whole numbers", f"{per_user} (and it has one entry more)")
    need("rated_items", (None,), "iu", "whole numbers")
    need("titles", (items if headers["titles"].shape != (0,) else 0,), "U", "text", per_item)


def _check_model_arrays(arrays: dict) -> dict:
    """The contents of a saved model's arrays, once read; returns its info (method, hyper, fit_seconds)."""
    if str(arrays["format"]) != FORMAT:
        raise ModelFileError(f"not a gradlab recommender model (format {str(arrays['format'])!r}, not {FORMAT!r})")
    try:
        info = json.loads(str(arrays["info"]))
    except ValueError:
        info = None
    if not (isinstance(info, dict) and isinstance(info.get("method"), str) and isinstance(info.get("hyper"), dict)):
        raise _damaged('info is not the JSON object {"method": ..., "hyper": {...}, "fit_seconds": ...} save() writes')
    if not isinstance(info.get("fit_seconds", 0.0), int | float):
        raise _damaged("info's fit_seconds is not a number")
    for name in ("user_ids", "item_ids"):
        ids = arrays[name]
        if len(ids) > 1 and not np.all(ids[1:] > ids[:-1]):
            raise _damaged(f"{name} is not sorted without repeats, as save() writes it")
    for name in ("mean", "scale", "user_bias", "item_bias", "user_factors", "item_factors"):
        if not np.all(np.isfinite(arrays[name])):
            raise _damaged(f"{name} holds NaN or infinity")
    if not arrays["scale"][0] <= arrays["scale"][1]:
        raise _damaged(f"scale {tuple(arrays['scale'].tolist())} runs from high to low")
    indptr, rated = arrays["rated_indptr"].astype(np.int64), arrays["rated_items"]
    if indptr[0] != 0 or indptr[-1] != len(rated) or np.any(np.diff(indptr) < 0):
        raise _damaged(f"rated_indptr does not rise from 0 to {len(rated):,}, the length of rated_items")
    if len(rated) and (rated.min() < 0 or rated.max() >= len(arrays["item_ids"])):
        raise _damaged(f"rated_items holds item indices outside 0..{len(arrays['item_ids']) - 1}")
    return info


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n largest scores, largest first (argpartition: O(items), not a full sort)."""
    n = min(n, len(scores))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    best = np.argpartition(-scores, n - 1)[:n]
    best = best[np.isfinite(scores[best])]
    return best[np.argsort(-scores[best], kind="stable")]


# --- the compiled inner loops ------------------------------------------------------------------------
# One pass over 80,000 ratings is 80,000 tiny updates of k numbers each: in Python that is ~1 s per epoch
# at k = 100, and vectorising it would change the algorithm (each step must see the previous one's
# parameters). Numba compiles these loops to machine code; cache=True keeps the compiled code on disk.


# fastmath lets LLVM reorder the sums (the dot product in SIMD lanes): twice as fast, same results to ~1e-15.
# Only reassociation and contraction (fused multiply-add) are allowed: NaN and Inf keep their meaning.
FAST = {"reassoc", "contract", "nsz"}


@njit(cache=True, fastmath=FAST)
def _sgd_epoch(users, items, ratings, order, mean, user_bias, item_bias, p, q, lr, reg, reg_bias):  # pragma: no cover
    """One pass in the given order; returns Σ e² of the errors met on the way (each before its update).

    The k-long loops run in the factors' own precision (float32 factors: float32 arithmetic, twice the
    SIMD lanes); the biases and the error stay float64.
    """
    k = p.shape[1]
    real = p.dtype.type
    lr_k, reg_k = real(lr), real(reg)
    squared = 0.0
    for n in order:
        u = users[n]
        i = items[n]
        pu = p[u]
        qi = q[i]
        dot = real(0.0)
        for f in range(k):
            dot += pu[f] * qi[f]
        e = ratings[n] - (mean + user_bias[u] + item_bias[i] + dot)
        squared += e * e
        user_bias[u] += lr * (e - reg_bias * user_bias[u])
        item_bias[i] += lr * (e - reg_bias * item_bias[i])
        e_k = real(e)
        for f in range(k):
            puf = pu[f]
            qif = qi[f]
            # both updates use the values from before this step, as the gradient does
            pu[f] += lr_k * (e_k * qif - reg_k * puf)
            qi[f] += lr_k * (e_k * puf - reg_k * qif)
    return squared


@njit(cache=True, fastmath=FAST)
def _predict_kernel(users, items, mean, user_bias, item_bias, p, q, low, high, out):  # pragma: no cover
    k = p.shape[1]
    for n in range(len(users)):
        u = users[n]
        i = items[n]
        value = mean
        if u >= 0:
            value += user_bias[u]
        if i >= 0:
            value += item_bias[i]
        if u >= 0 and i >= 0:
            for f in range(k):
                value += np.float64(p[u, f]) * q[i, f]  # float64 even for float32 factors
        out[n] = min(max(value, low), high)


def _train_rmse(model_parts, u, i, r) -> float:
    """Training RMSE of the unclipped model: the quantity the fit is driving down."""
    mean, user_bias, item_bias, p, q = model_parts
    out = np.empty(len(r))
    _predict_kernel(u, i, mean, user_bias, item_bias, p, q, -np.inf, np.inf, out)
    return rmse(out, r)


# --- fitting -----------------------------------------------------------------------------------------
class _Indexed(NamedTuple):
    u: np.ndarray
    i: np.ndarray
    r: np.ndarray
    users: IdMap
    items: IdMap


def _index(train: Ratings) -> _Indexed:
    if not isinstance(train, Ratings):
        raise TypeError(f"train must be gradlab.data.movielens.Ratings, got {type(train).__name__}")
    if len(train) == 0:
        raise ValueError("no training ratings")
    users, items = IdMap(train.user), IdMap(train.item)
    return _Indexed(users.index(train.user), items.index(train.item), train.rating.astype(np.float64), users, items)


def _csr(rows: np.ndarray, cols: np.ndarray, n_rows: int, values: np.ndarray | None = None):
    """Ratings grouped by row: (indptr, cols, values) with row r's entries at indptr[r]:indptr[r+1]."""
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return indptr, cols[order], None if values is None else values[order]


def _titles_for(items: IdMap, titles) -> np.ndarray | None:
    if titles is None:
        return None
    return np.array([str(titles.get(int(x) if items.ids.dtype.kind in "iu" else x, "")) for x in items.ids], dtype=str)


def _model(data: _Indexed, mean, user_bias, item_bias, p, q, method, hyper, history, titles, seconds, scale):
    indptr, rated, _ = _csr(data.u, data.i, len(data.users))
    low, high = (float(data.r.min()), float(data.r.max())) if scale is None else (float(scale[0]), float(scale[1]))
    return FactorModel(
        float(mean), user_bias, item_bias, p, q, data.users, data.items, (low, high), indptr, rated,
        _titles_for(data.items, titles), method, hyper, history, seconds,
    )  # fmt: skip


class _Progress:
    """One line per epoch: the training RMSE and the time so far."""

    def __init__(self, label: str, epochs: int, enabled: bool, out):
        self.label, self.epochs, self.enabled = label, epochs, enabled
        self.out = sys.stdout if out is None else out
        self.start = time.perf_counter()

    def epoch(self, epoch: int, value: float):
        if self.enabled:
            width = len(str(self.epochs))
            elapsed = time.perf_counter() - self.start
            print(
                f"{self.label} epoch {epoch:>{width}}/{self.epochs}  train RMSE {value:.4f}  ({elapsed:.1f} s)",
                file=self.out,
                flush=True,
            )


def _check_hyper(**values):
    for name, value in values.items():
        if name in ("factors", "epochs"):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | np.integer)
                or value < (0 if name == "factors" else 1)
            ):
                least = 0 if name == "factors" else 1
                raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")
        elif not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if values.get("lr", 1) == 0:
        raise ValueError("lr must be positive: with lr = 0 nothing is learned")


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
    started = time.process_time()
    data = _index(train)
    rng = np.random.default_rng(seed)
    mean = float(data.r.mean())
    user_bias, item_bias = np.zeros(len(data.users)), np.zeros(len(data.items))
    p = rng.normal(0.0, init_std, (len(data.users), factors)).astype(dtype)
    q = rng.normal(0.0, init_std, (len(data.items), factors)).astype(dtype)
    report = _Progress("sgd", epochs, progress, out)
    history = []
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(data.r))
        squared = _sgd_epoch(data.u, data.i, data.r, order, mean, user_bias, item_bias, p, q, lr, reg, reg_bias)
        history.append(math.sqrt(squared / len(data.r)))
        if not math.isfinite(history[-1]):
            raise FloatingPointError(
                f"SGD diverged in epoch {epoch} (training RMSE {history[-1]}): the learning rate {lr:g} is too large"
            )
        report.epoch(epoch, history[-1])
    hyper = {"factors": factors, "epochs": epochs, "lr": lr, "reg": reg, "reg_bias": reg_bias, "init_std": init_std}
    hyper.update(dtype=np.dtype(dtype).name, seed=seed)
    return _model(
        data, mean, user_bias, item_bias, p, q, "sgd" if factors else "baseline", hyper, history, titles,
        time.process_time() - started, scale,
    )  # fmt: skip


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
    started = time.process_time()
    data = _index(train)
    rng = np.random.default_rng(seed)
    mean = float(data.r.mean())
    n_users, n_items = len(data.users), len(data.items)
    user_bias, item_bias = np.zeros(n_users), np.zeros(n_items)
    p = np.zeros((n_users, factors))
    q = rng.normal(0.0, init_std, (n_items, factors))
    by_user = _csr(data.u, data.i, n_users, data.r)
    by_item = _csr(data.i, data.u, n_items, data.r)
    penalty = np.full(factors + 1, float(reg))
    penalty[0] = reg_bias
    report = _Progress("als", epochs, progress, out)
    history = []
    for epoch in range(1, epochs + 1):
        _ridge_rows(*by_user, q, item_bias, mean, penalty, weighted, p, user_bias)
        _ridge_rows(*by_item, p, user_bias, mean, penalty, weighted, q, item_bias)
        history.append(_train_rmse((mean, user_bias, item_bias, p, q), data.u, data.i, data.r))
        report.epoch(epoch, history[-1])
    hyper = {"factors": factors, "epochs": epochs, "reg": reg, "reg_bias": reg_bias, "init_std": init_std}
    hyper.update(weighted=weighted, seed=seed)
    return _model(
        data, mean, user_bias, item_bias, p, q, "als", hyper, history, titles, time.process_time() - started, scale
    )


@njit(cache=True, fastmath=FAST)
def _ridge_rows(
    indptr, cols, values, fixed, fixed_bias, mean, penalty, weighted, factors_out, bias_out
):  # pragma: no cover
    """For every row (a user, or an item): [b; p] = (XᵀX + D)⁻¹ Xᵀ t with X = [1, fixed[cols]] and
    t = r - μ - fixed_bias[cols], D = diag(penalty) (times the row's count when weighted).

    XᵀX is summed rating by rating into one (k+1)×(k+1) buffer, so memory stays O(k²) beyond the
    model, and solved by Cholesky (XᵀX + D is symmetric positive definite when λ > 0).
    """
    k = fixed.shape[1]
    gram = np.empty((k + 1, k + 1))
    rhs = np.empty(k + 1)
    x = np.empty(k + 1)
    x[0] = 1.0
    for row in range(len(indptr) - 1):
        lo, hi = indptr[row], indptr[row + 1]
        if lo == hi:
            continue
        gram[:] = 0.0
        rhs[:] = 0.0
        for n in range(lo, hi):
            c = cols[n]
            x[1:] = fixed[c]
            target = values[n] - mean - fixed_bias[c]
            for a in range(k + 1):
                rhs[a] += x[a] * target
                for b in range(a + 1):  # the lower triangle is all Cholesky reads
                    gram[a, b] += x[a] * x[b]
        scale = float(hi - lo) if weighted else 1.0
        for a in range(k + 1):
            gram[a, a] += penalty[a] * scale
        _cholesky_solve(gram, rhs)
        bias_out[row] = rhs[0]
        factors_out[row] = rhs[1:]


@njit(cache=True, fastmath=FAST)
def _cholesky_solve(a, b):  # pragma: no cover
    """Solve A x = b in place for symmetric positive definite A (lower triangle read): A = L Lᵀ, then
    L y = b forwards and Lᵀ x = y backwards. L overwrites A's lower triangle, x overwrites b."""
    m = a.shape[0]
    for j in range(m):
        s = a[j, j]
        for c in range(j):
            s -= a[j, c] * a[j, c]
        a[j, j] = np.sqrt(s)
        for r in range(j + 1, m):
            s = a[r, j]
            for c in range(j):
                s -= a[r, c] * a[j, c]
            a[r, j] = s / a[j, j]
    for r in range(m):
        s = b[r]
        for c in range(r):
            s -= a[r, c] * b[c]
        b[r] = s / a[r, r]
    for r in range(m - 1, -1, -1):
        s = b[r]
        for c in range(r + 1, m):
            s -= a[c, r] * b[c]
        b[r] = s / a[r, r]


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
    started = time.process_time()
    data = _index(train)
    mean = float(data.r.mean())
    n_users, n_items = len(data.users), len(data.items)
    user_count = np.bincount(data.u, minlength=n_users)
    item_count = np.bincount(data.i, minlength=n_items)
    user_bias, item_bias = np.zeros(n_users), np.zeros(n_items)
    report = _Progress("baseline", epochs, progress, out)
    history = []
    for epoch in range(1, epochs + 1):
        user_bias = np.bincount(data.u, data.r - mean - item_bias[data.i], n_users) / (reg_user + user_count)
        item_bias = np.bincount(data.i, data.r - mean - user_bias[data.u], n_items) / (reg_item + item_count)
        history.append(rmse(mean + user_bias[data.u] + item_bias[data.i], data.r))
        report.epoch(epoch, history[-1])
    empty = np.zeros((n_users, 0)), np.zeros((n_items, 0))
    hyper = {"epochs": epochs, "reg_user": reg_user, "reg_item": reg_item, "method": method}
    return _model(
        data, mean, user_bias, item_bias, *empty, "baseline", hyper, history, titles, time.process_time() - started,
        scale,
    )  # fmt: skip


def fit(train: Ratings, method: str = "sgd", **options) -> FactorModel:
    """fit_sgd, fit_als or fit_baseline by name ("sgd", "als", "baseline")."""
    fitters = {"sgd": fit_sgd, "als": fit_als, "baseline": fit_baseline}
    if method not in fitters:
        raise ValueError(f"method must be one of {', '.join(fitters)}, got {method!r}")
    return fitters[method](train, **options)


# --- evaluation --------------------------------------------------------------------------------------
def precision_recall_at_k(model: FactorModel, test: Ratings, k: int = 10, threshold: float = 4.0) -> RankingScores:
    """How many of each user's top-k recommendations the user went on to like.

    For every test user known to the model with at least one relevant test item (rated ≥ threshold):
    rank all items the user did not rate in training, take the top k, and count the hits:
        precision@k = hits / k,   recall@k = hits / (relevant items)
    averaged over those users. Ranking over every unrated item (not only the test items) is the
    realistic setting, and much harsher than rating prediction: a model can rate well and rank poorly.
    """
    u = model.users.index(test.user)
    i = model.items.index(test.item)
    liked = (test.rating >= threshold) & (u >= 0)
    relevant: dict[int, set] = {}
    for user, item, raw in zip(u[liked], i[liked], test.item[liked]):
        # an item unseen in training can never be recommended, but still counts as relevant (a miss)
        relevant.setdefault(int(user), set()).add(int(item) if item >= 0 else ("unseen", raw))
    precisions, recalls = [], []
    for user, items in relevant.items():
        scores = model._scores_for(user)
        scores[model.rated_items[model.rated_indptr[user] : model.rated_indptr[user + 1]]] = -np.inf
        hits = len(items.intersection(int(j) for j in _top(scores, k)))
        precisions.append(hits / k)
        recalls.append(hits / len(items))
    if not precisions:
        return RankingScores(float("nan"), float("nan"), k, 0)
    return RankingScores(float(np.mean(precisions)), float(np.mean(recalls)), k, len(precisions))


@dataclass(frozen=True)
class FoldResult:
    """One official fold: its test errors and the CPU seconds the fit took."""

    fold: int
    scores: Scores
    fit_seconds: float


def cross_validate(root=None, method: str = "sgd", folds=FOLDS, progress: bool = True, out=None, **options):
    """Fit on u{K}.base and score on u{K}.test for each official fold K; a list of FoldResult.

    options go to the fitting function (fit_sgd, fit_als or fit_baseline); fit time is CPU time.
    """
    out = sys.stdout if out is None else out
    results = []
    for fold in folds:
        train, test = load_split(root, fold)
        model = fit(train, method, progress=False, **options)
        result = FoldResult(fold, model.evaluate(test), model.fit_seconds)
        if progress:
            print(f"u{fold}: {result.scores}  fit {result.fit_seconds:.2f} s", file=out, flush=True)
        results.append(result)
    return results

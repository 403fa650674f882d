"""A fitted recommender, r̂_ui = μ + b_u + b_i + p_u·q_i, with what it answers:

predict(u, i)   r̂ clipped to the rating scale; an unknown user or item contributes 0 (cold start)
evaluate(test)  RMSE and MAE on held-out ratings
recommend(u)    the top-n items u did not rate, by r̂
similar(i)      the items whose factors point most the same way, cos(q_i, q_j)
save / load     one .npz of plain arrays, checked on the way in (modelfile.py)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ...data.movielens import IdMap, Ratings
from ...npzfile import ModelFileError, read_npz, write_npz
from .kernels import _predict_kernel
from .metrics import Scores, _top, mae, rmse
from .modelfile import _TEXT, FORMAT, _check_model_arrays, _check_model_headers


class Recommendation(NamedTuple):
    """One recommended item: its raw id, its title ('' when unknown) and the score that ranked it."""

    item: int | str
    title: str
    score: float


class _Catalogue:
    """What FactorModel and RankingModel both keep of the training data, and what they answer from it alone:
    the id maps (users, items), the titles, and each user's training items as CSR (rated_indptr, rated_items)."""

    users: IdMap
    items: IdMap
    rated_indptr: np.ndarray
    rated_items: np.ndarray
    titles: np.ndarray | None

    def title(self, item) -> str:
        index = int(self.items.index(item))
        return "" if self.titles is None or index < 0 else str(self.titles[index])

    def rated_by(self, user) -> np.ndarray:
        """Raw ids of the items `user` rated (saw) in the training data (empty for an unknown user)."""
        u = int(self.users.index(user))
        if u < 0:
            return self.items.ids[:0]
        return self.items.ids[self._rated(u)]

    @property
    def popularity(self) -> np.ndarray:
        """How many training users rated (saw) each item."""
        return np.bincount(self.rated_items, minlength=len(self.items))

    def _rated(self, u: int) -> np.ndarray:
        """Indices of the items user index u rated in training: left out of u's recommendations."""
        return self.rated_items[self.rated_indptr[u] : self.rated_indptr[u + 1]]

    def _most_similar(self, scores: np.ndarray, j: int, n: int, min_ratings: int) -> list[Recommendation]:
        """The n best-scored items other than j among those rated at least min_ratings times in training."""
        eligible = self.popularity >= min_ratings
        eligible[j] = False
        scores = np.where(eligible, scores, -np.inf)
        return [self._recommendation(k, scores[k]) for k in _top(scores, min(n, int(eligible.sum())))]

    def _recommendation(self, index: int, score: float) -> Recommendation:
        item = self.items.ids[index]
        item = int(item) if self.items.ids.dtype.kind in "iu" else str(item)
        title = "" if self.titles is None else str(self.titles[index])
        return Recommendation(item, title, float(score))


def _cosines(factors: np.ndarray, j: int) -> np.ndarray:
    """cos(q_i, q_j) = q_i·q_j / (‖q_i‖ ‖q_j‖) for every row i of factors, in float64 (0 for a zero row)."""
    q = factors.astype(np.float64, copy=False)
    norms = np.linalg.norm(q, axis=1)
    return (q @ q[j]) / np.maximum(norms * norms[j], 1e-300)


@dataclass
class FactorModel(_Catalogue):
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
    def _scores_for(self, u: int) -> np.ndarray:
        """r̂ of user index u (or -1: unknown) for every item, unclipped so that ties above the scale still rank."""
        scores = self.mean + self.item_bias
        if u >= 0:
            # in float64, so that rankings agree with predict() to the last digit
            q, p = self.item_factors.astype(np.float64, copy=False), self.user_factors[u].astype(np.float64)
            scores = scores + self.user_bias[u] + q @ p
        return scores

    def recommend(self, user, n: int = 10, exclude_rated: bool = True) -> list[Recommendation]:
        """The n items with the highest predicted rating for `user`, leaving out those rated in training.

        An unknown user (cold start) gets the items with the highest μ + b_i.
        """
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        u = int(self.users.index(user))
        scores = self._scores_for(u)
        if exclude_rated and u >= 0:
            scores[self._rated(u)] = -np.inf
        best = _top(scores, n)
        return [self._recommendation(j, np.clip(scores[j], *self.scale)) for j in best]

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
        return self._most_similar(_cosines(self.item_factors, j), j, n, min_ratings)

    # --- saving --------------------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the model to a .npz file (plain arrays and JSON text, no pickle); returns the path."""
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
        return _write_model_file(path, arrays)

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
        arrays, info = _read_model_file(path, _check_model_headers, _check_model_arrays, _TEXT, "")
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


# --- the file, for FactorModel and RankingModel (the checks themselves are in modelfile.py) ---------------
def _write_model_file(path, arrays: dict) -> Path:
    """Write arrays to path (a compressed .npz, folders made as needed); returns the path."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    # written under another name and renamed, so an interrupted save never leaves half a model behind
    return write_npz(path, arrays, compress=True)


def _read_model_file(path, check_headers, check_arrays, text: tuple, options: str) -> tuple[dict, dict]:
    """(arrays, info) of a saved model: check_headers sees the .npy headers before any data is
    decompressed, check_arrays the contents (it returns the info). options: what `gradlab recommend train`
    needs to make this kind of model, for the advice in FileNotFoundError and ModelFileError."""
    path = Path(path).expanduser()
    train = f"gradlab recommend train{options} --save {path}"
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}: train one first ({train})")
    if path.suffix == ".npz":
        remedy = f"train and save the model again ({train})"
    else:  # some other file: never advise writing a model over it
        remedy = f"pass a model file that `gradlab recommend train{options} --save FILE.npz` wrote"
    arrays = read_npz(path, check_headers, text=text, remedy=remedy)
    try:
        info = check_arrays(arrays)
    except ModelFileError as error:
        raise ModelFileError(f"{path}: {error}") from None
    return arrays, info

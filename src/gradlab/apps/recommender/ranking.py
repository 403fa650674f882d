"""Ranking models for top-N lists, fitted to what users saw (implicit feedback), with one interface.

A rating model (FactorModel) learns how much a user will like a film they rate; a top-N list needs which films
they will pick at all, and a film one never watched says something too. These models learn from the seen
pairs alone (u rated i, whatever the rating) and give each user a score per item, highest first:

    popularity   s_ui = how many users saw i                       the yardstick every model must beat
    bpr          s_ui = b_i + p_u·q_i, seen ranked above unseen    bpr.py  (Rendle et al. 2009)
    wmf          s_ui = x_u·y_i, all cells fitted, seen weighted   wmf.py  (Hu, Koren & Volinsky 2008)
    ease         s_ui = Σ_{j seen by u} B_ji, closed form          ease.py (Steck 2019)

    model = fit_ranking(train, "ease")          # or fit_ease(train, reg=500.0), fit_bpr, fit_wmf, fit_popularity
    model.recommend(196, n=10); model.similar(50)
    top_n_scores(model, test)                   # precision, recall, NDCG, MAP @10, coverage (ranking_metrics.py)
    model.save("ranking.npz"); RankingModel.load("ranking.npz")

An unknown user (cold start) gets the most popular items. The defaults (RANKING_DEFAULTS) were chosen on a
random tenth of u1.base held out for validation (benchmarks/ranking.py --search), never on the test files.
"""

from __future__ import annotations

import json
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse

from ...data.movielens import IdMap, Ratings
from .bpr import bpr_factors
from .ease import ease_weights
from .hyper import _check_hyper
from .kernels import _row_pointers
from .metrics import _top
from .model import FactorModel, Recommendation, _Catalogue, _cosines, _read_model_file, _write_model_file
from .modelfile import _TEXT, RANKING_FORMAT, _check_ranking_arrays, _check_ranking_headers
from .training import _csr, _index, _Progress, _titles_for
from .wmf import wmf_factors

RANKING_DEFAULTS = {
    "ease": {"reg": 500.0},
    "wmf": {"factors": 64, "epochs": 5, "alpha": 10.0, "reg": 50.0, "cg_steps": 3, "init_std": 0.01},
    "bpr": {"factors": 64, "epochs": 60, "lr": 0.02, "reg": 0.02, "init_std": 0.1},
    "popularity": {},
}
BEST = "ease"  # the highest precision@10 and NDCG@10 on u1–u5 and on the temporal split (benchmarks/ranking.py)


@dataclass
class RankingModel(_Catalogue):
    """Item scores s_ui = p_u·q_i + b_i + Σ_{j seen by u} W_ji (the parts a method does not use are empty).

    user_factors (users, k), item_factors (items, k), item_bias (items,), item_weights (items, items) for EASE
    or (0, 0); rated_indptr / rated_items hold each user's training items (CSR), left out of their lists.
    """

    method: str
    users: IdMap
    items: IdMap
    user_factors: np.ndarray
    item_factors: np.ndarray
    item_bias: np.ndarray
    item_weights: np.ndarray
    rated_indptr: np.ndarray
    rated_items: np.ndarray
    titles: np.ndarray | None = None
    hyper: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    fit_seconds: float = 0.0

    def __repr__(self):
        return f"RankingModel({self.method}, {len(self.users):,} users, {len(self.items):,} items)"

    def scores_for_users(self, users: np.ndarray) -> np.ndarray:
        """s_ui for the given user indices (rows) and every item (columns), in float64."""
        users = np.asarray(users, dtype=np.int64)
        if users.size and users.min() < 0:
            raise ValueError("user index -1 is an unknown user, with no scores: recommend() gives them the most seen")
        p = self.user_factors[users].astype(np.float64)
        scores = p @ self.item_factors.astype(np.float64).T + self.item_bias
        if self.item_weights.size:
            starts, ends = self.rated_indptr[users], self.rated_indptr[users + 1]
            picks = np.concatenate([self.rated_items[s:e] for s, e in zip(starts, ends)] + [np.zeros(0, np.int64)])
            seen = scipy.sparse.csr_matrix(
                (np.ones(len(picks)), picks, np.r_[0, np.cumsum(ends - starts)]), shape=(len(users), len(self.items))
            )
            scores += seen @ self.item_weights
        return scores

    def recommend(self, user, n: int = 10) -> list[Recommendation]:
        """The n best-scored items `user` did not see in training; an unknown user gets the n most popular."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        u = int(self.users.index(user))
        if u < 0:
            scores = self.popularity.astype(np.float64)
        else:
            scores = self.scores_for_users(np.array([u]))[0]
            scores[self._rated(u)] = -np.inf
        return [self._recommendation(j, scores[j]) for j in _top(scores, n)]

    def similar(self, item, n: int = 10, min_ratings: int = 5) -> list[Recommendation]:
        """Because you watched `item`: for EASE the items it weighs most, B_ij (the list of a user who saw only
        i); for a factor model the items whose factors point most the same way, cos(q_i, q_j). Only items
        seen at least min_ratings times in training count (a rarely seen item's vector says little)."""
        j = int(self.items.index(item))
        if j < 0:
            raise KeyError(f"item {item!r} was not in the training data, so the model knows nothing of it")
        if self.item_weights.size:
            scores = self.item_weights[j].astype(np.float64)
        elif self.item_factors.shape[1]:
            scores = _cosines(self.item_factors, j)
        else:
            raise ValueError(f"a {self.method} model has no item vectors to compare; train ease, wmf or bpr")
        return self._most_similar(scores, j, n, min_ratings)

    def save(self, path) -> Path:
        """Write the model to one .npz of plain arrays and JSON text (no pickle); returns the path."""
        info = {"method": self.method, "hyper": self.hyper, "fit_seconds": self.fit_seconds}
        arrays = {
            "format": np.array(RANKING_FORMAT),
            "info": np.array(json.dumps(info)),
            "user_ids": self.users.ids,
            "item_ids": self.items.ids,
            "user_factors": self.user_factors,
            "item_factors": self.item_factors,
            "item_bias": self.item_bias,
            "item_weights": self.item_weights,
            "rated_indptr": self.rated_indptr,
            "rated_items": self.rated_items,
            "titles": np.array([], dtype=str) if self.titles is None else self.titles,
            "history": np.array(self.history, dtype=np.float64),
        }
        return _write_model_file(path, arrays)

    @classmethod
    def load(cls, path) -> RankingModel:
        """Read a model written by save(), every array checked against the others before it is used
        (modelfile.py). Raises FileNotFoundError, or ModelFileError naming the file and what is wrong."""
        arrays, info = _read_model_file(path, _check_ranking_headers, _check_ranking_arrays, _TEXT, " --model ease")
        titles = arrays["titles"]
        return cls(
            method=info["method"],
            users=IdMap(arrays["user_ids"]),
            items=IdMap(arrays["item_ids"]),
            **{name: arrays[name] for name in ("user_factors", "item_factors", "item_weights")},
            item_bias=arrays["item_bias"].astype(np.float64, copy=False),
            rated_indptr=arrays["rated_indptr"].astype(np.int64, copy=False),
            rated_items=arrays["rated_items"].astype(np.int64, copy=False),
            titles=titles if titles.size else None,
            hyper=info["hyper"],
            history=[float(x) for x in arrays["history"]],
            fit_seconds=float(info.get("fit_seconds", 0.0)),
        )


# --- fitting ---------------------------------------------------------------------------------------------
class _Seen:
    """The training pairs as a set: each (user, item) once, grouped by user (CSR, items sorted), and the clock."""

    def __init__(self, train: Ratings, titles):
        self.started = time.process_time()
        data = _index(train)
        self.users, self.items = data.users, data.items
        n_users, n_items = len(data.users), len(data.items)
        keys = np.unique(data.u * n_items + data.i)  # sorted by user, then item; repeats gone
        self.rows, self.cols = keys // n_items, keys % n_items
        self.indptr = _row_pointers(self.rows, n_users)
        self.titles = _titles_for(data.items, titles)

    def model(self, method, hyper, history=(), p=None, q=None, bias=None, weights=None) -> RankingModel:
        n_users, n_items = len(self.users), len(self.items)
        return RankingModel(
            method, self.users, self.items,
            np.zeros((n_users, 0)) if p is None else p, np.zeros((n_items, 0)) if q is None else q,
            np.zeros(n_items) if bias is None else bias, np.zeros((0, 0)) if weights is None else weights,
            self.indptr, self.cols, self.titles, hyper, list(history), time.process_time() - self.started,
        )  # fmt: skip


def _reporter(label: str, epochs: int, measure: str, progress: bool, out, history: list):
    """on_epoch for the fitters: keep the epoch's value, and print a line when progress is on."""
    line = _Progress(label, epochs, progress, out, measure)

    def on_epoch(epoch: int, value: float):
        history.append(value)
        line.epoch(epoch, value)

    return on_epoch


def fit_popularity(train: Ratings, titles: dict | None = None, progress: bool = True, out=None) -> RankingModel:
    """s_ui = how many training users saw i, the same list for everyone (less what each has seen).
    (No epochs: progress and out are accepted so that every fitter takes them, and show nothing.)"""
    seen = _Seen(train, titles)
    return seen.model("popularity", {}, bias=np.bincount(seen.cols, minlength=len(seen.items)).astype(np.float64))


def fit_ease(
    train: Ratings, reg: float = RANKING_DEFAULTS["ease"]["reg"], titles: dict | None = None, progress: bool = True,
    out=None,
) -> RankingModel:  # fmt: skip
    """EASE: s_u = x_u B with B_ij = -P_ij / P_jj, P = (XᵀX + λI)⁻¹, B_jj = 0 (derived in ease.py).
    (One closed-form solve, no epochs: progress and out show nothing.)"""
    _check_hyper(reg=reg)
    if not reg > 0:
        raise ValueError("EASE needs reg > 0: λ is what makes XᵀX + λI invertible")
    seen = _Seen(train, titles)
    return seen.model("ease", {"reg": reg}, weights=ease_weights(seen.indptr, seen.cols, len(seen.items), reg))


def fit_bpr(
    train: Ratings, factors: int = RANKING_DEFAULTS["bpr"]["factors"], epochs: int = RANKING_DEFAULTS["bpr"]["epochs"],
    lr: float = RANKING_DEFAULTS["bpr"]["lr"], reg: float = RANKING_DEFAULTS["bpr"]["reg"],
    init_std: float = RANKING_DEFAULTS["bpr"]["init_std"], dtype: str = "float32", seed: int = 0,
    titles: dict | None = None, progress: bool = True, out=None,
) -> RankingModel:  # fmt: skip
    """BPR: s_ui = b_i + p_u·q_i by SGD ascent on Σ log σ(x̂_ui - x̂_uj) - (λ/2)‖θ‖² (derived in bpr.py).

    Each epoch takes as many sampled (user, seen, unseen) triples as there are seen pairs; history holds each
    epoch's mean log σ(x̂_uij) (rising towards 0 as the pairs get ranked right).
    """
    _check_hyper(factors=factors, epochs=epochs, lr=lr, reg=reg, init_std=init_std)
    seen, history = _Seen(train, titles), []
    on_epoch = _reporter("bpr", epochs, "mean log σ(x̂_uij)", progress, out, history)
    p, q, bias = bpr_factors(
        seen.indptr, seen.cols, len(seen.items), factors, epochs, lr, reg, init_std, np.dtype(dtype), seed, on_epoch
    )
    hyper = {"factors": factors, "epochs": epochs, "lr": lr, "reg": reg, "init_std": init_std, "seed": seed}
    return seen.model("bpr", hyper, history, p, q, bias)


def fit_wmf(
    train: Ratings, factors: int = RANKING_DEFAULTS["wmf"]["factors"], epochs: int = RANKING_DEFAULTS["wmf"]["epochs"],
    alpha: float = RANKING_DEFAULTS["wmf"]["alpha"], reg: float = RANKING_DEFAULTS["wmf"]["reg"],
    cg_steps: int = RANKING_DEFAULTS["wmf"]["cg_steps"], init_std: float = RANKING_DEFAULTS["wmf"]["init_std"],
    dtype: str = "float32", seed: int = 0, titles: dict | None = None, progress: bool = True, out=None,
) -> RankingModel:  # fmt: skip
    """Weighted MF for implicit feedback: s_ui = x_u·y_i minimising Σ_all c_ui (p_ui - x_u·y_i)² + λ(‖X‖² + ‖Y‖²)
    with c_ui = 1 + α on seen pairs, by alternating conjugate-gradient half-steps (derived in wmf.py).

    history holds each epoch's loss when progress is shown (measuring it costs a fifth of an epoch, so a quiet
    fit skips it).
    """
    _check_hyper(factors=factors, epochs=epochs, reg=reg, init_std=init_std)
    if isinstance(cg_steps, bool) or not isinstance(cg_steps, int | np.integer) or cg_steps < 1:
        raise ValueError(f"cg_steps must be a whole number >= 1 (conjugate-gradient steps per row), got {cg_steps!r}")
    if not alpha >= 0:
        raise ValueError(f"alpha must be 0 or more (the extra confidence in a seen pair), got {alpha!r}")
    seen, history = _Seen(train, titles), []
    on_epoch = _reporter("wmf", epochs, "loss", progress, out, history) if progress else None
    by_item = _csr(seen.cols, seen.rows, len(seen.items))[:2]
    x, y = wmf_factors(
        (seen.indptr, seen.cols), by_item, factors, epochs, alpha, reg, cg_steps, init_std, np.dtype(dtype).type,
        seed, on_epoch,
    )  # fmt: skip
    hyper = {"factors": factors, "epochs": epochs, "alpha": alpha, "reg": reg, "cg_steps": cg_steps}
    hyper.update(init_std=init_std, seed=seed)
    return seen.model("wmf", hyper, history, x, y)


FITTERS = {"ease": fit_ease, "wmf": fit_wmf, "bpr": fit_bpr, "popularity": fit_popularity}


def fit_ranking(train: Ratings, method: str = BEST, **options) -> RankingModel:
    """fit_ease, fit_wmf, fit_bpr or fit_popularity by name; the default is the best measured (BEST)."""
    if method not in FITTERS:
        raise ValueError(f"method must be one of {', '.join(FITTERS)}, got {method!r}")
    return FITTERS[method](train, **options)


def load_model(path) -> RankingModel | FactorModel:
    """A saved recommender of either kind: a RankingModel or a rating FactorModel, told apart by their arrays
    (only a ranking model holds item_weights); each is then read and checked by its own load()."""
    path = Path(path).expanduser()
    try:
        with zipfile.ZipFile(path) as archive:
            ranks = "item_weights.npy" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        ranks = False  # not a readable archive: FactorModel.load says what is wrong with it
    return RankingModel.load(path) if ranks else FactorModel.load(path)

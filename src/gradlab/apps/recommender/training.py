"""What the three fitters share: ratings turned into indices, ratings grouped by user or by item
(CSR), a progress line per epoch, the training RMSE, and the FactorModel built at the end."""

from __future__ import annotations

import sys
import time
from typing import NamedTuple

import numpy as np

from ...data.movielens import IdMap, IndexedRatings, Ratings
from .kernels import _group_by_row, _predict_kernel, _row_pointers
from .metrics import rmse
from .model import FactorModel


def _train_rmse(model_parts, u, i, r) -> float:
    """Training RMSE of the unclipped model: the quantity the fit is driving down."""
    mean, user_bias, item_bias, p, q = model_parts
    out = np.empty(len(r))
    _predict_kernel(u, i, mean, user_bias, item_bias, p, q, -np.inf, np.inf, out)
    return rmse(out, r)


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
    if isinstance(train, IndexedRatings):  # dense indices already (large loaders, synthetic data); raw ids aside
        (u, users), (i, items) = dense_ids(train.user, train.user_ids), dense_ids(train.item, train.item_ids)
        return _Indexed(u.astype(np.int64), i.astype(np.int64), train.rating.astype(np.float64), users, items)
    users, items = IdMap(train.user), IdMap(train.item)
    return _Indexed(users.index(train.user), items.index(train.item), train.rating.astype(np.float64), users, items)


def dense_ids(index: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, IdMap]:
    """IndexedRatings' index k names ids[k]: (int32 indices into the model's IdMap, that IdMap), over the ids
    that have ratings. A listed id without any (synthetic data lists every id it could have drawn) would
    otherwise get factors no rating ever trained, and be answered as a known user or item.

    The model's IdMap numbers the ids in sorted order; when ids is sorted and every one has ratings (as the
    MovieLens loaders write them), the index array is used as it is."""
    if len(index) and not 0 <= index.min() <= index.max() < len(ids):  # the counting kernel does not check
        raise ValueError(f"rating indices must lie in 0..{len(ids) - 1}, found {index.min()}..{index.max()}")
    rated = np.diff(_row_pointers(index, len(ids))) > 0
    if not rated.all():
        index, ids = (np.cumsum(rated) - 1).astype(np.int32)[index], ids[rated]
    id_map = IdMap(ids)
    if len(id_map) != len(ids):
        raise ValueError(f"the ratings' id list repeats ids ({len(ids):,} listed, {len(id_map):,} distinct)")
    position = id_map.index(ids)
    if np.array_equal(position, np.arange(len(ids))):
        return (index if index.dtype == np.int32 else index.astype(np.int32)), id_map
    return position.astype(np.int32)[index], id_map


def _csr(rows: np.ndarray, cols: np.ndarray, n_rows: int, values: np.ndarray | None = None):
    """Ratings grouped by row: (indptr, cols, values) with row r's entries at indptr[r]:indptr[r+1], in
    their original order within a row (a counting sort: kernels._group_by_row)."""
    if len(rows) and not 0 <= rows.min() <= rows.max() < n_rows:  # the kernels do not check their indices
        raise ValueError(f"row indices must lie in 0..{n_rows - 1}, found {rows.min()}..{rows.max()}")
    indptr = _row_pointers(rows, n_rows)
    grouped = [None if column is None else _group_by_row(rows, indptr, column) for column in (cols, values)]
    return indptr, *grouped


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


class _Fit:
    """What every fitter does around its own epochs: the CPU clock from the start, the ratings indexed and
    their mean, the training RMSE of each epoch (kept as the history and shown as a progress line), and
    the FactorModel built at the end."""

    def __init__(self, train: Ratings):
        self.started = time.process_time()
        self.data = _index(train)
        self.mean = float(self.data.r.mean())
        self.history: list[float] = []
        self.report: _Progress | None = None

    def start_epochs(self, label: str, epochs: int, progress: bool, out) -> None:
        """The progress line's clock starts here, where the setup ends and the first epoch begins."""
        self.report = _Progress(label, epochs, progress, out)

    def epoch(self, epoch: int, train_rmse: float) -> None:
        self.history.append(train_rmse)
        self.report.epoch(epoch, train_rmse)

    def model(self, user_bias, item_bias, p, q, method: str, hyper: dict, titles, scale) -> FactorModel:
        seconds = time.process_time() - self.started
        return _model(
            self.data, self.mean, user_bias, item_bias, p, q, method, hyper, self.history, titles, seconds, scale
        )


class _Progress:
    """One line per epoch: the value measured (the training RMSE unless told) and the time so far."""

    def __init__(self, label: str, epochs: int, enabled: bool, out, measure: str = "train RMSE"):
        self.label, self.epochs, self.enabled, self.measure = label, epochs, enabled, measure
        self.out = sys.stdout if out is None else out
        self.start = time.perf_counter()

    def epoch(self, epoch: int, value: float):
        if self.enabled:
            width = len(str(self.epochs))
            elapsed = time.perf_counter() - self.start
            print(
                f"{self.label} epoch {epoch:>{width}}/{self.epochs}  {self.measure} {value:.4f}  ({elapsed:.1f} s)",
                file=self.out,
                flush=True,
            )

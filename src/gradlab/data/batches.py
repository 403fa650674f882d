"""Mini-batches and a train/test split.

    for xb, yb in batches(x, y, batch_size=32, seed=epoch):   one epoch: every example exactly once
        ...
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_fraction=0.2)

x and y are arrays (or anything with len() that NumPy-style integer-array indexing works on) whose
first axis runs over the examples; lists and tuples are turned into arrays.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator

import numpy as np

__all__ = ["batches", "train_test_split"]


def _pair(x, y):
    x = np.asarray(x) if isinstance(x, list | tuple) else x
    y = np.asarray(y) if isinstance(y, list | tuple) else y
    if len(x) != len(y):
        raise ValueError(f"x and y must hold the same number of examples, got len(x) = {len(x)}, len(y) = {len(y)}")
    return x, y


def batches(
    x, y, batch_size: int, shuffle: bool = True, seed=None, drop_last: bool = False
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (x[b], y[b]) for consecutive blocks b of batch_size positions: one pass over the data.

    With shuffle=True the positions are a random permutation drawn from np.random.default_rng(seed)
    on each call: seed=None gives a fresh order every call, an integer the same order every call
    (pass seed=epoch for orders that change per epoch yet repeat run to run), and a Generator
    continues its stream, so calling again with the same Generator gives the next epoch's order.
    Without shuffling the batches are slices (views) of x and y, in order.

    The last batch holds the n % batch_size left-over examples, or is left out with drop_last=True.
    """
    x, y = _pair(x, y)
    if isinstance(batch_size, bool):
        raise TypeError(f"batch_size must be a whole number, got {batch_size!r}")
    batch_size = operator.index(batch_size)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    # the permutation is drawn now, not at the first next(): a bad argument fails at the call
    order = np.random.default_rng(seed).permutation(len(x)) if shuffle else None
    return _batches(x, y, batch_size, order, drop_last)


def _batches(x, y, batch_size, order, drop_last):
    n = len(x)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            yield x[start : start + batch_size], y[start : start + batch_size]
        else:
            index = order[start : start + batch_size]
            yield x[index], y[index]


def train_test_split(x, y, test_fraction: float = 0.2, seed=0):
    """Shuffle the examples and split them: (x_train, x_test, y_train, y_test), as scikit-learn orders them.

    The test set gets round(test_fraction·n) examples and the training set the rest; both must be
    non-empty. The same seed gives the same split.
    """
    x, y = _pair(x, y)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    n = len(x)
    n_test = round(test_fraction * n)
    if not 0 < n_test < n:
        raise ValueError(
            f"test_fraction = {test_fraction} of {n} examples leaves {n_test} for testing and {n - n_test} for "
            "training; both need at least one: use more examples or another test_fraction"
        )
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return x[train], x[test], y[train], y[test]

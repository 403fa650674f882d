"""Cross-validation on MovieLens 100K's five official folds (fit on u{K}.base, score on u{K}.test), and the
temporal split (each user's latest ratings held out), the harder and more realistic test of a top-N list."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from ...data.movielens import FOLDS, Ratings, load_split
from .methods import fit
from .metrics import Scores


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


def temporal_split(ratings: Ratings, n_test: int = 10) -> tuple[Ratings, Ratings]:
    """(train, test) with each user's n_test latest ratings in test: the future a recommender must predict.

    Latest by timestamp; ratings with the same timestamp keep their order in the file (the later line is the
    later rating). A user with n_test ratings or fewer stays wholly in train (nothing of the past would be left).
    """
    if ratings.timestamp is None:
        raise ValueError("a temporal split needs the ratings' timestamps (u.data has them; this data has none)")
    if n_test < 1:
        raise ValueError(f"n_test must be at least 1, got {n_test}")
    order = np.lexsort((np.arange(len(ratings)), ratings.timestamp, ratings.user))
    user = ratings.user[order]
    starts = np.flatnonzero(np.r_[True, user[1:] != user[:-1]])
    counts = np.diff(np.r_[starts, len(user)])
    from_end = np.repeat(starts + counts, counts) - np.arange(len(user))  # 1 for a user's latest rating
    held = (from_end <= n_test) & (np.repeat(counts, counts) > n_test)

    def part(mask):
        rows = order[mask]
        return Ratings(ratings.user[rows], ratings.item[rows], ratings.rating[rows], ratings.timestamp[rows])

    return part(~held), part(held)

"""Cross-validation on MovieLens 100K's five official folds: fit on u{K}.base, score on u{K}.test."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from ...data.movielens import FOLDS, load_split
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

"""How good a recommender is: the errors of its predicted ratings, and the hits of its top-k lists.

    RMSE = √(mean (r̂ - r)²)        MAE = mean |r̂ - r|
    precision@k = hits / k          recall@k = hits / (relevant test items)

where the hits are the top k items (among those the user did not rate in training) that the user
rated at least `threshold` in the test set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...data.movielens import Ratings
from .ranking_metrics import top_n_scores

if TYPE_CHECKING:
    from .model import FactorModel


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


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n largest scores, largest first (argpartition: O(items), not a full sort)."""
    n = min(n, len(scores))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    best = np.argpartition(-scores, n - 1)[:n]
    best = best[np.isfinite(scores[best])]
    return best[np.argsort(-scores[best], kind="stable")]


def precision_recall_at_k(model: FactorModel, test: Ratings, k: int = 10, threshold: float = 4.0) -> RankingScores:
    """How many of each user's top-k recommendations the user went on to like.

    For every test user known to the model with at least one relevant test item (rated ≥ threshold):
    rank all items the user did not rate in training, take the top k, and count the hits:
        precision@k = hits / k,   recall@k = hits / (relevant items)
    averaged over those users. Ranking over every unrated item (not only the test items) is the
    realistic setting, and much harsher than rating prediction: a model can rate well and rank poorly.
    Two of the numbers ranking_metrics.top_n_scores computes (with NDCG, MAP and coverage).
    """
    scores = top_n_scores(model, test, k, threshold)
    return RankingScores(scores.precision, scores.recall, k, scores.users)

"""How good a top-N list is: precision, recall, NDCG and MAP at k, and catalogue coverage.

The protocol: for every test user known to the model with at least one relevant test item (rated ≥
threshold), rank every item the user did not rate in training, take the top k, and mark each position
r = 1..k a hit (h_r = 1) when the item is relevant.
With R the user's relevant test items (an item unseen in training counts in |R|: it can only be missed),

    precision@k = Σ h_r / k                      recall@k = Σ h_r / |R|
    NDCG@k      = DCG / IDCG,   DCG = Σ h_r / log₂(r + 1),   IDCG = Σ_{r ≤ min(k, |R|)} 1 / log₂(r + 1)
    MAP@k       = mean over users of AP@k = Σ_r h_r · precision@r / min(k, |R|)
    coverage    = |⋃ top-k lists| / (items in the model's catalogue)

each averaged over those users. Any model with users, items (IdMap), rated_indptr, rated_items (the training
items of each user, CSR) and scores_for_users(user indices) -> (users, items) scores, or _scores_for(one user)
as FactorModel has, can be scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...data.movielens import Ratings

BATCH = 1024  # users scored at once: the score matrix stays BATCH × items


@dataclass(frozen=True)
class TopNScores:
    """Mean precision, recall, NDCG and MAP at k over the evaluated users, and the catalogue coverage."""

    precision: float
    recall: float
    ndcg: float
    map: float
    coverage: float
    k: int
    users: int

    def __str__(self):
        k = self.k
        return (
            f"precision@{k} {self.precision:.4f}  recall@{k} {self.recall:.4f}  NDCG@{k} {self.ndcg:.4f}  "
            f"MAP@{k} {self.map:.4f}  coverage {self.coverage:.3f}  ({self.users} users)"
        )


def score_matrix(model, users: np.ndarray) -> np.ndarray:
    """The model's scores of every item for the given user indices, one row per user (a fresh array)."""
    if hasattr(model, "scores_for_users"):
        return model.scores_for_users(users)
    return np.stack([model._scores_for(int(u)) for u in users]) if len(users) else np.zeros((0, len(model.items)))


def _relevant(model, test: Ratings, threshold: float) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """(evaluated user indices, each one's relevant item indices known to the model, each one's |R|)."""
    u = model.users.index(test.user)
    i = model.items.index(test.item)
    liked = (test.rating >= threshold) & (u >= 0)
    u, i, raw = u[liked], i[liked], test.item[liked]
    # |R| counts items unseen in training too (as negative codes); a pair is counted once (a CSV may repeat it)
    unseen = np.unique(raw[i < 0], return_inverse=True)[1]
    i[i < 0] = -1 - unseen
    pairs = np.unique(np.stack([u, i]), axis=1)
    users, counts = np.unique(pairs[0], return_counts=True)
    known = pairs[:, pairs[1] >= 0]
    starts = np.searchsorted(known[0], users)
    ends = np.searchsorted(known[0], users, side="right")
    return users, [known[1, s:e] for s, e in zip(starts, ends)], counts


def top_n_scores(model, test: Ratings, k: int = 10, threshold: float = 4.0) -> TopNScores:
    """precision@k, recall@k, NDCG@k, MAP@k and coverage of model's top-k lists on test (module docstring)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    users, relevant, sizes = _relevant(model, test, threshold)
    if len(users) == 0:
        nan = float("nan")
        return TopNScores(nan, nan, nan, nan, nan, k, 0)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discount)[np.minimum(sizes, k) - 1]
    hits = np.zeros((len(users), k))
    shown = np.zeros(len(model.items), dtype=bool)
    for start in range(0, len(users), BATCH):
        batch = users[start : start + BATCH]
        top = top_k_unrated(model, batch, k)
        shown[top[top >= 0]] = True
        for row, (items, best) in enumerate(zip(relevant[start : start + BATCH], top)):
            hits[start + row] = np.isin(best, items) & (best >= 0)
    found = hits.sum(axis=1)
    precision_at = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    return TopNScores(
        precision=float(np.mean(found / k)),
        recall=float(np.mean(found / sizes)),
        ndcg=float(np.mean(hits @ discount / ideal)),
        map=float(np.mean((hits * precision_at).sum(axis=1) / np.minimum(sizes, k))),
        coverage=float(shown.mean()),
        k=k,
        users=len(users),
    )


def top_k_unrated(model, users: np.ndarray, k: int) -> np.ndarray:
    """Each user's k best-scored items among those not rated in training, best first; -1 pads short lists."""
    scores = score_matrix(model, users)
    for row, u in enumerate(users):
        scores[row, model.rated_items[model.rated_indptr[u] : model.rated_indptr[u + 1]]] = -np.inf
    k_eff = min(k, scores.shape[1])
    best = np.argpartition(-scores, k_eff - 1, axis=1)[:, :k_eff]
    order = np.argsort(-np.take_along_axis(scores, best, axis=1), axis=1, kind="stable")
    best = np.take_along_axis(best, order, axis=1)
    best = np.where(np.isfinite(np.take_along_axis(scores, best, axis=1)), best, -1)
    return np.pad(best, ((0, 0), (0, k - k_eff)), constant_values=-1)

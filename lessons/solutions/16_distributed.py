"""Reference solutions for lessons/16_distributed.ipynb (one block per exercise cell)."""

import numpy as np

from gradlab.exercises import check


# exercise: distributed.block_of
def block_of(users, items, n, n_users, n_items):
    """Row block u·n // n_users and column block i·n // n_items: n contiguous ranges of (nearly) equal size."""
    return users * n // n_users, items * n // n_items


check("distributed.block_of", block_of)


# exercise: distributed.strata
def strata(n):
    """Sub-epoch s takes the blocks (b, (b + s) mod n): row b meets a different column in every sub-epoch."""
    return [[(b, (b + s) % n) for b in range(n)] for s in range(n)]


check("distributed.strata", strata)


# exercise: distributed.stale_sgd
def stale_sgd(grad, x0, lr, steps, k):
    """x_(t+1) = x_t − lr·∇f(x_(max(t − k, 0))): each gradient was computed at a point k steps old."""
    path = [np.array(x0, dtype=float)]
    for t in range(steps):
        old = path[max(t - k, 0)]
        path.append(path[t] - lr * grad(old))
    return np.array(path)


check("distributed.stale_sgd", stale_sgd)

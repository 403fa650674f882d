"""Checkers for lesson 16, distributed SGD: the blocks of the rating matrix, the strata of DSGD, stale gradients.

distributed.block_of    the block of each rating when users and items are cut into n contiguous ranges each:
                            row block = u·n // n_users,   column block = i·n // n_items   (0-based indices)
distributed.strata      n sub-epochs of n blocks each, no two blocks of a sub-epoch sharing a row or a column
                        block, and every one of the n² blocks in exactly one sub-epoch (Gemulla et al. 2011)
distributed.stale_sgd   gradient descent with gradients k steps old:
                            x_(t+1) = x_t − η ∇f(x_(max(t − k, 0))),   returning x_0 … x_steps
"""

from __future__ import annotations

import numpy as np

from . import grading
from .common import as_array, like
from .core import Wrong, exercise

__all__ = ["reference_block_of", "reference_stale_sgd"]


def reference_block_of(users, items, n, n_users, n_items):
    """(u·n // n_users, i·n // n_items): block b of the rows holds the indices [b·n_users/n, (b+1)·n_users/n)."""
    users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
    return users * n // n_users, items * n // n_items


@exercise("distributed.block_of")
def _block_of(fn):
    rng = np.random.default_rng(160)
    for n_users, n_items, n in ((100, 30, 7), (943, 1682, 4), (10, 7, 3), (12, 12, 4), (5, 9, 5)):
        users = np.concatenate([[0, n_users - 1], rng.integers(0, n_users, 40)])
        items = np.concatenate([[n_items - 1, 0], rng.integers(0, n_items, 40)])
        at = f"n = {n}, {n_users} users, {n_items} items"
        got = grading.call(fn, users.copy(), items.copy(), n, n_users, n_items)
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise Wrong("return two arrays, (row blocks, column blocks): one block number per rating for each")
        rows = as_array(got[0], "the row blocks are a {type}, not an array of whole numbers")
        cols = as_array(got[1], "the column blocks are a {type}, not an array of whole numbers")
        want_rows, want_cols = reference_block_of(users, items, n, n_users, n_items)
        if like(want_cols)(rows, want_rows) and like(want_rows)(cols, want_cols):
            raise Wrong(f"the two answers are swapped: return (the users' blocks, the items' blocks) (at {at})")
        for name, got_blocks, want, index, count in (
            ("row", rows, want_rows, users, n_users),
            ("column", cols, want_cols, items, n_items),
        ):
            if got_blocks.shape != want.shape:
                raise Wrong(f"the {name} blocks have shape {got_blocks.shape}, expected one per rating {want.shape}")
            if like((index + 1) * n // count)(got_blocks, want):
                raise Wrong(
                    f"the indices are 0-based (the last {name} index is {count - 1}): use index·n // count, "
                    f"not (index + 1)·n // count (at {at})"
                )
            if np.any((got_blocks < 0) | (got_blocks >= n)):
                why = (
                    f"with {count} indices that n = {n} does not divide, index // (count // n) overshoots; "
                    if like(index // (count // n))(got_blocks, want)
                    else ""
                )
                raise Wrong(
                    f"some {name} blocks are outside 0…{n - 1} (got {int(got_blocks.max())}): {why}"
                    f"use index·n // count (at {at})"
                )
            if like(index % n)(got_blocks, want):
                raise Wrong(
                    f"index % n deals the {name}s out round-robin; the lesson's blocks are contiguous ranges, "
                    f"index·n // count (at {at})"
                )
            grading.expect_close(got_blocks, want, at=f"{at}, the {name} blocks", tol=0.0)
    return "the right block for every rating, on 5 cuts including uneven ones"


def _strata_problem(got, n: int) -> str | None:
    """What is wrong with got as a DSGD schedule for n × n blocks, or None when it is one."""
    try:
        schedule = [[tuple(int(x) for x in block) for block in stratum] for stratum in got]
    except (TypeError, ValueError):
        return "return a list of sub-epochs, each a list of (row block, column block) pairs of whole numbers"
    if any(len(block) != 2 for stratum in schedule for block in stratum):
        return "each block is a pair (row block, column block)"
    if len(schedule) != n:
        return f"an epoch has n = {n} sub-epochs, you returned {len(schedule)}"
    for s, stratum in enumerate(schedule):
        if len(stratum) != n:
            return f"sub-epoch {s} has {len(stratum)} blocks; each has n = {n}, one per worker"
        for a, b in stratum:
            if not (0 <= a < n and 0 <= b < n):
                return f"block ({a}, {b}) in sub-epoch {s} does not exist: block numbers run from 0 to {n - 1}"
        for axis, word, owner in ((0, "row", "users' p_u"), (1, "column", "items' q_i")):
            seen: dict[int, tuple] = {}
            for block in stratum:
                if block[axis] in seen:
                    return (
                        f"in sub-epoch {s}, blocks {seen[block[axis]]} and {block} share {word} block {block[axis]}: "
                        f"two workers would update the same {owner} at once"
                    )
                seen[block[axis]] = block
    visits: dict[tuple, int] = {}
    for stratum in schedule:
        for block in stratum:
            visits[block] = visits.get(block, 0) + 1
    for a in range(n):
        for b in range(n):
            if visits.get((a, b), 0) != 1:
                times = "never" if (a, b) not in visits else f"{visits[(a, b)]} times"
                return f"block ({a}, {b}) is visited {times} in an epoch; every block must be visited exactly once"
    return None


@exercise("distributed.strata")
def _strata(fn):
    for n in range(1, 8):
        problem = _strata_problem(grading.call(fn, n), n)
        if problem:
            raise Wrong(f"{problem} (at n = {n})")
    return "for n = 1…7 no two blocks of a sub-epoch share users or items, and every block is visited once an epoch"


def reference_stale_sgd(grad, x0, lr, steps, k):
    """x_(t+1) = x_t − lr·grad(x_(max(t − k, 0))) for t = 0 … steps − 1; returns the (steps + 1, dim) path."""
    path = [np.array(x0, dtype=np.float64)]
    for t in range(steps):
        path.append(path[t] - lr * np.asarray(grad(path[max(t - k, 0)]), dtype=np.float64))
    return np.array(path)


def _skipping_start(grad, x0, lr, steps, k):
    """The mistake of waiting k steps for the first gradient: x stays at x_0 while t < k."""
    path = [np.array(x0, dtype=np.float64)]
    for t in range(steps):
        path.append(path[t] if t < k else path[t] - lr * grad(path[t - k]))
    return np.array(path)


@exercise("distributed.stale_sgd")
def _stale_sgd(fn):
    rng = np.random.default_rng(161)
    M = rng.normal(size=(3, 3))
    A = M @ M.T / 3 + 0.5 * np.eye(3)  # symmetric positive definite: f(x) = ½ xᵀAx, ∇f = Ax

    def grad(x):
        return A @ np.asarray(x, dtype=np.float64)

    lr = 0.3 / np.linalg.eigvalsh(A).max()
    for k in (0, 1, 3, 6):
        x0 = rng.normal(size=3)
        steps = 25
        at = f"k = {k}, lr = {lr:.3g}, {steps} steps on f(x) = ½ xᵀAx"
        got = as_array(grading.call(fn, grad, x0.copy(), lr, steps, k), "your path is a {type}, not an array")
        want = reference_stale_sgd(grad, x0, lr, steps, k)
        if got.shape == (steps, 3):
            raise Wrong(f"return steps + 1 = {steps + 1} points, x_0 first and x_steps last (at {at})")
        hints = [
            (like(reference_stale_sgd(grad, x0, -lr, steps, k)), "you stepped uphill: x_(t+1) = x_t − η ∇f(…)"),
            (
                like(reference_stale_sgd(grad, x0, lr, steps, 0)),
                "your gradients are fresh: with a delay k the gradient at step t is taken at x_(t−k) (x_0 while t < k)",
            ),
            (
                like(reference_stale_sgd(grad, x0, lr, steps, k + 1)),
                "off by one: at step t the gradient is taken at x_(t−k), so that k = 0 is plain gradient descent",
            ),
            (
                like(reference_stale_sgd(grad, x0, lr, steps, max(k - 1, 0))),
                "off by one: at step t the gradient is taken at x_(t−k), so that k = 0 is plain gradient descent",
            ),
            (
                like(_skipping_start(grad, x0, lr, steps, k)),
                "for t < k there is no k-step-old point yet: use x_0 (the gradient at max(t − k, 0)), do not "
                "skip those steps",
            ),
        ]
        grading.expect_close(got, want, at=at, tol=1e-9, hints=hints)
    return "the same path as x_(t+1) = x_t − η ∇f(x_(t−k)) for k = 0, 1, 3, 6"

"""The rating matrix cut into blocks (pure NumPy, no Ray): who holds which ratings, and in what order.

Users are dealt into N strata and items into M strata, each stratum holding about the same number of
ratings (users in a random order, cut where the running count of their ratings crosses j·n/N), so a
heavy user cannot pile up on one worker. Block (a, b) holds the ratings of user stratum a on item
stratum b.

DSGD (Gemulla et al. 2011) takes M = N and runs, in each of the N sub-epochs of an epoch, the N blocks

    (w, (w + shift_s) mod N)  for w = 0..N-1,   shift_0..shift_{N-1} a random permutation of 0..N-1

Two blocks of one sub-epoch differ in their user stratum (w) and in their item stratum (w + shift mod N
is a bijection), so they share no user and no item: the N workers' SGD steps touch disjoint parameters,
never conflict, and together they are a valid serial SGD order. Over the N sub-epochs every block runs
once, so an epoch visits every rating once, as the serial trainer does.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def assign_strata(counts: np.ndarray, parts: int, rng: np.random.Generator) -> np.ndarray:
    """stratum[x] ∈ 0..parts-1 for each row x (a user or an item) with counts[x] ratings.

    The rows, in a random order, are cut where the running count crosses j·total/parts: each stratum
    holds ≈ total/parts ratings (within one row's count), whatever the spread of the counts.
    """
    counts = np.asarray(counts, dtype=np.int64)
    if parts < 1:
        raise ValueError(f"parts must be a whole number >= 1, got {parts}")
    if len(counts) < parts:
        raise ValueError(f"cannot cut {len(counts)} rows into {parts} strata: fewer rows than workers")
    order = rng.permutation(len(counts))
    before = np.cumsum(counts[order]) - counts[order]  # ratings ahead of each row in the random order
    stratum = np.empty(len(counts), dtype=np.int32)
    stratum[order] = np.minimum(before * parts // max(int(counts.sum()), 1), parts - 1)
    # a stratum left empty (one row heavier than total/parts) takes a row from the crowded end
    for empty in np.setdiff1d(np.arange(parts), stratum):
        crowded = np.bincount(stratum, minlength=parts).argmax()
        stratum[np.flatnonzero(stratum == crowded)[-1]] = empty
    return stratum


def local_index(stratum: np.ndarray, parts: int) -> tuple[np.ndarray, np.ndarray]:
    """(local, sizes): local[x] is row x's position among the rows of its own stratum (in index order),
    sizes[s] the number of rows in stratum s. A worker holds only its stratum's rows, indexed locally."""
    order = np.argsort(stratum, kind="stable")
    sizes = np.bincount(stratum, minlength=parts)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    local = np.empty(len(stratum), dtype=np.int32)
    local[order] = np.arange(len(stratum)) - np.repeat(starts, sizes)
    return local, sizes


class Layout(NamedTuple):
    """Which stratum each user and item is in, and its row among its stratum's rows (local index)."""

    user_stratum: np.ndarray  # int32 per user
    item_stratum: np.ndarray  # int32 per item
    user_local: np.ndarray  # int32 per user
    item_local: np.ndarray  # int32 per item

    @classmethod
    def cut(cls, u: np.ndarray, i: np.ndarray, n_users: int, n_items: int, user_parts: int, item_parts: int, seed):
        """Users into user_parts strata and items into item_parts, balanced by their rating counts."""
        rng = np.random.default_rng(seed)
        user_stratum = assign_strata(np.bincount(u, minlength=n_users), user_parts, rng)
        item_stratum = assign_strata(np.bincount(i, minlength=n_items), item_parts, rng)
        user_local, item_local = local_index(user_stratum, user_parts)[0], local_index(item_stratum, item_parts)[0]
        return cls(user_stratum, item_stratum, user_local, item_local)

    def users_of(self, stratum: int) -> np.ndarray:
        """Global indices of the users in a stratum, in the order of their local indices."""
        return np.flatnonzero(self.user_stratum == stratum)

    def items_of(self, stratum: int) -> np.ndarray:
        """Global indices of the items in a stratum, in the order of their local indices."""
        return np.flatnonzero(self.item_stratum == stratum)


class Partition(NamedTuple):
    """The ratings of one user stratum, grouped by item stratum: block b is [offsets[b], offsets[b+1]),
    and within a block in a random order (shuffled once, when the partition is made).

    users are local to the user stratum, items local to each rating's own item stratum."""

    users: np.ndarray  # uint16 when the stratum has at most 65,536 users, else int32
    items: np.ndarray  # uint16 when every item stratum has at most 65,536 items, else int32
    ratings: np.ndarray  # float32 (MovieLens ratings are halves: exact)
    offsets: np.ndarray  # int64, item-stratum block boundaries


def local_dtype(rows: int) -> np.dtype:
    """The index type of a stratum's rows: uint16 up to 65,536 rows, else int32.

    The partitions are what the fit keeps in memory (in Ray's object store) beyond the factors, so 2 bytes
    saved a rating matter: at MovieLens-20M's shape on 2 workers the item strata hold 13,372 items each,
    and uint16 item indices make the ratings' copy 10 bytes a rating instead of 12 (−38 MiB at 20 M).
    The compiled kernel reads either type to the same result (tests/test_distributed.py checks it)."""
    return np.dtype(np.uint16) if rows <= 2**16 else np.dtype(np.int32)


def partition(u: np.ndarray, i: np.ndarray, r: np.ndarray, layout: Layout, row: int, seed=0) -> Partition:
    """The ratings of user stratum `row`, in blocks by item stratum, each block in a random order (from
    seed), with local user and item indices.

    One stratum at a time, so the driver never holds a second full copy of the ratings."""
    parts = int(layout.item_stratum.max()) + 1
    mine = np.flatnonzero(layout.user_stratum[u] == row)
    mine = mine[np.random.default_rng([seed, 5, row]).permutation(len(mine))]
    block = layout.item_stratum[i[mine]]
    mine = mine[np.argsort(block, kind="stable")]  # by block; within one, the random order stays
    offsets = np.zeros(parts + 1, dtype=np.int64)
    np.cumsum(np.bincount(block, minlength=parts), out=offsets[1:])
    users = layout.user_local[u[mine]].astype(local_dtype(int(np.sum(layout.user_stratum == row))))
    items = layout.item_local[i[mine]].astype(local_dtype(int(np.bincount(layout.item_stratum).max())))
    return Partition(users, items, r[mine].astype(np.float32), offsets)


def dsgd_schedule(workers: int, rng: np.random.Generator) -> np.ndarray:
    """schedule[s, w]: the item stratum worker w updates in sub-epoch s, (w + shift_s) mod N with the shifts
    a random permutation; each row is a permutation of 0..N-1 and each column too (every block once)."""
    shifts = rng.permutation(workers)
    return (np.arange(workers)[None, :] + shifts[:, None]) % workers


def holder(schedule: np.ndarray, sub_epoch: int, item_stratum: int) -> int:
    """The worker that updates item stratum b in sub-epoch s: the w with schedule[s, w] = b."""
    return int(np.flatnonzero(schedule[sub_epoch] == item_stratum)[0])

"""DSGD (Gemulla, Nijkamp, Haas & Sismanis 2011): N workers, the rating matrix in N×N blocks.

Worker w always holds user stratum w (its ratings and its users' factors never move). Item stratum b's
rows (q_b, b_i) travel: in sub-epoch s they are with the worker w that has schedule[s, w] = b
(blocks.dsgd_schedule), which runs the compiled SGD pass over block (w, b) and hands the updated rows on
through Ray's object store, worker to worker, without passing through the driver. The N blocks of a
sub-epoch share no user and no item, so the N passes touch disjoint parameters: the epoch is one valid
serial SGD order, whatever the timing, and the fit is the same for the same seed on any cluster.

All of an epoch's N² block calls are submitted at once; Ray starts each when the item rows it needs
are ready (the previous sub-epoch's output), so the driver is not a barrier between sub-epochs.
"""

from __future__ import annotations

import numpy as np

from .blocks import Layout, dsgd_schedule
from .cluster import require_ray
from .worker import BlockWorker, assemble, initial_item_rows, start_workers, users_then_end, writable


class DsgdWorker(BlockWorker):
    """A BlockWorker that receives an item stratum's rows, updates them over its block, and returns them."""

    def update(self, epoch: int, block: int, item_rows: tuple) -> tuple[tuple, float]:
        q, item_bias = writable(*item_rows)
        return (q, item_bias), self.run_block(epoch, block, q, item_bias)


class DsgdRun:
    """The driver's side of a DSGD fit: the actors and the item strata's rows in flight.

    parts: one object-store reference per worker to its blocks.Partition (shipped once for the fit).
    """

    def __init__(self, parts, layout: Layout, mean: float, hyper: dict, seed: int, crash: tuple | None):
        self.ray = require_ray()
        self.layout, self.seed, self.workers = layout, seed, len(parts)
        self.item_rows = [self.ray.put(rows) for rows in initial_item_rows(layout, hyper, seed).values()]
        self.actors = start_workers(DsgdWorker, parts, layout, mean, hyper, seed, crash)
        self.submitted = []

    def submit_epoch(self, epoch: int):
        """Submit the epoch's N sub-epochs; returns (Σe² references, kernel-seconds references)."""
        schedule = dsgd_schedule(self.workers, np.random.default_rng([self.seed, 3, epoch]))
        squared = []
        for sub_epoch in range(self.workers):
            moved = [None] * self.workers
            for w, actor in enumerate(self.actors):
                b = int(schedule[sub_epoch, w])
                moved[b], block_squared = actor.update.options(num_returns=2).remote(epoch, b, self.item_rows[b])
                squared.append(block_squared)
            self.item_rows = moved
        seconds = [actor.take_kernel_seconds.remote() for actor in self.actors]
        self.submitted = [*squared, *seconds]
        return squared, seconds

    def pending(self) -> list:
        """The references to the last epoch's results that the driver holds (collected after a failure)."""
        return [*self.submitted, *self.item_rows]

    def result(self, n_users: int, n_items: int):
        """The fitted (user_bias, item_bias, p, q) over all users and items, gathered once at the end."""
        items = dict(enumerate(self.ray.get(self.item_rows)))
        return assemble(self.layout, users_then_end(self.actors), items, n_users, n_items)

    def all_actors(self) -> list:
        return list(self.actors)

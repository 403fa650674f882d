"""An asynchronous parameter server: item rows sharded over server actors, users split over workers.

The items are cut into G groups (blocks.Layout, balanced by ratings), group g kept by server g mod S.
Worker w holds user stratum w (ratings and user factors, never moved) with its ratings in G blocks by
item group. Each epoch it visits its G blocks in its own random order, and for each block g:

    pull   q_g, b_g and their version from the group's server
    run    the compiled SGD pass over block (w, g) on a private copy
    push   the deltas Δq = q_new - q_pulled, Δb likewise; the server adds them: q_g += Δq

without waiting for the other workers. Two workers may update the same group at once: each computes
with the rows it pulled, and their deltas add up (as in Hogwild!, on rows instead of single entries).
The server counts, for each push, the other workers' pushes to the group between its pull and its push
(the updates the worker did not see: its realised staleness).

Bounded staleness (stale synchronous parallel, Ho et al. 2013): with bound s, a worker starts its
t-th block (counted over the whole fit) only once every worker has finished at least t - s blocks, so
no worker runs more than s blocks ahead of the slowest. s = 0 moves the workers in lock step; None
leaves them free.
"""

from __future__ import annotations

import asyncio

import numpy as np

from .blocks import Layout
from .cluster import require_ray
from .worker import BlockWorker, assemble, initial_item_rows, start_workers, users_then_end


class Server:
    """One shard of the item rows, {group: (q_g, b_g)} with a version counter per group; server 0 also keeps
    the clock (how many blocks each worker has finished) that bounds the staleness.

    An asyncio actor: pull and push never await, so each runs whole, one at a time; wait() awaits the
    clock, so a worker held back by the bound does not block the others' pulls and pushes."""

    def __init__(self, groups: dict, workers: int):
        self.rows = {g: (np.array(q), np.array(b)) for g, (q, b) in groups.items()}  # writable copies
        self.version = dict.fromkeys(self.rows, 0)
        self.done = [0] * workers
        self.changed = None

    async def pull(self, group: int):
        q, b = self.rows[group]
        return q, b, self.version[group]

    async def push(self, group: int, delta_q, delta_b, seen: int) -> int:
        """q_g += Δq, b_g += Δb; returns how many pushes to the group landed after the pusher's pull."""
        q, b = self.rows[group]
        q += delta_q
        b += delta_b
        missed = self.version[group] - seen
        self.version[group] += 1
        return missed

    async def tick(self, rank: int) -> None:
        condition = self._condition()
        async with condition:
            self.done[rank] += 1
            condition.notify_all()

    async def wait(self, at_least: int) -> None:
        """Return once every worker has finished at least `at_least` blocks."""
        condition = self._condition()
        async with condition:
            await condition.wait_for(lambda: min(self.done) >= at_least)

    def _condition(self) -> asyncio.Condition:
        if self.changed is None:  # made inside the actor's event loop, on first use
            self.changed = asyncio.Condition()
        return self.changed

    async def fitted_rows(self) -> dict:
        """{group: (q_g, b_g)}: this shard's rows, at the end of the fit."""
        return self.rows


class PsWorker(BlockWorker):
    """A BlockWorker that pulls item rows from the servers and pushes its deltas back, block after block."""

    def connect(self, servers: list, staleness: int | None) -> None:
        self.servers, self.staleness = servers, staleness

    def run_epoch(self, epoch: int) -> tuple[float, list[int]]:
        """All of this worker's blocks once; returns (Σe², the pushes each block's pull missed)."""
        ray = require_ray()
        groups = len(self.part.offsets) - 1
        squared, missed = 0.0, []
        for c, g in enumerate(np.random.default_rng([self.seed, 4, epoch, self.rank]).permutation(groups)):
            if self.staleness is not None:
                ray.get(self.servers[0].wait.remote((epoch - 1) * groups + c - self.staleness))
            server = self.servers[g % len(self.servers)]
            q_pulled, b_pulled, version = ray.get(server.pull.remote(int(g)))
            q, item_bias = q_pulled.copy(), b_pulled.copy()
            squared += self.run_block(epoch, int(g), q, item_bias)
            missed.append(ray.get(server.push.remote(int(g), q - q_pulled, item_bias - b_pulled, version)))
            self.servers[0].tick.remote(self.rank)
        return squared, missed


class PsRun:
    """The driver's side of a parameter-server fit: servers and workers."""

    def __init__(self, parts, layout: Layout, mean, hyper, seed, crash, servers: int, staleness: int | None):
        self.ray = require_ray()
        self.layout = layout
        rows, groups = initial_item_rows(layout, hyper, seed), int(layout.item_stratum.max()) + 1
        server = self.ray.remote(num_cpus=0, max_restarts=0)(Server)
        self.servers = [
            server.remote({g: rows[g] for g in range(s, groups, servers)}, len(parts)) for s in range(servers)
        ]
        self.actors = start_workers(PsWorker, parts, layout, mean, hyper, seed, crash)
        for actor in self.actors:
            actor.connect.remote(self.servers, staleness)
        self.submitted = []

    def submit_epoch(self, epoch: int):
        """Start every worker on the epoch; returns ((Σe², missed) references, kernel-seconds references)."""
        results = [actor.run_epoch.remote(epoch) for actor in self.actors]
        seconds = [actor.take_kernel_seconds.remote() for actor in self.actors]
        self.submitted = [*results, *seconds]
        return results, seconds

    def pending(self) -> list:
        """The references to the last epoch's results that the driver holds (collected after a failure)."""
        return list(self.submitted)

    def result(self, n_users: int, n_items: int):
        """The fitted (user_bias, item_bias, p, q) over all users and items."""
        items = {}
        for rows in self.ray.get([server.fitted_rows.remote() for server in self.servers]):
            items.update(rows)
        return assemble(self.layout, users_then_end(self.actors), items, n_users, n_items)

    def all_actors(self) -> list:
        return [*self.actors, *self.servers]

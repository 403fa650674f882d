"""What every worker holds and does, for both trainers: the ratings of its user stratum (shipped once,
read in place from Ray's object store), its users' factors and biases (they leave it only at the end), and the
compiled SGD pass over one block with item rows handed to it.

A block's pass is kernels._sgd_epoch over the block's ratings in a fresh random order (chunk by chunk:
BlockWorker says how): for each rating,
with e = r_ui - (μ + b_u + b_i + p_u·q_i),
    b_u += lr (e - λ_b b_u)    b_i += lr (e - λ_b b_i)    p_u += lr (e q_i - λ p_u)    q_i += lr (e p_u - λ q_i)
the serial trainer's update, step for step.
"""

from __future__ import annotations

import os
import time

import numpy as np

from ..kernels import _sgd_epoch
from .blocks import Layout, Partition
from .cluster import kill_all, require_ray

CHUNK = 2**20  # ratings a chunk: the order array of one chunk is 4 MiB


class BlockWorker:
    """One worker: rank, its Partition, and the state of its users (p: users × k, b_u).

    A block's ratings are visited in a fresh random order each time it runs, chunk by chunk: the block
    (shuffled once, when the partition was made) is cut into chunks of CHUNK ratings, the chunks are
    visited in a random order and each chunk's ratings in a random order. A block of at most CHUNK
    ratings (MovieLens 100K, 1M) gets a uniformly random order, as fit_sgd's epochs do; a bigger one
    gets a random order of random subsets (the shuffle-the-shards-then-the-shard scheme of streamed
    data sets), for 4 MiB of order instead of 4 bytes a rating of the block (20 MiB a worker at 20 M
    ratings on 2 workers). Shuffles are seeded by (seed, epoch, rank, block), so a rerun of the fit
    after a failure repeats it exactly.
    """

    def __init__(self, rank: int, part: Partition, n_users: int, mean: float, hyper: dict, seed: int, crash=None):
        self.rank, self.part, self.mean, self.seed = rank, part, mean, seed
        self.lr, self.reg, self.reg_bias = hyper["lr"], hyper["reg"], hyper["reg_bias"]
        rng = np.random.default_rng([seed, 1, rank])
        self.p = rng.normal(0.0, hyper["init_std"], (n_users, hyper["factors"])).astype(hyper["dtype"])
        self.user_bias = np.zeros(n_users)
        self.crash = crash  # an epoch: this process exits at its second block, to test recovery
        self.epoch, self.blocks_in_epoch = 0, 0
        self.kernel_seconds = self.kernel_cpu_seconds = 0.0

    def run_block(self, epoch: int, block: int, q: np.ndarray, item_bias: np.ndarray) -> float:
        """One SGD pass over block `block`, updating q and item_bias in place (rows local to the block's
        item stratum); returns Σ e² over the block's ratings, each error measured before its own update."""
        if epoch != self.epoch:
            self.epoch, self.blocks_in_epoch = epoch, 0
        if self.crash == epoch and self.blocks_in_epoch == 1:
            os._exit(1)  # a hard crash mid-epoch, as an out-of-memory kill would be: no exception, no goodbye
        lo, hi = self.part.offsets[block], self.part.offsets[block + 1]
        start, cpu = time.perf_counter(), time.thread_time()  # the shuffle is SGD's work too (fit_sgd permutes)
        rng = np.random.default_rng([self.seed, 2, epoch, self.rank, block])
        part, squared = self.part, 0.0
        for first in rng.permutation(np.arange(lo, hi, CHUNK)):
            order = np.arange(first, min(first + CHUNK, hi), dtype=np.int32)
            rng.shuffle(order)
            squared += _sgd_epoch(
                part.users, part.items, part.ratings, order, self.mean, self.user_bias, item_bias, self.p, q,
                self.lr, self.reg, self.reg_bias,
            )  # fmt: skip
        self.kernel_seconds += time.perf_counter() - start
        self.kernel_cpu_seconds += time.thread_time() - cpu
        self.blocks_in_epoch += 1
        return squared

    def take_kernel_seconds(self) -> tuple[float, float]:
        """(wall, CPU) seconds spent shuffling and in the compiled kernel since the last call: the SGD work.
        Outside it the time is Ray's; inside, wall > CPU when the worker waited for a core (a shared machine)."""
        seconds = self.kernel_seconds, self.kernel_cpu_seconds
        self.kernel_seconds = self.kernel_cpu_seconds = 0.0
        return seconds

    def state(self) -> tuple[np.ndarray, np.ndarray]:
        """This worker's fitted user factors and biases, at the end of the fit."""
        return self.p, self.user_bias


def writable(*arrays):
    """Arrays read from Ray's object store are read-only views of shared memory: copy them to update."""
    return tuple(a if a.flags.writeable else a.copy() for a in arrays)


def start_workers(cls, parts: list, layout: Layout, mean: float, hyper: dict, seed: int, crash) -> list:
    """One actor of cls (a BlockWorker) per partition, worker w holding user stratum w, each taking one CPU
    slot. Ray never restarts one (max_restarts=0): a lost worker restarts the whole fit (train.py).
    crash=(w, epoch) makes worker w's process exit mid-epoch, to test that."""
    remote = require_ray().remote(num_cpus=1, max_restarts=0)(cls)
    crashes = [crash[1] if crash and crash[0] == w else None for w in range(len(parts))]
    return [
        remote.remote(w, part, len(layout.users_of(w)), mean, hyper, seed, crashes[w]) for w, part in enumerate(parts)
    ]


def users_then_end(actors):
    """Each worker's (p_w, b_w) in rank order, each worker ended once the next is asked for: the driver's
    copy of the users' factors grows as the workers' memory goes, never holding both whole."""
    ray = require_ray()
    for actor in actors:
        yield ray.get(actor.state.remote())
        kill_all([actor])


def assemble(layout: Layout, users, items: dict, n_users: int, n_items: int):
    """(user_bias, item_bias, p, q) over all users and items, from the workers' user strata
    (p_w, b_w) for w = 0, 1, … (an iterable) and the item rows items[g] = (q_g, b_g), each in its
    stratum's local order."""
    q_any = next(iter(items.values()))[0]
    p, q = np.empty((n_users, q_any.shape[1]), dtype=q_any.dtype), np.empty((n_items, q_any.shape[1]), q_any.dtype)
    user_bias, item_bias = np.empty(n_users), np.empty(n_items)
    for w, (p_w, bias_w) in enumerate(users):
        members = layout.users_of(w)
        p[members], user_bias[members] = p_w, bias_w
    for g, (q_g, bias_g) in items.items():
        members = layout.items_of(g)
        q[members], item_bias[members] = q_g, bias_g
    return user_bias, item_bias, p, q


def initial_item_rows(layout: Layout, hyper: dict, seed: int) -> dict:
    """{item stratum g: (q_g ~ N(0, init_std²), b_g = 0)}, the items' starting point for both trainers."""
    rng = np.random.default_rng([seed, 0])
    rows = {}
    for g in range(int(layout.item_stratum.max()) + 1):
        count = len(layout.items_of(g))
        q = rng.normal(0.0, hyper["init_std"], (count, hyper["factors"])).astype(hyper["dtype"])
        rows[g] = (q, np.zeros(count))
    return rows

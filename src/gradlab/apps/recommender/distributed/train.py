"""train_distributed: biased matrix factorisation by SGD over a Ray cluster, DSGD or a parameter server.

The driver indexes the ratings, cuts them into one partition per worker (blocks.py) and puts each into
Ray's object store once; workers read them in place for the whole fit. Every epoch ends with one line
of progress (training RMSE over all workers, wall time, how much of it the workers spent in the compiled
kernel). A worker lost mid-fit starts the fit again on fresh workers (`retries` times), never a model some
of whose users were never trained.

Why again from the start, and not from a checkpoint at the epoch's start: a checkpoint of the users'
factors would sit in the object store for the whole fit (k·4 bytes a user: 0.23× the ratings' bytes at
MovieLens-20M's shape, k 100, in a fit whose peak is 1.9× them; benchmarks/distributed.py), to save at
most one fit's time on a failure, which is rare. Ray Train without checkpoints and Spark (recomputing
lost partitions from their lineage) make the same choice. DSGD's fit does not depend on timing, so the
rerun gives the very model an uninterrupted fit would have.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from ....data.movielens import IdMap, IndexedRatings, Ratings
from ..hyper import DEFAULTS, _check_hyper
from ..model import FactorModel
from ..training import _Indexed, _model, dense_ids
from .blocks import Layout, partition
from .cluster import Cluster, WorkerLostError, kill_all, require_ray
from .dsgd import DsgdRun
from .parameter_server import PsRun

ALGORITHMS = ("dsgd", "ps")


def train_distributed(
    train: Ratings,
    workers: int = 2,
    algorithm: str = "dsgd",
    address: str | None = None,
    staleness: int | None = None,
    item_blocks: int | None = None,
    servers: int | None = None,
    retries: int = 1,
    factors: int = DEFAULTS["sgd"]["factors"],
    epochs: int = DEFAULTS["sgd"]["epochs"],
    lr: float = DEFAULTS["sgd"]["lr"],
    reg: float = DEFAULTS["sgd"]["reg"],
    reg_bias: float = DEFAULTS["sgd"]["reg_bias"],
    init_std: float = DEFAULTS["sgd"]["init_std"],
    dtype: str = DEFAULTS["sgd"]["dtype"],
    seed: int = 0,
    titles: dict | None = None,
    scale: tuple[float, float] | None = None,
    progress: bool = True,
    out=None,
    crash: tuple[int, int] | None = None,
) -> FactorModel:
    """r̂_ui = μ + b_u + b_i + p_u·q_i fitted by SGD on `workers` Ray workers; the serial fit_sgd's model,
    update (e = r - r̂; b_u += lr(e - λ_b b_u), b_i likewise, p_u += lr(e q_i - λ p_u), q_i += lr(e p_u - λ q_i))
    and hyper-parameters, each rating visited once per epoch.

    algorithm "dsgd": N×N blocks, N conflict-free blocks at a time (dsgd.py); "ps": item rows on `servers`
    parameter-server actors (default: one per worker), the items in `item_blocks` groups (default 4 per
    worker), pulled, updated and pushed asynchronously with staleness bound `staleness` (None: unbounded).
    address None starts a local Ray cluster for the fit; "ray://host:10001" (or "auto") joins one.
    A worker lost mid-fit starts the fit again on fresh workers, at most `retries` times, then
    WorkerLostError. crash=(worker, epoch) makes that worker's process exit mid-epoch (to test recovery).

    The model's hyper records algorithm, workers, address, the Ray version, for "ps" the staleness, item
    blocks, servers and per epoch the pushes a block's pull missed on average (missed_pushes: its realised
    staleness), and per epoch its wall seconds (epoch_seconds), the share of them the workers
    spent in the compiled kernel (kernel_share; the rest is Ray's: dispatch, transfers, waiting) and the
    kernel's CPU seconds over its wall seconds (kernel_cpu); fit_seconds is wall time.
    """
    _check_hyper(factors=factors, epochs=epochs, lr=lr, reg=reg, reg_bias=reg_bias, init_std=init_std)
    _check_options(workers, algorithm, staleness, item_blocks, servers, retries, dtype)
    ray = require_ray()  # before any work: without Ray, say how to install it straight away
    started = time.perf_counter()
    data, mean = _compact_index(train)
    groups = workers if algorithm == "dsgd" else (item_blocks or 4 * workers)
    if len(data.users) < workers or len(data.items) < groups:
        raise ValueError(
            f"--workers {workers}: {len(data.users):,} users and {len(data.items):,} items cannot be cut into "
            f"{workers} user strata and {groups} item blocks; use fewer workers"
        )
    layout = Layout.cut(data.u, data.i, len(data.users), len(data.items), workers, groups, seed)
    hyper = {"factors": factors, "epochs": epochs, "lr": lr, "reg": reg, "reg_bias": reg_bias, "init_std": init_std}
    hyper.update(dtype=np.dtype(dtype).name, seed=seed)
    report = _EpochReport(algorithm, epochs, workers, len(data.r), progress, out)

    def start(crash):
        if algorithm == "dsgd":
            return DsgdRun(parts, layout, mean, hyper, seed, crash)
        return PsRun(parts, layout, mean, hyper, seed, crash, servers or workers, staleness)

    with Cluster(address, workers) as cluster:
        parts = []
        try:
            parts += [ray.put(partition(data.u, data.i, data.r, layout, w, seed)) for w in range(workers)]
            shape = len(data.users), len(data.items)
            (user_bias, item_bias, p, q), restarts = _fit(start, crash, shape, epochs, retries, report, lr)
        finally:  # also on Ctrl-C: the partitions leave the object store
            parts.clear()
        hyper.update(algorithm=algorithm, workers=workers, address=cluster.address, ray=ray.__version__)
    if algorithm == "ps":
        hyper.update(staleness=staleness, item_blocks=groups, servers=servers or workers, missed_pushes=report.missed)
    hyper.update(restarts=restarts, epoch_seconds=report.seconds, kernel_share=report.busy, kernel_cpu=report.cpu)
    seconds = time.perf_counter() - started
    return _model(data, mean, user_bias, item_bias, p, q, algorithm, hyper, report.history, titles, seconds, scale)


def _check_options(workers, algorithm, staleness, item_blocks, servers, retries, dtype) -> None:
    def whole(name, value, least):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
            raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")

    whole("workers", workers, 1)
    whole("retries", retries, 0)
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    for name, value in (("staleness", staleness), ("item_blocks", item_blocks), ("servers", servers)):
        if value is not None:
            whole(name, value, 0 if name == "staleness" else 1)
            if algorithm != "ps":
                raise ValueError(f"{name} is for the parameter server (algorithm 'ps'); DSGD never reads stale rows")
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")


def _compact_index(train: Ratings) -> tuple[_Indexed, float]:
    """Dense int32 user and item indices and float32 ratings (12 bytes a rating, half of Ratings' 24), and μ.

    Each int64 index array lives only until its int32 copy is made, so the driver's peak stays near
    the Ratings plus 12 bytes a rating."""
    if not isinstance(train, Ratings):
        raise TypeError(f"train must be gradlab.data.movielens.Ratings, got {type(train).__name__}")
    if len(train) == 0:
        raise ValueError("no training ratings")
    mean = float(np.mean(train.rating, dtype=np.float64))
    if isinstance(train, IndexedRatings):  # already dense (the large loaders, synthetic data): no copies at all
        (u, users), (i, items) = dense_ids(train.user, train.user_ids), dense_ids(train.item, train.item_ids)
        return _Indexed(u, i, train.rating.astype(np.float32, copy=False), users, items), mean
    users, items = IdMap(train.user), IdMap(train.item)
    if max(len(users), len(items)) >= 2**31:
        raise ValueError(f"{len(users):,} users and {len(items):,} items: more than int32 indices can hold")
    u = users.index(train.user).astype(np.int32)
    i = items.index(train.item).astype(np.int32)
    return _Indexed(u, i, train.rating.astype(np.float32), users, items), mean


def _fit(start, crash, shape: tuple[int, int], epochs: int, retries: int, report, lr: float):
    """((user_bias, item_bias, p, q), restarts) for shape = (users, items): the epochs on the workers that
    start(crash) makes, started again on fresh workers (without the test's crash) when a worker is lost,
    at most `retries` times. The workers end here in every case: done, lost, or the user pressed Ctrl-C."""
    ray = require_ray()
    for attempt in range(retries + 1):
        run = None
        try:
            run = start(crash if attempt == 0 else None)
            _epochs(run, epochs, report, lr)
            return run.result(*shape), attempt
        except ray.exceptions.RayActorError as error:
            if run is not None:
                _abandon(ray, run)
            lost = "a worker" if isinstance(run, DsgdRun) else "a worker or a parameter server"
            if attempt == retries:
                raise WorkerLostError(
                    f"{lost} died in epoch {report.at} ({type(error).__name__}: {str(error).splitlines()[0]}); "
                    f"{attempt} of {retries} restarts already used, so no model is returned. Check the "
                    "workers' memory (each holds its share of the ratings) and the Ray logs, then train again"
                ) from None
            report.restart(f"{lost} died in epoch {report.at}: starting the fit again on fresh workers")
        finally:
            if run is not None:
                kill_all(run.all_actors())


def _abandon(ray, run) -> None:
    """End every actor of a failed attempt (a survivor may be waiting on the lost one) and collect the results
    its last epoch left, errors by now: otherwise Ray reports them as unhandled, long after the fit recovered."""
    kill_all(run.all_actors())
    for ref in run.pending():
        try:
            ray.get(ref, timeout=10)
        except Exception:  # the error we already acted on, or its echo from another actor
            pass


def _epochs(run, epochs: int, report, lr: float) -> None:
    """Run the epochs, one progress line each; a lost worker raises RayActorError."""
    ray = require_ray()
    for epoch in range(1, epochs + 1):
        report.at = epoch
        start = time.perf_counter()
        squared_refs, seconds_refs = run.submit_epoch(epoch)
        results, kernel_seconds = _gather(ray, squared_refs), ray.get(seconds_refs)
        squared = sum(r[0] if isinstance(r, tuple) else r for r in results)
        missed = [m for r in results if isinstance(r, tuple) for m in r[1]]
        train_rmse = math.sqrt(squared / report.ratings)
        if not math.isfinite(train_rmse):
            raise FloatingPointError(
                f"SGD diverged in epoch {epoch} (training RMSE {train_rmse}): the learning rate {lr:g} is too large"
            )
        report.epoch(epoch, train_rmse, time.perf_counter() - start, kernel_seconds, missed)


def _gather(ray, refs: list) -> list:
    """ray.get(refs), but raising the first failure as soon as it is known: a worker waiting on a lost one
    (the parameter server's staleness bound) would otherwise keep ray.get waiting for ever."""
    pending = list(refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        ray.get(ready)
    return ray.get(refs)


class _EpochReport:
    """The history of training RMSEs, and one progress line per epoch across the workers:
    dsgd epoch  3/30  train RMSE 0.9123  (4.1 s)  epoch 1.2 s, 2 workers in the kernel 86 % of it"""

    def __init__(self, label: str, epochs: int, workers: int, ratings: int, enabled: bool, out):
        self.label, self.epochs, self.workers, self.ratings, self.enabled = label, epochs, workers, ratings, enabled
        self.out = sys.stdout if out is None else out
        self.start = time.perf_counter()
        self.at = 0  # the epoch running
        self._clear()

    def _clear(self) -> None:
        self.history: list[float] = []
        self.seconds: list[float] = []  # wall seconds of each epoch
        self.missed: list[float] = []  # parameter server: per epoch, the mean of the pushes a block's pull missed
        self.busy: list[float] = []  # per epoch: Σ kernel seconds / (workers × wall seconds)
        self.cpu: list[float] = []  # per epoch: the kernel's CPU seconds / its wall seconds (< 1: no core free)

    def epoch(self, epoch: int, train_rmse: float, wall: float, kernel_seconds: list, missed: list) -> None:
        self.history.append(train_rmse)
        self.seconds.append(round(wall, 4))
        self.missed.append(round(float(np.mean(missed)), 4) if missed else 0.0)
        self.busy.append(round(sum(k[0] for k in kernel_seconds) / (self.workers * wall), 4) if wall > 0 else 0.0)
        self.cpu.append(round(sum(k[1] for k in kernel_seconds) / max(sum(k[0] for k in kernel_seconds), 1e-9), 4))
        if self.enabled:
            stale = f", {np.mean(missed):.2f} missed pushes a block" if missed else ""
            print(
                f"{self.label} epoch {epoch:>{len(str(self.epochs))}}/{self.epochs}  train RMSE {train_rmse:.4f}  "
                f"({time.perf_counter() - self.start:.1f} s)  epoch {wall:.2f} s, {self.workers} workers in the "
                f"kernel {100 * self.busy[-1]:.0f} % of it{stale}",
                file=self.out,
                flush=True,
            )

    def restart(self, text: str) -> None:
        """Say why the fit starts again, and forget the epochs so far: the model's history is the last fit's."""
        print(text, file=self.out if self.enabled else sys.stderr, flush=True)
        self._clear()

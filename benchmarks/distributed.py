"""Benchmark: the distributed recommender on Ray (DSGD and the asynchronous parameter server) against the
serial trainer: what spreading SGD over workers costs and what it buys.

  accuracy   MovieLens 100K u1–u5 (fit on uK.base, score on uK.test), the serial fit_sgd against
             train_distributed(workers=2) by DSGD and by the parameter server (unbounded staleness), all
             with the library defaults (k 100, 30 epochs): each distributed RMSE must be within +0.002
             of the serial one on every fold.
  scale      synthetic ratings at MovieLens-20M's shape (gradlab.data.synthetic.make_ratings: 20 M ratings,
             138,493 users × 26,744 items, rank 10), k 100: seconds per epoch of the serial trainer's pass
             (kernels._sgd_epoch over int64/float64 arrays in a fresh permutation, as fit_sgd runs it) and
             of DSGD and the parameter server on 1 and 2 workers (median of the epochs after the first,
             which pays the compile and first touches). Throughput = ratings / epoch seconds; target:
             2 workers ≥ 1.6× 1 worker. Ray's overhead share = 1 - (seconds the workers spent on SGD: the
             shuffle and the compiled kernel) / (workers × epoch wall seconds): dispatch, transfers, waiting.
             The kernel's CPU/wall ratio says how much of a core each worker got while computing (on a
             machine shared with other work it is below 100 %, and no trainer can scale past it).
             Peak memory: the proportional set size (PSS, shared pages split between the processes that
             map them, so Ray's shared-memory object store counts once) summed over this process and all
             its descendants (raylet, GCS, workers), sampled every 50 ms during a 2-worker DSGD fit, minus
             the same sum just before it (ratings loaded, a Ray started afresh for the fit and idle, so no
             earlier fit has touched the object store's pages); target ≤ 2.5 × the ratings' bytes. The
             same fit on 1 % of the ratings (the same processes; the users and items it rates, about half of
             them) gives, roughly, the part that does not grow with the data.
  staleness  the price of asynchrony on u1: the parameter server's test RMSE against its staleness bound
             (2 workers; s = 0 is lock step, ∞ unbounded), against its worker count (unbounded) and against
             the item blocks per epoch (2 workers, unbounded: 1 block = each worker pulls all item rows once
             an epoch and pushes a whole epoch's deltas), with the pushes each block's pull missed (its
             realised staleness); seeds averaged. A figure (PNG).

Ray is started once, locally (num_cpus = the most workers asked for; extra workers share the 2 cores).
BLAS is pinned to one thread. Timings on a shared machine are noisy: compare the rows of one run.

Measured (2 cores, AMD EPYC, 24 GB; Ray 2.60, 2026-11-29, load average 1.2 at the start; all three parts 9 min):
  accuracy   mean RMSE u1–u5 serial 0.9098, DSGD 0.9100, PS 0.9095; worst fold +0.0009 (u1, DSGD): met.
  scale      s/epoch serial 5.38, DSGD 3.87 on 1 worker and 1.85 on 2 (2.09×; the workers got 1.95 cores),
             PS 3.82 and 1.93 (1.98×; 1.87 cores): both meet ≥ 1.6×. Ray's overhead 0–4 % (DSGD), 1–8 % (PS).
             One worker beats the serial pass: it reads 10 bytes a rating (uint16 local item indices) against
             the serial pass's 24, in chunks of 2^20 ratings (the kernel alone over 20 M: 4.0 s chunk by chunk,
             4.5–5.0 s in one random order over all of them; the same training RMSE to four digits).
             Peak memory 1.93× the ratings' bytes (441 MiB): 223 MiB does not grow with the ratings (two worker
             processes with Numba, ~56 MiB each, the compiled kernel and the users' factors), 0.95× does (the
             object store's copy of the ratings, 10 bytes a rating, and the item rows in flight): met.
             Before this run it was 2.85×: an epoch checkpoint of the users' factors in the object store (a lost
             worker now restarts the fit; −60 MiB), 4 bytes a rating of block for its shuffled order (now 4 MiB
             a chunk; −32), int32 item indices (−38), the fitted factors gathered while every worker was alive
             and the model's seen-items lists grouped by an int64 argsort (0.3 GB; now a counting sort, the
             size of its result). Earlier runs also landed the object store's copy on pages that previous fits
             had touched (counted in `before`), which made the figure swing by 1×: each memory fit now has a
             Ray of its own.
  staleness  test RMSE on u1 moves by less than 0.001 whatever the bound (0 … ∞), the workers (1 … 8) or
             the blocks per epoch (1 … 16): the realised staleness stays below one missed push a block
             (0.5 with one block an epoch), and item rows change little within a block.

    python benchmarks/distributed.py [--parts accuracy,scale,staleness] [--folds 1,2,3,4,5] [--ratings 20000000]
                                     [--rounds 2]
                                     [--figure /tmp/gradlab-distributed-staleness.png] [--seeds 2] [--data DIR]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local cluster for this run only

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from gradlab.apps.recommender import fit_sgd  # noqa: E402
from gradlab.apps.recommender.distributed import train_distributed  # noqa: E402
from gradlab.apps.recommender.kernels import _sgd_epoch  # noqa: E402
from gradlab.data.movielens import load_split  # noqa: E402
from gradlab.data.synthetic import make_ratings  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-100k"
FIGURE = Path("/tmp/gradlab-distributed-staleness.png")
ML20M_USERS, ML20M_ITEMS = 138_493, 26_744
STALENESS = (0, 1, 2, 4, 8, None)
WORKER_COUNTS = (1, 2, 4, 8)
ITEM_BLOCKS = (1, 2, 4, 8, 16)


def machine() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), platform.processor())
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GB, load average {load:.1f} at the start"


# --- memory ------------------------------------------------------------------------------------------------
def _tree(root: int) -> list[int]:
    """root and every process descended from it (Ray's raylet, GCS and workers, when Ray was started here)."""
    parent = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parent[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    family, frontier = {root}, [root]
    while frontier:
        frontier = [pid for pid, ppid in parent.items() if ppid in frontier and pid not in family]
        family.update(frontier)
    return sorted(family)


def tree_pss(root: int) -> int:
    """Σ PSS bytes over root's process tree (/proc/PID/smaps_rollup)."""
    total = 0
    for pid in _tree(root):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
    return total


class PeakMemory:
    """The highest tree_pss(this process) seen while the `with` block runs, sampled every `every` seconds."""

    def __init__(self, every: float = 0.05):
        self.every, self.peak, self.stop = every, 0, threading.Event()

    def __enter__(self):
        self.before = tree_pss(os.getpid())
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, tree_pss(os.getpid()))
            self.stop.wait(self.every)

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, tree_pss(os.getpid()))


# --- the three parts ---------------------------------------------------------------------------------------
def accuracy(root: Path, folds: list[int]) -> bool:
    print("\n== accuracy: MovieLens 100K, test RMSE, library defaults (k 100, 30 epochs), 2 workers ==")
    print(f"{'fold':<6}{'serial':>9}{'dsgd':>9}{'ps':>9}{'dsgd - serial':>15}{'ps - serial':>13}")
    rows = []
    for fold in folds:
        train, test = load_split(root, fold)
        serial = fit_sgd(train, progress=False).evaluate(test).rmse
        dsgd = train_distributed(train, 2, "dsgd", progress=False).evaluate(test).rmse
        ps = train_distributed(train, 2, "ps", progress=False).evaluate(test).rmse
        rows.append((serial, dsgd, ps))
        print(f"u{fold:<5}{serial:>9.4f}{dsgd:>9.4f}{ps:>9.4f}{dsgd - serial:>+15.4f}{ps - serial:>+13.4f}", flush=True)
    serial, dsgd, ps = np.mean(rows, axis=0)
    print(f"{'mean':<6}{serial:>9.4f}{dsgd:>9.4f}{ps:>9.4f}{dsgd - serial:>+15.4f}{ps - serial:>+13.4f}")
    worst = max(max(d - s, p - s) for s, d, p in rows)
    ok = worst <= 0.002
    print(f"worst fold: distributed - serial = {worst:+.4f}  (target ≤ +0.002: {'met' if ok else 'NOT met'})")
    return ok


def _serial_epoch_seconds(ratings, factors: int, epochs: int) -> list[float]:
    """fit_sgd's epoch: a fresh permutation of all ratings, then kernels._sgd_epoch over int64/float64 arrays."""
    u, i, r = ratings.user.astype(np.int64), ratings.item.astype(np.int64), ratings.rating.astype(np.float64)
    rng = np.random.default_rng(0)
    p = rng.normal(0, 0.05, (ratings.n_users, factors)).astype(np.float32)
    q = rng.normal(0, 0.05, (ratings.n_items, factors)).astype(np.float32)
    user_bias, item_bias, mean = np.zeros(ratings.n_users), np.zeros(ratings.n_items), float(r.mean())
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = rng.permutation(len(r))
        _sgd_epoch(u, i, r, order, mean, user_bias, item_bias, p, q, 0.01, 0.08, 0.02)
        seconds.append(time.perf_counter() - start)
    return seconds


def _fit_memory(ratings, epochs: int) -> tuple[int, int]:
    """(PSS before, peak PSS during) a 2-worker DSGD fit, over this process and its descendants, in a Ray
    started afresh for it: the object store's pages that earlier fits touched stay resident (counted in
    `before`), and a fit landing on them would look cheaper than it is."""
    import ray

    cpus = int(ray.cluster_resources().get("CPU", 2))
    ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    time.sleep(5)  # Ray's idle workers started
    with PeakMemory() as probe:
        train_distributed(ratings, 2, "dsgd", epochs=epochs, progress=False)
    ray.shutdown()
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)  # as the other parts found it
    return probe.before, probe.peak


def scale(n_ratings: int, epochs: int, rounds: int) -> bool:
    print(f"\n== scale: {n_ratings:,} synthetic ratings (MovieLens-20M's shape), k 100, {epochs} epochs a fit ==")
    start = time.perf_counter()
    ratings = make_ratings(n_ratings, ML20M_USERS, ML20M_ITEMS, rank=10, seed=0)
    print(f"made {ratings} in {time.perf_counter() - start:.1f} s; the ratings hold {ratings.nbytes / 2**20:,.0f} MiB")
    configs = [(algorithm, workers) for algorithm in ("dsgd", "ps") for workers in (1, 2)]
    seconds = {"serial": []} | {config: [] for config in configs}
    busy, cpu = {config: [] for config in configs}, {config: [] for config in configs}
    for _ in range(rounds):  # interleaved, so a busy neighbour slows every trainer alike
        seconds["serial"] += _serial_epoch_seconds(ratings, 100, epochs)[1:]
        for algorithm, workers in configs:
            hyper = train_distributed(ratings, workers, algorithm, epochs=epochs, progress=False).hyper
            seconds[algorithm, workers] += hyper["epoch_seconds"][1:]
            busy[algorithm, workers] += hyper["kernel_share"][1:]
            cpu[algorithm, workers] += hyper["kernel_cpu"][1:]
    serial = statistics.median(seconds["serial"])
    table = [("serial (fit_sgd's pass)", serial, None, None)]
    for config in configs:
        name = f"{config[0]}, {config[1]} worker{'s' if config[1] > 1 else ''}"
        table.append((name, *(statistics.median(values[config]) for values in (seconds, busy, cpu))))
    print(f"median over {rounds} rounds of the epochs after each fit's first (compile, first touches)")
    header = f"{'trainer':<24}{'s/epoch':>8}{'M ratings/s':>12}{'vs serial':>10}{'Ray overhead':>13}"
    print(header + f"{'kernel CPU/wall':>16}")
    for name, wall, share, core in table:
        shares = "" if share is None else f"{100 * (1 - share):>12.0f}%{100 * core:>15.0f}%"
        print(f"{name:<24}{wall:>8.2f}{n_ratings / wall / 1e6:>12.2f}{serial / wall:>9.2f}×{shares}")
    ok = True
    for algorithm in ("dsgd", "ps"):
        (one, _, cpu_one), (two, _, cpu_two) = (row[1:] for row in table if row[0].startswith(algorithm))
        ok &= one / two >= 1.6
        print(
            f"{algorithm}: 2 workers = {one / two:.2f}× the throughput of 1 worker (target ≥ 1.6×); the cores they "
            f"got while computing: {cpu_one:.2f} for 1 worker, {2 * cpu_two:.2f} for 2, so at most "
            f"{2 * cpu_two / cpu_one:.2f}× was to be had on this machine now"
        )
    small = make_ratings(n_ratings // 100, ML20M_USERS, ML20M_ITEMS, rank=10, seed=0)
    before_small, peak_small = _fit_memory(small, 2)  # the same model and processes, 1 % of the ratings
    del small
    before, peak = _fit_memory(ratings, 2)
    extra, fixed = peak - before, peak_small - before_small
    mib = 2**20
    print(
        f"peak memory of a 2-worker DSGD fit, Σ PSS of this process and Ray's: {extra / mib:,.0f} MiB above the "
        f"{before / mib:,.0f} MiB before it (ratings loaded, Ray idle) = {extra / ratings.nbytes:.2f}× the ratings' "
        f"bytes (target ≤ 2.5×). Of it, {fixed / mib:,.0f} MiB does not grow with the ratings (the same fit on "
        f"1 % of them: worker processes, factors); the rest, {(extra - fixed) / mib:,.0f} MiB, is "
        f"{(extra - fixed) / ratings.nbytes:.2f}× the ratings' bytes"
    )
    return ok and extra <= 2.5 * ratings.nbytes


def staleness(root: Path, seeds: int, figure: Path) -> None:
    print(f"\n== staleness: the parameter server on u1, test RMSE (mean of {seeds} seeds), library defaults ==")
    train, test = load_split(root, 1)
    serial = statistics.mean(fit_sgd(train, seed=s, progress=False).evaluate(test).rmse for s in range(seeds))
    dsgd = statistics.mean(
        train_distributed(train, 2, seed=s, progress=False).evaluate(test).rmse for s in range(seeds)
    )

    def run(workers, bound, blocks=None):
        found, missed = [], []
        for seed in range(seeds):
            model = train_distributed(
                train, workers, "ps", staleness=bound, item_blocks=blocks, seed=seed, progress=False
            )
            found.append(model.evaluate(test).rmse)
            missed += model.hyper["missed_pushes"]
        return statistics.mean(found), statistics.mean(missed) if missed else 0.0

    print(f"serial {serial:.4f}   dsgd (2 workers) {dsgd:.4f}")
    by_bound = [(bound, *run(2, bound)) for bound in STALENESS]
    print(f"{'bound s (2 workers)':<24}{'test RMSE':>10}{'- serial':>10}{'missed pushes/block':>21}")
    for bound, found, missed in by_bound:
        print(f"{'∞' if bound is None else bound:<24}{found:>10.4f}{found - serial:>+10.4f}{missed:>21.2f}", flush=True)
    by_workers = [(workers, *run(workers, None)) for workers in WORKER_COUNTS]
    print(f"{'workers (s = ∞)':<24}{'test RMSE':>10}{'- serial':>10}{'missed pushes/block':>21}")
    for workers, found, missed in by_workers:
        print(f"{workers:<24}{found:>10.4f}{found - serial:>+10.4f}{missed:>21.2f}", flush=True)
    by_blocks = [(blocks, *run(2, None, blocks)) for blocks in ITEM_BLOCKS]
    print(f"{'item blocks (2 workers)':<24}{'test RMSE':>10}{'- serial':>10}{'missed pushes/block':>21}")
    for blocks, found, missed in by_blocks:
        print(f"{blocks:<24}{found:>10.4f}{found - serial:>+10.4f}{missed:>21.2f}", flush=True)
    _plot(by_bound, by_workers, by_blocks, serial, dsgd, figure)
    print(f"figure: {figure}")


def _plot(by_bound, by_workers, by_blocks, serial, dsgd, figure: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right, blocks) = plt.subplots(1, 3, figsize=(15, 4.5), sharey=True)
    labels = ["∞" if b is None else str(b) for b, *_ in by_bound]
    left.plot(range(len(labels)), [f for _, f, _ in by_bound], "o-", label="parameter server, 2 workers")
    left.set_xticks(range(len(labels)), labels)
    left.set_xlabel("staleness bound s (blocks a worker may run ahead)")
    left.set_ylabel("test RMSE (MovieLens 100K u1)")
    right.plot([w for w, *_ in by_workers], [f for _, f, _ in by_workers], "o-", label="parameter server, s = ∞")
    right.set_xscale("log", base=2)
    right.set_xticks([w for w, *_ in by_workers], [str(w) for w, *_ in by_workers])
    right.set_xlabel("workers (on 2 cores)")
    blocks.plot([b for b, *_ in by_blocks], [f for _, f, _ in by_blocks], "o-", label="parameter server, 2 workers")
    for b, f, m in by_blocks:
        blocks.annotate(f"{m:.2f}", (b, f), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
    blocks.set_xscale("log", base=2)
    blocks.set_xticks([b for b, *_ in by_blocks], [str(b) for b, *_ in by_blocks])
    blocks.set_xlabel("item blocks per epoch (labels: missed pushes per block)")
    for axis in (left, right, blocks):
        axis.axhline(serial, color="gray", linestyle="--", label=f"serial SGD {serial:.4f}")
        axis.axhline(dsgd, color="green", linestyle=":", label=f"DSGD, 2 workers {dsgd:.4f}")
        axis.legend(fontsize=8)
        axis.grid(alpha=0.3)
    values = [found for rows in (by_bound, by_workers, by_blocks) for _, found, _ in rows]
    spread = max(values) - min(values)
    fig.suptitle(f"The price of asynchrony: the parameter server's test RMSE (all points within {spread:.4f})")
    fig.tight_layout()
    figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure, dpi=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="accuracy,scale,staleness", help="which parts (default all three)")
    parser.add_argument("--data", type=Path, default=DATA, help=f"the ml-100k folder (default {DATA})")
    parser.add_argument("--folds", default="1,2,3,4,5", help="official folds for accuracy (default 1,2,3,4,5)")
    parser.add_argument("--ratings", type=int, default=20_000_000, help="synthetic ratings for scale (default 20 M)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs timed in scale (the first is not counted)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of the scale timings (default 2)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds averaged in staleness (default 2)")
    parser.add_argument("--figure", type=Path, default=FIGURE, help=f"where the staleness figure goes ({FIGURE})")
    args = parser.parse_args()
    parts = args.parts.split(",")
    if unknown := set(parts) - {"accuracy", "scale", "staleness"}:
        parser.error(f"--parts: unknown {', '.join(sorted(unknown))}; choose from accuracy, scale, staleness")
    import ray
    from threadpoolctl import threadpool_limits

    print(f"machine: {machine()}; Ray {ray.__version__}")
    ray.init(num_cpus=max(WORKER_COUNTS) if "staleness" in parts else 2, include_dashboard=False, log_to_driver=False)
    ok = True
    with threadpool_limits(limits=1, user_api="blas"):
        if "accuracy" in parts:
            ok &= accuracy(args.data, [int(f) for f in args.folds.split(",")])
        if "scale" in parts:
            ok &= scale(args.ratings, args.epochs, args.rounds)
        if "staleness" in parts:
            staleness(args.data, args.seeds, args.figure)
    ray.shutdown()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

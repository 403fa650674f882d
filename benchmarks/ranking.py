"""Benchmark: top-N lists from gradlab's ranking and rating models on MovieLens 100K, beside `implicit`.

Splits: the official folds u1–u5 (fit on uK.base, test on uK.test) and the temporal split (each user's latest
10 ratings of u.data as test, evaluation.temporal_split). Protocol (ranking_metrics.py): relevant = rated ≥ 4 in
the test split; every item the user did not rate in training is ranked; precision, recall, NDCG and MAP at 10
are averaged over the users with a relevant test item; coverage is the share of the catalogue in any top-10.

Contestants, all in one run on the same splits:
  popularity          the most-seen films, the yardstick
  ease / wmf / bpr    gradlab's ranking models with RANKING_DEFAULTS (ranking.py)
  sgd / als           gradlab's rating models with DEFAULTS (ranked by predicted rating)
  implicit bpr        implicit.cpu.bpr.BayesianPersonalizedRanking(factors=64, iterations=100)
  implicit als        implicit.cpu.als.AlternatingLeastSquares(factors=64) (its other defaults)
  implicit als (λ, α) the same with gradlab wmf's validated regularization and alpha: the issue's settings
                      above are implicit's defaults, while gradlab's were tuned, and this row shows how much of
                      the gap is tuning (on the validation tenth of u1.base it closes the gap in quality)
All learn from the same seen pairs (every training rating as a 1); implicit runs with num_threads=1 and BLAS
is pinned to one thread, so every fit uses one core. Fit time is CPU time (time.process_time(), which would
also count any extra thread), the median of --rounds fits; gradlab's includes mapping raw ids to indices,
implicit's starts from a ready CSR matrix (which favours implicit slightly). Numba's first call (compiling or
loading from its cache) is made before the timing and reported on its own.

A second table scores the item vectors `similar` would use: item-to-item neighbours, s_ui = Σ_{j seen by u}
sim(j, i), with sim the cosine of the item factors (EASE: its weights B_ji, so the row is EASE itself).

    python benchmarks/ranking.py [--folds 1,2,3,4,5] [--rounds 3] [--no-temporal] [--data DIR]
    python benchmarks/ranking.py --search [wmf|bpr|ease]   # how RANKING_DEFAULTS were chosen (u1.base only)
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import itertools  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse  # noqa: E402

from gradlab.apps.recommender import fit  # noqa: E402
from gradlab.apps.recommender.evaluation import temporal_split  # noqa: E402
from gradlab.apps.recommender.ranking import RANKING_DEFAULTS, fit_ranking  # noqa: E402
from gradlab.apps.recommender.ranking_metrics import top_n_scores  # noqa: E402
from gradlab.data.movielens import IdMap, Ratings, load_ratings, load_split  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-100k"
TARGET = {"precision": 0.29, "ndcg": 0.38}  # EASE's published level on u1–u5 (the issue's table)
RANKING = ("ease", "wmf", "bpr")
PEERS = {"gradlab bpr": "implicit bpr", "gradlab wmf": "implicit als"}

try:
    import implicit
    from threadpoolctl import threadpool_limits
except ImportError:  # the benchmark still runs; implicit's rows are left out and the reason printed
    implicit = None


class _Scorer:
    """Whatever ranks items (implicit's factors, item neighbours) in the shape ranking_metrics expects."""

    def __init__(self, users, items, rated_indptr, rated_items, score):
        self.users, self.items, self.rated_indptr, self.rated_items = users, items, rated_indptr, rated_items
        self.score = score

    def scores_for_users(self, users):
        return self.score(np.asarray(users))


def _seen_matrix(train: Ratings):
    users, items = IdMap(train.user), IdMap(train.item)
    shape = (len(users), len(items))
    matrix = scipy.sparse.csr_matrix((np.ones(len(train)), (users.index(train.user), items.index(train.item))), shape)
    matrix.data[:] = 1.0  # a repeated pair is still one seen pair
    return users, items, matrix.astype(np.float32)


def implicit_runner(make):
    def run(train: Ratings):
        users, items, seen = _seen_matrix(train)
        model = make()
        with threadpool_limits(1):
            start = time.process_time()
            model.fit(seen, show_progress=False)
            seconds = time.process_time() - start
        p, q = np.asarray(model.user_factors, np.float64), np.asarray(model.item_factors, np.float64)
        return _Scorer(users, items, seen.indptr, seen.indices, lambda u: p[u] @ q.T), seconds

    return run


def gradlab_runner(method, rating=False, **options):
    def run(train: Ratings):
        model = fit(train, method, progress=False, **options) if rating else fit_ranking(train, method, progress=False)
        return model, model.fit_seconds

    return run


def contestants() -> dict:
    runs = {"popularity": gradlab_runner("popularity")}
    runs.update({f"gradlab {m}": gradlab_runner(m) for m in RANKING})
    runs.update({f"gradlab {m} (rating)": gradlab_runner(m, rating=True) for m in ("sgd", "als")})
    if implicit is not None:
        bpr, als = implicit.cpu.bpr.BayesianPersonalizedRanking, implicit.cpu.als.AlternatingLeastSquares
        runs["implicit bpr"] = implicit_runner(lambda: bpr(factors=64, iterations=100, num_threads=1, random_state=0))
        runs["implicit als"] = implicit_runner(lambda: als(factors=64, num_threads=1, random_state=0))
        # the same algorithm as gradlab wmf with the settings gradlab's search chose (λ 50, α 10): same quality
        # expected, so this row separates the algorithm's speed from the choice of hyper-parameters
        tuned = RANKING_DEFAULTS["wmf"]
        runs["implicit als (λ 50, α 10)"] = implicit_runner(
            lambda: als(factors=64, regularization=tuned["reg"], alpha=tuned["alpha"], num_threads=1, random_state=0)
        )
    return runs


def neighbours(model):
    """The item-to-item scorer from a model's item vectors (module docstring); None when it has none."""
    weights = getattr(model, "item_weights", np.zeros((0, 0)))
    if weights.size:
        return model
    q = model.item_factors.astype(np.float64)
    if q.shape[1] == 0:
        return None
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-300)
    cosine = q @ q.T
    np.fill_diagonal(cosine, 0.0)
    indptr, rated = model.rated_indptr, model.rated_items

    def score(users):
        return np.stack([cosine[rated[indptr[u] : indptr[u + 1]]].sum(axis=0) for u in users])

    return _Scorer(model.users, model.items, indptr, rated, score)


def warm_up() -> str:
    tiny = Ratings(np.array([1, 1, 2, 3]), np.array([1, 2, 1, 3]), np.array([4.0, 3.0, 5.0, 2.0]))
    start = time.process_time()
    for method in RANKING:
        fit_ranking(tiny, method, progress=False, **({"factors": 2, "epochs": 1} if method != "ease" else {}))
    for method in ("sgd", "als"):
        fit(tiny, method, factors=2, epochs=1, progress=False)
    return f"Numba first calls: {time.process_time() - start:.2f} s CPU (compiled or loaded from the cache), not timed"


def run_split(name, train, test, runs, rounds, table, similar):
    for contestant, run in runs.items():
        times = []
        for _ in range(rounds):
            model, seconds = run(train)
            times.append(seconds)
        table.setdefault(contestant, []).append((top_n_scores(model, test), statistics.median(times)))
        scorer = neighbours(model) if contestant.startswith("gradlab") else None
        if scorer is not None:
            similar.setdefault(contestant, []).append(top_n_scores(scorer, test))
    print(f"  {name}: done", flush=True)


def print_table(title, table):
    print(f"\n{title}")
    print(f"  {'model':<26} {'prec@10':>8} {'recall@10':>9} {'NDCG@10':>8} {'MAP@10':>7} {'coverage':>8} {'fit s':>7}")
    means = {}
    for name, rows in table.items():
        scores = [s for s, _ in rows]
        mean = {key: statistics.mean(getattr(s, key) for s in scores) for key in ("precision", "recall", "ndcg")}
        mean.update(map=statistics.mean(s.map for s in scores), coverage=statistics.mean(s.coverage for s in scores))
        mean["seconds"] = statistics.mean(t for _, t in rows)
        means[name] = mean
        print(
            f"  {name:<26} {mean['precision']:8.4f} {mean['recall']:9.4f} {mean['ndcg']:8.4f} {mean['map']:7.4f} "
            f"{mean['coverage']:8.3f} {mean['seconds']:7.3f}"
        )
    return means


def print_similar(title, similar):
    print(f"\n{title}")
    for name, scores in similar.items():
        p, n = statistics.mean(s.precision for s in scores), statistics.mean(s.ndcg for s in scores)
        print(f"  {name:<26} precision@10 {p:.4f}  NDCG@10 {n:.4f}")


def verdict(means) -> int:
    ok = True

    def check(passed, text):
        nonlocal ok
        ok &= passed
        print(f"  {'ok    ' if passed else 'MISSED'} {text}")

    print("\ntargets (u1–u5 means)")
    best = max((f"gradlab {m}" for m in RANKING), key=lambda name: means[name]["ndcg"])
    for key, floor in TARGET.items():
        check(means[best][key] >= floor, f"best ranking model ({best}) {key}@10 {means[best][key]:.4f} >= {floor}")
    for name in (f"gradlab {m}" for m in RANKING):
        for key in ("precision", "ndcg"):
            mine, pop = means[name][key], means["popularity"][key]
            check(mine > pop, f"{name} {key}@10 {mine:.4f} > popularity {pop:.4f}")
    for mine, peer in PEERS.items():
        if peer not in means:
            print(f"  (no {peer}: implicit is not installed)")
            continue
        for key in ("precision", "ndcg"):
            check(means[mine][key] >= means[peer][key], f"{mine} {key}@10 {means[mine][key]:.4f} >= {peer} "
                  f"{means[peer][key]:.4f}")  # fmt: skip
        a, b = means[mine]["seconds"], means[peer]["seconds"]
        check(a <= b, f"{mine} fit {a:.3f} s <= {peer} {b:.3f} s (CPU, one thread)")
    tuned = next((name for name in means if name.startswith("implicit als (")), None)
    if tuned is not None:  # not a target of the issue: shown so that tuning and algorithm are not confused
        mine, peer = means["gradlab wmf"], means[tuned]
        print(
            f"  (info) gradlab wmf vs {tuned}, the same settings: precision@10 {mine['precision']:.4f} vs "
            f"{peer['precision']:.4f}, NDCG@10 {mine['ndcg']:.4f} vs {peer['ndcg']:.4f}, fit {mine['seconds']:.3f} s "
            f"vs {peer['seconds']:.3f} s"
        )
    return 0 if ok else 1


def benchmark(args) -> int:
    folds = [int(f) for f in args.folds.split(",")]
    print(f"MovieLens 100K from {args.data}; folds {folds}; {args.rounds} timing round(s) per fit (median kept)")
    print(warm_up())
    print("implicit " + (implicit.__version__ if implicit is not None else "is not installed: its rows are missing"))
    print("gradlab ranking defaults: " + "; ".join(f"{m} {o}" for m, o in RANKING_DEFAULTS.items() if o))
    runs = contestants()
    table, similar = {}, {}
    for fold in folds:
        run_split(f"u{fold}", *load_split(args.data, fold), runs, args.rounds, table, similar)
    means = print_table(f"mean over {', '.join(f'u{f}' for f in folds)}", table)
    print_similar("item neighbours for `similar` (mean over the folds)", similar)
    if not args.no_temporal:
        temporal, temporal_similar = {}, {}
        run_split("temporal", *temporal_split(load_ratings(args.data)), runs, args.rounds, temporal, temporal_similar)
        print_table("temporal split (each user's latest 10 ratings as test)", temporal)
        print_similar("item neighbours for `similar` (temporal split)", temporal_similar)
    return verdict(means)


# --- the hyper-parameter search (u1.base only) -------------------------------------------------------------
GRIDS = {
    "ease": {"reg": [100.0, 200.0, 300.0, 500.0, 800.0]},
    "wmf": {"factors": [64], "epochs": [5, 10], "alpha": [1.0, 3.0, 10.0], "reg": [10.0, 50.0, 100.0, 200.0]},
    "bpr": {"factors": [64], "epochs": [30, 60], "lr": [0.01, 0.02, 0.05], "reg": [0.01, 0.02, 0.05]},
}


def search(args) -> int:
    train, _ = load_split(args.data, 1)  # only the training file: the official tests stay unseen
    held = np.random.default_rng(2024).random(len(train)) < 0.1
    part = lambda mask: Ratings(train.user[mask], train.item[mask], train.rating[mask])  # noqa: E731
    fit_part, valid = part(~held), part(held)
    print(f"search on u1.base: fit on {len(fit_part):,} ratings, validate on {len(valid):,} (a random tenth)")
    warm_up()
    print(f"popularity: {top_n_scores(fit_ranking(fit_part, 'popularity'), valid)}")
    for method, grid in GRIDS.items():
        if args.search not in (method, "all"):
            continue
        rows = []
        for values in itertools.product(*grid.values()):
            options = dict(zip(grid, values))
            model = fit_ranking(fit_part, method, progress=False, **options)
            scores = top_n_scores(model, valid)
            rows.append((scores.ndcg, scores.precision, model.fit_seconds, options))
            print(f"  {method} {options}: NDCG@10 {scores.ndcg:.4f}  precision@10 {scores.precision:.4f}  "
                  f"fit {model.fit_seconds:.2f} s", flush=True)  # fmt: skip
        rows.sort(key=lambda row: -row[0])
        ndcg, _, seconds, options = rows[0]
        print(f"{method}: the best by validation NDCG@10: {options} (NDCG {ndcg:.4f}, fit {seconds:.2f} s)\n")
    return 0


def main(argv=None) -> int:
    """Run from command-line arguments (argv: a list, as benchmarks/recommender.py may pass; None: sys.argv)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help=f"the ml-100k folder (default {DATA})")
    parser.add_argument("--folds", default="1,2,3,4,5", help="official folds to run (default 1,2,3,4,5)")
    parser.add_argument("--rounds", type=int, default=1, help="time each fit this many times, keep the median")
    parser.add_argument("--no-temporal", action="store_true", help="leave out the temporal split")
    parser.add_argument(
        "--search", nargs="?", const="all", choices=["ease", "wmf", "bpr", "all"], help="the hyper-parameter search"
    )
    args = parser.parse_args(argv)
    if not (args.data / "u.data").is_file():
        parser.error(f"no MovieLens 100K at {args.data}: pass --data DIR (the unzipped ml-100k folder)")
    return search(args) if args.search else benchmark(args)


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: the matrix-factorisation recommender on the official MovieLens 100K folds, beside Surprise.

For each official split u1–u5 (fit on uK.base, 80,000 ratings; score on uK.test, 20,000) it fits
  gradlab sgd           fit_sgd with the library defaults (DEFAULTS["sgd"])
  gradlab sgd (S)       fit_sgd with Surprise's SVD defaults (k 100, 20 epochs, lr 0.005, λ 0.02, init 0.1):
                        the same algorithm (in float32 and in shuffled order), so it should score like
                        Surprise's SVD
  gradlab svdpp         fit_svdpp (SVD++, Koren 2008) with the library defaults (SVDPP_DEFAULTS)
  gradlab blend         fit_blend: SVD++ mixed with an item-kNN model on baseline residuals (BLEND_DEFAULTS)
  gradlab als           fit_als with the library defaults
  gradlab baseline      fit_baseline (μ + b_u + b_i, alternating closed form)
  surprise SVD          surprise.SVD() with its default parameters, when scikit-surprise is installed
  surprise SVD++        surprise.SVDpp() with its default parameters (k 20, 20 epochs)
  surprise baseline     surprise.BaselineOnly() (ALS, its defaults)
and prints RMSE, MAE and the CPU seconds of the fit (time.process_time(), BLAS pinned to one thread;
the methods are interleaved fold by fold, and with --rounds N each fit is timed N times and the
median kept, so a busy neighbour on a shared machine moves all of them alike). Data loading and the
scoring are not timed. gradlab's fit time includes mapping the raw ids to indices; Surprise's does not
include building its Trainset (only algo.fit is timed), which favours Surprise slightly.

gradlab's inner loops are compiled by Numba (cache=True). The first call in a process either compiles
them (no cache yet: several seconds) or loads them from the on-disk cache (about half a second, most of
it starting LLVM); that first call is made and timed once before the folds, reported on its own (with
which of the two it was), and not counted in the fit times.

    python benchmarks/recommender.py [--folds 1,2,3,4,5] [--rounds 3] [--data DIR] [--no-ranking]

Then, unless --no-ranking, it runs benchmarks/ranking.py on the same folds: the top-N tables (precision, recall,
NDCG, MAP at 10, coverage, fit time) of every gradlab model, popularity, and the implicit library's BPR and ALS.
    python benchmarks/recommender.py --search [sgd|svdpp|blend|als]   # how the defaults were chosen (u1.base)

--search repeats the hyper-parameter search behind DEFAULTS, SVDPP_DEFAULTS and BLEND_DEFAULTS: it holds
out a random tenth of u1.base as validation data, fits every configuration of a small grid on the other nine
tenths (two seeds each), and picks the fastest configuration whose mean validation RMSE is within 0.001 (the
seed noise) of the best; for SGD, SVD++ and the blend only configurations that fit no slower than Surprise's
SVD on the same data count. The official test files are never looked at.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import itertools  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from gradlab.apps import recommender as rec  # noqa: E402
from gradlab.apps.recommender import kernels  # noqa: E402
from gradlab.apps.recommender.blend import fit_blend  # noqa: E402
from gradlab.apps.recommender.hyper import BLEND_DEFAULTS, SVDPP_DEFAULTS  # noqa: E402
from gradlab.data.movielens import Ratings, load_split  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-100k"
# mean RMSE over the folds each model must reach, fitting no slower than Surprise's SVD on every fold
TARGETS = {"gradlab sgd": 0.925, "gradlab svdpp": 0.900, "gradlab blend": 0.900}  # the first issue; issue 19
SURPRISE_SETTINGS = {"factors": 100, "epochs": 20, "lr": 0.005, "reg": 0.02, "reg_bias": 0.02, "init_std": 0.1}

try:
    import surprise
except ImportError:  # the benchmark still runs; the Surprise rows are left out and the reason printed
    surprise = None


# --- the contestants: each takes (train, test) and returns (fit seconds, RMSE, MAE, model) --------------
def gradlab_fit(train: Ratings, method: str, **options):
    """rec.fit by name, and the blend (a BlendModel, not a FactorModel: rec.fit does not offer it)."""
    if method == "blend":
        return fit_blend(train, **options)
    return rec.fit(train, method, progress=False, **options)


def gradlab_runner(method, **options):
    def run(train: Ratings, test: Ratings):
        model = gradlab_fit(train, method, **options)
        scores = model.evaluate(test)
        # only a FactorModel ranks the whole catalogue (the blend predicts ratings only)
        return model.fit_seconds, scores.rmse, scores.mae, model if isinstance(model, rec.FactorModel) else None

    return run


def surprise_runner(make):
    def run(train: Ratings, test: Ratings):
        trainset = _surprise_trainset(train)
        algo = make()
        start = time.process_time()
        algo.fit(trainset)
        seconds = time.process_time() - start
        # Surprise reads ids from files as text
        predictions = algo.test(list(zip(test.user.astype(str), test.item.astype(str), test.rating.tolist())))
        return (
            seconds,
            surprise.accuracy.rmse(predictions, verbose=False),
            surprise.accuracy.mae(predictions, verbose=False),
            None,
        )

    return run


def _surprise_trainset(ratings: Ratings):
    """Surprise's Trainset of the ratings, through a file in the u.data format (its loader without pandas)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ratings.tsv"
        lines = (f"{u}\t{i}\t{r:g}\t0\n" for u, i, r in zip(ratings.user, ratings.item, ratings.rating))
        path.write_text("".join(lines))
        reader = surprise.Reader(line_format="user item rating timestamp", sep="\t", rating_scale=(1, 5))
        return surprise.Dataset.load_from_file(str(path), reader).build_full_trainset()


def contestants() -> dict:
    runs = {
        "gradlab sgd": gradlab_runner("sgd"),
        "gradlab sgd (S)": gradlab_runner("sgd", **SURPRISE_SETTINGS),
        "gradlab svdpp": gradlab_runner("svdpp"),
        "gradlab blend": gradlab_runner("blend"),
        "gradlab als": gradlab_runner("als"),
        "gradlab baseline": gradlab_runner("baseline"),
    }
    if surprise is not None:
        runs["surprise SVD"] = surprise_runner(lambda: surprise.SVD(random_state=0))
        runs["surprise SVD++"] = surprise_runner(lambda: surprise.SVDpp(random_state=0))
        runs["surprise baseline"] = surprise_runner(lambda: surprise.BaselineOnly(verbose=False))
    return runs


def warm_up() -> str:
    """Make (and time) the first call of every compiled kernel, so that no fold pays for it."""
    names = "_sgd_epoch _svdpp_epoch _implicit_sums _predict_kernel _ridge_rows _cholesky_solve _co_rated"
    compiled = [getattr(kernels, name) for name in (names + " _shrunk_correlation _knn_predict").split()]
    tiny = Ratings(np.array([1, 1, 2]), np.array([1, 2, 1]), np.array([4.0, 3.0, 5.0]))
    start = time.process_time()
    rec.fit_sgd(tiny, factors=2, epochs=1, progress=False).evaluate(tiny)
    rec.fit_als(tiny, factors=2, epochs=1, progress=False)
    fit_blend(tiny, factors=2, epochs=1).evaluate(tiny)
    seconds = time.process_time() - start
    hits = sum(sum(k.stats.cache_hits.values()) for k in compiled)
    misses = sum(sum(k.stats.cache_misses.values()) for k in compiled)
    how = "loaded from Numba's on-disk cache" if misses == 0 else f"compiled ({misses} kernels were not in the cache)"
    return f"Numba first call: {seconds:.2f} s CPU, {how}; {hits} cache hits. Not included in the fit times below."


def benchmark(args) -> int:
    folds = [int(f) for f in args.folds.split(",")]
    print(f"MovieLens 100K from {args.data}; folds {folds}; {args.rounds} timing round(s) per fit (median kept)")
    print(warm_up())
    if surprise is None:
        print("scikit-surprise is not installed: its rows are missing (pip install scikit-surprise)")
    else:
        print(f"scikit-surprise {surprise.__version__}")
    defaults = {**rec.DEFAULTS, "svdpp": SVDPP_DEFAULTS, "blend": BLEND_DEFAULTS}
    print("gradlab defaults: " + "; ".join(f"{m} {settings}" for m, settings in defaults.items()))
    runs = contestants()
    results = {name: [] for name in runs}  # name -> [(fold, seconds, rmse, mae)]
    for fold in folds:
        train, test = load_split(args.data, fold)
        rows = []
        for name, run in runs.items():
            times = []
            for _ in range(args.rounds):
                seconds, rmse, mae, _model = run(train, test)
                times.append(seconds)
            seconds = statistics.median(times)
            results[name].append((fold, seconds, rmse, mae))
            rows.append((name, rmse, mae, seconds))
        print(f"\nfold u{fold}: fit on u{fold}.base ({len(train):,} ratings), score on u{fold}.test ({len(test):,})")
        _table(rows)
    print(f"\nmean over folds {', '.join(f'u{f}' for f in folds)}")
    _table(
        [(name, *(statistics.mean(r[k] for r in res) for k in (2, 3, 1))) for name, res in results.items()],
        spread=True,
        results=results,
    )
    verdict = _verdict(results, folds)
    if not args.no_ranking:  # the top-N side, with the implicit library's BPR and ALS, on the same folds
        from ranking import main as ranking_main  # benchmarks/ranking.py

        print("\n" + "=" * 100 + "\ntop-N lists: benchmarks/ranking.py on the same folds\n")
        verdict = max(
            verdict, ranking_main(["--data", str(args.data), "--folds", args.folds, "--rounds", str(args.rounds)])
        )
    return verdict


def _table(rows, spread=False, results=None):
    print(f"  {'model':<18} {'RMSE':>7} {'MAE':>7} {'fit s':>7}" + ("   RMSE range" if spread else ""))
    for name, rmse, mae, seconds in rows:
        extra = ""
        if spread:
            values = [r[2] for r in results[name]]
            extra = f"   {min(values):.4f}–{max(values):.4f}"
        print(f"  {name:<18} {rmse:7.4f} {mae:7.4f} {seconds:7.2f}{extra}")


def _verdict(results, folds) -> int:
    """Each target model's mean RMSE against its target, and its fit time against Surprise's SVD fold by fold."""
    ok = True
    for name, target in TARGETS.items():
        mine = results[name]
        mean_rmse = statistics.mean(r[2] for r in mine)
        hit = mean_rmse <= target
        ok &= hit
        print(f"\n{name} mean RMSE {mean_rmse:.4f} (target <= {target}): {'ok' if hit else 'MISSED'}")
        if "surprise SVD" in results:
            for (fold, ours, *_), (_, theirs, *_) in zip(mine, results["surprise SVD"]):
                faster = ours <= theirs
                ok &= faster
                print(f"  u{fold}: fit {ours:.2f} s vs Surprise SVD {theirs:.2f} s: {'ok' if faster else 'SLOWER'}")
    return 0 if ok else 1


# --- the hyper-parameter search (u1.base only) ------------------------------------------------------------
SGD_GRID = {
    "factors": [50, 100],
    "epochs": [20, 30, 40],
    "lr": [0.01, 0.02],
    "reg": [0.08, 0.1, 0.12],
    "init_std": [0.05, 0.1],
}
SVDPP_GRID = {
    "factors": [50, 100],
    "epochs": [20, 25, 30],
    "lr": [0.007, 0.01, 0.015],
    "lr_decay": [1.0, 0.95],
    "reg": [0.06, 0.08, 0.1],
    "reg_y": [0.3, 1.0],
}
# the blend's own weights, and its SVD++ made cheaper (the blend must fit no slower than Surprise's SVD either)
BLEND_GRID = {"weight": [0.2, 0.3, 0.4], "neighbours": [20, 40], "shrink": [50.0, 100.0], "factors": [50, 100]}
TIE = 0.001
ALS_GRID = {"factors": [20, 50], "epochs": [10, 15], "reg": [10.0, 15.0, 20.0], "reg_bias": [2.0, 5.0, 10.0]}


def search(args) -> int:
    train, _ = load_split(args.data, 1)  # only the training file: uK.test stays unseen
    held = np.random.default_rng(2024).random(len(train)) < 0.1
    part = lambda mask: Ratings(train.user[mask], train.item[mask], train.rating[mask])  # noqa: E731
    fit_part, valid = part(~held), part(held)
    print(f"search on u1.base: fit on {len(fit_part):,} ratings, validate on {len(valid):,} (a random tenth)")
    warm_up()
    budget = None
    if surprise is not None:
        budget = statistics.median(
            surprise_runner(lambda: surprise.SVD(random_state=0))(fit_part, valid)[0] for _ in range(3)
        )
        print(f"time budget: Surprise SVD's default fit on the same ratings, {budget:.2f} s CPU (median of 3)")
    baseline = rec.fit_baseline(fit_part, progress=False).evaluate(valid).rmse
    print(f"validation RMSE of the baseline: {baseline:.4f}")
    for method, grid in (("sgd", SGD_GRID), ("svdpp", SVDPP_GRID), ("blend", BLEND_GRID), ("als", ALS_GRID)):
        if args.search not in (method, "all"):
            continue
        rows = []
        names = list(grid)
        for values in itertools.product(*grid.values()):
            options = dict(zip(names, values))
            scores, times = [], []
            for seed in (0, 1):
                model = gradlab_fit(fit_part, method, seed=seed, **options)
                scores.append(model.evaluate(valid).rmse)
                times.append(model.fit_seconds)
            rows.append((statistics.mean(scores), statistics.mean(times), options))
            print(f"  {method} {options}: validation RMSE {rows[-1][0]:.4f}, fit {rows[-1][1]:.2f} s", flush=True)
        rows.sort(key=lambda row: row[0])
        print(f"\n{method}: the five best on validation")
        for score, seconds, options in rows[:5]:
            print(f"  {score:.4f}  {seconds:5.2f} s  {options}")
        # differences under 0.001 are seed noise (two seeds: ±0.001), so the fastest setting that close to the best
        # wins; the issues ask SGD and SVD++ to fit no slower than Surprise's SVD, so for them only those count
        timed = method in ("sgd", "svdpp", "blend") and budget is not None
        allowed = [row for row in rows if not timed or row[1] <= budget]
        if allowed:
            close = [row for row in allowed if row[0] <= allowed[0][0] + TIE]
            score, seconds, options = min(close, key=lambda row: row[1])
            note = f", within the budget of {budget:.2f} s" if timed else ""
            print(f"  chosen (fastest within {TIE} of the best{note}): {options}")
            print(f"  validation RMSE {score:.4f}, fit {seconds:.2f} s\n")
        else:
            print("  no configuration fits within the time budget\n")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help=f"the ml-100k folder (default {DATA})")
    parser.add_argument("--folds", default="1,2,3,4,5", help="official folds to run (default 1,2,3,4,5)")
    parser.add_argument("--rounds", type=int, default=1, help="time each fit this many times, keep the median")
    methods = ["sgd", "svdpp", "blend", "als", "all"]
    parser.add_argument("--search", nargs="?", const="all", choices=methods, help="the hyper-parameter search instead")
    parser.add_argument("--no-ranking", action="store_true", help="leave out the top-N tables (benchmarks/ranking.py)")
    args = parser.parse_args()
    if not (args.data / "u.data").is_file():
        parser.error(f"no MovieLens 100K at {args.data}: pass --data DIR (the unzipped ml-100k folder)")
    return search(args) if args.search else benchmark(args)


if __name__ == "__main__":
    raise SystemExit(main())

"""`gradlab recommend`: train a recommender on MovieLens 100K and ask it for movies.

    gradlab recommend train --data ml-100k [--model sgd|svdpp|als|baseline|ease|wmf|bpr|popularity] [--factors K]
                            [--epochs N] [--lr LR] [--reg λ] [--reg-bias λ_b] [--alpha α] [--fold 1-5 | --all]
                            [--save model.npz] [--workers N [--address ray://…] [--algorithm dsgd|ps]]
    gradlab recommend top --user 196 [-n 10] [--model model.npz | --rating]   the best movies the user has not seen
    gradlab recommend similar --item 50 [-n 10] [--model model.npz | --rating] because you watched …

Two kinds of model. Rating models (sgd, svdpp, als, baseline) predict the stars a user would give a film; ranking
models (ease, wmf, bpr, popularity) learn which films a user picks at all, and make far better top-N lists
(BEST_REASON below, measured by benchmarks/ranking.py). So top and similar use the ranking model by default;
--rating asks the rating model instead ("what would this user rate this film").

train fits on u1.base (or --fold K) and scores on u1.test (RMSE for a rating model; precision, recall, NDCG, MAP
at 10 beside popularity's for a ranking model); --all fits on all 100,000 ratings instead. --data may also be a
`user,item,rating` CSV file (fitted whole, without a test). Rating models go to ~/.cache/gradlab/recommender.npz,
ranking models to ~/.cache/gradlab/ranking.npz, unless --save/--model say otherwise.

To wire it into a parser: add_recommend_command(subparsers), then `if args.command == "recommend": return run(args)`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..argtypes import non_negative, output_file, positive, whole

__all__ = ["add_recommend_command", "default_model_path", "default_ranking_path", "run"]

RATING_MODELS = ("sgd", "svdpp", "als", "baseline")
RANKING_MODELS = ("ease", "wmf", "bpr", "popularity")
# measured by benchmarks/ranking.py (means over the official folds u1–u5; see its docstring for the protocol)
BEST_REASON = (
    "EASE, the best measured top-N lists on MovieLens 100K: precision@10 0.292 and NDCG@10 0.385 over u1–u5, where "
    "weighted MF reaches 0.28/0.37, BPR 0.27/0.35, popularity 0.16/0.20 and the rating models 0.08–0.11 precision"
)
SIMILAR_REASON = (
    "EASE's item weights B_ij (the list of a user who saw only that film) also make the best neighbours by the "
    "same evaluation: precision@10 0.29, against 0.24 for the cosine of the wmf or bpr factors and 0.05–0.09 for "
    "the rating models'"
)


def add_distributed_arguments(train) -> None:
    """--workers, --address, --algorithm and --staleness on the `recommend train` parser (recommender/distributed/)."""
    group = train.add_argument_group("distributed training on Ray (pip install 'gradlab[distributed]')")
    group.add_argument(
        "--workers",
        type=whole(1),
        help="train SGD on N Ray workers (default: one machine, no Ray); a local cluster takes up to 4 a core",
    )
    group.add_argument(
        "--address", help="join this Ray cluster, e.g. ray://head:10001 (default: start a local one for the fit)"
    )
    kinds = "dsgd: conflict-free blocks (default); ps: an asynchronous parameter server"
    group.add_argument("--algorithm", choices=("dsgd", "ps"), help=kinds)  # distributed.ALGORITHMS (a test checks)
    group.add_argument(
        "--staleness", type=whole(0), help="ps only: no worker runs more than S blocks ahead (default: unbounded)"
    )


# A bound on one command's work: ALS and WMF solve k × k systems for every user and item (k = 5000 ran for
# hours), and beyond a few hundred factors MovieLens-sized data only overfits.
MAX_FACTORS = 1000


def wants_distributed(args) -> bool:
    """Whether any distributed flag was given (run_train_distributed then checks they make sense together)."""
    return any(getattr(args, name, None) is not None for name in ("workers", "address", "algorithm", "staleness"))


def decay(text: str) -> float:
    """A learning-rate decay factor: a number in (0, 1]."""
    value = positive(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1] (1 keeps the rate fixed), got {text}")
    return value


def default_model_path() -> Path:
    """~/.cache/gradlab/recommender.npz: where train saves a rating model, and top/similar --rating load it."""
    return Path.home() / ".cache" / "gradlab" / "recommender.npz"


def default_ranking_path() -> Path:
    """~/.cache/gradlab/ranking.npz: where train saves a ranking model, and top/similar load one by default."""
    return Path.home() / ".cache" / "gradlab" / "ranking.npz"


def add_recommend_command(subparsers) -> argparse.ArgumentParser:
    """Add the `recommend` command (train, top, similar) to an argparse sub-parser collection."""
    recommend = subparsers.add_parser(
        "recommend",
        help="movie recommendations by matrix factorisation and ranking models (MovieLens 100K)",
        description=__doc__.split("\n\n")[0],
    )
    recommend.set_defaults(recommend_parser=recommend)
    actions = recommend.add_subparsers(dest="recommend_command", metavar="ACTION")

    train = actions.add_parser("train", help="fit a model and report its test scores")
    train.add_argument(
        "--data",
        help="the ml-100k folder (default ~/.cache/gradlab/ml-100k); or, fitted whole without a test: a "
        "user,item,rating CSV, a MovieLens 1M/10M/20M/25M folder, or a folder `gradlab data synth` wrote",
    )
    train.add_argument(
        "--model",
        choices=[*RATING_MODELS, *RANKING_MODELS],
        default="sgd",
        help="rating models sgd (default), svdpp (the lowest RMSE), als, baseline predict stars; "
        "ranking models ease (the best top-N lists), "
        "wmf, bpr, popularity learn what users pick",
    )
    train.add_argument(
        "--factors",
        type=whole(0, MAX_FACTORS),
        help=f"latent factors k, at most {MAX_FACTORS} (default: sgd 100, svdpp 100, als 20, wmf 64, bpr 64)",
    )
    train.add_argument(
        "--epochs",
        type=whole(1),
        help="passes over the data (default: sgd 30, svdpp 20, als 10, baseline 10, wmf 5, bpr 60)",
    )
    train.add_argument("--lr", type=positive, help="learning rate of sgd (default 0.01), svdpp (0.015) and bpr (0.02)")
    train.add_argument(
        "--reg",
        type=non_negative,
        help="λ on the factors; SGD charges it per rating, ALS per user and per item "
        "(default: sgd 0.08, svdpp 0.08, als 15, wmf 50, bpr 0.02); for ease the λ of (XᵀX + λI)⁻¹ (default 500)",
    )
    train.add_argument(
        "--reg-bias",
        type=non_negative,
        help="λ_b on the biases of sgd, svdpp and als (default: sgd 0.02, svdpp 0.02, als 5)",
    )
    train.add_argument(
        "--alpha", type=non_negative, help="wmf: confidence 1 + α in a seen pair, 1 in an unseen one (default 10)"
    )
    train.add_argument("--reg-y", type=non_negative, help="svdpp: λ on the implicit factors y_j (default 0.3)")
    train.add_argument(
        "--lr-decay", type=decay, help="svdpp: the learning rate is multiplied by this after each epoch (default 0.95)"
    )
    train.add_argument("--seed", type=whole(0), default=0, help="random seed (default 0)")
    split = train.add_mutually_exclusive_group()
    split.add_argument("--fold", type=int, choices=[1, 2, 3, 4, 5], help="official split to use (default 1)")
    split.add_argument("--all", action="store_true", help="fit on all 100,000 ratings (no test score)")
    train.add_argument(
        "--save",
        type=output_file,
        help=f"where to write the model (default {default_model_path()}, a ranking model {default_ranking_path()})",
    )
    train.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    add_distributed_arguments(train)

    for name, what, help_text, reason in (
        ("top", "--user", "the best unseen movies for a user", BEST_REASON),
        ("similar", "--item", "because you watched …: the nearest movies", SIMILAR_REASON),
    ):
        action = actions.add_parser(
            name,
            help=f"{help_text} (by default from the ranking model)",
            description=f"{help_text}. By default from the ranking model in {default_ranking_path()}: {reason}. "
            f"--rating uses the rating model in {default_model_path()} instead.",
        )
        action.add_argument(
            what, required=True, help="raw user id, e.g. 196" if name == "top" else "raw item id, e.g. 50 (Star Wars)"
        )
        action.add_argument("-n", type=whole(1), default=10, help="how many (default 10)")
        source = action.add_mutually_exclusive_group()
        source.add_argument("--model", help=f"a saved model file, rating or ranking (default {default_ranking_path()})")
        source.add_argument("--rating", action="store_true", help=f"use the rating model ({default_model_path()})")
    return recommend


def run(args, out=None) -> int:
    """Execute a parsed `recommend` command; 0 on success, 2 on a user error (message on stderr)."""
    out = sys.stdout if out is None else out
    action = getattr(args, "recommend_command", None)
    if action is None:
        parser = getattr(args, "recommend_parser", None)
        if parser is not None:
            parser.print_help(out)
        return 0 if parser is not None else 2
    try:
        return {"train": _train, "top": _top, "similar": _similar}[action](args, out)
    except (FileNotFoundError, ValueError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"gradlab recommend {action}: {message}", file=sys.stderr)
        return 2
    except FloatingPointError as error:  # training diverged: nothing was saved
        print(f"gradlab recommend {action}: {error}: lower --lr; nothing was saved", file=sys.stderr)
        return 1


def _options(args) -> dict:
    """The fitter's keyword arguments from the flags given, refusing flags the chosen model does not take."""
    from .recommender import DEFAULTS
    from .recommender.ranking import RANKING_DEFAULTS

    names = ("factors", "epochs", "lr", "reg", "reg_bias", "reg_y", "lr_decay", "alpha")
    takes = [name for name in names if name in {**DEFAULTS, **RANKING_DEFAULTS}[args.model]]  # what it has defaults for
    given = {name: getattr(args, name, None) for name in names}
    given = {name: value for name, value in given.items() if value is not None}
    refused = [name for name in given if name not in takes]
    if args.model == "baseline" and refused:
        raise ValueError("--model baseline takes only --epochs (biases in closed form, no factors, no lr)")
    if args.model == "als" and refused == ["lr"]:
        raise ValueError("--lr is for --model sgd or svdpp; ALS solves each step in closed form")
    if refused:
        flags = ", ".join("--" + name.replace("_", "-") for name in refused)
        allowed = ", ".join("--" + name.replace("_", "-") for name in takes) or "no hyper-parameters"
        raise ValueError(f"--model {args.model} does not take {flags} (it takes {allowed})")
    if args.model in ("sgd", "svdpp", "als", "wmf", "bpr"):
        given["seed"] = args.seed
    return given


def _train(args, out) -> int:
    from ..data.movielens import load_csv_ratings, load_ratings, load_split, load_titles
    from .recommender import DEFAULTS, fit
    from .recommender.ranking import RANKING_DEFAULTS, fit_ranking
    from .recommender.ranking_metrics import top_n_scores

    options = _options(args)
    ranking = args.model in RANKING_MODELS
    source = Path(args.data).expanduser() if args.data else None
    test = titles = None
    if args.fold is not None and source is not None and (source.is_file() or _large_source(source)):
        raise ValueError(f"--fold {args.fold} picks an official split of MovieLens 100K; {source} is fitted whole")
    args.fold = args.fold or 1
    if source is not None and source.is_file():
        train, where = load_csv_ratings(source), f"{source} (all {{n:,}} ratings)"
    elif source is not None and not source.exists() and source.suffix:
        raise FileNotFoundError(f"--data {source}: no such file (give a user,item,rating CSV file or a folder)")
    elif source is not None and _large_source(source):
        train, titles, where = _load_large(source)
    else:
        titles = load_titles(source)
        if args.all:
            train, where = load_ratings(source), "u.data (all {n:,} ratings)"
        else:
            train, test = load_split(source, args.fold)
            where = f"u{args.fold}.base ({{n:,}} ratings)"
    if len(train) == 0:
        raise ValueError(f"{source}: no ratings could be read (expected lines of user,item,rating)")
    if wants_distributed(args):
        from .recommender.distributed.command import run_train_distributed

        return run_train_distributed(args, train, test, titles, where, args.save or default_model_path(), out)
    settings = {**(RANKING_DEFAULTS if ranking else DEFAULTS)[args.model], **options}
    shown = ", ".join(f"{name} {value}" for name, value in settings.items() if name != "seed")
    print(
        f"fitting {args.model} on {where.format(n=len(train))}: {shown or 'no hyper-parameters'}", file=out, flush=True
    )
    fitter = fit_ranking if ranking else fit
    model = fitter(train, args.model, titles=titles, progress=not args.quiet, out=out, **options)
    if ranking:
        print(f"fitted in {model.fit_seconds:.2f} s (CPU) from {len(model.rated_items):,} seen pairs", file=out)
        if test is not None:
            print(f"test on u{args.fold}.test (relevant: rated >= 4): {top_n_scores(model, test)}", file=out)
            if args.model != "popularity":
                popular = top_n_scores(fit_ranking(train, "popularity"), test)
                print(f"  popularity, for comparison:   {popular}", file=out)
    else:
        print(f"fitted in {model.fit_seconds:.2f} s (CPU); train RMSE {model.history[-1]:.4f}", file=out)
        if test is not None:
            print(f"test on u{args.fold}.test: {model.evaluate(test)}", file=out)
    path = model.save(args.save or (default_ranking_path() if ranking else default_model_path()))
    print(f"model saved to {path}", file=out)
    return 0


def _large_source(folder: Path) -> bool:
    """A folder `gradlab data synth` wrote (meta.json) or a MovieLens 1M–25M release (ratings.dat / .csv)."""
    return any(
        (folder / name).is_file() or any(folder.glob(f"*/{name}"))
        for name in ("meta.json", "ratings.dat", "ratings.csv")
    )


def _load_large(folder: Path):
    """(ratings, titles, where) of a synthetic folder (memory-mapped) or a MovieLens 1M–25M folder, fitted whole."""
    from ..data.movielens_large import VERSIONS, load_movie_titles, load_movielens
    from ..data.synthetic import open_ratings

    if (folder / "meta.json").is_file():
        return open_ratings(folder), None, f"{folder} (synthetic, all {{n:,}} ratings)"
    name = folder.name.lower().removeprefix("ml-")
    version = next((v for v in VERSIONS if name.startswith(v)), None)
    if version is None:  # the layout says the format; the name of the release only matters for its checksums
        version = "1m" if (folder / "ratings.dat").is_file() or any(folder.glob("*/ratings.dat")) else "20m"
    ratings = load_movielens(version, folder)
    try:
        titles = load_movie_titles(version, folder)
    except FileNotFoundError:
        titles = None
    return ratings, titles, f"{folder} (MovieLens {version.upper()}, all {{n:,}} ratings)"


def _load(args, out):
    from .recommender.ranking import load_model

    if not args.model and not args.rating and not default_ranking_path().is_file():
        return _first_ranking_model(out)
    if args.model:
        path = Path(args.model).expanduser()
    else:
        path = default_model_path() if args.rating else default_ranking_path()
    if path.is_dir():
        raise ValueError(f"--model {path}: is a folder; give the model file (.npz) that `recommend train --save` wrote")
    if not path.is_file():
        if args.model:
            hint = f"gradlab recommend train --save {path}` (add --model ease for a ranking model)"
        elif args.rating:
            hint = "gradlab recommend train` (a rating model, sgd by default; --data for other ratings)"
        else:
            hint = (
                "gradlab recommend train --model ease --data DIR` (the best ranking model), or ask the rating model "
                "with --rating"
            )
        raise FileNotFoundError(f"no model at {path}: train one first with `{hint}")
    return load_model(path)


def _first_ranking_model(out):
    """No ranking model saved yet: fit the best one (EASE, under a second) on all of MovieLens 100K and save it."""
    from ..data.movielens import default_root, load_ratings, load_titles
    from .recommender.ranking import BEST, fit_ranking

    try:
        ratings, titles = load_ratings(), load_titles()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no ranking model at {default_ranking_path()} and no MovieLens 100K in {default_root()} to fit one: "
            "run `gradlab data download movielens-100k` (5 MB), or train on your own ratings with "
            "`gradlab recommend train --model ease --data FILE`, or ask the rating model with --rating"
        ) from None
    print(f"no ranking model saved yet: fitting {BEST} on all {len(ratings):,} MovieLens 100K ratings", file=out)
    model = fit_ranking(ratings, BEST, titles=titles)
    path = model.save(default_ranking_path())
    print(f"saved to {path} (`gradlab recommend train --model ...` replaces it)\n", file=out)
    return model


def _describe(model) -> str:
    from .recommender.ranking import RankingModel

    if isinstance(model, RankingModel):
        return f"{model.method} ranking model"
    return f"{model.method} rating model"


def _top(args, out) -> int:
    model = _load(args, out)
    if model.users.ids.dtype.kind in "iu" and not args.user.lstrip("-").isdigit():
        raise ValueError(f"--user {args.user!r}: this model's user ids are whole numbers, e.g. 196")
    known = int(model.users.index(args.user)) >= 0
    ranks = hasattr(model, "item_weights")
    if known:
        print(
            f"top {args.n} for user {args.user} by the {_describe(model)} ({len(model.rated_by(args.user))} movies "
            "rated, left out):",
            file=out,
        )
    else:
        fallback = "most-seen movies" if ranks else "movies with the highest μ + b_i"
        print(f"user {args.user} is not in the training data (cold start): the {args.n} {fallback}", file=out)
    _print_list(model.recommend(args.user, args.n), "score" if ranks else "predicted", out)
    return 0


def _similar(args, out) -> int:
    model = _load(args, out)
    title = model.title(args.item)
    if int(model.items.index(args.item)) < 0:
        raise KeyError(f"item {args.item} is not in the model's training data (see u.item for the ids)")
    weights = getattr(model, "item_weights", None)
    how = "EASE's item weights B_ij" if weights is not None and weights.size else "cosine of the item factors"
    found = model.similar(args.item, args.n)  # before the header: a model without item factors says so alone
    print(f"because you watched {title or 'item ' + args.item}: ({how}, {_describe(model)})", file=out)
    _print_list(found, "weight" if how.startswith("EASE") else "cosine", out)
    if len(found) < args.n:
        print(
            f"({len(found)} of the {args.n} asked for: only movies rated at least 5 times in training are "
            "compared, since the factors of a rarely rated movie say little)",
            file=out,
        )
    return 0


def _print_list(items, label: str, out):
    for rank, (item, title, score) in enumerate(items, start=1):
        print(f"{rank:>3}. {label} {score:6.3f}  {title or '(no title)'}  [item {item}]", file=out)

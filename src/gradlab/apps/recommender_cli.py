"""`gradlab recommend`: train a matrix-factorisation recommender on MovieLens 100K and ask it for movies.

    gradlab recommend train --data ml-100k [--model sgd|als|baseline] [--factors K] [--epochs N] [--lr LR]
                            [--reg λ] [--reg-bias λ_b] [--fold 1-5 | --all] [--save model.npz]
    gradlab recommend top --user 196 [-n 10] [--model model.npz]      the best movies the user has not rated
    gradlab recommend similar --item 50 [-n 10] [--model model.npz]   because you watched …: nearest by cosine

train fits on u1.base (or --fold K) and scores on u1.test; --all fits on all 100,000 ratings instead. --data
may also be a `user,item,rating` CSV file (fitted whole, without a test). Models go to
~/.cache/gradlab/recommender.npz unless --save/--model say otherwise.

To wire it into a parser: add_recommend_command(subparsers), then `if args.command == "recommend": return run(args)`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..argtypes import non_negative, output_file, positive, whole

__all__ = ["add_recommend_command", "default_model_path", "run"]


def default_model_path() -> Path:
    """~/.cache/gradlab/recommender.npz: where train saves and top/similar load when no path is given."""
    return Path.home() / ".cache" / "gradlab" / "recommender.npz"


def add_recommend_command(subparsers) -> argparse.ArgumentParser:
    """Add the `recommend` command (train, top, similar) to an argparse sub-parser collection."""
    recommend = subparsers.add_parser(
        "recommend",
        help="movie recommendations by matrix factorisation (MovieLens 100K)",
        description=__doc__.split("\n\n")[0],
    )
    recommend.set_defaults(recommend_parser=recommend)
    actions = recommend.add_subparsers(dest="recommend_command", metavar="ACTION")

    train = actions.add_parser("train", help="fit a model and report its test RMSE")
    train.add_argument(
        "--data", help="the ml-100k folder, or a user,item,rating CSV (default ~/.cache/gradlab/ml-100k)"
    )
    train.add_argument("--model", choices=["sgd", "als", "baseline"], default="sgd", help="how to fit (default sgd)")
    train.add_argument("--factors", type=whole(0), help="latent factors k (default: sgd 100, als 20)")
    train.add_argument("--epochs", type=whole(1), help="passes over the ratings (default: sgd 30, als 10, baseline 10)")
    train.add_argument("--lr", type=positive, help="SGD learning rate (default 0.01)")
    train.add_argument(
        "--reg",
        type=non_negative,
        help="λ on the factors; SGD charges it per rating, ALS per user and per item (default: sgd 0.08, als 15)",
    )
    train.add_argument("--reg-bias", type=non_negative, help="λ_b on the biases (default: sgd 0.02, als 5)")
    train.add_argument("--seed", type=whole(0), default=0, help="random seed (default 0)")
    split = train.add_mutually_exclusive_group()
    split.add_argument("--fold", type=int, choices=[1, 2, 3, 4, 5], default=1, help="official split to use (default 1)")
    split.add_argument("--all", action="store_true", help="fit on all 100,000 ratings (no test score)")
    train.add_argument("--save", type=output_file, help=f"where to write the model (default {default_model_path()})")
    train.add_argument("--quiet", action="store_true", help="no per-epoch lines")

    top = actions.add_parser("top", help="the best unrated movies for a user")
    top.add_argument("--user", required=True, help="raw user id, e.g. 196")
    top.add_argument("-n", type=whole(1), default=10, help="how many (default 10)")
    top.add_argument("--model", help=f"model file (default {default_model_path()})")

    similar = actions.add_parser("similar", help="because you watched …: the nearest movies by their factors")
    similar.add_argument("--item", required=True, help="raw item id, e.g. 50 (Star Wars)")
    similar.add_argument("-n", type=whole(1), default=10, help="how many (default 10)")
    similar.add_argument("--model", help=f"model file (default {default_model_path()})")
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


def _train(args, out) -> int:
    from ..data.movielens import load_csv_ratings, load_ratings, load_split, load_titles
    from .recommender import DEFAULTS, fit

    options = {"factors": args.factors, "epochs": args.epochs, "lr": args.lr, "reg": args.reg}
    options["reg_bias"] = args.reg_bias
    if args.model == "baseline":
        if args.factors or args.lr or args.reg is not None or args.reg_bias is not None:
            raise ValueError("--model baseline takes only --epochs (biases in closed form, no factors, no lr)")
        options = {"epochs": args.epochs}
    elif args.model == "als" and args.lr is not None:
        raise ValueError("--lr is for --model sgd; ALS solves each step in closed form")
    options = {name: value for name, value in options.items() if value is not None}
    if args.model != "baseline":
        options["seed"] = args.seed

    source = Path(args.data).expanduser() if args.data else None
    test = titles = None
    if source is not None and source.is_file():
        train, where = load_csv_ratings(source), f"{source} (all {{n:,}} ratings)"
    else:
        titles = load_titles(source)
        if args.all:
            train, where = load_ratings(source), "u.data (all {n:,} ratings)"
        else:
            train, test = load_split(source, args.fold)
            where = f"u{args.fold}.base ({{n:,}} ratings)"
    if len(train) == 0:
        raise ValueError(f"{source}: no ratings could be read (expected lines of user,item,rating)")
    settings = {**DEFAULTS[args.model], **options}
    shown = ", ".join(f"{name} {value}" for name, value in settings.items() if name != "seed")
    print(f"fitting {args.model} on {where.format(n=len(train))}: {shown}", file=out, flush=True)
    model = fit(train, args.model, titles=titles, progress=not args.quiet, out=out, **options)
    print(f"fitted in {model.fit_seconds:.2f} s (CPU); train RMSE {model.history[-1]:.4f}", file=out)
    if test is not None:
        print(f"test on u{args.fold}.test: {model.evaluate(test)}", file=out)
    path = model.save(args.save or default_model_path())
    print(f"model saved to {path}", file=out)
    return 0


def _load(args):
    from .recommender import FactorModel

    path = Path(args.model).expanduser() if args.model else default_model_path()
    if not path.is_file():
        hint = "" if args.model else " --data DIR"
        raise FileNotFoundError(
            f"no model at {path}: train one first with `gradlab recommend train{hint}"
            f"{' --save ' + str(path) if args.model else ''}`"
        )
    return FactorModel.load(path)


def _top(args, out) -> int:
    model = _load(args)
    known = int(model.users.index(args.user)) >= 0
    if known:
        print(f"top {args.n} for user {args.user} ({len(model.rated_by(args.user))} movies rated, left out):", file=out)
    else:
        print(
            f"user {args.user} is not in the training data (cold start): the {args.n} movies with the highest μ + b_i",
            file=out,
        )
    _print_list(model.recommend(args.user, args.n), "predicted", out)
    return 0


def _similar(args, out) -> int:
    model = _load(args)
    title = model.title(args.item)
    if int(model.items.index(args.item)) < 0:
        raise KeyError(f"item {args.item} is not in the model's training data (see u.item for the ids)")
    print(f"because you watched {title or 'item ' + args.item}: (cosine of the item factors)", file=out)
    found = model.similar(args.item, args.n)
    _print_list(found, "cosine", out)
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

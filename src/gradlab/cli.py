"""The `gradlab` command line.

Each sub-command checks its arguments before it starts work (a bad value or an unwritable output file
is refused at once, with that sub-command's usage) and reports a failure as one sentence on stderr
with exit code 2 (a bad input) or 1 (a run that diverged), never as a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import warnings

import numpy as np

from . import __version__
from .argtypes import figure_file, finite, output_file, positive, whole

RACE_OPTIMIZERS = "sgd,momentum,adam"


def build_parser() -> argparse.ArgumentParser:
    """The `gradlab` parser with every sub-command (each sub-parser is kept on args.subparser)."""
    from .apps.attention_cli import add_attention_command
    from .apps.conv_cli import add_conv_command
    from .apps.diffusion_cli import add_diffusion_command
    from .apps.gan_cli import add_gan_command
    from .apps.recommender_cli import add_recommend_command
    from .apps.rl_cli import add_rl_command
    from .apps.tracking_cli import add_track_command
    from .data.cli import add_data_command
    from .derive_cli import add_derive_command
    from .lab import add_lab_command
    from .landscapes import LANDSCAPES
    from .lessons_cli import add_lessons_command

    parser = argparse.ArgumentParser(prog="gradlab", description="Calculus for machine learning, as working software.")
    parser.add_argument("--version", action="version", version=f"gradlab {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="train a small network on built-in data and show what it learned",
        description="A 2-16-16-2 network learns to separate two interleaved moons by full-batch gradient "
        "descent, w <- w - lr * dL/dw, then draws its decision regions in the terminal.",
    )
    demo.add_argument("--epochs", type=whole(1), default=300, help="gradient-descent steps (default 300)")
    demo.add_argument("--lr", type=positive, default=0.5, help="learning rate (default 0.5)")
    demo.add_argument("--seed", type=whole(0), default=0, help="random seed for data and weights (default 0)")

    add_derive_command(commands)

    price = commands.add_parser(
        "price",
        help="the profit-maximising price for a demand model (course project 1)",
        description="Profit(p) = (p - cost) * demand(p) is largest where its derivative is zero: found by "
        "Newton's method or gradient ascent, and checked against the closed form.",
    )
    price.add_argument(
        "--demand",
        choices=["linear", "exponential", "elasticity"],
        default="linear",
        help="demand model: linear a - b·p, exponential a·e^(-b·p), elasticity a·p^(-ε) (default linear)",
    )
    price.add_argument("--a", type=finite, required=True, help="demand scale (linear: sales at price 0); required")
    price.add_argument("--b", type=finite, help="price sensitivity; required for linear and exponential demand")
    price.add_argument("--elasticity", type=finite, help="price elasticity ε > 1; required for elasticity demand")
    price.add_argument("--cost", type=finite, required=True, help="unit cost; required")
    price.add_argument(
        "--method",
        choices=["newton", "gradient"],
        default="newton",
        help="newton (second derivative) or gradient (ascent) (default newton)",
    )

    race = commands.add_parser(
        "race",
        help="several optimizers on a classic landscape: a table and a figure",
        description="Run several optimizers from the same start on a test function with known minima; "
        "print how fast each gets there and draw their paths.",
    )
    race.add_argument("landscape", choices=list(LANDSCAPES), metavar="LANDSCAPE", help=", ".join(LANDSCAPES))
    race.add_argument(
        "--optimizers",
        default=RACE_OPTIMIZERS,
        help=f"comma-separated names (default {RACE_OPTIMIZERS}; also nesterov, adagrad, rmsprop, adamw, amsgrad)",
    )
    race.add_argument("--lr", type=positive, default=1e-3, help="learning rate for all of them (default 1e-3)")
    race.add_argument("--steps", type=whole(1), default=2000, help="steps per optimizer (default 2000, at most 100000)")
    race.add_argument(
        "--start", type=finite, nargs=2, metavar=("X", "Y"), help="start point (default: the landscape's own)"
    )
    race.add_argument(
        "--figure",
        type=figure_file,
        default="race.png",
        help="where to write the figure (default race.png; 'none' to skip)",
    )

    train = commands.add_parser(
        "train",
        help="train a network on a real data set (MNIST)",
        description="Train an MLP or a CNN on the 60,000 MNIST training images with Adam and report the "
        "accuracy on the 10,000 test images. Get the data first with `gradlab data download mnist`.",
    )
    train.add_argument("dataset", choices=["mnist"], help="the data set (mnist)")
    train.add_argument(
        "--model", choices=["mlp", "cnn"], default="mlp", help="mlp (784-512-512-10) or cnn (default mlp)"
    )
    train.add_argument("--epochs", type=whole(1), default=5, help="passes over the training images (default 5)")
    train.add_argument("--batch-size", type=whole(1), default=128, help="images per gradient step (default 128)")
    train.add_argument("--lr", type=positive, default=1e-3, help="Adam's learning rate (default 1e-3)")
    train.add_argument(
        "--data",
        help="folder with the four MNIST .gz files (default $GRADLAB_DATA, else the cache that "
        "`gradlab data download mnist` fills)",
    )
    train.add_argument("--limit", type=whole(1), help="train on the first N images only (default: all 60,000)")
    train.add_argument("--save", type=output_file, help="write the trained weights to this .npz file (default: none)")
    train.add_argument(
        "--no-compile",
        dest="compile",
        action="store_false",
        help="run every step eagerly instead of replaying it through gl.compile (default: compiled)",
    )

    for add in (
        add_attention_command,
        add_conv_command,
        add_diffusion_command,
        add_gan_command,
        add_recommend_command,
        add_rl_command,
        add_track_command,
        add_data_command,
        add_lab_command,
        add_lessons_command,
    ):
        add(commands)
    for name, subparser in commands.choices.items():
        subparser.set_defaults(subparser=subparser)
        if name == "race":
            subparser.epilog = "the run is refused before it starts if --figure cannot be written"
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with blas_threads_for(args.command):
            return _dispatch(parser, args)
    except KeyboardInterrupt:
        print(f"\ngradlab {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`gradlab ... | head`): stop quietly, as Unix tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _dispatch(parser, args) -> int:
    if args.command == "lab":
        from .lab import run as run_lab

        return run_lab(args)
    if args.command == "lessons":
        from .lessons_cli import run as run_lessons

        return run_lessons(args)
    if args.command == "attention":
        from .apps.attention_cli import run as run_attention

        return run_attention(args)
    if args.command == "diffusion":
        from .apps.diffusion_cli import run as run_diffusion

        return run_diffusion(args)
    if args.command == "gan":
        from .apps.gan_cli import run as run_gan

        return run_gan(args)
    if args.command == "conv":
        from .apps.conv_cli import run as run_conv

        return run_conv(args)
    if args.command == "recommend":
        from .apps.recommender_cli import run as run_recommend

        return run_recommend(args)
    if args.command == "rl":
        from .apps.rl_cli import run as run_rl

        return run_rl(args)
    if args.command == "track":
        from .apps.tracking_cli import run as run_track

        return run_track(args)
    if args.command == "data":
        from .data.cli import run as run_data

        return run_data(args)
    if args.command == "derive":
        from .derive_cli import run as run_derive

        return run_derive(args)
    if args.command == "train":
        return _train(args)
    if args.command == "race":
        with quiet_numerics():  # a diverging run is reported in the table, not as warnings
            return _race(args)
    if args.command == "demo":
        from .demo import run

        result = run(epochs=args.epochs, lr=args.lr, seed=args.seed)
        return 1 if result.diverged else 0
    if args.command == "price":
        return _price(args)
    parser.print_help()
    return 0


# Small-matrix training runs far faster with BLAS on one thread: on the 2-core machine 400 GAN steps took
# 17-32 s with BLAS's threads and about 1 s with one (threads spend longer handing tiny products over than
# multiplying). The commands that train big matrices (train mnist) keep BLAS's own choice.
SMALL_MATRIX_COMMANDS = frozenset({"attention", "demo", "diffusion", "gan", "rl"})


@contextlib.contextmanager
def blas_threads_for(command):
    """One BLAS thread while a small-matrix command runs (see SMALL_MATRIX_COMMANDS); otherwise no change."""
    if command not in SMALL_MATRIX_COMMANDS:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


@contextlib.contextmanager
def quiet_numerics():
    """Silence NumPy's overflow/invalid warnings: the commands report a diverging or undefined result
    themselves, in a sentence, instead of a warning that points into gradlab's source."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def plural(count: int, noun: str) -> str:
    """'1 step', '2 steps', '0 steps'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _price(args) -> int:
    import math

    from .apps.pricing import (
        ConstantElasticityDemand,
        ExponentialDemand,
        LinearDemand,
        NoInteriorMaximum,
        optimal_price,
    )

    if args.demand == "elasticity":
        if args.elasticity is None:
            args.subparser.error("--demand elasticity needs --elasticity")
        make = lambda: ConstantElasticityDemand(args.a, args.elasticity)  # noqa: E731
    else:
        if args.b is None:
            args.subparser.error(f"--demand {args.demand} needs --b")
        make = lambda: (LinearDemand if args.demand == "linear" else ExponentialDemand)(args.a, args.b)  # noqa: E731
    try:
        demand = make()
        with quiet_numerics():
            result = optimal_price(demand, args.cost, method=args.method)
            sold = float(getattr(demand(result.price), "data", demand(result.price)))
    except (NoInteriorMaximum, ValueError) as error:
        print(f"gradlab price: {error}", file=sys.stderr)
        return 2
    if not all(math.isfinite(v) for v in (result.price, result.profit, sold)):
        print(
            f"gradlab price: the numbers overflow (best price {result.price:g}, profit {result.profit:g}): "
            "choose --a, --b and --cost of ordinary sizes",
            file=sys.stderr,
        )
        return 2
    print(f"demand: {demand}")
    print(f"unit cost: {args.cost:g}")
    print(f"best price: {result.price:.6g}  (closed form {result.closed_form:.6g})")
    print(f"units sold: {sold:.6g}")
    print(f"profit: {result.profit:.6g}")
    print(f"found by {result.method} in {plural(result.steps, 'step')}")
    return 0


def _train(args) -> int:
    from .apps.mnist import train_mnist

    try:
        result = train_mnist(
            args.model,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            data_dir=args.data,
            limit=args.limit,
            save=args.save,
            compile=args.compile,
        )
    except (FileNotFoundError, ValueError) as error:
        print(f"gradlab train: {error}", file=sys.stderr)
        return 2
    except FloatingPointError as error:
        print(f"gradlab train: diverged: {error} (now --lr {args.lr:g})", file=sys.stderr)
        return 1
    chance = math.log(10)  # the cross-entropy of guessing uniformly among the 10 digits
    if not math.isfinite(result.test_loss) or result.test_loss > 3 * chance:
        saved = f"; the weights were still written to {result.saved_to}" if result.saved_to is not None else ""
        print(
            f"gradlab train: diverged: the test loss is {result.test_loss:.4g}, far above guessing's {chance:.2f} "
            f"(accuracy {result.test_accuracy:.1%}): try a smaller --lr than {args.lr:g}, e.g. {args.lr / 10:g}{saved}",
            file=sys.stderr,
        )
        return 1
    print(
        f"{args.model}: test accuracy {result.test_accuracy:.2%} (loss {result.test_loss:.4f}) on the official "
        f"10,000 test images; {result.seconds_per_epoch:.1f} s per epoch"
    )
    history = result.history
    if history.compiled:
        print(f"the step ran through gl.compile ({plural(history.traces, 'trace')}: one per batch shape)")
    else:
        print(f"the step ran eagerly ({history.compile_note})")
    if result.saved_to is not None:
        print(f"weights saved to {result.saved_to}")
    return 0


def _race(args) -> int:
    from .optim import race
    from .optim.minimize import OPTIMIZERS

    if args.steps > 100_000:
        args.subparser.error("--steps is limited to 100000")
    names = [n.strip() for n in args.optimizers.split(",") if n.strip()]
    if not names:
        args.subparser.error("--optimizers needs at least one name, e.g. sgd,adam")
    unknown = [n for n in names if n.lower() not in OPTIMIZERS]
    if unknown:  # checked before any optimizer runs, not after the first one has finished
        args.subparser.error(f"unknown optimizer {unknown[0]!r} in --optimizers; choose from {', '.join(OPTIMIZERS)}")
    try:
        result = race(args.landscape, {n: {"lr": args.lr} for n in names}, start=args.start, steps=args.steps)
    except ValueError as error:
        args.subparser.error(str(error))
    print(result.table())
    diverged = [name for name, run in result.runs.items() if run.diverged]
    if diverged:
        print(
            f"{', '.join(diverged)} diverged: each step overshot the valley. Try a smaller --lr "
            f"(now {args.lr:g}), e.g. --lr {args.lr / 10:g}."
        )
    if args.figure.lower() != "none":
        try:
            result.figure(args.figure)
        except OSError as error:
            print(f"gradlab race: could not write {args.figure}: {error.strerror or error}", file=sys.stderr)
            return 2
        print(f"figure written to {args.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

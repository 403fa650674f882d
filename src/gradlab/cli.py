"""The `gradlab` command line."""

from __future__ import annotations

import argparse

from . import __version__
from .argtypes import positive, whole


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gradlab", description="Calculus for machine learning, as working software.")
    parser.add_argument("--version", action="version", version=f"gradlab {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="train a small network on built-in data and show what it learned")
    demo.add_argument("--epochs", type=whole(1), default=300, help="gradient-descent steps (default 300)")
    demo.add_argument("--lr", type=positive, default=0.5, help="learning rate (default 0.5)")
    demo.add_argument("--seed", type=int, default=0, help="random seed for data and weights")
    price = commands.add_parser("price", help="the profit-maximising price for a demand model")
    price.add_argument("--demand", choices=["linear", "exponential", "elasticity"], default="linear")
    price.add_argument("--a", type=float, required=True, help="demand scale (linear: sales at price 0)")
    price.add_argument("--b", type=float, help="price sensitivity (linear, exponential)")
    price.add_argument("--elasticity", type=float, help="price elasticity (constant-elasticity demand, > 1)")
    price.add_argument("--cost", type=float, required=True, help="unit cost")
    price.add_argument("--method", choices=["newton", "gradient"], default="newton")
    race = commands.add_parser("race", help="several optimizers on a classic landscape: a table and a figure")
    race.add_argument(
        "landscape",
        help="rosenbrock, beale, himmelblau, booth, matyas, six_hump_camel, rastrigin, "
        "saddle, plateau_cliff or quadratic",
    )
    race.add_argument(
        "--optimizers", default="sgd,momentum,adam", help="comma-separated names (default sgd,momentum,adam)"
    )
    race.add_argument("--lr", type=positive, default=1e-3, help="learning rate for all of them (default 1e-3)")
    race.add_argument("--steps", type=whole(1), default=2000, help="steps per optimizer (default 2000, at most 100000)")
    race.add_argument("--start", type=float, nargs=2, metavar=("X", "Y"), help="start point (default: the landscape's)")
    race.add_argument(
        "--figure", default="race.png", help="where to write the figure (default race.png; 'none' to skip)"
    )
    train = commands.add_parser("train", help="train a network on a real data set (MNIST)")
    train.add_argument("dataset", choices=["mnist"])
    train.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    train.add_argument("--epochs", type=whole(1), default=5)
    train.add_argument("--batch-size", type=whole(1), default=128)
    train.add_argument("--lr", type=positive, default=1e-3)
    train.add_argument("--data", help="folder with the four MNIST .gz files (default: $GRADLAB_DATA or the cache)")
    train.add_argument("--limit", type=whole(1), help="train on the first N images only")
    train.add_argument("--save", help="write the trained weights to this .npz file")
    from .apps.recommender_cli import add_recommend_command
    from .data.cli import add_data_command
    from .derive_cli import add_derive_command
    from .lab import add_lab_command

    add_derive_command(commands)
    add_recommend_command(commands)
    add_data_command(commands)
    add_lab_command(commands)
    args = parser.parse_args(argv)
    if args.command == "lab":
        from .lab import run as run_lab

        return run_lab(args)
    if args.command == "recommend":
        from .apps.recommender_cli import run as run_recommend

        return run_recommend(args)
    if args.command == "train":
        return _train(args)
    if args.command == "race":
        return _race(parser, args)
    if args.command == "demo":
        from .demo import run

        run(epochs=args.epochs, lr=args.lr, seed=args.seed)
        return 0
    if args.command == "derive":
        from .derive_cli import run as run_derive

        return run_derive(args)
    if args.command == "data":
        from .data.cli import run as run_data

        return run_data(args)
    if args.command == "price":
        return _price(parser, args)
    parser.print_help()
    return 0


def _price(parser, args) -> int:
    import sys

    from .apps.pricing import (
        ConstantElasticityDemand,
        ExponentialDemand,
        LinearDemand,
        NoInteriorMaximum,
        optimal_price,
    )

    if args.demand == "elasticity":
        if args.elasticity is None:
            parser.error("--demand elasticity needs --elasticity")
        demand = ConstantElasticityDemand(args.a, args.elasticity)
    else:
        if args.b is None:
            parser.error(f"--demand {args.demand} needs --b")
        demand = (LinearDemand if args.demand == "linear" else ExponentialDemand)(args.a, args.b)
    try:
        result = optimal_price(demand, args.cost, method=args.method)
    except NoInteriorMaximum as error:
        print(f"gradlab price: {error}", file=sys.stderr)
        return 2
    print(f"demand: {demand}")
    print(f"unit cost: {args.cost:g}")
    print(f"best price: {result.price:.6g}  (closed form {result.closed_form:.6g})")
    print(f"units sold: {float(getattr(demand(result.price), 'data', demand(result.price))):.6g}")
    print(f"profit: {result.profit:.6g}")
    print(f"found by {result.method} in {result.steps} steps")
    return 0


def _train(args) -> int:
    import sys

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
        )
    except (FileNotFoundError, ValueError) as error:
        print(f"gradlab train: {error}", file=sys.stderr)
        return 2
    print(
        f"{args.model}: test accuracy {result.test_accuracy:.2%} (loss {result.test_loss:.4f}) on the official "
        f"10,000 test images; {result.seconds_per_epoch:.1f} s per epoch"
    )
    if args.save:
        print(f"weights saved to {args.save}")
    return 0


def _race(parser, args) -> int:
    from .landscapes import get_landscape
    from .optim import race

    if args.steps > 100_000:
        parser.error("--steps is limited to 100000")
    try:
        landscape = get_landscape(args.landscape)
    except ValueError as error:
        parser.error(str(error))
    names = [n.strip() for n in args.optimizers.split(",") if n.strip()]
    try:
        result = race(landscape, {n: {"lr": args.lr} for n in names}, start=args.start, steps=args.steps)
    except ValueError as error:
        parser.error(str(error))
    print(result.table())
    if args.figure.lower() != "none":
        result.figure(args.figure)
        print(f"figure written to {args.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The `gradlab` command line."""

from __future__ import annotations

import argparse

from . import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gradlab", description="Calculus for machine learning, as working software.")
    parser.add_argument("--version", action="version", version=f"gradlab {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="train a small network on built-in data and show what it learned")
    demo.add_argument("--epochs", type=_positive_int, default=300, help="gradient-descent steps (default 300)")
    demo.add_argument("--lr", type=_positive_float, default=0.5, help="learning rate (default 0.5)")
    demo.add_argument("--seed", type=int, default=0, help="random seed for data and weights")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run

        run(epochs=args.epochs, lr=args.lr, seed=args.seed)
        return 0
    parser.print_help()
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


if __name__ == "__main__":
    raise SystemExit(main())

"""`gradlab attention`: why attention divides by √d_k, measured.

    gradlab attention [--d-k 4 16 64 256 1024 4096] [--keys 64] [--draws 200] [--seed 0]
                      [--figure attention.png | none] [--train]

Prints, for each d_k, the medians over random draws of q, k ~ N(0, 1) of the scores' spread, the softmax's
entropy / ln n, its largest weight and ‖J‖_F (J = diag(s) − s sᵀ), unscaled and scaled by 1/√d_k, and
draws them. --train also trains key–value retrieval at d_k = 512 both ways (a few seconds).

To wire it into a parser: add_attention_command(subparsers), then `if args.command == "attention": return run(args)`.
"""

from __future__ import annotations

import argparse
import sys

from ..argtypes import figure_file, whole

__all__ = ["add_attention_command", "run"]

MAX_DRAWS = 100_000
MAX_D_K = 65_536


def add_attention_command(subparsers) -> argparse.ArgumentParser:
    """Add the `attention` command to an argparse sub-parser collection."""
    from .attention import D_KS

    command = subparsers.add_parser(
        "attention",
        help="the 1/√d_k experiment: softmax saturation and its Jacobian, unscaled vs scaled",
        description=__doc__.split("\n\n")[0],
    )
    command.add_argument(
        "--d-k",
        type=whole(1),
        nargs="+",
        default=list(D_KS),
        metavar="D",
        help=f"key widths to measure (default {' '.join(map(str, D_KS))}; at most {MAX_D_K})",
    )
    command.add_argument("--keys", type=whole(2), default=64, help="keys per query, n (default 64)")
    command.add_argument(
        "--draws", type=whole(1), default=200, help=f"random draws per d_k (default 200, at most {MAX_DRAWS})"
    )
    command.add_argument("--seed", type=whole(0), default=0, help="random seed (default 0)")
    command.add_argument(
        "--figure",
        type=figure_file,
        default="attention.png",
        help="where to write the figure (default attention.png; 'none' to skip)",
    )
    command.add_argument(
        "--train", action="store_true", help="also train key–value retrieval at d_k = 512 with and without 1/√d_k"
    )
    return command


def run(args, out=None) -> int:
    """Execute a parsed `attention` command; 0 on success, 2 on a user error (message on stderr)."""
    out = sys.stdout if out is None else out
    if args.draws > MAX_DRAWS:
        print(f"gradlab attention: --draws must be at most {MAX_DRAWS:,}, got {args.draws:,}", file=sys.stderr)
        return 2
    if max(args.d_k) > MAX_D_K:
        print(f"gradlab attention: --d-k must be at most {MAX_D_K:,}, got {max(args.d_k):,}", file=sys.stderr)
        return 2
    from .attention import format_table, plot_scaling, scaling_experiment, train_retrieval

    rows = scaling_experiment(sorted(set(args.d_k)), keys=args.keys, draws=args.draws, seed=args.seed)
    print(format_table(rows, keys=args.keys, draws=args.draws), file=out)
    if args.figure != "none":
        plot_scaling(rows, args.figure, keys=args.keys)
        print(f"figure written to {args.figure}", file=out)
    if args.train:
        print("key–value retrieval, d_k = 512, 32 pairs, 8 values (chance 12.5 %), 150 SGD steps:", file=out)
        for scale, label in ((True, "scaled by 1/√d_k"), (False, "unscaled")):
            result = train_retrieval(scale=scale, seed=args.seed)
            print(
                f"  {label:>17}: test accuracy {result['accuracy']:6.1%}, final loss {result['losses'][-1]:.3g}, "
                f"{result['seconds']:.1f} s",
                file=out,
            )
    return 0

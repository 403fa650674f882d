"""`gradlab diffusion`: train a diffusion model (DDPM) on 2-D points and measure how close its samples come.

    gradlab diffusion moons|swissroll|FILE.csv [--steps 6000] [--width 128] [--lr 5e-3] [--batch 512]
                      [--eval 1000] [--seed 0] [--samples diffusion_samples.csv] [--figure diffusion.png | none]

Prints the exact 2-Wasserstein distance and the RBF-kernel MMD between generated and held-out points, beside
their floor (a second data sample against the same held-out one) and a Gaussian with the data's mean and
covariance; writes the generated points as an x,y CSV and a figure of the samples and the learned score field.
A FILE is read as one `x,y` a line (a header line is allowed) and used as it is, unscaled.

To wire it into a parser: add_diffusion_command(subparsers), then `if args.command == "diffusion": return run(args)`.
"""

from __future__ import annotations

import argparse
import sys

from ..argtypes import figure_file, output_file, positive, whole

__all__ = ["add_diffusion_command", "run"]

MAX_STEPS = 200_000
MAX_EVAL = 5000


def add_diffusion_command(subparsers) -> argparse.ArgumentParser:
    """Add the `diffusion` command to an argparse sub-parser collection."""
    command = subparsers.add_parser(
        "diffusion",
        help="a diffusion model (DDPM) on 2-D data: W2 and MMD against their floors, and the score field",
        description=__doc__.split("\n\n")[0],
    )
    command.add_argument("data", metavar="DATA", help="moons, swissroll, or an x,y CSV file")
    command.add_argument(
        "--steps", type=whole(1), default=6000, help=f"Adam steps (default 6000, at most {MAX_STEPS:,})"
    )
    command.add_argument("--width", type=whole(2), default=128, help="hidden units per layer (default 128)")
    command.add_argument("--lr", type=positive, default=5e-3, help="Adam's learning rate at the start (default 5e-3)")
    command.add_argument("--batch", type=whole(1), default=512, help="points per step (default 512)")
    command.add_argument(
        "--eval",
        type=whole(10),
        default=1000,
        help=f"generated and held-out points to compare (default 1000, at most {MAX_EVAL})",
    )
    command.add_argument("--seed", type=whole(0), default=0, help="random seed (default 0)")
    command.add_argument(
        "--samples",
        type=output_file,
        default="diffusion_samples.csv",
        help="where to write the generated points (default diffusion_samples.csv)",
    )
    command.add_argument(
        "--figure",
        type=figure_file,
        default="diffusion.png",
        help="samples and the score field (default diffusion.png; 'none' to skip)",
    )
    return command


def run(args, out=None) -> int:
    """Execute a parsed `diffusion` command; 0 on success, 2 on a user error, 1 if training diverged."""
    out = sys.stdout if out is None else out
    from ..data import read_points
    from . import diffusion

    try:
        if args.steps > MAX_STEPS:
            raise ValueError(f"--steps must be at most {MAX_STEPS:,}, got {args.steps:,}")
        if args.eval > MAX_EVAL:
            raise ValueError(f"--eval must be at most {MAX_EVAL:,}, got {args.eval:,} (W2 solves an n × n assignment)")
        points = None if args.data in diffusion.DATA else read_points(args.data, min_points=10)
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        print(f"gradlab diffusion: cannot read {args.data}: {reason}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"gradlab diffusion: {error}", file=sys.stderr)
        return 2
    options = {"steps": args.steps, "seed": args.seed, "width": args.width, "lr": args.lr, "batch": args.batch}
    try:
        result = diffusion.evaluate(args.data, n_eval=args.eval, points=points, **options)
    except FloatingPointError as error:
        print(f"gradlab diffusion: {error}: lower --lr", file=sys.stderr)
        return 1
    print(diffusion.format_metrics(result), file=out)
    diffusion.write_samples(result["samples"], args.samples)
    print(f"samples written to {args.samples}", file=out)
    if args.figure != "none":
        diffusion.plot_score(result, args.figure)
        print(f"figure (samples and the score field) written to {args.figure}", file=out)
    return 0

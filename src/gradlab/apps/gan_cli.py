"""`gradlab gan`: train a GAN on 2-D data, print how many modes it covers, draw its samples over the data.

    gradlab gan ring|grid|FILE.csv [--pack M] [--steps N] [--lr LR] [--seed S] [--figure gan.png | none]

ring and grid are the VEEGAN/PacGAN mixtures (8 Gaussians on a circle, 25 on a 5 × 5 grid); FILE.csv is any
2-D point cloud, one `x,y` row per point. For the mixtures the metrics are the papers' (modes covered, % of
high-quality samples within 3σ of a mode); for a file, the same ideas against the data points themselves.

To wire it into a parser: add_gan_command(subparsers), then `if args.command == "gan": return run(args)`.
"""

from __future__ import annotations

import argparse
import sys

from ..argtypes import figure_file, positive, whole

__all__ = ["add_gan_command", "run"]


def add_gan_command(subparsers) -> argparse.ArgumentParser:
    """Add the `gan` command to an argparse sub-parser collection."""
    command = subparsers.add_parser(
        "gan",
        help="train a GAN on 2-D data and count the modes it covers",
        description="Train a generator against a discriminator (the minimax game, non-saturating generator "
        "loss) on the ring of 8 Gaussians, the grid of 25, or a CSV of x,y rows; print the modes covered and "
        "the share of high-quality samples, and draw 2,500 samples over the data.",
    )
    command.add_argument("data", metavar="DATA", help="ring, grid, or a CSV file of x,y rows")
    command.add_argument(
        "--pack",
        type=whole(1),
        default=2,
        help="points per discriminator input (PacGAN's m; 1 is the vanilla GAN; default 2)",
    )
    command.add_argument(
        "--steps", type=whole(1), help="training steps (default 5000 for the ring, 20000 for the grid and files)"
    )
    command.add_argument("--lr", type=positive, default=1e-3, help="Adam's starting learning rate (default 1e-3)")
    command.add_argument("--hidden", type=whole(2), default=128, help="width of the hidden layers (default 128)")
    command.add_argument("--seed", type=whole(0), default=0, help="random seed (default 0)")
    command.add_argument(
        "--figure",
        type=figure_file,
        default="gan.png",
        help="where to draw the samples over the data (default gan.png; 'none' to skip)",
    )
    return command


def run(args, out=None) -> int:
    """Execute a parsed `gan` command; 0 on success, 2 on a bad data file."""
    import numpy as np

    from ..data import read_points
    from . import gan

    out = sys.stdout if out is None else out
    mixture = gan.MIXTURES.get(args.data)
    if mixture is None:
        try:
            points = read_points(args.data, min_points=2)  # cloud_metrics needs a nearest neighbour
        except OSError as error:
            reason = (error.strerror or str(error)).lower()
            print(f"gradlab gan: cannot read {args.data}: {reason}", file=sys.stderr)
            return 2
        except ValueError as error:
            print(f"gradlab gan: {error}", file=sys.stderr)
            return 2
        data, name = points, f"{args.data} ({len(points)} points)"
    else:
        data, name = mixture, f"{mixture.name} of {len(mixture.centres)} Gaussians (σ = {mixture.sigma})"
    kind = "vanilla GAN" if args.pack == 1 else f"packed, m = {args.pack}"
    steps = args.steps or (5000 if args.data == "ring" else 20000)
    print(f"{name}; {kind}; {steps} steps", file=out)
    # the learning rate falls to 1/100 of itself, as in benchmarks/gan.py (5 seeds: 25/25 grid modes, 91 %)
    run_ = gan.train(data, m=args.pack, steps=steps, lr=args.lr, lr_end=0.01, seed=args.seed, hidden=args.hidden)
    samples = run_.sample(2500, seed=args.seed + 1)
    print(f"trained in {run_.seconds:.1f} s; final V = {run_.history[-1][1]:.3f} (chance: −2 ln 2 = −1.386)", file=out)
    if not np.all(np.isfinite(samples)):
        print("gradlab gan: the generator's samples are not finite; try a smaller --lr", file=sys.stderr)
        return 1
    if mixture is not None:
        m = gan.mode_metrics(samples, mixture)
        quality = 100 * m["high_quality"]
        print(f"modes covered: {m['modes']}/{m['of']}; high quality (within 3σ): {quality:.1f} %", file=out)
        shown, centres = mixture.sample(2500, args.seed + 2), mixture.centres
    else:
        m = gan.cloud_metrics(samples, points)
        print(
            f"coverage: {100 * m['coverage']:.1f} % of data points have a sample within r = {m['radius']:.3g}; "
            f"high quality: {100 * m['high_quality']:.1f} % of samples lie within r of a data point",
            file=out,
        )
        shown, centres = points, None
    if args.figure != "none":
        gan.plot_samples(samples, shown, args.figure, title=f"{args.data}: {kind}", centres=centres)
        print(f"figure written to {args.figure}", file=out)
    return 0

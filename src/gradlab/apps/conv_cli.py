"""`gradlab conv`: the gradient of a convolution is another convolution — checked against the engine, and drawn.

    gradlab conv [--digit INDEX] [--figure conv.png] [--data DIR] [--model cnn.npz] [--seed S]

Prints, for a few (batch, channels, kernel, stride, padding) configurations, the largest difference between
the identities ∂L/∂W = correlate(X, dilate(∂L/∂Y)) and ∂L/∂X = convolve(dilate(∂L/∂Y), W, "full") and the
engine's conv2d gradients. Then draws X (an MNIST training digit), W (a first-layer filter of gradlab's CNN,
trained for one short pass over 600 digits, or loaded with --model), ∂L/∂Y for L = ½‖Y‖², ∂L/∂W and ∂L/∂X,
for stride 1 and for stride 2. Without MNIST, a hand-drawn 28×28 "3" and a fixed edge filter stand in (the
output says so).

To wire it into a parser: add_conv_command(subparsers), then `if args.command == "conv": return run(args)`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..argtypes import figure_file, whole

__all__ = ["CONFIGURATIONS", "add_conv_command", "builtin_digit", "edge_filter", "run"]

# (batch N, channels in C, filters O, H, W, kh, kw, stride, padding): stride 1–3, padding 0–2, non-square kernels,
# and sizes where (H + 2p − kh) is not a multiple of the stride (the crop).
CONFIGURATIONS = [
    (1, 1, 1, 28, 28, 5, 5, 1, 2),
    (2, 3, 2, 9, 8, 3, 2, 1, 0),
    (2, 2, 3, 9, 9, 3, 3, 2, 1),
    (1, 3, 2, 10, 9, 4, 3, 2, 0),
    (2, 1, 3, 11, 10, 3, 5, 3, 2),
]
TRAIN_IMAGES = 600


def add_conv_command(subparsers) -> argparse.ArgumentParser:
    """Add the `conv` command to an argparse sub-parser collection."""
    conv = subparsers.add_parser(
        "conv",
        help="convolution backprop as cross-correlation: the identities against the engine, and a figure",
        description=__doc__.split("\n\n")[0],
    )
    conv.add_argument("--digit", type=whole(0), default=0, help="which MNIST training image to draw (default 0)")
    conv.add_argument(
        "--figure", type=figure_file, default="conv.png", help="where to write the figure (default conv.png; 'none')"
    )
    conv.add_argument(
        "--data",
        help="folder with the MNIST .gz files (default $GRADLAB_DATA, else the `gradlab data download mnist` cache)",
    )
    conv.add_argument(
        "--model", help="a CNN saved by `gradlab train mnist --model cnn --save F` (default: train briefly)"
    )
    conv.add_argument("--seed", type=whole(0), default=0, help="seed of the random test cases and of training")
    return conv


def run(args, out=None) -> int:
    """Execute a parsed `conv` command; 0 on success, 1 if an identity misses 1e-12, 2 on a user error."""
    out = sys.stdout if out is None else out
    problem = _input_problem(args)
    if problem:  # said before the table, not after it
        print(f"gradlab conv: {problem}", file=sys.stderr)
        return 2
    try:
        worst = _table(args.seed, out)
        if args.figure != "none":
            x, w, notes = _digit_and_filter(args, out)
            for note in notes:
                print(note, file=out)
            draw(x, w, args.figure)
            print(f"figure: {args.figure}", file=out)
    except (FileNotFoundError, ValueError, IndexError) as error:
        print(f"gradlab conv: {error}", file=sys.stderr)
        return 2
    return 0 if worst <= 1e-12 else 1


def _input_problem(args) -> str | None:
    """What is wrong with --data, --model or --digit that can be seen without reading MNIST, or None."""
    if args.figure == "none":
        return None
    if args.data is not None and not Path(args.data).expanduser().is_dir():
        return f"--data {args.data}: no such folder"
    if args.model is not None and not Path(args.model).expanduser().is_file():
        return f"{args.model}: no such file"
    if args.digit >= 60_000:
        return f"--digit {args.digit}: the training set has only 60000 images (0–59999)"
    return None


def _table(seed: int, out) -> float:
    from .conv_gradient import identity_errors, output_size

    rng = np.random.default_rng(seed)
    print("max |identity − engine| (float64; L = Σ Y·G with a random G = ∂L/∂Y)", file=out)
    print(f"{'x (N,C,H,W)':>15} {'w (O,C,kh,kw)':>15} {'stride':>6} {'pad':>3} {'∂L/∂W':>9} {'∂L/∂X':>9}", file=out)
    worst = 0.0
    for n, c, o, h, wd, kh, kw, s, p in CONFIGURATIONS:
        x, w = rng.standard_normal((n, c, h, wd)), rng.standard_normal((o, c, kh, kw))
        g = rng.standard_normal((n, o, output_size(h, kh, s, p), output_size(wd, kw, s, p)))
        dw, dx = identity_errors(x, w, g, s, p)
        worst = max(worst, dw, dx)
        shapes = f"{(n, c, h, wd)!s:>15} {(o, c, kh, kw)!s:>15}"
        print(f"{shapes} {s:>6} {p:>3} {dw:9.1e} {dx:9.1e}", file=out)
    print(f"largest difference {worst:.1e} ({'within' if worst <= 1e-12 else 'NOT within'} 1e-12)", file=out)
    return worst


def builtin_digit() -> np.ndarray:
    """A hand-drawn 28×28 "3" in [0, 1] (two arcs of thick strokes), for when MNIST is not on disk."""
    rows, cols = np.mgrid[0:28, 0:28].astype(float)
    image = np.zeros((28, 28))
    for centre in (9.0, 18.5):  # the upper and the lower bowl of the 3, open to the left
        radius = np.hypot(rows - centre, cols - 13.5)
        ring = np.exp(-(((radius - 5.0) / 1.3) ** 2))
        open_left = np.abs(np.arctan2(rows - centre, cols - 13.5)) < 2.3  # drop the arc's left quarter
        image = np.maximum(image, ring * open_left)
    return image / image.max()


def edge_filter() -> np.ndarray:
    """A fixed 5×5 vertical-edge filter (dark on the left, bright on the right), for when no CNN can be trained."""
    return np.outer([1.0, 2.0, 3.0, 2.0, 1.0], [-1.0, -2.0, 0.0, 2.0, 1.0]) / 18.0


def _digit_and_filter(args, out):
    """(X 28×28, W 5×5, notes saying where each came from)."""
    from ..data import load_mnist
    from .mnist import cnn

    notes = []
    try:
        images, labels = load_mnist(args.data, limit=max(args.digit + 1, TRAIN_IMAGES))
    except FileNotFoundError:
        if args.data is not None:
            raise
        images = labels = None
    if images is None:
        x = builtin_digit()
        notes.append("X: MNIST not found (run `gradlab data download mnist`): a hand-drawn 28×28 '3' instead")
    elif args.digit >= len(images):
        raise IndexError(f"--digit {args.digit}: the training set has only {len(images)} images (0–{len(images) - 1})")
    else:
        x = images[args.digit, 0].astype(float)
        notes.append(f"X: MNIST training image {args.digit} (a {labels[args.digit]})")

    if args.model is not None:
        network = cnn(args.seed).load(Path(args.model).expanduser())
        w, how = _most_trained(network, None), f"loaded from {args.model}"
    elif images is not None:
        network, start = _train_briefly(images, labels, args.seed)
        w, how = _most_trained(network, start), f"trained for one pass over {len(images[:TRAIN_IMAGES])} digits"
    else:
        w, how = edge_filter(), "no data to learn from: a fixed vertical-edge filter"
    notes.append(f"W: {how}")
    return x, w, notes


def _train_briefly(images, labels, seed):
    from .. import nn, optim
    from .mnist import cnn

    network = cnn(seed)
    start = network[0].weight.numpy().copy()
    optimizer = optim.Adam(network.parameters(), lr=2e-3)
    data = (images[:TRAIN_IMAGES], labels[:TRAIN_IMAGES])
    nn.fit(network, nn.CrossEntropyLoss(), optimizer, data, epochs=1, batch_size=50, seed=seed, verbose=False)
    return network, start


def _most_trained(network, start):
    """The first-layer filter that training moved furthest (from its start, or from 0 for a loaded model)."""
    weights = network[0].weight.numpy().astype(float)[:, 0]
    moved = weights - (0 if start is None else start[:, 0])
    return weights[int(np.argmax(np.abs(moved).sum(axis=(1, 2))))]


def draw(x, w, path):
    """Two rows (stride 1, stride 2; padding 2) of X, W, ∂L/∂Y, ∂L/∂W, ∂L/∂X for L = ½‖Y‖², Y = conv2d(X, W)."""
    from ..autodiff import Tensor, conv2d
    from ..plotting import finish, new_figure
    from .conv_gradient import conv_input_gradient, conv_weight_gradient, dilate

    x4, w4 = x[None, None], w[None, None]
    figure, axes = new_figure(path, nrows=2, ncols=5, figsize=(13, 6.4))
    for row, stride in zip(axes, (1, 2)):
        y = conv2d(Tensor(x4), Tensor(w4), stride=stride, padding=2).numpy()
        grad_y = y  # L = ½‖Y‖²  ⇒  ∂L/∂Y = Y
        grad_w = conv_weight_gradient(x4, grad_y, stride, 2, kernel_size=w.shape)
        grad_x = conv_input_gradient(grad_y, w4, x4.shape, stride, 2)
        shown_g = grad_y[0, 0] if stride == 1 else dilate(grad_y, stride)[0, 0]
        panels = [
            ("X (input)", x, "gray"),
            ("W (filter)", w, "RdBu_r"),
            ("∂L/∂Y = Y" if stride == 1 else "dilate(∂L/∂Y, 2)", shown_g, "RdBu_r"),
            ("∂L/∂W = corr(X_pad, G)", grad_w[0, 0], "RdBu_r"),
            ("∂L/∂X = conv(G, W, full)", grad_x[0, 0], "RdBu_r"),
        ]
        for ax, (title, image, cmap) in zip(row, panels):
            limit = np.abs(image).max() or 1.0
            low = 0 if cmap == "gray" else -limit
            ax.imshow(image, cmap=cmap, vmin=low, vmax=limit)
            ax.set_title(title, fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(f"stride {stride}, padding 2", fontsize=10)
    figure.suptitle("L = ½‖Y‖², Y = correlate(X, W): the gradients are a correlation and a full convolution")
    return finish(figure, path)

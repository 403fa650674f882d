"""A first look at gradlab: a small network learns to separate two interleaved moons.

Everything here is built from the engine's public API: Tensors that require gradients,
ops that record a tape, backward() for the chain rule, and plain gradient descent
    w <- w - lr * dL/dw.
The data is generated on the spot (no downloads).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

import numpy as np

import gradlab as gl
from gradlab.data.toy import make_moons


def two_moons(n: int = 400, noise: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The demo's data: gradlab.data.make_moons with 400 points and noise 0.15 (two interleaved half
    circles, labels 0 and 1, balanced, in random order)."""
    return make_moons(n, noise=noise, seed=seed)


def init_mlp(sizes, seed: int = 0) -> list[gl.Tensor]:
    """He-initialised weights and zero biases for a fully connected network."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append(gl.Tensor(rng.normal(0, np.sqrt(2 / fan_in), (fan_in, fan_out)), requires_grad=True))
        params.append(gl.Tensor(np.zeros(fan_out), requires_grad=True))
    return params


def forward(params, x) -> gl.Tensor:
    """Logits of the network: tanh hidden layers, a linear output layer."""
    h = x
    for i in range(0, len(params) - 2, 2):
        h = gl.tanh(h @ params[i] + params[i + 1])
    return h @ params[-2] + params[-1]


def accuracy(params, x, y) -> float:
    with gl.no_grad():
        return float((forward(params, x).data.argmax(axis=1) == y).mean())


def ascii_boundary(params, x, y, width: int = 60, height: int = 20) -> str:
    """The learned decision regions as text: '.' and ':' for the two classes, 'o' and 'x' for points."""
    lo, hi = x.min(axis=0) - 0.3, x.max(axis=0) + 0.3
    xs = np.linspace(lo[0], hi[0], width)
    ys = np.linspace(hi[1], lo[1], height)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    with gl.no_grad():
        region = forward(params, grid).data.argmax(axis=1).reshape(height, width)
    canvas = np.where(region == 0, ".", ":").astype("<U1")
    cols = np.clip(((x[:, 0] - lo[0]) / (hi[0] - lo[0]) * (width - 1)).round().astype(int), 0, width - 1)
    rows = np.clip(((hi[1] - x[:, 1]) / (hi[1] - lo[1]) * (height - 1)).round().astype(int), 0, height - 1)
    canvas[rows, cols] = np.where(y == 0, "o", "x")
    return "\n".join("".join(row) for row in canvas)


def progress_bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total)
    return "[" + "#" * filled + "-" * (width - filled) + f"] {done}/{total}"


@dataclass
class DemoResult:
    """What the demo's training run ended with."""

    accuracy: float
    first_loss: float
    last_loss: float

    @property
    def diverged(self) -> bool:
        """The loss ended non-finite or higher than it started: the steps overshot instead of descending."""
        return not math.isfinite(self.last_loss) or self.last_loss > self.first_loss


def run(epochs: int = 300, lr: float = 0.5, seed: int = 0, out=None) -> DemoResult:
    """Train a 2-16-16-2 network by full-batch gradient descent; returns the final accuracy and losses."""
    out = sys.stdout if out is None else out
    x, y = two_moons(seed=seed)
    params = init_mlp((2, 16, 16, 2), seed=seed)
    out.write("gradlab demo: a 2-16-16-2 network learns two moons by gradient descent\n")
    out.write(f"data: {len(x)} points (generated), learning rate {lr:g}, {epochs} epochs\n\n")
    # On a terminal the progress line redraws itself; in a log each update gets its own line.
    line_start = "\r" if getattr(out, "isatty", lambda: False)() else ""
    line_end = "" if line_start else "\n"
    start = time.perf_counter()
    first_loss = None
    with np.errstate(all="ignore"):  # a diverging run is reported below in words
        for epoch in range(1, epochs + 1):
            loss = gl.cross_entropy(forward(params, x), y)
            value = loss.item()
            first_loss = value if first_loss is None else first_loss
            if not math.isfinite(value):
                break
            loss.backward()  # the chain rule, from the loss back to every weight
            with gl.no_grad():
                for p in params:
                    p -= lr * p.grad
                    p.grad = None
            if epoch % 25 == 0 or epoch == 1 or epoch == epochs:
                out.write(
                    f"{line_start}{progress_bar(epoch, epochs)}  loss {value:.4g}  "
                    f"accuracy {accuracy(params, x, y):6.1%}{line_end}"
                )
                out.flush()
        # the loss of the last step, the one the progress line shows (a step that broke off on a
        # non-finite loss reports that loss)
        result = DemoResult(accuracy(params, x, y), first_loss, value)
    out.write(
        f"{'' if line_end else chr(10)}\ntrained in {time.perf_counter() - start:.1f} s; "
        f"final accuracy {result.accuracy:.1%}\n\n"
    )
    if result.diverged:
        out.write(
            f"diverged: the loss went from {first_loss:.4g} to {result.last_loss:.4g} instead of falling. Each step "
            f"w <- w - lr * dL/dw overshoots the minimum when the learning rate ({lr:g}) is too large: "
            "try a smaller --lr (default 0.5).\n\n"
        )
    out.write("decision regions ('.' class 0, ':' class 1; points 'o' and 'x'):\n")
    out.write(ascii_boundary(params, x, y) + "\n")
    return result

"""Checkers for lesson 17, the chain rule compiled: the backward lines of an MLP, which gradients a backward pass
computes at all, and the backward line of softmax cross-entropy.

compile.backward_by_hand        for L = (1/N) Σ (p − y)²  (N = p.size), p = relu(x·W1 + b1)·W2 + b2:
                                    g_p  = 2 (p − y) / N
                                    g_W2 = hᵀ·g_p          g_b2 = Σ_rows g_p          g_h = g_p·W2ᵀ
                                    g_z1 = g_h · [z1 > 0]
                                    g_W1 = xᵀ·g_z1         g_b1 = Σ_rows g_z1
                                returning (g_W1, g_b1, g_W2, g_b2), checked against the engine in float64
compile.needed_gradients        for a graph given as ops (output, op, inputs) in forward order, the values v whose
                                ∂L/∂v a backward pass computes: v depends on a trainable leaf and the loss (the last
                                op's output) depends on v; the loss itself (its gradient is the seed 1) excluded
compile.cross_entropy_backward  for L = (1/n) Σ_i −log softmax(z_i)[t_i]:   ∂L/∂z = (softmax(z) − onehot(t)) / n
"""

from __future__ import annotations

import numpy as np

import gradlab as gl

from . import grading
from .common import like, near
from .core import Wrong, exercise

__all__ = [
    "engine_mlp_gradients",
    "reference_backward_by_hand",
    "reference_cross_entropy_backward",
    "reference_needed_gradients",
]


def _mse_of_mlp(x, y):
    """(W1, b1, W2, b2) ↦ mean((relu(x·W1 + b1)·W2 + b2 − y)²), written with the engine's ops."""

    def loss(W1, b1, W2, b2):
        return gl.mean((gl.relu(x @ W1 + b1) @ W2 + b2 - y) ** 2)

    return loss


def engine_mlp_gradients(x, y, W1, b1, W2, b2) -> tuple:
    """(∂L/∂W1, ∂L/∂b1, ∂L/∂W2, ∂L/∂b2) of L = mean((relu(x·W1 + b1)·W2 + b2 − y)²), by gradlab's reverse mode."""
    return tuple(np.asarray(g) for g in gl.grad(_mse_of_mlp(x, y), argnums=(0, 1, 2, 3))(W1, b1, W2, b2))


def reference_backward_by_hand(x, y, W1, b1, W2, b2, *, mask="relu", transpose=True, scale=2.0, size=None):
    """The MLP's backward lines as straight-line NumPy (the keywords make the typical mistakes the hints name):

    g_p = scale·(p − y)/size,  g_W2 = hᵀ g_p,  g_b2 = Σ_rows g_p,  g_h = g_p W2ᵀ,  g_z1 = g_h·[z1 > 0],
    g_W1 = xᵀ g_z1,  g_b1 = Σ_rows g_z1      (scale 2, size p.size: the right answer)."""
    z1 = x @ W1 + b1
    h = np.maximum(z1, 0.0)
    p = h @ W2 + b2
    g_p = scale * (p - y) / (p.size if size is None else size)
    g_h = g_p @ (W2.T if transpose else W2)
    g_z1 = {"relu": g_h * (z1 > 0), "none": g_h, "h": g_h * h}[mask]
    return x.T @ g_z1, g_z1.sum(axis=0), h.T @ g_p, g_p.sum(axis=0)


PARAMETERS = ("W1", "b1", "W2", "b2")
# (n, inputs, hidden, outputs): square first, so that a missing transpose gives wrong numbers rather than an error
MLP_SHAPES = ((5, 3, 3, 3), (7, 2, 16, 1), (6, 4, 5, 2))


def _bias_not_summed(got, want):
    return got.ndim == 2 and got.shape[1:] == want.shape and near(got.sum(axis=0), want)


def _mlp_hints(x, y, W1, b1, W2, b2, index: int) -> list:
    """Hints for gradient number `index` of (g_W1, g_b1, g_W2, g_b2): each wrong variant that this point can tell
    apart from the right answer, with the text naming the mistake."""
    n, k = x.shape[0], W2.shape[1]

    def variant(**mistake):
        return like(reference_backward_by_hand(x, y, W1, b1, W2, b2, **mistake)[index])

    name = PARAMETERS[index]
    hints = [
        (grading.transposed, f"g_{name} is transposed: a weight's gradient has the weight's shape, (input)ᵀ·g"),
        (
            _bias_not_summed,
            f"g_{name} has one row per example: {name} is added to every row of the batch, so its gradient is the "
            "sum of the rows' gradients, g.sum(axis=0)",
        ),
        (
            grading.off_by_factor(1 / n),
            f"g_{name} is 1/{n} of the answer: sum over the batch, not mean (the 1/N is already in g_p)",
        ),
        (grading.sign_flipped, "the sign is flipped: g_p = 2 (p − y) / N, prediction minus target"),
        (variant(scale=1.0), "a factor 2 is missing: d/dp (p − y)² = 2 (p − y)"),
        (variant(scale=2.0, size=1), "the 1/N of the mean is missing: g_p = 2 (p − y) / N with N = p.size"),
    ]
    if k > 1:
        hints.append((variant(size=n), f"divide by N = p.size = {n}·{k}, every entry of p, not by the batch size {n}"))
    if index < 2:  # the first layer's gradients pass through the ReLU and through W2
        hints += [
            (variant(mask="none"), "you forgot the ReLU mask: g_z1 = g_h · [z1 > 0] (no gradient where relu was 0)"),
            (variant(mask="h"), "the ReLU's derivative is the 0/1 mask [z1 > 0], not h itself: g_z1 = g_h · (z1 > 0)"),
        ]
        if W2.shape[0] == W2.shape[1]:
            hints.append(
                (
                    variant(transpose=False),
                    "wrong transpose: g_h = g_p · W2ᵀ (W2 maps h to p, so the gradient comes back through W2ᵀ)",
                )
            )
    return hints


@exercise("compile.backward_by_hand")
def _backward_by_hand(fn):
    rng = np.random.default_rng(170)
    for n, d, hidden, k in MLP_SHAPES:
        x, y = rng.normal(size=(n, d)), rng.normal(size=(n, k))
        params = rng.normal(size=(d, hidden)), rng.normal(size=hidden), rng.normal(size=(hidden, k)), rng.normal(size=k)
        at = f"a {d}-{hidden}-{k} MLP on a batch of {n}"
        got = grading.call(fn, x.copy(), y.copy(), *(p.copy() for p in params))
        if not isinstance(got, tuple | list) or len(got) != 4:
            raise Wrong("return four arrays, (g_W1, g_b1, g_W2, g_b2), in the order of the parameters")
        want = engine_mlp_gradients(x, y, *params)
        for index in (3, 2, 1, 0):  # the order of the backward pass: the last layer first
            grading.expect_close(
                got[index],
                want[index],
                at=f"{at}, g_{PARAMETERS[index]}",
                tol=1e-8,
                hints=_mlp_hints(x, y, *params, index),
            )
    return "the same four gradients as gradlab's backward pass, on 3 MLPs and batches you did not choose"


def depends_on_trainable(ops, trainable) -> set[str]:
    """The trainable leaves and every op output with an input among them (one sweep in forward order)."""
    tracked = set(trainable)
    for output, _, inputs in ops:
        if tracked.intersection(inputs):
            tracked.add(output)
    return tracked


def loss_depends_on(ops) -> set[str]:
    """The loss (the last op's output) and every value it is computed from (one sweep in reverse order)."""
    reaches = {ops[-1][0]}
    for output, _, inputs in reversed(ops):
        if output in reaches:
            reaches.update(inputs)
    return reaches


def reference_needed_gradients(ops, trainable) -> set[str]:
    """{v ≠ loss : v depends on a trainable leaf, and the loss (the last op's output) depends on v}."""
    return (depends_on_trainable(ops, trainable) & loss_depends_on(ops)) - {ops[-1][0]}


MLP_GRAPH = [
    ("z1", "matmul", ["x", "W1"]),
    ("a1", "add", ["z1", "b1"]),
    ("h", "relu", ["a1"]),
    ("z2", "matmul", ["h", "W2"]),
    ("p", "add", ["z2", "b2"]),
    ("e", "exp", ["p"]),  # computed, never used
    ("d", "sub", ["p", "y"]),
    ("s", "square", ["d"]),
    ("loss", "mean", ["s"]),
]
TIED_GRAPH = [  # one embedding matrix E used twice (in and out), plus an L2 penalty on E; an unused parameter U
    ("h", "matmul", ["x", "E"]),
    ("t", "tanh", ["h"]),
    ("logits", "matmul_t", ["t", "E"]),
    ("u", "matmul", ["x", "U"]),
    ("ce", "cross_entropy", ["logits", "labels"]),
    ("sq", "square", ["E"]),
    ("penalty", "sum", ["sq"]),
    ("loss", "add", ["ce", "penalty"]),
]
NEEDED_CASES = (
    (MLP_GRAPH, {"W1", "b1", "W2", "b2"}, "every parameter trainable"),
    (MLP_GRAPH, {"W2", "b2"}, "the first layer frozen"),
    (MLP_GRAPH, {"b1"}, "only b1 trainable"),
    (MLP_GRAPH, {"W1"}, "only W1 trainable"),
    (TIED_GRAPH, {"E", "U"}, "tied weights E, unused parameter U"),
)


def _needed_problem(got: set, ops, trainable: set) -> str | None:
    """What is wrong with got as the set of computed gradients, naming the first value wrongly in or out."""
    want = reference_needed_gradients(ops, trainable)
    loss = ops[-1][0]
    names = {out for out, _, _ in ops} | {v for _, _, inputs in ops for v in inputs}
    leaves = names - {out for out, _, _ in ops}
    tracked = depends_on_trainable(ops, trainable)
    for v in sorted(got - want):
        if v not in names:
            return f"there is no value called {v!r} in this graph (its names: {', '.join(sorted(names))})"
        if v == loss:
            return f"leave out the loss {loss!r}: its gradient ∂L/∂L = 1 is the seed the backward pass starts from"
        if v in leaves and v not in trainable:
            return f"{v!r} is data or frozen (it does not require grad): no line computes ∂L/∂{v} (the needs mask)"
        if v not in tracked:
            return (
                f"{v!r} does not depend on any trainable parameter: ∂L/∂{v} would lead back to nothing anyone asked "
                "for, so the backward pass skips it"
            )
        afterwards = "its .grad stays None" if v in leaves else "a dead value: the tracer does not even compute it"
        return f"{v!r} never reaches the loss: no gradient flows back into it ({afterwards})"
    for v in sorted(want - got):
        if v in trainable:
            return f"{v!r} is trainable and the loss depends on it: its gradient is what the backward pass is for"
        return (
            f"∂L/∂{v} is needed: a trainable parameter lies behind {v!r}, and the chain rule reaches it only "
            f"through ∂L/∂{v}"
        )
    return None


@exercise("compile.needed_gradients")
def _needed_gradients(fn):
    for ops, trainable, what in NEEDED_CASES:
        copy = [(out, op, list(inputs)) for out, op, inputs in ops]
        got = grading.call(fn, copy, set(trainable))
        if isinstance(got, str) or not all(isinstance(v, str) for v in _iterable(got)):
            raise Wrong("return a set of value names (strings), e.g. {'W2', 'p'}")
        problem = _needed_problem(set(got), ops, set(trainable))
        if problem:
            graph = "the MLP graph" if ops is MLP_GRAPH else "the tied-weights graph"
            raise Wrong(f"{problem} (in {graph}, {what})")
    return "the right gradients on 5 graphs: frozen layers, a dead value, tied weights, an unused parameter"


def _iterable(value):
    try:
        return list(value)
    except TypeError:
        raise Wrong(f"return a set of value names, not a {type(value).__name__}") from None


def reference_cross_entropy_backward(logits, labels):
    """∂L/∂z for L = (1/n) Σ_i −log softmax(z_i)[t_i]: (softmax(z) − onehot(t)) / n, softmax along each row."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))  # shifted: exp of large logits would overflow
    softmax = e / e.sum(axis=1, keepdims=True)
    onehot = np.eye(z.shape[1])[labels]
    return (softmax - onehot) / z.shape[0]


def _softmax_of_columns(z, labels):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return (e / e.sum(axis=0, keepdims=True) - np.eye(z.shape[1])[labels]) / z.shape[0]


@exercise("compile.cross_entropy_backward")
def _cross_entropy_backward(fn):
    rng = np.random.default_rng(171)
    for n, classes, offset in ((6, 3, 0.0), (4, 5, 0.0), (5, 4, 800.0)):
        z = rng.normal(size=(n, classes)) * 2 + offset
        labels = rng.integers(0, classes, n)
        at = f"{n} examples, {classes} classes" + (f", logits near {offset:g}" if offset else "")
        got = grading.call(fn, z.copy(), labels.copy())
        z_tensor = gl.Tensor(z, requires_grad=True)
        gl.cross_entropy(z_tensor, labels).backward()
        softmax_n = reference_cross_entropy_backward(z, labels) + np.eye(classes)[labels] / n
        if offset and not np.all(np.isfinite(np.asarray(got, dtype=np.float64))):
            raise Wrong(
                f"NaN or inf at {at}: exp(800) overflows; subtract each row's max before np.exp "
                "(softmax(z) = softmax(z − max z))"
            )
        hints = [
            (grading.off_by_factor(n), f"the 1/n of the mean over the {n} examples is missing"),
            (grading.sign_flipped, "the sign is flipped: ∂L/∂z = (softmax(z) − onehot(t)) / n"),
            (like(softmax_n), "subtract the one-hot of the labels: ∂L/∂z_ij = (softmax(z_i)_j − [j = t_i]) / n"),
            (like(_softmax_of_columns(z, labels)), "softmax along each row (axis=1, over classes), not down columns"),
        ]
        grading.expect_close(got, z_tensor.grad, at=at, tol=1e-8, hints=hints)
    return "the same ∂L/∂logits as gradlab's cross_entropy, large logits included"

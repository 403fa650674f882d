"""Checkers of lesson 6, the final project: a 2-4-1 network in NumPy that learns XOR.

The network: h = tanh(X·W1 + b1), p = σ(h·W2 + b2), with W1 (2, 4), b1 (4,), W2 (4, 1), b2 (1,), X (n, 2);
the loss is the mean binary cross-entropy L = −mean(y·ln p + (1 − y)·ln(1 − p)) with y (n, 1).

    xor.forward   forward(params, X) -> (h, p)
    xor.backward  backward(params, X, y) -> {"W1": ∂L/∂W1, "b1": ..., "W2": ..., "b2": ...}, compared in float64
                  with gradlab's gradients of the same loss (gl.grad), relative error <= 1e-7
    xor.train     train(steps, lr, seed) -> params whose outputs are on the right side of 0.5 for all four inputs
"""

from __future__ import annotations

import numpy as np

from .. import autodiff as gl
from . import grading
from .common import as_array, like
from .core import Wrong, exercise

KEYS = ("W1", "b1", "W2", "b2")
SHAPES = {"W1": (2, 4), "b1": (4,), "W2": (4, 1), "b2": (1,)}
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def _sigmoid(z):
    with np.errstate(over="ignore"):  # exp(−z) overflows to inf for z < −709, and 1/(1 + inf) = 0 is right
        return 1 / (1 + np.exp(-z))


def _params(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {k: rng.normal(size=shape) for k, shape in SHAPES.items()}


def _inputs(seed: int, n: int = 8):
    """The four XOR corners and n − 4 random points, with 0/1 targets."""
    rng = np.random.default_rng(seed)
    X = np.vstack([XOR_X, rng.normal(size=(n - 4, 2))])
    y = np.vstack([XOR_Y, rng.integers(0, 2, size=(n - 4, 1)).astype(np.float64)])
    return X, y


def _forward(params, X):
    h = np.tanh(X @ params["W1"] + params["b1"])
    return h, _sigmoid(h @ params["W2"] + params["b2"])


def _copy(params: dict) -> dict:
    return {k: np.array(v, dtype=np.float64) for k, v in params.items()}


def _array(value, what: str) -> np.ndarray:
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    return as_array(value, f"{what} should be an array of numbers, got a {{type}}")


# ---------------------------------------------------------------- xor.forward


@exercise("xor.forward")
def _forward_check(fn):
    for seed in (61, 62):
        params = _params(seed)
        X, _ = _inputs(seed)
        got = grading.call(fn, _copy(params), X.copy())
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise Wrong("return two things, the hidden layer and the output: `return h, p`")
        h, p = (_array(v, "each returned value") for v in got)
        want_h, want_p = _forward(params, X)
        at = f"{len(X)} inputs (the four XOR corners and four random points), random weights (seed {seed})"
        if h.shape == want_p.shape and p.shape == want_h.shape:
            raise Wrong("you returned (p, h): return the hidden layer first, then the output, `return h, p`")
        z1 = X @ params["W1"] + params["b1"]
        grading.expect_close(
            h,
            want_h,
            f"h for {at}",
            hints=[
                (like(z1), "your hidden layer is linear: apply the activation, h = tanh(X·W1 + b1)"),
                (
                    like(_sigmoid(z1)),
                    "your hidden layer uses sigmoid; this network uses tanh, h = tanh(X·W1 + b1)",
                ),
                (like(np.tanh(X @ params["W1"])), "b1 is missing: h = tanh(X·W1 + b1)"),
                (like(np.maximum(z1, 0)), "your hidden layer uses relu; this network uses tanh, h = tanh(X·W1 + b1)"),
            ],
        )
        z2 = want_h @ params["W2"] + params["b2"]
        grading.expect_close(
            p,
            want_p,
            f"p for {at}",
            hints=[
                (like(z2), "your output is not squashed into (0, 1): p = sigmoid(h·W2 + b2) = 1 / (1 + exp(−z))"),
                (like(_sigmoid(want_h @ params["W2"])), "b2 is missing: p = sigmoid(h·W2 + b2)"),
                (
                    like(np.tanh(z2)),
                    "the output uses tanh; a probability needs sigmoid: p = 1 / (1 + exp(−z))",
                ),
                (like(want_p.ravel()), "p should have shape (n, 1), one column: keep h @ W2 as it is"),
            ],
        )


# ---------------------------------------------------------------- xor.backward


def _loss(W1, b1, W2, b2, X, y):
    """The same loss written with gradlab's ops, so that gl.grad can differentiate it."""
    h = gl.tanh(X @ W1 + b1)
    p = gl.sigmoid(h @ W2 + b2)
    return -gl.mean(y * gl.log(p) + (1 - y) * gl.log(1 - p))


def _by_hand(params, X, y, tanh_rule=True, output_rule="bce"):
    """The hand-written gradients, and the typical wrong variants, for the hints."""
    n = len(X)
    h, p = _forward(params, X)
    dz2 = (p - y) / n
    if output_rule == "mse-like":
        dz2 = dz2 * p * (1 - p)
    dh = dz2 @ params["W2"].T
    dz1 = dh * (1 - h**2) if tanh_rule else dh
    return {"W1": X.T @ dz1, "b1": dz1.sum(axis=0), "W2": h.T @ dz2, "b2": dz2.sum(axis=0)}


@exercise("xor.backward")
def _backward_check(fn):
    for seed in (63, 64):
        params = _params(seed)
        X, y = _inputs(seed)
        n = len(X)
        want = dict(zip(KEYS, gl.grad(_loss, argnums=(0, 1, 2, 3))(*(params[k] for k in KEYS), X, y)))
        got = grading.call(fn, _copy(params), X.copy(), y.copy())
        if not isinstance(got, dict):
            raise Wrong('return a dict of gradients with the parameters\' names, {"W1": dW1, "b1": db1, ...}')
        missing = [k for k in KEYS if k not in got]
        if missing:
            raise Wrong(f"your gradients lack {', '.join(missing)}: return one for each of W1, b1, W2, b2")
        got = {k: _array(got[k], f"your d{k}") for k in KEYS}
        for k in KEYS:
            if got[k].shape != SHAPES[k]:
                if got[k].shape == SHAPES[k][::-1] and len(SHAPES[k]) == 2:
                    how = f"transposed: did you write {'X' if k == 'W1' else 'h'}ᵀ·dz the other way round?"
                elif got[k].shape[:1] == (n,):
                    how = "one row per example: sum over the examples (axis=0)"
                else:
                    how = "a gradient has the shape of its parameter"
                raise Wrong(f"your d{k} has shape {got[k].shape}, {k} has {SHAPES[k]}: {how}")
        no_tanh = _by_hand(params, X, y, tanh_rule=False)
        mse_like = _by_hand(params, X, y, output_rule="mse-like")
        at = f"random weights (seed {seed}) and {n} examples"
        for k in KEYS:
            grading.expect_close(
                got[k],
                want[k],
                f"d{k}, {at}",
                tol=grading.SMOOTH,
                hints=[
                    (
                        like(no_tanh[k]),
                        f"d{k} is off: did you forget the derivative of tanh? dz1 = (dz2·W2ᵀ) ⊙ (1 − h²)",
                    ),
                    (
                        like(mse_like[k]),
                        "you multiplied by the sigmoid's derivative p(1 − p) again: with cross-entropy it cancels, "
                        "so dz2 = (p − y)/n",
                    ),
                    (
                        grading.sign_flipped,
                        f"your d{k} has the wrong sign: dz2 = (p − y)/n, prediction minus target",
                    ),
                    (
                        grading.off_by_factor(n),
                        f"your d{k} is n = {n} times too large: the loss is the mean over the examples, "
                        "so dz2 = (p − y)/n",
                    ),
                    (grading.transposed, f"your d{k} is transposed"),
                ],
            )
    return "your gradients match gradlab's (gl.grad) to 1e-7 at 2 random points"


# ---------------------------------------------------------------- xor.train


def _bce(p) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(XOR_Y * np.log(p) + (1 - XOR_Y) * np.log(1 - p)))


def _trained(fn, steps: int, lr: float, seed: int) -> dict:
    got = grading.call(fn, steps=steps, lr=lr, seed=seed)
    if not isinstance(got, dict) or any(k not in got for k in KEYS):
        raise Wrong('return the trained parameters, the dict {"W1": ..., "b1": ..., "W2": ..., "b2": ...}')
    params = {k: _array(got[k], f"your {k}") for k in KEYS}
    for k in KEYS:
        if params[k].shape != SHAPES[k]:
            raise Wrong(f"your trained {k} has shape {params[k].shape}, expected {SHAPES[k]}")
    return params


def _right(p) -> bool:
    return bool(np.all((p > 0.5) == (XOR_Y > 0.5)))


@exercise("xor.train")
def _train_check(fn):
    outputs = []
    for seed in (1, 2, 3):
        params = _trained(fn, 2000, 0.5, seed)
        if not all(np.all(np.isfinite(v)) for v in params.values()):
            raise Wrong(f"your parameters became NaN or inf (seed {seed}): the training diverged")
        p = _forward(params, XOR_X)[1]
        if _right(p):
            return f"all four XOR outputs on the right side of 0.5 (seed {seed}): {np.round(p.ravel(), 3).tolist()}"
        outputs.append((seed, params, p))
    seed, params, p = outputs[0]
    start = _trained(fn, 0, 0.5, seed)
    shown = np.round(p.ravel(), 3).tolist()
    if all(np.array_equal(params[k], start[k]) for k in KEYS):
        raise Wrong(
            "your parameters never changed: update them in the dict, params[k] = params[k] − lr·grads[k] "
            "(a loop `for w in ...: w = w − ...` only rebinds a name)"
        )
    if np.allclose(params["W1"], params["W1"][:, :1]) and np.allclose(params["W2"], params["W2"][0]):
        raise Wrong(
            "all four hidden units are identical, so they stay identical: start W1 and W2 from random numbers "
            "(rng.normal), not from zeros or one constant"
        )
    if _bce(p) > _bce(_forward(start, XOR_X)[1]):
        raise Wrong(
            f"your loss went up during training (outputs {shown} for targets [0, 1, 1, 0]): step against "
            "the gradient, params[k] − lr·grads[k]"
        )
    raise Wrong(
        f"after 2000 steps with lr = 0.5 your outputs are {shown} for the targets [0, 1, 1, 0] (seeds 1, 2, 3 "
        "all failed): are forward and backward both checked above, and does every step use fresh gradients?"
    )

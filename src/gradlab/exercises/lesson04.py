"""Checkers of lesson 4, gradient descent: one step, the loop with its stopping rule, a training loop.

descent.step           step(x, g, lr) = x − lr·g
descent.run            run(grad, x0, lr, tol, max_steps) -> (x, steps): step until ‖∇f(x)‖ <= tol
descent.training_loop  training_loop(X, y, lr, epochs) -> (w, b): linear regression by gradient descent
                       on L = mean((X·w + b − y)²), checked against least squares
"""

from __future__ import annotations

import numpy as np

from . import grading
from .common import like, near
from .core import Wrong, exercise


def _fmt(x) -> str:
    x = np.asarray(x, dtype=np.float64)
    return f"{float(x):.4g}" if x.ndim == 0 else np.array2string(x, precision=4, separator=", ")


# ---------------------------------------------------------------- descent.step


@exercise("descent.step")
def _step(fn):
    rng = np.random.default_rng(404)
    cases = [(rng.uniform(-2, 2), rng.uniform(-3, 3), 0.1)]
    cases += [(rng.uniform(-2, 2, size=3), rng.uniform(-3, 3, size=3), lr) for lr in (0.05, 0.3)]
    for x, g, lr in cases:
        x, g = np.asarray(x, dtype=np.float64), np.asarray(g, dtype=np.float64)
        x_before = x.copy()
        want = x - lr * g
        at = f"x = {_fmt(x)}, g = {_fmt(g)}, lr = {lr}"
        got = grading.call(fn, x, g.copy(), lr)
        if not np.array_equal(x, x_before):
            raise Wrong(
                f"your step changed the caller's x in place (x -= ... or x[:] = ...), at {at}: return a new "
                "array, `return x - lr * g`, so the old point is still there to compare with"
            )
        x = x_before
        grading.expect_close(
            got,
            want,
            at,
            tol=grading.SMOOTH,
            hints=[
                (like(x + lr * g), "you stepped uphill: the gradient points up, so the update is x − lr·g"),
                (like(x - g), "the learning rate is missing: the step is lr·g, not the whole gradient g"),
                (like(-lr * g), "you returned the step −lr·g, not the new point: add it to x"),
                (like(lr * g), "you returned the step lr·g, not the new point x − lr·g"),
                (like(x - g / lr), "you divided by the learning rate: multiply, x − lr·g"),
            ],
        )


# ---------------------------------------------------------------- descent.run


def _descend(grad, x0, lr, tol, max_steps, rule="norm"):
    """The reference loop, and the typical wrong stopping rules, for the hints."""
    x = np.array(x0, dtype=np.float64)
    for k in range(max_steps):
        g = np.asarray(grad(x), dtype=np.float64)
        size = {
            "norm": np.linalg.norm(g),
            "max": np.max(np.abs(g)),
            "step": lr * np.linalg.norm(g),
            "square": np.dot(g.ravel(), g.ravel()),
        }[rule]
        if size <= tol:
            return x, k
        x = x - lr * g
    return x, max_steps


def _problems():
    """(description, grad, x0, lr, tol, max_steps): functions the learner did not choose."""
    a = np.array([[3.0, 0.5], [0.5, 1.0]])
    b = np.array([1.0, -2.0])
    return [
        ("f(x) = (x − 3)² from x0 = [-1]", lambda x: 2 * (x - 3), np.array([-1.0]), 0.1, 1e-6, 10_000),
        ("f(x) = ½xᵀAx − bᵀx, A = [[3, 0.5], [0.5, 1]]", lambda x: a @ x - b, np.array([2.0, 2.0]), 0.2, 1e-8, 10_000),
        (
            "f(x, y) = log cosh(x − 1) + (y + 0.5)²",
            lambda p: np.array([np.tanh(p[0] - 1), 2 * (p[1] + 0.5)]),
            np.array([-2.0, 1.5]),
            0.3,
            1e-7,
            10_000,
        ),
        (
            "f(x) = ‖x − (1, −1)‖² from x0 = [3, 1]",
            lambda x: 2 * (x - np.array([1.0, -1.0])),
            np.array([3.0, 1.0]),
            0.05,
            1e-6,
            10_000,
        ),
        ("f(x) = (x − 3)² with a budget of 25 steps", lambda x: 2 * (x - 3), np.array([10.0]), 0.01, 1e-6, 25),
    ]


@exercise("descent.run")
def _run(fn):
    for what, grad, x0, lr, tol, max_steps in _problems():
        at = f"{what}, lr = {lr}, tol = {tol:g}, max_steps = {max_steps}"
        given = x0.copy()
        got = grading.call(fn, grad, given, lr, tol, max_steps)
        if not np.array_equal(given, x0):
            raise Wrong(
                "your loop changed x0 in place (x = x0 and then x -= ...): copy it first, "
                "x = np.array(x0, dtype=float), so the caller's starting point survives"
            )
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise Wrong("return two things, the final point and the number of steps taken: `return x, steps`")
        x, steps = got
        want_x, want_steps = _descend(grad, x0, lr, tol, max_steps)
        try:
            steps = int(steps)
        except (TypeError, ValueError):
            raise Wrong(f"the second thing you return should be the number of steps, got {steps!r}") from None
        if steps != want_steps:
            norm0 = float(np.linalg.norm(grad(x0)))
            if steps > max_steps:
                raise Wrong(f"your loop took {steps} steps with max_steps = {max_steps} ({what}): stop at the budget")
            if steps == max_steps:
                raise Wrong(
                    f"your loop never stopped early: it ran all {max_steps} steps, but ‖∇f(x)‖ <= {tol:g} after "
                    f"{want_steps} ({what}). Test the gradient norm before each step and stop when it is small"
                )
            if steps == 0:
                raise Wrong(
                    f"your loop stopped before the first step though ‖∇f(x0)‖ = {norm0:.3g} > tol = {tol:g} "
                    f"({what}): is the test the wrong way round? Stop when the norm is <= tol"
                )
            if abs(steps - want_steps) == 1:
                raise Wrong(
                    f"your count is off by one: {steps} steps where {want_steps} updates were made ({what}); "
                    "count the updates x ← x − lr·g (0 when x0 already passes the test)"
                )
            for rule, hint in (
                ("max", "you stopped when the largest |component| of g was <= tol; the rule is the norm ‖g‖ <= tol"),
                ("step", "you stopped when the step lr·‖g‖ was <= tol; the rule is on the gradient itself, ‖g‖ <= tol"),
                ("square", "you compared ‖g‖² with tol; compare the norm ‖g‖ = np.linalg.norm(g)"),
            ):
                if _descend(grad, x0, lr, tol, max_steps, rule)[1] == steps:
                    raise Wrong(f"{hint} ({what})")
            raise Wrong(
                f"your loop took {steps} steps, expected {want_steps} ({what}): stop the first time "
                "np.linalg.norm(grad(x)) <= tol, and count the updates"
            )
        grading.expect_close(
            x,
            want_x,
            at,
            tol=grading.SMOOTH,
            hints=[
                (like(x0), "your loop counted the steps but returned the starting point: return the updated x"),
            ],
        )


# ---------------------------------------------------------------- descent.training_loop


def _data(seed: int, n: int = 40, d: int = 3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w_true, b_true = rng.normal(size=d), rng.normal()
    y = X @ w_true + b_true + 0.1 * rng.normal(size=n)
    return X, y


def _least_squares(X, y):
    A = np.hstack([X, np.ones((len(X), 1))])
    solution = np.linalg.lstsq(A, y, rcond=None)[0]
    return solution[:-1], solution[-1]


def _unpack(got, d: int):
    if not isinstance(got, tuple | list) or len(got) != 2:
        raise Wrong("return two things, the weights and the bias: `return w, b`")
    w, b = got
    w = np.asarray(w.numpy() if hasattr(w, "numpy") else w, dtype=np.float64)
    b = np.asarray(b.numpy() if hasattr(b, "numpy") else b, dtype=np.float64)
    if w.shape != (d,):
        raise Wrong(
            f"your w has shape {w.shape}; with X of shape (n, {d}) and y of shape (n,), w should have shape ({d},): "
            "start from w = np.zeros(X.shape[1])"
        )
    if b.size != 1:
        raise Wrong(f"your b has shape {b.shape}; the bias is one number: start from b = 0.0")
    return w, float(b.reshape(()))


@exercise("descent.training_loop")
def _training_loop(fn):
    X, y = _data(7)
    n, d = X.shape
    lr = 0.1
    # one epoch from w = 0, b = 0: r = -y, ∂L/∂w = 2/n·Xᵀr, ∂L/∂b = 2·mean(r)
    r = -y
    want_w, want_b = -lr * 2 / n * X.T @ r, -lr * 2 * np.mean(r)
    w, b = _unpack(grading.call(fn, X.copy(), y.copy(), lr, 1), d)
    at = f"one epoch from w = 0, b = 0 on {n} examples, lr = {lr}"
    want = np.append(want_w, want_b)
    got = np.append(w, b)
    if not near(got, want, 1e-9):
        if near(w, want_w, 1e-9) and abs(b) < 1e-15:
            raise Wrong(f"your bias did not move ({at}): update b too, with ∂L/∂b = 2·mean(r), r = X·w + b − y")
        grading.expect_close(
            got,
            want,
            at,
            tol=grading.SMOOTH,
            hints=[
                (
                    grading.off_by_factor(0.5),
                    "after one epoch you moved half as far: the derivative of r² is 2r, so ∂L/∂w = (2/n)·Xᵀr",
                ),
                (
                    grading.off_by_factor(n),
                    f"after one epoch you moved {n} times too far: L is the mean over the n = {n} examples, "
                    "so divide the summed gradient by n",
                ),
                (grading.off_by_factor(n / 2), "you moved n/2 times too far: the gradient is (2/n)·Xᵀr, not Xᵀr"),
                (grading.sign_flipped, "you stepped uphill: w ← w − lr·∂L/∂w, with r = X·w + b − y"),
            ],
        )
    X, y = _data(11)
    epochs = 600
    w_ls, b_ls = _least_squares(X, y)
    w, b = _unpack(grading.call(fn, X.copy(), y.copy(), lr, epochs), d)
    at = f"{epochs} epochs, lr = {lr}, against least squares"
    if not np.all(np.isfinite(w)) or not np.isfinite(b):
        raise Wrong(f"your weights became NaN or inf after {epochs} epochs: the loop diverged")
    got, want = np.append(w, b), np.append(w_ls, b_ls)
    if not near(got, want, 1e-6):
        if near(w, w_ls, 1e-3) and not near(b, b_ls, 1e-3):
            raise Wrong(f"your w is close to least squares but your b = {b:.4g} is not {b_ls:.4g} ({at})")
        raise Wrong(
            f"one epoch is right, but after {epochs} epochs you are at w = {_fmt(w)}, b = {b:.4g}, not at the "
            f"least-squares answer w = {_fmt(w_ls)}, b = {b_ls:.4g}: do you recompute the residual "
            "r = X·w + b − y with the new w and b in every epoch, and run all the epochs?"
        )
    grading.expect_close(got, want, at, tol=1e-6)

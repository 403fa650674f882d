"""Checkers of lesson 5, optimizers: one step of momentum, RMSProp and Adam, each replayed against gradlab.optim.

    optimizers.momentum_step  (x, g, v, lr, mu) -> (x, v):   v ← μ·v + g,  x ← x − lr·v
    optimizers.rmsprop_step   (x, g, s, lr, rho, eps) -> (x, s):   s ← ρ·s + (1 − ρ)·g²,  x ← x − lr·g / (√s + ε)
    optimizers.adam_step      (x, g, m, v, t, lr, beta1, beta2, eps) -> (x, m, v):
                              m ← β₁·m + (1 − β₁)·g,  v ← β₂·v + (1 − β₂)·g²,
                              m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ),  x ← x − lr·m̂ / (√v̂ + ε)

Each checker runs gradlab's optimizer for a few steps on random gradients, then asks the learner's function
for every one of those steps, starting from gradlab's own state before the step, and compares the new point
and the new state. A wrong answer is compared with the typical wrong rules, one step at a time, for a hint.
"""

from __future__ import annotations

import numpy as np

from ..autodiff import Tensor
from ..optim import Adam, Momentum, RMSProp
from . import grading
from .core import Wrong, exercise

STEPS = 6


def _near(a, b, tol: float = 1e-9) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not np.all(np.isfinite(a)) or not np.all(np.isfinite(b)):
        return False
    return float(np.max(np.abs(a - b), initial=0.0)) <= tol * max(1.0, float(np.max(np.abs(b), initial=0.0)))


def _gradients(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A start x0 and STEPS random gradients, of very different sizes per coordinate (as in a network)."""
    rng = np.random.default_rng(seed)
    scale = np.array([0.01, 1.0, 50.0])
    return rng.normal(size=3), rng.normal(size=(STEPS, 3)) * scale


def _replay(optimizer, hyper: dict, seed: int):
    """gradlab's own run: [(x before, state before, g, x after, state after)] for each step."""
    x0, grads = _gradients(seed)
    p = Tensor(x0.copy(), requires_grad=True)
    opt = optimizer([p], **hyper)
    steps, state = [], {}
    for g in grads:
        before = p.data.copy()
        p.grad = g.copy()
        opt.step()
        after = {k: np.array(v, dtype=np.float64) for k, v in opt.state_arrays(p).items()}
        steps.append((before, state, g, p.data.copy(), after))
        state = after
    return steps


def _answer(got, count: int, names: str):
    if not isinstance(got, tuple | list) or len(got) != count:
        raise Wrong(f"return {count} things, `return {names}`")
    out = []
    for value in got:
        if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
            value = value.numpy()
        try:
            out.append(np.asarray(value, dtype=np.float64))
        except (TypeError, ValueError):
            raise Wrong(f"return arrays of numbers, `return {names}`; got a {type(value).__name__}") from None
    return out


def _grade(got: list, want: list, variants: list, at: str, names: list[str]):
    """Compare the learner's outputs with the right ones; on a mismatch name the first variant they match."""
    if all(_near(a, b) for a, b in zip(got, want)):
        for a, b, name in zip(got, want, names):
            grading.expect_close(a, b, f"{name} at {at}", tol=grading.SMOOTH)
        return
    for outputs, hint in variants:
        if all(o is None or _near(a, o) for a, o in zip(got, outputs)):
            raise Wrong(f"{hint} (at {at})")
    for a, b, name in zip(got, want, names):  # the generic message names the first output that is off
        grading.expect_close(a, b, f"{name} at {at}", tol=grading.SMOOTH)


# ---------------------------------------------------------------- optimizers.momentum_step


@exercise("optimizers.momentum_step")
def _momentum(fn):
    for seed, lr, mu in ((51, 0.01, 0.9), (52, 0.05, 0.5)):
        for t, (x, state, g, x_new, after) in enumerate(_replay(Momentum, {"lr": lr, "momentum": mu}, seed), 1):
            v = state.get("velocity", np.zeros_like(x))
            at = f"step {t} of a run with lr = {lr}, mu = {mu}"
            got = _answer(grading.call(fn, x.copy(), g.copy(), v.copy(), lr, mu), 2, "x, v")
            v_new = after["velocity"]
            other = mu * v - lr * g
            variants = [
                ([x - lr * v, v_new], "you moved with the old velocity: update v ← mu·v + g first, then x ← x − lr·v"),
                ([x + lr * v_new, v_new], "you stepped uphill: x ← x − lr·v, with a minus"),
                ([x - lr * (v + g), v + g], "the velocity never fades: multiply the old v by mu, v ← mu·v + g"),
                (
                    [x - lr * (mu * v + (1 - mu) * g), mu * v + (1 - mu) * g],
                    "that is an average, v ← mu·v + (1 − mu)·g; here v adds up gradients, v ← mu·v + g",
                ),
                (
                    [x + other, other],
                    "you used the other convention, v ← mu·v − lr·g and x ← x + v; here v collects gradients, "
                    "v ← mu·v + g, and the step is x ← x − lr·v",
                ),
                ([x - lr * g, None], "your step ignores the velocity: x ← x − lr·v with the new v, not x − lr·g"),
            ]
            _grade(got, [x_new, v_new], variants, at, ["x", "v"])


# ---------------------------------------------------------------- optimizers.rmsprop_step


@exercise("optimizers.rmsprop_step")
def _rmsprop(fn):
    for seed, lr, rho, eps in ((53, 0.01, 0.9, 1e-8), (54, 0.003, 0.7, 1e-6)):
        hyper = {"lr": lr, "rho": rho, "eps": eps}
        for t, (x, state, g, x_new, after) in enumerate(_replay(RMSProp, hyper, seed), 1):
            s = state.get("square_avg", np.zeros_like(x))
            at = f"step {t} of a run with lr = {lr}, rho = {rho}, eps = {eps:g}"
            got = _answer(grading.call(fn, x.copy(), g.copy(), s.copy(), lr, rho, eps), 2, "x, s")
            s_new = after["square_avg"]
            no_weight = rho * s + g * g
            with np.errstate(all="ignore"):
                variants = [
                    ([x - lr * g / (s_new + eps), s_new], "you divided by s; divide by its square root, √s + eps"),
                    (
                        [x - lr * g / (np.sqrt(s) + eps), s_new],
                        "you divided by the old s: update s ← rho·s + (1 − rho)·g² first, then use it in the step",
                    ),
                    (
                        [x - lr * g / (np.sqrt(no_weight) + eps), no_weight],
                        "the new g² needs the weight (1 − rho): s ← rho·s + (1 − rho)·g²",
                    ),
                    ([None, rho * s + (1 - rho) * g], "s is an average of the squares g², not of g"),
                    ([None, rho * s + (1 - rho) * np.abs(g)], "s is an average of the squares g², not of |g|"),
                    ([x + lr * g / (np.sqrt(s_new) + eps), s_new], "you stepped uphill: x ← x − lr·g / (√s + eps)"),
                ]
            _grade(got, [x_new, s_new], variants, at, ["x", "s"])


# ---------------------------------------------------------------- optimizers.adam_step


def _adam_rule(x, g, m, v, t, lr, b1, b2, eps, correct_m=True, correct_v=True, square=True, root=True):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * (g * g if square else g)
    m_hat = m / (1 - b1**t) if correct_m else m
    v_hat = v / (1 - b2**t) if correct_v else v
    with np.errstate(all="ignore"):
        scale = np.sqrt(v_hat) if root else v_hat
        return x - lr * m_hat / (scale + eps), m, v


@exercise("optimizers.adam_step")
def _adam(fn):
    runs = ((55, 0.01, 0.9, 0.999, 1e-8), (56, 0.002, 0.8, 0.99, 1e-7))
    for seed, lr, b1, b2, eps in runs:
        hyper = {"lr": lr, "beta1": b1, "beta2": b2, "eps": eps}
        for t, (x, state, g, x_new, after) in enumerate(_replay(Adam, hyper, seed), 1):
            m = state.get("m", np.zeros_like(x))
            v = state.get("v", np.zeros_like(x))
            at = f"step t = {t} of a run with lr = {lr}, beta1 = {b1}, beta2 = {b2}, eps = {eps:g}"
            got = _answer(grading.call(fn, x.copy(), g.copy(), m.copy(), v.copy(), t, lr, b1, b2, eps), 3, "x, m, v")
            m_new, v_new = after["m"], after["v"]
            first_step_blew_up = got[0].shape == x.shape and not np.all(np.isfinite(got[0]))
            if t == 1 and first_step_blew_up and _near(got[1], m_new) and _near(got[2], v_new):
                raise Wrong(
                    f"your first step gave {got[0]}: did the bias correction divide by 1 − beta1**0 = 0? t is "
                    "already 1 at the first step, so divide by (1 − beta1**t) and (1 − beta2**t)"
                )
            args = (x, g, m, v, t, lr, b1, b2, eps)
            first = (1 - b1) / np.sqrt(1 - b2)
            variants = [
                (
                    list(_adam_rule(*args, correct_m=False, correct_v=False)),
                    "you forgot the bias correction: m and v start at 0, so early on they are too small; divide "
                    f"m by (1 − beta1**t) and v by (1 − beta2**t) before the step (without it the first step is "
                    f"{first:.3g} times too long here)",
                ),
                (
                    list(_adam_rule(*args, correct_v=False)),
                    "you corrected m but not v: divide v by (1 − beta2**t) too",
                ),
                (
                    list(_adam_rule(*args, correct_m=False)),
                    "you corrected v but not m: divide m by (1 − beta1**t) too",
                ),
                (
                    [None, m_new / (1 - b1**t), v_new / (1 - b2**t)],
                    "you returned the corrected m̂ and v̂ as the new state: return the running averages m and v "
                    "(the correction is recomputed from t at every step)",
                ),
                (list(_adam_rule(*args, root=False)), "divide by the square root of v̂: x ← x − lr·m̂ / (√v̂ + eps)"),
                ([None, None, b2 * v + (1 - b2) * g], "v is an average of the squares g², not of g"),
                (
                    [None, b1 * m + g, None],
                    "the new g needs the weight (1 − beta1): m ← beta1·m + (1 − beta1)·g",
                ),
                (
                    list(_adam_rule(x, g, m, v, t, lr, 0.9, 0.999, 1e-8)),
                    "your step uses the default numbers 0.9, 0.999 and 1e-8: use the arguments beta1, beta2 and eps",
                ),
                (
                    list(_adam_rule(x, g, m, v, t + 1, lr, b1, b2, eps)),
                    "your bias correction uses t + 1: t is already the number of this step (1 at the first step)",
                ),
                (
                    [2 * x - _adam_rule(*args)[0], m_new, v_new],
                    "you stepped uphill: x ← x − lr·m̂ / (√v̂ + eps)",
                ),
            ]
            if t > 1:
                variants.append(
                    (
                        list(_adam_rule(x, g, m, v, t - 1, lr, b1, b2, eps)),
                        "your bias correction uses t − 1: t is already the number of this step (1 at the first step)",
                    )
                )
            _grade(got, [x_new, m_new, v_new], variants, at, ["x", "m", "v"])

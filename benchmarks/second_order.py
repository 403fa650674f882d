"""Benchmark: Hessian-vector products and the two ways to a Jacobian.

1. H·v of an MLP loss (20-64-64-1, tanh, mean squared error, 256 points, float64) by
   forward-over-reverse (gl.hvp) and reverse-over-reverse (the gradient of ⟨∇f, v⟩), against one
   plain gradient. Theory: an HVP costs a small constant times a gradient; target ≤ 3×.
2. jacfwd against jacrev on a tall Jacobian (3 inputs, 300 outputs) and a wide one (300 inputs,
   3 outputs). Forward mode costs one pass per input, reverse one sweep per output, so jacfwd
   should win on the tall one and jacrev on the wide one.

BLAS is pinned to one thread; each figure is the median of several timed repetitions of the
process's CPU time.

    python benchmarks/second_order.py
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import gradlab as gl  # noqa: E402

SIZES = (20, 64, 64, 1)


def mlp_loss_and_params(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((256, SIZES[0]))
    y = np.sin(x[:, :1])
    shapes = [(a, b) for a, b in zip(SIZES[:-1], SIZES[1:])]
    theta = np.concatenate(
        [np.concatenate([rng.standard_normal(s).ravel() / np.sqrt(s[0]), np.zeros(s[1])]) for s in shapes]
    )

    def loss(theta):
        h, offset = gl.Tensor(x), 0
        for i, (n_in, n_out) in enumerate(shapes):
            w = gl.reshape(theta[offset : offset + n_in * n_out], (n_in, n_out))
            offset += n_in * n_out
            b = theta[offset : offset + n_out]
            offset += n_out
            h = gl.linear(h, w, b)
            if i < len(shapes) - 1:
                h = gl.tanh(h)
        return gl.mse(h, y)

    return loss, theta


def median_time(fn, repeats=15, inner=3):
    fn()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(inner):
            fn()
        times.append((time.process_time() - start) / inner)
    return statistics.median(times)


def check_hvp(loss, theta, v):
    """Both HVPs against central differences of the gradient: (∇f(θ + εv) - ∇f(θ - εv)) / 2ε."""
    gradient = gl.grad(loss)
    eps = 1e-5
    reference = (gradient(theta + eps * v) - gradient(theta - eps * v)) / (2 * eps)
    fwd_rev = gl.hvp(loss, theta, v, mode="fwd")
    rev_rev = gl.hvp(loss, theta, v, mode="rev")
    for name, value in (("forward-over-reverse", fwd_rev), ("reverse-over-reverse", rev_rev)):
        error = np.max(np.abs(value - reference)) / np.max(np.abs(reference))
        if error > 1e-5:
            raise SystemExit(f"{name} HVP differs from finite differences (relative error {error:.2e})")


def hvp_section():
    loss, theta = mlp_loss_and_params()
    v = np.random.default_rng(1).standard_normal(theta.shape)
    check_hvp(loss, theta, v)
    gradient = gl.grad(loss)
    t_grad = median_time(lambda: gradient(theta))
    t_fwd = median_time(lambda: gl.hvp(loss, theta, v, mode="fwd"))
    t_rev = median_time(lambda: gl.hvp(loss, theta, v, mode="rev"))
    print(f"MLP {'-'.join(map(str, SIZES))} on 256 points, {theta.size} parameters")
    print(f"  one gradient               {t_grad * 1e3:8.2f} ms   1.00×")
    for name, t in (("H·v forward-over-reverse", t_fwd), ("H·v reverse-over-reverse", t_rev)):
        verdict = "meets" if t / t_grad <= 3 else "MISSES"
        print(f"  {name:<26} {t * 1e3:8.2f} ms {t / t_grad:6.2f}×   ({verdict} the target ≤ 3×)")


def jacobian_section():
    rng = np.random.default_rng(2)
    tall_w = rng.standard_normal((300, 3))
    wide_w = rng.standard_normal((3, 300))

    def tall(x):  # R³ → R³⁰⁰
        return gl.tanh(tall_w @ x) * gl.sin(x).sum()

    def wide(x):  # R³⁰⁰ → R³
        return gl.tanh(wide_w @ x) * gl.sin(x).sum()

    print("\nJacobians (median time; the faster mode should be the one theory picks)")
    for name, f, n_in, expected in (("tall 300×3", tall, 3, "jacfwd"), ("wide 3×300", wide, 300, "jacrev")):
        x = rng.standard_normal(n_in)
        np.testing.assert_allclose(gl.jacfwd(f)(x), gl.jacrev(f)(x), rtol=1e-10, atol=1e-12)
        t_fwd = median_time(lambda f=f, x=x: gl.jacfwd(f)(x), repeats=5, inner=1)
        t_rev = median_time(lambda f=f, x=x: gl.jacrev(f)(x), repeats=5, inner=1)
        winner = "jacfwd" if t_fwd < t_rev else "jacrev"
        verdict = "as theory says" if winner == expected else "AGAINST theory"
        print(f"  {name}: jacfwd {t_fwd * 1e3:8.1f} ms, jacrev {t_rev * 1e3:8.1f} ms -> {winner} wins, {verdict}")


if __name__ == "__main__":
    hvp_section()
    jacobian_section()

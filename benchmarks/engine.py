"""Benchmark: one training step of an MLP in gradlab vs the same step written by hand in NumPy.

A step is forward, backward and a plain SGD update; each layer is written as x @ W + b (two ops)
and, in the "linear" rows, as one fused op (gl.linear, torch.addmm). The targets compare with
the plain hand-written step; "numpy (tuned)" is the same step with the two faster NumPy
formulations gradlab's rules use (relu against an array of zeros, bias gradients as ones @ g),
so the ratio to it is the engine's own overhead. Two networks:
  big   784-256-256-10, ReLU, softmax cross-entropy, batch 128, float32 (matrix-multiply bound)
  tiny  2-16-16-1, ReLU, mean squared error, 256 points, float64   (per-op Python overhead bound)
PyTorch (eager, CPU) and HIPS autograd run the same steps when they are installed. The "compiled"
rows are the same gradlab steps under gl.compile (traced once, replayed as generated NumPy); their
targets are ≤ 1.15× hand-written NumPy for the tiny network and ≤ 1.0× for the big one. After the
times, the peak memory of one step (tracemalloc, which sees NumPy's allocations), eager vs compiled.

BLAS is pinned to one thread and time is the process's CPU time (so a busy neighbour on this
shared machine slows the wall clock but not the measurement); the implementations are
interleaved round by round. Reported: the median time per step over the rounds, and the median
over rounds of the ratio to hand-written NumPy.

    python benchmarks/engine.py [--rounds 15] [--network big|tiny|both]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

import gradlab as gl  # noqa: E402

LR = 0.01


def make_params(sizes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)).astype(dtype))
        params.append(np.zeros(fan_out, dtype=dtype))
    return params


def make_data(task, dtype, seed=1):
    rng = np.random.default_rng(seed)
    if task == "big":
        return rng.standard_normal((128, 784)).astype(dtype), rng.integers(0, 10, 128)
    x = rng.standard_normal((256, 2)).astype(dtype)
    return x, np.sin(x[:, :1] * 2) * x[:, 1:]


# --- hand-written NumPy --------------------------------------------------------------------------
def numpy_step(params, x, y, task, tuned=None):
    """Forward, explicit backward and SGD for the 3-layer MLP, in plain NumPy.

    tuned=(zeros, ones) uses the two faster formulations gradlab's rules use: relu as a maximum
    against an array of zeros, bias gradients as ones @ g. The engine's own overhead is its ratio
    to this variant; the plain one is the reference of the targets.
    """
    w1, b1, w2, b2, w3, b3 = params
    zero, ones = (0, None) if tuned is None else tuned
    h1 = x @ w1 + b1
    a1 = np.maximum(h1, zero)
    h2 = a1 @ w2 + b2
    a2 = np.maximum(h2, zero)
    out = a2 @ w3 + b3
    n = len(x)
    if task == "big":
        shifted = out - out.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        probs = exp / exp.sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(n), y]).mean()
        d_out = probs
        d_out[np.arange(n), y] -= 1
        d_out /= n
    else:
        diff = out - y
        loss = (diff**2).mean()
        d_out = diff * (2 / diff.size)
    d_w3 = a2.T @ d_out
    d_b3 = d_out.sum(axis=0) if ones is None else ones @ d_out
    d_h2 = (d_out @ w3.T) * (h2 > 0)
    d_w2 = a1.T @ d_h2
    d_b2 = d_h2.sum(axis=0) if ones is None else ones @ d_h2
    d_h1 = (d_h2 @ w2.T) * (h1 > 0)
    d_w1 = x.T @ d_h1
    d_b1 = d_h1.sum(axis=0) if ones is None else ones @ d_h1
    for p, g in zip(params, (d_w1, d_b1, d_w2, d_b2, d_w3, d_b3)):
        p -= LR * g
    return float(loss)


def tuned_constants(x, params):
    """(zeros like a hidden layer's activations, ones over the batch) for numpy_step(tuned=...):
    made once, as gradlab's rules cache theirs. Both hidden layers are as wide as the first."""
    return np.zeros((len(x), params[0].shape[1]), x.dtype), np.ones(len(x), x.dtype)


# --- gradlab -------------------------------------------------------------------------------------
def gradlab_step(params, x, y, task, fused=False):
    """The same step in gradlab: ops record a tape, backward() fills .grad, SGD updates in place.

    fused=False writes each layer as x @ W + b (two ops); fused=True uses gl.linear (one op),
    as a network layer does.
    """
    w1, b1, w2, b2, w3, b3 = params
    if fused:
        h = gl.relu(gl.linear(x, w1, b1))
        h = gl.relu(gl.linear(h, w2, b2))
        out = gl.linear(h, w3, b3)
    else:
        h = gl.relu(x @ w1 + b1)
        h = gl.relu(h @ w2 + b2)
        out = h @ w3 + b3
    loss = gl.cross_entropy(out, y) if task == "big" else gl.mse(out, y)
    loss.backward()
    with gl.no_grad():
        for p in params:
            p -= LR * p.grad
            p.grad = None
    return loss.item()


# --- PyTorch and HIPS autograd (optional) --------------------------------------------------------
def torch_setup(arrays, x, y, task, fused=False):
    import torch

    torch.set_num_threads(1)
    params = [torch.tensor(a, requires_grad=True) for a in arrays]
    x = torch.from_numpy(x)
    y = torch.from_numpy(y)

    def step():
        w1, b1, w2, b2, w3, b3 = params
        if fused:
            h = torch.relu(torch.addmm(b1, x, w1))
            h = torch.relu(torch.addmm(b2, h, w2))
            out = torch.addmm(b3, h, w3)
        else:
            h = torch.relu(x @ w1 + b1)
            h = torch.relu(h @ w2 + b2)
            out = h @ w3 + b3
        if task == "big":
            loss = torch.nn.functional.cross_entropy(out, y)
        else:
            loss = torch.nn.functional.mse_loss(out, y)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None
        return loss.item()

    return step


def autograd_setup(arrays, x, y, task):
    import autograd.numpy as anp
    from autograd import grad

    def loss_fn(params):
        w1, b1, w2, b2, w3, b3 = params
        h = anp.maximum(anp.dot(x, w1) + b1, 0)
        h = anp.maximum(anp.dot(h, w2) + b2, 0)
        out = anp.dot(h, w3) + b3
        if task == "big":
            shifted = out - anp.max(out, axis=1, keepdims=True)
            log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
            return -anp.mean(log_probs[np.arange(len(x)), y])
        return anp.mean((out - y) ** 2)

    gradient = grad(loss_fn)
    params = [a.copy() for a in arrays]

    def step():
        for p, g in zip(params, gradient(params)):
            p -= LR * g

    return step


def contenders(task):
    dtype = np.float32 if task == "big" else np.float64
    sizes = (784, 256, 256, 10) if task == "big" else (2, 16, 16, 1)
    x, y = make_data(task, dtype)
    arrays = make_params(sizes, dtype)
    np_params = [a.copy() for a in arrays]
    tuned_params = [a.copy() for a in arrays]
    tuned = tuned_constants(x, arrays)
    gl_params = [gl.Tensor(a.copy(), requires_grad=True) for a in arrays]
    gl_x, gl_y = gl.Tensor(x), (y if task == "big" else gl.Tensor(y))
    gl_fused_params = [gl.Tensor(a.copy(), requires_grad=True) for a in arrays]
    compiled_params = [gl.Tensor(a.copy(), requires_grad=True) for a in arrays]
    compiled_fused_params = [gl.Tensor(a.copy(), requires_grad=True) for a in arrays]
    compiled, compiled_fused = gl.compile(gradlab_step), gl.compile(gradlab_step)
    found = {
        "numpy (by hand)": lambda: numpy_step(np_params, x, y, task),
        "numpy (tuned)": lambda: numpy_step(tuned_params, x, y, task, tuned),
        "gradlab": lambda: gradlab_step(gl_params, gl_x, gl_y, task),
        "gradlab linear": lambda: gradlab_step(gl_fused_params, gl_x, gl_y, task, fused=True),
        "gradlab compiled": lambda: compiled(compiled_params, gl_x, gl_y, task),
        "gradlab linear compiled": lambda: compiled_fused(compiled_fused_params, gl_x, gl_y, task, True),
    }
    optional = (
        ("pytorch", lambda: torch_setup(arrays, x, y, task)),
        ("pytorch addmm", lambda: torch_setup(arrays, x, y, task, fused=True)),
        ("hips autograd", lambda: autograd_setup(arrays, x, y, task)),
    )
    for name, setup in optional:
        try:
            found[name] = setup()
        except ImportError:
            pass
    return found


def measure(task, rounds, steps):
    """Median seconds per step of each contender, and the median of its per-round ratio to NumPy.

    Contenders run one after another inside each round, so a ratio compares runs made seconds
    apart under the same load; the median over rounds then discards the rounds a neighbour spoiled.
    """
    steps_of = contenders(task)
    for step in steps_of.values():  # warm up caches and allocators
        for _ in range(3):
            step()
    times = {name: [] for name in steps_of}
    for _ in range(rounds):
        for name, step in steps_of.items():
            start = time.process_time()
            for _ in range(steps):
                step()
            times[name].append((time.process_time() - start) / steps)
    base = times["numpy (by hand)"]
    return {
        name: (statistics.median(t), statistics.median(a / b for a, b in zip(t, base))) for name, t in times.items()
    }


def check_same_losses():
    """Before timing: gradlab's step must produce the same losses as the hand-written one."""
    for task in ("big", "tiny"):
        dtype = np.float32 if task == "big" else np.float64
        x, y = make_data(task, dtype)
        arrays = make_params((784, 256, 256, 10) if task == "big" else (2, 16, 16, 1), dtype)
        np_params = [a.copy() for a in arrays]
        gl_params = [gl.Tensor(a.copy(), requires_grad=True) for a in arrays]
        fused_params = [gl.Tensor(a.copy(), requires_grad=True) for a in arrays]
        compiled_params = [gl.Tensor(a.copy(), requires_grad=True) for a in arrays]
        compiled = gl.compile(gradlab_step)
        tuned_params = [a.copy() for a in arrays]
        tuned = tuned_constants(x, arrays)
        for _ in range(5):
            a = numpy_step(np_params, x, y, task)
            if not np.isclose(numpy_step(tuned_params, x, y, task, tuned), a, rtol=1e-4):
                raise SystemExit(f"{task}: the tuned NumPy step's loss differs from the plain one's")
            b = gradlab_step(gl_params, x, y, task)
            c = gradlab_step(fused_params, x, y, task, fused=True)
            if not np.allclose([b, c], a, rtol=1e-4):
                raise SystemExit(f"{task}: gradlab losses {b}, {c} differ from the hand-written NumPy loss {a}")
            if compiled(compiled_params, x, y, task) != b:  # the same operations as eager, in the same order
                raise SystemExit(f"{task}: the compiled step's loss differs from the eager step's {b}")
        if compiled.traces != 1:
            raise SystemExit(f"{task}: the compiled step was traced {compiled.traces} times, not once")
        for p in gl_params + fused_params + compiled_params:
            if p.data.dtype != dtype:
                raise SystemExit(f"{task}: a parameter changed dtype to {p.data.dtype}")


def peak_memory(task) -> dict:
    """Peak bytes allocated during one step (after warm-up), eager vs compiled, both fused and not."""
    dtype = np.float32 if task == "big" else np.float64
    x, y = make_data(task, dtype)
    arrays = make_params((784, 256, 256, 10) if task == "big" else (2, 16, 16, 1), dtype)
    gl_x, gl_y = gl.Tensor(x), (y if task == "big" else gl.Tensor(y))
    peaks = {}
    for name, fused, compile_it in (
        ("gradlab", False, False),
        ("gradlab compiled", False, True),
        ("gradlab linear", True, False),
        ("gradlab linear compiled", True, True),
    ):
        params = [gl.Tensor(a.copy(), requires_grad=True) for a in arrays]
        step = gl.compile(gradlab_step) if compile_it else gradlab_step
        for _ in range(3):
            step(params, gl_x, gl_y, task, fused)
        tracemalloc.start()
        step(params, gl_x, gl_y, task, fused)
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peaks


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--network", choices=("big", "tiny", "both"), default="both")
    args = parser.parse_args()
    check_same_losses()
    targets = {"big": 1.05, "tiny": 1.5}
    compiled_targets = {"big": 1.0, "tiny": 1.15}
    print(
        f"median time per training step over {args.rounds} rounds, BLAS on 1 thread; ratio = median of per-round ratios"
    )
    print(f"{'network':<6} {'implementation':<23} {'step':>10} {'vs numpy':>9}")
    for task, steps in (("big", 10), ("tiny", 300)):
        if args.network not in (task, "both"):
            continue
        results = measure(task, args.rounds, steps)
        for name, (seconds, ratio) in results.items():
            print(f"{task:<6} {name:<23} {seconds * 1e6:>8.1f}µs {ratio:>8.2f}×")
        for name in ("gradlab", "gradlab linear", "gradlab compiled", "gradlab linear compiled"):
            ratio = results[name][1]
            target = compiled_targets[task] if name.endswith("compiled") else targets[task]
            verdict = "meets" if ratio <= target else "MISSES"
            print(f"{task:<6} {name} {ratio:.2f}× hand-written NumPy: {verdict} the target ≤ {target}×")
        tuned = results["numpy (tuned)"][1]
        print(
            f"{task:<6} engine overhead alone (vs the tuned NumPy step): gradlab {results['gradlab'][1] / tuned:.2f}×, "
            f"gradlab linear {results['gradlab linear'][1] / tuned:.2f}×"
        )
        peaks = peak_memory(task)
        print(f"{task:<6} peak memory of one step: " + ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in peaks.items()))
        for name in ("gradlab", "gradlab linear"):
            verdict = "meets" if peaks[f"{name} compiled"] <= peaks[name] else "MISSES"
            print(f"{task:<6} {name} compiled memory ≤ eager: {verdict}")
        print()


if __name__ == "__main__":
    main()

"""Benchmark: MNIST with gradlab's MLP and CNN — test accuracy, and time per epoch beside PyTorch.

Two parts:
  accuracy  train each model on the 60,000 training images (the gradlab CLI's training: Adam,
            batch 128) and report the accuracy on the official 10,000 test images, with the
            wall time per epoch. Targets: MLP >= 98.0 %, CNN >= 99.0 %.
  speed     the same training step (forward, cross-entropy, backward, Adam) of the same
            architecture in gradlab (eager, and through gl.compile: traced once, replayed as
            generated NumPy) and in PyTorch (CPU, eager), BLAS and torch on one thread,
            interleaved round by round on identical batches, timed as process CPU time (robust to
            busy neighbours on a shared machine); the median time per step, projected to an epoch
            (469 steps), and the median per-round ratio. Targets: MLP <= 0.9x, CNN <= 1.5x PyTorch.
            Beside it, the peak memory of three training steps above the loaded batch and the built
            model (in a fresh process each; Linux; a compiled step's first call is its trace), and
            the BLAS library's kernels.

    GRADLAB_DATA=../shared/data/mnist python benchmarks/mnist.py [--part speed|accuracy|both]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import concurrent.futures  # noqa: E402
import multiprocessing  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gradlab as gl  # noqa: E402
from gradlab import optim  # noqa: E402
from gradlab.apps.mnist import cnn, mlp, train_mnist  # noqa: E402
from gradlab.data import load_mnist  # noqa: E402

DATA = os.environ.get("GRADLAB_DATA") or str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
STEPS_PER_EPOCH = 469  # ceil(60000 / 128)


def torch_model(kind):
    import torch

    t = torch.nn
    if kind == "mlp":
        return t.Sequential(
            t.Flatten(),
            t.Linear(784, 512),
            t.ReLU(),
            t.Dropout(0.2),
            t.Linear(512, 512),
            t.ReLU(),
            t.Dropout(0.2),
            t.Linear(512, 10),
        )
    return t.Sequential(
        t.Conv2d(1, 32, 5, padding=2),
        t.ReLU(),
        t.MaxPool2d(2),
        t.Conv2d(32, 64, 5, padding=2),
        t.ReLU(),
        t.MaxPool2d(2),
        t.Flatten(),
        t.Linear(64 * 7 * 7, 256),
        t.ReLU(),
        t.Dropout(0.3),
        t.Linear(256, 10),
    )


def gradlab_step_fn(kind, compiled=False):
    model = mlp() if kind == "mlp" else cnn()
    model.train()
    opt = optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):
        loss = gl.cross_entropy(model(gl.Tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return gl.compile(step) if compiled else step


def torch_step_fn(kind):
    import torch

    torch.set_num_threads(1)
    model = torch_model(kind)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def training_memory_mb(kind, name, steps=3):
    """Peak resident memory of `steps` training steps above the memory of the loaded batch and the
    built model, in MB, measured in a fresh process (Linux: the high-water mark VmHWM, reset through
    /proc/self/clear_refs once the model is built); None where that is unavailable."""
    context = multiprocessing.get_context("spawn")  # a fresh process: nothing left over from the timing
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_training_memory_mb, kind, name, steps).result()


def _training_memory_mb(kind, name, steps):
    x, y = load_mnist(DATA, split="train", limit=128)
    step = torch_step_fn(kind) if name == "pytorch" else gradlab_step_fn(kind, compiled=name == "gradlab compiled")
    try:
        before = _proc_status_kb("VmRSS")
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # reset the high-water mark to the current resident size
    except OSError:
        return None
    for _ in range(steps):
        step(x, y)
    return (_proc_status_kb("VmHWM") - before) / 1024


def _proc_status_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"/proc/self/status has no {field}")


def blas_description():
    """The BLAS library, its kernels and its thread count, as threadpoolctl reports them."""
    from threadpoolctl import threadpool_info

    return ", ".join(
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture', '?')} kernels, {i['num_threads']} thread)"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    )


def speed(kind, rounds, steps):
    x, y = load_mnist(DATA, split="train", limit=128 * steps)
    batches = [(x[i : i + 128], y[i : i + 128]) for i in range(0, len(x), 128)]
    contenders = {"gradlab": gradlab_step_fn(kind), "gradlab compiled": gradlab_step_fn(kind, compiled=True)}
    try:
        contenders["pytorch"] = torch_step_fn(kind)
    except ImportError:
        print("(PyTorch is not installed: pip install torch==2.13.0 for the comparison)")
    for step in contenders.values():
        step(*batches[0])
    times = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, step in contenders.items():
            start = time.process_time()
            for xb, yb in batches:
                step(xb, yb)
            times[name].append((time.process_time() - start) / len(batches))
    if contenders["gradlab compiled"].traces != 1:  # a retrace at every step would time the tracer
        raise SystemExit(f"the compiled {kind} step was traced {contenders['gradlab compiled'].traces} times, not once")
    memory = {name: training_memory_mb(kind, name) for name in contenders}
    print(f"\n{kind.upper()} training step, batch 128, one thread each, median of {rounds} rounds of {steps} steps")
    base = times.get("pytorch")
    for name, t in times.items():
        ratio = "" if base is None else f"{statistics.median(a / b for a, b in zip(t, base)):6.2f}x PyTorch"
        per_step = statistics.median(t)
        peak = "" if memory[name] is None else f"  {memory[name]:5.0f} MB peak"
        print(f"  {name:<16} {per_step * 1e3:8.1f} ms/step  ~{per_step * STEPS_PER_EPOCH:6.1f} s/epoch  {ratio}{peak}")


def accuracy(kind, epochs):
    result = train_mnist(kind, epochs=epochs, data_dir=DATA, verbose=True)
    target = 0.98 if kind == "mlp" else 0.99
    verdict = "meets" if result.test_accuracy >= target else "MISSES"
    print(
        f"{kind.upper()}: test accuracy {result.test_accuracy:.2%} after {epochs} epochs "
        f"({result.seconds_per_epoch:.1f} s/epoch): {verdict} the target {target:.0%}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["speed", "accuracy", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--mlp-epochs", type=int, default=15)
    parser.add_argument("--cnn-epochs", type=int, default=3)
    args = parser.parse_args()
    if args.part in ("speed", "both"):
        print(f"BLAS: {blas_description()}")
        for kind in ("mlp", "cnn"):
            speed(kind, args.rounds, args.steps)
    if args.part in ("accuracy", "both"):
        accuracy("mlp", args.mlp_epochs)
        accuracy("cnn", args.cnn_epochs)


if __name__ == "__main__":
    main()

"""Benchmark: fit() and the lab's training step, eager (compile=False) beside gl.compile (compile=True).

Two parts, BLAS (and torch) on one thread, contenders interleaved round by round, timed as process
CPU time (robust to busy neighbours on a shared machine); medians over rounds, and the median of
per-round ratios:
  mnist  one epoch of nn.fit on the MNIST MLP (784-512-512-10, ReLU, dropout 0.2, float32, Adam,
         batch 128, shuffled) on `--limit` training images, compile=False and compile=True, beside
         the same epoch as a plain PyTorch eager loop (same batches, same architecture).
         Target (issue 18): the compiled step <= 0.9x PyTorch eager.
  lab    the backprop-flow session's training step (TrainingSession: moons, 2-8-8-1 tanh, Adam,
         full batch of 210 points), its compiled step against the same step run as written.

    GRADLAB_DATA=../shared/data/mnist python benchmarks/fit_compile.py [--part mnist|lab|both]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from gradlab import nn, optim  # noqa: E402
from gradlab.apps.mnist import mlp  # noqa: E402
from gradlab.data import load_mnist  # noqa: E402
from gradlab.lab.training import TrainingConfig, TrainingSession  # noqa: E402
from mnist import DATA, blas_description, torch_model  # noqa: E402  (benchmarks/mnist.py, beside this file)

BATCH = 128


def fit_epoch(compiled: bool):
    def run(x, y):
        model = mlp(seed=0)
        history = nn.fit(
            model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3), (x, y),
            epochs=1, batch_size=BATCH, verbose=False, compile=compiled,
        )  # fmt: skip
        assert history.compiled == compiled, history.compile_note
        return history.traces

    return run


def torch_epoch(x, y):
    import torch

    torch.set_num_threads(1)
    model = torch_model("mlp")
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = np.random.default_rng(0).permutation(len(x))
    xs, ys = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    for start in range(0, len(x), BATCH):
        index = torch.from_numpy(order[start : start + BATCH])
        loss = torch.nn.functional.cross_entropy(model(xs[index]), ys[index])
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()  # as fit reads the loss at every step
    return 0


def interleaved(contenders: dict, rounds: int, *args) -> dict:
    """{name: [CPU seconds per round]}, the contenders run one after another in every round."""
    times = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            start = time.process_time()
            run(*args)
            times[name].append(time.process_time() - start)
    return times


def report(times: dict, unit: str, scale: float, base: str):
    """Each contender's median time per `unit` and its median per-round ratio to `base`."""
    for name, t in times.items():
        ratio = statistics.median(a / b for a, b in zip(t, times[base]))
        shown = "" if name == base else f"  {ratio:5.2f}x {base}"
        print(f"  {name:<18} {statistics.median(t) * scale:9.2f} {unit}{shown}")


def mnist_part(rounds: int, limit: int):
    x, y = load_mnist(DATA, split="train", limit=limit)
    contenders = {"fit compile=False": fit_epoch(False), "fit compile=True": fit_epoch(True)}
    try:
        import torch  # noqa: F401

        contenders["pytorch eager loop"] = torch_epoch
    except ImportError:
        print("(PyTorch is not installed: pip install torch==2.13.0 for the comparison)")
    times = interleaved(contenders, rounds, x, y)
    steps = -(-len(x) // BATCH)
    print(f"\nMNIST MLP: one epoch of {len(x)} images ({steps} steps of {BATCH}), median of {rounds} rounds, CPU time")
    base = "pytorch eager loop" if "pytorch eager loop" in times else "fit compile=False"
    report(times, "s/epoch", 1.0, base)
    ratio = statistics.median(a / b for a, b in zip(times["fit compile=True"], times["fit compile=False"]))
    print(f"  compiled / eager fit: {ratio:.2f}x")


def lab_part(rounds: int, steps: int):
    config = TrainingConfig()
    eager, compiled = TrainingSession(config, "eager", compile=False), TrainingSession(config, "compiled")
    sessions = {"lab step eager": eager, "lab step compiled": compiled}

    def stepper(session):
        def run():
            for _ in range(steps):
                session.train_step(session.x_train, session.t_train, session._l2())

        return run

    times = interleaved({name: stepper(s) for name, s in sessions.items()}, rounds)
    traces = compiled.train_step.traces
    print(f"\nLab backprop-flow step ({len(eager.x_train)} points, {config.hidden}, {config.optimizer}), "
          f"median of {rounds} rounds of {steps} steps, CPU time; {traces} trace")  # fmt: skip
    report(times, "µs/step", 1e6 / steps, "lab step eager")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["mnist", "lab", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=60000, help="training images per epoch (MNIST part)")
    parser.add_argument("--lab-steps", type=int, default=500)
    args = parser.parse_args()
    print(f"BLAS: {blas_description()}")
    if args.part in ("mnist", "both"):
        mnist_part(args.rounds, args.limit)
    if args.part in ("lab", "both"):
        lab_part(max(args.rounds, 5), args.lab_steps)


if __name__ == "__main__":
    main()

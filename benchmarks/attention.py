"""Benchmark: does 1/√d_k matter for learning? Key–value retrieval at d_k = 512, with and without it.

The task (gradlab.apps.attention.retrieval_batch): 32 (key, value) pairs with distinct keys out of 64, a
query that is one of the keys, and the answer is its value (one of 8, so chance is 12.5 %). One attention
head must make q·k largest for the key equal to the query; W_q, W_k start so that q and k have entries of
variance ≈ 1, the setting of Vaswani et al.'s footnote 4, where q·k has variance d_k = 512.

Runs, each on fresh test examples (2,000), BLAS on one thread, CPU seconds:
1. the experiment's table (medians over 200 draws, 64 keys);
2. plain SGD (lr 0.5, batch 32), 400 steps, three seeds, scaled and unscaled;
3. the same with Adam (lr 3e-3): Adam divides each step by the gradient's running size, so a gradient that
   has shrunk by e^(−gap) is partly scaled back up, and the unscaled model may learn some of the way.

Target: the scaled model ≥ 95 % within the run, the unscaled one near chance with SGD, all in under a
minute on one core.

    python benchmarks/attention.py
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import time  # noqa: E402

from gradlab.apps.attention import format_table, scaling_experiment, train_retrieval  # noqa: E402

STEPS = 400


def main() -> None:
    start = time.process_time()
    print(format_table(scaling_experiment()))
    print(f"(table: {time.process_time() - start:.1f} s)\n")
    print(f"key–value retrieval, d_k = 512, 32 pairs, 8 values (chance 12.5 %), {STEPS} steps of batch 32")
    for optimizer, lr in (("sgd", 0.5), ("adam", 3e-3)):
        for scale, label in ((True, "scaled 1/√d_k"), (False, "unscaled")):
            for seed in (0, 1, 2):
                result = train_retrieval(scale=scale, steps=STEPS, lr=lr, seed=seed, optimizer=optimizer)
                reached = next((i for i, loss in enumerate(result["losses"]) if loss < 0.05), None)
                print(
                    f"  {optimizer:>4} {label:>14}  seed {seed}: test accuracy {result['accuracy']:6.1%}, "
                    f"final loss {result['losses'][-1]:.3g}, first step with loss < 0.05: "
                    f"{'never' if reached is None else reached}, {result['seconds']:.1f} s"
                )
    print(f"\ntotal {time.process_time() - start:.1f} s CPU")


if __name__ == "__main__":
    main()

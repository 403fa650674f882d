"""Benchmark: REINFORCE with a learned value baseline on CartPole-v1, 10 seeds × ≤ 400 episodes.

Solved = the mean return of the last 100 episodes reaches 475; "episodes to solve" is the 1-based index of
the episode at which that first holds. Target (issue 16): solved within ≤ 400 episodes on at least 9 of 10
seeds, median ≤ 300, under 60 s per seed on one core, and a greedy evaluation of the final policy ≥ 490.

Per seed, BLAS on one thread, wall-clock seconds:
1. the run as `gradlab rl cartpole` does it: stop when solved; greedy mean over 10 episodes of that policy;
2. the same seed trained on to all 400 episodes (no stop): the greedy score of the policy at episode 400;
3. without the learned baseline (returns only normalised per episode), stop when solved;
then the gradient estimator's variance with and without the baseline at three fixed policies (the untrained
one and the policies of seed 0 after 50 and 150 episodes), 100 episodes each.

    python benchmarks/policy_gradient.py [--seeds 10] [--episodes 400]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402

import numpy as np  # noqa: E402

from gradlab.apps.policy_gradient import PolicyNet, evaluate_greedy, gradient_variance, train_cartpole  # noqa: E402


def _solved(at):
    return "—" if at is None else str(at)


def _summary(solved_at, episodes) -> str:
    """'solved k/n, median m episodes'; an unsolved seed counts as more than `episodes` in the median."""
    ok = [s for s in solved_at if s is not None]
    median = np.median([s if s is not None else np.inf for s in solved_at])
    shown = f"{median:.0f}" if np.isfinite(median) else f"> {episodes}"
    return f"solved {len(ok)}/{len(solved_at)}, median {shown} episodes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--episodes", type=int, default=400)
    args = parser.parse_args()

    print(f"REINFORCE + value baseline, CartPole-v1, ≤ {args.episodes} episodes, solved = mean of last 100 ≥ 475")
    header = "seed | solved at | greedy@solve | s    | greedy@400 | mean100@400 | s    | no baseline: solved at | s"
    print(header)
    print("-" * len(header))
    solved, greedy, greedy_end, plain, seconds = [], [], [], [], []
    for seed in range(args.seeds):
        run = train_cartpole(seed=seed, episodes=args.episodes, stop_when_solved=True)
        g = evaluate_greedy(run.policy, 10)
        full = train_cartpole(seed=seed, episodes=args.episodes)
        g_end = evaluate_greedy(full.policy, 10)
        nob = train_cartpole(seed=seed, episodes=args.episodes, stop_when_solved=True, baseline=False)
        solved.append(run.solved_at)
        greedy.append(g)
        greedy_end.append(g_end)
        plain.append(nob.solved_at)
        seconds.append(full.seconds)
        print(
            f"{seed:4d} | {_solved(run.solved_at):>9} | {g:12.1f} | {run.seconds:4.1f} | {g_end:10.1f} | "
            f"{full.mean100[-1]:11.1f} | {full.seconds:4.1f} | {_solved(nob.solved_at):>22} | {nob.seconds:.1f}",
            flush=True,
        )
    print(
        f"with baseline: {_summary(solved, args.episodes)}, greedy@solve mean {np.mean(greedy):.1f}, "
        f"greedy@{args.episodes} mean {np.mean(greedy_end):.1f}, slowest full run {max(seconds):.1f} s"
    )
    print(f"without baseline: {_summary(plain, args.episodes)}")

    print("\ngradient variance tr Cov(ĝ), ĝ = Σ_t ∇log π(a_t|s_t) Ψ_t, 100 episodes, V fitted on 100 others")
    print("policy               | mean return | Ψ = G_t      | Ψ = G_t − V(s_t) | ratio")
    policies = [("untrained (seed 0)", PolicyNet(seed=0))]
    for n in (50, 150):
        policies.append((f"seed 0 after {n} ep.", train_cartpole(seed=0, episodes=n).policy))
    for name, policy in policies:
        v = gradient_variance(policy, episodes=100, seed=7)
        cells = f"{v['mean_return']:11.1f} | {v['var_plain']:12.4g} | {v['var_baseline']:16.4g} | {v['ratio']:.1f}"
        print(f"{name:20s} | {cells}")


if __name__ == "__main__":
    main()

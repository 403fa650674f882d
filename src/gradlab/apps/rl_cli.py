"""`gradlab rl`: reinforcement learning by policy gradients.

    gradlab rl cartpole [--seed S] [--episodes N] [--full] [--plot curve.png]

cartpole trains REINFORCE with a learned value baseline on Gymnasium's CartPole-v1 and prints the
episodes it needed to solve it: the first episode at which the mean return of the last 100 episodes is
≥ 475. It stops there (--full keeps training to N episodes), then scores the greedy policy on 10 episodes.

To wire it into a parser: add_rl_command(subparsers), then `if args.command == "rl": return run(args)`.
"""

from __future__ import annotations

import argparse
import sys

from ..argtypes import figure_file, whole

__all__ = ["add_rl_command", "run"]


def add_rl_command(subparsers) -> argparse.ArgumentParser:
    """Add the `rl` command (action: cartpole) to an argparse sub-parser collection."""
    rl = subparsers.add_parser(
        "rl",
        help="policy gradients: REINFORCE with a value baseline on CartPole-v1",
        description=__doc__.split("\n\n")[0],
    )
    rl.set_defaults(rl_parser=rl)
    actions = rl.add_subparsers(dest="rl_command", metavar="ACTION")
    cartpole = actions.add_parser(
        "cartpole",
        help="train on CartPole-v1 and print the episodes-to-solve",
        description="REINFORCE with a learned value baseline and normalised advantages on CartPole-v1. "
        "Solved = the mean return of the last 100 episodes reaches 475; the episode where that first "
        "holds is printed.",
    )
    cartpole.add_argument("--seed", type=whole(0), default=0, help="random seed (default 0)")
    cartpole.add_argument(
        "--episodes", type=whole(1), default=400, help="at most this many episodes (default 400, at most 5000)"
    )
    cartpole.add_argument("--full", action="store_true", help="keep training after solving, up to --episodes")
    cartpole.add_argument("--plot", type=figure_file, help="learning curves to this file (e.g. curve.png)")
    cartpole.add_argument("--quiet", action="store_true", help="no progress line every 50 episodes")
    return rl


def run(args, out=None) -> int:
    """Execute a parsed `rl` command; 0 when solved, 1 when not solved within --episodes, 2 on a user error."""
    out = sys.stdout if out is None else out
    if getattr(args, "rl_command", None) is None:
        args.rl_parser.print_help(out)
        return 0
    if args.episodes > 5000:
        print(f"gradlab rl cartpole: --episodes must be at most 5000, got {args.episodes}", file=sys.stderr)
        return 2
    from .policy_gradient import SOLVED_MEAN, SOLVED_WINDOW, evaluate_greedy, plot_run, train_cartpole

    def progress(episode, run_):
        if not args.quiet and episode % 50 == 0:
            print(
                f"episode {episode:4d}: return {run_.returns[-1]:5.0f}, mean of last 100 {run_.mean100[-1]:6.1f}",
                file=out,
            )

    run_ = train_cartpole(seed=args.seed, episodes=args.episodes, stop_when_solved=not args.full, callback=progress)
    greedy = evaluate_greedy(run_.policy, episodes=10)
    took = f"{len(run_.returns)} episodes in {run_.seconds:.1f} s"
    print(f"{took}; greedy policy: mean return {greedy:.1f} over 10 episodes", file=out)
    if args.plot and args.plot != "none":
        plot_run(run_, args.plot)
        print(f"figure written to {args.plot}", file=out)
    if run_.solved_at is None:
        print(
            f"not solved within {args.episodes} episodes (best mean of {SOLVED_WINDOW}: "
            f"{max(run_.mean100):.1f} < {SOLVED_MEAN:.0f})",
            file=out,
        )
        return 1
    print(
        f"episodes to solve: {run_.solved_at} (mean of episodes {run_.solved_at - 99}..{run_.solved_at} ≥ 475)",
        file=out,
    )
    return 0

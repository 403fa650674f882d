"""What `gradlab recommend train --workers N [--address ray://…] [--algorithm dsgd|ps] [--staleness S]` runs.

recommender_cli.py declares the four flags (add_distributed_arguments: there, so that building the parser does not
import the recommender and Numba) and calls run_train_distributed once train/test/titles are loaded.
"""

from __future__ import annotations

import sys

from .cluster import RayMissingError, WorkerLostError
from .train import train_distributed


def run_train_distributed(args, train, test, titles, where: str, save_to, out=None) -> int:
    """Fit on the cluster, print each epoch and the test score, save the model to save_to; 0 on success,
    1 when a worker was lost for good or training diverged, 2 on a usage error, 130 on Ctrl-C."""
    out = sys.stdout if out is None else out
    try:
        options = _options(args)
        algorithm = args.algorithm or "dsgd"
        cluster = args.address or "a local Ray cluster"
        bound = "" if args.staleness is None else f" with staleness bound {args.staleness}"
        print(
            f"fitting sgd by {algorithm}{bound} on {args.workers} workers ({cluster}) on {where.format(n=len(train))}",
            file=out,
            flush=True,
        )
        model = train_distributed(
            train, args.workers, algorithm, args.address, args.staleness, titles=titles,
            progress=not args.quiet, out=out, **options,
        )  # fmt: skip
    except (RayMissingError, ValueError, ConnectionError) as error:
        print(f"gradlab recommend train: {error}", file=sys.stderr)
        return 2
    except (WorkerLostError, FloatingPointError) as error:
        print(f"gradlab recommend train: {error}; nothing was saved", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("gradlab recommend train: interrupted; the workers were stopped and nothing was saved", file=sys.stderr)
        return 130
    print(f"fitted in {model.fit_seconds:.2f} s (wall); train RMSE {model.history[-1]:.4f}", file=out)
    if test is not None:
        print(f"test on u{args.fold}.test: {model.evaluate(test)}", file=out)
    path = model.save(save_to)
    print(f"model saved to {path} (algorithm {algorithm}, {args.workers} workers, {model.hyper['address']})", file=out)
    return 0


def _options(args) -> dict:
    if args.workers is None:
        raise ValueError("--address, --algorithm and --staleness go with --workers N (distributed training)")
    if args.model != "sgd":
        raise ValueError(f"--workers trains SGD; --model {args.model} runs on one machine (leave --workers out)")
    if args.staleness is not None and args.algorithm != "ps":
        raise ValueError("--staleness bounds the parameter server's workers: use it with --algorithm ps")
    options = {"factors": args.factors, "epochs": args.epochs, "lr": args.lr, "reg": args.reg}
    options.update(reg_bias=args.reg_bias, seed=args.seed)
    return {name: value for name, value in options.items() if value is not None}

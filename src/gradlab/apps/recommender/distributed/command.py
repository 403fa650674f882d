"""What `gradlab recommend train --workers N [--address ray://…] [--algorithm dsgd|ps] [--staleness S]` runs.

Wiring into recommender_cli.py (two calls):
    add_distributed_arguments(train_parser)                     # the four flags, after the others
    if wants_distributed(args):                                 # in _train, once train/test/titles are loaded
        return run_train_distributed(args, train, test, titles, where, args.save or default_model_path(), out)
"""

from __future__ import annotations

import sys

from ....argtypes import whole
from .cluster import RayMissingError, WorkerLostError
from .train import ALGORITHMS, train_distributed


def add_distributed_arguments(train) -> None:
    """--workers, --address, --algorithm and --staleness on the `recommend train` parser."""
    group = train.add_argument_group("distributed training on Ray (pip install 'gradlab[distributed]')")
    group.add_argument("--workers", type=whole(1), help="train SGD on N Ray workers (default: one machine, no Ray)")
    group.add_argument(
        "--address", help="join this Ray cluster, e.g. ray://head:10001 (default: start a local one for the fit)"
    )
    kinds = "dsgd: conflict-free blocks (default); ps: an asynchronous parameter server"
    group.add_argument("--algorithm", choices=ALGORITHMS, help=kinds)
    group.add_argument(
        "--staleness", type=whole(0), help="ps only: no worker runs more than S blocks ahead (default: unbounded)"
    )


def wants_distributed(args) -> bool:
    """Whether any distributed flag was given (run_train_distributed then checks they make sense together)."""
    return any(getattr(args, name, None) is not None for name in ("workers", "address", "algorithm", "staleness"))


def run_train_distributed(args, train, test, titles, where: str, save_to, out=None) -> int:
    """Fit on the cluster, print each epoch and the test score, save the model to save_to; 0 on success,
    1 when a worker was lost for good or training diverged, 2 on a usage error, 130 on Ctrl-C."""
    out = sys.stdout if out is None else out
    try:
        options = _options(args)
        algorithm = args.algorithm or "dsgd"
        cluster = args.address or "a local Ray cluster"
        print(
            f"fitting sgd by {algorithm} on {args.workers} workers ({cluster}) on {where.format(n=len(train))}",
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

"""`gradlab data download mnist|movielens-100k|movielens-1m|-10m|-20m|-25m [--to DIR]`: fetch a data set from
its publisher into the cache that the loaders read by default, verified against its published checksums.
`gradlab data synth --ratings N --out DIR`: low-rank-plus-noise ratings (gradlab.data.synthetic), streamed to DIR.

    add_data_command(subparsers)   adds the `data` sub-command
    run(args) -> int               0 on success, 1 when the download failed (network, checksum),
                                   2 on a user error (message on stderr), 130 when interrupted

Where the files go (and where the other commands look when given no --data):

    mnist            $GRADLAB_DATA if set, else ~/.cache/gradlab/mnist      (the four .gz files)
    movielens-100k   ~/.cache/gradlab/ml-100k                               (u.data, u.item, u1.base …)
    movielens-20m    ~/.cache/gradlab/ml-20m (1m, 10m, 25m alike)           (ratings and movies, SHA256SUMS)

--to DIR puts them in DIR instead; pass the same DIR as --data afterwards. A download that breaks off
leaves a .part file that the same command resumes.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from ..argtypes import non_negative, positive, whole

__all__ = ["add_data_command", "run"]

DATASETS = {
    "mnist": "MNIST",
    "movielens-100k": "MovieLens 100K",
    "movielens-1m": "MovieLens 1M",
    "movielens-10m": "MovieLens 10M",
    "movielens-20m": "MovieLens 20M",
    "movielens-25m": "MovieLens 25M",
}
LARGE = ("movielens-1m", "movielens-10m", "movielens-20m", "movielens-25m")
ML20M_USERS, ML20M_ITEMS = 138_493, 26_744  # MovieLens-20M's shape: the synthetic set's default


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://", "file://")):
        raise argparse.ArgumentTypeError(f"must be an http://, https:// or file:// address, got {text!r}")
    return text


def add_data_command(subparsers) -> argparse.ArgumentParser:
    """Add `data` to an argparse sub-parser set (the `gradlab` command's `commands`)."""
    data = subparsers.add_parser(
        "data", help="download the real data sets (MNIST, MovieLens) into the cache, or make synthetic ratings"
    )
    data.set_defaults(data_parser=data)
    actions = data.add_subparsers(dest="data_command", metavar="ACTION")
    download = actions.add_parser(
        "download",
        help="fetch a data set and verify its checksums",
        description="Fetch a data set from its publisher, verify its SHA-256 checksums and put it where the other "
        "commands look by default (mnist: $GRADLAB_DATA or ~/.cache/gradlab/mnist; movielens-100k: "
        "~/.cache/gradlab/ml-100k; movielens-20m: ~/.cache/gradlab/ml-20m, and so on). A broken download is "
        "resumed by running the same command again.",
    )
    download.add_argument(
        "dataset",
        choices=list(DATASETS),
        help="mnist (11 MB, LeCun et al.), movielens-100k (5 MB), -1m (6 MB), -10m, -20m (199 MB) or -25m "
        "(262 MB; GroupLens)",
    )
    download.add_argument(
        "--to", metavar="DIR", help="folder to write into (default: the cache the other commands read)"
    )
    download.add_argument(
        "--mirror",
        action="append",
        type=_url,
        metavar="URL",
        help="base address to fetch from instead of the publisher's (the file names are appended); "
        "may be given more than once, tried in order",
    )
    download.add_argument(
        "--retries",
        type=whole(0),
        default=3,
        metavar="N",
        help="attempts after a cut connection, per address (default 3)",
    )
    download.add_argument(
        "--timeout",
        type=positive,
        default=15.0,
        metavar="SECONDS",
        help="give up on an address that sends nothing for this long (default 15)",
    )
    download.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    _add_synth(actions)
    return data


def _add_synth(actions) -> None:
    synth = actions.add_parser(
        "synth",
        help="make synthetic ratings (low rank plus noise, long-tailed popularity) of any size",
        description="Draw ratings r = 3.5 + b_u + c_i + p_u·q_i + noise for users and items with Zipf-like "
        "popularity (see gradlab.data.synthetic), block by block into DIR (user.npy, item.npy, rating.npy, "
        "truth.npz, meta.json), so memory stays bounded whatever the count. Same seed, same ratings. Read "
        "them back with gradlab.data.open_ratings(DIR).",
    )
    synth.add_argument("--ratings", type=whole(1), required=True, metavar="N", help="how many ratings")
    synth.add_argument("--out", required=True, metavar="DIR", help="folder to write into (created)")
    synth.add_argument("--users", type=whole(1), default=ML20M_USERS, help=f"users (default {ML20M_USERS:,})")
    synth.add_argument("--items", type=whole(1), default=ML20M_ITEMS, help=f"items (default {ML20M_ITEMS:,})")
    synth.add_argument("--rank", type=whole(1), default=10, help="rank of the model (default 10)")
    synth.add_argument("--noise", type=non_negative, default=0.5, help="noise standard deviation (default 0.5)")
    synth.add_argument("--seed", type=whole(0), default=0, help="random seed (default 0)")
    synth.add_argument("--user-skew", type=non_negative, default=1.0, help="Zipf exponent of users (default 1)")
    synth.add_argument("--item-skew", type=non_negative, default=1.0, help="Zipf exponent of items (default 1)")
    synth.add_argument(
        "--continuous", action="store_true", help="keep ratings continuous (default: half stars 0.5 … 5)"
    )
    synth.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")


def _run_synth(args) -> int:
    from .synthetic import write_ratings

    start = time.monotonic()
    try:
        folder = write_ratings(
            args.out, args.ratings, args.users, args.items, args.rank, args.noise, args.seed,
            user_skew=args.user_skew, item_skew=args.item_skew, stars=not args.continuous, progress=not args.quiet,
        )  # fmt: skip
    except KeyboardInterrupt:
        print(f"\ngradlab data synth: interrupted; {args.out} is incomplete (no meta.json)", file=sys.stderr)
        return 130
    except ValueError as error:
        print(f"gradlab data synth: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        if Path(args.out).expanduser().exists() and not Path(args.out).expanduser().is_dir():
            reason = "it is a file, not a folder; give --out a folder (made if missing)"
        else:
            reason = error.strerror or str(error)
        print(f"gradlab data synth: cannot write into {args.out}: {reason}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - start
    print(
        f"{args.ratings:,} synthetic ratings ({args.users:,} users × {args.items:,} items, rank {args.rank}, "
        f"noise {args.noise:g}, seed {args.seed}) in {folder} ({12 * args.ratings / 1e6:,.0f} MB, {seconds:.1f} s)."
    )
    print(f"Read them with gradlab.data.open_ratings({str(folder)!r}).")
    return 0


def _remove_if_left_empty(folder: Path, made: bool) -> None:
    """A download that failed before any byte arrived leaves no folder it made (only empty .part files in it):
    an empty ml-1m folder would later pass for a data set and draw advice about the wrong one."""
    if not made or not folder.is_dir():
        return
    leftovers = list(folder.iterdir())
    if all(path.suffix == ".part" and path.is_file() and path.stat().st_size == 0 for path in leftovers):
        for path in leftovers:
            path.unlink()
        folder.rmdir()


def run(args) -> int:
    """Execute a parsed `data` command."""
    if getattr(args, "data_command", None) is None:
        parser = getattr(args, "data_parser", None)
        if parser is not None:
            parser.print_help()
        return 0 if parser is not None else 2
    if args.data_command == "synth":
        return _run_synth(args)
    from .checksums import ChecksumError
    from .download import DownloadError
    from .mnist import MIRRORS as MNIST_MIRRORS
    from .mnist import default_root as mnist_root
    from .mnist import download_mnist
    from .movielens import MIRRORS as MOVIELENS_MIRRORS
    from .movielens import default_root as movielens_root
    from .movielens import download_movielens

    name = DATASETS[args.dataset]
    if args.dataset in LARGE:
        from functools import partial

        from .movielens_large import default_root as large_root
        from .movielens_large import download_movielens_large

        version = args.dataset.removeprefix("movielens-")
        download, mirrors, default = partial(download_movielens_large, version), MOVIELENS_MIRRORS, large_root(version)
        then = f"gradlab.data.load_movielens({version!r}"
    elif args.dataset == "mnist":
        download, mirrors, default, then = download_mnist, MNIST_MIRRORS, mnist_root(), "gradlab train mnist"
    else:
        download, mirrors, default = download_movielens, MOVIELENS_MIRRORS, movielens_root()
        then = "gradlab recommend train"
    folder = Path(args.to).expanduser() if args.to else default
    made = not folder.exists()
    start = time.monotonic()
    try:
        folder = download(
            folder, mirror=args.mirror or mirrors, retries=args.retries, timeout=args.timeout, progress=not args.quiet
        )
    except KeyboardInterrupt:
        print(
            f"\ngradlab data download: interrupted; what was fetched is kept (a .part file in {folder}): "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    except (ChecksumError, DownloadError) as error:
        _remove_if_left_empty(folder, made)
        print(f"gradlab data download: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:  # a folder that cannot be made or written, say
        _remove_if_left_empty(folder, made)
        reason = "it is a file, not a folder" if folder.is_file() else (getattr(error, "strerror", None) or error)
        print(f"gradlab data download: cannot write {name} into {folder}: {reason}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - start
    print(f"{name} is in {folder}, checksums verified ({seconds:.1f} s).")
    if args.dataset in LARGE:
        here = ")" if folder.resolve() == default.resolve() else f", {str(folder)!r})"
        print(f"Load it with {then}{here}.")
    elif folder.resolve() == default.resolve():
        print(f"`{then}` finds it there.")
    else:
        print(f"Next: `{then} --data {shlex.quote(str(folder))}`.")
    return 0

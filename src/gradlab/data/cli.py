"""`gradlab data download mnist|movielens-100k [--to DIR]`: fetch a data set from its publisher into the
cache that the other commands read by default, verified against its published checksums.

    add_data_command(subparsers)   adds the `data` sub-command
    run(args) -> int               0 on success, 1 when the download failed (network, checksum),
                                   2 on a user error (message on stderr), 130 when interrupted

Where the files go (and where the other commands look when given no --data):

    mnist            $GRADLAB_DATA if set, else ~/.cache/gradlab/mnist      (the four .gz files)
    movielens-100k   ~/.cache/gradlab/ml-100k                               (u.data, u.item, u1.base …)

--to DIR puts them in DIR instead; pass the same DIR as --data afterwards. A download that breaks off
leaves a .part file that the same command resumes.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from ..argtypes import positive, whole

__all__ = ["add_data_command", "run"]

DATASETS = {"mnist": "MNIST", "movielens-100k": "MovieLens 100K"}


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://", "file://")):
        raise argparse.ArgumentTypeError(f"must be an http://, https:// or file:// address, got {text!r}")
    return text


def add_data_command(subparsers) -> argparse.ArgumentParser:
    """Add `data` to an argparse sub-parser set (the `gradlab` command's `commands`)."""
    data = subparsers.add_parser("data", help="download the real data sets (MNIST, MovieLens 100K) into the cache")
    data.set_defaults(data_parser=data)
    actions = data.add_subparsers(dest="data_command", metavar="ACTION")
    download = actions.add_parser(
        "download",
        help="fetch a data set and verify its checksums",
        description="Fetch a data set from its publisher, verify its SHA-256 checksums and put it where the other "
        "commands look by default (mnist: $GRADLAB_DATA or ~/.cache/gradlab/mnist; movielens-100k: "
        "~/.cache/gradlab/ml-100k). A broken download is resumed by running the same command again.",
    )
    download.add_argument(
        "dataset", choices=list(DATASETS), help="mnist (11 MB, LeCun et al.) or movielens-100k (5 MB, GroupLens)"
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
    return data


def run(args) -> int:
    """Execute a parsed `data` command."""
    if getattr(args, "data_command", None) is None:
        parser = getattr(args, "data_parser", None)
        if parser is not None:
            parser.print_help()
        return 0 if parser is not None else 2
    from .download import ChecksumError, DownloadError
    from .mnist import MIRRORS as MNIST_MIRRORS
    from .mnist import default_root as mnist_root
    from .mnist import download_mnist
    from .movielens import MIRRORS as MOVIELENS_MIRRORS
    from .movielens import default_root as movielens_root
    from .movielens import download_movielens

    name = DATASETS[args.dataset]
    if args.dataset == "mnist":
        download, mirrors, default, then = download_mnist, MNIST_MIRRORS, mnist_root(), "gradlab train mnist"
    else:
        download, mirrors, default = download_movielens, MOVIELENS_MIRRORS, movielens_root()
        then = "gradlab recommend train"
    folder = Path(args.to).expanduser() if args.to else default
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
        print(f"gradlab data download: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:  # a folder that cannot be made or written, say
        print(f"gradlab data download: cannot write {name} into {folder}: {error}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - start
    print(f"{name} is in {folder}, checksums verified ({seconds:.1f} s).")
    if folder.resolve() == default.resolve():
        print(f"`{then}` finds it there.")
    else:
        print(f"Next: `{then} --data {shlex.quote(str(folder))}`.")
    return 0

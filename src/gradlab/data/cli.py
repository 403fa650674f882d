"""`gradlab data download mnist|movielens-100k [--to DIR]`: fetch a data set from its publisher into the
cache that the other commands read by default, verified against its published checksums.

    add_data_command(subparsers)   adds the `data` sub-command
    run(args) -> int               0 on success, 2 on a user error (message on stderr)
"""

from __future__ import annotations

import argparse

__all__ = ["add_data_command", "run"]


def add_data_command(subparsers) -> argparse.ArgumentParser:
    """Add `data` to an argparse sub-parser set (the `gradlab` command's `commands`)."""
    data = subparsers.add_parser("data", help="download the real data sets (MNIST, MovieLens 100K) into the cache")
    data.set_defaults(data_parser=data)
    actions = data.add_subparsers(dest="data_command", metavar="ACTION")
    download = actions.add_parser("download", help="fetch a data set and verify its checksums")
    download.add_argument("dataset", choices=["mnist", "movielens-100k"])
    download.add_argument("--to", help="folder to write into (default: the cache the other commands read)")
    return data


def run(args) -> int:
    """Execute a parsed `data` command."""
    raise NotImplementedError("being written")  # filled in by the data-download work

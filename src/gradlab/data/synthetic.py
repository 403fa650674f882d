"""Synthetic ratings of any size: a low-rank model plus noise, long-tailed popularity, streamed to disk.

    ratings = make_ratings(n_ratings, n_users, n_items, rank=10, noise=0.5, seed=0)   in memory
    write_ratings(folder, n_ratings, n_users, n_items, ...)      streamed to folder, block by block
    ratings = open_ratings(folder)                               memory-mapped, nothing read up front
    truth = load_truth(folder)                                   the model the ratings were drawn from

The model. With user factors p_u, item factors q_i (rank k) and biases b_u, c_i, all drawn once from the seed,

    r̃_ui = μ + b_u + c_i + p_u·q_i + ε,     ε ~ N(0, noise²)
    μ = 3.5,  b_u ~ N(0, 0.35²),  c_i ~ N(0, 0.45²),  p_u, q_i ~ N(0, σ² I_k) with k σ⁴ = 0.6²

so the signal p_u·q_i has standard deviation 0.6 whatever the rank, and the ratings spread about as
MovieLens's do (std ≈ 1). stars=True (the default) puts each rating on MovieLens-20M's half-star scale,
r = clip(round(2 r̃) / 2, 0.5, 5); stars=False keeps r̃ as it is (continuous, unclipped), so that a
fitted model's RMSE can be compared with the noise floor `noise` exactly.

Who rates what. User u's share of the ratings and item i's share of the ratings of any user are
Zipf–Mandelbrot laws over a random ranking of the users (items):

    w(rank j) ∝ (j + h·n)^(−s),   j = 1 … n,   h = 0.002

with s = user_skew (items: item_skew). Measured with the defaults (s = 1) at MovieLens-20M's shape (20 M
ratings, 138,493 users × 26,744 items): the busiest user has 0.06 % of the ratings, the median user 47 and
the quietest 8 (MovieLens keeps only users with at least 20); the top item has 0.15 %, the median item 312
and the least rated 118. Raise item_skew for a longer item tail.
Each user's count d_u is one multinomial draw of n_ratings over the users (capped at n_items); each user
then rates d_u distinct items drawn by item popularity (no (user, item) pair twice, as in MovieLens).
Rows are grouped by user in user order, like MovieLens's files: shuffle them before SGD.

Same seed, same ratings: the randomness of each block of users comes from (seed, block number), and the
blocks are cut at BLOCK ratings, so nothing else (memory, machine) changes what is drawn.

On disk (write_ratings): user.npy and item.npy (int32 dense indices), rating.npy (float32), truth.npz (μ,
b, c, P, Q) and meta.json (the arguments and counts), written last: a folder without it is incomplete.
Writing holds one block (≈ BLOCK ratings, ~40 bytes each while drawn) plus the factors in memory.

Measured at MovieLens-20M's shape (20 M ratings, 240 MB of int32/int32/float32), one thread, on a 2-core
machine shared with other jobs: write_ratings 14–22 s at 217 MB peak RSS (Python and NumPy alone: 27 MB);
make_ratings 14–24 s at 413 MB; open_ratings 0.01 s (memory-mapped), 1.4 s and 267 MB with mmap=False.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..progress import Pace, clock
from .movielens import IndexedRatings

__all__ = [
    "BLOCK",
    "Truth",
    "load_truth",
    "make_ratings",
    "open_ratings",
    "write_ratings",
]

BLOCK = 1 << 20  # ratings drawn at a time: part of what the seed means, so fixed
MEAN, USER_BIAS_STD, ITEM_BIAS_STD, SIGNAL_STD = 3.5, 0.35, 0.45, 0.6
HEAD = 0.002  # h in w(j) ∝ (j + h·n)^(−s): flattens the very top so no user or item takes a huge share
FORMAT = "gradlab-synthetic-ratings/1"
COLUMNS = {"user": np.int32, "item": np.int32, "rating": np.float32}


@dataclass(frozen=True)
class Truth:
    """The model behind synthetic ratings: r̃_ui = mean + user_bias[u] + item_bias[i] + P[u]·Q[i] (+ noise)."""

    mean: float
    user_bias: np.ndarray
    item_bias: np.ndarray
    P: np.ndarray
    Q: np.ndarray
    noise: float

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        """Noise-free r̃ for index pairs (float64)."""
        user, item = np.asarray(user), np.asarray(item)
        dot = np.einsum("nk,nk->n", self.P[user], self.Q[item], dtype=np.float64)
        return self.mean + self.user_bias[user] + self.item_bias[item] + dot


@dataclass(frozen=True)
class _Spec:
    n_ratings: int
    n_users: int
    n_items: int
    rank: int
    noise: float
    seed: int
    user_skew: float
    item_skew: float
    stars: bool

    def check(self) -> None:
        for name in ("n_ratings", "n_users", "n_items", "rank", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < (0 if name in ("n_ratings", "seed") else 1):
                raise ValueError(f"{name} must be a whole number >= {0 if name in ('n_ratings', 'seed') else 1}")
        if max(self.n_users, self.n_items) >= 2**31:
            raise ValueError("n_users and n_items must be below 2**31 (indices are int32)")
        if self.n_ratings > self.n_users * self.n_items:
            raise ValueError(
                f"n_ratings {self.n_ratings:,} is more than the {self.n_users * self.n_items:,} distinct "
                f"(user, item) pairs of {self.n_users:,} users × {self.n_items:,} items; ask for fewer ratings"
            )
        for name in ("noise", "user_skew", "item_skew"):
            if not (np.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {getattr(self, name)!r}")


def _popularity(n: int, skew: float, rng: np.random.Generator) -> np.ndarray:
    """Zipf–Mandelbrot shares w(j) ∝ (j + h·n)^(−skew) handed to a random ranking of the n entities."""
    weights = (np.arange(1, n + 1) + HEAD * n) ** -float(skew)
    return rng.permutation(weights / weights.sum())


def _degrees(spec: _Spec, share: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ratings per user: multinomial(n_ratings, share), a user's excess over n_items handed on to the others."""
    degree = rng.multinomial(spec.n_ratings, share).astype(np.int64)
    while (excess := int(np.maximum(degree - spec.n_items, 0).sum())) > 0:
        np.minimum(degree, spec.n_items, out=degree)
        room = np.where(degree < spec.n_items, share, 0.0)
        degree += rng.multinomial(excess, room / room.sum())
    return degree


def _truth(spec: _Spec, rng: np.random.Generator) -> Truth:
    scale = (SIGNAL_STD**2 / spec.rank) ** 0.25  # k σ⁴ = var(p·q) = SIGNAL_STD²
    return Truth(
        MEAN,
        rng.normal(0, USER_BIAS_STD, spec.n_users).astype(np.float32),
        rng.normal(0, ITEM_BIAS_STD, spec.n_items).astype(np.float32),
        rng.normal(0, scale, (spec.n_users, spec.rank)).astype(np.float32),
        rng.normal(0, scale, (spec.n_items, spec.rank)).astype(np.float32),
        spec.noise,
    )


def _popular_items(n: int, cdf: np.ndarray, n_items: int, rng: np.random.Generator) -> np.ndarray:
    """n items drawn with replacement by popularity: inverse CDF of a uniform draw."""
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), n_items - 1)


def _distinct_items(users: np.ndarray, cdf: np.ndarray, n_items: int, rng: np.random.Generator) -> np.ndarray:
    """An item for each row, drawn by popularity, the repeats of a user redrawn until none is left: this is
    drawing without replacement. Each round accepts a redraw with the popularity the user has not rated yet;
    after a few rounds the redraws are uniform, accepted with the unrated fraction (> 7/8: heavier users go
    to _heavy_user_items)."""
    items = _popular_items(len(users), cdf, n_items, rng)
    rows = np.arange(len(users))
    for round_ in range(10_000):
        keys = users[rows].astype(np.int64) * n_items + items[rows]
        order = np.argsort(keys, kind="stable")
        repeat = np.zeros(len(rows), dtype=bool)
        repeat[order[1:][keys[order[1:]] == keys[order[:-1]]]] = True  # every copy after the first
        if not repeat.any():
            return items
        redo = rows[repeat]
        items[redo] = (
            _popular_items(len(redo), cdf, n_items, rng) if round_ < 8 else rng.integers(0, n_items, len(redo))
        )
        rows = rows[np.isin(users[rows], users[redo])]  # only users with a repeat can still have one
    raise RuntimeError("could not draw distinct items")  # pragma: no cover - (7/8)^10000 is zero


def _heavy_user_items(degree: int, share: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """degree distinct items by popularity for one user who rates more than an eighth of them, in O(n_items):
    the degree largest keys log(U_i) / w_i (Efraimidis–Spirakis), the same law as drawing without replacement."""
    keys = np.log(rng.random(len(share))) / share
    return np.argpartition(-keys, degree - 1)[:degree]


def _blocks(spec: _Spec) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(user, item, rating) block after block, users in order, about BLOCK rows each."""
    rng = np.random.default_rng([spec.seed, 0])
    truth = _truth(spec, rng)
    degree = _degrees(spec, _popularity(spec.n_users, spec.user_skew, rng), rng)
    item_share = _popularity(spec.n_items, spec.item_skew, rng)
    cdf = np.cumsum(item_share)
    ends = np.cumsum(degree)
    first = 0
    for number in range(spec.n_users):
        if first >= spec.n_users:
            return
        # the block runs up to the user whose ratings pass the next BLOCK boundary (at least one user)
        last = max(int(np.searchsorted(ends, (ends[first - 1] if first else 0) + BLOCK, side="left")), first)
        last = min(last, spec.n_users - 1)
        block_rng = np.random.default_rng([spec.seed, 1, number])
        counts = degree[first : last + 1]
        users = np.repeat(np.arange(first, last + 1, dtype=np.int32), counts)
        heavy = counts > spec.n_items // 8
        light = ~np.repeat(heavy, counts)
        items = np.empty(len(users), dtype=np.int32)
        items[light] = _distinct_items(users[light], cdf, spec.n_items, block_rng)
        starts = np.cumsum(counts) - counts
        for user in np.flatnonzero(heavy):
            items[starts[user] : starts[user] + counts[user]] = _heavy_user_items(counts[user], item_share, block_rng)
        value = truth.predict(users, items) + block_rng.normal(0, spec.noise, len(users))
        if spec.stars:
            value = np.clip(np.round(2 * value) / 2, 0.5, 5.0)
        yield users, items, value.astype(np.float32)
        first = last + 1


def _spec(n_ratings, n_users, n_items, rank, noise, seed, user_skew, item_skew, stars) -> _Spec:
    spec = _Spec(int(n_ratings), int(n_users), int(n_items), int(rank), float(noise), int(seed),
                 float(user_skew), float(item_skew), bool(stars))  # fmt: skip
    spec.check()
    return spec


def make_ratings(
    n_ratings: int,
    n_users: int,
    n_items: int,
    rank: int = 10,
    noise: float = 0.5,
    seed: int = 0,
    *,
    user_skew: float = 1.0,
    item_skew: float = 1.0,
    stars: bool = True,
) -> IndexedRatings:
    """n_ratings synthetic ratings in memory (the model is in the module docstring): int32 user and item
    indices, float32 ratings, grouped by user. Same arguments, same ratings as write_ratings writes."""
    spec = _spec(n_ratings, n_users, n_items, rank, noise, seed, user_skew, item_skew, stars)
    columns = {name: np.empty(spec.n_ratings, dtype) for name, dtype in COLUMNS.items()}
    done = 0
    for block in _blocks(spec):
        for array, part in zip(columns.values(), block):
            array[done : done + len(part)] = part
        done += len(block[0])
    return IndexedRatings(**columns, user_ids=np.arange(spec.n_users), item_ids=np.arange(spec.n_items))


class _ProgressLine:
    """`synthetic ratings: 5,242,880/20,000,000 (26%), 1.9 M/s, 0:08 left` on stderr: redrawn in place at most
    every 0.2 s on a terminal, a line every 10 s elsewhere (a log), and one at the end."""

    def __init__(self, total: int, stream):
        self.total, self.stream = total, stream
        self.pace = Pace(stream, interval=10.0, redraw=0.2)
        self.tty = self.pace.tty
        self.started = time.monotonic()

    def update(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        if self.stream is None or not (self.pace.due() or final):
            return
        rate = done / max(now - self.started, 1e-9)
        left = f", {clock((self.total - done) / rate)} left" if rate > 0 and not final else ""
        took = f" in {clock(now - self.started)}" if final else ""
        line = f"synthetic ratings: {done:,}/{self.total:,} ({100 * done / max(self.total, 1):.0f}%), "
        line += f"{rate / 1e6:.1f} M/s{left}{took}"
        self.stream.write(("\r" + line.ljust(79) + ("\n" if final else "")) if self.tty else line + "\n")
        self.stream.flush()


def write_ratings(
    folder,
    n_ratings: int,
    n_users: int,
    n_items: int,
    rank: int = 10,
    noise: float = 0.5,
    seed: int = 0,
    *,
    user_skew: float = 1.0,
    item_skew: float = 1.0,
    stars: bool = True,
    progress=False,
) -> Path:
    """Draw the ratings make_ratings would give, block by block, into folder (created; the files listed in the
    module docstring), holding one block in memory at a time. progress: True for a line on stderr, a text
    stream, or False. meta.json is written last, so a broken run leaves a folder open_ratings refuses."""
    spec = _spec(n_ratings, n_users, n_items, rank, noise, seed, user_skew, item_skew, stars)
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").unlink(missing_ok=True)
    report = _ProgressLine(spec.n_ratings, sys.stderr if progress is True else (progress or None))
    files = {}
    try:
        for name, dtype in COLUMNS.items():
            files[name] = open(folder / f"{name}.npy", "wb")
            header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False}
            np.lib.format.write_array_header_1_0(files[name], {**header, "shape": (spec.n_ratings,)})
        done = 0
        for block in _blocks(spec):
            for stream, part in zip(files.values(), block):
                stream.write(part.tobytes())
            done += len(block[0])
            report.update(done)
    finally:
        for stream in files.values():
            stream.close()
    truth = _truth(spec, np.random.default_rng([spec.seed, 0]))  # drawn first from the same stream: identical
    np.savez(folder / "truth.npz", mean=truth.mean, user_bias=truth.user_bias, item_bias=truth.item_bias,
             P=truth.P, Q=truth.Q, noise=truth.noise)  # fmt: skip
    meta = {"format": FORMAT, **spec.__dict__, "block": BLOCK}
    temporary = folder / ".meta.json.writing"
    temporary.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, folder / "meta.json")
    report.update(done, final=True)
    return folder


def _meta(folder: Path) -> dict:
    path = folder / "meta.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{folder}: no meta.json, so this is not a finished set of synthetic ratings (a run that stopped, or "
            "another folder); make it with `gradlab data synth --ratings N --out DIR` or write_ratings()"
        )
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: format {meta.get('format')!r} is not {FORMAT!r}; make the ratings again")
    return meta


def open_ratings(folder, mmap: bool = True) -> IndexedRatings:
    """The ratings write_ratings wrote, memory-mapped read-only (mmap=False reads them into memory).
    Each column is checked to hold meta.json's count in its dtype."""
    folder = Path(folder).expanduser()
    meta = _meta(folder)
    columns = {}
    for name, dtype in COLUMNS.items():
        array = np.load(folder / f"{name}.npy", mmap_mode="r" if mmap else None)
        if array.dtype != dtype or array.shape != (meta["n_ratings"],):
            raise ValueError(
                f"{folder / name}.npy holds {array.shape} {array.dtype}, expected ({meta['n_ratings']},) "
                f"{np.dtype(dtype)}; the folder is damaged: make the ratings again"
            )
        columns[name] = array
    return IndexedRatings(**columns, user_ids=np.arange(meta["n_users"]), item_ids=np.arange(meta["n_items"]))


def load_truth(folder) -> Truth:
    """The model write_ratings drew the ratings of folder from (to compare a fit with, e.g. RMSE vs noise)."""
    folder = Path(folder).expanduser()
    _meta(folder)
    with np.load(folder / "truth.npz") as saved:
        return Truth(float(saved["mean"]), saved["user_bias"], saved["item_bias"], saved["P"], saved["Q"],
                     float(saved["noise"]))  # fmt: skip

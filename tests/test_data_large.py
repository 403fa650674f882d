"""Data at scale: the synthetic rating generator (gradlab.data.synthetic) and the MovieLens 1M/10M/20M/25M
loaders and downloads (gradlab.data.movielens_large), on small files built here in the exact formats.

The 20 M-rating measurements (time, peak memory) are in the report of issue 17 and are reproduced by
benchmarks, not here: these tests run in seconds."""

from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pytest

from gradlab.data import synthetic
from gradlab.data.movielens import Ratings
from gradlab.data.synthetic import load_truth, make_ratings, open_ratings, write_ratings


# --- the synthetic generator ---------------------------------------------------------------------
@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 4,096 ratings, so that a few tens of thousands of ratings cross many block boundaries."""
    monkeypatch.setattr(synthetic, "BLOCK", 4096)


def columns(ratings):
    return np.asarray(ratings.user), np.asarray(ratings.item), np.asarray(ratings.rating)


def test_streamed_to_disk_equals_in_memory_and_the_seed_fixes_everything(small_blocks, tmp_path):
    made = make_ratings(30_000, 700, 300, rank=4, seed=3)
    folder = write_ratings(tmp_path / "synth", 30_000, 700, 300, rank=4, seed=3)
    opened = open_ratings(folder)
    assert isinstance(opened, Ratings) and isinstance(opened.rating, np.memmap)
    for a, b in zip(columns(made), columns(opened)):
        np.testing.assert_array_equal(a, b)
    again = make_ratings(30_000, 700, 300, rank=4, seed=3)
    other = make_ratings(30_000, 700, 300, rank=4, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(columns(made), columns(again)))
    assert not np.array_equal(made.item, other.item)


def test_ratings_are_distinct_pairs_on_the_half_star_scale_grouped_by_user(small_blocks):
    ratings = make_ratings(40_000, 500, 400, seed=1)
    user, item, rating = columns(ratings)
    assert (user.dtype, item.dtype, rating.dtype) == (np.int32, np.int32, np.float32)
    assert len(ratings) == 40_000 and (ratings.n_users, ratings.n_items) == (500, 400)
    assert user.min() >= 0 and user.max() < 500 and item.min() >= 0 and item.max() < 400
    assert np.all(np.diff(user) >= 0)
    assert len(np.unique(user.astype(np.int64) * 400 + item)) == 40_000  # no (user, item) twice
    assert set(np.unique(rating)) <= set(np.arange(1, 11) / 2)
    assert len(np.unique(rating)) == 10  # the whole scale is used, not a sliver of it


def test_every_pair_once_when_the_matrix_is_full():
    ratings = make_ratings(20 * 30, 20, 30, seed=0)  # the degree cap and the heavy-user draw are both needed
    pairs = np.sort(ratings.user.astype(np.int64) * 30 + ratings.item)
    np.testing.assert_array_equal(pairs, np.arange(600))


def test_continuous_ratings_are_the_low_rank_model_plus_noise_of_the_given_size(tmp_path):
    folder = write_ratings(tmp_path / "s", 60_000, 2_000, 800, rank=5, noise=0.3, seed=2, stars=False)
    ratings, truth = open_ratings(folder), load_truth(folder)
    residual = ratings.rating - truth.predict(ratings.user, ratings.item)
    assert abs(residual.mean()) < 0.01 and abs(residual.std() - 0.3) < 0.01
    signal = np.einsum("nk,nk->n", truth.P[ratings.user], truth.Q[ratings.item])
    assert abs(signal.std() - synthetic.SIGNAL_STD) < 0.05  # k σ⁴ = 0.6² whatever the rank
    assert truth.P.shape == (2_000, 5) and truth.Q.shape == (800, 5)


def test_popularity_is_long_tailed_and_skew_zero_is_flat():
    def top_percent_share(counts):
        top = np.sort(counts)[::-1][: len(counts) // 100]
        return top.sum() / counts.sum()

    tailed = make_ratings(100_000, 5_000, 2_000, seed=0)
    flat = make_ratings(100_000, 5_000, 2_000, seed=0, user_skew=0, item_skew=0)
    assert top_percent_share(np.bincount(tailed.user)) > 0.08  # the busiest 1 % of users: > 8 % of ratings
    assert top_percent_share(np.bincount(tailed.item)) > 0.08
    assert top_percent_share(np.bincount(flat.user)) < 0.02
    assert top_percent_share(np.bincount(flat.item)) < 0.02


def test_writing_holds_one_block_not_the_whole_set(small_blocks, tmp_path):
    n = 400_000  # 4.8 MB of ratings; a block of 4,096 is ~160 kB while drawn
    tracemalloc.start()
    try:
        write_ratings(tmp_path / "big", n, 1_000, 2_000, rank=4, seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 * n / 4, f"writing peaked at {peak:,} bytes for {12 * n:,} bytes of ratings"


def test_progress_line_shows_counts_and_the_end(tmp_path):
    out = io.StringIO()
    write_ratings(tmp_path / "p", 5_000, 100, 100, seed=0, progress=out)
    assert "synthetic ratings: 5,000/5,000 (100%)" in out.getvalue()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((1_000, 10, 10), "more than the 100 distinct"),
        ((10, 0, 10), "n_users must be a whole number >= 1"),
        ((-1, 10, 10), "n_ratings must be a whole number >= 0"),
    ],
)
def test_impossible_requests_are_refused_with_the_reason(arguments, message):
    with pytest.raises(ValueError, match=message):
        make_ratings(*arguments)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        make_ratings(10, 10, 10, noise=float("nan"))


def test_an_unfinished_folder_is_refused_with_what_to_do(tmp_path):
    folder = write_ratings(tmp_path / "s", 1_000, 50, 50, seed=0)
    (folder / "meta.json").unlink()  # what a run stopped half-way leaves
    with pytest.raises(FileNotFoundError, match="not a finished set.*gradlab data synth"):
        open_ratings(folder)

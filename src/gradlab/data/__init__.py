"""Data: MNIST from its original IDX files (checked against SHA-256 sums, downloaded on request),
2-D toy sets, 2-D point clouds from CSV files, mini-batches and a train/test split. NumPy only.

    images, labels = load_mnist(split="train")          float32 (60000, 1, 28, 28) in [0, 1], int64 (60000,)
    x, y = make_moons(n=200, noise=0.1, seed=0)          float64 (200, 2), int64 (200,)
    roll = make_swiss_roll(n=1000, noise=1.0, seed=0)    float64 (1000, 2), unlabelled
    points = read_points("cloud.csv")                    float64 (n, 2) from x,y lines
    ratings = make_ratings(10**6, 10**4, 10**3, seed=0)  low-rank + noise, int32 indices, float32 ratings
    ratings = load_movielens("20m")                      MovieLens 1M/10M/20M/25M as int32 indices, float32
    for xb, yb in batches(x, y, batch_size=32, seed=epoch): ...

The real data sets are fetched with `gradlab data download mnist|movielens-100k|movielens-20m … [--to DIR]`
(or download_mnist(), movielens.download_movielens(), download_movielens_large("20m")) into the folders the
loaders read by default: $GRADLAB_DATA or ~/.cache/gradlab/mnist for MNIST, ~/.cache/gradlab/ml-100k for
MovieLens 100K, ~/.cache/gradlab/ml-20m for MovieLens 20M (1m, 10m, 25m alike).
"""

from .batches import batches, train_test_split
from .mnist import FILES, MIRRORS, SHA256, default_root, download_mnist, load_mnist
from .movielens import IndexedRatings
from .movielens_large import download_movielens_large, load_movie_titles, load_movielens
from .points import read_points
from .synthetic import Truth, load_truth, make_ratings, open_ratings, write_ratings
from .toy import make_blobs, make_circles, make_moons, make_spiral, make_swiss_roll, make_xor

__all__ = [
    "FILES",
    "MIRRORS",
    "SHA256",
    "IndexedRatings",
    "Truth",
    "batches",
    "default_root",
    "download_mnist",
    "download_movielens_large",
    "load_mnist",
    "load_movie_titles",
    "load_movielens",
    "load_truth",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_ratings",
    "make_spiral",
    "make_swiss_roll",
    "make_xor",
    "open_ratings",
    "read_points",
    "train_test_split",
    "write_ratings",
]

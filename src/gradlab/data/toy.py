"""Two-dimensional toy data sets for classification: small enough to plot, hard enough that a
linear model fails on all but the blobs.

    make_moons     two interleaved half circles          make_xor     four clusters, label = [x·y < 0]
    make_circles   a ring of radius factor inside one    make_blobs   Gaussian clusters around centres
    make_spiral    2 or more interleaved spiral arms

and, unlabelled, make_swiss_roll: sklearn's swiss roll seen from its side (points only, no classes).

The others each return (x, y): x float64 of shape (n, 2), y int64 of shape (n,) with labels 0, 1, …, k-1.
Classes are balanced (their sizes differ by at most one), the examples come in random order, and
the same seed gives the same data (np.random.default_rng(seed)). noise is the standard deviation of
Gaussian noise added to each coordinate.
"""

from __future__ import annotations

import math
import operator

import numpy as np

__all__ = ["make_blobs", "make_circles", "make_moons", "make_spiral", "make_swiss_roll", "make_xor"]


def _labels(n, classes: int) -> np.ndarray:
    """Labels 0..classes-1, as equal in number as n allows: the first n % classes classes get one more."""
    if isinstance(n, bool):
        raise TypeError(f"n must be a whole number, got {n!r}")
    n = operator.index(n)
    if n < classes:
        raise ValueError(f"n must be at least {classes} so that each of the {classes} classes has an example, got {n}")
    return np.repeat(np.arange(classes, dtype=np.int64), [n // classes + (k < n % classes) for k in range(classes)])


def _finish(rng: np.random.Generator, points: np.ndarray, y: np.ndarray, noise: float):
    """Add N(0, noise²) to every coordinate and shuffle the examples, keeping each with its label."""
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0 (a standard deviation), got {noise}")
    x = points + rng.normal(0.0, noise, points.shape)
    order = rng.permutation(len(y))
    return x[order], y[order]


def make_moons(n: int = 200, noise: float = 0.1, seed: int | None = 0):
    """Two interleaved half circles of radius 1, angles t uniform in [0, π]:

    class 0: (cos t, sin t)            the upper arc, centred at (0, 0)
    class 1: (1 - cos t, 0.5 - sin t)  the lower arc, centred at (1, 0.5)
    """
    rng = np.random.default_rng(seed)
    y = _labels(n, 2)
    t = rng.uniform(0.0, math.pi, len(y))
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    return _finish(rng, np.where(y[:, None] == 0, upper, lower), y, noise)


def make_circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int | None = 0):
    """Two concentric circles, angles uniform in [0, 2π):

    class 0: radius 1, (cos t, sin t)     class 1: radius factor, factor·(cos t, sin t)
    """
    if not 0 < factor < 1:
        raise ValueError(f"factor is the inner radius over the outer one and must lie in (0, 1), got {factor}")
    rng = np.random.default_rng(seed)
    y = _labels(n, 2)
    t = rng.uniform(0.0, 2 * math.pi, len(y))
    radius = np.where(y == 0, 1.0, factor)
    return _finish(rng, radius[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1), y, noise)


def make_spiral(n: int = 300, noise: float = 0.02, classes: int = 2, turns: float = 1.0, seed: int | None = 0):
    """`classes` spiral arms winding out of the origin, radius r uniform in [0.05, 1]:

    class k: r·(cos θ, sin θ) with θ = 2π·turns·r + 2πk/classes
    so the arms are the same curve turned by a k-th of a full circle. The arms are closest near the
    centre, so even small noise mixes them there.
    """
    if isinstance(classes, bool) or operator.index(classes) < 2:
        raise ValueError(f"classes must be a whole number >= 2, got {classes!r}")
    rng = np.random.default_rng(seed)
    y = _labels(n, classes)
    # starting just off the origin: at r = 0 every arm is the same point
    r = rng.uniform(0.05, 1.0, len(y))
    theta = 2 * math.pi * turns * r + 2 * math.pi * y / classes
    return _finish(rng, r[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1), y, noise)


def make_xor(n: int = 200, noise: float = 0.3, seed: int | None = 0):
    """Four Gaussian clusters at the corners (±1, ±1), labelled like XOR of the two signs:

    class 0 around (1, 1) and (-1, -1),  class 1 around (-1, 1) and (1, -1),  i.e. y = [x₁·x₂ < 0]
    Each class is split evenly between its two corners. No straight line separates the classes.
    """
    rng = np.random.default_rng(seed)
    y = _labels(n, 2)
    # alternate corners within each class: position i of a class goes to corner i % 2
    corner = np.concatenate([np.arange(np.count_nonzero(y == k)) % 2 for k in (0, 1)])
    first = np.where(corner == 0, 1.0, -1.0)
    second = np.where(y == 0, first, -first)
    return _finish(rng, np.stack([first, second], axis=1), y, noise)


def make_blobs(n: int = 300, centers=3, std: float = 0.5, seed: int | None = 0):
    """Gaussian clusters, class k drawn from N(c_k, std²·I).

    centers is the number of clusters k, placed evenly on a circle of radius 3,
    c_k = 3·(cos(2πk/K), sin(2πk/K)), or an array of shape (K, 2) giving the centres themselves.
    """
    if isinstance(centers, int | np.integer) and not isinstance(centers, bool):
        if centers < 1:
            raise ValueError(f"centers must be >= 1 (the number of clusters), got {centers}")
        angle = 2 * math.pi * np.arange(centers) / centers
        points = 3.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    else:
        points = np.asarray(centers, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 2 or len(points) < 1:
            raise ValueError(
                f"centers must be a number of clusters or an array of shape (K, 2), not shape {points.shape}"
            )
    rng = np.random.default_rng(seed)
    y = _labels(n, len(points))
    return _finish(rng, points[y], y, std)


def make_swiss_roll(n: int = 1000, noise: float = 1.0, seed: int | None = 0) -> np.ndarray:
    """sklearn's swiss roll seen from its side, in 2-D: t uniform in [1.5π, 4.5π],

        x = (t cos t, t sin t) + N(0, noise² I)

    (sklearn's make_swiss_roll(n, noise)[0][:, [0, 2]], drawn with NumPy's default_rng). Unlike the sets
    above it has no labels: it returns the points alone, float64 of shape (n, 2). Unscaled: the roll spans
    about ±13 in each coordinate."""
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0 (a standard deviation), got {noise}")
    rng = np.random.default_rng(seed)
    t = 1.5 * math.pi * (1 + 2 * rng.random(n))
    return np.stack([t * np.cos(t), t * np.sin(t)], axis=1) + rng.normal(0.0, noise, (n, 2))

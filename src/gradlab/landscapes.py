"""Classic test functions for optimisers, written with the engine, with their known minima.

Each Landscape has the function f(p) of a point p = (x, y), its minima, a window that shows the
interesting part, and a suggested start. They are the terrain of the optimizer race:
    quadratic     ½ pᵀ diag(1, κ) p: a valley κ times steeper across than along; condition number κ
    rosenbrock    (1 - x)² + 100 (y - x²)²: a curved banana valley, minimum (1, 1)
    beale         three squared residuals with sharp ridges, minimum (3, 0.5)
    himmelblau    (x² + y - 11)² + (x + y² - 7)²: four minima of equal height 0
    booth         (x + 2y - 7)² + (2x + y - 5)², minimum (1, 3)
    matyas        0.26 (x² + y²) - 0.48 x y: a flat, tilted bowl, minimum (0, 0)
    six_hump_camel  six local minima, two global ones at ±(0.0898, -0.7126)
    rastrigin     10·2 + Σ (x² - 10 cos 2πx): a bowl covered in local minima, global minimum (0, 0)
    saddle        x² - y²: no minimum at all; (0, 0) is a saddle point
    plateau_cliff a cliff (gradient up to 16), a long plateau (gradient ~0), then a well near (3, 0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import autodiff as gl

__all__ = ["LANDSCAPES", "Landscape", "get_landscape"]


@dataclass(frozen=True)
class Landscape:
    """A test function with its known minima, a plotting window and a default start."""

    name: str
    f: object
    minima: tuple  # ((x, y), ...) of the global (or listed) minima; empty if there is none
    window: tuple  # ((x_min, x_max), (y_min, y_max))
    start: tuple
    description: str

    def __call__(self, p):
        return self.f(p)

    def value(self, p) -> float:
        return float(gl.Tensor(self.f(gl.Tensor(np.asarray(p, dtype=np.float64)))).item())

    def nearest_minimum(self, p):
        """(the closest known minimum, its distance), or (None, inf) for a landscape without one."""
        if not self.minima:
            return None, math.inf
        p = np.asarray(p, dtype=np.float64)
        distances = [float(np.linalg.norm(p - np.asarray(m))) for m in self.minima]
        i = int(np.argmin(distances))
        return self.minima[i], distances[i]

    def grid(self, n: int = 100):
        """(xs, ys, values) on an n×n grid over the window, for contour and surface plots."""
        (x0, x1), (y0, y1) = self.window
        xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
        xx, yy = np.meshgrid(xs, ys)
        points = gl.Tensor(np.stack([xx, yy]))
        with gl.no_grad():
            values = np.asarray(self.f(points).data)
        return xs, ys, values


def quadratic(condition: float = 10.0) -> Landscape:
    """f = ½ (x² + κ y²): curvature 1 along x and κ along y (L = κ, μ = 1)."""
    return Landscape(
        f"quadratic (κ = {condition:g})",
        lambda p: 0.5 * (p[0] ** 2 + condition * p[1] ** 2),
        ((0.0, 0.0),),
        ((-3.0, 3.0), (-3.0, 3.0)),
        (2.5, 1.5),
        f"a valley {condition:g} times steeper across than along",
    )


def _rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def _beale(p):
    x, y = p[0], p[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _himmelblau(p):
    return (p[0] ** 2 + p[1] - 11) ** 2 + (p[0] + p[1] ** 2 - 7) ** 2


def _booth(p):
    return (p[0] + 2 * p[1] - 7) ** 2 + (2 * p[0] + p[1] - 5) ** 2


def _matyas(p):
    return 0.26 * (p[0] ** 2 + p[1] ** 2) - 0.48 * p[0] * p[1]


def _camel(p):
    x, y = p[0], p[1]
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


def _rastrigin(p):
    return 20 + (p[0] ** 2 - 10 * gl.cos(2 * math.pi * p[0])) + (p[1] ** 2 - 10 * gl.cos(2 * math.pi * p[1]))


def _saddle(p):
    return p[0] ** 2 - p[1] ** 2


def _plateau_cliff(p):
    x, y = p[0], p[1]
    return 2 * gl.sigmoid(-8 * (x + 1)) - gl.exp(-((x - 3) ** 2)) + 0.05 * y**2


# Minima with no closed form, to full float64 precision (the correctly rounded roots of ∇f = 0,
# found once by Newton's method; tests/test_landscapes.py checks them with gradlab's own `newton`).
# Stored as literals so that building a landscape is cheap and this floor needs nothing from optim.
HIMMELBLAU_MINIMA = (
    (3.0, 2.0),
    (-2.805118086952745, 3.131312518250573),
    (-3.779310253377747, -3.2831859912861696),
    (3.5844283403304917, -1.8481265269644036),
)
CAMEL_MINIMA = ((0.08984201310031806, -0.7126564030207396), (-0.08984201310031806, 0.7126564030207396))
# At x = 3 the cliff's sigmoid tail still slopes down by 16·σ'(32) ≈ 2e-13; over the well's curvature 2
# that moves the minimum 1e-13 to the right of 3.
PLATEAU_CLIFF_MINIMA = ((3.0000000000001013, 0.0),)

LANDSCAPES = {
    "quadratic": quadratic,
    "rosenbrock": lambda: Landscape(
        "rosenbrock", _rosenbrock, ((1.0, 1.0),), ((-2.0, 2.0), (-1.0, 3.0)), (-1.2, 1.0), "a curved banana valley"
    ),
    "beale": lambda: Landscape("beale", _beale, ((3.0, 0.5),), ((-4.5, 4.5), (-4.5, 4.5)), (1.0, 1.5), "sharp ridges"),
    "himmelblau": lambda: Landscape(
        "himmelblau",
        _himmelblau,
        HIMMELBLAU_MINIMA,
        ((-5.0, 5.0), (-5.0, 5.0)),
        (0.0, 0.0),
        "four minima of equal height",
    ),
    "booth": lambda: Landscape("booth", _booth, ((1.0, 3.0),), ((-10.0, 10.0), (-10.0, 10.0)), (-5.0, -5.0), "a bowl"),
    "matyas": lambda: Landscape("matyas", _matyas, ((0.0, 0.0),), ((-10.0, 10.0), (-10.0, 10.0)), (6.0, 8.0), "flat"),
    "six_hump_camel": lambda: Landscape(
        "six_hump_camel",
        _camel,
        CAMEL_MINIMA,
        ((-2.0, 2.0), (-1.0, 1.0)),
        (-1.5, 0.5),
        "six local minima, two global",
    ),
    "rastrigin": lambda: Landscape(
        "rastrigin", _rastrigin, ((0.0, 0.0),), ((-5.12, 5.12), (-5.12, 5.12)), (3.2, -2.1), "many local minima"
    ),
    "saddle": lambda: Landscape("saddle", _saddle, (), ((-2.0, 2.0), (-2.0, 2.0)), (1.5, 0.01), "a saddle, no minimum"),
    "plateau_cliff": lambda: Landscape(
        "plateau_cliff",
        _plateau_cliff,
        PLATEAU_CLIFF_MINIMA,
        ((-3.0, 5.0), (-2.0, 2.0)),
        (-2.5, 1.0),
        "a cliff, a plateau, then a well",
    ),
}


def get_landscape(name: str, **options) -> Landscape:
    """The landscape called `name` (see LANDSCAPES), e.g. get_landscape("quadratic", condition=100)."""
    key = name.strip().lower().replace("-", "_")
    if key not in LANDSCAPES:
        raise ValueError(f"unknown landscape {name!r}; choose one of {', '.join(LANDSCAPES)}")
    return LANDSCAPES[key](**options)

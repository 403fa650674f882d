"""The course's first two projects: choose prices (and advertising) that maximise profit.

Module 1, one price. With unit cost c and demand q(p) (units sold at price p),
    profit(p) = (p - c) · q(p),
and the best price is where profit'(p) = q(p) + (p - c) q'(p) = 0. Closed forms:
    linear               q = a - b p        p* = (a/b + c) / 2
    exponential          q = a e^(-b p)     p* = c + 1/b
    constant elasticity  q = a p^(-ε)       p* = c ε / (ε - 1)      (only for ε > 1)
optimal_price finds p* by gradient ascent or Newton's method, using the engine's derivatives,
and compares it with the closed form.

Module 2, price and advertising spend s together: demand rises with diminishing returns in s,
    q(p, s) = a - b p + k ln(1 + s),   profit(p, s) = (p - c) q(p, s) - s,
climbed by gradient ascent with the whole path recorded. An interior maximum needs the ads to
pay: at the best price, one more unit of spend must return more than it costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import autodiff as gl
from ..optim import newton

__all__ = [
    "ConstantElasticityDemand",
    "ExponentialDemand",
    "LinearDemand",
    "NoInteriorMaximum",
    "PriceResult",
    "optimal_price",
    "optimal_price_and_advertising",
]


class NoInteriorMaximum(ValueError):
    """The profit has no maximum inside the allowed region; the message says why."""


@dataclass(frozen=True)
class LinearDemand:
    """q = a - b·p (a: demand at price 0; b: units lost per unit of price)."""

    a: float
    b: float

    def __call__(self, p):
        return self.a - self.b * p

    def best_price(self, cost: float) -> float:
        return (self.a / self.b + cost) / 2

    def check(self, cost: float):
        if not self.b > 0:
            raise NoInteriorMaximum(f"demand must fall as the price rises (b > 0), got b = {self.b}")
        if not self.a / self.b > cost:
            raise NoInteriorMaximum(
                f"even the highest price that sells anything (a/b = {self.a / self.b:g}) does not cover the "
                f"unit cost {cost:g}: there is no profitable price"
            )

    def start(self, cost: float) -> float:
        return (cost + self.a / self.b) / 2 * 0.6 + cost * 0.4


@dataclass(frozen=True)
class ExponentialDemand:
    """q = a·e^(-b·p)."""

    a: float
    b: float

    def __call__(self, p):
        return self.a * gl.exp(-self.b * p)

    def best_price(self, cost: float) -> float:
        return cost + 1 / self.b

    def check(self, cost: float):
        if not (self.a > 0 and self.b > 0):
            raise NoInteriorMaximum(f"needs a > 0 and b > 0, got a = {self.a}, b = {self.b}")

    def start(self, cost: float) -> float:
        return cost + 0.5 / self.b


@dataclass(frozen=True)
class ConstantElasticityDemand:
    """q = a·p^(-ε): every 1% rise in price loses ε% of sales."""

    a: float
    elasticity: float

    def __call__(self, p):
        return self.a * p ** (-self.elasticity)

    def best_price(self, cost: float) -> float:
        return cost * self.elasticity / (self.elasticity - 1)

    def check(self, cost: float):
        if not self.elasticity > 1:
            raise NoInteriorMaximum(
                f"with elasticity {self.elasticity:g} <= 1 raising the price never loses enough sales: profit "
                "grows without bound as the price rises, so there is no best price"
            )
        if not cost > 0:
            raise NoInteriorMaximum("constant-elasticity demand needs a positive unit cost")

    def start(self, cost: float) -> float:
        return cost * (1 + 0.5 / (self.elasticity - 1))


@dataclass
class PriceResult:
    """The best price found, its profit, the closed-form price, and the path of the search."""

    price: float
    profit: float
    closed_form: float | None
    method: str
    steps: int
    path: list = field(default_factory=list)

    def __str__(self):
        exact = "" if self.closed_form is None else f" (closed form {self.closed_form:.6g})"
        return f"best price {self.price:.6g}{exact}, profit {self.profit:.6g}, {self.method} in {self.steps} steps"


def profit_function(demand, cost: float):
    """profit(p) = (p - c)·q(p), written with engine ops so it can be differentiated."""
    return lambda p: (p - cost) * demand(p)


def optimal_price(
    demand, cost: float, method: str = "newton", lr: float | None = None, steps: int = 10_000, tol: float = 1e-9
) -> PriceResult:
    """The profit-maximising price by gradient ascent (p ← p + lr·profit'(p)) or Newton's method."""
    demand.check(cost)
    profit = profit_function(demand, cost)
    start = demand.start(cost)
    if method == "newton":
        result = newton(lambda p: -profit(p[0]), [start], tol=tol, max_steps=100)
        path = [float(x[0]) for x in result.path]
        price, used = path[-1], result.steps
    elif method == "gradient":
        slope, curvature = gl.grad(profit), gl.grad(gl.grad(profit))
        if lr is None:  # a safe step from the curvature at the start: 1 / |profit''|
            lr = 1.0 / max(abs(float(curvature(start))), 1e-12)
        price, path, used = start, [start], steps
        for step in range(steps):
            g = float(slope(price))
            price = price + lr * g
            path.append(price)
            if not np.isfinite(price):
                raise NoInteriorMaximum(f"gradient ascent diverged at step {step + 1}; try a smaller lr")
            if abs(g) <= tol:
                used = step + 1
                break
    else:
        raise ValueError(f"method must be 'newton' or 'gradient', got {method!r}")
    value = profit(gl.Tensor(price)).item()
    return PriceResult(price, value, demand.best_price(cost), method, used, path)


@dataclass
class AdvertisingResult:
    """Best price and advertising spend, their profit, and the whole ascent path (rows: price, spend)."""

    price: float
    spend: float
    profit: float
    steps: int
    path: np.ndarray
    profits: list

    def __str__(self):
        return (
            f"price {self.price:.6g}, advertising {self.spend:.6g}, profit {self.profit:.6g} after {self.steps} steps"
        )


def optimal_price_and_advertising(
    a: float, b: float, k: float, cost: float, steps: int = 5_000, tol: float = 1e-8
) -> AdvertisingResult:
    """Maximise (p - c)(a - b p + k ln(1 + s)) - s over price p and spend s ≥ 0 by gradient ascent.

    The ascent runs in the coordinates (p, u) with u = ln(1 + s): spend's effect flattens out
    as s grows, so in s itself the landscape is a long narrow ridge (curvatures differing by
    a factor of ~1000) that plain steps crawl along; in u both directions curve alike. Each step
    is z ← z + t·∇profit with t halved until the profit rises (backtracking). The path is
    recorded in (price, spend).
    """
    if not b > 0:
        raise NoInteriorMaximum(f"demand must fall as the price rises (b > 0), got b = {b}")

    def profit(z):
        p, u = z[0], z[1]
        return (p - cost) * (a - b * p + k * u) - (gl.exp(u) - 1)

    value_and_slope = gl.value_and_grad(profit)
    z = np.array([(a / b + cost) / 2, 0.0])
    value, g = value_and_slope(z)
    path, profits = [np.array([z[0], 0.0])], [value]
    for _ in range(steps):
        if z[1] <= 0 and g[1] <= 0:
            g = np.array([g[0], 0.0])  # at zero spend, only the price can still move
        if np.linalg.norm(g) <= tol:
            break
        t = 1.0
        while t > 1e-12:
            trial = z + t * g
            trial[1] = max(trial[1], 0.0)
            trial_value, trial_g = value_and_slope(trial)
            if trial_value > value:
                break
            t *= 0.5
        else:
            break  # no step raises the profit: we are at the top (to rounding)
        z, value, g = trial, trial_value, trial_g
        path.append(np.array([z[0], np.expm1(z[1])]))
        profits.append(value)
    if z[1] <= 0 and g[1] <= 0:
        raise NoInteriorMaximum(
            f"advertising does not pay here: at the best price {z[0]:.4g} the first unit of spend returns "
            f"{k * (z[0] - cost):.3g} in margin for a cost of 1, so the best spend is 0 (a boundary, not an "
            "interior maximum)"
        )
    return AdvertisingResult(float(z[0]), float(np.expm1(z[1])), float(value), len(path) - 1, np.array(path), profits)

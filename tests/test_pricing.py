"""The pricing projects (course modules 1 and 2) and their command line."""

import numpy as np
import pytest

from gradlab.apps.pricing import (
    ConstantElasticityDemand,
    ExponentialDemand,
    LinearDemand,
    NoInteriorMaximum,
    optimal_price,
    optimal_price_and_advertising,
)
from gradlab.cli import main


@pytest.mark.parametrize("method", ["newton", "gradient"])
@pytest.mark.parametrize(
    ("demand", "cost"),
    [
        (LinearDemand(100, 2), 10),
        (LinearDemand(50, 0.5), 20),
        (ExponentialDemand(100, 0.1), 5),
        (ConstantElasticityDemand(1000, 3), 4),
        (ConstantElasticityDemand(500, 1.5), 2),
    ],
)
def test_the_optimum_matches_the_closed_form(demand, cost, method):
    result = optimal_price(demand, cost, method=method)
    assert result.price == pytest.approx(demand.best_price(cost), rel=1e-7)
    # and it is a maximum: nearby prices earn less
    profit = lambda p: (p - cost) * float(np.asarray(getattr(demand(p), "data", demand(p))))  # noqa: E731
    assert profit(result.price) >= max(profit(result.price * 0.99), profit(result.price * 1.01))


def test_linear_closed_form_worked_example():
    """q = 100 - 2p, c = 10: p* = (a/b + c)/2 = 30, q = 40, profit = 20 · 40 = 800."""
    result = optimal_price(LinearDemand(100, 2), 10)
    assert (result.price, result.profit) == (pytest.approx(30.0), pytest.approx(800.0))


@pytest.mark.parametrize(
    ("demand", "cost", "message"),
    [
        (ConstantElasticityDemand(1000, 0.8), 4, "no best price"),
        (LinearDemand(100, -1), 10, "b > 0"),
        (LinearDemand(10, 2), 10, "does not cover"),
    ],
)
def test_models_without_a_maximum_say_why(demand, cost, message):
    with pytest.raises(NoInteriorMaximum, match=message):
        optimal_price(demand, cost)


def test_price_and_advertising_reach_the_stationary_point():
    """At the optimum ∂/∂s = (p - c)k/(1 + s) - 1 = 0 and ∂/∂p = a - 2bp + bc + k ln(1 + s) = 0."""
    a, b, k, c = 100.0, 2.0, 10.0, 10.0
    result = optimal_price_and_advertising(a, b, k, c)
    p, s = result.price, result.spend
    # the ascent stops when no step raises the profit any more (its relative change is at rounding level)
    assert (p - c) * k / (1 + s) - 1 == pytest.approx(0, abs=1e-6)
    assert a - 2 * b * p + b * c + k * np.log1p(s) == pytest.approx(0, abs=1e-4)
    # the same point from the two conditions solved directly: s = (p - c)k - 1, then p by bisection
    low, high = c, a
    for _ in range(100):
        mid = (low + high) / 2
        if a - 2 * b * mid + b * c + k * np.log(k * (mid - c)) > 0:
            low = mid
        else:
            high = mid
    assert p == pytest.approx(low, abs=1e-5)
    assert result.path.shape[1] == 2 and len(result.path) == len(result.profits)
    assert all(later >= earlier for earlier, later in zip(result.profits, result.profits[1:]))


def test_advertising_that_does_not_pay_is_reported():
    with pytest.raises(NoInteriorMaximum, match="advertising does not pay"):
        optimal_price_and_advertising(100, 2, 0.01, 10)


def test_cli_price(capsys):
    assert main(["price", "--demand", "linear", "--a", "100", "--b", "2", "--cost", "10"]) == 0
    out = capsys.readouterr().out
    assert "best price: 30" in out and "profit: 800" in out


def test_cli_price_without_a_maximum(capsys):
    assert main(["price", "--demand", "elasticity", "--a", "100", "--elasticity", "0.5", "--cost", "1"]) == 2
    assert "no best price" in capsys.readouterr().err

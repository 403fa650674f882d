"""The safe formula parser: what it accepts computes correctly, everything else is refused."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradlab as gl
from gradlab.calculus import ExpressionError, parse_expression


def test_a_formula_becomes_a_differentiable_function():
    f = parse_expression("x**2*sin(x) + exp(-y)", ("x", "y"))
    assert f(2.0, 1.0).item() == pytest.approx(4 * math.sin(2) + math.exp(-1))
    dx, dy = gl.grad(f, argnums=(0, 1))(2.0, 1.0)
    assert dx == pytest.approx(4 * math.sin(2) + 4 * math.cos(2))
    assert dy == pytest.approx(-math.exp(-1))


def test_arrays_constants_and_unary_minus():
    f = parse_expression("-pi * x + e")
    np.testing.assert_allclose(f(np.array([0.0, 1.0])).data, [math.e, math.e - math.pi])


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("x.__class__", "attribute access", 0),
        ("sin(x).real", "attribute access", 0),
        ("__import__('os')", "unknown function '__import__'", 0),
        ("__builtins__", "not allowed", 0),
        ("lambda: 1", "lambda", 0),
        ("[t for t in x]", "comprehensions", 0),
        ("import os", "not a valid formula", None),
        ("x ^ 2", "write x\\*\\*2", 0),
        ("x + foo(x)", "unknown function 'foo'", 4),
        ("x + y", "unknown name 'y'", 4),
        ("sin(x, x)", "exactly one argument", 0),
        ("sin(x=1)", "keyword", None),
        ("x[0]", "indexing", 0),
        ("'text'", "only numbers", 0),
        ("True + x", "only numbers", 0),
        ("x if x else 1", "if", 0),
        ("x < 1", "comparisons", 0),
        ("1e300 * x", "too large", 0),
        ("x ** 1000", "exponent 1000 is too large", 5),
        ("", "empty", None),
        ("x" + " + x" * 200, "limit is 500", None),
    ],
)
def test_anything_outside_the_whitelist_is_refused_with_a_pointer(text, message, column):
    with pytest.raises(ExpressionError, match=message) as info:
        parse_expression(text)
    if column is not None:
        assert info.value.column == column
        assert "^" in str(info.value)


def test_too_many_parts_is_refused():
    with pytest.raises(ExpressionError, match="parts"):
        parse_expression("+".join(["sin(x)"] * 70))


def test_wrong_number_of_values_is_a_clear_error():
    with pytest.raises(TypeError, match="takes 2 value"):
        parse_expression("x*y", ("x", "y"))(1.0)


UNARY = ["sin", "cos", "tanh", "exp", "sigmoid", "softplus"]


@st.composite
def formulas(draw, depth=0):
    """Random formulas of x with a known smooth derivative (domain-safe functions only)."""
    if depth > 3 or draw(st.booleans()):
        return draw(st.sampled_from(["x", "2.5", "x", "0.5"]))
    kind = draw(st.sampled_from(["unary", "add", "mul", "sub", "square"]))
    left = draw(formulas(depth=depth + 1))
    if kind == "unary":
        return f"{draw(st.sampled_from(UNARY))}({left})"
    if kind == "square":
        return f"({left})**2"
    right = draw(formulas(depth=depth + 1))
    symbol = {"add": "+", "mul": "*", "sub": "-"}[kind]
    return f"({left}) {symbol} ({right})"


@settings(max_examples=60, deadline=None)
@given(formulas(), st.floats(-1.5, 1.5))
def test_the_engine_derivative_of_random_formulas_matches_finite_differences(text, x):
    f = parse_expression(text)
    exact = gl.grad(f)(x)
    numeric = gl.numerical_derivative(f, x, method="central")
    assert exact == pytest.approx(numeric, rel=1e-6, abs=1e-6)

"""The calculus toolkit: derivatives, sums and series, integrals, symbolic maths, formulas."""

from .expressions import FUNCTIONS, Expression, ExpressionError, parse_expression

__all__ = ["FUNCTIONS", "Expression", "ExpressionError", "parse_expression"]

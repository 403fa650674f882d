"""The calculus toolkit: derivatives, sums and series, integrals, probability, symbolic maths,
and a safe parser for typed formulas. Each module's docstring states the maths it computes."""

from .derivatives import (
    StepStudy,
    TangentLine,
    derivative,
    directional_derivative,
    gradient,
    numerical_derivative,
    partial,
    step_size_study,
    tangent_line,
)
from .expressions import FUNCTIONS, Expression, ExpressionError, parse_expression
from .integrals import (
    MonteCarloEstimate,
    expectation,
    exponential_pdf,
    integrate,
    integrate2d,
    normal_pdf,
    probability,
    uniform_pdf,
)
from .series import bernoulli_numbers, faulhaber_coefficients, power_sum, product, summation
from .symbolic import SymbolicError, antiderivative, check_against_symbolic, symbolic, symbolic_derivative

__all__ = [
    "FUNCTIONS",
    "Expression",
    "ExpressionError",
    "MonteCarloEstimate",
    "StepStudy",
    "SymbolicError",
    "TangentLine",
    "antiderivative",
    "bernoulli_numbers",
    "check_against_symbolic",
    "derivative",
    "directional_derivative",
    "expectation",
    "exponential_pdf",
    "faulhaber_coefficients",
    "gradient",
    "integrate",
    "integrate2d",
    "normal_pdf",
    "numerical_derivative",
    "parse_expression",
    "partial",
    "power_sum",
    "probability",
    "product",
    "step_size_study",
    "summation",
    "symbolic",
    "symbolic_derivative",
    "tangent_line",
    "uniform_pdf",
]

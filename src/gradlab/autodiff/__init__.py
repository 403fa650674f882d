"""gradlab's automatic differentiation engine (reverse mode), written from scratch on NumPy.

Floor 1 (core): `tensor` (Tensor, Function, the reverse sweep) and `ops` (one class per op).
Floor 2 (transforms): `functional` (grad, value_and_grad), `checking` (finite differences,
gradcheck) and `graph` (to_dot).
"""

from . import ops
from .checking import GradcheckError, GradcheckResult, gradcheck, numerical_derivative, numerical_gradient
from .functional import grad, value_and_grad
from .graph import to_dot
from .ops import *  # noqa: F403  (every op as a function: gl.exp, gl.matmul, ...)
from .tensor import (
    Function,
    ShapeError,
    Tensor,
    as_tensor,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    keep_values,
    no_grad,
)

__all__ = [
    "Function",
    "ShapeError",
    "Tensor",
    "as_tensor",
    "detect_anomaly",
    "enable_grad",
    "is_grad_enabled",
    "keep_values",
    "no_grad",
    "grad",
    "value_and_grad",
    "gradcheck",
    "GradcheckError",
    "GradcheckResult",
    "numerical_derivative",
    "numerical_gradient",
    "to_dot",
] + ops.__all__

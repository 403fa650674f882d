"""gradlab's automatic differentiation engine, written from scratch on NumPy.

Floor 1 (core): `tensor` (Tensor, Function, the reverse sweep, forward-mode tangents, `gradients`)
and `ops` (one class per op, each with its forward code, reverse rule and forward rule).
Floor 2 (transforms): `functional` (grad, value_and_grad, vjp, jvp, elementwise_grad,
stop_gradient), `jacobians` (jacrev, jacfwd, jacobian, hessian, hvp), `custom` (custom_vjp,
vmap), `checking` (finite differences, gradcheck), `graph` (to_dot) and `pytree`.
"""

from . import ops
from .checking import GradcheckError, GradcheckResult, gradcheck, numerical_derivative, numerical_gradient
from .custom import custom_vjp, vmap
from .functional import elementwise_grad, grad, jvp, stop_gradient, value_and_grad, vjp
from .graph import to_dot
from .jacobians import hessian, hvp, jacfwd, jacobian, jacrev
from .ops import *  # noqa: F403  (every op as a function: gl.exp, gl.matmul, ...)
from .tensor import (
    Function,
    ShapeError,
    Tensor,
    as_tensor,
    detect_anomaly,
    enable_grad,
    gradients,
    is_grad_enabled,
    keep_values,
    no_grad,
)

__all__ = [
    "Function",
    "GradcheckError",
    "GradcheckResult",
    "ShapeError",
    "Tensor",
    "as_tensor",
    "custom_vjp",
    "detect_anomaly",
    "elementwise_grad",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradients",
    "hessian",
    "hvp",
    "is_grad_enabled",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "keep_values",
    "no_grad",
    "numerical_derivative",
    "numerical_gradient",
    "stop_gradient",
    "to_dot",
    "value_and_grad",
    "vjp",
    "vmap",
    *ops.__all__,
]

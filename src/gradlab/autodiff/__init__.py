"""gradlab's automatic differentiation engine, written from scratch on NumPy.

Read it in this order, one file per stop:

1. An op: `ops/elementwise.py` (then reduction, shape, linalg, conv, losses). One class per
   primitive, its forward code, reverse rule (vjp) and forward rule (jvp) side by side.
2. The value: `tensor.py`, the Tensor class; its operators are those ops.
3. Recording an op: `function.py`, the Function base class and the node it leaves on the tape.
4. The sweep: `backward.py`, pop a node, apply its rule, add the gradients up.
5. Gradients of chosen values: `gradients.py` (pruning, and nesting one sweep inside another).
6. Forward mode: `forward_mode.py`, tangents pushed through each op at nested levels.
7. The transforms: `functional.py` (grad, value_and_grad, vjp, jvp, vmap, ...), then
   `jacobians.py` (jacrev, jacfwd, hessian, hvp), `custom.py` (custom_vjp), `checking.py`
   (finite differences, gradcheck), `graph.py` (walk, the one public view of a recorded graph,
   and to_dot, drawn with it).

Alongside: `modes.py` (the per-thread switches: no_grad, enable_grad, detect_anomaly,
keep_values), `versions.py` (the clock, and in-place change detection), `pytree.py`.
Speed: `compile/` (gl.compile: trace a whole step once, replay it as readable straight-line NumPy).
"""

from .tensor import Tensor  # noqa: I001  (first: the rest of the engine is built on it)
from . import ops
from .checking import GradcheckError, GradcheckResult, gradcheck, numerical_derivative, numerical_gradient
from .custom import custom_vjp
from .functional import elementwise_grad, grad, jvp, stop_gradient, value_and_grad, vjp, vmap
from .graph import Node, to_dot, walk
from .jacobians import hessian, hvp, jacfwd, jacobian, jacrev
from .ops import *  # noqa: F403  (every op as a function: gl.exp, gl.matmul, ...)
from .function import Function, ShapeError
from .gradients import gradients
from .modes import detect_anomaly, enable_grad, is_grad_enabled, keep_values, no_grad
from .tensor import as_tensor
from .compile import CompileError, compile

__all__ = [
    "CompileError",
    "Function",
    "GradcheckError",
    "GradcheckResult",
    "Node",
    "ShapeError",
    "Tensor",
    "as_tensor",
    "compile",
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
    "walk",
    *ops.__all__,
]

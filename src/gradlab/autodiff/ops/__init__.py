"""Every op of the engine, as a function that accepts Tensors, floats or arrays.

The op classes (one per primitive, forward and derivative side by side) live in the modules:
elementwise, reduction, shape, linalg, nn. `Function.registry` lists them all.
"""

from ..tensor import Tensor
from .elementwise import (
    abs,
    add,
    astype,
    clip,
    cos,
    div,
    exp,
    gelu,
    leaky_relu,
    log,
    maximum,
    minimum,
    mul,
    neg,
    power,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    sub,
    tan,
    tanh,
    where,
)
from .linalg import dot, linear, matmul, tensordot
from .nn import avg_pool2d, bce_with_logits, conv2d, cross_entropy, fold, max_pool2d, mse, unfold
from .reduction import log_softmax, logsumexp, max, mean, min, norm, softmax, sum, var
from .shape import (
    broadcast_to,
    concatenate,
    expand,
    getitem,
    pad,
    permute,
    reshape,
    scatter_add,
    stack,
    transpose,
)

# Tensor's operators are these functions themselves: x @ w calls matmul(x, w) directly.
Tensor.__add__ = add
Tensor.__sub__ = sub
Tensor.__mul__ = mul
Tensor.__truediv__ = div
Tensor.__pow__ = power
Tensor.__matmul__ = matmul
Tensor.__neg__ = neg
Tensor.__abs__ = abs
Tensor.__getitem__ = getitem

__all__ = [
    "abs",
    "add",
    "astype",
    "avg_pool2d",
    "bce_with_logits",
    "broadcast_to",
    "clip",
    "concatenate",
    "conv2d",
    "cos",
    "cross_entropy",
    "div",
    "dot",
    "exp",
    "expand",
    "fold",
    "gelu",
    "getitem",
    "leaky_relu",
    "linear",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "max_pool2d",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mse",
    "mul",
    "neg",
    "norm",
    "pad",
    "permute",
    "power",
    "relu",
    "reshape",
    "scatter_add",
    "sigmoid",
    "sin",
    "softmax",
    "softplus",
    "sqrt",
    "stack",
    "sub",
    "sum",
    "tan",
    "tanh",
    "tensordot",
    "transpose",
    "unfold",
    "var",
    "where",
]

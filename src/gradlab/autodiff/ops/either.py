"""Functions that take either a NumPy array or a Tensor, for writing derivative rules
(`either.cos(x)` is np.cos(x) for an array, x.cos() for a Tensor).

A rule such as  dL/dx = g * cos(x)  runs on plain arrays in an ordinary backward pass (fast, no
graph), and on Tensors when the derivative itself must be differentiated (backward with
create_graph=True, Hessians, forward mode): then every operation in the rule is recorded too.
Operators (+ - * / ** @), comparisons, indexing and the methods sum, reshape, transpose, astype
already work on both; this module supplies the rest.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def is_traced(*values) -> bool:
    """True if any value is a Tensor (the rule is being recorded)."""
    for v in values:
        if isinstance(v, Tensor):
            return True
    return False


def exp(v):
    return v.exp() if isinstance(v, Tensor) else np.exp(v)


def log(v):
    return v.log() if isinstance(v, Tensor) else np.log(v)


def sin(v):
    return v.sin() if isinstance(v, Tensor) else np.sin(v)


def cos(v):
    return v.cos() if isinstance(v, Tensor) else np.cos(v)


def sigmoid(v):
    if isinstance(v, Tensor):
        return v.sigmoid()
    e = np.exp(-np.abs(v))
    return np.where(v >= 0, 1 / (1 + e), e / (1 + e))


def values(v):
    """The plain array inside v: for factors that are locally constant (signs, masks)."""
    return v.data if isinstance(v, Tensor) else v


def where(cond, a, b):
    """a where cond else b; cond is a plain boolean array (a comparison), a and b arrays or Tensors."""
    if is_traced(a, b):
        from .elementwise import where as traced_where

        return traced_where(cond, a, b)
    return np.where(cond, a, b)


def swapaxes(v, a: int, b: int):
    if isinstance(v, Tensor):
        axes = list(range(v.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return v.transpose(tuple(axes))
    return np.swapaxes(v, a, b)


def broadcast_to(v, shape):
    if isinstance(v, Tensor):
        return v.broadcast_to(shape)
    out = np.empty(shape, dtype=v.dtype)  # a real array, not a read-only view
    out[...] = v
    return out


def zeros_like(v):
    if isinstance(v, Tensor):
        return Tensor(np.zeros(v.shape, dtype=v.dtype))
    return np.zeros_like(v)

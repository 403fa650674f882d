"""Matrix multiplication, the op where almost all of a network's time goes."""

from __future__ import annotations

import numpy as np

from ..tensor import Function, ShapeError, Tensor, user_site
from ._common import tensor_pair, unbroadcast


class Matmul(Function):
    """y = a @ b (NumPy's matmul: batched, with 1-D vectors allowed on either side).

    For matrices:  dL/da = g @ bᵀ,  dL/db = aᵀ @ g.  Vectors are treated as a row (on the left)
    or a column (on the right), and batch axes that were broadcast are summed back.
    """

    save_output = False

    def forward(self, a, b):
        return a @ b

    def vjp(self, g, y, a, b):
        need_a, need_b = self.needs
        if a.ndim == 2 and b.ndim == 2:
            return (g @ b.T if need_a else None, a.T @ g if need_b else None)
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if need_a else None, g * a if need_b else None)
        ga = gb = None
        if a.ndim == 1:  # (k,) @ (..., k, n) -> (..., n)
            if need_a:
                ga = unbroadcast((b @ g[..., :, None])[..., 0], a.shape)
            if need_b:
                gb = unbroadcast(a[:, None] * g[..., None, :], b.shape)
        elif b.ndim == 1:  # (..., m, k) @ (k,) -> (..., m)
            if need_a:
                ga = unbroadcast(g[..., :, None] * b, a.shape)
            if need_b:
                gb = unbroadcast((np.swapaxes(a, -1, -2) @ g[..., :, None])[..., 0], b.shape)
        else:
            if need_a:
                ga = unbroadcast(g @ np.swapaxes(b, -1, -2), a.shape)
            if need_b:
                gb = unbroadcast(np.swapaxes(a, -1, -2) @ g, b.shape)
        return ga, gb


class Linear(Function):
    """y = x @ W + b, the affine map of a fully connected layer, as one op.

    x is (..., n_in), W is (n_in, n_out), b is (n_out,) or absent. With X, G the inputs and
    output gradients flattened to rows (X is (m, n_in), G = dL/dy is (m, n_out)):
        dL/dx = G @ Wᵀ,   dL/dW = Xᵀ @ G,   dL/db = Σ_rows G.
    It is `matmul` followed by `add`, fused because a network spends its Python overhead per op:
    one node instead of two, and the bias is added in place into the fresh product.
    """

    save_output = False

    def forward(self, x, w, b=None):
        y = x @ w
        if b is not None:
            y += b
        return y

    def vjp(self, g, y, x, w, b=None):
        need_x, need_w = self.needs[0], self.needs[1]
        if g.ndim != 2:
            g2, x2 = g.reshape(-1, g.shape[-1]), x.reshape(-1, x.shape[-1])
        else:
            g2, x2 = g, x
        gx = (g @ w.T) if need_x else None
        gw = (x2.T @ g2) if need_w else None
        if b is None:
            return gx, gw
        return gx, gw, (g2.sum(axis=0) if self.needs[2] else None)


def linear(x, weight, bias=None) -> Tensor:
    """x @ weight + bias in one op: x (..., n_in), weight (n_in, n_out), bias (n_out,) or None."""
    x, weight = tensor_pair(x, weight)
    if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[0]:
        raise ShapeError(
            f"linear: x {x.shape} @ weight {weight.shape} needs weight of shape (n_in, n_out) with "
            f"n_in = x.shape[-1]; called at {user_site()}"
        )
    if bias is None:
        return Linear.apply(x, weight)
    bias = bias if isinstance(bias, Tensor) else Tensor(bias, dtype=weight.dtype)
    if bias.shape != (weight.shape[1],):
        raise ShapeError(
            f"linear: bias must have shape ({weight.shape[1]},), got {bias.shape}; called at {user_site()}"
        )
    return Linear.apply(x, weight, bias)


def matmul(a, b) -> Tensor:
    """a @ b: matrix product, batched over leading axes, vectors allowed."""
    return Matmul.apply(*tensor_pair(a, b))


def dot(a, b) -> Tensor:
    """Inner product of two vectors (same as matmul for 1-D inputs)."""
    return Matmul.apply(*tensor_pair(a, b))

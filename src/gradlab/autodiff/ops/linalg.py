"""Matrix multiplication, the op where almost all of a network's time goes."""

from __future__ import annotations

import numpy as np

from ..tensor import Function, Tensor
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


def matmul(a, b) -> Tensor:
    """a @ b: matrix product, batched over leading axes, vectors allowed."""
    return Matmul.apply(*tensor_pair(a, b))


def dot(a, b) -> Tensor:
    """Inner product of two vectors (same as matmul for 1-D inputs)."""
    return Matmul.apply(*tensor_pair(a, b))

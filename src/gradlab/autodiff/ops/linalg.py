"""Matrix multiplication, the op where almost all of a network's time goes."""

from __future__ import annotations

import numpy as np

from ..function import Function, ShapeError
from ..modes import user_site
from ..tensor import Tensor
from . import either
from ._common import sum_rows, tangent_sum, tensor_pair, unbroadcast


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
                gb = unbroadcast((either.swapaxes(a, -1, -2) @ g[..., :, None])[..., 0], b.shape)
        else:
            if need_a:
                ga = unbroadcast(g @ either.swapaxes(b, -1, -2), a.shape)
            if need_b:
                gb = unbroadcast(either.swapaxes(a, -1, -2) @ g, b.shape)
        return ga, gb

    def jvp(self, dxs, y, a, b):
        da, db = dxs
        return tangent_sum(y.shape, None if da is None else da @ b, None if db is None else a @ db)


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
        return gx, gw, (sum_rows(g2) if self.needs[2] else None)

    def jvp(self, dxs, y, x, w, b=None):
        dx, dw = dxs[0], dxs[1]
        db = dxs[2] if len(dxs) > 2 else None
        return tangent_sum(y.shape, None if dx is None else dx @ w, None if dw is None else x @ dw, db)


class Tensordot(Function):
    """y = Σ over paired axes of a[..] · b[..] (np.tensordot with axes = (a_axes, b_axes)).

    Writing the free axes of a as i, of b as j and the summed ones as k:
        y[i, j] = Σ_k a[i, k] b[k, j],   dL/da[i, k] = Σ_j g[i, j] b[k, j],
        dL/db[k, j] = Σ_i a[i, k] g[i, j],   dy = tensordot(da, b) + tensordot(a, db).
    """

    __slots__ = ("a_free", "a_sum", "b_free", "b_sum")
    save_output = False

    def forward(self, a, b, axes):
        a_sum, b_sum = [ax % a.ndim for ax in axes[0]], [ax % b.ndim for ax in axes[1]]
        self.a_sum, self.b_sum = a_sum, b_sum
        self.a_free = [ax for ax in range(a.ndim) if ax not in a_sum]
        self.b_free = [ax for ax in range(b.ndim) if ax not in b_sum]
        return np.tensordot(a, b, axes=(a_sum, b_sum))

    def vjp(self, g, y, a, b):
        n_a = len(self.a_free)
        ga = gb = None
        if self.needs[0]:
            # contract g's b-part with b's free axes: left with a_free then b's summed axes (in b's order)
            raw = _tensordot(g, b, (list(range(n_a, g.ndim)), self.b_free))
            source = self.a_free + [self.a_sum[self.b_sum.index(k)] for k in sorted(self.b_sum)]
            ga = raw.transpose(tuple(int(i) for i in np.argsort(source)))
        if self.needs[1]:
            raw = _tensordot(a, g, (self.a_free, list(range(n_a))))
            source = [self.b_sum[self.a_sum.index(k)] for k in sorted(self.a_sum)] + self.b_free
            gb = raw.transpose(tuple(int(i) for i in np.argsort(source)))
        return ga, gb

    def jvp(self, dxs, y, a, b):
        da, db = dxs
        axes = (self.a_sum, self.b_sum)
        return tangent_sum(
            y.shape, None if da is None else _tensordot(da, b, axes), None if db is None else _tensordot(a, db, axes)
        )


def _tensordot(a, b, axes):
    if either.is_traced(a, b):
        a, b = tensor_pair(a, b)
        return Tensordot.apply(a, b, axes=(list(axes[0]), list(axes[1])))
    return np.tensordot(a, b, axes=axes)


def tensordot(a, b, axes=2) -> Tensor:
    """Sum of products over paired axes, as np.tensordot: `axes` is an int n (the last n axes of a
    with the first n of b) or a pair of axis lists."""
    a, b = tensor_pair(a, b)
    if isinstance(axes, int):
        axes = (list(range(a.ndim - axes, a.ndim)), list(range(axes)))
    a_axes, b_axes = (
        [axes[0]] if isinstance(axes[0], int) else list(axes[0]),
        [axes[1]] if isinstance(axes[1], int) else list(axes[1]),
    )
    return Tensordot.apply(a, b, axes=(a_axes, b_axes))


def linear(x, weight, bias=None) -> Tensor:
    """x @ weight + bias in one op: x (..., n_in), weight (n_in, n_out), bias (n_out,) or None."""
    if x.__class__ is not Tensor or weight.__class__ is not Tensor:
        x, weight = tensor_pair(x, weight)
    # The checks read the arrays' shapes: Tensor.shape would cost a call each.
    x_shape, w_shape = x.data.shape, weight.data.shape
    if len(w_shape) != 2 or not x_shape or x_shape[-1] != w_shape[0]:
        raise ShapeError(
            f"linear: x {x_shape} @ weight {w_shape} needs weight of shape (n_in, n_out) with "
            f"n_in = x.shape[-1]; called at {user_site()}"
        )
    if bias is None:
        return Linear.apply(x, weight)
    if bias.__class__ is not Tensor and not isinstance(bias, Tensor):
        bias = Tensor(bias, dtype=weight.data.dtype)
    if bias.data.shape != (w_shape[1],):
        raise ShapeError(
            f"linear: bias must have shape ({w_shape[1]},), got {bias.data.shape}; called at {user_site()}"
        )
    return Linear.apply(x, weight, bias)


def matmul(a, b) -> Tensor:
    """a @ b: matrix product, batched over leading axes, vectors allowed."""
    if a.__class__ is not Tensor or b.__class__ is not Tensor:  # the common case skips a call
        a, b = tensor_pair(a, b)
    return Matmul.apply(a, b)


def dot(a, b) -> Tensor:
    """Inner product of two vectors (same as matmul for 1-D inputs)."""
    if a.__class__ is not Tensor or b.__class__ is not Tensor:  # the common case skips a call
        a, b = tensor_pair(a, b)
    return Matmul.apply(a, b)

"""Reductions (sum, mean, max, min, var, norm) and the softmax family.

A reduction's rule spreads g back over the axes it removed: for y = Σ x, every x_i gets g.
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from ..tensor import Tensor
from . import either
from ._common import keep_reduced_dims, normalize_axes, tensor


def _spread(g, shape, kept_shape):
    """g copied back over the reduced axes, to `shape` (kept_shape has 1s where they were)."""
    return either.broadcast_to(g if kept_shape is None else g.reshape(kept_shape), shape)


class Sum(Function):
    """y = Σ x over `axis`;  dL/dx_i = g (copied back over the summed axes);  dy = Σ dx."""

    __slots__ = ("axis", "keepdims", "kept_shape", "shape")
    save_inputs = save_output = False

    def forward(self, x, axis, keepdims):
        y = x.sum(axis=axis, keepdims=True)
        self.axis, self.keepdims, self.shape = axis, keepdims, x.shape
        self.kept_shape = None if keepdims or axis is None else y.shape
        return y if keepdims else y.reshape(_reduced_shape(x.shape, y.shape, axis))

    def vjp(self, g, y, x):
        return (_spread(g, self.shape, self.kept_shape),)

    def jvp(self, dxs, y, x):
        return dxs[0].sum(axis=self.axis, keepdims=self.keepdims)


class Mean(Function):
    """y = (1/n) Σ x over `axis`;  dL/dx_i = g / n;  dy = (1/n) Σ dx."""

    __slots__ = ("axis", "count", "keepdims", "kept_shape", "shape")
    save_inputs = save_output = False

    def forward(self, x, axis, keepdims):
        y = x.sum(axis=axis, keepdims=True)
        self.count = x.size // y.size if y.size else 1
        self.axis, self.keepdims, self.shape = axis, keepdims, x.shape
        self.kept_shape = None if keepdims or axis is None else y.shape
        y = y / self.count
        return y if keepdims else y.reshape(_reduced_shape(x.shape, y.shape, axis))

    def vjp(self, g, y, x):
        return (_spread(g / self.count, self.shape, self.kept_shape),)

    def jvp(self, dxs, y, x):
        return dxs[0].sum(axis=self.axis, keepdims=self.keepdims) / self.count


def _reduced_shape(shape, kept_shape, axis):
    """The shape after reducing over `axis` without keepdims."""
    if axis is None:
        return ()
    axes = normalize_axes(axis, len(shape))
    return tuple(n for i, n in enumerate(kept_shape) if i not in axes)


class Max(Function):
    """y = max x over `axis`;  dL/dx_i = g at the maximum, shared evenly between tied maxima;
    dy = the mean of dx over the tied maxima."""

    __slots__ = ("axis", "keepdims")

    def forward(self, x, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims
        return x.max(axis=axis, keepdims=keepdims)

    def vjp(self, g, y, x):
        return (_to_extremes(g, y, x, self.axis, self.keepdims),)

    def jvp(self, dxs, y, x):
        return _extreme_tangent(dxs[0], y, x, self.axis, self.keepdims)


class Min(Function):
    """y = min x over `axis`;  dL/dx_i = g at the minimum, shared evenly between tied minima;
    dy = the mean of dx over the tied minima."""

    __slots__ = ("axis", "keepdims")

    def forward(self, x, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims
        return x.min(axis=axis, keepdims=keepdims)

    def vjp(self, g, y, x):
        return (_to_extremes(g, y, x, self.axis, self.keepdims),)

    def jvp(self, dxs, y, x):
        return _extreme_tangent(dxs[0], y, x, self.axis, self.keepdims)


def _share_of_extremes(y, x, axis, keepdims):
    """1/count at the (tied) extreme elements along `axis`, 0 elsewhere: a plain array."""
    values = either.values(x)
    hit = values == keep_reduced_dims(either.values(y), axis, x.ndim, keepdims)
    return (hit / hit.sum(axis=axis, keepdims=True)).astype(values.dtype, copy=False)


def _to_extremes(g, y, x, axis, keepdims):
    return keep_reduced_dims(g, axis, x.ndim, keepdims) * _share_of_extremes(y, x, axis, keepdims)


def _extreme_tangent(dx, y, x, axis, keepdims):
    return (dx * _share_of_extremes(y, x, axis, keepdims)).sum(axis=axis, keepdims=keepdims)


class LogSumExp(Function):
    """y = ln Σ e^x over `axis`, computed as m + ln Σ e^(x - m) with m = max x (no overflow);
    dL/dx_i = g · e^(x_i - y) = g · softmax(x)_i;  dy = Σ softmax(x) dx."""

    __slots__ = ("axis", "keepdims")

    def forward(self, x, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims
        m = x.max(axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        y = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
        return y if keepdims else y.squeeze(axis=axis)

    def _softmax(self, y, x):
        return either.exp(x - keep_reduced_dims(y, self.axis, x.ndim, self.keepdims))

    def vjp(self, g, y, x):
        return (keep_reduced_dims(g, self.axis, x.ndim, self.keepdims) * self._softmax(y, x),)

    def jvp(self, dxs, y, x):
        return (dxs[0] * self._softmax(y, x)).sum(axis=self.axis, keepdims=self.keepdims)


class Softmax(Function):
    """y_i = e^(x_i) / Σ_j e^(x_j) along `axis`;  dL/dx = y · (g - Σ_j g_j y_j);
    dy = y · (dx - Σ_j y_j dx_j)."""

    __slots__ = ("axis",)
    save_inputs = False

    def forward(self, x, axis):
        self.axis = axis
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    def vjp(self, g, y, x):
        return (y * (g - (g * y).sum(axis=self.axis, keepdims=True)),)

    def jvp(self, dxs, y, x):
        dx = dxs[0]
        return y * (dx - (dx * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y_i = x_i - ln Σ_j e^(x_j) along `axis`;  dL/dx = g - softmax(x) · Σ_j g_j;
    dy = dx - Σ_j softmax(x)_j dx_j."""

    __slots__ = ("axis",)
    save_inputs = False

    def forward(self, x, axis):
        self.axis = axis
        shifted = x - x.max(axis=axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    def vjp(self, g, y, x):
        return (g - either.exp(y) * g.sum(axis=self.axis, keepdims=True),)

    def jvp(self, dxs, y, x):
        dx = dxs[0]
        return dx - (either.exp(y) * dx).sum(axis=self.axis, keepdims=True)


class Norm(Function):
    """y = ||x||₂ = sqrt(Σ x²) over `axis`;  dL/dx = g · x / y;  dy = Σ x dx / y; both taken as 0
    where y = 0. At x = 0 the norm has no derivative; 0 is a valid sub-gradient and keeps training
    finite."""

    __slots__ = ("axis", "keepdims")

    def forward(self, x, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims
        return np.sqrt((x * x).sum(axis=axis, keepdims=keepdims))

    def vjp(self, g, y, x):
        y = keep_reduced_dims(y, self.axis, x.ndim, self.keepdims)
        g = keep_reduced_dims(g, self.axis, x.ndim, self.keepdims)
        positive = y > 0
        return (either.where(positive, g * x / either.where(positive, y, 1), 0),)

    def jvp(self, dxs, y, x):
        positive = y > 0
        along = (x * dxs[0]).sum(axis=self.axis, keepdims=self.keepdims)
        return either.where(positive, along / either.where(positive, y, 1), 0)


def _checked_axis(x: Tensor, axis):
    if axis is not None:
        normalize_axes(axis, x.ndim)  # raises a clear error for an axis out of range
        if isinstance(axis, list):
            axis = tuple(axis)
    return axis


def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Σ x over `axis` (all axes when None)."""
    x = tensor(x)
    return Sum.apply(x, axis=_checked_axis(x, axis), keepdims=keepdims)


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over `axis`."""
    x = tensor(x)
    return Mean.apply(x, axis=_checked_axis(x, axis), keepdims=keepdims)


def max(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Largest value over `axis`; tied maxima share the gradient equally."""
    x = tensor(x)
    return Max.apply(x, axis=_checked_axis(x, axis), keepdims=keepdims)


def min(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Smallest value over `axis`; tied minima share the gradient equally."""
    x = tensor(x)
    return Min.apply(x, axis=_checked_axis(x, axis), keepdims=keepdims)


def var(x, axis=None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance Σ (x - mean)² / (n - ddof) over `axis` (written with other ops)."""
    x = tensor(x)
    axis = _checked_axis(x, axis)
    n = x.size if axis is None else int(np.prod([x.shape[a] for a in normalize_axes(axis, x.ndim)]))
    centered = x - mean(x, axis, keepdims=True)
    return sum(centered * centered, axis, keepdims) / (n - ddof)


def logsumexp(x, axis=None, keepdims: bool = False) -> Tensor:
    """ln Σ e^x over `axis`, without overflow for large x."""
    x = tensor(x)
    return LogSumExp.apply(x, axis=_checked_axis(x, axis), keepdims=keepdims)


def softmax(x, axis: int = -1) -> Tensor:
    """e^(x_i) / Σ_j e^(x_j) along `axis` (probabilities that sum to 1)."""
    x = tensor(x)
    return Softmax.apply(x, axis=_checked_axis(x, axis))


def log_softmax(x, axis: int = -1) -> Tensor:
    """ln softmax(x) along `axis`, computed stably."""
    x = tensor(x)
    return LogSoftmax.apply(x, axis=_checked_axis(x, axis))


def norm(x, axis=None, keepdims: bool = False) -> Tensor:
    """Euclidean norm sqrt(Σ x²) over `axis`; its gradient at 0 is 0 (finite)."""
    x = tensor(x)
    return Norm.apply(x, axis=_checked_axis(x, axis), keepdims=keepdims)

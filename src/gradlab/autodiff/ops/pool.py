"""Pooling: max and average over k×k patches (the patches as in conv.py's `unfold`). Each op's forward code
and its reverse and forward rules are side by side."""

from __future__ import annotations

import numpy as np

from ..function import Function
from ..tensor import Tensor
from . import either
from ._common import require, tensor
from .conv import _fold_any, _pair_size, _windows, unfold
from .shape import IndexAdd


class MaxPool2d(Function):
    """y[n, c, h, w] = max of the k×k patch;  dL/dx = g at the patch maximum (split on ties);
    dy = dx at the patch maximum (averaged over ties).

    When the patches tile the image (stride = kernel, sizes divisible), the element at offset
    (i, j) of every patch is the strided slice x[:, :, i::k, j::k]: the maximum is k² element-wise
    maxima of such slices, and the gradient goes back slice by slice, with no gathering at all.
    """

    __slots__ = ("kernel", "stride", "tiled")

    def forward(self, x, kernel, stride):
        self.stride, self.kernel = stride, kernel
        h, w = x.shape[2:]
        self.tiled = stride == kernel and h % kernel == 0 and w % kernel == 0
        if self.tiled:
            offsets = self._offsets(x)
            y = offsets[0].copy()
            for part in offsets[1:]:
                np.maximum(y, part, out=y)
            return y
        patches = _windows(x, kernel, kernel, stride)
        self.saved = patches
        return patches.max(axis=(4, 5))

    def _offsets(self, v):
        k = self.kernel
        return [v[:, :, i::k, j::k] for i in range(k) for j in range(k)]

    def _tile_hits(self, y, x):
        """For each offset of the tiles, where it holds the tile's maximum; and how many offsets tie there."""
        values, top = either.values(x), either.values(y)
        hits = [part == top for part in self._offsets(values)]
        count = hits[0].astype(values.dtype)
        for hit in hits[1:]:
            count += hit
        return hits, count

    def _tile_shares(self, y, x):
        """For each offset of the tiles, 1/count where it holds the (tied) maximum, else 0."""
        hits, count = self._tile_hits(y, x)
        return [hit / count for hit in hits]

    def _patch_share(self, y, x):
        """1/count at each patch's (tied) maxima, 0 elsewhere, shaped as the patches (N, C, OH, OW, k, k)."""
        values, top = either.values(x), either.values(y)
        patches = self.saved if self.saved is not None else _windows(values, self.kernel, self.kernel, self.stride)
        hit = patches == top[..., None, None]
        return (hit / hit.sum(axis=(4, 5), keepdims=True)).astype(patches.dtype, copy=False)

    def vjp(self, g, y, x):
        if self.tiled and not isinstance(g, Tensor):
            hits, count = self._tile_hits(y, x)
            share = g / count  # one division per tile, not one per offset (1.2x on the MNIST CNN's pools)
            gx = np.empty(x.shape, dtype=g.dtype)
            for part, hit in zip(self._offsets(gx), hits):
                np.multiply(share, hit, out=part)
            return (gx,)
        if self.tiled:  # recorded, to be differentiated again: the same sum written with ops
            k = self.kernel
            pieces = [
                IndexAdd.apply(
                    g * share, index=(slice(None), slice(None), slice(i, None, k), slice(j, None, k)), shape=x.shape
                )
                for (i, j), share in zip(np.ndindex(k, k), self._tile_shares(y, x))
            ]
            total = pieces[0]
            for piece in pieces[1:]:
                total = total + piece
            return (total,)
        return (_fold_any(g[..., None, None] * self._patch_share(y, x), x.shape, self.stride, 0),)

    def jvp(self, dxs, y, x):
        if self.tiled:
            total = None
            for part, share in zip(self._offsets(dxs[0]), self._tile_shares(y, x)):
                total = part * share if total is None else total + part * share
            return total
        k = (self.kernel, self.kernel)
        return (unfold(dxs[0], k, self.stride) * self._patch_share(y, x)).sum(axis=(4, 5))


class AvgPool2d(Function):
    """y[n, c, h, w] = mean of the k×k patch;  dL/dx = g / k² on every element of the patch;
    dy = avg_pool(dx)."""

    __slots__ = ("kernel", "shape", "stride")
    save_inputs = save_output = False

    def forward(self, x, kernel, stride):
        self.stride, self.kernel, self.shape = stride, kernel, x.shape
        return _windows(x, kernel, kernel, stride).mean(axis=(4, 5))

    def vjp(self, g, y, x):
        k = self.kernel
        share = either.broadcast_to((g / (k * k))[..., None, None], (*g.shape, k, k))
        return (_fold_any(share, self.shape, self.stride, 0),)

    def jvp(self, dxs, y, x):
        return AvgPool2d.apply(dxs[0], kernel=self.kernel, stride=self.stride)


def _pool_arguments(x, kernel, stride, name):
    kernel = _pair_size(kernel, "kernel")
    stride = kernel if stride is None else _pair_size(stride, "stride")
    require(x.ndim == 4, f"{name}: input must be (N, C, H, W), got shape {x.shape}")
    require(kernel >= 1 and stride >= 1, f"{name}: kernel and stride must be >= 1")
    require(
        x.shape[2] >= kernel and x.shape[3] >= kernel,
        f"{name}: kernel {kernel} is larger than the input {x.shape[2:]}",
    )
    return kernel, stride


def max_pool2d(x, kernel: int = 2, stride: int | None = None) -> Tensor:
    """Maximum over each kernel×kernel patch of x (N, C, H, W); stride defaults to kernel."""
    x = tensor(x)
    kernel, stride = _pool_arguments(x, kernel, stride, "max_pool2d")
    return MaxPool2d.apply(x, kernel=kernel, stride=stride)


def avg_pool2d(x, kernel: int = 2, stride: int | None = None) -> Tensor:
    """Mean over each kernel×kernel patch of x (N, C, H, W); stride defaults to kernel."""
    x = tensor(x)
    kernel, stride = _pool_arguments(x, kernel, stride, "avg_pool2d")
    return AvgPool2d.apply(x, kernel=kernel, stride=stride)

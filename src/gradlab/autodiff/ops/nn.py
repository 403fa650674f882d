"""Ops for neural networks: convolution, pooling and the fused, numerically stable losses."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..tensor import Function, ShapeError, Tensor, user_site
from ._common import tensor, tensor_pair
from .elementwise import Sigmoid


def _windows(x, kh, kw, stride):
    """All kh×kw patches of x (N, C, H, W) at the given stride: a view of shape (N, C, OH, OW, kh, kw)."""
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


def _fold(cols, shape, stride):
    """Adjoint of `_windows`: add every patch of `cols` (N, C, OH, OW, kh, kw) back where it came from."""
    out = np.zeros(shape, dtype=cols.dtype)
    _, _, oh, ow, kh, kw = cols.shape
    for i in range(kh):
        for j in range(kw):
            out[:, :, i : i + stride * (oh - 1) + 1 : stride, j : j + stride * (ow - 1) + 1 : stride] += cols[
                :, :, :, :, i, j
            ]
    return out


class Conv2d(Function):
    """y[n, f] = Σ_c x[n, c] ⋆ w[f, c] (cross-correlation, as in every deep-learning library).

    With the patches X[n, c, h, w, i, j] = x_pad[n, c, h·s + i, w·s + j] (im2col as a strided view):
        y[n, f, h, w] = Σ_{c,i,j} X[n, c, h, w, i, j] · w[f, c, i, j]
        dL/dw[f, c, i, j] = Σ_{n,h,w} g[n, f, h, w] · X[n, c, h, w, i, j]
        dL/dX[n, c, h, w, i, j] = Σ_f g[n, f, h, w] · w[f, c, i, j], folded back onto x.
    """

    __slots__ = ("padding", "stride")
    save_output = False

    def forward(self, x, w, stride, padding):
        self.stride, self.padding = stride, padding
        if padding:
            x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        patches = _windows(x, w.shape[2], w.shape[3], stride)
        self.saved = patches
        return np.tensordot(patches, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)

    def vjp(self, g, y, x, w):
        gx = gw = None
        if self.needs[1]:
            gw = np.tensordot(g, self.saved, axes=([0, 2, 3], [0, 2, 3]))
        if self.needs[0]:
            p = self.padding
            cols = np.tensordot(g, w, axes=([1], [0])).transpose(0, 3, 1, 2, 4, 5)
            n, c, h, wd = x.shape
            gx = _fold(cols, (n, c, h + 2 * p, wd + 2 * p), self.stride)
            if p:
                gx = gx[:, :, p:-p, p:-p]
        return gx, gw


class MaxPool2d(Function):
    """y[n, c, h, w] = max of the k×k patch;  dL/dx = g at the patch maximum (split on ties)."""

    __slots__ = ("stride",)

    def forward(self, x, kernel, stride):
        self.stride = stride
        patches = _windows(x, kernel, kernel, stride)
        self.saved = patches
        return patches.max(axis=(4, 5))

    def vjp(self, g, y, x):
        hit = self.saved == y[..., None, None]
        share = g / hit.sum(axis=(4, 5))
        return (_fold(np.where(hit, share[..., None, None], 0), x.shape, self.stride),)


class AvgPool2d(Function):
    """y[n, c, h, w] = mean of the k×k patch;  dL/dx = g / k² on every element of the patch."""

    __slots__ = ("kernel", "shape", "stride")
    save_inputs = save_output = False

    def forward(self, x, kernel, stride):
        self.stride, self.kernel, self.shape = stride, kernel, x.shape
        return _windows(x, kernel, kernel, stride).mean(axis=(4, 5))

    def vjp(self, g, y, x):
        k = self.kernel
        share = np.broadcast_to((g / (k * k))[..., None, None], g.shape + (k, k))
        return (_fold(share, self.shape, self.stride),)


class CrossEntropy(Function):
    """L = mean_n [ -ln softmax(z_n)[t_n] ] = mean_n [ logsumexp(z_n) - z_n[t_n] ];
    dL/dz_n = (softmax(z_n) - onehot(t_n)) / N.  Computed from logits, so it never takes ln 0."""

    __slots__ = ("targets",)
    save_inputs = save_output = False

    def forward(self, z, targets):
        self.targets = targets
        shifted = z - z.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.saved = log_probs
        return -log_probs[np.arange(len(z)), targets].mean()

    def vjp(self, g, y, z):
        n = len(self.targets)
        dz = np.exp(self.saved)
        dz[np.arange(n), self.targets] -= 1
        return (dz * (g / n),)


class BCEWithLogits(Function):
    """L = mean[ max(z, 0) - z·t + ln(1 + e^-|z|) ] = mean[ -t ln σ(z) - (1-t) ln(1-σ(z)) ];
    dL/dz = (σ(z) - t) / n,  dL/dt = -z / n."""

    save_output = False

    def forward(self, z, t):
        return (np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))).mean()

    def vjp(self, g, y, z, t):
        scale = g / z.size
        return (
            (Sigmoid.forward(None, z) - t) * scale if self.needs[0] else None,
            -z * scale if self.needs[1] else None,
        )


class MSE(Function):
    """L = mean (p - t)²;  dL/dp = 2 (p - t) / n,  dL/dt = -2 (p - t) / n."""

    save_inputs = save_output = False

    def forward(self, p, t):
        diff = p - t
        self.saved = diff
        flat = diff.reshape(-1)
        return flat.dot(flat) / flat.size

    def vjp(self, g, y, p, t):
        diff = self.saved
        d = diff * (2 * g.item() / diff.size)  # g is the gradient of a single number
        return (d if self.needs[0] else None, -d if self.needs[1] else None)


def _require(condition, message):
    if not condition:
        raise ShapeError(f"{message} (called at {user_site()})")


def _pair_size(value, name):
    if isinstance(value, int):
        return value
    raise TypeError(f"{name} must be an int, got {value!r}")


def conv2d(x, weight, bias=None, stride: int = 1, padding: int = 0) -> Tensor:
    """2-D cross-correlation of x (N, C, H, W) with weight (F, C, kh, kw), plus bias (F,)."""
    x, weight = tensor_pair(x, weight)
    stride, padding = _pair_size(stride, "stride"), _pair_size(padding, "padding")
    _require(x.ndim == 4, f"conv2d: input must be (N, C, H, W), got shape {x.shape}")
    _require(weight.ndim == 4, f"conv2d: weight must be (F, C, kh, kw), got shape {weight.shape}")
    _require(
        x.shape[1] == weight.shape[1],
        f"conv2d: input has {x.shape[1]} channels (shape {x.shape}) but weight expects {weight.shape[1]} "
        f"(shape {weight.shape})",
    )
    _require(
        x.shape[2] + 2 * padding >= weight.shape[2] and x.shape[3] + 2 * padding >= weight.shape[3],
        f"conv2d: kernel {weight.shape[2:]} is larger than the padded input {x.shape[2:]} + 2·{padding}",
    )
    _require(stride >= 1 and padding >= 0, "conv2d: stride must be >= 1 and padding >= 0")
    y = Conv2d.apply(x, weight, stride=stride, padding=padding)
    if bias is not None:
        y = y + tensor(bias).reshape((1, -1, 1, 1))
    return y


def _pool_arguments(x, kernel, stride, name):
    kernel = _pair_size(kernel, "kernel")
    stride = kernel if stride is None else _pair_size(stride, "stride")
    _require(x.ndim == 4, f"{name}: input must be (N, C, H, W), got shape {x.shape}")
    _require(kernel >= 1 and stride >= 1, f"{name}: kernel and stride must be >= 1")
    _require(
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


def cross_entropy(logits, targets) -> Tensor:
    """Mean softmax cross-entropy of logits (N, C) against integer class labels (N,)."""
    logits = tensor(logits)
    targets = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    _require(logits.ndim == 2, f"cross_entropy: logits must be (N, C), got shape {logits.shape}")
    _require(
        targets.shape == (logits.shape[0],),
        f"cross_entropy: targets must be ({logits.shape[0]},) class indices for logits {logits.shape}, "
        f"got shape {targets.shape}",
    )
    if targets.dtype.kind == "f" and np.all(targets == np.round(targets)):
        targets = targets.astype(np.int64)
    if targets.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: targets must be integer class indices, got dtype {targets.dtype}")
    if targets.size and (targets.min() < 0 or targets.max() >= logits.shape[1]):
        raise ValueError(
            f"cross_entropy: targets must lie in 0..{logits.shape[1] - 1} for {logits.shape[1]} classes, "
            f"got values from {targets.min()} to {targets.max()}"
        )
    return CrossEntropy.apply(logits, targets=targets)


def bce_with_logits(logits, targets) -> Tensor:
    """Mean binary cross-entropy of targets in [0, 1] under probabilities σ(logits), computed stably."""
    logits, targets = tensor_pair(logits, targets)
    if logits.shape != targets.shape:
        _require(False, f"bce_with_logits: logits {logits.shape} and targets {targets.shape} must have the same shape")
    return BCEWithLogits.apply(logits, targets)


def mse(prediction, target) -> Tensor:
    """Mean squared error mean((prediction - target)²)."""
    prediction, target = tensor_pair(prediction, target)
    if prediction.shape != target.shape:
        _require(
            False,
            f"mse: prediction {prediction.shape} and target {target.shape} must have the same shape "
            "(a (N, 1) against (N,) mismatch would silently broadcast to (N, N)); reshape one of them",
        )
    return MSE.apply(prediction, target)

"""Ops for neural networks: convolution, pooling and the fused, numerically stable losses."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..tensor import Function, ShapeError, Tensor, user_site
from . import _xp as xp
from ._common import tangent_sum, tensor, tensor_pair
from .linalg import _tensordot
from .shape import IndexAdd


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


def _pad_hw(x, padding):
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))) if padding else x


def _crop_hw(x, padding):
    return x[:, :, padding:-padding, padding:-padding] if padding else x


class Unfold(Function):
    """y[n, c, h, w, i, j] = x_pad[n, c, h·s + i, w·s + j]: the kh×kw patches of x (im2col).

    dL/dx = fold(g): every patch's gradient added back where the patch came from;  dy = unfold(dx).
    It appears when convolution or pooling gradients are themselves recorded.
    """

    __slots__ = ("kernel", "padding", "shape", "stride")
    save_inputs = save_output = False

    def forward(self, x, kernel, stride, padding):
        self.kernel, self.stride, self.padding, self.shape = kernel, stride, padding, x.shape
        return _windows(_pad_hw(x, padding), kernel[0], kernel[1], stride)

    def vjp(self, g, y, x):
        return (fold(g, self.shape, self.stride, self.padding),)

    def jvp(self, dxs, y, x):
        return unfold(dxs[0], self.kernel, self.stride, self.padding)


class Fold(Function):
    """y = the patches x (N, C, OH, OW, kh, kw) added back onto an image of `shape` (the adjoint of
    unfold);  dL/dx = unfold(g);  dy = fold(dx)."""

    __slots__ = ("kernel", "padding", "shape", "stride")
    save_inputs = save_output = False

    def forward(self, x, shape, stride, padding):
        self.kernel, self.stride, self.padding, self.shape = x.shape[4:], stride, padding, shape
        n, c, h, w = shape
        return _crop_hw(_fold(x, (n, c, h + 2 * padding, w + 2 * padding), stride), padding)

    def vjp(self, g, y, x):
        return (unfold(g, self.kernel, self.stride, self.padding),)

    def jvp(self, dxs, y, x):
        return fold(dxs[0], self.shape, self.stride, self.padding)


def unfold(x, kernel, stride: int = 1, padding: int = 0) -> Tensor:
    """The kernel-sized patches of x (N, C, H, W) as (N, C, OH, OW, kh, kw) (im2col)."""
    return Unfold.apply(tensor(x), kernel=tuple(kernel), stride=stride, padding=padding)


def fold(patches, shape, stride: int = 1, padding: int = 0) -> Tensor:
    """Patches (N, C, OH, OW, kh, kw) added back onto an image of `shape` (N, C, H, W): unfold's adjoint."""
    return Fold.apply(tensor(patches), shape=tuple(shape), stride=stride, padding=padding)


def _conv_patches(x, kernel, stride, padding):
    if isinstance(x, Tensor):
        return unfold(x, kernel, stride, padding)
    return _windows(_pad_hw(x, padding), kernel[0], kernel[1], stride)


def _fold_any(cols, shape, stride, padding):
    if isinstance(cols, Tensor):
        return fold(cols, shape, stride, padding)
    n, c, h, w = shape
    return _crop_hw(_fold(cols, (n, c, h + 2 * padding, w + 2 * padding), stride), padding)


def _conv_input_gradient(rows, w, shape, out_hw, stride, padding):
    """dL/dx of a convolution from the output gradient as rows (F, N·OH·OW) (col2im).

    One matrix product gives every patch's gradient, G[c, i, j, n, h, w] = Σ_f w[f, c, i, j] g[n, f, h, w];
    each is then added back where its patch came from, x_pad[n, c, h·s + i, w·s + j]. The sums
    run kernel row by kernel row: the offsets j of one row i go into a band one image row
    tall, and the band joins the image once, which halves the scattered writes.
    """
    f, c, kh, kw = w.shape
    n, _, h, wd = shape
    oh, ow = out_hw
    s = stride
    patches = (w.reshape(f, -1).T @ rows).reshape(c, kh, kw, n, oh, ow)
    out = np.zeros((c, n, h + 2 * padding, wd + 2 * padding), dtype=rows.dtype)
    band = np.empty((c, n, oh, wd + 2 * padding), dtype=rows.dtype)
    for i in range(kh):
        band.fill(0)
        for j in range(kw):
            band[:, :, :, j : j + s * (ow - 1) + 1 : s] += patches[:, i, j]
        out[:, :, i : i + s * (oh - 1) + 1 : s, :] += band
    return _crop_hw(out.transpose(1, 0, 2, 3), padding)


class Conv2d(Function):
    """y[n, f] = Σ_c x[n, c] ⋆ w[f, c] (cross-correlation, as in every deep-learning library).

    With the patches X[n, c, h, w, i, j] = x_pad[n, c, h·s + i, w·s + j] (im2col as a strided view):
        y[n, f, h, w] = Σ_{c,i,j} X[n, c, h, w, i, j] · w[f, c, i, j]
        dL/dw[f, c, i, j] = Σ_{n,h,w} g[n, f, h, w] · X[n, c, h, w, i, j]
        dL/dX[n, c, h, w, i, j] = Σ_f g[n, f, h, w] · w[f, c, i, j], folded back onto x
        dy = conv(dx, w) + conv(x, dw)   (the convolution is linear in each input)
    """

    __slots__ = ("padding", "stride")
    save_output = False

    def forward(self, x, w, stride, padding):
        self.stride, self.padding = stride, padding
        f, c, kh, kw = w.shape
        patches = _windows(_pad_hw(x, padding), kh, kw, stride)  # a strided view, no copy yet
        n, _, oh, ow = patches.shape[:4]
        # im2col, channel first: one row per (channel, kernel offset), one column per output
        # position. Copied once here (in runs along the image rows, the fastest order to gather)
        # and kept for the weight gradient; both directions are then plain matrix products.
        cols = patches.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * oh * ow)
        self.saved = cols
        return (w.reshape(f, -1) @ cols).reshape(f, n, oh, ow).transpose(1, 0, 2, 3)

    def vjp(self, g, y, x, w):
        if isinstance(g, Tensor):
            return self._recorded_vjp(g, x, w)
        f = w.shape[0]
        n, _, oh, ow = g.shape
        rows = np.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(f, n * oh * ow)  # g in the columns' order
        gw = (rows @ self.saved.T).reshape(w.shape) if self.needs[1] else None
        gx = _conv_input_gradient(rows, w, x.shape, (oh, ow), self.stride, self.padding) if self.needs[0] else None
        return gx, gw

    def _recorded_vjp(self, g, x, w):
        """The same rule written with ops, so that it can be differentiated again."""
        gx = gw = None
        if self.needs[1]:
            patches = _conv_patches(x, w.shape[2:], self.stride, self.padding)
            gw = _tensordot(g, patches, ([0, 2, 3], [0, 2, 3]))
        if self.needs[0]:
            cols = _tensordot(g, w, ([1], [0])).transpose((0, 3, 1, 2, 4, 5))
            gx = _fold_any(cols, x.shape, self.stride, self.padding)
        return gx, gw

    def jvp(self, dxs, y, x, w):
        dx, dw = dxs
        return tangent_sum(
            y.shape,
            None if dx is None else Conv2d.apply(dx, w, stride=self.stride, padding=self.padding),
            None if dw is None else Conv2d.apply(x, dw, stride=self.stride, padding=self.padding),
        )


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

    def _tile_shares(self, y, x):
        """For each offset of the tiles, 1/count where it holds the (tied) maximum, else 0."""
        values, top = xp.values(x), xp.values(y)
        hits = [part == top for part in self._offsets(values)]
        count = np.zeros(top.shape, dtype=values.dtype)
        for hit in hits:
            count += hit
        return [hit / count for hit in hits]

    def _patch_share(self, y, x):
        """1/count at each patch's (tied) maxima, 0 elsewhere, shaped as the patches (N, C, OH, OW, k, k)."""
        values, top = xp.values(x), xp.values(y)
        patches = self.saved if self.saved is not None else _windows(values, self.kernel, self.kernel, self.stride)
        hit = patches == top[..., None, None]
        return (hit / hit.sum(axis=(4, 5), keepdims=True)).astype(patches.dtype, copy=False)

    def vjp(self, g, y, x):
        if self.tiled:
            shares = self._tile_shares(y, x)
            if isinstance(g, Tensor):
                k = self.kernel
                pieces = [
                    IndexAdd.apply(
                        g * share, index=(slice(None), slice(None), slice(i, None, k), slice(j, None, k)), shape=x.shape
                    )
                    for (i, j), share in zip(np.ndindex(k, k), shares)
                ]
                total = pieces[0]
                for piece in pieces[1:]:
                    total = total + piece
                return (total,)
            gx = np.empty(x.shape, dtype=g.dtype)
            for part, share in zip(self._offsets(gx), shares):
                np.multiply(g, share, out=part)
            return (gx,)
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
        share = xp.broadcast_to((g / (k * k))[..., None, None], (*g.shape, k, k))
        return (_fold_any(share, self.shape, self.stride, 0),)

    def jvp(self, dxs, y, x):
        return AvgPool2d.apply(dxs[0], kernel=self.kernel, stride=self.stride)


class CrossEntropy(Function):
    """L = mean_n [ -ln softmax(z_n)[t_n] ] = mean_n [ logsumexp(z_n) - z_n[t_n] ];
    dL/dz_n = (softmax(z_n) - onehot(t_n)) / N;  dL = Σ_n (softmax(z_n) - onehot(t_n)) · dz_n / N.
    Computed from logits, so it never takes ln 0."""

    __slots__ = ("targets",)
    save_output = False

    def forward(self, z, targets):
        # The ufuncs' reduce directly, not z.max()/.sum()/.mean(): those add a Python call each.
        self.targets = targets
        shifted = z - np.maximum.reduce(z, axis=1, keepdims=True)
        log_probs = shifted - np.log(np.add.reduce(np.exp(shifted), axis=1, keepdims=True))
        self.saved = log_probs
        n = len(z)
        return -np.add.reduce(log_probs[np.arange(n), targets]) / n

    def _residual(self, z):
        """softmax(z) - onehot(targets), recorded when z is a Tensor."""
        onehot = np.zeros(z.shape, dtype=z.dtype)
        onehot[np.arange(len(self.targets)), self.targets] = 1
        return z.softmax(axis=1) - onehot

    def vjp(self, g, y, z):
        n = len(self.targets)
        if isinstance(z, Tensor):
            return (self._residual(z) * (g / n),)
        dz = np.exp(self.saved)
        dz[np.arange(n), self.targets] -= 1
        return (dz * (g / n),)

    def jvp(self, dxs, y, z):
        return (self._residual(z) * dxs[0]).sum() / len(self.targets)


class BCEWithLogits(Function):
    """L = mean[ max(z, 0) - z·t + ln(1 + e^-|z|) ] = mean[ -t ln σ(z) - (1-t) ln(1-σ(z)) ];
    dL/dz = (σ(z) - t) / n,  dL/dt = -z / n;  dL = mean[(σ(z) - t) dz - z dt]."""

    save_output = False

    def forward(self, z, t):
        return (np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))).mean()

    def vjp(self, g, y, z, t):
        scale = g / z.size
        return (
            (xp.sigmoid(z) - t) * scale if self.needs[0] else None,
            -z * scale if self.needs[1] else None,
        )

    def jvp(self, dxs, y, z, t):
        dz, dt = dxs
        parts = []
        if dz is not None:
            parts.append(((xp.sigmoid(z) - t) * dz).sum())
        if dt is not None:
            parts.append((-z * dt).sum())
        return tangent_sum((), *parts) / z.size


class MSE(Function):
    """L = mean (p - t)²;  dL/dp = 2 (p - t) / n,  dL/dt = -2 (p - t) / n;  dL = mean 2 (p - t)(dp - dt)."""

    save_output = False

    def forward(self, p, t):
        diff = p - t
        self.saved = diff
        flat = diff.reshape(-1)
        return flat.dot(flat) / flat.size

    def vjp(self, g, y, p, t):
        if isinstance(g, Tensor):  # recorded: build the rule from the inputs, as ops
            d = (p - t) * (g * (2 / p.size))
        else:
            d = self.saved * (2 * g.item() / p.size)
        return (d if self.needs[0] else None, -d if self.needs[1] else None)

    def jvp(self, dxs, y, p, t):
        dp, dt = dxs
        change = tangent_sum(p.shape, dp, None if dt is None else -dt)
        return (2 * (p - t) * change).sum() / p.size


def _require(condition, message):
    if not condition:
        raise ShapeError(f"{message} (called at {user_site()})")


def _pair_size(value, name):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    raise TypeError(f"{name} must be a whole number, got {value!r}")


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
        bias = bias if isinstance(bias, Tensor) else Tensor(bias, dtype=weight.dtype)
        if bias.shape != (weight.shape[0],):
            _require(False, f"conv2d: bias must have shape ({weight.shape[0]},), got {bias.shape}")
        y = y + bias.reshape((1, -1, 1, 1))
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
    targets = np.array(targets.data if isinstance(targets, Tensor) else targets)  # a copy: the tape keeps it
    shape = logits.data.shape  # (the messages below are built only when a check fails: it runs every step)
    if len(shape) != 2:
        _require(False, f"cross_entropy: logits must be (N, C), got shape {shape}")
    if targets.shape != shape[:1]:
        _require(
            False,
            f"cross_entropy: targets must be ({shape[0]},) class indices for logits {shape}, got shape {targets.shape}",
        )
    if targets.dtype.kind == "f" and np.all(targets == np.round(targets)):
        targets = targets.astype(np.int64)
    if targets.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: targets must be integer class indices, got dtype {targets.dtype}")
    if targets.size and (np.minimum.reduce(targets) < 0 or np.maximum.reduce(targets) >= shape[1]):
        raise ValueError(
            f"cross_entropy: targets must lie in 0..{shape[1] - 1} for {shape[1]} classes, "
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
    if prediction.data.shape != target.data.shape:
        _require(
            False,
            f"mse: prediction {prediction.shape} and target {target.shape} must have the same shape "
            "(a (N, 1) against (N,) mismatch would silently broadcast to (N, N)); reshape one of them",
        )
    return MSE.apply(prediction, target)

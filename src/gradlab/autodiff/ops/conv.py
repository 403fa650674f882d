"""Convolution: im2col patches (`unfold`), their adjoint (`fold`) and conv2d (pooling is in pool.py).
Each op's forward code and its reverse and forward rules are side by side."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..function import Function
from ..tensor import Tensor
from ._common import require, tangent_sum, tensor, tensor_pair
from .linalg import _tensordot


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
    """y[n, f] = Σ_c x[n, c] ⋆ w[f, c] + b[f] (cross-correlation, as in every deep-learning library).

    With the patches X[n, c, h, w, i, j] = x_pad[n, c, h·s + i, w·s + j] (im2col as a strided view):
        y[n, f, h, w] = Σ_{c,i,j} X[n, c, h, w, i, j] · w[f, c, i, j] + b[f]
        dL/dw[f, c, i, j] = Σ_{n,h,w} g[n, f, h, w] · X[n, c, h, w, i, j]
        dL/dX[n, c, h, w, i, j] = Σ_f g[n, f, h, w] · w[f, c, i, j], folded back onto x
        dL/db[f] = Σ_{n,h,w} g[n, f, h, w]
        dy = conv(dx, w) + conv(x, dw) + db   (the convolution is linear in each input)
    The bias is part of the op (one node instead of two, added in place into the fresh product: the
    MNIST CNN's first convolution, forward + backward, 18.6 → 14.7 ms).
    Large stride-1 convolutions take the same sums through the Fourier transform (see `_spectral_conv`).
    """

    __slots__ = ("padding", "spectra", "stride")
    save_output = False

    def forward(self, x, w, b=None, *, stride, padding):
        self.stride, self.padding, self.spectra = stride, padding, None
        f, c, kh, kw = w.shape
        if _uses_spectra(x, w, stride):
            y, self.spectra = _spectral_conv(_pad_hw(x, padding), w, b)
            return y
        patches = _windows(_pad_hw(x, padding), kh, kw, stride)  # a strided view, no copy yet
        n, _, oh, ow = patches.shape[:4]
        # im2col, channel first: one row per (channel, kernel offset), one column per output
        # position. Copied once here (in runs along the image rows, the fastest order to gather)
        # and kept for the weight gradient; both directions are then plain matrix products.
        cols = patches.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * oh * ow)
        self.saved = cols
        y = w.reshape(f, -1) @ cols
        if b is not None:
            y += b.reshape(f, 1)
        return y.reshape(f, n, oh, ow).transpose(1, 0, 2, 3)

    def vjp(self, g, y, x, w, b=None):
        if isinstance(g, Tensor):
            grads = self._recorded_vjp(g, x, w)
        elif self.spectra is not None:
            grads = _spectral_gradients(g, self.spectra, x.shape, w.shape[2:], self.padding, self.needs)
        else:
            grads = self._im2col_vjp(g, x, w)
        if b is None:
            return grads
        return (*grads, g.sum(axis=(0, 2, 3)) if self.needs[2] else None)

    def _im2col_vjp(self, g, x, w):
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

    def jvp(self, dxs, y, x, w, b=None):
        dx, dw = dxs[0], dxs[1]
        db = dxs[2] if len(dxs) > 2 else None
        return tangent_sum(
            y.shape,
            None if dx is None else Conv2d.apply(dx, w, stride=self.stride, padding=self.padding),
            None if dw is None else Conv2d.apply(x, dw, stride=self.stride, padding=self.padding),
            None if db is None else db.reshape((1, -1, 1, 1)),
        )


# Speed trick: stride-1 convolutions with kernels of 5×5 and more through the Fourier transform.
# Measured (float32, one BLAS thread): the MNIST CNN's second convolution (128 images, 32 → 64
# channels, 5×5, 14×14) forward + backward from 110 ms by im2col to 45 ms; its training step
# (benchmarks/mnist.py, three runs) from 2.07-2.27x PyTorch's time to 1.18-1.20x, and the step's
# peak memory from 222 MB to 116 MB (the spectra kept for the backward are 9 MB, im2col's columns
# 80 MB). Over 5×5 and 7×7 kernels, 14² to 112² images and 4 to 128 channels the transform was
# 1.05-2.8x faster than im2col wherever C·kh·kw >= 100; on 3×3 kernels it won 1.1-1.7x on small
# images but lost 2x on 56×56, so they stay with im2col. tests/test_conv_fast.py holds it to im2col.
SPECTRAL_MIN_AREA = 25  # kh·kw from which the transform is used
SPECTRAL_MIN_PATCH = 100  # C·kh·kw from which the transforms cost less than im2col's matrix products


def _uses_spectra(x, w, stride):
    """True if the convolution of x with w (F, C, kh, kw) goes through the Fourier transform (real
    numbers only: rfft2 would drop an imaginary part)."""
    _, c, kh, kw = w.shape
    large = kh * kw >= SPECTRAL_MIN_AREA and c * kh * kw >= SPECTRAL_MIN_PATCH
    return large and stride == 1 and x.dtype.kind == w.dtype.kind == "f"


def _to_frequency(v, size):
    """The 2-D spectra of a stack of images v (A, B, H, W) zero-filled to `size` (S, S'), as a stack of
    S·(S'//2 + 1) matrices (A, B), one per frequency: a channel sum per frequency is one matrix product."""
    import scipy.fft  # 2-4x faster than np.fft on float32 batches (measured); imported only here

    spectra = scipy.fft.rfft2(v.transpose(2, 3, 0, 1), size, axes=(0, 1))
    return spectra.reshape(-1, *v.shape[:2])


def _from_frequency(stack, size):
    """The images (A, B, S, S') whose spectra are the stack of matrices (A, B): `_to_frequency` undone."""
    import scipy.fft

    spectra = stack.reshape(size[0], size[1] // 2 + 1, *stack.shape[1:])
    return scipy.fft.irfft2(spectra, size, axes=(0, 1)).transpose(2, 3, 0, 1)


def _spectral_conv(xp, w, b):
    """y = x_pad ⋆ w + b by the convolution theorem, and what the gradients reuse: (X̂, Ŵ, S).

    With 2-D transforms of a size S at least the padded image's (X̂ = rfft2(x_pad), Ŵ = rfft2(w), both
    zero-filled to S), a cross-correlation is a product of spectra, the channel sum one per frequency k:
        ŷ[k] = X̂[k] @ conj(Ŵ[k])   (N, C) @ (C, F),    y = irfft2(ŷ)[:OH, :OW]
    The transform is circular, but y[h] reads x_pad[h + i] with h + i < S: nothing wraps around.
    S is rounded up to a length with small prime factors (58 → 60): a prime length is several times slower.
    Cost per output: (C + F)/F transforms of log S² steps and C complex products, against C·kh·kw
    multiply-adds by im2col.
    """
    import scipy.fft

    f, _, kh, kw = w.shape
    hp, wp = xp.shape[2:]
    size = (scipy.fft.next_fast_len(hp, real=True), scipy.fft.next_fast_len(wp, real=True))
    xs, ws = _to_frequency(xp, size), _to_frequency(w.transpose(1, 0, 2, 3), size)
    y = _from_frequency(xs @ ws.conj(), size)[:, :, : hp - kh + 1, : wp - kw + 1]
    if b is None:
        return np.array(y, dtype=xp.dtype, order="C"), (xs, ws, size)
    return np.add(y, b.reshape(f, 1, 1), dtype=xp.dtype, order="C"), (xs, ws, size)  # the bias joins the copy


def _spectral_gradients(g, spectra, x_shape, kernel, padding, needs):
    """(dL/dx, dL/dw) of `_spectral_conv` from Ĝ = rfft2(g zero-filled to S) and the forward's spectra:
    dL/dw = irfft2(conj(Ĝ[k])ᵀ @ X̂[k])[:kh, :kw]   (x correlated with g; i < kh: no wrap-around)
    dL/dx_pad = irfft2(Ĝ[k] @ Ŵ[k]ᵀ)               (g convolved with w: OH + kh − 1 ≤ S long)
    """
    xs, ws, size = spectra
    gs = _to_frequency(g, size)
    gx = gw = None
    if needs[1]:
        gw = _from_frequency(gs.conj().transpose(0, 2, 1) @ xs, size)[:, :, : kernel[0], : kernel[1]]
        gw = np.array(gw, dtype=g.dtype, order="C")
    if needs[0]:
        gx = _from_frequency(gs @ ws.transpose(0, 2, 1), size)
        gx = gx[:, :, padding : padding + x_shape[2], padding : padding + x_shape[3]]
        gx = np.array(gx, dtype=g.dtype, order="C")
    return gx, gw


def _pair_size(value, name):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    raise TypeError(f"{name} must be a whole number, got {value!r}")


def conv2d(x, weight, bias=None, stride: int = 1, padding: int = 0) -> Tensor:
    """2-D cross-correlation of x (N, C, H, W) with weight (F, C, kh, kw), plus bias (F,)."""
    x, weight = tensor_pair(x, weight)
    stride, padding = _pair_size(stride, "stride"), _pair_size(padding, "padding")
    require(x.ndim == 4, f"conv2d: input must be (N, C, H, W), got shape {x.shape}")
    require(weight.ndim == 4, f"conv2d: weight must be (F, C, kh, kw), got shape {weight.shape}")
    require(
        x.shape[1] == weight.shape[1],
        f"conv2d: input has {x.shape[1]} channels (shape {x.shape}) but weight expects {weight.shape[1]} "
        f"(shape {weight.shape})",
    )
    require(
        x.shape[2] + 2 * padding >= weight.shape[2] and x.shape[3] + 2 * padding >= weight.shape[3],
        f"conv2d: kernel {weight.shape[2:]} is larger than the padded input {x.shape[2:]} + 2·{padding}",
    )
    require(stride >= 1 and padding >= 0, "conv2d: stride must be >= 1 and padding >= 0")
    if bias is None:
        return Conv2d.apply(x, weight, stride=stride, padding=padding)
    bias = bias if isinstance(bias, Tensor) else Tensor(bias, dtype=weight.dtype)
    require(bias.shape == (weight.shape[0],), f"conv2d: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    return Conv2d.apply(x, weight, bias, stride=stride, padding=padding)

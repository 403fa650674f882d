"""The gradient of a convolution is another convolution.

For one image channel and one filter, with Y = correlate(X, W, "valid") (what deep-learning libraries
call a convolution: Y[i, j] = Σ_{a,b} X[i + a, j + b] · W[a, b]) and G = ∂L/∂Y:

    ∂L/∂W = correlate(X, G, "valid")       (slide the output gradient over the input)
    ∂L/∂X = convolve(G, W, "full")         (spread each output gradient back through the flipped filter)

Both follow from the one line ∂Y[i, j]/∂X[i + a, j + b] = W[a, b]: ∂L/∂W[a, b] = Σ_{i,j} G[i, j] X[i + a, j + b]
is a correlation of X with G, and ∂L/∂X[u, v] = Σ_{i,j} G[i, j] W[u − i, v − j] is a (true, flipped) convolution.

With channels, batches, padding and stride, as gradlab.conv2d computes
y[n, o] = Σ_c correlate(x_pad[n, c], w[o, c])[::s, ::s]:

    ∂L/∂w[o, c] = Σ_n correlate(x_pad[n, c], dilate(g[n, o], s), "valid")
    ∂L/∂x_pad[n, c] = Σ_o convolve(dilate(g[n, o], s), w[o, c], "full")      then cropped by p on each side

dilate(g, s) puts s − 1 zeros between neighbouring entries of g: a strided output is the stride-1 output with
the skipped positions thrown away, and a thrown-away position has gradient zero. What changes with s > 1: the
identities hold for the dilated gradient, not for g itself; and when (H + 2p − kh) is not a multiple of s the
last (H + 2p − kh) mod s rows (likewise columns) of the padded input are never under the filter — they are
cropped off before the weight correlation and receive a zero input gradient.

Written with scipy.signal.correlate2d / convolve2d, one (image, channel) pair at a time, for readability: the
engine's Conv2d computes the same numbers with one matrix product (im2col), or, for 5×5 and larger
stride-1 kernels, through the Fourier transform (the convolution theorem; ops/conv.py).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import convolve2d, correlate2d

from ..autodiff import Tensor, conv2d, grad

__all__ = [
    "conv_input_gradient",
    "conv_weight_gradient",
    "dilate",
    "engine_gradients",
    "identity_errors",
    "output_size",
]


def output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """OH = ⌊(H + 2p − k) / s⌋ + 1: how many positions the filter takes along one axis."""
    return (size + 2 * padding - kernel) // stride + 1


def dilate(g: np.ndarray, stride: int) -> np.ndarray:
    """g (..., OH, OW) with stride − 1 zeros between neighbouring entries: (..., s(OH − 1) + 1, s(OW − 1) + 1).

    dilate(g, 1) is g. The result is the gradient of the stride-1 output that the strided output samples.
    """
    *lead, oh, ow = g.shape
    out = np.zeros((*lead, stride * (oh - 1) + 1, stride * (ow - 1) + 1), dtype=g.dtype)
    out[..., ::stride, ::stride] = g
    return out


def _check_arguments(stride, padding):
    for name, value in (("stride", stride), ("padding", padding)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be a whole number, got {value!r}")
    if stride < 1 or padding < 0:
        raise ValueError(f"stride must be >= 1 and padding >= 0, got stride={stride}, padding={padding}")


def _check_output(grad_y, n, out_hw, where):
    if grad_y.ndim != 4:
        raise ValueError(f"{where}: grad_y must be (N, O, OH, OW), got shape {grad_y.shape}")
    if grad_y.shape[0] != n or grad_y.shape[2:] != out_hw:
        raise ValueError(
            f"{where}: grad_y has shape {grad_y.shape} but this convolution's output is (N={n}, O, {out_hw[0]}, "
            f"{out_hw[1]}): check stride and padding"
        )


def conv_weight_gradient(x, grad_y, stride: int = 1, padding: int = 0, kernel_size=None) -> np.ndarray:
    """∂L/∂w[o, c] = Σ_n correlate(x_pad[n, c], dilate(g[n, o], s), "valid"), shape (O, C, kh, kw).

    x is the layer input (N, C, H, W), grad_y = ∂L/∂y (N, O, OH, OW). With stride 1 the kernel size is
    kh = H + 2p − OH + 1; with a stride, s kernel sizes give the same OH (the last rows may be skipped),
    so kernel_size = (kh, kw) must then be given.
    """
    _check_arguments(stride, padding)
    x, grad_y = np.asarray(x, dtype=float), np.asarray(grad_y, dtype=float)
    if x.ndim != 4 or grad_y.ndim != 4:
        raise ValueError(f"conv_weight_gradient: x and grad_y must be 4-D, got shapes {x.shape} and {grad_y.shape}")
    n, c, h, w = x.shape
    if kernel_size is None:
        if stride != 1:
            raise ValueError("conv_weight_gradient: with stride > 1 the kernel size is ambiguous; pass kernel_size")
        kernel_size = (h + 2 * padding - grad_y.shape[2] + 1, w + 2 * padding - grad_y.shape[3] + 1)
    kh, kw = kernel_size
    if kh < 1 or kw < 1:
        raise ValueError(f"conv_weight_gradient: grad_y {grad_y.shape} is larger than the padded input {x.shape}")
    out_hw = (output_size(h, kh, stride, padding), output_size(w, kw, stride, padding))
    _check_output(grad_y, n, out_hw, "conv_weight_gradient")
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    # The rows and columns the strided filter never reaches ((H + 2p − kh) mod s of them) play no part.
    x_pad = x_pad[:, :, : stride * (out_hw[0] - 1) + kh, : stride * (out_hw[1] - 1) + kw]
    g = dilate(grad_y, stride)
    grad_w = np.zeros((grad_y.shape[1], c, kh, kw))
    for o in range(grad_y.shape[1]):
        for ch in range(c):
            for i in range(n):
                grad_w[o, ch] += correlate2d(x_pad[i, ch], g[i, o], mode="valid")
    return grad_w


def conv_input_gradient(grad_y, w, x_shape, stride: int = 1, padding: int = 0) -> np.ndarray:
    """∂L/∂x_pad[n, c] = Σ_o convolve(dilate(g[n, o], s), w[o, c], "full"); ∂L/∂x = x_pad's gradient cropped by p.

    grad_y = ∂L/∂y (N, O, OH, OW), w the filters (O, C, kh, kw), x_shape = (N, C, H, W), the input's shape
    (with a stride, several input sizes give the same output size, so it is given).
    """
    _check_arguments(stride, padding)
    grad_y, w = np.asarray(grad_y, dtype=float), np.asarray(w, dtype=float)
    if w.ndim != 4 or len(x_shape) != 4:
        raise ValueError(f"conv_input_gradient: w must be (O, C, kh, kw) and x_shape (N, C, H, W), got {w.shape}")
    n, c, h, wd = x_shape
    o, cw, kh, kw = w.shape
    if cw != c:
        raise ValueError(f"conv_input_gradient: x has {c} channels but w {w.shape} expects {cw}")
    out_hw = (output_size(h, kh, stride, padding), output_size(wd, kw, stride, padding))
    _check_output(grad_y, n, out_hw, "conv_input_gradient")
    if grad_y.shape[1] != o:
        raise ValueError(f"conv_input_gradient: grad_y has {grad_y.shape[1]} channels but w has {o} filters")
    g = dilate(grad_y, stride)
    # The full convolution covers s(OH − 1) + kh rows; the rest of the padded input (never under the filter)
    # keeps gradient zero.
    grad_pad = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))
    reach_h, reach_w = g.shape[2] + kh - 1, g.shape[3] + kw - 1
    for i in range(n):
        for ch in range(c):
            for f in range(o):
                grad_pad[i, ch, :reach_h, :reach_w] += convolve2d(g[i, f], w[f, ch], mode="full")
    return grad_pad[:, :, padding : padding + h, padding : padding + wd]


def engine_gradients(x, w, grad_y, stride: int = 1, padding: int = 0):
    """(∂L/∂x, ∂L/∂w) from the engine (gl.grad through gl.conv2d) for L = Σ conv2d(x, w) · grad_y, so ∂L/∂y = grad_y."""
    grad_y = np.asarray(grad_y, dtype=float)

    def loss(x, w):
        return (conv2d(x, w, stride=stride, padding=padding) * grad_y).sum()

    gx, gw = grad(loss, argnums=(0, 1))(Tensor(x, dtype=np.float64), Tensor(w, dtype=np.float64))
    return gx.numpy(), gw.numpy()


def identity_errors(x, w, grad_y, stride: int = 1, padding: int = 0) -> tuple[float, float]:
    """max |identity − engine| for ∂L/∂w and for ∂L/∂x, in float64."""
    want_x, want_w = engine_gradients(x, w, grad_y, stride, padding)
    got_w = conv_weight_gradient(x, grad_y, stride, padding, kernel_size=np.shape(w)[2:])
    got_x = conv_input_gradient(grad_y, w, np.shape(x), stride, padding)
    return float(np.max(np.abs(got_w - want_w))), float(np.max(np.abs(got_x - want_x)))

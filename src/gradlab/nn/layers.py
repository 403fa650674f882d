"""Layers: each is a Module whose forward() is a few engine ops, so its gradients come for free.

Linear        y = x W + b                      W: (n_in, n_out)
Conv2d        y = x ⋆ W + b                    W: (F, C, kh, kw), x: (N, C, H, W)
MaxPool2d, AvgPool2d, Flatten
Dropout       y = x · m / (1 - p), m ~ Bernoulli(1 - p), in training only
BatchNorm1d/2d  y = γ (x - μ_B) / sqrt(σ²_B + ε) + β, with running averages for evaluation
LayerNorm     the same over the features of each example
Embedding     y = W[indices]
Sequential    y = f_n(… f_2(f_1(x)))
ReLU, LeakyReLU, Sigmoid, Tanh, GELU, Softmax
"""

from __future__ import annotations

import numpy as np

from .. import autodiff as gl
from . import init
from .module import Module, Parameter

__all__ = [
    "GELU",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "Dropout",
    "Embedding",
    "Flatten",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "MaxPool2d",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
]

_INITS = {
    "he": init.he_uniform,
    "xavier": init.xavier_uniform,
    "he_normal": init.he_normal,
    "xavier_normal": init.xavier_normal,
}


def _initial(shape, how, seed, dtype):
    if how not in _INITS:
        raise ValueError(f"init must be one of {', '.join(_INITS)}, got {how!r}")
    return _INITS[how](shape, seed=seed, dtype=dtype)


class Linear(Module):
    """y = x W + b, a fully connected layer: every output is a weighted sum of every input."""

    def __init__(self, n_in: int, n_out: int, bias: bool = True, init: str = "he", seed=None, dtype=np.float64):
        super().__init__()
        self.n_in, self.n_out = n_in, n_out
        self.weight = Parameter(_initial((n_in, n_out), init, seed, dtype))
        self.bias = Parameter(np.zeros(n_out, dtype=dtype)) if bias else None

    def forward(self, x):
        return gl.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"{self.n_in} -> {self.n_out}" + ("" if self.bias is not None else ", no bias")


class Conv2d(Module):
    """y = x ⋆ W + b: each of F filters (C, kh, kw) slides over the image (cross-correlation)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
        init: str = "he",
        seed=None,
        dtype=np.float64,
    ):
        super().__init__()
        self.stride, self.padding = stride, padding
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = Parameter(_initial(shape, init, seed, dtype))
        self.bias = Parameter(np.zeros(out_channels, dtype=dtype)) if bias else None

    def forward(self, x):
        return gl.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def extra_repr(self):
        f, c, k, _ = self.weight.shape
        return f"{c} -> {f}, kernel {k}, stride {self.stride}, padding {self.padding}"


class _Pool2d(Module):
    """A pooling layer: `pool` (gl.max_pool2d or gl.avg_pool2d) over kernel×kernel patches, stride
    steps apart (default: the kernel size, so patches do not overlap)."""

    pool = None

    def __init__(self, kernel_size: int = 2, stride: int | None = None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x):
        return type(self).pool(x, self.kernel_size, self.stride)


class MaxPool2d(_Pool2d):
    """The largest value in each kernel×kernel patch."""

    pool = staticmethod(gl.max_pool2d)


class AvgPool2d(_Pool2d):
    """The mean of each kernel×kernel patch."""

    pool = staticmethod(gl.avg_pool2d)


class Flatten(Module):
    """(N, ...) -> (N, everything else): images to vectors before a Linear layer."""

    def forward(self, x):
        x = gl.as_tensor(x)
        return gl.reshape(x, (x.shape[0], -1))


class Dropout(Module):
    """In training, zero each value with probability p and scale the rest by 1/(1 - p) (so the
    expected output equals the input); in evaluation, do nothing."""

    def __init__(self, p: float = 0.5, seed=None):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.rng = np.random.default_rng(seed)

    def forward(self, x):
        x = gl.as_tensor(x)
        if not self.training or self.p == 0:
            return x
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        keep = (
            self.rng.random(x.shape, dtype=dtype) >= self.p
        )  # drawn in the data's precision: half the work in float32
        return x * (keep * np.asarray(1 / (1 - self.p), dtype=dtype))

    def extra_repr(self):
        return f"p={self.p}"


class _BatchNorm(Module):
    """y = γ (x - μ) / sqrt(σ² + ε) + β over the batch (and spatial) axes; running averages of μ and
    σ² (momentum m: r ← (1 - m) r + m·batch value) replace the batch statistics in evaluation."""

    axes: tuple = (0,)

    def __init__(self, features: int, eps: float = 1e-5, momentum: float = 0.1, dtype=np.float64):
        super().__init__()
        self.eps, self.momentum, self.features = eps, momentum, features
        self.gamma = Parameter(np.ones(features, dtype=dtype))
        self.beta = Parameter(np.zeros(features, dtype=dtype))
        self.register_buffer("running_mean", np.zeros(features, dtype=dtype))
        self.register_buffer("running_var", np.ones(features, dtype=dtype))

    def _shape(self, ndim):
        shape = [1] * ndim
        shape[1] = self.features
        return tuple(shape)

    def forward(self, x):
        x = gl.as_tensor(x)
        if x.ndim < 2 or x.shape[1] != self.features:
            raise gl.ShapeError(f"{type(self).__name__}({self.features}) got input of shape {x.shape}")
        shape = self._shape(x.ndim)
        if self.training:
            mean = gl.mean(x, axis=self.axes, keepdims=True)
            var = gl.var(x, axis=self.axes, keepdims=True)
            m = self.momentum
            n = x.size // self.features
            self.register_buffer("running_mean", (1 - m) * self.running_mean + m * mean.data.reshape(-1))
            unbiased = var.data.reshape(-1) * n / max(n - 1, 1)
            self.register_buffer("running_var", (1 - m) * self.running_var + m * unbiased)
        else:
            mean = self.running_mean.reshape(shape)
            var = self.running_var.reshape(shape)
        normalized = (x - mean) / gl.sqrt(var + self.eps)
        return normalized * gl.reshape(self.gamma, shape) + gl.reshape(self.beta, shape)

    def extra_repr(self):
        return f"{self.features}"


class BatchNorm1d(_BatchNorm):
    """Batch norm for (N, features) inputs."""

    axes = (0,)


class BatchNorm2d(_BatchNorm):
    """Batch norm for (N, channels, H, W) inputs: statistics over N, H and W per channel."""

    axes = (0, 2, 3)


class LayerNorm(Module):
    """y = γ (x - μ) / sqrt(σ² + ε) + β with μ, σ² over the last axis of each example."""

    def __init__(self, features: int, eps: float = 1e-5, dtype=np.float64):
        super().__init__()
        self.eps = eps
        self.gamma = Parameter(np.ones(features, dtype=dtype))
        self.beta = Parameter(np.zeros(features, dtype=dtype))

    def forward(self, x):
        x = gl.as_tensor(x)
        mean = gl.mean(x, axis=-1, keepdims=True)
        var = gl.var(x, axis=-1, keepdims=True)
        return (x - mean) / gl.sqrt(var + self.eps) * self.gamma + self.beta


class Embedding(Module):
    """y = W[indices]: a learned vector per id (its gradient adds up over repeated ids)."""

    def __init__(self, count: int, dim: int, seed=None, dtype=np.float64):
        super().__init__()
        self.weight = Parameter(np.random.default_rng(seed).normal(0, 1, (count, dim)).astype(dtype))

    def forward(self, indices):
        indices = np.asarray(getattr(indices, "data", indices))
        if indices.dtype.kind not in "iu":
            raise TypeError(f"Embedding needs integer ids, got dtype {indices.dtype}")
        if indices.size and (indices.min() < 0 or indices.max() >= self.weight.shape[0]):
            raise IndexError(f"Embedding ids must lie in 0..{self.weight.shape[0] - 1}")
        return self.weight[indices]


class Sequential(Module):
    """Layers applied one after another: Sequential(Linear(2, 16), ReLU(), Linear(16, 1))."""

    def __init__(self, *layers: Module):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes Modules, got {type(layer).__name__} at position {i}")
            setattr(self, str(i), layer)

    def forward(self, x):
        for layer in self._modules.values():
            x = layer(x)
        return x

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)


class _Activation(Module):
    function = None

    def forward(self, x):
        return type(self).function(x)


class ReLU(_Activation):
    """max(x, 0)."""

    function = staticmethod(gl.relu)


class Sigmoid(_Activation):
    """1 / (1 + e^-x)."""

    function = staticmethod(gl.sigmoid)


class Tanh(_Activation):
    """tanh x."""

    function = staticmethod(gl.tanh)


class GELU(_Activation):
    """x/2 · (1 + tanh(sqrt(2/π)(x + 0.044715 x³)))."""

    function = staticmethod(gl.gelu)


class LeakyReLU(Module):
    """x for x > 0, slope·x otherwise."""

    def __init__(self, slope: float = 0.01):
        super().__init__()
        self.slope = slope

    def forward(self, x):
        return gl.leaky_relu(x, self.slope)


class Softmax(Module):
    """e^(x_i) / Σ_j e^(x_j) along `axis` (use the losses on logits for training; this is for reading)."""

    def __init__(self, axis: int = -1):
        super().__init__()
        self.axis = axis

    def forward(self, x):
        return gl.softmax(x, self.axis)

"""Weight initialisation, seeded.

The scale keeps the variance of activations roughly constant from layer to layer:
    Xavier/Glorot (tanh, sigmoid)   Var(w) = 2 / (fan_in + fan_out)
    He/Kaiming (ReLU)               Var(w) = 2 / fan_in   (ReLU zeroes half of its inputs)
Uniform variants draw from U(-a, a) with a = sqrt(3·Var), normal ones from N(0, Var).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["fans", "he_normal", "he_uniform", "xavier_normal", "xavier_uniform"]


def fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out): for a (n_in, n_out) matrix, and for a (F, C, kh, kw) kernel C·kh·kw and F·kh·kw."""
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def xavier_uniform(shape, seed=None, dtype=np.float64):
    fan_in, fan_out = fans(shape)
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return _rng(seed).uniform(-a, a, shape).astype(dtype)


def xavier_normal(shape, seed=None, dtype=np.float64):
    fan_in, fan_out = fans(shape)
    return (_rng(seed).standard_normal(shape) * math.sqrt(2.0 / (fan_in + fan_out))).astype(dtype)


def he_uniform(shape, seed=None, dtype=np.float64):
    fan_in, _ = fans(shape)
    a = math.sqrt(6.0 / fan_in)
    return _rng(seed).uniform(-a, a, shape).astype(dtype)


def he_normal(shape, seed=None, dtype=np.float64):
    fan_in, _ = fans(shape)
    return (_rng(seed).standard_normal(shape) * math.sqrt(2.0 / fan_in)).astype(dtype)

"""Attention: every query takes a weighted average of the values, weighted by how well it matches each key.

    scores  S = Q Kᵀ · c                 Q (…, n_q, d_k), K (…, n_k, d_k), c = 1/√d_k by default
    weights A = softmax(S) along the keys (each row sums to 1); masked-out keys get weight 0
    output  O = A V                      V (…, n_k, d_v)  →  O (…, n_q, d_v)

Why c = 1/√d_k (Vaswani et al. 2017, §3.2.1): with q, k ~ N(0, 1) entry by entry, q·k is a sum of d_k
products of variance 1, so Var(q·k) = d_k. Unscaled, the scores spread by √d_k, the softmax saturates to
one key, and its Jacobian diag(s) − s sᵀ (the only way a gradient reaches Q and K) goes to 0.
gradlab.apps.attention measures it.

MultiHeadAttention runs h such attentions side by side on learned projections and joins them:
    head_i = Attention(X_q W_q,i, X_k W_k,i, X_v W_v,i),   MHA = concat(head_1, …, head_h) W_o
Everything is written with engine ops (matmul, softmax, where, reshape, transpose), so gradients in both
modes, and of any order, come from their rules.
"""

from __future__ import annotations

import math

import numpy as np

from .. import autodiff as gl
from .layers import Linear
from .module import Module

__all__ = ["MultiHeadAttention", "attention_weights", "scaled_dot_product_attention"]


def _factor(scale, d_k: int) -> float:
    if scale is True:
        return 1.0 / math.sqrt(d_k)
    if scale is False or scale is None:
        return 1.0
    factor = float(scale)
    if not math.isfinite(factor) or factor <= 0:
        raise ValueError(f"scale must be True (1/√d_k), False (1) or a positive number, got {scale!r}")
    return factor


def _checked_mask(mask, shape):
    """The mask as a boolean array broadcastable to the scores' shape, with at least one key per query."""
    mask = np.asarray(mask.data if isinstance(mask, gl.Tensor) else mask)
    if mask.dtype != bool:
        raise TypeError(f"attention: mask must be boolean (True = may attend), got dtype {mask.dtype}")
    try:
        full = np.broadcast_to(mask, shape)
    except ValueError:
        raise ValueError(f"attention: mask {mask.shape} does not broadcast to the scores' shape {shape}") from None
    if not full.any(axis=-1).all():
        raise ValueError("attention: a query has every key masked out, so its softmax has nothing to weigh")
    return mask


def attention_weights(q, k, mask=None, scale=True):
    """A = softmax(Q Kᵀ · c) along the keys, c = 1/√d_k (scale=True), 1 (False) or a given number.

    mask: booleans broadcastable to (…, n_q, n_k), True where a query may look at a key (as PyTorch's
    boolean attn_mask); the other scores become −∞, so their weights are exactly 0."""
    q, k = gl.as_tensor(q), gl.as_tensor(k)
    if q.ndim < 2 or k.ndim < 2 or q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"attention: q {q.shape} and k {k.shape} must be (…, n_q, d_k) and (…, n_k, d_k) with the same d_k"
        )
    keys_t = gl.transpose(k, tuple(range(k.ndim - 2)) + (k.ndim - 1, k.ndim - 2))  # Kᵀ over the last two axes
    scores = gl.matmul(q, keys_t) * _factor(scale, q.shape[-1])
    if mask is not None:
        scores = gl.where(_checked_mask(mask, scores.shape), scores, -np.inf)
    return gl.softmax(scores, axis=-1)


def scaled_dot_product_attention(q, k, v, mask=None, scale=True):
    """O = softmax(Q Kᵀ / √d_k) V: q (…, n_q, d_k), k (…, n_k, d_k), v (…, n_k, d_v) → (…, n_q, d_v).

    scale=False leaves the scores unscaled (the experiment's other arm); a number multiplies them by it.
    mask as in attention_weights: True = may attend."""
    v = gl.as_tensor(v)
    k_shape = gl.as_tensor(k).shape
    if v.ndim < 2 or v.shape[-2] != k_shape[-2]:
        raise ValueError(f"attention: v {v.shape} must have one row per key: k is {k_shape}")
    return gl.matmul(attention_weights(q, k, mask, scale), v)


class MultiHeadAttention(Module):
    """concat(head_1, …, head_h) W_o with head_i = Attention(x_q W_q,i, x_k W_k,i, x_v W_v,i).

    d_model: the width of the inputs and the output; heads: h; d_k: the width of each head's queries,
    keys and values (default d_model / h). scale as in scaled_dot_product_attention.
    Inputs are (N, T, d_model); key and value default to the query (self-attention)."""

    def __init__(
        self,
        d_model: int,
        heads: int = 1,
        d_k: int | None = None,
        scale=True,
        bias: bool = True,
        init: str = "xavier",
        seed=None,
        dtype=np.float64,
    ):
        super().__init__()
        if d_k is None:
            if d_model % heads:
                raise ValueError(f"d_model {d_model} is not divisible by {heads} heads; give d_k explicitly")
            d_k = d_model // heads
        self.d_model, self.heads, self.d_k, self.scale = d_model, heads, d_k, scale
        seeds = np.random.SeedSequence(seed).generate_state(4) if seed is not None else [None] * 4
        width = heads * d_k
        self.w_q = Linear(d_model, width, bias, init, seeds[0], dtype)
        self.w_k = Linear(d_model, width, bias, init, seeds[1], dtype)
        self.w_v = Linear(d_model, width, bias, init, seeds[2], dtype)
        self.w_o = Linear(width, d_model, bias, init, seeds[3], dtype)

    def _split(self, x):
        """(N, T, h·d_k) → (N, h, T, d_k): each head becomes a batch of its own."""
        n, t, _ = x.shape
        return gl.transpose(gl.reshape(x, (n, t, self.heads, self.d_k)), (0, 2, 1, 3))

    def forward(self, query, key=None, value=None, mask=None, return_weights: bool = False):
        query = gl.as_tensor(query)
        key = query if key is None else gl.as_tensor(key)
        value = key if value is None else gl.as_tensor(value)
        for name, x in (("query", query), ("key", key), ("value", value)):
            if x.ndim != 3 or x.shape[-1] != self.d_model:
                raise ValueError(f"MultiHeadAttention: {name} must be (N, T, {self.d_model}), got {x.shape}")
        q, k, v = self._split(self.w_q(query)), self._split(self.w_k(key)), self._split(self.w_v(value))
        if mask is not None:
            mask = np.asarray(mask.data if isinstance(mask, gl.Tensor) else mask)
            if mask.ndim == 3:  # (N, n_q, n_k): the same mask for every head
                mask = mask[:, None]
        weights = attention_weights(q, k, mask, self.scale)
        heads = gl.matmul(weights, v)  # (N, h, n_q, d_k)
        n, _, n_q, _ = heads.shape
        joined = gl.reshape(gl.transpose(heads, (0, 2, 1, 3)), (n, n_q, self.heads * self.d_k))
        out = self.w_o(joined)
        return (out, weights) if return_weights else out

    def extra_repr(self):
        return f"d_model {self.d_model}, {self.heads} heads of d_k {self.d_k}, scale {self.scale}"

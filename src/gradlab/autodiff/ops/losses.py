"""The fused, numerically stable losses: softmax cross-entropy, binary cross-entropy from
logits, mean squared error. Each is one op, so its gradient is the short stable formula rather
than the chain rule through exp and log."""

from __future__ import annotations

import numpy as np

from ..function import Function
from ..tensor import Tensor
from . import either
from ._common import require, tangent_sum, tensor, tensor_pair


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
            (either.sigmoid(z) - t) * scale if self.needs[0] else None,
            -z * scale if self.needs[1] else None,
        )

    def jvp(self, dxs, y, z, t):
        dz, dt = dxs
        parts = []
        if dz is not None:
            parts.append(((either.sigmoid(z) - t) * dz).sum())
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


def cross_entropy(logits, targets) -> Tensor:
    """Mean softmax cross-entropy of logits (N, C) against integer class labels (N,)."""
    logits = tensor(logits)
    targets = np.array(targets.data if isinstance(targets, Tensor) else targets)  # a copy: the tape keeps it
    shape = logits.data.shape  # (the messages below are built only when a check fails: it runs every step)
    if len(shape) != 2:
        require(False, f"cross_entropy: logits must be (N, C), got shape {shape}")
    if targets.shape != shape[:1]:
        require(
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
        require(False, f"bce_with_logits: logits {logits.shape} and targets {targets.shape} must have the same shape")
    return BCEWithLogits.apply(logits, targets)


def mse(prediction, target) -> Tensor:
    """Mean squared error mean((prediction - target)²)."""
    prediction, target = tensor_pair(prediction, target)
    if prediction.data.shape != target.data.shape:
        require(
            False,
            f"mse: prediction {prediction.shape} and target {target.shape} must have the same shape "
            "(a (N, 1) against (N,) mismatch would silently broadcast to (N, N)); reshape one of them",
        )
    return MSE.apply(prediction, target)

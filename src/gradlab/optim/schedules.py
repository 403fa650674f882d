"""Learning-rate schedules and gradient clipping.

A schedule sets each group's lr from its starting value base_lr at step t (call .step() once per
epoch or per batch, as you choose):
    StepLR            base_lr · γ^⌊t / step_size⌋
    ExponentialLR     base_lr · γ^t
    CosineAnnealingLR eta_min + (base_lr - eta_min) · (1 + cos(π t / T_max)) / 2
    LinearWarmup      base_lr · min(1, (t + 1) / warmup_steps)
    ReduceLROnPlateau multiply lr by `factor` when the watched loss has not improved for `patience` steps
`lr_at(t)` gives the value at step t without changing anything.
"""

from __future__ import annotations

import math

import numpy as np

from ..autodiff import Tensor

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LinearWarmup",
    "ReduceLROnPlateau",
    "StepLR",
    "clip_grad_norm",
    "clip_grad_value",
]


class _Schedule:
    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.t = 0
        self._apply()

    def factor(self, t: int) -> float:
        raise NotImplementedError

    def lr_at(self, t: int, group: int = 0) -> float:
        return self.base_lrs[group] * self.factor(t)

    def _apply(self):
        for i, group in enumerate(self.optimizer.param_groups):
            group["lr"] = self.lr_at(self.t, i)

    def step(self):
        self.t += 1
        self._apply()


class StepLR(_Schedule):
    """lr = base_lr · γ^⌊t / step_size⌋: drop by a factor γ every step_size steps."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def factor(self, t):
        return self.gamma ** (t // self.step_size)


class ExponentialLR(_Schedule):
    """lr = base_lr · γ^t."""

    def __init__(self, optimizer, gamma: float):
        self.gamma = gamma
        super().__init__(optimizer)

    def factor(self, t):
        return self.gamma**t


class CosineAnnealingLR(_Schedule):
    """lr = eta_min + (base_lr - eta_min)(1 + cos(π t / T_max)) / 2, then eta_min after T_max."""

    def __init__(self, optimizer, t_max: int, eta_min: float = 0.0):
        self.t_max, self.eta_min = t_max, eta_min
        super().__init__(optimizer)

    def lr_at(self, t, group=0):
        t = min(t, self.t_max)
        base = self.base_lrs[group]
        return self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * t / self.t_max)) / 2


class LinearWarmup(_Schedule):
    """lr = base_lr · min(1, (t + 1) / warmup_steps): a linear ramp, then the full rate."""

    def __init__(self, optimizer, warmup_steps: int):
        self.warmup_steps = warmup_steps
        super().__init__(optimizer)

    def factor(self, t):
        return min(1.0, (t + 1) / self.warmup_steps)


class ReduceLROnPlateau:
    """Multiply every lr by `factor` after `patience` steps without an improvement larger than
    `threshold` (relative) in the watched loss; never below min_lr. Call .step(loss)."""

    def __init__(
        self, optimizer, factor: float = 0.1, patience: int = 10, threshold: float = 1e-4, min_lr: float = 0.0
    ):
        self.optimizer, self.factor, self.patience = optimizer, factor, patience
        self.threshold, self.min_lr = threshold, min_lr
        self.best = math.inf
        self.waited = 0

    def step(self, loss: float):
        loss = float(loss)
        if loss < self.best * (1 - self.threshold) if self.best > 0 else loss < self.best - self.threshold:
            self.best, self.waited = loss, 0
            return
        self.waited += 1
        if self.waited > self.patience:
            for group in self.optimizer.param_groups:
                group["lr"] = max(group["lr"] * self.factor, self.min_lr)
            self.waited = 0


def _grads(params):
    found = []
    for p in params:
        if p.grad is not None:
            found.append(p)
    return found


def clip_grad_norm(params, max_norm: float) -> float:
    """Scale all gradients together by max_norm / ‖g‖ when their global norm ‖g‖ exceeds max_norm.

    The global norm is sqrt(Σ over parameters of Σ g²). Scaling every gradient by one number
    shortens the update without changing its direction. Returns ‖g‖ before clipping.
    """
    params = _grads(params)
    total = math.sqrt(sum(float(np.sum(np.square(_array(p.grad)))) for p in params))
    if total > max_norm:
        scale = max_norm / (total + 1e-12)
        for p in params:
            p.grad = _array(p.grad) * scale
    return total


def clip_grad_value(params, clip: float):
    """Clip every gradient element to [-clip, clip]. Unlike clip_grad_norm this can change the
    direction of the update (large coordinates are cut, small ones kept)."""
    for p in _grads(params):
        p.grad = np.clip(_array(p.grad), -clip, clip)


def _array(g):
    return g.data if isinstance(g, Tensor) else np.asarray(g)

"""Loss modules (thin wrappers around the engine's fused, stable loss ops)."""

from __future__ import annotations

from .. import autodiff as gl
from .module import Module

__all__ = ["BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss"]


class MSELoss(Module):
    """mean (prediction - target)²."""

    def forward(self, prediction, target):
        return gl.mse(prediction, target)


class CrossEntropyLoss(Module):
    """mean over examples of -ln softmax(logits)[label]; labels are integer classes."""

    def forward(self, logits, labels):
        return gl.cross_entropy(logits, labels)


class BCEWithLogitsLoss(Module):
    """mean binary cross-entropy of 0/1 targets under σ(logits)."""

    def forward(self, logits, targets):
        return gl.bce_with_logits(logits, targets)

"""Watching gradients: the vanishing- and exploding-gradient lesson, measured.

By the chain rule, the gradient reaching layer k is a product of one factor per layer above it.
With sigmoid units each factor carries σ'(z) ≤ 1/4, so in a deep sigmoid network the early
layers' gradients shrink geometrically (they vanish); ReLU's slope is 1 where it is active, so
the product stays near 1. GradientMonitor records, for every weight matrix and every step,
    ‖∇W‖                  the gradient norm
    ‖ΔW‖ / ‖W‖            the update-to-weight ratio (healthy training: around 1e-3)
and warns once when a layer's gradients vanish or explode.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import autodiff as gl
from ..data.toy import make_moons
from .layers import Linear, ReLU, Sequential, Sigmoid
from .training import Callback

__all__ = ["GradientMonitor", "compare_depth_gradients", "layer_gradient_norms", "plot_layer_gradients"]


class GradientMonitor(Callback):
    """A fit() callback recording per-layer gradient norms and update-to-weight ratios each step."""

    def __init__(self, vanish: float = 1e-7, explode: float = 1e3, weights_only: bool = True):
        self.vanish, self.explode, self.weights_only = vanish, explode, weights_only
        self.grad_norms: dict[str, list] = {}
        self.update_ratios: dict[str, list] = {}
        self.warned = set()
        self._before = {}

    def _watched(self, model):
        for name, p in model.named_parameters():
            if not self.weights_only or p.ndim >= 2:
                yield name, p

    def on_after_backward(self, model):
        for name, p in self._watched(model):
            if p.grad is None:
                continue
            norm = float(np.linalg.norm(np.asarray(getattr(p.grad, "data", p.grad))))
            self.grad_norms.setdefault(name, []).append(norm)
            self._before[name] = p.data.copy()
            self._warn(name, norm)

    def on_after_step(self, model):
        for name, p in self._watched(model):
            if name in self._before:
                change = np.linalg.norm(p.data - self._before[name])
                self.update_ratios.setdefault(name, []).append(float(change / (np.linalg.norm(p.data) + 1e-12)))
        self._before = {}

    def _warn(self, name, norm):
        kind = (
            "vanishing" if norm < self.vanish else "exploding" if norm > self.explode or not np.isfinite(norm) else None
        )
        if kind and (name, kind) not in self.warned:
            self.warned.add((name, kind))
            warnings.warn(f"{kind} gradient in {name}: norm {norm:.2e}", RuntimeWarning, stacklevel=2)

    def summary(self) -> dict:
        """{layer: (median gradient norm, median update ratio)} over the recorded steps."""
        return {
            name: (float(np.median(norms)), float(np.median(self.update_ratios.get(name, [np.nan]))))
            for name, norms in self.grad_norms.items()
        }


def layer_gradient_norms(model, loss_fn, x, y) -> dict:
    """‖∇W‖ for every weight matrix after one backward pass on (x, y), first layer first."""
    model.zero_grad()
    loss_fn(model(gl.Tensor(x)), y).backward()
    return {name: float(np.linalg.norm(p.grad)) for name, p in model.named_parameters() if p.ndim >= 2}


def _deep_net(activation, depth, width, seed):
    layers, n_in = [], 2
    for i in range(depth):
        layers += [Linear(n_in, width, init="xavier", seed=seed + i), activation()]
        n_in = width
    layers.append(Linear(n_in, 2, init="xavier", seed=seed + depth))
    return Sequential(*layers)


def compare_depth_gradients(depth: int = 10, width: int = 32, seed: int = 0) -> dict:
    """Per-layer gradient norms of a deep sigmoid network and the same network with ReLU, on the
    two-moons data: {"sigmoid": [norm per layer], "relu": [...]} (first layer first)."""
    x, y = make_moons(256, noise=0.15, seed=seed)
    loss = lambda out, labels: gl.cross_entropy(out, labels)  # noqa: E731
    result = {}
    for name, activation in (("sigmoid", Sigmoid), ("relu", ReLU)):
        norms = layer_gradient_norms(_deep_net(activation, depth, width, seed), loss, x, y)
        result[name] = list(norms.values())
    return result


def plot_layer_gradients(norms: dict, path=None):
    """Gradient norm per layer (log scale) for each network in `norms`, as compare_depth_gradients gives."""
    from ..plotting import finish, new_figure

    figure, axes = new_figure(path, figsize=(7, 4.5))
    for name, values in norms.items():
        axes.semilogy(np.arange(1, len(values) + 1), values, marker="o", label=name)
    axes.set_xlabel("layer (1 = nearest the input)")
    axes.set_ylabel("gradient norm ‖∂L/∂W‖")
    axes.set_title("Gradients per layer: sigmoid vanishes towards the input, ReLU does not")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    return finish(figure, path)

"""minimize: run an optimizer on a function of a few variables and record the whole trajectory.

Every step keeps the position, the loss, the gradient and the optimizer's internal state
(velocity, moment estimates, ...), so a learner can replay, plot and compare. The loop stops on
a stated criterion — the gradient norm, the change in loss, or the step budget — and detects
divergence (a loss that is NaN/Inf or has grown past `blowup` times its starting size), which it
reports as such, with the step where the loss began to climb, instead of returning garbage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..autodiff import Tensor, value_and_grad
from . import optimizers

__all__ = ["OPTIMIZERS", "Trajectory", "make_optimizer", "minimize"]

OPTIMIZERS = {
    "sgd": optimizers.SGD,
    "momentum": optimizers.Momentum,
    "nesterov": optimizers.Nesterov,
    "adagrad": optimizers.AdaGrad,
    "rmsprop": optimizers.RMSProp,
    "adam": optimizers.Adam,
    "adamw": optimizers.AdamW,
    "amsgrad": optimizers.AMSGrad,
}


def make_optimizer(name_or_class, params, **hyper) -> optimizers.Optimizer:
    """An optimizer from its name ("adam"), its class, or a factory params -> optimizer."""
    if isinstance(name_or_class, str):
        key = name_or_class.strip().lower()
        if key not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {name_or_class!r}; choose one of {', '.join(OPTIMIZERS)}")
        return OPTIMIZERS[key](params, **hyper)
    return name_or_class(params, **hyper)


@dataclass
class Trajectory:
    """Everything a run did, step by step (index 0 is the start)."""

    positions: np.ndarray
    losses: np.ndarray
    gradients: np.ndarray
    states: list = field(default_factory=list)  # the optimizer's state after each step
    converged: bool = False
    diverged: bool = False
    diverged_at: int | None = None  # the step where the loss started its runaway climb
    reason: str = ""

    @property
    def steps(self) -> int:
        return len(self.losses) - 1

    @property
    def final(self) -> np.ndarray:
        return self.positions[-1]

    @property
    def path_length(self) -> float:
        return float(np.sum(np.linalg.norm(np.diff(self.positions, axis=0), axis=1)))


def minimize(
    f,
    x0,
    optimizer="sgd",
    max_steps: int = 1000,
    grad_tol: float | None = 1e-8,
    loss_tol: float | None = None,
    blowup: float = 1e8,
    **hyper,
) -> Trajectory:
    """Minimise f from x0 with the given optimizer (name, class or factory) and hyper-parameters.

    Stops when ‖∇f‖ ≤ grad_tol, or when |Δloss| ≤ loss_tol, or after max_steps, or on divergence:
    a non-finite loss or position, or a loss above blowup · max(1, |f(x0)|).
    """
    x = Tensor(np.array(x0, dtype=np.float64).reshape(-1), requires_grad=True)
    opt = make_optimizer(optimizer, [x], **hyper)
    value_grad = value_and_grad(f)
    positions, losses, gradients, states = [], [], [], []
    result = Trajectory(np.empty((0, x.size)), np.empty(0), np.empty((0, x.size)))
    limit = None
    for step in range(max_steps + 1):
        value, g = value_grad(x.data.copy())
        g = np.asarray(g, dtype=np.float64).reshape(-1)
        positions.append(x.data.copy())
        losses.append(float(value))
        gradients.append(g)
        states.append({k: np.copy(v) for k, v in opt.state_arrays(x).items()})
        limit = blowup * max(1.0, abs(losses[0])) if limit is None else limit
        if (
            not (np.isfinite(losses[-1]) and np.all(np.isfinite(g)) and np.all(np.isfinite(x.data)))
            or abs(losses[-1]) > limit
        ):
            result.diverged = True
            result.diverged_at = _start_of_climb(losses)
            result.reason = (
                f"diverged: the loss reached {losses[-1]:.3g} at step {step}, climbing since step {result.diverged_at}"
                " (the learning rate is too large for this landscape)"
            )
            break
        if grad_tol is not None and np.linalg.norm(g) <= grad_tol:
            result.converged, result.reason = True, f"gradient norm {np.linalg.norm(g):.2e} <= {grad_tol:g}"
            break
        if loss_tol is not None and step > 0 and abs(losses[-1] - losses[-2]) <= loss_tol:
            result.converged, result.reason = True, f"loss changed by <= {loss_tol:g}"
            break
        if step == max_steps:
            result.reason = f"stopped after {max_steps} steps (gradient norm {np.linalg.norm(g):.2e})"
            break
        x.grad = g.reshape(x.shape)
        opt.step()
    result.positions = np.array(positions)
    result.losses = np.array(losses)
    result.gradients = np.array(gradients)
    result.states = states
    return result


def _start_of_climb(losses) -> int:
    """The first step of the final run of rising (or non-finite) losses."""
    i = len(losses) - 1
    while i > 0 and (not np.isfinite(losses[i - 1]) or not np.isfinite(losses[i]) or losses[i] > losses[i - 1]):
        i -= 1
    return i

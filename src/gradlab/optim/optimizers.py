"""First-order optimizers: each turns gradients into a step, PyTorch-style.

    opt = Adam(model_params, lr=1e-3)
    loss.backward(); opt.step(); opt.zero_grad()

Parameters come as Tensors or as groups ([{"params": [...], "lr": 0.1}, ...]) with their own
hyper-parameters. Every optimizer keeps its per-parameter state (velocities, moment estimates)
in `state`, which `state_dict()` / `load_state_dict()` save and restore as plain arrays.
Each class's docstring gives its update rule; g is the gradient, η the learning rate, t the
step count (from 1), and all operations are element-wise.
"""

from __future__ import annotations

import numpy as np

from ..autodiff import Tensor, no_grad

__all__ = ["SGD", "AMSGrad", "AdaGrad", "Adam", "AdamW", "Momentum", "Nesterov", "Optimizer", "RMSProp"]


class Optimizer:
    """Base class: parameter groups, the step loop, zero_grad and state saving.

    Subclasses set `defaults` (hyper-parameters and their default values) and implement
    `update(theta, g, state, group) -> step`, returning the array to subtract from θ.
    """

    defaults: dict = {}

    def __init__(self, params, **hyper):
        unknown = set(hyper) - set(self.defaults)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} has no hyper-parameter {sorted(unknown)}; it takes {sorted(self.defaults)}"
            )
        params = list(params)
        if not params:
            raise ValueError("the optimizer got no parameters to update")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = []
        for group in groups:
            merged = {**self.defaults, **hyper, **{k: v for k, v in group.items() if k != "params"}}
            tensors = list(group["params"])
            for p in tensors:
                if not isinstance(p, Tensor):
                    raise TypeError(f"parameters must be Tensors, got {type(p).__name__}")
                if not p.requires_grad:
                    raise ValueError("a parameter does not require grad: create it with requires_grad=True")
            self._check(merged)
            self.param_groups.append({**merged, "params": tensors})
        self.state: dict[int, dict] = {}

    def _check(self, group: dict):
        if "lr" in group and not group["lr"] > 0:
            raise ValueError(f"the learning rate must be positive, got {group['lr']}")

    @property
    def lr(self) -> float:
        """The first group's learning rate (a shortcut for the common single-group case)."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float):
        for group in self.param_groups:
            group["lr"] = value

    def zero_grad(self):
        """Forget the gradients, so the next backward() starts from zero."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self):
        """Move every parameter that has a gradient by its update rule."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = np.asarray(p.grad.data if isinstance(p.grad, Tensor) else p.grad)
                state = self.state.setdefault(id(p), {})
                with no_grad():  # an in-place change the tape can see (a retained graph would notice)
                    p -= self.update(p.data, g, state, group).astype(p.data.dtype, copy=False)

    def update(self, theta: np.ndarray, g: np.ndarray, state: dict, group: dict) -> np.ndarray:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """Hyper-parameters per group and the per-parameter state, keyed by parameter position."""
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index[id(p)] = len(index)
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {
            index[key]: {k: np.copy(v) for k, v in value.items()} for key, value in self.state.items() if key in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, saved: dict):
        """Restore what state_dict() returned, for an optimizer over parameters of the same shapes."""
        params = [p for group in self.param_groups for p in group["params"]]
        if len(saved["param_groups"]) != len(self.param_groups):
            raise ValueError(
                f"the saved state has {len(saved['param_groups'])} groups, this optimizer {len(self.param_groups)}"
            )
        for group, stored in zip(self.param_groups, saved["param_groups"]):
            if len(stored["params"]) != len(group["params"]):
                raise ValueError("the saved state has a different number of parameters in a group")
            group.update({k: v for k, v in stored.items() if k != "params"})
        self.state = {}
        for position, value in saved["state"].items():
            p = params[int(position)]
            for name, array in value.items():
                if np.shape(array) not in ((), p.shape):
                    raise ValueError(
                        f"saved state '{name}' has shape {np.shape(array)}, parameter {position} {p.shape}"
                    )
            self.state[id(p)] = {k: np.copy(v) for k, v in value.items()}

    def state_arrays(self, p: Tensor) -> dict:
        """The optimizer's internal state for one parameter (velocity, moments, ...), for plotting."""
        return {k: v for k, v in self.state.get(id(p), {}).items() if not k.startswith("_")}


def _decayed(theta, g, group):
    """g + λθ: L2 weight decay folded into the gradient (what SGD-style methods call weight decay)."""
    decay = group.get("weight_decay", 0.0)
    return g + decay * theta if decay else g


class SGD(Optimizer):
    """Gradient descent:  θ ← θ - η (g + λθ)."""

    defaults = {"lr": 0.01, "weight_decay": 0.0}

    def update(self, theta, g, state, group):
        return group["lr"] * _decayed(theta, g, group)


class Momentum(Optimizer):
    """Heavy ball:  v ← μ v + g,   θ ← θ - η v   (v starts at 0; a ball rolling downhill gains speed)."""

    defaults = {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.0}

    def update(self, theta, g, state, group):
        g = _decayed(theta, g, group)
        v = state["velocity"] = group["momentum"] * state.get("velocity", 0.0) + g
        return group["lr"] * v


class Nesterov(Optimizer):
    """Nesterov momentum:  v ← μ v + g,   θ ← θ - η (g + μ v).

    The same velocity as heavy ball, but the step looks ahead along it: the gradient term is
    applied at the point the momentum is about to carry θ to (Sutskever's form, as in PyTorch).
    """

    defaults = {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.0}

    def update(self, theta, g, state, group):
        g = _decayed(theta, g, group)
        v = state["velocity"] = group["momentum"] * state.get("velocity", 0.0) + g
        return group["lr"] * (g + group["momentum"] * v)


class AdaGrad(Optimizer):
    """AdaGrad:  G ← G + g²,   θ ← θ - η g / (√G + ε)   (each coordinate's step shrinks with its history)."""

    defaults = {"lr": 0.01, "eps": 1e-10, "weight_decay": 0.0}

    def update(self, theta, g, state, group):
        g = _decayed(theta, g, group)
        total = state["sum_squares"] = state.get("sum_squares", 0.0) + g * g
        return group["lr"] * g / (np.sqrt(total) + group["eps"])


class RMSProp(Optimizer):
    """RMSProp:  s ← ρ s + (1 - ρ) g²,   θ ← θ - η g / (√s + ε)   (AdaGrad with a fading memory)."""

    defaults = {"lr": 0.001, "rho": 0.9, "eps": 1e-8, "weight_decay": 0.0}

    def update(self, theta, g, state, group):
        g = _decayed(theta, g, group)
        rho = group["rho"]
        s = state["square_avg"] = rho * state.get("square_avg", 0.0) + (1 - rho) * g * g
        return group["lr"] * g / (np.sqrt(s) + group["eps"])


class Adam(Optimizer):
    """Adam:  m ← β₁ m + (1 - β₁) g,   v ← β₂ v + (1 - β₂) g²,
    m̂ = m / (1 - β₁ᵗ),   v̂ = v / (1 - β₂ᵗ),   θ ← θ - η m̂ / (√v̂ + ε).

    The bias correction undoes the zero start of m and v, so the first step is η·g/|g| ≈ ±η in
    every coordinate, whatever the scale of the gradient.
    """

    defaults = {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}

    def update(self, theta, g, state, group):
        return self._direction(_decayed(theta, g, group), state, group, scale=group["lr"])

    def _direction(self, g, state, group, scale: float = 1.0):
        """scale · m̂ / (√v̂ + ε), computed in place in a per-parameter work buffer (a big layer
        would otherwise allocate half a dozen arrays of its size at every step). With c₁ = 1 - β₁ᵗ
        and c₂ = sqrt(1 - β₂ᵗ), m̂ / (√v̂ + ε) = (c₂ / c₁) · m / (√v + ε c₂): the corrections become
        two scalars, which saves two passes over the parameter."""
        b1, b2 = group["beta1"], group["beta2"]
        t = state["step"] = state.get("step", 0) + 1
        if "m" not in state:
            state["m"], state["v"] = np.zeros_like(g), np.zeros_like(g)
            state["_work"] = np.empty_like(g)  # scratch space, not state: neither saved nor shown
        m, v, work = state["m"], state["v"], state["_work"]
        np.multiply(g, 1 - b1, out=work)
        m *= b1
        m += work  # m ← β₁ m + (1 - β₁) g
        np.square(g, out=work)
        work *= 1 - b2
        v *= b2
        v += work  # v ← β₂ v + (1 - β₂) g²
        c1, c2 = 1 - b1**t, np.sqrt(1 - b2**t)
        np.sqrt(self._second_moment(v, state), out=work)
        work += group["eps"] * c2
        np.divide(m, work, out=work)
        work *= scale * c2 / c1
        return work

    def _second_moment(self, v, state):
        return v


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay,  θ ← θ - η (m̂ / (√v̂ + ε) + λ θ).

    The decay shrinks θ directly instead of entering g (where Adam's scaling would weaken it
    for coordinates with large gradients).
    """

    defaults = {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01}

    def update(self, theta, g, state, group):
        return group["lr"] * (self._direction(g, state, group) + group["weight_decay"] * theta)


class AMSGrad(Adam):
    """AMSGrad: Adam with v̂ built from the running maximum of v, so steps never grow back:
    v_max ← max(v_max, v),   θ ← θ - η m̂ / (√(v_max / (1 - β₂ᵗ)) + ε)."""

    def _second_moment(self, v, state):
        state["v_max"] = np.maximum(state.get("v_max", 0.0), v)
        return state["v_max"]

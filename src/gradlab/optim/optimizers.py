"""First-order optimizers: each turns gradients into a step, PyTorch-style.

    opt = Adam(model_params, lr=1e-3)
    loss.backward(); opt.step(); opt.zero_grad()

Parameters come as Tensors or as groups ([{"params": [...], "lr": 0.1}, ...]) with their own
hyper-parameters. Every optimizer keeps its per-parameter state (velocities, moment estimates)
in `state`, which `state_dict()` / `load_state_dict()` save and restore as plain arrays.
Each class's docstring gives its update rule; g is the gradient, η the learning rate, t the
step count (from 1), and all operations are element-wise.

PyTorch's spellings work too, with the same trajectories as torch.optim: SGD(params, lr,
momentum=0.9, nesterov=True), Adam/AdamW(..., betas=(0.9, 0.999), amsgrad=True),
RMSprop(..., alpha=0.99), Adagrad(..., lr_decay=0, initial_accumulator_value=0). The defaults are
gradlab's, which are PyTorch's except SGD's lr (0.01 here, 1e-3 in PyTorch) and RMSProp's
(lr=0.001, rho=0.9); the class spelled RMSprop, as in PyTorch, has PyTorch's lr=0.01, alpha=0.99.
"""

from __future__ import annotations

import numpy as np

from ..autodiff import Tensor, no_grad
from ..autodiff.modes import this_thread

__all__ = [
    "SGD",
    "AMSGrad",
    "AdaGrad",
    "Adagrad",
    "Adam",
    "AdamW",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "RMSProp",
    "RMSprop",
]


class Optimizer:
    """Base class: parameter groups, the step loop, zero_grad and state saving.

    Subclasses set `defaults` (hyper-parameters and their default values) and implement
    `update(theta, g, state, group) -> step`, returning the array to subtract from θ.
    For PyTorch's spellings a class may also set `torch_defaults`, the further hyper-parameters
    that torch.optim's class of the same name takes (SGD's nesterov, Adam's amsgrad) with their
    default values, and `torch_names`, PyTorch's name of a hyper-parameter -> gradlab's
    ("alpha": "rho"; a tuple of names spreads a tuple value: "betas": ("beta1", "beta2")).
    """

    defaults: dict = {}
    torch_defaults: dict = {}
    torch_names: dict = {}

    def __init__(self, params, **hyper):
        name = type(self).__name__
        known = {**self.torch_defaults, **self.defaults}
        hyper = _gradlab_names(hyper, self.torch_names, name)
        unknown = set(hyper) - set(known)
        if unknown:
            also = f" (or PyTorch's {', '.join(self.torch_names)})" if self.torch_names else ""
            raise TypeError(f"{name} has no hyper-parameter {sorted(unknown)}; it takes {sorted(known)}{also}")
        params = list(params)
        if not params:
            raise ValueError("the optimizer got no parameters to update")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = []
        for i, group in enumerate(groups):
            own = {k: v for k, v in group.items() if k != "params"}
            merged = {**known, **hyper, **_gradlab_names(own, self.torch_names, f"{name}'s parameter group {i}")}
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
        tracer = this_thread.switches.tracer
        if tracer is not None:  # gl.compile's first call: clearing the gradients is a line of the compiled code
            tracer.grads_cleared([p for group in self.param_groups for p in group["params"]])
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self):
        """Move every parameter that has a gradient by its update rule."""
        tracer = this_thread.switches.tracer
        if tracer is not None:  # gl.compile's first call: each update becomes a line, then runs as always
            tracer.optimizer_step(self)
            return
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


def _gradlab_names(hyper: dict, torch_names: dict, owner: str) -> dict:
    """`hyper` with PyTorch's names of hyper-parameters turned into gradlab's.

    `torch_names` maps a PyTorch name to gradlab's (alpha -> rho), or to a tuple of names that a
    tuple value is spread over (betas=(0.9, 0.999) -> beta1=0.9, beta2=0.999). Giving a
    hyper-parameter under both names is an error: which one was meant cannot be told.
    """
    out = dict(hyper)
    for torch_name, ours in torch_names.items():
        if torch_name not in out:
            continue
        value = out.pop(torch_name)
        names = (ours,) if isinstance(ours, str) else ours
        both = [n for n in names if n in out]
        if both:
            raise TypeError(
                f"{owner} got both {torch_name}= (PyTorch's name) and {both[0]}= (gradlab's) for the same "
                "hyper-parameter: pass only one of them"
            )
        if isinstance(ours, str):
            out[ours] = value
            continue
        try:
            values = tuple(value)
        except TypeError:
            values = ()
        if len(values) != len(names):
            wanted = f"{len(names)} numbers ({', '.join(names)})"
            raise ValueError(f"{owner}: {torch_name} must hold {wanted}, got {value!r}")
        out.update(zip(names, values))
    return out


def _decayed(theta, g, group):
    """g + λθ: L2 weight decay folded into the gradient (what SGD-style methods call weight decay)."""
    decay = group.get("weight_decay", 0.0)
    return g + decay * theta if decay else g


class SGD(Optimizer):
    """Gradient descent:  θ ← θ - η (g + λθ).

    With PyTorch's momentum=μ > 0 it is torch.optim.SGD's rule, with v ← g at the first step:
    v ← μ v + (1 - τ) g,   θ ← θ - η v,   or θ ← θ - η (g + μ v) with nesterov=True
    (τ is dampening, 0 by default; nesterov needs τ = 0). Momentum and Nesterov are this class
    with momentum on. The default lr is 0.01 (PyTorch's is 0.001).
    """

    defaults = {"lr": 0.01, "weight_decay": 0.0}
    torch_defaults = {"momentum": 0.0, "dampening": 0.0, "nesterov": False}

    def _check(self, group):
        super()._check(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"nesterov=True needs a positive momentum and no dampening, got momentum={group['momentum']}, "
                f"dampening={group['dampening']}"
            )

    def update(self, theta, g, state, group):
        g = _decayed(theta, g, group)
        mu = group["momentum"]
        if mu:
            v = state.get("velocity")
            v = state["velocity"] = np.array(g) if v is None else mu * v + (1 - group["dampening"]) * g
            g = g + mu * v if group["nesterov"] else v
        return group["lr"] * g


class Momentum(SGD):
    """Heavy ball:  v ← μ v + g,   θ ← θ - η v   (v starts at 0; a ball rolling downhill gains speed).

    The same as SGD(params, lr, momentum=μ), in gradlab and in PyTorch.
    """

    defaults = {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.0}


class Nesterov(SGD):
    """Nesterov momentum:  v ← μ v + g,   θ ← θ - η (g + μ v).

    The same velocity as heavy ball, but the step looks ahead along it: the gradient term is
    applied at the point the momentum is about to carry θ to (Sutskever's form, as in PyTorch's
    SGD(params, lr, momentum=μ, nesterov=True), which is the same as this class).
    """

    defaults = Momentum.defaults
    torch_defaults = {**SGD.torch_defaults, "nesterov": True}


class AdaGrad(Optimizer):
    """AdaGrad:  G ← G + g²,   θ ← θ - η g / (√G + ε)   (each coordinate's step shrinks with its history).

    As in torch.optim.Adagrad, G may start at initial_accumulator_value (0 by default), and
    lr_decay = d (0 by default) lowers the rate to η / (1 + (t - 1) d) at step t. Adagrad, the
    PyTorch spelling, is this same class: the defaults (lr=0.01, eps=1e-10) are PyTorch's too.
    """

    defaults = {"lr": 0.01, "eps": 1e-10, "weight_decay": 0.0}
    torch_defaults = {"lr_decay": 0.0, "initial_accumulator_value": 0.0}

    def update(self, theta, g, state, group):
        g = _decayed(theta, g, group)
        t = state["step"] = state.get("step", 0) + 1
        total = state["sum_squares"] = state.get("sum_squares", group["initial_accumulator_value"]) + g * g
        lr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        return lr * g / (np.sqrt(total) + group["eps"])


Adagrad = AdaGrad


class RMSProp(Optimizer):
    """RMSProp:  s ← ρ s + (1 - ρ) g²,   θ ← θ - η g / (√s + ε)   (AdaGrad with a fading memory).

    ρ may also be given as alpha=, PyTorch's name. The defaults here are gradlab's, lr=0.001 and
    ρ=0.9; RMSprop, the class as PyTorch spells it, has PyTorch's: lr=0.01, alpha=0.99.
    """

    defaults = {"lr": 0.001, "rho": 0.9, "eps": 1e-8, "weight_decay": 0.0}
    torch_names = {"alpha": "rho"}

    def update(self, theta, g, state, group):
        g = _decayed(theta, g, group)
        rho = group["rho"]
        s = state["square_avg"] = rho * state.get("square_avg", 0.0) + (1 - rho) * g * g
        return group["lr"] * g / (np.sqrt(s) + group["eps"])


class RMSprop(RMSProp):
    """RMSProp with torch.optim.RMSprop's defaults, lr=0.01 and α=0.99 (RMSProp's are 0.001 and 0.9):
    s ← α s + (1 - α) g²,   θ ← θ - η g / (√s + ε).   α may be given as alpha= or rho=."""

    defaults = {**RMSProp.defaults, "lr": 0.01, "rho": 0.99}


class Adam(Optimizer):
    """Adam:  m ← β₁ m + (1 - β₁) g,   v ← β₂ v + (1 - β₂) g²,
    m̂ = m / (1 - β₁ᵗ),   v̂ = v / (1 - β₂ᵗ),   θ ← θ - η m̂ / (√v̂ + ε).

    The bias correction undoes the zero start of m and v, so the first step is η·g/|g| ≈ ±η in
    every coordinate, whatever the scale of the gradient. β₁ and β₂ may also be given as
    betas=(β₁, β₂), and amsgrad=True makes it AMSGrad, as in PyTorch.
    """

    defaults = {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}
    torch_defaults = {"amsgrad": False}
    torch_names = {"betas": ("beta1", "beta2")}

    def update(self, theta, g, state, group):
        return self._direction(_decayed(theta, g, group), state, group, scale=group["lr"])

    def _direction(self, g, state, group, scale: float = 1.0):
        """scale · m̂ / (√v̂ + ε), line by line as in Adam's docstring (m and v are updated in place).

        Folding the two bias corrections into scalars, (c₂/c₁)·m/(√v + ε c₂) with c₁ = 1 - β₁ᵗ and
        c₂ = √(1 - β₂ᵗ), in a reused buffer, measured only ~1.5 % faster on the MNIST MLP's training step
        (benchmarks/mnist.py --part speed): too little to give up the textbook form."""
        b1, b2, eps = group["beta1"], group["beta2"], group["eps"]
        t = state["step"] = state.get("step", 0) + 1
        if "m" not in state:
            state["m"], state["v"] = np.zeros_like(g), np.zeros_like(g)
        m, v = state["m"], state["v"]
        m *= b1
        m += (1 - b1) * g  # m ← β₁ m + (1 - β₁) g
        v *= b2
        v += (1 - b2) * np.square(g)  # v ← β₂ v + (1 - β₂) g²
        if group["amsgrad"]:
            v = state["v_max"] = np.maximum(state.get("v_max", 0.0), v)
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        return scale * m_hat / (np.sqrt(v_hat) + eps)


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay,  θ ← θ - η (m̂ / (√v̂ + ε) + λ θ).

    The decay shrinks θ directly instead of entering g (where Adam's scaling would weaken it
    for coordinates with large gradients). Like Adam, it takes betas= and amsgrad=.
    """

    defaults = {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01}

    def update(self, theta, g, state, group):
        return group["lr"] * (self._direction(g, state, group) + group["weight_decay"] * theta)


class AMSGrad(Adam):
    """AMSGrad: Adam with v̂ built from the running maximum of v, so steps never grow back:
    v_max ← max(v_max, v),   θ ← θ - η m̂ / (√(v_max / (1 - β₂ᵗ)) + ε).

    The same as Adam(params, amsgrad=True), in gradlab and in PyTorch.
    """

    torch_defaults = {"amsgrad": True}

"""Module: the building block of networks, and Parameter: a Tensor that a module learns.

A Module registers every Parameter and sub-Module assigned to it as an attribute, so
`model.parameters()` finds all the weights of a network however deeply it is nested, and
`state_dict()` / `save()` / `load()` move them in and out as plain arrays (.npz, no pickle).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..autodiff import Tensor

__all__ = ["Module", "Parameter"]


class Parameter(Tensor):
    """A Tensor that a Module learns: requires_grad is always on."""

    def __init__(self, data, dtype=None, name: str | None = None):
        super().__init__(data, requires_grad=True, dtype=dtype, name=name)

    def __repr__(self):
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"


class Module:
    """Base class of every layer and model. Subclasses set attributes in __init__ and write forward()."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() before setting attributes")
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, array: np.ndarray):
        """Keep a non-learned array with the model's state (e.g. batch norm's running mean)."""
        object.__setattr__(self, name, array)
        self._buffers[name] = None

    # --- the forward pass ----------------------------------------------------------------------
    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # --- walking the tree ------------------------------------------------------------------------
    def named_modules(self, prefix: str = ""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def children(self):
        return iter(self._modules.values())

    def named_parameters(self, prefix: str = ""):
        """(dotted name, Parameter) for every parameter, e.g. ("layers.0.weight", ...)."""
        for module_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                yield (f"{module_name}.{name}" if module_name else name), p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    def train(self, mode: bool = True):
        """Training mode (dropout drops, batch norm uses batch statistics); returns self."""
        for _, module in self.named_modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Evaluation mode: the same model, deterministic (no dropout, running batch-norm statistics)."""
        return self.train(False)

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    # --- saving and loading ----------------------------------------------------------------------
    def state_dict(self) -> OrderedDict:
        """Every parameter and buffer by dotted name, as copies of the arrays."""
        state = OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())
        for module_name, module in self.named_modules():
            for name in module._buffers:
                key = f"{module_name}.{name}" if module_name else name
                state[key] = np.array(getattr(module, name), copy=True)
        return state

    def load_state_dict(self, state, strict: bool = True):
        """Copy arrays into the model. Names and shapes must match; the error names the first mismatch."""
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(
                f"the saved state does not fit {type(self).__name__}: "
                f"missing {missing[:5]}, unexpected {unexpected[:5]}"
            )
        for key in own:
            if key not in state:
                continue
            value = np.asarray(state[key])
            if value.shape != own[key].shape:
                raise ValueError(
                    f"'{key}' has shape {value.shape} in the saved state but {own[key].shape} in the model; "
                    "was it saved from a model of another size?"
                )
            self._assign(key, value)

    def _assign(self, key: str, value: np.ndarray):
        *path, name = key.split(".")
        module = self
        for part in path:
            module = module._modules[part]
        if name in module._parameters:
            target = module._parameters[name]
            target.data = value.astype(target.data.dtype, copy=True)
        else:
            module.register_buffer(name, value.copy())

    def save(self, path):
        """Save the state as a .npz file (arrays only: nothing is pickled)."""
        path = Path(path)
        np.savez(path, **self.state_dict())
        return path if path.suffix == ".npz" else path.with_suffix(path.suffix + ".npz")

    def load(self, path):
        """Load a .npz written by save() into this model (of the same architecture)."""
        with np.load(Path(path), allow_pickle=False) as archive:
            self.load_state_dict({k: archive[k] for k in archive.files})
        return self

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._modules.items():
            inner = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {inner}")
        return "\n".join(lines) + (")" if len(lines) == 1 else "\n)")

    def extra_repr(self) -> str:
        return ""

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
from ..npzfile import ModelFileError, StateKeysError, read_npz, write_npz

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
    def _state_arrays(self):
        """(dotted name, array) for every parameter and buffer: the model's own arrays, not copies."""
        for name, p in self.named_parameters():
            yield name, p.data
        for module_name, module in self.named_modules():
            for name in module._buffers:
                yield (f"{module_name}.{name}" if module_name else name), np.asarray(getattr(module, name))

    def state_dict(self) -> OrderedDict:
        """Every parameter and buffer by dotted name, as copies of the arrays."""
        return OrderedDict((key, np.array(array, copy=True)) for key, array in self._state_arrays())

    def load_state_dict(self, state, strict: bool = True):
        """Copy arrays into the model, all or nothing: every name, shape and dtype is checked first.

        A state that does not fit raises and leaves the model as it was: StateKeysError (a ValueError, and a
        KeyError as before) for missing or unexpected names (strict=False skips both), ModelFileError (a
        ValueError) for a wrong shape or dtype, naming the first one. Values are copied into each
        parameter's own dtype, as PyTorch's load_state_dict does, when NumPy's "same_kind" cast allows it:
        float64 into a float32 model, float32 into float64, bool or integers into floats; complex numbers,
        text and objects are refused (casting them would drop the imaginary part, or is meaningless).
        """
        state = {key: np.asarray(value) for key, value in state.items()}
        self._check_fits({key: (value.shape, value.dtype) for key, value in state.items()}, strict)
        for key, _ in list(self._state_arrays()):
            if key in state:
                self._assign(key, state[key])

    def _check_fits(self, saved: dict, strict: bool = True):
        """Raise unless arrays of these {name: (shape, dtype)} fit the model (the one check for dicts and files)."""
        own = dict(self._state_arrays())
        missing = [key for key in own if key not in saved]
        unexpected = [key for key in saved if key not in own]
        if strict and (missing or unexpected):
            raise StateKeysError(
                f"the saved state does not fit {type(self).__name__}: missing {missing[:5]}, unexpected "
                f"{unexpected[:5]}; nothing was loaded (was it saved from another architecture?)"
            )
        for key, target in own.items():
            if key not in saved:
                continue
            shape, dtype = saved[key]
            if tuple(shape) != target.shape:
                raise ModelFileError(
                    f"'{key}' has shape {tuple(shape)} in the saved state but {target.shape} in the model; "
                    "nothing was loaded (was it saved from a model of another size?)"
                )
            if dtype.kind not in "biuf" or not np.can_cast(dtype, target.dtype, "same_kind"):
                raise ModelFileError(
                    f"'{key}' holds {dtype} in the saved state, which cannot be copied into the model's "
                    f"{target.dtype} (weights are real numbers); nothing was loaded"
                )

    def _assign(self, key: str, value: np.ndarray):
        *path, name = key.split(".")
        module = self
        for part in path:
            module = module._modules[part]
        if name in module._parameters:
            target = module._parameters[name]
            target.data = value.astype(target.data.dtype, copy=True)
        else:
            module.register_buffer(name, value.astype(np.asarray(getattr(module, name)).dtype, copy=True))

    def save(self, path):
        """Save the state as a .npz file (arrays only: nothing is pickled); returns the path written.

        ".npz" is added to a name without it, as np.savez does. The file is written under a temporary
        name and renamed into place, so an interrupted save never leaves half a model behind.
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        return write_npz(path, self.state_dict())

    def load(self, path):
        """Load a .npz written by save() into this model (of the same architecture); returns the model.

        All or nothing: the file's names, shapes and dtypes are read from the array headers and checked
        against the model before any array is decompressed, so a file that does not fit (or one that would
        unpack to gigabytes) is refused at once and the model is left as it was. Errors name the file:
        ModelFileError (a ValueError; StateKeysError for missing or unexpected names), or FileNotFoundError.
        """
        path = Path(path)
        arrays = read_npz(
            path,
            check=lambda headers: self._check_fits({key: (h.shape, h.dtype) for key, h in headers.items()}),
            limit=None,  # every array must match a parameter's shape: the model's own size bounds what is read
            remedy="save the model again",
        )
        self.load_state_dict(arrays)
        return self

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._modules.items():
            inner = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {inner}")
        return "\n".join(lines) + (")" if len(lines) == 1 else "\n)")

    def extra_repr(self) -> str:
        return ""

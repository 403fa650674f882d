"""CompiledStep: a training step run through gl.compile, falling back to the eager step when refused.

gl.compile traces a step once per combination of argument shapes, dtypes and plain values, then replays
the trace as straight-line NumPy. A trace runs the step for real, so when gl.compile refuses it midway the
model may already have moved; CompiledStep keeps the state before every call that may trace and puts it
back, so the trajectory is the eager one. Used by fit(compile=True) and the lab's training sessions.
"""

from __future__ import annotations

import numpy as np

from .. import autodiff as gl
from ..autodiff.compile import CompileError
from ..autodiff.compile.compiled import signature
from .module import Module

__all__ = ["CompiledStep"]


class CompiledStep:
    """step(*args) through gl.compile where the model allows, else as written (eagerly).

    A trace runs the step once for real, so a trace that gl.compile refuses may already have moved
    the weights, the optimizer's state, batch-norm statistics or a dropout generator. Before every call
    that may trace (a combination of argument shapes, dtypes, plain numbers and the training flag not yet
    replayed) the state of `model` and `optimizer` is kept; on a CompileError it is put back, the call
    runs eagerly, and so does every later one: the trajectory is the eager one. `compiled` says whether
    the compiled step is (still) in use, `reason` why not, `traces` how many traces gl.compile made.
    """

    def __init__(self, step, model: Module, optimizer=None, enabled: bool = True):
        self.step, self.model, self.optimizer = step, model, optimizer
        self.compiled_step = gl.compile(step) if enabled else None
        self.compiled = enabled
        self.reason = "" if enabled else "compile=False"
        self._seen: set = set()

    @property
    def traces(self) -> int:
        return 0 if self.compiled_step is None else self.compiled_step.traces

    def __call__(self, *args):
        if not self.compiled:
            return self.step(*args)
        key = (self.model.training, signature(args))  # gl.compile's own cache key, and the training flag
        saved = None if key in self._seen else self._save()
        traces = self.compiled_step.traces
        try:
            result = self.compiled_step(*args)
        except CompileError as error:
            if saved is None:  # a trace for a reason the key does not see: the state cannot be put back
                raise CompileError(f"{error} (this step was traced again mid-training; pass compile=False)") from None
            self._restore(saved)
            self.compiled, self.reason = False, f"gl.compile refused the step: {error}"
            return self.step(*args)
        if self.compiled_step.traces == traces:  # replayed: calls like this one no longer trace
            self._seen.add(key)
        return result

    def _save(self):
        generators = [
            (value, value.bit_generator.state)
            for _, module in self.model.named_modules()
            for value in vars(module).values()
            if isinstance(value, np.random.Generator)
        ]
        optimizer = None if self.optimizer is None else self.optimizer.state_dict()
        return self.model.state_dict(), optimizer, generators

    def _restore(self, saved):
        state, optimizer, generators = saved
        self.model.load_state_dict(state)
        if optimizer is not None:
            self.optimizer.load_state_dict(optimizer)
        for generator, position in generators:
            generator.bit_generator.state = position

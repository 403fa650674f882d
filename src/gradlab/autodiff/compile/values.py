"""What the tracer hands to user code in place of plain values, so that NumPy work done outside the
engine's ops is still seen: arrays that record the ufuncs and NumPy functions applied to them, numbers
(`.item()`) that refuse to steer Python's control flow, and random generators that record their draws.

    TracedArray       an ndarray subclass: ufuncs (g * 0.1, mask >= p, np.square(g)) and NumPy functions
                      (np.sum, np.where, ...) applied to it become lines of the compiled code
    TracedNumber      a float from `.item()` that maps to a value of the compiled code; bool() and
                      comparisons on it are refused (they would freeze one branch into the code)
    RecordingGenerator  a np.random.Generator stand-in: each draw is a line of the compiled code, so a
                      replay draws fresh numbers from the real generator

Outside a trace (a TracedArray that escaped into user state), each behaves as its plain counterpart.
"""

from __future__ import annotations

import numpy as np

from ..modes import this_thread

__all__ = ["CompileError", "RecordingGenerator", "TracedArray", "TracedNumber", "plain", "plain_deep"]


class CompileError(RuntimeError):
    """A step that gl.compile cannot turn into straight-line code; the message says what to change."""


def plain(value):
    """value as a plain ndarray view (or value itself when it is no TracedArray)."""
    return value.view(np.ndarray) if isinstance(value, TracedArray) else value


def plain_deep(value):
    """value with TracedArrays, TracedNumbers and Tensors (also inside lists and tuples) as plain values."""
    if isinstance(value, (list, tuple)):
        return type(value)(plain_deep(v) for v in value)
    if isinstance(value, TracedNumber):
        return float.__float__(value)
    if hasattr(value, "requires_grad") and hasattr(value, "data"):  # a Tensor
        return value.data
    return plain(value)


class TracedArray(np.ndarray):
    """An array whose NumPy operations the active tracer records (see the module docstring)."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        tracer = this_thread.switches.tracer
        if tracer is None:
            out = kwargs.get("out")
            if out is not None:
                kwargs["out"] = tuple(plain(o) for o in out)
            return getattr(ufunc, method)(*plain_deep(inputs), **kwargs)
        return tracer.numpy_call(getattr(ufunc, method), f"np.{ufunc.__name__}", method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        tracer = this_thread.switches.tracer
        if tracer is None:
            return func(*plain_deep(args), **kwargs)
        return tracer.numpy_call(func, f"np.{func.__name__}", "__call__", args, kwargs)

    def __bool__(self):
        if this_thread.switches.tracer is not None:
            refuse_value_flow("bool() of an array computed from the step's values")
        return bool(plain(self))

    def __float__(self):
        if this_thread.switches.tracer is not None:
            refuse_value_flow("float() of an array computed from the step's values")
        return float(plain(self))

    def _method(self, name, *args, **kwargs):
        tracer = this_thread.switches.tracer
        if tracer is None:
            return getattr(plain(self), name)(*args, **kwargs)
        return tracer.method_call(self, name, args, kwargs)

    # Methods that make new arrays without a ufunc: recorded one by one.
    def reshape(self, *args, **kwargs):
        return self._method("reshape", *args, **kwargs)

    def astype(self, *args, **kwargs):
        return self._method("astype", *args, **kwargs)

    def copy(self, *args, **kwargs):
        return self._method("copy", *args, **kwargs)

    def transpose(self, *args):
        return self._method("transpose", *args)

    @property
    def T(self):
        return self._method("transpose")

    def __getitem__(self, index):
        if this_thread.switches.tracer is None:
            return plain(self)[index]
        return self._method("__getitem__", index)

    def __setitem__(self, index, value):
        if this_thread.switches.tracer is not None:
            raise CompileError(
                "item assignment (a[i] = v) on an array computed from the step's values: write it with ops "
                "(gl.where, gl.scatter_add) so the compiled step can replay it"
            )
        plain(self)[index] = plain(value)

    def item(self, *args):
        tracer = this_thread.switches.tracer
        if tracer is None or args:
            return plain(self).item(*args)
        return tracer.item_of(plain(self))


def refuse_value_flow(what: str):
    raise CompileError(
        f"{what} inside gl.compile: Python control flow that depends on values (if loss < 1:, while ...) would "
        "be frozen into the compiled code at the branch the first call took. Compute both branches with "
        "gl.where(cond, a, b), move the decision out of the compiled step (the step may return the value, "
        "as a Tensor or .item()), or call the function without gl.compile."
    )


class TracedNumber(float):
    """A float from `.item()` during tracing: the step may return it (the replay returns the fresh value),
    but may not branch on it or compute with it in Python."""

    slot = None

    def __bool__(self):
        refuse_value_flow("bool() of a number from .item()")

    def _refuse(self, *other):
        refuse_value_flow("Python arithmetic or a comparison on a number from .item()")

    __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __neg__ = _refuse

    def __eq__(self, other):
        self._refuse()

    __hash__ = float.__hash__


class RecordingGenerator:
    """Stands in for a module's np.random.Generator while tracing: each draw is recorded as a call on
    the real generator (read from `owner.attribute` at replay), and returns a TracedArray."""

    def __init__(self, tracer, generator, owner, attribute: str):
        self._tracer, self._generator = tracer, generator
        self._owner, self._attribute = owner, attribute

    def __getattr__(self, name):
        method = getattr(self._generator, name)
        if not callable(method):
            return method

        def draw(*args, **kwargs):
            return self._tracer.random_draw(self, name, method, args, kwargs)

        return draw

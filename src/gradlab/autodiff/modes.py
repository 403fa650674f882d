"""The engine's switches, one set per thread: recording (no_grad, enable_grad), anomaly checks
(detect_anomaly) and keeping every value for drawing (keep_values); forward mode's levels live here
too (see forward_mode.py).

Each thread has its own switches, as PyTorch keeps grad mode per thread: a server can evaluate one
request inside no_grad() while another thread records and differentiates, and neither sees the
other's switches. A new thread starts with the defaults (recording on, everything else off).
"""

from __future__ import annotations

import copy
import functools
import os
import sys
import threading
import warnings

import numpy as np

__all__ = ["detect_anomaly", "enable_grad", "is_grad_enabled", "keep_values", "no_grad", "this_thread"]


class Switches:
    """One thread's switches.

    `watch_ops` is on when anomaly mode, keep_values(), forward mode or gl.compile's tracing is: every op reads that one
    flag, so the everyday path pays nothing for the features it does not use (`Function.apply`).
    Change a switch with `set`, which keeps `watch_ops` up to date.
    """

    __slots__ = ("anomaly", "grad_enabled", "keep_values", "levels", "tracer", "watch_ops")

    def __init__(self):
        self.grad_enabled = True
        self.anomaly = False
        self.keep_values = False
        self.levels = ()  # forward mode: the tangent levels pushed through every op (innermost last)
        self.tracer = None  # gl.compile's recorder during a compiled function's first call (compile/trace.py)
        self.watch_ops = False

    def set(self, name: str, value):
        """Set one switch and return its previous value."""
        previous = getattr(self, name)
        setattr(self, name, value)
        self.watch_ops = self.anomaly or self.keep_values or bool(self.levels) or self.tracer is not None
        return previous


class _PerThread(threading.local):
    def __init__(self):  # runs once in each thread that reads `this_thread`
        self.switches = Switches()


# `this_thread.switches` is the calling thread's Switches.
this_thread = _PerThread()


class _Setting:
    """Context manager (and decorator) that sets one switch of the calling thread for a while.

    One object serves one thread at a time, as `with no_grad():` makes a new one at each use (the
    decorator too, at each call).
    """

    def __init__(self, name: str, value):
        self.name, self.value = name, value
        self.previous = []

    def __enter__(self):
        self.previous.append(this_thread.switches.set(self.name, self.value))
        return self

    def __exit__(self, *exc):
        this_thread.switches.set(self.name, self.previous.pop())
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            setting = copy.copy(self)  # a fresh one per call: calls may run in several threads
            setting.previous = []
            with setting:
                return func(*args, **kwargs)

        return wrapper


class _GradMode(_Setting):
    """`_Setting` of grad_enabled, the switch most often set (every evaluation, every parameter
    update): it skips `Switches.set`, as grad mode does not change `watch_ops`."""

    def __enter__(self):
        switches = this_thread.switches
        self.previous.append(switches.grad_enabled)
        switches.grad_enabled = self.value
        return self

    def __exit__(self, *exc):
        this_thread.switches.grad_enabled = self.previous.pop()
        return False


def no_grad(func=None):
    """Inside `with no_grad():` nothing is recorded (evaluation, parameter updates).

    Also a decorator, with or without parentheses: @no_grad or @no_grad().
    """
    if func is not None:
        return _GradMode("grad_enabled", False)(func)
    return _GradMode("grad_enabled", False)


def enable_grad():
    """Inside `with enable_grad():` ops are recorded again, even within `no_grad()`."""
    return _GradMode("grad_enabled", True)


def is_grad_enabled() -> bool:
    return this_thread.switches.grad_enabled


class keep_values(_Setting):
    """Context manager: recorded ops keep every input and output, so `to_dot` can draw each value.

    Normally the tape keeps only what the derivative rules need (to save memory).
    """

    def __init__(self):
        super().__init__("keep_values", True)


# --- anomaly mode --------------------------------------------------------------------------------
class detect_anomaly(_Setting):
    """Context manager: raise at the first op whose value or gradient is NaN or infinite.

    The error names the op and the line of user code that created it. It costs a finiteness check
    per op, so it is meant for debugging, like `torch.autograd.detect_anomaly`.
    """

    def __init__(self):
        super().__init__("anomaly", True)


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_site() -> str:
    """`file:line` of the innermost frame outside the gradlab package (the user's own code)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def warn_if_not_finite(array, op_name: str):
    """Forward values may be NaN or Inf on purpose (the branch where() does not take), so anomaly
    mode only warns about them; a NaN or Inf gradient is an error."""
    if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        warnings.warn(
            f"detect_anomaly: op {op_name} produced NaN or Inf in its forward value (at {user_site()})",
            RuntimeWarning,
            stacklevel=4,
        )


def check_finite(value, op_name: str, what: str, site=None):
    """Raise FloatingPointError if `value` (an array, or a Tensor under create_graph) is not finite."""
    if hasattr(value, "requires_grad"):  # a Tensor: create_graph runs the rules on Tensors
        value = value.data
    array = np.asarray(value)
    if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        where = f" (op created at {site})" if site else f" (at {user_site()})"
        raise FloatingPointError(f"detect_anomaly: op {op_name} produced NaN or Inf in its {what}{where}")


def check_gradients(node, grads):
    """Anomaly mode: every gradient a node's rule sent back must be finite."""
    for g in grads:
        if g is not None:
            check_finite(g, node.name, "gradient (backward)", node.site)


def checked_sum(total, g, node):
    """total + g, in anomaly mode: a gradient whose every share is finite can still overflow as they
    are added up (y = x * x at x = 1e308 sends 1e308 to x twice). Blames the op whose share, g,
    tipped the sum over."""
    total = total + g
    what = "gradient (backward) once added to the other gradients its input got (each was finite, their sum is not)"
    check_finite(total, node.name, what, node.site)
    return total

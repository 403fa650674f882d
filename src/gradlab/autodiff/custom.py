"""User-defined derivative rules: `custom_vjp`.

custom_vjp, as in JAX:

    @gl.custom_vjp
    def clip_gradient(x):
        return x
    clip_gradient.defvjp(lambda x: (x, None), lambda saved, g: (np.clip(g, -1, 1),))

fwd(*xs) returns (output, saved values); bwd(saved, g) returns one gradient per input. bwd
receives arrays in an ordinary backward pass. When the backward pass is recorded (higher
derivatives), fwd is run again on the recorded inputs and bwd gets Tensors: written with
operators and gradlab ops, the rule can then be differentiated again. Forward mode needs a jvp rule, which such a
function does not have: using it there raises a clear error.
"""

from __future__ import annotations

import numpy as np

from .function import Function
from .ops._common import tensor
from .tensor import Tensor

__all__ = ["custom_vjp"]


class CustomVJP(Function):
    """y = fwd(x)[0] with the user's rule dL/dx = bwd(saved, g)."""

    __slots__ = ("rule",)
    save_output = False

    def forward(self, *xs, rule):
        self.rule = rule
        out, self.saved = rule.fwd(*xs)
        return np.asarray(out.data if isinstance(out, Tensor) else out)

    def vjp(self, g, y, *xs):
        saved = self.saved
        if isinstance(g, Tensor):  # recorded: rerun fwd on the traced inputs so the saved values carry the graph
            saved = self.rule.fwd(*xs)[1]
        grads = self.rule.bwd(saved, g)
        if not isinstance(grads, (tuple, list)) or len(grads) != len(self.needs):
            raise TypeError(
                f"the bwd rule of {self.rule.name} must return a tuple with one gradient per input "
                f"({len(self.needs)}), got {type(grads).__name__}"
            )
        return tuple(None if g_i is None else _like_input(g_i) for g_i in grads)

    def jvp(self, dxs, y, *xs):
        raise NotImplementedError(
            f"{self.rule.name} has a custom reverse rule (custom_vjp) but no forward rule, so it cannot be "
            "used in forward mode (jvp, jacfwd, hessian)"
        )


def _like_input(g):
    return g if isinstance(g, Tensor) else np.asarray(g)


class custom_vjp:
    """Wrap f so that its derivative comes from a rule you give with .defvjp(fwd, bwd)."""

    def __init__(self, fun):
        self.fun = fun
        self.name = getattr(fun, "__name__", "custom function")
        self.fwd = self.bwd = None
        self.__doc__ = fun.__doc__

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd
        return self

    def __call__(self, *args):
        if self.fwd is None:
            raise TypeError(f"{self.name}: call .defvjp(fwd, bwd) before using it")
        return CustomVJP.apply(*[tensor(a) for a in args], rule=self)

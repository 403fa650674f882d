"""Recording an op: the `Function` base class of every op, and the node it leaves on the tape.

An op such as `Exp` is a Function subclass with its forward code and its derivative rules side by
side (see ops/elementwise.py). `Exp.apply(x)` runs the forward code on x's array and, if x leads
to a gradient, records the op: an instance of `Exp` (a node of the graph) that remembers

    parents   where each input's gradient goes: the node that made the input, a leaf Tensor that
              requires grad, or None (a constant)
    needs     which inputs want a gradient at all (a rule may skip the others)
    xs, y     the arrays the rule reads (inputs and output; None where the rule reads nothing)
    seq       the clock's reading (versions.py): nodes are swept in reverse order of it

A node points to the nodes of its inputs, never to intermediate Tensors, so values nobody needs
are freed as soon as the user's code drops them. Throughout the engine, "node" means a recorded
op, "leaf" a Tensor that requires grad and was made by no op.
"""

from __future__ import annotations

import numpy as np

from . import forward_mode
from .modes import this_thread, user_site, warn_if_not_finite
from .tensor import Tensor
from .versions import clock

__all__ = ["Function", "ShapeError"]


class ShapeError(ValueError):
    """Shapes that an op cannot combine; the message names the op, the shapes and the caller's line."""


# What a node keeps of its arrays once a sweep that did not retain the graph has gone through it.
RELEASED = ("released",)


class Function:
    """Base class of every op: `forward` computes the value, `vjp` the reverse rule, `jvp` the forward one.

    Subclasses implement
        forward(self, *xs, **params) -> y                  (NumPy arrays in, array out)
        vjp(self, g, y, *xs) -> (dL/dx_0, dL/dx_1, ...)   (g = dL/dy; None where not needed)
        jvp(self, dxs, y, *xs) -> dy                        (forward mode; dxs[i] None if absent)
    and may read `self.needs[i]` to skip gradients that no input asked for.

    The tape keeps only what a rule reads: the inputs xs if `save_inputs`, the output y if
    `save_output` (otherwise the rule receives None). An op that needs only shapes stores them
    itself in `forward`.
    """

    # Set on every recorded op. Rarely used attributes live in __dict__ and default to the
    # class-level values below, so recording an op does not pay for them.
    __slots__ = ("__dict__", "needs", "parents", "saved", "seq", "xs", "y")
    hooks = None  # functions called with dL/dy (Tensor.register_hook, retain_grad on a non-leaf)
    site = None  # the user's line that recorded the op (only under detect_anomaly)
    saved_grad = None  # dL/dy kept after backward(retain_graph=True), for to_dot
    drawn = False  # recorded inside keep_values(): keep what to_dot shows
    inputs = None  # the input Tensors, kept only to draw the graph or for their tangents
    out = None  # the output Tensor, kept only in forward mode (see traced_output)
    save_inputs = True
    save_output = True
    registry: dict[str, type] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Function.registry[cls.__name__] = cls

    @classmethod
    def apply(cls, *inputs: Tensor, **params) -> Tensor:
        """Run the op on Tensors and, if any input leads to a gradient, record it on the tape."""
        node = cls.__new__(cls)
        node.saved = None
        xs, parents, needs = [], [], []
        for t in inputs:
            parent = t._node
            if parent is None and t.requires_grad:
                parent = t  # a leaf: its gradient goes to .grad
            xs.append(t.data)
            parents.append(parent)
            needs.append(parent is not None)
        try:
            y = node.forward(*xs, **params)
        except ValueError as error:
            raise _shape_error(cls.__name__, xs, error) from None
        if type(y) is not np.ndarray:
            y = np.asarray(y)
        switches = this_thread.switches
        if switches.grad_enabled and True in needs:
            node.parents = parents
            node.needs = needs
            node.xs = xs if cls.save_inputs else [None] * len(xs)
            node.y = y if cls.save_output else None
            node.seq = next(clock)
            out = Tensor._make(y, node)
        else:
            out = Tensor._make(y, None)
        if switches.watch_ops:
            _watch(node, inputs, out, switches, params)
        return out

    def forward(self, *xs, **params):
        raise NotImplementedError

    def vjp(self, g, y, *xs):
        raise NotImplementedError

    @property
    def name(self) -> str:
        return type(self).__name__

    def traced_inputs(self):
        """The inputs the rule reads, as Tensors on the tape (None where the rule reads nothing)."""
        if self.inputs is not None and type(self).save_inputs:
            return self.inputs
        traced = []
        for x, parent in zip(self.xs, self.parents):
            if x is None:
                traced.append(None)
            elif isinstance(parent, Tensor):
                traced.append(parent)  # a leaf
            else:
                traced.append(Tensor._make(x, parent))
        return traced

    def traced_output(self):
        """The op's output as a Tensor on the tape, for rules that are themselves recorded."""
        if self.out is not None:
            return self.out  # kept in forward mode: it carries the tangents
        return None if self.y is None else Tensor._make(self.y, self)


def _watch(node: Function, inputs, out: Tensor, switches, params):
    """What `Function.apply` does only in anomaly mode, inside keep_values(), in forward mode or while
    gl.compile traces a step (the tracer writes the op as a line of code)."""
    recorded = out._node is node
    if switches.anomaly:
        warn_if_not_finite(out.data, node.name)
        node.site = user_site()
    if recorded and (switches.keep_values or switches.levels):
        node.inputs = inputs  # to draw the graph, or to read the inputs' tangents
    if recorded and switches.keep_values:
        node.y = out.data
        node.drawn = True
    if switches.levels:
        forward_mode.push_tangents(node, inputs, out, switches)
    if switches.tracer is not None:
        switches.tracer.record_op(node, inputs, out, params)


def _shape_error(op_name, arrays, error):
    shapes = " and ".join(str(a.shape) for a in arrays)
    return ShapeError(
        f"{op_name} failed on inputs of shapes {shapes}: {error}; called at {user_site()}. "
        "Check the shapes (t.shape) and the axis arguments."
    )

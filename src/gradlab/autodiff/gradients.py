"""`gradients(y, xs)`: dy/dx for chosen values only, leaving every .grad alone (torch.autograd.grad).

The functional transforms (grad, vjp, jacobians) are built on it. Two things set it apart from
`backward()`:

- Pruning: before the sweep, a pass over the graph in recording order (graph.py's
  `recorded_order`, the order `gl.walk` shows) marks the nodes from which an asked-for value can
  be reached (`Targets.relevant`); the sweep sends nothing towards the others.
- Nesting: grad(grad(f)) runs a sweep inside a function that an outer sweep will differentiate.
  The inner sweep must then be recorded. `nested_gradients` decides that by itself: it records
  when the output depends on values recorded before the inner transform started (the clock's
  reading `start`), or on leaves other than the inputs, or when forward mode is on.
"""

from __future__ import annotations

import numpy as np

from . import forward_mode
from .backward import seed_gradient, sweep_from
from .function import Function
from .graph import reached, recorded_order
from .tensor import Tensor
from .versions import clock

__all__ = ["gradients", "nested_gradients", "next_sequence", "recorded_before"]


class Targets:
    """The values `gradients` asks about, and the recorded nodes that lie on a path to them.

    `wanted` maps each asked-for value (a leaf Tensor, or the node that made a non-leaf) to its
    positions among the inputs; `relevant` holds every node from which one of them can be reached.
    `outer` tells whether the output also depends on recorded values from before `start` (an
    enclosing trace) or on other leaves from before it: then the gradient must itself be recorded.
    """

    def __init__(self, root: Tensor, inputs, start: int = -1):
        self.wanted = {}
        for i, t in enumerate(inputs):
            self.wanted.setdefault(id(t._node if t._node is not None else t), []).append(i)
        self.keep_alive = list(inputs)  # ids stay valid while the inputs live
        self.found = [None] * len(inputs)
        self.relevant = set()
        self.outer = False
        if root._node is not None:
            self._mark(root._node, start)

    def _mark(self, root: Function, start: int):
        """A node is relevant if it is wanted or one of its inputs is: decided in the order the ops
        were recorded (graph.py's `recorded_order`), so each node's inputs are decided first."""
        wanted, relevant = self.wanted, self.relevant
        for node in recorded_order([root]):
            if node.seq < start:
                self.outer = True
            leads = id(node) in wanted
            for p in node.parents:
                if p is None:
                    continue
                if id(p) in relevant or id(p) in wanted:
                    leads = True
                elif not isinstance(p, Function) and p.seq < start:
                    self.outer = True  # a leaf from before: an enclosing computation's variable
            if leads:
                relevant.add(id(node))

    def leads_to(self, value) -> bool:
        """Whether the sweep should send a gradient to `value` (a node or a leaf)."""
        return id(value) in self.relevant or id(value) in self.wanted

    def beyond(self, node: Function) -> bool:
        """Whether another asked-for value lies below this one (so the sweep must go on)."""
        return any(p is not None and self.leads_to(p) for p in node.parents)

    def collect(self, value, g) -> bool:
        """Keep g as the gradient of `value` if it was asked for; say whether it was."""
        slots = self.wanted.get(id(value))
        if slots is None:
            return False
        for i in slots:
            self.found[i] = g
        return True


def gradients(output: Tensor, inputs, gradient=None, retain_graph: bool = False, create_graph=False, start: int = -1):
    """d(output)/d(input) for each of `inputs` (leaves or not), without touching any .grad.

    Like torch.autograd.grad. `gradient` is dL/d(output) (default 1 for a single number).
    create_graph=True records the sweep, so the results are Tensors that can be differentiated
    again. (create_graph=None is accepted as nested_gradients's automatic choice.) Inputs the
    output does not depend on get zeros.
    """
    inputs = _checked(inputs)
    targets = Targets(output, inputs, start)
    record = targets.outer if create_graph is None else bool(create_graph)
    return _gradients(output, targets, gradient, retain_graph, record)


def nested_gradients(output: Tensor, inputs, start: int, retain_graph: bool = False):
    """gradients(output, inputs) taken by a transform that began at clock reading `start`: the sweep
    is recorded when an enclosing transform is tracing the output (see the module's docstring)."""
    inputs = _checked(inputs)
    targets = Targets(output, inputs, start)
    return _gradients(output, targets, None, retain_graph, targets.outer)


def _checked(inputs) -> list:
    inputs = list(inputs)
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"gradients() needs Tensors as inputs, got {type(t).__name__}")
    return inputs


def _gradients(output: Tensor, targets: Targets, gradient, retain_graph: bool, record: bool):
    # In forward mode the rules must run on Tensors so the tangents ride along, but the sweep
    # only needs recording when something will differentiate it in reverse.
    tensors = record or forward_mode.active()
    if output.requires_grad:
        seed = seed_gradient(output, gradient, tensors)
        if output._node is None:
            targets.collect(output, seed)
        else:
            leaves, totals = sweep_from(output, seed, tensors, record, retain_graph or tensors, targets)
            for leaf in leaves:
                targets.collect(leaf, totals[id(leaf)])
    results = []
    returned = set()  # ids of the arrays given out: each result is an array of its own
    for t, g in zip(targets.keep_alive, targets.found):
        if g is None:
            g = np.zeros_like(t.data)
        if tensors and not isinstance(g, Tensor):
            g = Tensor._make(g, None)
        elif not tensors and isinstance(g, Tensor):
            g = g.data
        if isinstance(g, np.ndarray):
            if id(g) in returned:  # the same gradient reached two inputs (a + b): copy it for the second
                g = g.copy()
            returned.add(id(g))
        results.append(g)
    return results


def next_sequence() -> int:
    """The clock's reading now: ops recorded from now on get a larger `seq`."""
    return next(clock)


def recorded_before(values, start: int) -> bool:
    """Whether any of the Tensors depends on ops or leaves recorded before clock reading `start`:
    then an enclosing transform is tracing it (forward-mode nesting is told by the active levels)."""
    nodes = []
    for v in values:
        if isinstance(v, Tensor):
            if v._node is not None:
                nodes.append(v._node)
            elif v.requires_grad and v.seq < start:
                return True
    for node in reached(nodes):
        if node.seq < start:
            return True
        for p in node.parents:
            if p is not None and not isinstance(p, Function) and p.seq < start:
                return True
    return False

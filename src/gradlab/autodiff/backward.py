"""The reverse sweep: dL/d(every recorded value) from dL/dy at the output, by the chain rule.

    pop the newest node still waiting; its gradient g = dL/dy is complete
    apply its rule: dL/dx_i = vjp(g) for each input x_i
    add each dL/dx_i to what the input's parent has received so far

Nodes are visited newest first, from a heap. An op is always recorded after the ops that made its
inputs, so when a node comes off the heap every use of its output has already sent back its
share: no recursion (deep nets would hit Python's limit) and no separate topological sort.

What happens at a node (arrays or recorded Tensors, anomaly checks, keeping the graph, only
towards some values) is one rule chosen before the sweep starts (`choose_rule`); the loop in
`sweep` is the same for all of them.
"""

from __future__ import annotations

from heapq import heappop, heappush

import numpy as np

from . import versions
from .function import RELEASED, Function, ShapeError
from .modes import check_gradients, checked_sum, enable_grad, no_grad, this_thread
from .tensor import Tensor, to_array
from .versions import buffer_root


def add_share(total, g, node: Function):
    """total + g: how the sweep adds a node's share to what an input got before (see checked_sum)."""
    return total + g


def sweep(root: Function, seed, rule, add=add_share):
    """Send `seed` = dL/d(root's output) back through the graph; return the leaves reached and the
    totals (id(value) -> dL/d(value): after the sweep, only the leaves' are left).

    rule(node, g) returns one gradient per input (None where there is none); add(total, g, node)
    adds a share to a total (anomaly mode checks the sum).
    """
    totals = {id(root): seed}  # keyed by id(): a Tensor subclass may define __eq__
    leaves = []
    heap = [(-root.seq, root)]
    while heap:
        node = heappop(heap)[1]
        g = totals.pop(id(node))  # complete: every use of the node's output has sent its share
        for parent, share in zip(node.parents, rule(node, g)):
            if parent is None or share is None:
                continue
            key = id(parent)
            total = totals.get(key)
            if total is not None:  # another use of the parent's value already sent its share
                totals[key] = add(total, share, node)
            else:
                totals[key] = share
                if isinstance(parent, Function):
                    heappush(heap, (-parent.seq, parent))  # its turn comes once all its uses are swept
                else:
                    leaves.append(parent)
    return leaves, totals


# --- the rule -----------------------------------------------------------------------------------
def choose_rule(tensors: bool, keep_graph: bool, anomaly: bool, targets=None):
    """The rule for one sweep.

    tensors: the rule runs on Tensors, so the gradients are recorded (create_graph) or carry
    forward-mode tangents. keep_graph: leave the nodes' arrays for another sweep. anomaly: check
    every gradient. targets: only gradients towards those values (see gradients.py).
    """

    def rule(node: Function, g):
        if node.xs is RELEASED or node.seq < versions.last_change:
            check_usable(node)
        if node.hooks is not None:
            g = run_hooks(node.hooks, g)
        if targets is not None and targets.collect(node, g) and not targets.beyond(node):
            grads = ()
        elif tensors:
            grads = node.vjp(g, node.traced_output(), *node.traced_inputs())
        else:
            grads = node.vjp(g, node.y, *node.xs)
        if anomaly:
            check_gradients(node, grads)
        if targets is not None:
            grads = [
                gp if parent is not None and targets.leads_to(parent) else None
                for parent, gp in zip(node.parents, grads)
            ]
        if not keep_graph:  # free what the rule read: nobody can come through this node again
            node.xs = RELEASED
            node.y = node.saved = None
            if node.inputs is not None:  # kept to draw the graph, or for forward mode
                node.inputs = node.out = None
        elif node.drawn:
            node.saved_grad = g
        return grads

    return rule


def run_hooks(hooks, g):
    """Call each hook with the gradient; a hook that returns a value replaces it."""
    for hook in hooks:
        result = hook(g)
        if result is not None:
            g = result
    return g


class Retainer:
    """The hook behind retain_grad(): adds each sweep's gradient to the Tensor's own .grad."""

    def __init__(self, ref):
        self.ref = ref

    def __call__(self, g):
        t = self.ref()
        if t is not None:
            own = g.copy() if isinstance(g, np.ndarray) else g
            t.grad = own if t.grad is None else t.grad + own


class HookHandle:
    """What register_hook returns: handle.remove() takes the hook off again."""

    def __init__(self, hooks: list, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def check_usable(node: Function):
    """Raise if this node's rule cannot run: its arrays were freed by an earlier backward(), or an
    array it reads was changed in place after the node was recorded."""
    if node.xs is RELEASED:
        raise RuntimeError(
            f"backward through op {node.name} a second time: its saved values were freed by the "
            "first backward(). Call backward(retain_graph=True) the first time if you need to "
            "go through the same graph again, or recompute the forward pass."
        )
    saved = [(f"input {i}", x) for i, x in enumerate(node.xs) if x is not None]
    if node.y is not None:
        saved.append(("the output", node.y))
    for what, array in saved:
        if versions.changed_since(array, node.seq):
            raise RuntimeError(
                f"{what} of op {node.name} (shape {array.shape}) was modified in place after the op was "
                "recorded, and the op's gradient needs its old value. Make a copy before changing it "
                "(x = x + 1 instead of x += 1), or change it only after backward()."
            )


# --- Tensor.backward ---------------------------------------------------------------------------
def backward(output: Tensor, gradient=None, retain_graph: bool = False, create_graph: bool = False):
    """What `output.backward(...)` does: fill each leaf's .grad with d(output)/d(leaf) · gradient."""
    tracer = this_thread.switches.tracer
    if tracer is not None:  # gl.compile's first call: the sweep is recorded as code, then runs as always
        return tracer.backward(output, gradient, retain_graph, create_graph, run_backward)
    run_backward(output, gradient, retain_graph, create_graph)


def run_backward(output: Tensor, gradient=None, retain_graph: bool = False, create_graph: bool = False):
    """`backward` itself: seed the sweep and hand each leaf its gradient."""
    if not output.requires_grad:
        raise RuntimeError(
            "backward() on a Tensor that does not require grad: no input of the computation "
            "had requires_grad=True (or it was computed inside no_grad())"
        )
    tensors = create_graph or bool(this_thread.switches.levels)  # in forward mode, tangents ride along
    seed = seed_gradient(output, gradient, tensors)
    if output._node is None:
        hand_over([output], {id(output): seed}, seed)
        return
    leaves, totals = sweep_from(output, seed, tensors, record=tensors, keep_graph=retain_graph or tensors)
    hand_over(leaves, totals, seed)


def sweep_from(output: Tensor, seed, tensors: bool, record: bool, keep_graph: bool, targets=None):
    """The sweep from a non-leaf output, with the rule its caller's wishes and the thread's switches ask for.

    tensors: the rules run on Tensors; record: and their ops are recorded (create_graph), else
    only forward-mode tangents ride along. keep_graph, targets: see `choose_rule`.
    """
    switches = this_thread.switches
    if switches.tracer is not None:
        switches.tracer.check_sweep()  # gl.compile records sweeps of backward() only
    anomaly = switches.anomaly
    rule = choose_rule(tensors, keep_graph, anomaly, targets)
    add = checked_sum if anomaly else add_share
    if not tensors:
        return sweep(output._node, seed, rule, add)
    with enable_grad() if record else no_grad():  # a recorded sweep records the rules' ops
        return sweep(output._node, seed, rule, add)


def seed_gradient(output: Tensor, gradient, tensors: bool):
    """dL/d(output) to start a sweep with: 1 for a single number, else the given array or Tensor
    (as a Tensor if the sweep runs on Tensors, else as an array)."""
    data = output.data
    if gradient is None:
        if data.size != 1:
            raise RuntimeError(
                f"backward() without a gradient needs a one-element result, this one has shape "
                f"{output.shape}; reduce it first (y.sum()) or pass backward(gradient=...) of that shape"
            )
        gradient = np.array(1, dtype=data.dtype) if data.ndim == 0 else np.ones_like(data)
    elif not isinstance(gradient, Tensor):
        gradient = to_array(gradient)
    if gradient.shape != data.shape:
        raise ShapeError(f"the gradient of the output needs shape {data.shape}, got {gradient.shape}")
    if gradient.dtype != data.dtype:
        gradient = gradient.astype(data.dtype)
    if tensors:
        return gradient if isinstance(gradient, Tensor) else Tensor._make(gradient, None)
    return gradient.data if isinstance(gradient, Tensor) else gradient


def hand_over(leaves, totals: dict, seed):
    """Give each leaf what one sweep sent it, summed (`totals[id(leaf)]`), adding to its .grad.

    The sweep sums first and hands over once at the end, so hooks see each leaf's total once.
    Every .grad is an array of its leaf's own, in its dtype: a gradient that reached two leaves
    (x + y), or came from the caller as the seed, is copied for the second.
    """
    taken = {id(buffer_root(seed))} if isinstance(seed, np.ndarray) else set()
    for leaf in leaves:
        g = totals[id(leaf)]
        if leaf._hooks is not None:
            g = run_hooks(leaf._hooks, g)
        if not isinstance(g, Tensor):
            g = _own_array(g, leaf.data, taken)
        leaf.grad = g if leaf.grad is None else leaf.grad + g


def _own_array(g, data: np.ndarray, taken: set) -> np.ndarray:
    """g as a writable array of data's dtype that no other leaf's .grad (nor the seed) shares."""
    if type(g) is not np.ndarray:
        g = np.asarray(g)  # NumPy gives scalars for 0-d arithmetic
    if g.shape != data.shape:
        raise RuntimeError(f"internal error: a gradient of shape {g.shape} arrived for a leaf of shape {data.shape}")
    if g.dtype != data.dtype and data.dtype.kind == "f":
        g = g.astype(data.dtype)
    if g.base is None and id(g) not in taken:  # a fresh array that a rule just made: the everyday case
        taken.add(id(g))
        return g
    root = buffer_root(g)
    if id(root) in taken or not g.flags.writeable:
        g = root = g.copy()
    taken.add(id(root))
    return g

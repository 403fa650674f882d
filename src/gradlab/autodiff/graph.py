"""Reading a recorded graph: `walk(y)`, the one public view of the tape, and `to_dot`, drawn with it.

`walk(y)` lists the ops that computed y, each as a small read-only `Node`: its name, its value, the
gradient that reached it, its inputs and its local derivatives. Everything that reads a graph
(`to_dot` below, the lab's graph view, the symbolic bridge) reads it through `walk`, never through
the tape's private attributes; the pruning of `gradients()` shares its order of visit (`reached`).

`to_dot` draws the same graph as Graphviz DOT text, for teaching the chain rule: each value is a
box showing the value and, after backward(retain_graph=True), its gradient dL/dvalue; each op is
an ellipse between its inputs and its output. Record inside `gl.keep_values()` to see every
intermediate value and the constants (the tape normally keeps only what the derivative rules
need). Render with `dot -Tsvg graph.dot -o graph.svg`.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from .function import RELEASED, Function
from .tensor import Tensor

__all__ = ["Node", "to_dot", "walk"]


# --- the walk ------------------------------------------------------------------------------------
def reached(outputs):
    """Every recorded op that one of `outputs` (nodes) was computed from, each once, depth first
    from the outputs: an op, then its inputs' ops (the last input's first). No recursion, so a
    graph thousands of ops deep is fine."""
    stack, seen = list(outputs)[::-1], set()
    while stack:
        node = stack.pop()
        key = id(node)
        if key in seen:
            continue
        seen.add(key)
        yield node
        for parent in node.parents:
            if isinstance(parent, Function) and id(parent) not in seen:
                stack.append(parent)  # the node that made this input (not a leaf, not a constant)


def recorded_order(outputs) -> list:
    """The ops of `reached(outputs)` in the order they were recorded: every op after the ops that
    made its inputs (a topological order; the clock's reading `seq` gives it)."""
    return sorted(reached(outputs), key=_by_seq)


_by_seq = attrgetter("seq")


@dataclass(frozen=True, eq=False, slots=True)
class Node:
    """One recorded op of a graph, as `walk` shows it (read-only).

    name     the op: "Mul", "Sin", "Matmul", ...
    index    its place in the order of recording among the walked ops: 0, 1, 2, ...
    value    its output y (an array), or None if the tape did not keep it
    grad     dL/dy, the gradient that reached it, or None: known only for ops recorded inside
             gl.keep_values() and swept by backward(retain_graph=True)
    inputs   one entry per argument of the op: the Node that made it, a leaf Tensor (requires_grad,
             its gradient is its .grad), a constant Tensor (kept only inside keep_values), or None
             (a constant that was not kept)

    Nodes compare and hash by identity, so they can key a dict.
    """

    name: str
    index: int
    value: np.ndarray | None
    grad: object
    inputs: tuple
    _op: Function

    def __repr__(self):  # short: a Node's inputs are Nodes, so the default would print the whole graph
        def short(x):
            if isinstance(x, Node):
                return f"{x.name} #{x.index}"
            if isinstance(x, Tensor):
                return x.name or ("leaf" if x.requires_grad else "constant")
            return "constant"

        inputs = ", ".join(short(x) for x in self.inputs)
        value, grad = _summary(self.value), _summary(self.grad)
        return f"Node({self.name} #{self.index}, value {value}, grad {grad}, inputs ({inputs}))"

    def local_derivatives(self) -> tuple:
        """∂y/∂x_i for each input x_i, at the recorded values: the op's reverse rule (vjp) applied
        to dL/dy = 1. For arrays that is Σ_j ∂y_j/∂x_i, the sum over the output's entries.

        None where the rule skips an input that needs no gradient (a constant). Needs the values
        the rule reads: record inside gl.keep_values(), and sweep with backward(retain_graph=True).
        """
        op = self._op
        if op.xs is RELEASED:
            raise RuntimeError(
                f"the values of op {self.name} were freed by backward(); call backward(retain_graph=True) to keep them"
            )
        if self.value is None:
            raise ValueError(f"the output of op {self.name} was not kept; record inside gl.keep_values()")
        return tuple(op.vjp(np.ones_like(self.value), self.value, *op.xs))


def walk(y: Tensor, order: str = "recorded") -> list[Node]:
    """The recorded ops that computed `y`, each a read-only `Node` (see its fields).

    order="recorded" (the default): in the order the ops ran, so every node comes after the
    nodes of its inputs (a topological order) and y's own op comes last.
    order="from_output": depth first from y's op towards the inputs (the last argument's branch
    first), the order in which `to_dot` and the lab name the nodes.

    A leaf or a constant was computed by no op: its walk is empty.

    Example, y = sin(x·x) at x = 3:

        with gl.keep_values():                    # keep every value, to look at them
            x = gl.Tensor(3.0, requires_grad=True, name="x")
            y = gl.sin(x * x)
        y.backward(retain_graph=True)             # keep the gradients too
        for node in gl.walk(y):
            print(node.name, node.value, node.grad, node.local_derivatives())

        Mul 9.0 -0.911  (3.0, 3.0)    u = x·x: ∂u/∂x = x, once for each of its two inputs
        Sin 0.412 1.0   (-0.911,)     y = sin(u): ∂y/∂u = cos(u) = cos(9)

    The chain rule, one node at a time: dL/du = dL/dy · ∂y/∂u = 1.0 · (-0.911), and x, used
    twice, gets both shares: x.grad = -0.911 · 3.0 + (-0.911) · 3.0 = -5.47.
    """
    if not isinstance(y, Tensor):
        raise TypeError(f"walk() needs a Tensor, got {type(y).__name__}")
    if y._node is None:
        return []
    ops = recorded_order([y._node])
    nodes: dict[int, Node] = {}
    for index, op in enumerate(ops):
        inputs = []
        for i, parent in enumerate(op.parents):
            if isinstance(parent, Function):
                inputs.append(nodes[id(parent)])
            elif parent is not None:
                inputs.append(parent)  # a leaf
            else:
                inputs.append(None if op.inputs is None else op.inputs[i])  # a constant
        value = y.data if op is y._node else op.y
        nodes[id(op)] = Node(op.name, index, value, op.saved_grad, tuple(inputs), op)
    if order == "recorded":
        return list(nodes.values())
    if order == "from_output":
        return [nodes[id(op)] for op in reached([y._node])]
    raise ValueError(f'order must be "recorded" or "from_output", got {order!r}')


# --- drawing -------------------------------------------------------------------------------------
def _summary(array) -> str:
    if array is None:
        return "not kept"
    array = np.asarray(array)
    if array.size <= 4:
        return np.array2string(array, precision=4, separator=", ").replace("\n", "")
    return f"shape {array.shape}, mean {array.mean():.4g}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _box(name, label_parts, colour):
    label = "\\n".join(_escape(p) for p in label_parts)
    return f'  {name} [shape=box, style=filled, fillcolor={colour}, label="{label}"];'


def to_dot(root: Tensor, max_nodes: int = 500) -> str:
    """DOT text of the graph that produced `root` (values, and gradients where known).

    Light blue boxes are leaves that require a gradient, white boxes constants, yellow boxes
    values computed by an op.
    """
    lines = ["digraph gradlab {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    names: dict[int, str] = {}

    def name_of(obj) -> str:
        if id(obj) not in names:
            names[id(obj)] = f"n{len(names)}"
        return names[id(obj)]

    if root._node is None:
        lines.append(_box(name_of(root), [f"value {_summary(root.data)}"], "lightblue"))
        return "\n".join([*lines, "}"])

    for count, node in enumerate(walk(root, order="from_output")):
        if count >= max_nodes:
            lines.append(f'  cut [label="graph cut at {max_nodes} ops", shape=plaintext];')
            break
        out, op = name_of(node), f"op_{name_of(node)}"
        lines.append(_box(out, [f"value {_summary(node.value)}", f"grad {_summary(node.grad)}"], "lightyellow"))
        lines.append(f'  {op} [shape=ellipse, label="{node.name}"];')
        lines.append(f"  {op} -> {out};")
        for x in node.inputs:
            if x is None:
                continue  # a constant that was not kept
            if isinstance(x, Tensor) and not x.requires_grad:
                lines.append(_box(name_of(x), [f"constant {_summary(x.data)}"], "white"))
            elif isinstance(x, Tensor) and id(x) not in names:
                parts = [x.name] if x.name else []
                parts += [f"value {_summary(x.data)}", f"grad {_summary(x.grad)}"]
                lines.append(_box(name_of(x), parts, "lightblue"))
            lines.append(f"  {name_of(x)} -> {op};")
    lines.append("}")
    return "\n".join(lines)

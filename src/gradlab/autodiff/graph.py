"""`to_dot`: the recorded computation as Graphviz DOT text, for teaching the chain rule.

Each value is a box showing the value and, after backward(retain_graph=True), its gradient
dL/dvalue; each op is an ellipse between its inputs and its output. Record inside
`gl.keep_values()` to see every intermediate value and the constants (the tape normally keeps
only what the derivative rules need). Render with `dot -Tsvg graph.dot -o graph.svg`.
"""

from __future__ import annotations

import numpy as np

from .function import Function
from .tensor import Tensor

__all__ = ["to_dot"]


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

    stack, seen = [root._node], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        if len(seen) >= max_nodes:
            lines.append(f'  cut [label="graph cut at {max_nodes} ops", shape=plaintext];')
            break
        seen.add(id(node))
        out, op = name_of(node), f"op_{name_of(node)}"
        value = root.data if node is root._node else node.y
        grad = _summary(node.saved_grad)
        lines.append(_box(out, [f"value {_summary(value)}", f"grad {grad}"], "lightyellow"))
        lines.append(f'  {op} [shape=ellipse, label="{node.name}"];')
        lines.append(f"  {op} -> {out};")
        for i, parent in enumerate(node.parents):
            if isinstance(parent, Function):
                stack.append(parent)
                lines.append(f"  {name_of(parent)} -> {op};")
            elif isinstance(parent, Tensor):
                if id(parent) not in names:
                    parts = [parent.name] if parent.name else []
                    parts += [f"value {_summary(parent.data)}", f"grad {_summary(parent.grad)}"]
                    lines.append(_box(name_of(parent), parts, "lightblue"))
                lines.append(f"  {name_of(parent)} -> {op};")
            elif node.inputs is not None:
                constant = node.inputs[i]
                lines.append(_box(name_of(constant), [f"constant {_summary(constant.data)}"], "white"))
                lines.append(f"  {name_of(constant)} -> {op};")
    lines.append("}")
    return "\n".join(lines)

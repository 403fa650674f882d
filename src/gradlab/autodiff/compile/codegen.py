"""From a recorded Program to Python source, one line per op, and from the source to a function.

The source is what runs: it is compiled with `compile()` and executed into a namespace that holds
the captured objects (parameters, modules, optimizers, constants) under the names the source uses.
Each value is deleted right after its last use (`del`), as the eager sweep frees the tape node by
node, so a compiled step holds no more memory than an eager one.
"""

from __future__ import annotations

import re

import numpy as np

from ..ops._common import unbroadcast
from ..ops.either import sigmoid
from ..tensor import Tensor
from ..versions import note_change
from .program import Literal, Slot
from .templates import generic_forward, literal, render_argument

__all__ = ["arg_code", "generate"]

_OPERATORS = {
    "add": "+",
    "subtract": "-",
    "multiply": "*",
    "true_divide": "/",
    "divide": "/",
    "power": "**",
    "matmul": "@",
    "greater": ">",
    "greater_equal": ">=",
    "less": "<",
    "less_equal": "<=",
    "equal": "==",
    "not_equal": "!=",
}


def fresh(cls, needs):
    """A new op object of class `cls` for one replayed call, as Function.apply makes one."""
    node = cls.__new__(cls)
    node.saved = None
    node.needs = needs
    return node


class Names:
    """Unique, readable names for the slots and the captured objects."""

    def __init__(self, namespace: dict):
        self.of: dict[int, str] = {}
        self.taken: set = set(namespace)
        self.namespace = namespace

    def new(self, hint: str) -> str:
        base = re.sub(r"\W", "_", hint) or "v"
        if base[0].isdigit():
            base = f"v{base}"
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = f"{base}{k}"
        self.taken.add(name)
        return name

    def __call__(self, slot: Slot) -> str:
        name = self.of.get(slot.index)
        if name is None:
            if slot.kind == "const":  # one name per captured array, however often it was met
                name = self.capture(slot.ref, slot.hint)
            elif isinstance(slot.hint, Slot):  # a gradient: named after its value
                name = self.new(f"g_{self(slot.hint)}")
            else:
                name = self.new(slot.hint)
            self.of[slot.index] = name
        return name

    def capture(self, obj, hint: str) -> str:
        key = ("object", id(obj))
        name = self.of.get(key)
        if name is None:
            name = self.of[key] = self.new(hint)
            self.namespace[name] = obj
        return name


def generate(program, needed: set, n_args: int, function_name: str = "compiled_step"):
    """(source, function) of the live events of `program`."""
    namespace = {"np": np, "Tensor": Tensor, "unbroadcast": unbroadcast, "sigmoid": sigmoid, "fresh": fresh}
    namespace["note_change"] = note_change
    events = program.live_events(needed)
    for event in events:
        if event.kind == "op" and event.info["template"] is None:
            namespace[event.info["cls"].__name__] = event.info["cls"]
    names = Names(namespace)
    args = [f"a{i}" for i in range(n_args)]
    names.taken.update(args)
    lines = [f"def {function_name}({', '.join(args)}):"]
    used = {s.index for event in events for s in event.uses} | set(needed)
    lines += _prologue(program, names, used)
    last_use = {}
    for k, event in enumerate(events):
        for s in event.uses:
            last_use[s.index] = k
    section = None
    for k, event in enumerate(events):
        heading = _SECTIONS.get(event.kind)
        if heading and heading != section:
            section = heading
            lines.append(f"    # --- {heading} ---")
        code, comment = _line(event, names)
        lines.append(f"    {code}" + (f"   # {comment}" if comment else ""))
        dead = [
            names(s)
            for s in [*event.uses, *event.defines]
            if s.kind in ("value", "node", "number") and last_use.get(s.index, -1) <= k and s.index not in needed
        ]
        dead = sorted(set(dead))
        if dead:
            lines.append(f"    del {', '.join(dead)}")
    lines.append(f"    return {_render_output(program.outputs, names)}")
    source = "\n".join(lines) + "\n"
    code = compile(source, f"<gl.compile {function_name}>", "exec")
    exec(code, namespace)
    return source, namespace[function_name]


_SECTIONS = {
    "op": "forward",
    "draw": "forward",
    "vjp": "backward: the chain rule, newest op first",
    "add": "backward: the chain rule, newest op first",
    "handover": "gradients into .grad",
    "step": "optimizer: parameters updated in place",
}


def _prologue(program, names, used) -> list[str]:
    lines = ["    # --- inputs and parameters ---"]
    for slot in program.slots:
        if slot.index not in used:
            continue
        if slot.kind == "input":
            path, is_tensor = slot.ref
            lines.append(
                f"    {names(slot)} = {arg_code(path)}{'.data' if is_tensor else ''}   # argument, {_shape(slot)}"
            )
        elif slot.kind == "leaf":
            leaf = slot.ref
            owner = _leaf_owner(leaf, names)
            lines.append(f"    {names(slot)} = {owner}.data   # parameter {leaf.hint}, {_shape(slot)}")
        elif slot.kind == "state":
            module, attribute = slot.ref
            owner = names.capture(module, type(module).__name__.lower())
            lines.append(f"    {names(slot)} = {owner}.{attribute}   # buffer, {_shape(slot)}")
    return lines


def arg_code(path) -> str:
    return f"a{path[0]}" + "".join(f"[{p!r}]" for p in path[1:])


def _leaf_owner(leaf, names) -> str:
    """The code that reads a leaf Tensor: its argument, or the captured parameter."""
    if leaf.arg_path is not None:
        return arg_code(leaf.arg_path)
    return names.capture(leaf.tensor, f"P_{leaf.hint}")


def _shape(slot) -> str:
    return f"{slot.shape} {slot.dtype}" if slot.shape is not None else ""


def _line(event, n) -> tuple[str, str]:
    info, kind = event.info, event.kind
    if kind == "op":
        if info["template"] is not None:
            return info["template"].forward(n, event)
        return generic_forward(n, event)
    if kind == "vjp":
        if "render" in info:
            expr, comment = info["render"](n)
            return f"{n(event.defines[0])} = {expr}", comment
        return _generic_vjp(event, n)
    if kind == "add":
        a, b = event.uses
        return f"{n(event.defines[0])} = {n(a)} + {n(b)}", "a value used twice: the gradients of its uses add up"
    if kind == "numpy":
        return _numpy_line(event, n)
    if kind == "method":
        return _method_line(event, n), "the step's own NumPy code"
    if kind == "draw":
        args = _call_args(n, info["args"], info["kwargs"])
        owner = n(event.uses[0])
        return f"{n(event.defines[0])} = {owner}.{info['attribute']}.{info['name']}({args})", "a fresh random draw"
    if kind == "handover":
        g, leaf_slot = event.uses
        owner = _leaf_owner(leaf_slot.ref, n)
        grad, share = n(event.defines[0]), n(g) + (".copy()" if info["copy"] else "")
        dtype = leaf_slot.dtype
        if dtype is not None and dtype.kind == "f" and dtype != np.float64:  # as backward() does: the leaf's dtype
            share = f"{n(g)}.astype(np.{dtype.name}, copy={info['copy']})"
        held = info["held"]
        if held is None:
            return f"{owner}.grad = {grad} = {share}", f"∂L/∂{leaf_slot.ref.hint} into .grad"
        added = f"{owner}.grad" if held == "entry" else n(held)
        return (
            f"{owner}.grad = {grad} = {added} + {share}",
            f"∂L/∂{leaf_slot.ref.hint} added to .grad, as backward() does",
        )
    if kind == "step":
        return _step_line(event, n)
    if kind == "setgrad":
        owner = _leaf_owner(info["leaf"], n)
        value = n(event.uses[0]) if event.uses else "None"
        return f"{owner}.grad = {value}", ".grad as the step left it"
    if kind == "item":
        return f"{n(event.defines[0])} = {n(event.uses[0])}.item()", ""
    raise AssertionError(f"unknown event {kind}")


def _generic_vjp(event, n) -> tuple[str, str]:
    info = event.info
    op = info["op"]
    cls = op.info["cls"]
    y = n(op.defines[0]) if cls.save_output else "None"
    xs = [n(s) if cls.save_inputs else "None" for s in op.info["inputs"]]
    call = f"{n(op.info['node_slot'])}.vjp({n(info['g'])}, {', '.join([y, *xs])})"
    targets = [n(s) if s is not None else "_" for s in info["shares"]]
    names = ", ".join(n(s) for s in op.info["inputs"])
    comment = f"∂L/∂({names}) from ∂L/∂{n(op.defines[0])}   ({cls.__name__}'s vjp)"
    if len(targets) == 1:
        return f"{targets[0]} = {call}[0]", comment
    return f"{', '.join(targets)} = {call}", comment


def _call_args(n, args, kwargs) -> str:
    parts = [render_argument(n, a) for a in args]
    parts += [f"{k}={render_argument(n, v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def _numpy_line(event, n) -> tuple[str, str]:
    info = event.info
    func, method = info["func"], info.get("method", "__call__")
    if func == "astype":
        return f"{n(event.defines[0])} = {n(event.uses[0])}.astype({literal(info['args'][0])})", "a cast copy"
    args = info["args"]
    short = func.split(".")[-1]
    out = info.get("out")
    if out is not None:
        target = n(out[0])
        if method == "__call__" and short in _OPERATORS and len(args) == 2 and args[0] is out[0] and not info["kwargs"]:
            return f"{target} {_OPERATORS[short]}= {render_argument(n, args[1])}", "in place"
        call = _call_args(n, args, {**info["kwargs"], "out": Literal(None)}).replace("out=None", f"out={target}")
        return f"{func}{'' if method == '__call__' else '.' + method}({call})", "in place"
    target = n(event.defines[0])
    if method == "__call__" and short in _OPERATORS and len(args) == 2 and not info["kwargs"]:
        a, b = (render_argument(n, x) for x in args)
        return f"{target} = {a} {_OPERATORS[short]} {b}", "the step's own NumPy code"
    call = _call_args(n, args, info["kwargs"])
    return f"{target} = {func}{'' if method == '__call__' else '.' + method}({call})", "the step's own NumPy code"


def _method_line(event, n) -> str:
    info = event.info
    this, name, target = n(info["this"]), info["name"], n(event.defines[0])
    if name == "__getitem__":
        return f"{target} = {this}[{render_argument(n, info['args'][0])}]"
    if name == "transpose" and not info["args"]:
        return f"{target} = {this}.T"
    return f"{target} = {this}.{name}({_call_args(n, info['args'], info['kwargs'])})"


def _step_line(event, n) -> tuple[str, str]:
    info = event.info
    leaf_slot, g = event.uses
    opt = n.capture(info["opt"], f"{type(info['opt']).__name__.lower()}")
    group = n.capture(info["group"], f"{opt}_group")
    theta, grad = n(leaf_slot), n(g)
    if info["plain_sgd"]:
        code = f"{theta} -= {group}['lr'] * {grad}"
        comment = f"θ ← θ - η ∂L/∂θ   (SGD on {leaf_slot.ref.hint})"
    else:
        key = id(leaf_slot.ref.tensor) if leaf_slot.ref.arg_path is None else f"id({_leaf_owner(leaf_slot.ref, n)})"
        state = f"{opt}.state.setdefault({key}, {{}})"
        code = f"{theta} -= {opt}.update({theta}, {grad}, {state}, {group}).astype({theta}.dtype, copy=False)"
        comment = f"θ ← θ - step   ({type(info['opt']).__name__}.update on {leaf_slot.ref.hint})"
    return f"{code}; note_change({theta})", comment


def _render_output(outputs, n) -> str:
    structure, values = outputs
    rendered = iter([_render_value(kind, value, n) for kind, value in values])
    return _render_structure(structure, rendered)


def _render_value(kind, value, n) -> str:
    if kind == "tensor":
        return f"Tensor._make({n(value)}, None)"
    if kind in ("array", "number"):
        return n(value)
    if kind == "literal":
        return literal(value)
    return n.capture(value, "result")


def _render_structure(structure, values) -> str:
    if structure is None:
        return next(values)
    kind, children = structure
    if kind is dict:
        return "{" + ", ".join(f"{key!r}: {_render_structure(child, values)}" for key, child in children) + "}"
    items = [_render_structure(child, values) for child in children]
    if kind is tuple:
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    return "[" + ", ".join(items) + "]"

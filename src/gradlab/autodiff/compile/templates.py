"""How one op is written as code: its forward line and, per input, its chain-rule line.

A template writes the op as plain NumPy (`h1 = x @ W1; h1 += b1`), and its reverse rule per input
with the chain-rule step it computes (`g_x = g_h1 @ W1.T   # ∂L/∂x = ∂L/∂h1 · W1ᵀ`). Each template
computes exactly what the op's own forward and vjp compute (the registry test checks this to 1e-12).
An op without a template, or in a case its template does not cover (a batched matmul), is written
generically: the line makes the op object, calls its forward, and the backward line calls its vjp,
so every op of the registry compiles.

    render(n) -> (code, comment)   n(slot) is the slot's name in the code
"""

from __future__ import annotations

import string

import numpy as np

from ..ops._common import _constant, cached_zeros

__all__ = ["TEMPLATES", "emit_vjp", "hint"]


def hint(cls) -> str:
    """A short name for the values an op makes: Linear -> linear."""
    return cls.__name__.lower()


class Template:
    """One op as code. Subclasses set `fwd` (a format string over a, b, ... and y) and `grads`
    (per input: a format string over g, y, a, b, ... and the comment's chain-rule step)."""

    fwd = ""
    grads: tuple = ()  # per input: (code, chain rule)
    broadcasts = False  # an element-wise op with broadcasting: gradients are summed back to each input's shape

    def fits(self, node, xs, params) -> bool:
        return not params

    def prepare(self, program, event):
        """Constants the lines need (created once, at trace time): added to event.info['consts']."""

    def names(self, n, event, g=None):
        inputs = event.info["inputs"]
        names = {k: n(s) for k, s in zip("abcd", inputs)}
        names.update({k: n(s) for k, s in event.info.get("consts", {}).items()})
        names["y"] = n(event.defines[0])
        if g is not None:
            names["g"] = n(g)
        return names

    def forward(self, n, event):
        names = self.names(n, event)
        return self.fwd.format(**names), f"{event.info['cls'].__name__}: {_first_line(event.info['cls'])}"

    def grad(self, program, event, i, g):
        """(render, extra slots used) for dL/d(input i)."""
        code, rule = self.grads[i]
        shapes, out_shape = event.info["shapes"], event.info["out_shape"]
        broadcast = self.broadcasts or (i == 2 and isinstance(self, Linear))  # Linear's bias: summed over rows
        ones = _sum_rows_constant(program, event, out_shape, shapes[i]) if broadcast else None
        # the values the line reads: only these are kept alive for it (as the tape keeps only what a rule reads)
        fields = {field for _, field, _, _ in string.Formatter().parse(code) if field}
        slots = dict(zip("abcd", event.info["inputs"]), y=event.defines[0], **event.info.get("consts", {}))
        extra = [slots[f] for f in sorted(fields) if f in slots] + ([ones] if ones is not None else [])

        def render(n):
            names = self.names(n, event, g)
            expr = code.format(**names)
            if broadcast:
                expr = _unbroadcast(expr, out_shape, shapes[i], n(ones) if ones is not None else None)
            step = rule.format(**{k: _maths(v) for k, v in names.items()})
            return expr, f"{step}   ({event.info['cls'].__name__}'s vjp)"

        return render, extra


def _first_line(cls) -> str:
    """The op's formula: its docstring up to the first ';' (where the derivative rules start)."""
    doc = (cls.__doc__ or "").strip().splitlines()
    return doc[0].split(";")[0].rstrip(" .")[:80] if doc else ""


def _maths(name: str) -> str:
    return name[2:] if name.startswith("g_") else name


def _sum_rows_constant(program, event, out_shape, shape):
    """ones(m), when g (m, n) is summed down to a bias (n,): sum_rows, one matrix-vector product."""
    if len(out_shape) == 2 and len(shape) == 1 and out_shape[1] == shape[0] and out_shape != shape:
        dtype = event.defines[0].dtype
        ones = _constant(np.ones, out_shape[0], dtype)
        return program.new_slot("const", f"ones{out_shape[0]}", ref=ones, value=ones)
    return None


def _unbroadcast(expr: str, out_shape, shape, ones=None) -> str:
    """The code of unbroadcast(g, shape) for shapes known at trace time (see ops/_common.py)."""
    if out_shape == shape:
        return expr
    if ones is not None:
        return f"{ones} @ {expr}" if expr.isidentifier() else f"{ones} @ ({expr})"
    return f"unbroadcast({expr}, {tuple(shape)!r})"


class Binary(Template):
    broadcasts = True

    def __init__(self, fwd, grads):
        self.fwd, self.grads = fwd, grads


class Relu(Template):
    fwd = "{y} = np.maximum({a}, {zeros})"
    grads = (("{g} * ({y} > 0)", "∂L/∂{a} = ∂L/∂{y} · [{a} > 0]"),)

    def prepare(self, program, event):
        zeros = cached_zeros(np.empty(event.info["shapes"][0], event.defines[0].dtype))
        slot = program.new_slot("const", "zeros", ref=zeros, value=zeros)
        event.info["consts"] = {"zeros": slot}
        event.uses.append(slot)


class Matmul(Template):
    fwd = "{y} = {a} @ {b}"
    grads = (("{g} @ {b}.T", "∂L/∂{a} = ∂L/∂{y} · {b}ᵀ"), ("{a}.T @ {g}", "∂L/∂{b} = {a}ᵀ · ∂L/∂{y}"))

    def fits(self, node, xs, params):
        return len(xs) == 2 and xs[0].ndim == 2 and xs[1].ndim == 2


class Linear(Template):
    grads = (
        ("{g} @ {b}.T", "∂L/∂{a} = ∂L/∂{y} · {b}ᵀ"),
        ("{a}.T @ {g}", "∂L/∂{b} = {a}ᵀ · ∂L/∂{y}"),
        ("{g}", "∂L/∂{c} = Σ_rows ∂L/∂{y}"),
    )

    def fits(self, node, xs, params):
        return xs[0].ndim == 2

    def forward(self, n, event):
        names = self.names(n, event)
        code = "{y} = {a} @ {b}" + ("; {y} += {c}" if len(event.info["inputs"]) == 3 else "")
        return code.format(**names), "Linear: y = x·W + b"


class MSE(Template):
    fwd = "{y}_diff = {a} - {b}; {y} = np.asarray({y}_diff.reshape(-1).dot({y}_diff.reshape(-1)) / {y}_diff.size)"
    grads = (
        ("{y}_diff * (2 * {g}.item() / {y}_diff.size)", "∂L/∂{a} = 2 ({a} - {b}) / n · ∂L/∂{y}"),
        ("-({y}_diff * (2 * {g}.item() / {y}_diff.size))", "∂L/∂{b} = -2 ({a} - {b}) / n · ∂L/∂{y}"),
    )


class Reshape(Template):
    fwd = "{y} = {a}.reshape({shape})"
    grads = (("{g}.reshape({in_shape})", "∂L/∂{a} = ∂L/∂{y} reshaped back"),)

    def fits(self, node, xs, params):
        return True

    def names(self, n, event, g=None):
        names = super().names(n, event, g)
        names["shape"] = repr(tuple(event.info["out_shape"]))
        names["in_shape"] = repr(tuple(event.info["shapes"][0]))
        return names


class Transpose(Template):
    fwd = "{y} = {a}.T"
    grads = (("{g}.T", "∂L/∂{a} = (∂L/∂{y})ᵀ"),)

    def fits(self, node, xs, params):
        return xs[0].ndim == 2


TEMPLATES = {
    "Add": Binary("{y} = {a} + {b}", (("{g}", "∂L/∂{a} = ∂L/∂{y}"), ("{g}", "∂L/∂{b} = ∂L/∂{y}"))),
    "Sub": Binary("{y} = {a} - {b}", (("{g}", "∂L/∂{a} = ∂L/∂{y}"), ("-{g}", "∂L/∂{b} = -∂L/∂{y}"))),
    "Mul": Binary(
        "{y} = {a} * {b}", (("{g} * {b}", "∂L/∂{a} = ∂L/∂{y} · {b}"), ("{g} * {a}", "∂L/∂{b} = ∂L/∂{y} · {a}"))
    ),
    "Div": Binary(
        "{y} = {a} / {b}",
        (("{g} / {b}", "∂L/∂{a} = ∂L/∂{y} / {b}"), ("-{g} * {y} / {b}", "∂L/∂{b} = -∂L/∂{y} · {y} / {b}")),
    ),
    "Neg": Binary("{y} = -{a}", (("-{g}", "∂L/∂{a} = -∂L/∂{y}"),)),
    "Exp": Binary("{y} = np.exp({a})", (("{g} * {y}", "∂L/∂{a} = ∂L/∂{y} · e^{a}"),)),
    "Log": Binary("{y} = np.log({a})", (("{g} / {a}", "∂L/∂{a} = ∂L/∂{y} / {a}"),)),
    "Tanh": Binary("{y} = np.tanh({a})", (("{g} * (1 - {y} * {y})", "∂L/∂{a} = ∂L/∂{y} · (1 - {y}²)"),)),
    "Sigmoid": Binary("{y} = sigmoid({a})", (("{g} * {y} * (1 - {y})", "∂L/∂{a} = ∂L/∂{y} · {y} (1 - {y})"),)),
    "Relu": Relu(),
    "Matmul": Matmul(),
    "Linear": Linear(),
    "MSE": MSE(),
    "Reshape": Reshape(),
    "Transpose": Transpose(),
}


# --- the generic line, and the reverse rule of one recorded op ----------------------------------
def generic_forward(n, event):
    info = event.info
    args = ", ".join(n(s) for s in info["inputs"])
    params = "".join(f", {k}={render_argument(n, v)}" for k, v in info["params"].items())
    cls = info["cls"].__name__
    node = n(info["node_slot"])
    code = (
        f"{node} = fresh({cls}, {info['needs']!r}); {n(event.defines[0])} = np.asarray({node}.forward({args}{params}))"
    )
    return code, f"{cls}: {_first_line(info['cls'])}"


def render_argument(n, value) -> str:
    if isinstance(value, (list, tuple)):
        inner = ", ".join(render_argument(n, v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if hasattr(value, "kind"):  # a slot
        return n(value)
    return literal(value.value)


def literal(value) -> str:
    if isinstance(value, np.dtype):
        return f"np.dtype({value.name!r})"
    if isinstance(value, np.generic):
        return f"np.{type(value).__name__}({value.item()!r})"
    if value is Ellipsis:
        return "..."
    return repr(value)


def emit_vjp(program, event, g) -> list:
    """Record the reverse rule of op `event` with dL/dy = g; one gradient slot per input (None where
    the input needs none). A template writes one line per needed input; the generic rule one line."""
    info = event.info
    needs = info["needs"]
    template = info["template"]
    y = event.defines[0]
    shares = []
    if template is not None:
        for i, need in enumerate(needs):
            if not need:
                shares.append(None)
                continue
            render, extra = template.grad(program, event, i, g)
            share = program.new_slot("value", info["inputs"][i])  # named g_<the input's name>
            program.emit("vjp", [g, *extra], [share], render=render)
            shares.append(share)
        return shares
    cls = info["cls"]
    reads = [y] if cls.save_output else []
    reads += info["inputs"] if cls.save_inputs else []
    shares = [program.new_slot("value", s) if need else None for s, need in zip(info["inputs"], needs)]
    program.emit(
        "vjp", [g, info["node_slot"], *reads], [s for s in shares if s is not None], op=event, g=g, shares=shares
    )
    return shares

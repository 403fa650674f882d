"""What the lab's views show, computed by gradlab: plain functions from checked inputs to JSON-ready dicts.

derivative_curves   f, f' (exact, by the engine), f'' and a finite-difference estimate over a window
derivative_point    f(x0), f'(x0), f''(x0), the tangent line and a step-size study at one point
surface             a landscape (or a typed f(x, y)) on a grid, for the 3-D surface and the contour map
descent             one optimizer's whole trajectory (gradlab.optim.minimize)
race_paths          several optimizers from one start (gradlab.optim.race) with the race table
computation_graph   the recorded ops of a typed f(x, y), each with its value and its gradient

Requests run side by side, with no lock: the engine keeps its switches (no_grad, keep_values,
anomaly checks, forward-mode levels) per thread, so a graph recorded under keep_values for one
user is not seen by another user's derivative, and nothing here is shared between calls. The
server answers the light ones in its threads and sends descent, the race and training to worker
processes (workers.py), where the GIL of its threads is not theirs.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .. import autodiff as gl
from ..autodiff.checking import numerical_derivative, numerical_gradient
from ..autodiff.tensor import Tensor
from ..calculus import derivative, step_size_study, tangent_line
from ..calculus.expressions import ExpressionError, parse_expression
from ..landscapes import LANDSCAPES, Landscape, get_landscape
from ..optim import race
from ..optim.minimize import OPTIMIZERS, minimize
from . import limits
from .errors import LabError, expression_error, plain

__all__ = [
    "EXAMPLES",
    "computation_graph",
    "derivative_curves",
    "derivative_point",
    "descent",
    "landscape_from",
    "landscape_of",
    "meta",
    "race_paths",
    "surface",
]

EXAMPLES = {
    "derivatives": [
        "x**2*sin(x)",
        "sin(x)",
        "exp(-x**2)",
        "x**3 - 3*x",
        "tanh(x)",
        "sigmoid(x)",
        "relu(x)",
        "abs(x)",
        "log(x)",
        "sqrt(x)",
        "softplus(x)",
        "sin(1/x)",
    ],
    "surfaces": [
        "x**2 + 10*y**2",
        "sin(x)*cos(y)",
        "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
        "x**4 - 2*x**2 + y**2",
        "log(1 + exp(x + y)) + 0.1*(x**2 + y**2)",
    ],
    "graphs": [
        "x**2*sin(y) - x/y + exp(-x)",
        "sigmoid(x*y + 1)",
        "tanh(2*x - y)**2",
        "log(1 + exp(-y*x))",
        "(x + y)*(x - y)",
        "sqrt(x**2 + y**2)",
    ],
}


def engine(function):
    """Run `function` with NumPy's floating-point warnings off: 1/0 gives inf, and the page shows a gap.

    np.errstate is per thread (a context variable), unlike warnings.catch_warnings, which changes
    the process's filters and so cannot be used while other requests run.
    """

    @functools.wraps(function)
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return function(*args, **kwargs)

    return quiet


def _parse(text: str, variables, field: str):
    try:
        return parse_expression(text, variables)
    except ExpressionError as error:
        raise expression_error(error, field) from None


def _values(out, shape) -> np.ndarray:
    """An expression's result as a float array of `shape` (a constant formula gives a constant array)."""
    array = np.asarray(out.data if isinstance(out, Tensor) else out)
    if np.iscomplexobj(array):
        array = np.real(array)
    return np.broadcast_to(array.astype(np.float64), shape).copy()


def _number(out) -> float:
    return float(np.real(np.asarray(out.data if isinstance(out, Tensor) else out)).reshape(-1)[0])


def _computed(what: str, field: str, run):
    """run(), turning an error of the engine into a readable 422 for the page."""
    try:
        return run()
    except LabError:
        raise
    except (ValueError, TypeError, ArithmeticError, IndexError) as error:
        raise LabError(f"could not compute {what}: {plain(error)}", field=field) from error


# --- meta -----------------------------------------------------------------------------------------


def meta() -> dict:
    """What the page offers: landscapes, optimizers and their hyper-parameters, examples, limits."""
    landscapes = []
    for name in LANDSCAPES:
        land = get_landscape(name)
        description = land.description if name != "quadratic" else "a valley κ times steeper across than along"
        landscapes.append(
            {
                "name": name,
                "title": land.name if name != "quadratic" else "quadratic",
                "description": description,
                "window": land.window,
                "start": land.start,
                "minima": land.minima,
            }
        )
    optimizers = {name: dict(cls.defaults) for name, cls in OPTIMIZERS.items()}
    from ..calculus.expressions import CONSTANTS, FUNCTIONS

    return {
        "landscapes": landscapes,
        "optimizers": optimizers,
        "hyper_ranges": limits.HYPER_RANGES,
        "examples": EXAMPLES,
        "functions": sorted(FUNCTIONS),
        "constants": sorted(CONSTANTS),
        "limits": limits.as_dict(),
    }


# --- derivatives ------------------------------------------------------------------------------------


def _finite_differences(f, xs: np.ndarray, h: float, method: str):
    """gradlab's numerical_derivative at every x (NaN where it fails), and a note if it failed anywhere."""
    estimates = np.full(xs.shape, np.nan)
    failure = None
    for i, x in enumerate(xs):
        try:
            estimates[i] = float(np.real(numerical_derivative(f, float(x), h=h, method=method)))
        except (TypeError, ValueError, ArithmeticError) as error:
            failure = failure or plain(error)
    note = None
    if failure is not None:
        note = f"the {method} difference failed at some points: {failure}"
        if method == "complex":
            note += " (the complex step needs ops that accept complex numbers)"
    return estimates, note


@engine
def derivative_curves(expr: str, x_min: float, x_max: float, points: int, h: float, method: str, second: bool) -> dict:
    """f, f' (exact: the engine's elementwise_grad), optionally f'', and the finite-difference estimate of f'
    with its error |estimate - exact| at `points` evenly spaced x in [x_min, x_max]."""
    f = _parse(expr, ("x",), "expr")
    xs = np.linspace(x_min, x_max, points)

    def curves():
        values = _values(f(xs), xs.shape)
        exact = _values(gl.elementwise_grad(f)(xs), xs.shape)
        undefined = ~np.isfinite(values)  # no slope where f itself is undefined (log x for x < 0)
        exact[undefined] = np.nan
        result = {"x": xs, "f": values, "df": exact}
        if second:
            second_values = _values(gl.elementwise_grad(gl.elementwise_grad(f))(xs), xs.shape)
            second_values[undefined] = np.nan
            result["d2f"] = second_values
        estimate, note = _finite_differences(f, xs, h, method)
        estimate[undefined] = np.nan
        result.update(numeric=estimate, error=np.abs(estimate - exact), numeric_note=note)
        return result

    result = _computed(f"f and its derivatives for {expr!r}", "expr", curves)
    result.update(expr=f.text, method=method, h=h)
    return result


@engine
def derivative_point(expr: str, x0: float, h: float, method: str, x_min: float, x_max: float) -> dict:
    """At one point: f(x0), f'(x0) exact, f''(x0), the finite-difference estimate and its error, the
    tangent line (drawn from x_min to x_max), and how each method's error depends on h at x0."""
    f = _parse(expr, ("x",), "expr")

    def at_point():
        value = _number(f(x0))
        tangent = tangent_line(f, x0)
        exact = tangent.slope
        curvature = float(np.asarray(derivative(f, 2)(x0)))
        estimate, note = _finite_differences(f, np.array([x0]), h, method)
        study = step_size_study(f, x0, exact=exact)
        ends = np.array([x_min, x_max], dtype=np.float64)
        return {
            "x0": x0,
            "f": value,
            "df": exact,
            "d2f": curvature,
            "numeric": estimate[0],
            "error": abs(estimate[0] - exact),
            "numeric_note": note,
            "tangent": {"slope": tangent.slope, "intercept": tangent.intercept, "x": ends, "y": tangent(ends)},
            "study": {
                "h": study.steps,
                "errors": study.errors,
                "best": study.best,
            },
        }

    try:
        result = _computed(f"the derivative of {expr!r} at x = {x0:g}", "x0", at_point)
    except LabError as error:
        cause = error.__cause__
        if not isinstance(cause, (ZeroDivisionError, OverflowError, TypeError)) or plain(cause) == str(cause):
            raise
        # 1/x at 0 or x**x at 1000: Python's floats raise instead of giving inf; the page shows a gap, not an error
        how = "cannot be computed" if isinstance(cause, OverflowError) else "is not defined"
        ends = [x_min, x_max]
        return {
            "x0": x0,
            "f": None,
            "df": None,
            "d2f": None,
            "numeric": None,
            "error": None,
            "numeric_note": None,
            "tangent": {"slope": None, "intercept": None, "x": ends, "y": [None, None]},
            "study": None,
            "undefined": f"f {how} at x = {x0:g}: {plain(cause)}",
        }
    if math.isinf(result["f"]):
        result["undefined"] = (
            f"f cannot be computed at x = {x0:g}: {expr} is too large for a float there (it overflows to ±∞)"
        )
    elif not math.isfinite(result["f"]):
        result["undefined"] = f"f is not defined at x = {x0:g} ({expr} gives no number there)"
    return result


# --- landscapes and descent ---------------------------------------------------------------------------


def landscape_of(body: dict) -> Landscape:
    """The landscape a request names (its fields landscape, expr, x_range, y_range, condition), checked."""
    expr = (body.get("expr") or "").strip() or None
    if expr is not None:
        for name in ("x_range", "y_range"):
            low, high = body[name]
            if not low < high:
                raise LabError(f"{name}: the lower end ({low:g}) must be below the upper end ({high:g})", field=name)
    return landscape_from(body["landscape"], expr, body["x_range"], body["y_range"], body["condition"])


def landscape_from(name: str | None, expr: str | None, x_range, y_range, condition: float) -> Landscape:
    """A gradlab landscape by name, or a Landscape around a typed f(x, y) (no known minima)."""
    if expr:
        f = _parse(expr, ("x", "y"), "expr")
        (x0, x1), (y0, y1) = x_range, y_range
        start = (x0 + 0.8 * (x1 - x0), y0 + 0.8 * (y1 - y0))
        # as_tensor: a formula without x or y (a constant) gives a number, and the grid needs a Tensor
        return Landscape(
            f"f(x, y) = {f.text}",
            lambda p: gl.as_tensor(f(p[0], p[1])),
            (),
            ((x0, x1), (y0, y1)),
            start,
            "a typed function",
        )
    if name not in LANDSCAPES:
        raise LabError(f"unknown landscape {name!r}; choose one of {', '.join(LANDSCAPES)}", field="landscape")
    options = {"condition": condition} if name == "quadratic" else {}
    return get_landscape(name, **options)


@engine
def surface(land: Landscape, n: int) -> dict:
    """The landscape on an n×n grid over its window: z[i][j] = f(x[j], y[i])."""

    def grid():
        xs, ys, values = land.grid(n)
        return xs, ys, _values(values, (len(ys), len(xs)))

    xs, ys, values = _computed(f"{land.name} on the grid", "expr", grid)
    finite = values[np.isfinite(values)]
    minima = [{"x": m[0], "y": m[1], "f": land.value(m)} for m in land.minima]
    return {
        "name": land.name,
        "description": land.description,
        "window": land.window,
        "start": land.start,
        "minima": minima,
        "x": xs,
        "y": ys,
        "z": values,
        "z_min": finite.min() if finite.size else None,
        "z_max": finite.max() if finite.size else None,
    }


def _check_hyper(optimizer: str, hyper: dict, prefix: str = "") -> dict:
    """The hyper-parameters, checked against the optimizer's own and the lab's ranges.

    Errors name the field as the page knows it: "momentum" (descent) or "optimizers.2.momentum" (race).
    """
    if optimizer not in OPTIMIZERS:
        raise LabError(
            f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}", field=f"{prefix}optimizer"
        )
    allowed = set(OPTIMIZERS[optimizer].defaults) - {"lr"}
    for key, value in hyper.items():
        if key not in allowed:
            takes = ", ".join(sorted(allowed)) or "nothing but the learning rate"
            raise LabError(f"{optimizer} has no hyper-parameter '{key}'; it takes {takes}", field=f"{prefix}{key}")
        low, high = limits.HYPER_RANGES[key]
        if not low <= value <= high:
            raise LabError(f"{key} must lie between {low:g} and {high:g}, got {value:g}", field=f"{prefix}{key}")
    return dict(hyper)


def _states(states: list) -> list:
    """The optimizer's state after each step (velocity, moments, ...), as plain numbers and lists."""
    return [{key: np.asarray(value, dtype=np.float64) for key, value in state.items()} for state in states]


def _trajectory(run, land: Landscape) -> dict:
    minimum, distance = land.nearest_minimum(run.final)
    return {
        "x": run.positions[:, 0],
        "y": run.positions[:, 1],
        "loss": run.losses,
        "gx": run.gradients[:, 0],
        "gy": run.gradients[:, 1],
        "steps": run.steps,
        "converged": run.converged,
        "diverged": run.diverged,
        "diverged_at": run.diverged_at,
        "reason": run.reason,
        "final_loss": run.losses[-1],
        "nearest_minimum": minimum,
        "distance": distance,
        "path_length": run.path_length,
    }


@engine
def descent(land: Landscape, start, optimizer: str, lr: float, hyper: dict, steps: int) -> dict:
    """One optimizer's trajectory from `start`: position, loss and gradient at every step (index 0 is the start)."""
    hyper = _check_hyper(optimizer, hyper)

    def run():
        return minimize(land, start, optimizer, max_steps=steps, grad_tol=1e-10, lr=lr, **hyper)

    trajectory = _computed(f"{optimizer} on {land.name}", "optimizer", run)
    result = _trajectory(trajectory, land)
    result.update(optimizer=optimizer, lr=lr, hyper=hyper, start=start, states=_states(trajectory.states))
    return result


@engine
def race_paths(land: Landscape, start, entries: list[dict], steps: int, tol: float) -> dict:
    """Several optimizers from one start, each with its own hyper-parameters: paths, losses and the race table.

    entries: [{"optimizer": name, "lr": ..., "hyper": {...}}]; labels are the optimizer names,
    numbered when a name comes twice.
    """
    total = steps * len(entries)
    if total > limits.MAX_RACE_TOTAL_STEPS:
        raise LabError(
            f"{len(entries)} optimizers × {steps} steps = {total} steps; a race may take at most "
            f"{limits.MAX_RACE_TOTAL_STEPS} steps in total: use fewer steps or fewer optimizers",
            field="steps",
        )
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry["optimizer"]] = counts.get(entry["optimizer"], 0) + 1
    config, labels, seen = {}, [], {}
    for i, entry in enumerate(entries):
        name = entry["optimizer"]
        hyper = _check_hyper(name, entry.get("hyper", {}), f"optimizers.{i}.")
        seen[name] = seen.get(name, 0) + 1
        label = name if counts[name] == 1 else f"{name} #{seen[name]}"
        labels.append(label)
        config[label] = {"optimizer": name, "lr": entry["lr"], **hyper}
    result = _computed(f"the race on {land.name}", "optimizers", lambda: race(land, config, start, steps, tol))
    best = min((land.value(m) for m in land.minima), default=None)
    runs, table = [], result.rows()
    for label, entry, row in zip(labels, entries, table):
        run = result.runs[label]
        path = _trajectory(run, land)
        gap = run.losses - best if best is not None else run.losses
        path.update(label=label, optimizer=entry["optimizer"], lr=entry["lr"], hyper=config[label], gap=gap)
        runs.append(path)
        row["label"] = label
    return {
        "landscape": land.name,
        "start": start,
        "steps": steps,
        "tol": tol,
        "best": best,
        "runs": runs,
        "table": table,
        "text": result.table(),
    }


# --- computation graph ------------------------------------------------------------------------------


@engine
def computation_graph(expr: str, x: float, y: float) -> dict:
    """The ops that computed f(x, y), recorded under keep_values and swept by backward(retain_graph=True).

    nodes: variables (leaves), constants and ops, each with its value and gradient df/d(node);
    edges: input → op, with the local derivative ∂op/∂input, so that each node's gradient is the sum
    over its outgoing edges of (gradient of the op) × (local derivative): the chain rule, node by node.
    """
    f = _parse(expr, ("x", "y"), "expr")
    leaves = {"x": Tensor(x, requires_grad=True, name="x"), "y": Tensor(y, requires_grad=True, name="y")}

    def record():
        with gl.keep_values():
            out = f(leaves["x"], leaves["y"])
        if isinstance(out, Tensor) and not out.is_leaf:
            out.backward(retain_graph=True)
        return out

    out = _computed(f"the graph of {expr!r}", "expr", record)
    graph = _Graph()
    if not isinstance(out, Tensor):  # a constant formula
        graph.node("result", kind="constant", label="constant", value=float(out), grad=1.0, output=True)
    elif out.is_leaf:  # the formula is just x (or y)
        graph.leaf(out).update(output=True, grad=1.0)
    else:
        graph.walk(out)
    nodes, edges = graph.nodes, graph.edges
    _layer(nodes, edges)
    value = _number(out) if isinstance(out, Tensor) else float(out)
    gradient = {name: _grad(t.grad) if t.grad is not None else 0.0 for name, t in leaves.items()}
    for name, t in leaves.items():
        if out is t:  # the formula is the variable itself: df/dx = 1, and no backward was needed
            gradient[name] = 1.0

    def check():
        return numerical_gradient(lambda p: f(p[0], p[1]), np.array([x, y]))

    undefined = None
    if math.isfinite(value):
        numeric = _computed("the finite-difference check", "expr", check)
    else:
        # no value, so no slope: a finite difference across the gap (x/y at y = 0) would show a huge number
        numeric = (None, None)
        undefined = _undefined_at(nodes, edges, x, y)
    return {
        "expr": f.text,
        "x": x,
        "y": y,
        "value": value,
        "undefined": undefined,
        "gradient": gradient,
        "numeric_gradient": {"x": numeric[0], "y": numeric[1]},
        "nodes": nodes,
        "edges": edges,
        "ops": sum(1 for n in nodes if n["kind"] == "op"),
    }


def _undefined_at(nodes, edges, x: float, y: float) -> str:
    """Why f has no value at (x, y), naming the first recorded op that gave none (∞ or NaN)."""
    where = f"x = {x:g}, y = {y:g}"
    broken = [n for n in nodes if n["kind"] == "op" and not _finite(n.get("value"))]
    if not broken:
        return f"f is not defined at {where}"
    first = min(broken, key=lambda n: n.get("seq", 0))
    inputs = sorted((e for e in edges if e["target"] == first["id"]), key=lambda e: e["argument"])
    by_id = {n["id"]: n for n in nodes}
    if first["label"] == "Div" and len(inputs) == 2 and by_id[inputs[1]["source"]].get("value") == 0:
        why = f"{first['label']} divides by zero"
    elif first["value"] is not None and math.isinf(first["value"]):
        why = f"{first['label']} gives {'+' if first['value'] > 0 else '−'}∞"
    else:
        why = f"{first['label']} gives NaN (no number)"
    return f"f has no value at {where}: {why} there"


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)


def _grad(g):
    return None if g is None else _number(g)


def _local_derivatives(node: gl.Node):
    """∂y/∂input_i of one op at the recorded values: the op's own rule with dL/dy = 1."""
    try:
        grads = node.local_derivatives()
    except (TypeError, ValueError, ArithmeticError, AttributeError):
        return [None] * len(node.inputs)
    return [None if g is None else _number(g) for g in grads]


class _Graph:
    """Nodes and edges of a recorded computation, as the page draws them."""

    def __init__(self):
        self.nodes: list[dict] = []
        self.edges: list[dict] = []
        self.by_key: dict = {}

    def node(self, key, **fields) -> dict:
        if key not in self.by_key:
            self.by_key[key] = {"id": f"n{len(self.nodes)}", **fields}
            self.nodes.append(self.by_key[key])
        return self.by_key[key]

    def leaf(self, t: Tensor) -> dict:
        return self.node(id(t), kind="variable", label=t.name, value=_number(t), grad=_grad(t.grad))

    def walk(self, out: Tensor):
        """Add every recorded op, from the output back to the inputs (gl.walk's "from_output" order,
        which numbers the nodes as the page has always laid them out)."""
        for count, op in enumerate(gl.walk(out, order="from_output")):
            if count >= limits.MAX_GRAPH_OPS:
                raise LabError(
                    f"the graph has more than {limits.MAX_GRAPH_OPS} ops; the limit is {limits.MAX_GRAPH_OPS}",
                    field="expr",
                )
            target = self.node(id(op), kind="op")
            # seq: the op's place in the order f recorded them (0, 1, ...), not the engine's clock,
            # which all threads share: the same formula gets the same answer, whoever else computes.
            target.update(label=op.name, value=_number(op.value), grad=_grad(op.grad), seq=op.index)
            if count == 0:
                target["output"] = True
            local = _local_derivatives(op)
            for i, x in enumerate(op.inputs):
                if isinstance(x, gl.Node):
                    source = self.node(id(x), kind="op")
                elif x is not None and x.requires_grad:
                    source = self.leaf(x)
                else:
                    value = _number(x) if x is not None else None
                    key = ("constant", len(self.nodes))
                    source = self.node(key, kind="constant", label="constant", value=value, grad=None)
                self.edges.append({"source": source["id"], "target": target["id"], "argument": i, "local": local[i]})
        grads = {n["id"]: n.get("grad") for n in self.nodes}
        for edge in self.edges:
            target_grad, local = grads[edge["target"]], edge["local"]
            edge["contribution"] = None if local is None or target_grad is None else target_grad * local


def _layer(nodes, edges):
    """Column of each node: the longest path from an input (variables and constants in column 0)."""
    incoming: dict[str, list] = {}
    for edge in edges:
        incoming.setdefault(edge["target"], []).append(edge["source"])
    depth: dict[str, int] = {}

    def column(node_id: str) -> int:
        stack = [node_id]
        while stack:
            current = stack[-1]
            pending = [s for s in incoming.get(current, []) if s not in depth]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            depth[current] = 1 + max((depth[s] for s in incoming.get(current, [])), default=-1)
        return depth[node_id]

    for node in nodes:
        node["layer"] = column(node["id"])

"""The core of the engine: `Tensor`, the `Function` (op) base class and the reverse sweep.

Reverse-mode automatic differentiation in three sentences:

1. Every op applied to a Tensor that requires a gradient records a `Function` node that remembers
   its inputs (a "tape").
2. `y.backward()` sorts the recorded nodes so that each comes after everything that uses it, and
   walks them once from `y` back to the leaves.
3. At each node the chain rule turns the gradient of the output, g = dL/dy, into gradients of the
   inputs, dL/dx_i = g · dy/dx_i (the op's `vjp` rule), adding up where a value was used twice.

Ops live in `gradlab.autodiff.ops`; each is one `Function` subclass with its forward code and its
derivative rule side by side.
"""

from __future__ import annotations

import itertools
import os
import sys
import warnings
import weakref
from heapq import heappop, heappush

import numpy as np

__all__ = [
    "Function",
    "ShapeError",
    "Tensor",
    "as_tensor",
    "detect_anomaly",
    "enable_grad",
    "is_grad_enabled",
    "keep_values",
    "no_grad",
]


class _Switch:
    """A switch of `_State` (anomaly, keep_values, levels): setting it also updates `unusual`."""

    def __set_name__(self, owner, name):
        self.slot = "_" + name

    def __get__(self, state, owner=None):
        return self if state is None else getattr(state, self.slot)

    def __set__(self, state, value):
        setattr(state, self.slot, value)
        state._update()


class _State:
    """Global switches of the engine (grad recording, anomaly mode, forward mode, in-place changes)."""

    __slots__ = ("_anomaly", "_keep_values", "_levels", "extras", "grad_enabled", "last_change", "unusual")

    def __init__(self):
        self.grad_enabled = True
        self._anomaly = False
        self._keep_values = False
        # Forward mode: the ids of the tangent levels being pushed through every op (innermost last).
        self._levels = ()
        # Whether any of the three switches above is on: every op checks this one flag, so the
        # everyday path pays nothing for the features it does not use (see `Function.apply`).
        self.unusual = False
        # Whether any recorded node has been given hooks or kept extra values (keep_values,
        # forward mode): until then, the sweep does not look for them at each node (see
        # `run_backward`; a leaf's hooks are always looked for, once per sweep).
        self.extras = False
        # The clock's reading (see `_clock`) at the latest in-place change of any Tensor.
        self.last_change = -1

    def _update(self):
        self.unusual = self._anomaly or self._keep_values or bool(self._levels)

    anomaly = _Switch()
    keep_values = _Switch()
    levels = _Switch()


_state = _State()
# The engine's clock ticks at every recorded op (its `seq`) and at every in-place change, so
# comparing two readings tells which came first. Creation order is also a valid topological
# order for the sweep: an op is always recorded after the ops that made its inputs.
_clock = itertools.count()
# In-place changes, per memory buffer: id(root array) -> the clock's reading at its last change.
# Views share their root (x.T, x[1:], x.detach()), so a change through any of them is seen.
_buffer_versions: dict[int, int] = {}


def _note_change(data: np.ndarray):
    """Record that the memory behind `data` changes now: in `_buffer_versions`, and as the latest change.

    An entry is dropped when its buffer is freed, so a loop that changes many short-lived Tensors
    in place does not grow the table (and a new array that reuses a freed id starts clean).
    """
    root = data if data.base is None else _buffer_root(data)
    key = id(root)
    _state.last_change = now = next(_clock)
    if key not in _buffer_versions:
        weakref.finalize(root, _buffer_versions.pop, key, None).atexit = False
    _buffer_versions[key] = now


def _buffer_root(array):
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ShapeError(ValueError):
    """Shapes that an op cannot combine; the message names the op, the shapes and the caller's line."""


def user_site() -> str:
    """`file:line` of the innermost frame outside the gradlab package (the user's own code)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


class _GradMode:
    """Context manager (and decorator) that sets whether ops are recorded."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.previous = []

    def __enter__(self):
        self.previous.append(_state.grad_enabled)
        _state.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _state.grad_enabled = self.previous.pop()
        return False

    def __call__(self, func):
        def wrapper(*args, **kwargs):
            with _GradMode(self.enabled):
                return func(*args, **kwargs)

        wrapper.__name__ = getattr(func, "__name__", "wrapper")
        wrapper.__doc__ = func.__doc__
        return wrapper


def no_grad(func=None):
    """Inside `with no_grad():` nothing is recorded (evaluation, parameter updates).

    Also a decorator, with or without parentheses: @no_grad or @no_grad().
    """
    if func is not None:
        return _GradMode(False)(func)
    return _GradMode(False)


def enable_grad():
    """Inside `with enable_grad():` ops are recorded again, even within `no_grad()`."""
    return _GradMode(True)


def is_grad_enabled() -> bool:
    return _state.grad_enabled


class detect_anomaly:
    """Context manager: raise at the first op whose value or gradient is NaN or infinite.

    The error names the op and the line of user code that created it. It costs a finiteness check
    per op, so it is meant for debugging, like `torch.autograd.detect_anomaly`.
    """

    def __enter__(self):
        self.previous = _state.anomaly
        _state.anomaly = True
        return self

    def __exit__(self, *exc):
        _state.anomaly = self.previous
        return False


class keep_values:
    """Context manager: recorded ops keep every input and output, so `to_dot` can draw each value.

    Normally the tape keeps only what the derivative rules need (to save memory).
    """

    def __enter__(self):
        self.previous = _state.keep_values
        _state.keep_values = True
        return self

    def __exit__(self, *exc):
        _state.keep_values = self.previous
        return False


def _to_array(value, dtype=None) -> np.ndarray:
    """Float array for a Tensor: keeps float32/float64/complex, turns ints, bools, lists into float64."""
    if dtype is not None:
        return np.asarray(value, dtype=dtype)
    array = np.asarray(value)
    if array.dtype.kind in "fc":
        return array
    if array.dtype.kind in "iub":
        return array.astype(np.float64)
    raise TypeError(
        f"cannot make a Tensor from {type(value).__name__} with dtype {array.dtype}; "
        "pass numbers, lists of numbers or a numeric NumPy array"
    )


class Function:
    """Base class of every op: `forward` computes the value, `vjp` the gradient rule.

    Subclasses implement
        forward(self, *xs, **params) -> y                  (NumPy arrays in, array out)
        vjp(self, g, y, *xs) -> (dL/dx_0, dL/dx_1, ...)   (g = dL/dy; None where not needed)
    and may read `self.needs[i]` to skip gradients that no input asked for.

    The tape keeps only what a rule reads: the inputs xs if `save_inputs`, the output y if
    `save_output` (otherwise the rule receives None). An op that needs only shapes stores them
    itself in `forward`. Nodes point to the nodes of their inputs, never to intermediate Tensors,
    so values nobody needs are freed as soon as the user's code drops them.
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
        # Bound once here: reading a classmethod from the class builds a new bound method at every
        # Add.apply(...), and ops are applied millions of times. An op's own apply is left alone.
        if getattr(cls.apply, "__func__", None) is Function.apply.__func__:
            cls.apply = Function.apply.__func__.__get__(cls)

    @classmethod
    def apply(cls, *inputs: Tensor, **params) -> Tensor:
        """Run the op on Tensors and, if any input requires a gradient, record it on the tape."""
        fn = _new(cls)
        fn.saved = None
        # Where each input's gradient goes (`parents`): the node that made it, a leaf that
        # requires grad, or nowhere (None). `needs` says which inputs want a gradient at all.
        if len(inputs) == 2:
            # Most ops of a network have two inputs (x @ w, h + b): the loop below, unrolled,
            # because tuples built in one go cost less than lists grown item by item.
            a, b = inputs
            xs = (a.data, b.data)
            parent_a = a._node
            if parent_a is None and a.requires_grad:
                parent_a = a
            parent_b = b._node
            if parent_b is None and b.requires_grad:
                parent_b = b
            parents = (parent_a, parent_b)
            needs = (parent_a is not None, parent_b is not None)
        else:
            # Plain loops, not comprehensions: in CPython 3.11 each comprehension costs a call.
            xs = []
            parents = []
            needs = []
            for t in inputs:
                xs.append(t.data)
                parent = t._node
                if parent is None and t.requires_grad:
                    parent = t
                parents.append(parent)
                needs.append(parent is not None)
        try:
            if params:
                y = fn.forward(*xs, **params)
            elif len(xs) == 2:  # arguments spelled out: a call with *xs costs more
                y = fn.forward(xs[0], xs[1])
            else:
                y = fn.forward(*xs)
        except ValueError as error:
            raise _shape_error(cls.__name__, xs, error) from None
        if y.__class__ is not _ndarray:
            y = np.asarray(y)
        out = _new(Tensor)
        out.data = y
        out.grad = None
        state = _state
        if True in needs and state.grad_enabled:
            fn.parents = parents
            fn.needs = needs
            fn.xs = xs if cls.save_inputs else _UNSAVED[len(xs)]
            fn.y = y if cls.save_output else None
            fn.seq = next(_clock)
            out.requires_grad = True
            out._node = fn
        else:
            out.requires_grad = False
            out._node = None
        if state.unusual:
            _apply_unusual(fn, inputs, out, state)
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


_RELEASED = ("released",)


class _Nones(dict):
    """n -> (None,) * n, made once per length: what a node keeps of inputs its rule does not read."""

    def __missing__(self, n):
        self[n] = nones = (None,) * n
        return nones


_UNSAVED = _Nones()
_new = object.__new__
_ndarray = np.ndarray


def _apply_unusual(fn: Function, inputs, out: Tensor, state: _State):
    """What `Function.apply` does only in anomaly mode, inside keep_values() or in forward mode."""
    recorded = out._node is fn
    if state.anomaly:
        _warn_if_not_finite(out.data, fn.name)
        fn.site = user_site()
    if recorded and (state.keep_values or state.levels):
        fn.inputs = inputs  # to draw the graph, or to read the inputs' tangents
        state.extras = True
    if recorded and state.keep_values:
        fn.y = out.data
        fn.drawn = True
    if state.levels:
        _push_tangents(fn, inputs, out, state)


def _push_tangents(fn: Function, inputs, out: Tensor, state: _State):
    """Forward mode: out's tangent at each active level, from the inputs' tangents by the op's jvp rule.

    While the rule for one level runs, only the levels outside it stay active, so the tangent
    itself carries derivatives for the enclosing levels (nested forward mode) and no level
    differentiates its own tangent (no perturbation confusion).
    """
    fn.out = out  # if the op is recorded, reverse rules run in forward mode need the output's tangents
    levels = state.levels
    for level in levels:
        tangents = []
        present = False
        for t in inputs:
            d = t.tangents.get(level) if t.tangents is not None else None
            tangents.append(d)
            present = present or d is not None
        if not present:
            continue
        state.levels = tuple(v for v in levels if v < level)
        try:
            tangent = fn.jvp(tangents, out, *inputs)
        finally:
            state.levels = levels
        if tangent is None:
            continue
        if not isinstance(tangent, Tensor):
            tangent = Tensor(tangent)
        if out.tangents is None:
            out.tangents = {}
        out.tangents[level] = tangent


def _shape_error(op_name, arrays, error):
    shapes = " and ".join(str(a.shape) for a in arrays)
    return ShapeError(
        f"{op_name} failed on inputs of shapes {shapes}: {error}; called at {user_site()}. "
        "Check the shapes (t.shape) and the axis arguments."
    )


def _warn_if_not_finite(array, op_name):
    """Forward values may be NaN or Inf on purpose (the branch where() does not take), so anomaly
    mode only warns about them; a NaN or Inf gradient is an error."""
    if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        warnings.warn(
            f"detect_anomaly: op {op_name} produced NaN or Inf in its forward value (at {user_site()})",
            RuntimeWarning,
            stacklevel=4,
        )


def _check_finite(array, op_name, what, site=None):
    array = np.asarray(array.data if isinstance(array, Tensor) else array)  # create_graph: Tensors
    if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        where = f" (op created at {site})" if site else f" (at {user_site()})"
        raise FloatingPointError(f"detect_anomaly: op {op_name} produced NaN or Inf in its {what}{where}")


def _hand_over(leaves: dict, totals: dict, seed):
    """Give each leaf what one sweep sent it, summed: `leaves` and `totals` map id(leaf) to the
    leaf and to its total.

    The sweep sums first and hands over once at the end, so hooks see each leaf's total once.
    Every .grad is an array of its leaf's own: a gradient that reached two leaves (x + y), or
    came from the caller as the seed, is copied for the second.
    """
    taken = {id(_buffer_root(seed))} if isinstance(seed, np.ndarray) else set()
    for key, leaf in leaves.items():
        g = totals[key]
        data = leaf.data
        if (
            g.__class__ is _ndarray
            and g.base is None
            and leaf.grad is None
            and leaf._hooks is None
            and g.dtype == data.dtype
            and g.shape == data.shape
            and id(g) not in taken
        ):
            taken.add(id(g))  # the common case: a fresh array for an empty .grad
            leaf.grad = g
            continue
        if g.shape != data.shape:
            raise RuntimeError(
                f"internal error: a gradient of shape {g.shape} arrived for a leaf of shape {data.shape}"
            )
        if g.__class__ is not np.ndarray and not isinstance(g, Tensor):
            g = np.asarray(g)  # NumPy gives scalars for 0-d arithmetic
        if g.__class__ is np.ndarray and g.dtype != data.dtype and data.dtype.kind == "f":
            g = g.astype(data.dtype)
        if leaf._hooks is not None:
            g = _run_hooks(leaf._hooks, g)
        if leaf.grad is not None:
            leaf.grad = leaf.grad + g
            continue
        if g.__class__ is np.ndarray:
            root = g if g.base is None else _buffer_root(g)
            if id(root) in taken or not g.flags.writeable:
                g = g.copy()
                root = g
            taken.add(id(root))
        leaf.grad = g


def run_backward(
    root: Tensor, gradient, retain_graph: bool, create_graph: bool = False, targets=None, record: bool | None = None
):
    """The reverse sweep: dL/d(every recorded value) from dL/d(root) = `gradient`.

    Nodes are visited newest first. An op is always created after the ops that made its inputs,
    so by the time a node comes off the heap, every use of its output has already sent back its
    share of the gradient: its sum in `pending` is complete.

    create_graph: the rules run on Tensors, so the gradients are recorded (unless record=False:
    then only forward-mode tangents ride along, as in forward-over-reverse) and can be
    differentiated again. targets: a `_Targets` (see `gradients`); then only the gradients of
    those values are collected, leaves' .grad are left alone and unrelated branches skipped.
    """
    node = root._node
    if node is None:
        if targets is not None:
            targets.collect(root, gradient)
        else:
            _hand_over({id(root): root}, {id(root): gradient}, gradient)
        return
    # dL/d(value), summed over the uses swept so far, for the nodes still to visit and for the
    # leaves (handed over at the end, from `leaves`). Keyed by id(): a subclass may define __eq__.
    pending = {id(node): gradient}
    leaves = {}
    heap = [(-node.seq, node)]  # nodes to visit, newest first
    last_change = _state.last_change
    extras = _state.extras  # hooks or kept values on some node: look for them at each node
    anomaly = _state.anomaly
    # The everyday sweep: rules on arrays, gradients into .grad. Anything else goes through
    # `_unusual_vjp`, so the loop below stays short.
    plain = targets is None and not create_graph and not anomaly
    mode = _GradMode(create_graph if record is None else record) if create_graph else None
    if mode is not None:
        mode.__enter__()
    try:
        while heap:
            key, fn = heappop(heap)
            g = pending.pop(id(fn))
            xs = fn.xs
            if xs is _RELEASED or -key < last_change:
                _check_reusable(fn)  # freed by an earlier backward(), or something changed in place since
            if extras and fn.hooks is not None:
                g = _run_hooks(fn.hooks, g)
            if plain:  # the chain rule: dL/dx_i from dL/dy (two inputs spelled out: *xs costs more)
                grads = fn.vjp(g, fn.y, xs[0], xs[1]) if len(xs) == 2 else fn.vjp(g, fn.y, *xs)
            else:
                grads = _unusual_vjp(fn, g, targets, create_graph)
            for parent, gp in zip(fn.parents, grads):
                if parent is None or gp is None:
                    continue
                if targets is not None and targets.stops_at(parent, gp, fn):
                    continue
                key = id(parent)
                total = pending.get(key)
                if total is None:  # the first use of parent's value to send back its share
                    pending[key] = gp
                    if isinstance(parent, Function):
                        heappush(heap, (-parent.seq, parent))  # a node: its turn comes later
                    else:
                        leaves[key] = parent
                else:
                    pending[key] = total = total + gp
                    if anomaly:
                        _check_sum(total, fn)
            if retain_graph:
                if extras and fn.drawn:
                    fn.saved_grad = g
            else:  # free what the rule read: nobody can go through this node again
                fn.xs = _RELEASED
                fn.y = fn.saved = None
                if extras and fn.inputs is not None:
                    fn.inputs = fn.out = None
        _hand_over(leaves, pending, gradient)  # only leaves are left in pending
    finally:
        if mode is not None:
            mode.__exit__()


def _unusual_vjp(fn: Function, g, targets, create_graph: bool):
    """A node's rule outside the everyday sweep: towards `targets` only, recorded (create_graph),
    or checked for NaN and Inf (anomaly mode)."""
    if targets is not None and targets.collect(fn, g) and not targets.beyond(fn):
        return ()
    if create_graph:
        grads = fn.vjp(g, fn.traced_output(), *fn.traced_inputs())
    else:
        grads = fn.vjp(g, fn.y, *fn.xs)
    if _state.anomaly:
        _check_gradients(fn, grads)
    return grads


class _Targets:
    """The values `gradients` asks about, and the recorded nodes that lie on a path to them.

    `wanted` maps each asked-for value (a leaf Tensor, or the node that made a non-leaf) to its
    position; `relevant` holds every node from which one of them can be reached. `outer` tells
    whether the output also depends on recorded values from before `start` (an enclosing trace)
    or on other leaves that require grad: then the gradient must itself be recorded.
    """

    def __init__(self, root: Tensor, inputs, start: int = -1):
        self.wanted = {}
        for i, t in enumerate(inputs):
            self.wanted.setdefault(id(t._node if t._node is not None else t), []).append(i)
        self.keep_alive = list(inputs)
        self.found = [None] * len(inputs)
        self.relevant = set()
        self.outer = False
        if root._node is not None:
            self._mark(root._node, start)

    def _mark(self, root: Function, start: int):
        """Post-order walk: a node is relevant if it is wanted or one of its parents is."""
        stack = [(root, False)]
        seen = set()
        while stack:
            fn, expanded = stack.pop()
            if expanded:
                for p in fn.parents:
                    if p is not None and (id(p) in self.wanted or id(p) in self.relevant):
                        self.relevant.add(id(fn))
                        break
                if id(fn) in self.wanted:
                    self.relevant.add(id(fn))
                continue
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            if fn.seq < start:
                self.outer = True
            stack.append((fn, True))
            for p in fn.parents:
                if isinstance(p, Function):
                    if id(p) not in seen:
                        stack.append((p, False))
                elif p is not None and id(p) not in self.wanted and p.seq < start:
                    self.outer = True  # a leaf from before: an enclosing computation's variable

    def stops_at(self, parent, g, fn: Function) -> bool:
        """Whether the sweep goes no further towards `parent`: a leaf (its gradient, sent by `fn`, is
        collected if it was asked for) or a node from which no asked-for value can be reached."""
        if isinstance(parent, Tensor):
            self.collect(parent, g, fn)
            return True
        return id(parent) not in self.relevant

    def beyond(self, fn: Function) -> bool:
        """Whether another asked-for value lies below this one (so the sweep must go on)."""
        return any(id(p) in self.relevant or id(p) in self.wanted for p in fn.parents if p is not None)

    def collect(self, value, g, fn: Function | None = None) -> bool:
        slots = self.wanted.get(id(value))
        if slots is None:
            return False
        for i in slots:
            if self.found[i] is None:
                self.found[i] = g
                continue
            self.found[i] = self.found[i] + g
            if fn is not None and _state.anomaly:
                _check_sum(self.found[i], fn)
        return True


def _run_hooks(hooks, g):
    for hook in hooks:
        result = hook(g)
        if result is not None:
            g = result
    return g


def _check_gradients(fn: Function, grads):
    for gp in grads:
        if gp is not None:
            _check_finite(gp, fn.name, "gradient (backward)", fn.site)


def _check_sum(total, fn: Function):
    """Anomaly mode: a gradient whose every share is finite can still overflow as they are added up
    (y = x * x at x = 1e308 sends 1e308 to x twice). Blame the op whose share tipped the sum over."""
    what = "gradient (backward) once added to the other gradients its input got (each was finite, their sum is not)"
    _check_finite(total, fn.name, what, fn.site)


def _check_reusable(fn: Function):
    """Raise if this node's rule cannot run: its saved values were freed by an earlier backward(),
    or an array it reads was changed in place after the node was recorded."""
    if fn.xs is _RELEASED:
        raise RuntimeError(
            f"backward through op {fn.name} a second time: its saved values were freed by the "
            "first backward(). Call backward(retain_graph=True) the first time if you need to "
            "go through the same graph again, or recompute the forward pass."
        )
    saved = [("input", i, x) for i, x in enumerate(fn.xs) if x is not None]
    if fn.y is not None:
        saved.append(("output", 0, fn.y))
    for kind, i, array in saved:
        if _buffer_versions.get(id(_buffer_root(array)), -1) > fn.seq:
            what = f"input {i}" if kind == "input" else "the output"
            raise RuntimeError(
                f"{what} of op {fn.name} (shape {array.shape}) was modified in place after the op was "
                "recorded, and the op's gradient needs its old value. Make a copy before changing it "
                "(x = x + 1 instead of x += 1), or change it only after backward()."
            )


def _seed(output: Tensor, gradient):
    """dL/d(output) to start a sweep with: 1 for a single number, else the given array or Tensor."""
    if gradient is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"backward() without a gradient needs a one-element result, this one has shape "
                f"{output.shape}; reduce it first (y.sum()) or pass backward(gradient=...) of that shape"
            )
        data = output.data
        return np.array(1, dtype=data.dtype) if data.ndim == 0 else np.ones_like(data)
    if not isinstance(gradient, Tensor):
        gradient = _to_array(gradient)
    if gradient.shape != output.shape:
        raise ShapeError(f"the gradient of the output needs shape {output.shape}, got {gradient.shape}")
    if gradient.dtype != output.dtype:
        gradient = gradient.astype(output.dtype)
    return gradient


def gradients(output: Tensor, inputs, gradient=None, retain_graph: bool = False, create_graph=False, start: int = -1):
    """d(output)/d(input) for each of `inputs` (leaves or not), without touching any .grad.

    Like torch.autograd.grad. `gradient` is dL/d(output) (default 1 for a single number).
    create_graph=True records the sweep, so the results are Tensors that can be differentiated
    again; create_graph=None decides by itself: it records when the output also depends on
    values recorded before op number `start` or on leaves other than `inputs` (a gradient taken
    inside another one), or when forward mode is active. Inputs the output does not depend on
    get zeros.
    """
    inputs = list(inputs)
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"gradients() needs Tensors as inputs, got {type(t).__name__}")
    targets = _Targets(output, inputs, start)
    if create_graph is None:
        create_graph = targets.outer
    # In forward mode the rules must run on Tensors so the tangents ride along, but the sweep
    # only needs recording when something will differentiate it in reverse.
    record = create_graph
    create_graph = create_graph or bool(_state.levels)
    if output.requires_grad:
        seed = _seed(output, gradient)
        if create_graph:
            seed = seed if isinstance(seed, Tensor) else Tensor._make(seed, None)
        elif isinstance(seed, Tensor):
            seed = seed.data
        run_backward(output, seed, retain_graph or create_graph, create_graph, targets, record)
    results = []
    returned = set()  # ids of the arrays given out: each result is an array of its own
    for t, g in zip(inputs, targets.found):
        if g is None:
            g = np.zeros_like(t.data)
        if create_graph and not isinstance(g, Tensor):
            g = Tensor._make(g, None)
        elif not create_graph and isinstance(g, Tensor):
            g = g.data
        if isinstance(g, np.ndarray):
            if id(g) in returned:  # the same gradient reached two inputs (a + b): copy it for the second
                g = g.copy()
            returned.add(id(g))
        results.append(g)
    return results


def recorded_before(values, start: int) -> bool:
    """Whether any of the Tensors depends on ops or leaves recorded before op number `start`:
    then an enclosing transform is tracing it (forward-mode nesting is told by the active levels)."""
    stack, seen = [], set()
    for v in values:
        if isinstance(v, Tensor):
            if v._node is not None:
                stack.append(v._node)
            elif v.requires_grad and v.seq < start:
                return True
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        if fn.seq < start:
            return True
        for p in fn.parents:
            if isinstance(p, Function):
                stack.append(p)
            elif p is not None and p.seq < start:
                return True
    return False


def next_sequence() -> int:
    """The clock's reading now: ops recorded from now on get a larger `seq`."""
    return next(_clock)


class _Retainer:
    """The hook behind retain_grad(): adds each sweep's gradient to the Tensor's own .grad."""

    def __init__(self, ref):
        self.ref = ref

    def __call__(self, g):
        t = self.ref()
        if t is not None:
            own = g.copy() if isinstance(g, np.ndarray) else g
            t.grad = own if t.grad is None else t.grad + own


class _HookHandle:
    def __init__(self, hooks: list, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _inplace(ufunc):
    """The method behind x += y for `ufunc` (np.add; likewise -=, *=, /=): x's array changes in place.

    Outside recording, the check of `Tensor._check_change` is skipped: parameter updates
    (p -= lr * p.grad) run this for every parameter at every step. The change is noted only once
    it has happened (a shape error leaves x, and its version, as they were).
    """

    def method(self, other):
        data = self.data
        if _state.grad_enabled:
            self._check_change(other)  # raises if the change could hurt the tape
        # The output array is passed positionally, as NumPy's own `a -= b` does.
        ufunc(data, other.data if isinstance(other, Tensor) else other, data)
        _note_change(data)
        return self

    return method


class Tensor:
    """An n-dimensional array that remembers how it was computed, so gradients can flow back.

    `Tensor(data, requires_grad=False, dtype=None)`: float64 unless the data is float32 (or you pass
    `dtype=np.float32`). Leaves with `requires_grad=True` receive `.grad` after `backward()`.
    """

    __slots__ = ("__dict__", "__weakref__", "_node", "data", "grad", "requires_grad")
    __array_ufunc__ = None  # NumPy defers to our reflected operators: ndarray * Tensor -> Tensor
    # Rarely set, so kept out of the slots that every op's output must fill (see Function).
    tangents = None  # forward mode: {level: tangent Tensor}
    seq = -1  # for leaves that require grad: when they were made (see next_sequence)
    _hooks = None  # functions called with the gradient of a leaf
    name = None  # a label for to_dot

    def __init__(self, data, requires_grad: bool = False, dtype=None, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = _to_array(data, dtype)
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError("only floating-point Tensors can require gradients")
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._node = None
        if requires_grad:
            self.seq = next(_clock)  # leaves are numbered like ops, so transforms can tell old from new
        if name is not None:
            self.name = name

    @classmethod
    def _make(cls, data: np.ndarray, node: Function | None) -> Tensor:
        t = cls.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = node is not None
        t._node = node
        return t

    # --- plain facts -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def T(self) -> Tensor:
        return _ops.transpose(self)

    def __len__(self):
        return len(self.data)

    def __bool__(self):
        return bool(self.data)  # NumPy's rule: only for one element

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t) gives the values (no gradient flows through NumPy functions)."""
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __repr__(self):
        body = np.array2string(self.data, precision=4, separator=", ", prefix="Tensor(")
        extra = ""
        if self._node is not None:
            extra = f", op={self._node.name}"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        if self.data.dtype != np.float64:
            extra += f", dtype={self.data.dtype}"
        return f"Tensor({body}{extra})"

    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (a read-only view: copy it to change it)."""
        view = self.data.view()
        view.flags.writeable = False
        return view

    def item(self) -> float:
        if self.data.size != 1:
            raise ValueError(f"item() needs a Tensor with one element, this one has shape {self.shape}")
        return self.data.item()

    def __float__(self):
        return float(self.item())

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> Tensor:
        """The same value, cut off from the tape (no gradient flows through it)."""
        return Tensor._make(self.data, None)

    def astype(self, dtype) -> Tensor:
        return _ops.astype(self, dtype)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        if self._node is not None and not flag:
            raise RuntimeError("requires_grad_(False) only works on leaves; use detach() instead")
        self.requires_grad = bool(flag)
        if flag:
            self.seq = next(_clock)
        return self

    # --- gradients ---------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph: bool = False, create_graph: bool = False):
        """Fill `.grad` of every leaf with d(self)/d(leaf) (times `gradient` for non-scalars).

        `gradient` is dL/d(self); it defaults to 1 for a one-element Tensor. The tape is freed
        afterwards unless `retain_graph=True`. With `create_graph=True` the backward pass is
        recorded too: the leaves' .grad are then Tensors that can be differentiated again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a Tensor that does not require grad: no input of the computation "
                "had requires_grad=True (or it was computed inside no_grad())"
            )
        seed = _seed(self, gradient)
        create_graph = create_graph or (_state.unusual and bool(_state.levels))
        if create_graph:
            seed = seed if isinstance(seed, Tensor) else Tensor._make(seed, None)
        elif isinstance(seed, Tensor):
            seed = seed.data
        run_backward(self, seed, retain_graph or create_graph, create_graph)

    def register_hook(self, hook) -> _HookHandle:
        """Call `hook(grad)` when this Tensor's gradient is computed; a returned array replaces it."""
        if not self.requires_grad:
            raise RuntimeError("register_hook on a Tensor that does not require grad")
        if self._node is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self._node.hooks is None:
                self._node.hooks = []
            hooks = self._node.hooks
        _state.extras = True  # backward looks for hooks from now on
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def retain_grad(self):
        """Keep `.grad` on this intermediate (non-leaf) Tensor after backward."""
        if self._node is not None:
            self.register_hook(_Retainer(weakref.ref(self)))

    def zero_grad(self):
        self.grad = None

    # --- in-place changes (only where the tape cannot be hurt) ---------------------------------
    def _check_change(self, other=None):
        """Raise if changing this Tensor in place (with `other`) could hurt the tape."""
        if _state.grad_enabled and (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)):
            raise RuntimeError(
                "in-place change of a Tensor while recording, with a gradient involved: the tape would "
                "lose the old value, or the gradient of the right-hand side would be dropped. Write "
                "x = x + y instead, or update parameters inside gl.no_grad()."
            )

    def __setitem__(self, index, value):
        self._check_change(value)
        self.data[_plain_index(index)] = value.data if isinstance(value, Tensor) else value
        _note_change(self.data)

    __iadd__ = _inplace(np.add)
    __isub__ = _inplace(np.subtract)
    __imul__ = _inplace(np.multiply)
    __itruediv__ = _inplace(np.divide)

    # --- operators ---------------------------------------------------------------------------
    # x + y, x - y, x * y, x / y, x ** y, x @ y, -x, abs(x) and x[i] are the op functions
    # themselves (add, sub, ..., getitem), attached in ops/__init__.py once the ops exist: the
    # hottest calls of a network go straight to the op, with no method in between.
    # The reflected forms (2 * x, array @ x) swap the operands first.
    def __radd__(self, other):
        return _ops.add(other, self)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __rpow__(self, other):
        return _ops.power(other, self)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __pos__(self):
        return self

    # Comparisons give plain boolean arrays: they have no useful derivative.
    def __lt__(self, other):
        return self.data < _plain(other)

    def __le__(self, other):
        return self.data <= _plain(other)

    def __gt__(self, other):
        return self.data > _plain(other)

    def __ge__(self, other):
        return self.data >= _plain(other)

    def __eq__(self, other):
        return self.data == _plain(other)

    def __ne__(self, other):
        return self.data != _plain(other)

    __hash__ = object.__hash__

    # --- common ops as methods (each is the function of the same name in gradlab) --------------
    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def sin(self):
        return _ops.sin(self)

    def cos(self):
        return _ops.cos(self)

    def tanh(self):
        return _ops.tanh(self)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _ops.relu(self)

    def abs(self):
        return _ops.abs(self)

    def clip(self, low=None, high=None):
        return _ops.clip(self, low, high)

    def sum(self, axis=None, keepdims=False):
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return _ops.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return _ops.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return _ops.min(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        return _ops.var(self, axis, keepdims, ddof)

    def norm(self, axis=None, keepdims=False):
        return _ops.norm(self, axis, keepdims)

    def softmax(self, axis=-1):
        return _ops.softmax(self, axis)

    def log_softmax(self, axis=-1):
        return _ops.log_softmax(self, axis)

    def logsumexp(self, axis=None, keepdims=False):
        return _ops.logsumexp(self, axis, keepdims)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops.transpose(self, axes or None)

    def permute(self, *axes):
        return self.transpose(*axes)

    def broadcast_to(self, shape):
        return _ops.broadcast_to(self, shape)

    expand = broadcast_to

    def flatten(self):
        return _ops.reshape(self, (-1,))


def _plain(value):
    return value.data if isinstance(value, Tensor) else value


def _plain_index(index):
    if isinstance(index, tuple):
        return tuple(_plain(i) for i in index)
    return _plain(index)


def as_tensor(value, dtype=None) -> Tensor:
    """`value` itself if it is a Tensor, else a new constant Tensor (float64 unless float32 given)."""
    if isinstance(value, Tensor):
        return value
    return Tensor(value, dtype=dtype)


from . import ops as _ops  # noqa: E402  (ops need Tensor and Function defined first)

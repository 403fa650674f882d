"""The functional layer, JAX-style: transforms that turn a function into its derivative.

    grad(f)(x)                 ∂f/∂x for f with a single-number output
    value_and_grad(f)(x)       (f(x), ∂f/∂x) from one forward and one backward pass
    vjp(f, x) -> (y, vjp_fn)   vjp_fn(u) = uᵀ J, the reverse mode in its general form
    jvp(f, (x,), (v,))         (f(x), J v), the forward mode: tangents pushed through each op
    elementwise_grad(f)(x)     ∂/∂x Σ f(x): the derivative of an element-wise f at every point
    vmap(f)(xs)                [f(x) for x in xs], stacked: f mapped over a leading axis

Each transform wraps its inputs as fresh variables (Tensors), runs f, and sweeps once. Inputs
and outputs may be pytrees (tuples, lists, dicts of arrays). Results come back in the kind of
the inputs: NumPy arrays (or floats) for arrays and numbers, Tensors for Tensors. Transforms
nest: grad(grad(f)) records its inner sweep so the outer one can differentiate it, and
jvp(grad(f)) pushes tangents through the backward pass (forward-over-reverse).
"""

from __future__ import annotations

import numpy as np

from . import forward_mode, pytree
from .gradients import nested_gradients, next_sequence, recorded_before
from .modes import enable_grad
from .tensor import Tensor

__all__ = ["elementwise_grad", "grad", "jvp", "stop_gradient", "value_and_grad", "vjp", "vmap"]


def _argnum_tuple(argnums, count: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not -count <= n < count:
            raise ValueError(f"argnums {argnums} asks for argument {n}, but the function got {count} arguments")
    nums = tuple(n % count for n in nums)
    if len(set(nums)) != len(nums):
        raise ValueError(f"argnums {argnums} names the same argument twice")
    return nums


def _variable(value) -> Tensor:
    """A fresh variable holding `value` that gradients can be asked for.

    A Tensor that an enclosing transform is already tracing gets a new op on top (an identity
    reshape), so the variable stays connected to the outer trace but is a value of its own:
    derivatives of the inner function are taken with respect to it alone.
    """
    if isinstance(value, Tensor):
        if value.requires_grad:
            from .ops.shape import Reshape

            return Reshape.apply(value, shape=value.shape)
        leaf = Tensor(value.data, requires_grad=True)
        if value.tangents:
            leaf.tangents = dict(value.tangents)
        return leaf
    _check_numeric(value)
    return Tensor(value, requires_grad=True)


def _check_numeric(value):
    array = np.asarray(value)
    if array.dtype.kind not in "biufc":
        raise TypeError(
            f"cannot differentiate with respect to a {type(value).__name__}: pass numbers, arrays, Tensors, "
            "or tuples/lists/dicts of them"
        )


class _Variables:
    """The arguments of a call with the differentiated ones replaced by variables (pytrees allowed)."""

    def __init__(self, args, argnums):
        self.args = list(args)
        self.nums = _argnum_tuple(argnums, len(args))
        self.single = isinstance(argnums, int)
        self.structures = []
        self.originals = []
        self.leaves = []
        for n in self.nums:
            originals, structure = pytree.flatten(args[n])
            variables = [_variable(v) for v in originals]
            self.originals.append(originals)
            self.structures.append(structure)
            self.leaves.extend(variables)
            self.args[n] = pytree.unflatten(structure, variables)
        self.as_tensors = any(isinstance(v, Tensor) for group in self.originals for v in group)

    def regroup(self, flat_values, traced: bool = False):
        """Values for the flat list of variables, nested like the differentiated arguments."""
        out, i = [], 0
        keep = self.as_tensors or traced
        for originals, structure in zip(self.originals, self.structures):
            group = [export(v, like=o, as_tensor=keep) for v, o in zip(flat_values[i:], originals)]
            out.append(pytree.unflatten(structure, group))
            i += len(originals)
        return out[0] if self.single else tuple(out)


def export(value, like=None, as_tensor: bool = False):
    """A result in the kind the caller gave: the Tensor itself when tracing, else an array or a number.

    Callers pass as_tensor=True also when an enclosing transform is tracing the result, so the
    outer transform can go on differentiating it.
    """
    if as_tensor:
        return value if isinstance(value, Tensor) else Tensor._make(np.asarray(value), None)
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    if like is not None and not isinstance(like, (np.ndarray, Tensor)) and np.ndim(like) == 0 and array.ndim == 0:
        return array.item()
    return array


def _scalar_output(out) -> Tensor:
    result = out if isinstance(out, Tensor) else Tensor(out)
    if result.size != 1:
        raise ValueError(
            f"grad needs a function with a single-number output, this one returned shape {result.shape}; "
            "sum it, or ask for a Jacobian (gl.jacobian) or use gl.vjp instead"
        )
    return result


def value_and_grad(f, argnums=0, has_aux: bool = False):
    """Return a function computing (f(*args), ∂f/∂args[argnums]) in one forward and one backward pass.

    f must return a single number (a one-element Tensor or a float). With `has_aux=True`, f returns
    (value, aux) and the result is ((value, aux), gradient). With a tuple `argnums`, the gradient
    is a tuple in the same order; a pytree argument gets a gradient of the same nesting.
    """

    def value_and_grad_f(*args, **kwargs):
        start = next_sequence()
        variables = _Variables(args, argnums)
        with enable_grad():
            out = f(*variables.args, **kwargs)
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError("with has_aux=True the function must return a pair (value, aux)")
            out, aux = out
        result = _scalar_output(out)
        flat = nested_gradients(result, variables.leaves, start)
        traced = any(isinstance(g, Tensor) for g in flat)  # recorded: an enclosing transform needs it
        gradient = variables.regroup(flat, traced)
        value = export(result.reshape(()), like=0.0, as_tensor=variables.as_tensors or traced)
        return ((value, aux), gradient) if has_aux else (value, gradient)

    value_and_grad_f.__doc__ = f"Value and gradient of {getattr(f, '__name__', 'f')}."
    return value_and_grad_f


def grad(f, argnums=0, has_aux: bool = False):
    """Return a function computing ∂f/∂args[argnums] (f must return a single number).

    Example: grad(lambda x: x**3)(2.0) == 12.0, since d/dx x³ = 3x². Nest it for higher
    derivatives: grad(grad(f)) is f''.
    """
    value_and_grad_f = value_and_grad(f, argnums, has_aux)

    def grad_f(*args, **kwargs):
        if has_aux:
            (_, aux), gradient = value_and_grad_f(*args, **kwargs)
            return gradient, aux
        return value_and_grad_f(*args, **kwargs)[1]

    grad_f.__doc__ = f"Gradient of {getattr(f, '__name__', 'f')}."
    return grad_f


def vjp(f, *primals):
    """(f(*primals), vjp_fn) where vjp_fn(u) = uᵀ ∂f/∂primals: one gradient per primal.

    f may return a Tensor or a pytree of them; u has the same nesting and shapes. vjp_fn can be
    called many times (each call is one backward sweep over the same recorded forward pass).
    """
    start = next_sequence()
    variables = _Variables(primals, tuple(range(len(primals))))
    with enable_grad():
        out = f(*variables.args)
    out_leaves, out_structure = pytree.flatten(out)
    out_leaves = [o if isinstance(o, Tensor) else Tensor(o) for o in out_leaves]

    def vjp_fn(cotangent):
        cotangents, structure = pytree.flatten(cotangent)
        if structure != out_structure or len(cotangents) != len(out_leaves):
            raise ValueError("the cotangent must have the same nesting as the function's output")
        total = None
        for o, u in zip(out_leaves, cotangents):
            u = u if isinstance(u, Tensor) else Tensor(np.asarray(u, dtype=o.dtype))
            if u.shape != o.shape:
                raise ValueError(f"a cotangent of shape {u.shape} was given for an output of shape {o.shape}")
            if o.requires_grad:
                term = (o * u).sum()
                total = term if total is None else total + term
        if total is None:
            flat = [np.zeros_like(v.data) for v in variables.leaves]
        else:
            flat = nested_gradients(total, variables.leaves, start, retain_graph=True)
        return variables.regroup(flat, any(isinstance(g, Tensor) for g in flat))

    outer = forward_mode.active() or recorded_before(out_leaves, start)
    exported = [export(o, as_tensor=variables.as_tensors or outer) for o in out_leaves]
    return pytree.unflatten(out_structure, exported), vjp_fn


def jvp(f, primals, tangents):
    """(f(*primals), J·tangents): the forward mode, one pass carrying a tangent beside every value.

    primals and tangents are tuples with one entry per argument of f (pytrees allowed); each
    tangent has its primal's shape. Returns the output and its tangent, with the same nesting.
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp got {len(primals)} primals but {len(tangents)} tangents")
    enclosing = forward_mode.active()  # inside another jvp
    start = next_sequence()
    with forward_mode.new_level() as level:
        arguments = []
        for primal, tangent in zip(primals, tangents):
            values, structure = pytree.flatten(primal)
            directions, tangent_structure = pytree.flatten(tangent)
            if tangent_structure != structure:
                raise ValueError("each tangent must have the same nesting as its primal")
            enclosing = enclosing or any(isinstance(v, Tensor) for v in values)
            seeded = [_seeded(v, d, level) for v, d in zip(values, directions)]
            arguments.append(pytree.unflatten(structure, seeded))
        out = f(*arguments)
    out_leaves, out_structure = pytree.flatten(out)
    values, derivatives = [], []
    for o in out_leaves:  # inside another transform (enclosing), keep what it traces
        o = o if isinstance(o, Tensor) else Tensor(o)
        d = forward_mode.tangent(o, level)
        if d is None:
            d = Tensor(np.zeros_like(o.data))
        outer = enclosing or recorded_before([o, d], start)
        values.append(export(o, as_tensor=outer))
        derivatives.append(export(d, as_tensor=outer))
    return pytree.unflatten(out_structure, values), pytree.unflatten(out_structure, derivatives)


def _seeded(value, direction, level: int) -> Tensor:
    """A variable for `value` whose tangent at `level` is `direction`."""
    if isinstance(value, Tensor) and (value.requires_grad or value.tangents):
        from .ops.shape import Reshape

        variable = Reshape.apply(value, shape=value.shape)  # stays connected to enclosing traces
    else:
        _check_numeric(value)
        variable = Tensor(value.data if isinstance(value, Tensor) else value)
    direction = direction if isinstance(direction, Tensor) else Tensor(np.asarray(direction, dtype=variable.dtype))
    if direction.shape != variable.shape:
        raise ValueError(f"a tangent of shape {direction.shape} was given for a primal of shape {variable.shape}")
    forward_mode.set_tangent(variable, level, direction)
    return variable


def elementwise_grad(f, argnums=0):
    """Return x ↦ ∂/∂x Σ f(x): for an element-wise f, its derivative at every element of x.

    Handy for plotting f' over a grid: elementwise_grad(gl.tanh)(xs) is 1 - tanh²(xs).
    """

    def elementwise_grad_f(*args):
        return grad(lambda *a: _sum_all(f(*a)), argnums)(*args)

    return elementwise_grad_f


def _sum_all(out):
    from .ops.reduction import sum as total

    return total(out)


def stop_gradient(x):
    """x's value with no derivative flowing through it (in either mode): d/dx stop_gradient(x) = 0."""
    if isinstance(x, Tensor):
        return Tensor._make(x.data, None)
    return pytree.tree_map(lambda v: Tensor._make(v.data, None) if isinstance(v, Tensor) else v, x)


def vmap(f, in_axes=0):
    """Return f mapped over an axis of its arguments: out[i] = f(args[i]).

    A plain Python loop over the slices (clear rather than fast), with the results stacked along
    a new leading axis; in_axes gives the mapped axis per argument (None: pass it whole).
    Works inside grad and the other transforms, since slicing and stacking are recorded ops.
    """

    def mapped(*args):
        axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
        if len(axes) != len(args):
            raise ValueError(f"in_axes has {len(axes)} entries for {len(args)} arguments")
        sizes = {np.shape(a)[ax] for a, ax in zip(args, axes) if ax is not None}
        if len(sizes) != 1:
            raise ValueError(f"vmap: the mapped axes must have one common length, got {sorted(sizes)}")
        (n,) = sizes
        results = []
        for i in range(n):
            sliced = [a if ax is None else _take(a, ax, i) for a, ax in zip(args, axes)]
            results.append(f(*sliced))
        leaves = [pytree.flatten(r)[0] for r in results]
        structure = pytree.flatten(results[0])[1]
        stacked = [_stack_leaves([row[j] for row in leaves]) for j in range(len(leaves[0]))]
        return pytree.unflatten(structure, stacked)

    return mapped


def _take(a, axis, i):
    if isinstance(a, Tensor):
        return a[(slice(None),) * (axis % a.ndim) + (i,)]
    return np.take(np.asarray(a), i, axis=axis)


def _stack_leaves(values):
    if any(isinstance(v, Tensor) for v in values):
        from .ops.shape import stack

        return stack(values)
    return np.stack([np.asarray(v) for v in values])

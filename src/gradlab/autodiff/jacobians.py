"""Jacobians and Hessians, built from the two modes.

For f: Rⁿ → Rᵐ the Jacobian J[i, j] = ∂f_i/∂x_j can be filled in two ways:
    jacrev: one reverse sweep per output,  row i   = e_iᵀ J   (m sweeps: cheap when m is small)
    jacfwd: one forward pass per input,    column j = J e_j   (n passes: cheap when n is small)
A wide Jacobian (few outputs, many inputs: a loss) wants jacrev; a tall one wants jacfwd.

The Hessian H = ∂²f/∂x² of a scalar f is the Jacobian of its gradient: hessian = jacfwd(grad(f)),
forward-over-reverse. hvp(f, x, v) = H v is one forward pass through the gradient: about the
cost of two gradients, and H itself is never formed.
"""

from __future__ import annotations

import numpy as np

from . import pytree
from .functional import _argnum_tuple, grad, jvp, vjp
from .tensor import Tensor

__all__ = ["hessian", "hvp", "jacfwd", "jacobian", "jacrev"]


def _fix_others(f, args, nums):
    """f as a function of the arguments numbered `nums` only, the rest held at their values."""

    def restricted(*chosen):
        full = list(args)
        for n, value in zip(nums, chosen):
            full[n] = value
        return f(*full)

    return restricted, [args[n] for n in nums]


def _single_output(out, name: str):
    leaves, _ = pytree.flatten(out)
    if len(leaves) != 1:
        raise ValueError(f"{name} needs a function with one array output, this one returned {len(leaves)} arrays")
    return leaves[0]


def _stack(values, axis: int = 0):
    """np.stack, or gl.stack when any value is a Tensor (so an enclosing trace keeps going)."""
    if any(isinstance(v, Tensor) for v in values):
        from .ops.shape import stack

        return stack(values, axis=axis)
    return np.stack([np.asarray(v) for v in values], axis=axis)


def _basis(shape, index: int, dtype):
    e = np.zeros(int(np.prod(shape, dtype=int)), dtype=dtype)
    e[index] = 1
    return e.reshape(shape)


def _data(value) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def jacrev(f, argnums=0):
    """Return a function computing the Jacobian of f by reverse mode: one sweep per output element.

    For an output of shape S and an argument of shape T the Jacobian has shape S + T; a pytree
    argument gets a pytree of such blocks, a tuple `argnums` a tuple of them.
    """

    def jacobian_f(*args):
        nums = _argnum_tuple(argnums, len(args))
        restricted, chosen = _fix_others(f, args, nums)
        out, pullback = vjp(restricted, *chosen)
        out = _single_output(out, "jacrev")
        shape, dtype = _data(out).shape, _data(out).dtype
        rows = [pullback(_basis(shape, i, dtype)) for i in range(int(np.prod(shape, dtype=int)))]
        blocks = []
        for k in range(len(nums)):
            leaves, structure = pytree.flatten(rows[0][k]) if rows else pytree.flatten(chosen[k])
            per_leaf = []
            for j, leaf in enumerate(leaves):
                column = [pytree.flatten(row[k])[0][j] for row in rows]
                leaf_shape = _data(leaf).shape
                stacked = _stack(column) if column else np.zeros((0, *leaf_shape))
                per_leaf.append(stacked.reshape((*shape, *leaf_shape)))
            blocks.append(pytree.unflatten(structure, per_leaf))
        return blocks[0] if isinstance(argnums, int) else tuple(blocks)

    return jacobian_f


def jacfwd(f, argnums=0):
    """Return a function computing the Jacobian of f by forward mode: one pass per input element."""

    def jacobian_f(*args):
        nums = _argnum_tuple(argnums, len(args))
        restricted, chosen = _fix_others(f, args, nums)
        flat_inputs = [pytree.flatten(c) for c in chosen]
        zero_tangents = [pytree.unflatten(s, [np.zeros_like(_data(v)) for v in leaves]) for leaves, s in flat_inputs]
        blocks = []
        out_shape = None
        for k, (leaves, structure) in enumerate(flat_inputs):
            per_leaf = []
            for j, leaf in enumerate(leaves):
                leaf_data = _data(leaf)
                columns = []
                for index in range(leaf_data.size):
                    tangents = list(zero_tangents)
                    directions = [np.zeros_like(_data(v)) for v in leaves]
                    directions[j] = _basis(leaf_data.shape, index, leaf_data.dtype)
                    tangents[k] = pytree.unflatten(structure, directions)
                    _, derivative = jvp(restricted, tuple(chosen), tuple(tangents))
                    derivative = _single_output(derivative, "jacfwd")
                    out_shape = _data(derivative).shape
                    columns.append(derivative)
                if columns:
                    block = _stack(columns, axis=-1).reshape((*out_shape, *leaf_data.shape))
                else:
                    block = np.zeros((*(out_shape or ()), *leaf_data.shape))
                per_leaf.append(block)
            blocks.append(pytree.unflatten(structure, per_leaf))
        return blocks[0] if isinstance(argnums, int) else tuple(blocks)

    return jacobian_f


def jacobian(f, argnums=0):
    """The Jacobian of f (reverse mode, as jacrev; use jacfwd for tall Jacobians)."""
    return jacrev(f, argnums)


def hessian(f, argnums=0):
    """Return a function computing the Hessian ∂²f/∂x² of a scalar f: jacfwd(grad(f)), forward-over-reverse."""
    return jacfwd(grad(f, argnums), argnums)


def hvp(f, x, v, mode: str = "rev"):
    """H v, the Hessian of the scalar f at x times the vector v, without forming H.

    mode="rev" (reverse-over-reverse): H v = ∇_x ⟨∇f(x), v⟩, a gradient of a gradient.
    mode="fwd" (forward-over-reverse): H v = d/dε ∇f(x + εv) at ε = 0, one forward pass with
    tangent v through the computation of ∇f. Both cost a small multiple of one gradient
    (benchmarks/second_order.py measures them; reverse-over-reverse is the faster one here).
    """
    if mode == "fwd":
        return jvp(grad(f), (x,), (v,))[1]
    if mode != "rev":
        raise ValueError(f"mode must be 'rev' or 'fwd', got {mode!r}")
    from .ops.reduction import sum as total

    return grad(lambda z: total(grad(f)(z) * v))(x)

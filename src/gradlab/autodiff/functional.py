"""The functional layer: `grad` and `value_and_grad`, JAX-style transforms over the tape.

grad(f)(x) = ∂f/∂x, evaluated at x. Each transform wraps its inputs as fresh leaf Tensors, runs f
(recording the tape), calls backward() once and hands back gradients of the same kind as the inputs:
floats for floats, NumPy arrays for arrays, Tensors for Tensors.
"""

from __future__ import annotations

import numpy as np

from .tensor import Tensor, enable_grad

__all__ = ["grad", "value_and_grad"]


def _argnum_tuple(argnums, count: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not -count <= n < count:
            raise ValueError(f"argnums {argnums} asks for argument {n}, but the function got {count} arguments")
    return tuple(n % count for n in nums)


def _like(original, array: np.ndarray):
    """`array` returned in the kind of `original`: Tensor, NumPy array or Python number."""
    if isinstance(original, Tensor):
        return Tensor._make(array, None)
    if isinstance(original, np.ndarray) or np.ndim(original) > 0:
        return array
    return array.item()


def value_and_grad(f, argnums=0, has_aux: bool = False):
    """Return a function computing (f(*args), ∂f/∂args[argnums]) in one forward and one backward pass.

    f must return a single number (a one-element Tensor or a float). With `has_aux=True`, f returns
    (value, aux) and the result is ((value, aux), gradient). With a tuple `argnums`, the gradient
    is a tuple in the same order.
    """

    def value_and_grad_f(*args, **kwargs):
        nums = _argnum_tuple(argnums, len(args))
        traced = list(args)
        leaves = []
        for n in nums:
            value = args[n].data if isinstance(args[n], Tensor) else args[n]
            leaf = Tensor(value, requires_grad=True)
            leaves.append(leaf)
            traced[n] = leaf
        with enable_grad():
            out = f(*traced, **kwargs)
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError("with has_aux=True the function must return a pair (value, aux)")
            out, aux = out
        result = out if isinstance(out, Tensor) else Tensor(out)
        if result.size != 1:
            raise ValueError(
                f"grad needs a function with a single-number output, this one returned shape {result.shape}; "
                "sum it, or ask for a Jacobian instead"
            )
        if result.requires_grad:
            result.backward()
        grads = []
        for n, leaf in zip(nums, leaves):
            g = leaf.grad if leaf.grad is not None else np.zeros_like(leaf.data)
            grads.append(_like(args[n], g))
        gradient = grads[0] if isinstance(argnums, int) else tuple(grads)
        value = result.detach() if isinstance(args[nums[0]], Tensor) else result.data.item()
        return ((value, aux), gradient) if has_aux else (value, gradient)

    value_and_grad_f.__doc__ = f"Value and gradient of {getattr(f, '__name__', 'f')}."
    return value_and_grad_f


def grad(f, argnums=0, has_aux: bool = False):
    """Return a function computing ∂f/∂args[argnums] (f must return a single number).

    Example: grad(lambda x: x**3)(2.0) == 12.0, since d/dx x³ = 3x².
    """
    value_and_grad_f = value_and_grad(f, argnums, has_aux)

    def grad_f(*args, **kwargs):
        if has_aux:
            (_, aux), gradient = value_and_grad_f(*args, **kwargs)
            return gradient, aux
        return value_and_grad_f(*args, **kwargs)[1]

    grad_f.__doc__ = f"Gradient of {getattr(f, '__name__', 'f')}."
    return grad_f

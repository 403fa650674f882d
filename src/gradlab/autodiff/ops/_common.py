"""Helpers shared by the op modules: turning arguments into Tensors, and `unbroadcast`."""

from __future__ import annotations

import threading

import numpy as np

from ..function import ShapeError
from ..modes import user_site
from ..tensor import Tensor


def tensor(value) -> Tensor:
    """`value` as a Tensor (a constant unless it already is one)."""
    return value if value.__class__ is Tensor or isinstance(value, Tensor) else Tensor(value)


def tensor_pair(a, b) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors. A Python number takes the other operand's dtype, so that
    `x32 * 2.0` stays float32 (a float64 gradient sneaking into a float32 net costs 1.5x)."""
    if a.__class__ is Tensor and b.__class__ is Tensor:  # the common case, checked first
        return a, b
    if isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            b = _constant_like(b, a)
    elif isinstance(b, Tensor):
        a = _constant_like(a, b)
    else:
        a, b = Tensor(a), Tensor(b)
    return a, b


def _constant_like(value, ref: Tensor) -> Tensor:
    if isinstance(value, (int, float)) and ref.data.dtype.kind in "fc":
        return Tensor._make(np.asarray(value, dtype=ref.data.dtype), None)
    return Tensor(value)


def require(condition, message: str):
    """Raise ShapeError(message), naming the caller's line, unless condition holds."""
    if not condition:
        raise ShapeError(f"{message} (called at {user_site()})")


def unbroadcast(g, shape: tuple):
    """Sum `g` down to `shape`: the adjoint of broadcasting `shape` up to `g.shape`.

    Broadcasting copies a value along new leading axes and along axes of length 1; every copy
    contributed to the loss, so the gradient of the original is the sum over those copies.
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra == 1 and len(shape) == 1 and g.__class__ is np.ndarray and g.shape[1] == shape[0]:
        return sum_rows(g)  # a bias added to every row of a batch: the everyday case
    if extra:
        g = g.sum(axis=tuple(range(extra)))
        if g.shape == shape:  # only leading axes were added
            return g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def sum_rows(g: np.ndarray) -> np.ndarray:
    """Σ_i g[i, :] for a matrix g (m, n): the gradient of a bias added to each of m rows.

    Computed as ones(m) @ g, one BLAS matrix-vector product: NumPy's g.sum(axis=0) walks the
    rows through its generic reduction machinery and takes 2-4 times as long for network-sized
    batches (the results agree to rounding).
    """
    return _constant(np.ones, g.shape[0], g.dtype) @ g


def cached_zeros(x: np.ndarray) -> np.ndarray:
    """A read-only array of zeros of x's shape and dtype, kept for reuse.

    `np.maximum(x, zeros)` is 2-4 times faster than `np.maximum(x, 0)`: NumPy 2 compares
    against a scalar without its vectorised loop, and relu runs on every layer of a network.
    """
    return _constant(np.zeros, x.shape, x.dtype)


_constants: dict = {}
_constants_bytes = 0  # the sum of the cached arrays' sizes, kept beside the table (never summed over it)
_constants_lock = threading.Lock()  # threads share the table: a lock around each insertion
_CONSTANTS_BUDGET = 64 * 2**20  # bytes of cached constants kept at most


def _constant(make, shape, dtype) -> np.ndarray:
    """make(shape, dtype), made once per (make, shape, dtype) and read-only (callers must not change
    it). At most 64 MiB are kept (the table starts afresh when a new array would exceed that), so
    a program cycling through many shapes does not hoard memory; larger arrays are not kept.

    Reading needs no lock (one dict lookup is atomic); inserting takes one, so two threads never
    count or clear the table at the same time.
    """
    global _constants_bytes
    key = (make, shape, dtype)
    array = _constants.get(key)
    if array is None:
        array = make(shape, dtype)
        array.flags.writeable = False
        if array.nbytes <= _CONSTANTS_BUDGET:
            with _constants_lock:
                if key in _constants:  # another thread made it meanwhile: share its array
                    return _constants[key]
                if _constants_bytes + array.nbytes > _CONSTANTS_BUDGET:
                    _constants.clear()
                    _constants_bytes = 0
                _constants[key] = array
                _constants_bytes += array.nbytes
    return array


def normalize_axes(axis, ndim: int) -> tuple:
    """`axis` (None, int or tuple, negatives allowed) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    out = []
    for a in axis:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for an array with {ndim} dimensions")
        out.append(a % ndim if ndim else 0)
    return tuple(sorted(out))


def keep_reduced_dims(g, axis, ndim: int, keepdims: bool):
    """Reinsert the reduced axes into `g` (as length 1) so it broadcasts against the input."""
    if keepdims or ndim == 0:
        return g
    axes = normalize_axes(axis, ndim)
    return g.reshape(_kept_shape(g.shape, axes, ndim))


def _kept_shape(reduced_shape, axes, ndim):
    shape = list(reduced_shape)
    for a in axes:
        shape.insert(a, 1)
    return tuple(shape)


def tangent_sum(shape, *tangents):
    """The sum of the tangents that are present, spread to `shape` (None when there are none).

    A forward-mode rule adds one contribution per input; an input of a smaller, broadcast
    shape contributes its tangent copied out to the output's shape.
    """
    total = None
    for t in tangents:
        if t is not None:
            total = t if total is None else total + t
    if total is None:
        return None
    if total.shape != shape:
        total = total.broadcast_to(shape) if isinstance(total, Tensor) else np.broadcast_to(total, shape)
    return total

"""Ops that move values around without changing them: reshape, transpose, broadcast, indexing,
concatenate, stack and pad. Their rules move the gradient back the same way."""

from __future__ import annotations

import numpy as np

from ..function import Function
from ..tensor import Tensor, plain_index
from ._common import tensor, unbroadcast


class Reshape(Function):
    """y = x with a new shape;  dL/dx = g reshaped back;  dy = dx reshaped."""

    __slots__ = ("shape", "shape_out")
    save_inputs = save_output = False

    def forward(self, x, shape):
        self.shape = x.shape
        y = x.reshape(shape)
        self.shape_out = y.shape
        return y

    def vjp(self, g, y, x):
        return (g.reshape(self.shape),)

    def jvp(self, dxs, y, x):
        return dxs[0].reshape(self.shape_out)


class Transpose(Function):
    """y = x with its axes permuted;  dL/dx = g with the inverse permutation;  dy = dx permuted."""

    __slots__ = ("axes",)
    save_inputs = save_output = False

    def forward(self, x, axes):
        self.axes = tuple(range(x.ndim))[::-1] if axes is None else axes
        return x.transpose(self.axes)

    def vjp(self, g, y, x):
        return (g.transpose(tuple(int(i) for i in np.argsort(self.axes))),)

    def jvp(self, dxs, y, x):
        return dxs[0].transpose(self.axes)


class BroadcastTo(Function):
    """y = x copied along new or length-1 axes;  dL/dx = g summed over the copies;  dy = dx copied."""

    __slots__ = ("shape", "shape_out")
    save_inputs = save_output = False

    def forward(self, x, shape):
        self.shape, self.shape_out = x.shape, shape
        return np.broadcast_to(x, shape)

    def vjp(self, g, y, x):
        return (unbroadcast(g, self.shape),)

    def jvp(self, dxs, y, x):
        return (
            dxs[0].broadcast_to(self.shape_out)
            if isinstance(dxs[0], Tensor)
            else np.broadcast_to(dxs[0], self.shape_out)
        )


class GetItem(Function):
    """y = x[index];  dL/dx = zeros with g added at the selected places;  dy = dx[index].

    With integer-array indices an element can be picked twice; its gradient is then the sum of
    both picks (np.add.at), not the last one written.
    """

    __slots__ = ("advanced", "index", "shape")
    save_inputs = save_output = False

    def forward(self, x, index):
        self.index, self.shape = index, x.shape
        self.advanced = _has_integer_array(index)
        return x[index]

    def vjp(self, g, y, x):
        if isinstance(g, Tensor):
            return (IndexAdd.apply(g, index=self.index, shape=self.shape),)
        return (_index_add(g, self.index, self.shape, self.advanced),)

    def jvp(self, dxs, y, x):
        return dxs[0][self.index]


def _index_add(g, index, shape, advanced):
    out = np.zeros(shape, dtype=g.dtype)
    if advanced:
        np.add.at(out, index, g)
    else:
        out[index] = g
    return out


class IndexAdd(Function):
    """y = zeros(shape) with x added at `index` (the adjoint of indexing);  dL/dx = g[index];
    dy = the same scatter of dx. It appears when the gradient of an indexing op is recorded."""

    __slots__ = ("advanced", "index", "shape")
    save_inputs = save_output = False

    def forward(self, x, index, shape):
        self.index, self.shape = index, shape
        self.advanced = _has_integer_array(index)
        return _index_add(x, index, shape, self.advanced)

    def vjp(self, g, y, x):
        return (g[self.index],)

    def jvp(self, dxs, y, x):
        return IndexAdd.apply(dxs[0], index=self.index, shape=self.shape)


def _has_integer_array(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if isinstance(part, (list, np.ndarray)) and np.asarray(part).dtype.kind in "iu":
            return True
    return False


def _take(g, axis: int, position):
    """g[..., position, ...] with `position` (an int or a slice) on `axis`: works on arrays and Tensors."""
    axis = axis % g.ndim
    return g[(slice(None),) * axis + (position,)]


class Concatenate(Function):
    """y = [x_0, x_1, ...] joined along `axis`;  dL/dx_k = the slice of g that came from x_k;
    dy = the tangents joined the same way."""

    __slots__ = ("axis", "bounds", "shapes")
    save_inputs = save_output = False

    def forward(self, *xs, axis):
        self.axis = axis
        self.shapes = [x.shape for x in xs]
        self.bounds = np.concatenate([[0], np.cumsum([x.shape[axis] for x in xs])]).tolist()
        return np.concatenate(xs, axis=axis)

    def vjp(self, g, y, *xs):
        b = self.bounds
        return tuple(_take(g, self.axis, slice(b[k], b[k + 1])) if need else None for k, need in enumerate(self.needs))

    def jvp(self, dxs, y, *xs):
        return concatenate(_zeros_for_missing(dxs, self.shapes, y), axis=self.axis)


class Stack(Function):
    """y = the x_k stacked along a new `axis`;  dL/dx_k = g taken at position k of that axis;
    dy = the tangents stacked."""

    __slots__ = ("axis", "shapes")
    save_inputs = save_output = False

    def forward(self, *xs, axis):
        self.axis = axis
        self.shapes = [x.shape for x in xs]
        return np.stack(xs, axis=axis)

    def vjp(self, g, y, *xs):
        axis = self.axis % g.ndim
        return tuple(_take(g, axis, k) if need else None for k, need in enumerate(self.needs))

    def jvp(self, dxs, y, *xs):
        return stack(_zeros_for_missing(dxs, self.shapes, y), axis=self.axis)


def _zeros_for_missing(tangents, shapes, y):
    return [Tensor(np.zeros(s, dtype=y.dtype)) if t is None else t for t, s in zip(tangents, shapes)]


class Pad(Function):
    """y = x surrounded by a constant;  dL/dx = g with the padding cut off;  dy = dx padded with 0."""

    __slots__ = ("inner", "pad_width")
    save_inputs = save_output = False

    def forward(self, x, pad_width, value):
        self.pad_width = pad_width
        self.inner = tuple(slice(before, before + n) for (before, _), n in zip(pad_width, x.shape))
        return np.pad(x, pad_width, mode="constant", constant_values=value)

    def vjp(self, g, y, x):
        return (g[self.inner],)

    def jvp(self, dxs, y, x):
        return pad(dxs[0], self.pad_width, 0.0)


def reshape(x, shape) -> Tensor:
    """x with a new shape of the same size (one entry may be -1)."""
    x = tensor(x)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return Reshape.apply(x, shape=shape)


def transpose(x, axes=None) -> Tensor:
    """x with its axes reversed (default) or permuted as `axes`."""
    x = tensor(x)
    if axes is not None:
        if any(not -x.ndim <= int(a) < x.ndim for a in axes):
            raise ValueError(f"transpose: axes {tuple(axes)} are out of range for shape {x.shape}")
        axes = tuple(int(a) % x.ndim for a in axes)
        if sorted(axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    return Transpose.apply(x, axes=axes)


def permute(x, *axes) -> Tensor:
    """x with its axes in the order `axes` (PyTorch's name for transpose with axes)."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return transpose(x, axes)


def broadcast_to(x, shape) -> Tensor:
    """x copied (without using memory) to `shape` by NumPy's broadcasting rules."""
    return BroadcastTo.apply(tensor(x), shape=tuple(shape))


expand = broadcast_to


def getitem(x, index) -> Tensor:
    """x[index]: ints, slices, None, Ellipsis, boolean masks and integer arrays as in NumPy."""
    return GetItem.apply(tensor(x), index=_frozen_index(index))


def _frozen_index(index):
    """The index with its arrays copied, so changing them later cannot change the recorded op."""
    index = plain_index(index)
    if isinstance(index, tuple):
        return tuple(np.array(i) if isinstance(i, (np.ndarray, list)) else i for i in index)
    return np.array(index) if isinstance(index, (np.ndarray, list)) else index


def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join a sequence of Tensors along an existing axis."""
    tensors = [tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate needs at least one Tensor")
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ValueError("concatenate joins along an existing axis; 0-d Tensors have none (use stack)")
    if not -ndim <= axis < ndim:
        raise ValueError(f"concatenate: axis {axis} is out of range for {ndim}-d Tensors")
    return Concatenate.apply(*tensors, axis=axis % ndim)


def stack(tensors, axis: int = 0) -> Tensor:
    """Stack same-shaped Tensors along a new axis."""
    tensors = [tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one Tensor")
    return Stack.apply(*tensors, axis=axis)


def pad(x, pad_width, value: float = 0.0) -> Tensor:
    """x padded with a constant; `pad_width` is ((before, after), ...) per axis, or one int for all."""
    x = tensor(x)
    if isinstance(pad_width, int):
        pad_width = ((pad_width, pad_width),) * x.ndim
    elif len(pad_width) == 2 and all(isinstance(p, (int, np.integer)) for p in pad_width):
        pad_width = (tuple(pad_width),) * x.ndim  # (before, after) for every axis, as NumPy allows
    pad_width = tuple((int(a), int(b)) for a, b in pad_width)
    if any(a < 0 or b < 0 for a, b in pad_width):
        raise ValueError(f"pad: pad widths must not be negative, got {pad_width}")
    if len(pad_width) != x.ndim:
        raise ValueError(f"pad: pad_width has {len(pad_width)} entries but x has {x.ndim} axes")
    return Pad.apply(x, pad_width=pad_width, value=value)


def scatter_add(values, index, shape) -> Tensor:
    """zeros(shape) with `values` added at `index` (repeated indices add up): the adjoint of x[index]."""
    return IndexAdd.apply(tensor(values), index=plain_index(index), shape=tuple(shape))

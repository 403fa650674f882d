"""`Tensor`: an n-dimensional array that remembers how it was computed, so gradients can flow back.

Reverse-mode automatic differentiation in three sentences:

1. Every op applied to a Tensor that requires a gradient records a node (function.py) that
   remembers its inputs: the tape.
2. `y.backward()` walks the recorded nodes once, newest first, from y back to the leaves
   (backward.py).
3. At each node the chain rule turns the gradient of the output, g = dL/dy, into gradients of the
   inputs, dL/dx_i = g · dy/dx_i (the op's `vjp` rule), adding up where a value was used twice.

This file holds the Tensor class itself: its facts (shape, dtype), its operators and methods
(each one is the op of the same name in gradlab.autodiff.ops), `backward()`, hooks, and the
in-place changes it allows.
"""

from __future__ import annotations

import weakref

import numpy as np

from .modes import detect_anomaly, enable_grad, is_grad_enabled, keep_values, no_grad, this_thread
from .versions import clock, note_change

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


def to_array(value, dtype=None) -> np.ndarray:
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


def _inplace(ufunc):
    """The method behind x += y for `ufunc` (np.add; likewise -=, *=, /=): x's array changes in place.

    Outside recording, the check of `Tensor._check_change` is skipped: parameter updates
    (p -= lr * p.grad) run this for every parameter at every step. The change is noted only once
    it has happened (a shape error leaves x, and its version, as they were).
    """

    def method(self, other):
        data = self.data
        switches = this_thread.switches
        if switches.grad_enabled:
            self._check_change(other)  # raises if the change could hurt the tape
        # The output array is passed positionally, as NumPy's own `a -= b` does.
        if switches.tracer is None:
            ufunc(data, other.data if isinstance(other, Tensor) else other, data)
        else:  # gl.compile's first call: the change becomes a line of the compiled code
            switches.tracer.numpy_call(ufunc, f"np.{ufunc.__name__}", "__call__", (data, other), {"out": (data,)})
        note_change(data)
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
        self.data = to_array(data, dtype)
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError("only floating-point Tensors can require gradients")
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._node = None
        if requires_grad:
            self.seq = next(clock)  # leaves are numbered like ops, so transforms can tell old from new
        if name is not None:
            self.name = name

    @classmethod
    def _make(cls, data: np.ndarray, node: Function | None) -> Tensor:
        """A Tensor around `data` (not copied) made by `node` (None: a constant)."""
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
        return ops.transpose(self)

    def __len__(self):
        return len(self.data)

    def __bool__(self):
        if this_thread.switches.tracer is not None:
            this_thread.switches.tracer.refuse("bool() of a Tensor")
        return bool(self.data)  # NumPy's rule: only for one element

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t) gives the values (no gradient flows through NumPy functions)."""
        if this_thread.switches.tracer is not None:  # gl.compile: NumPy code on the values is recorded
            return this_thread.switches.tracer.view_of(self.data, dtype, copy)
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
        if this_thread.switches.tracer is not None:  # gl.compile: a number the replay recomputes
            return this_thread.switches.tracer.item_of(self.data)
        return self.data.item()

    def __float__(self):
        if this_thread.switches.tracer is not None:
            this_thread.switches.tracer.refuse("float() of a Tensor (use .item(), which a compiled step may return)")
        return float(self.item())

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> Tensor:
        """The same value, cut off from the tape (no gradient flows through it)."""
        return Tensor._make(self.data, None)

    def astype(self, dtype) -> Tensor:
        return ops.astype(self, dtype)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        if self._node is not None and not flag:
            raise RuntimeError("requires_grad_(False) only works on leaves; use detach() instead")
        self.requires_grad = bool(flag)
        if flag:
            self.seq = next(clock)
        return self

    # --- gradients ---------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph: bool = False, create_graph: bool = False):
        """Fill `.grad` of every leaf with d(self)/d(leaf) (times `gradient` for non-scalars).

        `gradient` is dL/d(self); it defaults to 1 for a one-element Tensor. The tape is freed
        afterwards unless `retain_graph=True`. With `create_graph=True` the backward pass is
        recorded too: the leaves' .grad are then Tensors that can be differentiated again.
        """
        backward.backward(self, gradient, retain_graph, create_graph)

    def register_hook(self, hook) -> backward.HookHandle:
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
        hooks.append(hook)
        return backward.HookHandle(hooks, hook)

    def retain_grad(self):
        """Keep `.grad` on this intermediate (non-leaf) Tensor after backward."""
        if self._node is not None:
            self.register_hook(backward.Retainer(weakref.ref(self)))

    def zero_grad(self):
        self.grad = None

    # --- in-place changes (only where the tape cannot be hurt) ---------------------------------
    def _check_change(self, other=None):
        """Raise if changing this Tensor in place (with `other`) could hurt the tape."""
        gradient_involved = self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)
        if gradient_involved and this_thread.switches.grad_enabled:
            raise RuntimeError(
                "in-place change of a Tensor while recording, with a gradient involved: the tape would "
                "lose the old value, or the gradient of the right-hand side would be dropped. Write "
                "x = x + y instead, or update parameters inside gl.no_grad()."
            )

    def __setitem__(self, index, value):
        if this_thread.switches.tracer is not None:
            this_thread.switches.tracer.refuse_setitem()
        self._check_change(value)
        self.data[plain_index(index)] = value.data if isinstance(value, Tensor) else value
        note_change(self.data)

    __iadd__ = _inplace(np.add)
    __isub__ = _inplace(np.subtract)
    __imul__ = _inplace(np.multiply)
    __itruediv__ = _inplace(np.divide)

    # --- operators: each is the op of the same name (x + y is add(x, y)) ------------------------
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.power(self, other)

    def __rpow__(self, other):
        return ops.power(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __abs__(self):
        return ops.abs(self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    def __pos__(self):
        return self

    # Comparisons give plain boolean arrays: they have no useful derivative.
    def __lt__(self, other):
        return _compare(np.less, self, other)

    def __le__(self, other):
        return _compare(np.less_equal, self, other)

    def __gt__(self, other):
        return _compare(np.greater, self, other)

    def __ge__(self, other):
        return _compare(np.greater_equal, self, other)

    def __eq__(self, other):
        return _compare(np.equal, self, other)

    def __ne__(self, other):
        return _compare(np.not_equal, self, other)

    __hash__ = object.__hash__

    # --- common ops as methods (each is the function of the same name in gradlab) --------------
    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def sin(self):
        return ops.sin(self)

    def cos(self):
        return ops.cos(self)

    def tanh(self):
        return ops.tanh(self)

    def sigmoid(self):
        return ops.sigmoid(self)

    def relu(self):
        return ops.relu(self)

    def abs(self):
        return ops.abs(self)

    def clip(self, low=None, high=None):
        return ops.clip(self, low, high)

    def sum(self, axis=None, keepdims=False):
        return ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return ops.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return ops.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return ops.min(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        return ops.var(self, axis, keepdims, ddof)

    def norm(self, axis=None, keepdims=False):
        return ops.norm(self, axis, keepdims)

    def softmax(self, axis=-1):
        return ops.softmax(self, axis)

    def log_softmax(self, axis=-1):
        return ops.log_softmax(self, axis)

    def logsumexp(self, axis=None, keepdims=False):
        return ops.logsumexp(self, axis, keepdims)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.reshape(self, shape)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return ops.transpose(self, axes or None)

    def permute(self, *axes):
        return self.transpose(*axes)

    def broadcast_to(self, shape):
        return ops.broadcast_to(self, shape)

    expand = broadcast_to

    def flatten(self):
        return ops.reshape(self, (-1,))


def _plain(value):
    return value.data if isinstance(value, Tensor) else value


def _compare(ufunc, a: Tensor, b):
    """a < b and the like: a plain boolean array (recorded while gl.compile traces a step)."""
    tracer = this_thread.switches.tracer
    if tracer is not None:
        return tracer.numpy_call(ufunc, f"np.{ufunc.__name__}", "__call__", (a.data, _plain(b)), {})
    return ufunc(a.data, _plain(b))


def plain_index(index):
    if isinstance(index, tuple):
        return tuple(_plain(i) for i in index)
    return _plain(index)


def as_tensor(value, dtype=None) -> Tensor:
    """`value` itself if it is a Tensor, else a new constant Tensor (float64 unless float32 given)."""
    if isinstance(value, Tensor):
        return value
    return Tensor(value, dtype=dtype)


# The engine's other parts are built on Tensor, so they are loaded once it exists; Tensor's
# methods call them at run time. Function and ShapeError are also reachable from here, where
# code outside the engine has always imported them.
from . import backward, ops  # noqa: E402
from .function import Function, ShapeError  # noqa: E402

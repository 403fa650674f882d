"""Element-wise ops: arithmetic, exponentials, trigonometry and activations.

Each class states y = f(x) with its two derivative rules side by side:
    vjp (reverse mode):  dL/dx = g · f'(x),  g = dL/dy
    jvp (forward mode):  dy = f'(x) · dx,    dx = the tangent of x
Rules use operators and the helpers in `either`, so they run on arrays (plain backward) and on
Tensors (recorded, for higher derivatives). Binary ops broadcast; their reverse rules sum the
gradient back to each input's shape with `unbroadcast`, their forward rules spread tangents out.
"""

from __future__ import annotations

import math

import numpy as np

from ..function import Function, ShapeError
from ..modes import user_site
from ..tensor import Tensor
from . import either
from ._common import cached_zeros, tangent_sum, tensor, tensor_pair, unbroadcast


# --- arithmetic -------------------------------------------------------------------------------
class Add(Function):
    """y = a + b;  dL/da = g,  dL/db = g;  dy = da + db."""

    __slots__ = ("shapes",)
    save_inputs = save_output = False

    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return a + b

    def vjp(self, g, y, a, b):
        a_shape, b_shape = self.shapes
        return (
            unbroadcast(g, a_shape) if self.needs[0] else None,
            unbroadcast(g, b_shape) if self.needs[1] else None,
        )

    def jvp(self, dxs, y, a, b):
        return tangent_sum(y.shape, *dxs)


class Sub(Function):
    """y = a - b;  dL/da = g,  dL/db = -g;  dy = da - db."""

    __slots__ = ("shapes",)
    save_inputs = save_output = False

    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return a - b

    def vjp(self, g, y, a, b):
        a_shape, b_shape = self.shapes
        return (
            unbroadcast(g, a_shape) if self.needs[0] else None,
            unbroadcast(-g, b_shape) if self.needs[1] else None,
        )

    def jvp(self, dxs, y, a, b):
        da, db = dxs
        return tangent_sum(y.shape, da, None if db is None else -db)


class Mul(Function):
    """y = a * b;  dL/da = g * b,  dL/db = g * a;  dy = da * b + a * db."""

    save_output = False

    def forward(self, a, b):
        return a * b

    def vjp(self, g, y, a, b):
        return (
            unbroadcast(g * b, a.shape) if self.needs[0] else None,
            unbroadcast(g * a, b.shape) if self.needs[1] else None,
        )

    def jvp(self, dxs, y, a, b):
        da, db = dxs
        return tangent_sum(y.shape, None if da is None else da * b, None if db is None else a * db)


class Div(Function):
    """y = a / b;  dL/da = g / b,  dL/db = -g * a / b² = -g * y / b;  dy = (da - y * db) / b."""

    def forward(self, a, b):
        return a / b

    def vjp(self, g, y, a, b):
        return (
            unbroadcast(g / b, a.shape) if self.needs[0] else None,
            unbroadcast(-g * y / b, b.shape) if self.needs[1] else None,
        )

    def jvp(self, dxs, y, a, b):
        da, db = dxs
        return tangent_sum(y.shape, None if da is None else da / b, None if db is None else -y * db / b)


class Neg(Function):
    """y = -x;  dL/dx = -g;  dy = -dx."""

    save_inputs = save_output = False

    def forward(self, x):
        return -x

    def vjp(self, g, y, x):
        return (-g,)

    def jvp(self, dxs, y, x):
        return -dxs[0]


class Power(Function):
    """y = a ** b;  dL/da = g * b * a**(b-1),  dL/db = g * y * ln(a);  dy = b a**(b-1) da + y ln(a) db.

    ln(a) is taken as 0 where a <= 0: there a**b is only defined for integer b, and
    the derivative in b does not exist on the reals.
    """

    def forward(self, a, b):
        return a**b

    def vjp(self, g, y, a, b):
        ga = gb = None
        if self.needs[0]:
            ga = unbroadcast(g * _power_slope(a, b), a.shape)
        if self.needs[1]:
            gb = unbroadcast(g * y * _log_of_positive(a), b.shape)
        return ga, gb

    def jvp(self, dxs, y, a, b):
        da, db = dxs
        return tangent_sum(
            y.shape,
            None if da is None else _power_slope(a, b) * da,
            None if db is None else y * _log_of_positive(a) * db,
        )


def _power_slope(a, b):
    """∂(a**b)/∂a = b·a**(b-1), taken as 0 where b = 0 (a**0 = 1 is flat, even at a = 0, where
    a**(b-1) would be infinite). The base is replaced by 1 there, so no inf is ever computed."""
    constant = either.values(b) == 0
    if not np.any(constant):
        return b * a ** (b - 1)
    return b * either.where(constant, 1.0, a) ** (b - 1)


def _log_of_positive(a):
    return either.log(either.where(a > 0, a, 1))


class Atan2(Function):
    """y = atan2(a, b), the angle of the point (b, a) in (-pi, pi]; with r² = a² + b²:
    dL/da = g * b / r²,  dL/db = -g * a / r²;  dy = (b * da - a * db) / r²."""

    save_output = False

    def forward(self, a, b):
        return np.arctan2(a, b)

    def vjp(self, g, y, a, b):
        r2 = a * a + b * b
        return (
            unbroadcast(g * b / r2, a.shape) if self.needs[0] else None,
            unbroadcast(-g * a / r2, b.shape) if self.needs[1] else None,
        )

    def jvp(self, dxs, y, a, b):
        da, db = dxs
        r2 = a * a + b * b
        return tangent_sum(y.shape, None if da is None else da * b / r2, None if db is None else -(db * a) / r2)


class Maximum(Function):
    """y = max(a, b) element-wise; the gradient goes to the larger input, split evenly on ties."""

    save_output = False

    def forward(self, a, b):
        return np.maximum(a, b)

    def vjp(self, g, y, a, b):
        return _split_by_winner(self.needs, g, a > b, a == b, a.shape, b.shape)

    def jvp(self, dxs, y, a, b):
        return _winner_tangent(dxs, a > b, a == b, y.shape)


class Minimum(Function):
    """y = min(a, b) element-wise; the gradient goes to the smaller input, split evenly on ties."""

    save_output = False

    def forward(self, a, b):
        return np.minimum(a, b)

    def vjp(self, g, y, a, b):
        return _split_by_winner(self.needs, g, a < b, a == b, a.shape, b.shape)

    def jvp(self, dxs, y, a, b):
        return _winner_tangent(dxs, a < b, a == b, y.shape)


def _split_by_winner(needs, g, a_wins, tie, a_shape, b_shape):
    half = 0.5 * g
    ga = gb = None
    if needs[0]:
        ga = unbroadcast(either.where(a_wins, g, either.where(tie, half, 0)), a_shape)
    if needs[1]:
        gb = unbroadcast(either.where(a_wins, 0, either.where(tie, half, g)), b_shape)
    return ga, gb


def _winner_tangent(dxs, a_wins, tie, shape):
    """Tangent of the winner: a's where a wins, b's where b wins, their mean on ties."""
    da, db = dxs
    da = 0 if da is None else da
    db = 0 if db is None else db
    out = either.where(a_wins, da, either.where(tie, 0.5 * (da + db), db))
    return tangent_sum(shape, out)


class Where(Function):
    """y = a where cond else b;  dL/da = g where cond (else 0),  dL/db = g where not cond.

    The gradient is selected, never multiplied by the mask, so a NaN or Inf in the branch
    that was not taken (log of a negative, say) does not leak into the gradient.
    """

    __slots__ = ("cond", "shapes")
    save_inputs = save_output = False

    def forward(self, a, b, cond):
        self.cond, self.shapes = cond, (a.shape, b.shape)
        return np.where(cond, a, b)

    def vjp(self, g, y, a, b):
        a_shape, b_shape = self.shapes
        return (
            unbroadcast(either.where(self.cond, g, 0), a_shape) if self.needs[0] else None,
            unbroadcast(either.where(self.cond, 0, g), b_shape) if self.needs[1] else None,
        )

    def jvp(self, dxs, y, a, b):
        da, db = dxs
        return tangent_sum(y.shape, either.where(self.cond, 0 if da is None else da, 0 if db is None else db))


class AsType(Function):
    """y = x converted to another float dtype;  dL/dx = g converted back;  dy = dx converted."""

    __slots__ = ("dtype_in", "dtype_out")
    save_inputs = save_output = False

    def forward(self, x, dtype):
        self.dtype_in, self.dtype_out = x.dtype, dtype
        return x.astype(dtype)

    def vjp(self, g, y, x):
        return (g.astype(self.dtype_in),)

    def jvp(self, dxs, y, x):
        return dxs[0].astype(self.dtype_out)


# --- exponentials and powers ------------------------------------------------------------------
class Exp(Function):
    """y = e^x;  dL/dx = g * e^x = g * y;  dy = y dx."""

    save_inputs = False

    def forward(self, x):
        return np.exp(x)

    def vjp(self, g, y, x):
        return (g * y,)

    def jvp(self, dxs, y, x):
        return dxs[0] * y


class Log(Function):
    """y = ln x;  dL/dx = g / x;  dy = dx / x."""

    save_output = False

    def forward(self, x):
        return np.log(x)

    def vjp(self, g, y, x):
        return (g / x,)

    def jvp(self, dxs, y, x):
        return dxs[0] / x


class Sqrt(Function):
    """y = sqrt(x);  dL/dx = g / (2 sqrt(x)) = g / (2y);  dy = dx / (2y)."""

    save_inputs = False

    def forward(self, x):
        return np.sqrt(x)

    def vjp(self, g, y, x):
        return (g / (2 * y),)

    def jvp(self, dxs, y, x):
        return dxs[0] / (2 * y)


class Abs(Function):
    """y = |x|;  dL/dx = g * sign(x), with the sub-gradient |x|'(0) = 0;  dy = sign(x) dx."""

    save_output = False

    def forward(self, x):
        return np.abs(x)

    def vjp(self, g, y, x):
        return (g * np.sign(either.values(x)),)

    def jvp(self, dxs, y, x):
        return dxs[0] * np.sign(either.values(x))


# --- trigonometry -----------------------------------------------------------------------------
class Sin(Function):
    """y = sin x;  dL/dx = g * cos x;  dy = cos x dx."""

    save_output = False

    def forward(self, x):
        return np.sin(x)

    def vjp(self, g, y, x):
        return (g * either.cos(x),)

    def jvp(self, dxs, y, x):
        return dxs[0] * either.cos(x)


class Cos(Function):
    """y = cos x;  dL/dx = -g * sin x;  dy = -sin x dx."""

    save_output = False

    def forward(self, x):
        return np.cos(x)

    def vjp(self, g, y, x):
        return (-g * either.sin(x),)

    def jvp(self, dxs, y, x):
        return -dxs[0] * either.sin(x)


class Tan(Function):
    """y = tan x;  dL/dx = g / cos²x = g * (1 + y²);  dy = (1 + y²) dx."""

    save_inputs = False

    def forward(self, x):
        return np.tan(x)

    def vjp(self, g, y, x):
        return (g * (1 + y * y),)

    def jvp(self, dxs, y, x):
        return dxs[0] * (1 + y * y)


# --- activations ------------------------------------------------------------------------------
class Tanh(Function):
    """y = tanh x;  dL/dx = g * (1 - y²);  dy = (1 - y²) dx."""

    save_inputs = False

    def forward(self, x):
        return np.tanh(x)

    def vjp(self, g, y, x):
        return (g * (1 - y * y),)

    def jvp(self, dxs, y, x):
        return dxs[0] * (1 - y * y)


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e^-x);  dL/dx = g * y * (1 - y);  dy = y (1 - y) dx.

    Computed piecewise so that e^(-x) never overflows: for x < 0, σ(x) = e^x / (1 + e^x).
    """

    save_inputs = False

    def forward(self, x):
        return either.sigmoid(x)

    def vjp(self, g, y, x):
        return (g * y * (1 - y),)

    def jvp(self, dxs, y, x):
        return dxs[0] * y * (1 - y)


class Relu(Function):
    """y = max(x, 0);  dL/dx = g where x > 0, else 0 (relu'(0) = 0);  dy = dx where x > 0.

    Since y > 0 exactly where x > 0, the rules read the output, which the next layer keeps anyway.
    """

    save_inputs = False

    def forward(self, x):
        return np.maximum(x, cached_zeros(x))  # against an array, not 0: see cached_zeros

    def vjp(self, g, y, x):
        return (g * (y > 0),)

    def jvp(self, dxs, y, x):
        return dxs[0] * (y > 0)


class LeakyRelu(Function):
    """y = x for x > 0, slope * x otherwise;  dL/dx = g or slope * g;  dy likewise."""

    __slots__ = ("slope",)
    save_output = False

    def forward(self, x, slope):
        self.slope = slope
        return np.where(x > 0, x, slope * x)

    def vjp(self, g, y, x):
        return (either.where(x > 0, g, self.slope * g),)

    def jvp(self, dxs, y, x):
        return either.where(x > 0, dxs[0], self.slope * dxs[0])


class Softplus(Function):
    """y = ln(1 + e^x), computed as max(x, 0) + ln(1 + e^-|x|);  dL/dx = g * σ(x);  dy = σ(x) dx."""

    save_output = False

    def forward(self, x):
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    def vjp(self, g, y, x):
        return (g * either.sigmoid(x),)

    def jvp(self, dxs, y, x):
        return dxs[0] * either.sigmoid(x)


class Clip(Function):
    """y = min(max(x, low), high);  dL/dx = g inside [low, high], 0 where the value was clipped."""

    __slots__ = ("high", "low")
    save_output = False

    def forward(self, x, low, high):
        self.low, self.high = low, high
        return np.clip(x, low, high)

    def _inside(self, x):
        x = either.values(x)
        inside = np.ones(x.shape, dtype=bool)
        if self.low is not None:
            inside &= x >= self.low
        if self.high is not None:
            inside &= x <= self.high
        return inside

    def vjp(self, g, y, x):
        return (either.where(self._inside(x), g, 0),)

    def jvp(self, dxs, y, x):
        return either.where(self._inside(x), dxs[0], 0)


# --- the public functions ---------------------------------------------------------------------
def add(a, b) -> Tensor:
    """a + b, broadcasting."""
    if a.__class__ is not Tensor or b.__class__ is not Tensor:  # the common case skips a call
        a, b = tensor_pair(a, b)
    return Add.apply(a, b)


def sub(a, b) -> Tensor:
    """a - b, broadcasting."""
    if a.__class__ is not Tensor or b.__class__ is not Tensor:  # the common case skips a call
        a, b = tensor_pair(a, b)
    return Sub.apply(a, b)


def mul(a, b) -> Tensor:
    """a * b element-wise, broadcasting."""
    if a.__class__ is not Tensor or b.__class__ is not Tensor:  # the common case skips a call
        a, b = tensor_pair(a, b)
    return Mul.apply(a, b)


def div(a, b) -> Tensor:
    """a / b element-wise, broadcasting."""
    if a.__class__ is not Tensor or b.__class__ is not Tensor:  # the common case skips a call
        a, b = tensor_pair(a, b)
    return Div.apply(a, b)


def neg(x) -> Tensor:
    """-x."""
    return Neg.apply(tensor(x))


def power(a, b) -> Tensor:
    """a ** b element-wise (b may be a Tensor too)."""
    if a.__class__ is not Tensor or b.__class__ is not Tensor:  # the common case skips a call
        a, b = tensor_pair(a, b)
    return Power.apply(a, b)


def atan2(a, b) -> Tensor:
    """The angle of the point (x = b, y = a) in (-pi, pi], element-wise, broadcasting (np.arctan2)."""
    a, b = tensor_pair(a, b)
    return Atan2.apply(a, b)


def maximum(a, b) -> Tensor:
    """Element-wise max(a, b); ties share the gradient equally."""
    if a.__class__ is not Tensor or b.__class__ is not Tensor:  # the common case skips a call
        a, b = tensor_pair(a, b)
    return Maximum.apply(a, b)


def minimum(a, b) -> Tensor:
    """Element-wise min(a, b); ties share the gradient equally."""
    if a.__class__ is not Tensor or b.__class__ is not Tensor:  # the common case skips a call
        a, b = tensor_pair(a, b)
    return Minimum.apply(a, b)


def where(cond, a, b) -> Tensor:
    """a where cond is true, else b (cond is a boolean array, or a comparison of Tensors)."""
    cond = np.array(cond.data if isinstance(cond, Tensor) else cond, dtype=bool)  # a copy: the tape keeps it
    a, b = tensor_pair(a, b)
    try:
        np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ShapeError(
            f"where: condition {cond.shape}, a {a.shape} and b {b.shape} do not broadcast together; "
            f"called at {user_site()}"
        ) from None
    return Where.apply(a, b, cond=cond)


def astype(x, dtype) -> Tensor:
    """x converted to `dtype` (float32 or float64); the gradient is converted back."""
    return AsType.apply(tensor(x), dtype=np.dtype(dtype))


def exp(x) -> Tensor:
    """e^x."""
    return Exp.apply(tensor(x))


def log(x) -> Tensor:
    """Natural logarithm ln x."""
    return Log.apply(tensor(x))


def sqrt(x) -> Tensor:
    """Square root."""
    return Sqrt.apply(tensor(x))


def abs(x) -> Tensor:  # noqa: A001  (the NumPy-style name users expect: gl.abs)
    """|x|; its derivative at 0 is taken as 0."""
    return Abs.apply(tensor(x))


def sin(x) -> Tensor:
    """sin x (radians)."""
    return Sin.apply(tensor(x))


def cos(x) -> Tensor:
    """cos x (radians)."""
    return Cos.apply(tensor(x))


def tan(x) -> Tensor:
    """tan x (radians)."""
    return Tan.apply(tensor(x))


def tanh(x) -> Tensor:
    """Hyperbolic tangent."""
    return Tanh.apply(tensor(x))


def sigmoid(x) -> Tensor:
    """σ(x) = 1 / (1 + e^-x), stable for large |x|."""
    return Sigmoid.apply(tensor(x))


def relu(x) -> Tensor:
    """max(x, 0)."""
    return Relu.apply(tensor(x))


def leaky_relu(x, slope: float = 0.01) -> Tensor:
    """x for x > 0, slope * x otherwise."""
    return LeakyRelu.apply(tensor(x), slope=float(slope))


def softplus(x) -> Tensor:
    """ln(1 + e^x), a smooth relu; stable for large |x|."""
    return Softplus.apply(tensor(x))


def gelu(x) -> Tensor:
    """Gaussian error linear unit, tanh approximation:
    gelu(x) = x/2 · (1 + tanh(sqrt(2/π) · (x + 0.044715 x³))).

    Written with other ops, so its derivative (of any order) comes from theirs.
    """
    x = tensor(x)
    inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)
    return 0.5 * x * (1 + tanh(inner))


def clip(x, low=None, high=None) -> Tensor:
    """x limited to [low, high] (either may be None); the gradient is 0 where clipping happened."""
    if low is None and high is None:
        raise ValueError("clip needs at least one of low and high")
    low = low.data if isinstance(low, Tensor) else low
    high = high.data if isinstance(high, Tensor) else high
    return Clip.apply(tensor(x), low=low, high=high)

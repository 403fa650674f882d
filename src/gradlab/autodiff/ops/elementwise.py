"""Element-wise ops: arithmetic, exponentials, trigonometry and activations.

Each class states y = f(x) and its rule dL/dx = g * f'(x), where g = dL/dy.
Binary ops broadcast; their rules sum the gradient back to each input's shape with `unbroadcast`.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Function, Tensor
from ._common import tensor, tensor_pair, unbroadcast


# --- arithmetic -------------------------------------------------------------------------------
class Add(Function):
    """y = a + b;  dL/da = g,  dL/db = g."""

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


class Sub(Function):
    """y = a - b;  dL/da = g,  dL/db = -g."""

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


class Mul(Function):
    """y = a * b;  dL/da = g * b,  dL/db = g * a."""

    save_output = False

    def forward(self, a, b):
        return a * b

    def vjp(self, g, y, a, b):
        return (
            unbroadcast(g * b, a.shape) if self.needs[0] else None,
            unbroadcast(g * a, b.shape) if self.needs[1] else None,
        )


class Div(Function):
    """y = a / b;  dL/da = g / b,  dL/db = -g * a / b**2 = -g * y / b."""

    def forward(self, a, b):
        return a / b

    def vjp(self, g, y, a, b):
        return (
            unbroadcast(g / b, a.shape) if self.needs[0] else None,
            unbroadcast(-g * y / b, b.shape) if self.needs[1] else None,
        )


class Neg(Function):
    """y = -x;  dL/dx = -g."""

    save_inputs = save_output = False

    def forward(self, x):
        return -x

    def vjp(self, g, y, x):
        return (-g,)


class Power(Function):
    """y = a ** b;  dL/da = g * b * a**(b-1),  dL/db = g * y * ln(a).

    ln(a) is taken as 0 where a <= 0: there a**b is only defined for integer b, and
    the derivative in b does not exist on the reals.
    """

    def forward(self, a, b):
        return a**b

    def vjp(self, g, y, a, b):
        ga = gb = None
        if self.needs[0]:
            ga = unbroadcast(g * b * a ** (b - 1), a.shape)
        if self.needs[1]:
            log_a = np.log(np.where(a > 0, a, 1))
            gb = unbroadcast(g * y * log_a, b.shape)
        return ga, gb


class Maximum(Function):
    """y = max(a, b) element-wise; the gradient goes to the larger input, split evenly on ties."""

    save_output = False

    def forward(self, a, b):
        return np.maximum(a, b)

    def vjp(self, g, y, a, b):
        return _split_by_winner(self.needs, g, a > b, a == b, a.shape, b.shape)


class Minimum(Function):
    """y = min(a, b) element-wise; the gradient goes to the smaller input, split evenly on ties."""

    save_output = False

    def forward(self, a, b):
        return np.minimum(a, b)

    def vjp(self, g, y, a, b):
        return _split_by_winner(self.needs, g, a < b, a == b, a.shape, b.shape)


def _split_by_winner(needs, g, a_wins, tie, a_shape, b_shape):
    half = 0.5 * g
    ga = gb = None
    if needs[0]:
        ga = unbroadcast(np.where(a_wins, g, np.where(tie, half, 0)), a_shape)
    if needs[1]:
        gb = unbroadcast(np.where(a_wins, 0, np.where(tie, half, g)), b_shape)
    return ga, gb


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
            unbroadcast(np.where(self.cond, g, 0), a_shape) if self.needs[0] else None,
            unbroadcast(np.where(self.cond, 0, g), b_shape) if self.needs[1] else None,
        )


class AsType(Function):
    """y = x converted to another float dtype;  dL/dx = g converted back."""

    __slots__ = ("dtype_in",)
    save_inputs = save_output = False

    def forward(self, x, dtype):
        self.dtype_in = x.dtype
        return x.astype(dtype)

    def vjp(self, g, y, x):
        return (g.astype(self.dtype_in),)


# --- exponentials and powers ------------------------------------------------------------------
class Exp(Function):
    """y = e^x;  dL/dx = g * e^x = g * y."""

    save_inputs = False

    def forward(self, x):
        return np.exp(x)

    def vjp(self, g, y, x):
        return (g * y,)


class Log(Function):
    """y = ln x;  dL/dx = g / x."""

    save_output = False

    def forward(self, x):
        return np.log(x)

    def vjp(self, g, y, x):
        return (g / x,)


class Sqrt(Function):
    """y = sqrt(x);  dL/dx = g / (2 sqrt(x)) = g / (2y)."""

    save_inputs = False

    def forward(self, x):
        return np.sqrt(x)

    def vjp(self, g, y, x):
        return (g / (2 * y),)


class Abs(Function):
    """y = |x|;  dL/dx = g * sign(x), with the sub-gradient |x|'(0) = 0."""

    save_output = False

    def forward(self, x):
        return np.abs(x)

    def vjp(self, g, y, x):
        return (g * np.sign(x),)


# --- trigonometry -----------------------------------------------------------------------------
class Sin(Function):
    """y = sin x;  dL/dx = g * cos x."""

    save_output = False

    def forward(self, x):
        return np.sin(x)

    def vjp(self, g, y, x):
        return (g * np.cos(x),)


class Cos(Function):
    """y = cos x;  dL/dx = -g * sin x."""

    save_output = False

    def forward(self, x):
        return np.cos(x)

    def vjp(self, g, y, x):
        return (-g * np.sin(x),)


class Tan(Function):
    """y = tan x;  dL/dx = g / cos²x = g * (1 + y²)."""

    save_inputs = False

    def forward(self, x):
        return np.tan(x)

    def vjp(self, g, y, x):
        return (g * (1 + y * y),)


# --- activations ------------------------------------------------------------------------------
class Tanh(Function):
    """y = tanh x;  dL/dx = g * (1 - y²)."""

    save_inputs = False

    def forward(self, x):
        return np.tanh(x)

    def vjp(self, g, y, x):
        return (g * (1 - y * y),)


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e^-x);  dL/dx = g * y * (1 - y).

    Computed piecewise so that e^(-x) never overflows: for x < 0, σ(x) = e^x / (1 + e^x).
    """

    save_inputs = False

    def forward(self, x):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def vjp(self, g, y, x):
        return (g * y * (1 - y),)


class Relu(Function):
    """y = max(x, 0);  dL/dx = g where x > 0, else 0 (relu'(0) = 0). Since y > 0 exactly where
    x > 0, the rule reads the output, which the next layer keeps anyway."""

    save_inputs = False

    def forward(self, x):
        return np.maximum(x, 0)

    def vjp(self, g, y, x):
        return (g * (y > 0),)


class LeakyRelu(Function):
    """y = x for x > 0, slope * x otherwise;  dL/dx = g or slope * g."""

    __slots__ = ("slope",)
    save_output = False

    def forward(self, x, slope):
        self.slope = slope
        return np.where(x > 0, x, slope * x)

    def vjp(self, g, y, x):
        return (np.where(x > 0, g, self.slope * g),)


class Softplus(Function):
    """y = ln(1 + e^x), computed as max(x, 0) + ln(1 + e^-|x|);  dL/dx = g * σ(x)."""

    save_output = False

    def forward(self, x):
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    def vjp(self, g, y, x):
        return (g * Sigmoid.forward(None, x),)


class Clip(Function):
    """y = min(max(x, low), high);  dL/dx = g inside [low, high], 0 where the value was clipped."""

    __slots__ = ("high", "low")
    save_output = False

    def forward(self, x, low, high):
        self.low, self.high = low, high
        return np.clip(x, low, high)

    def vjp(self, g, y, x):
        inside = np.ones(x.shape, dtype=bool)
        if self.low is not None:
            inside &= x >= self.low
        if self.high is not None:
            inside &= x <= self.high
        return (np.where(inside, g, 0),)


# --- the public functions ---------------------------------------------------------------------
def add(a, b) -> Tensor:
    """a + b, broadcasting."""
    return Add.apply(*tensor_pair(a, b))


def sub(a, b) -> Tensor:
    """a - b, broadcasting."""
    return Sub.apply(*tensor_pair(a, b))


def mul(a, b) -> Tensor:
    """a * b element-wise, broadcasting."""
    return Mul.apply(*tensor_pair(a, b))


def div(a, b) -> Tensor:
    """a / b element-wise, broadcasting."""
    return Div.apply(*tensor_pair(a, b))


def neg(x) -> Tensor:
    """-x."""
    return Neg.apply(tensor(x))


def power(a, b) -> Tensor:
    """a ** b element-wise (b may be a Tensor too)."""
    return Power.apply(*tensor_pair(a, b))


def maximum(a, b) -> Tensor:
    """Element-wise max(a, b); ties share the gradient equally."""
    return Maximum.apply(*tensor_pair(a, b))


def minimum(a, b) -> Tensor:
    """Element-wise min(a, b); ties share the gradient equally."""
    return Minimum.apply(*tensor_pair(a, b))


def where(cond, a, b) -> Tensor:
    """a where cond is true, else b (cond is a boolean array, or a comparison of Tensors)."""
    cond = np.asarray(cond.data if isinstance(cond, Tensor) else cond, dtype=bool)
    a, b = tensor_pair(a, b)
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
    return Clip.apply(tensor(x), low=low, high=high)

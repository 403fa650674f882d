"""A bridge to SymPy: a function written with gradlab ops becomes a symbolic expression.

symbolic(f) runs f once on sample numbers with every value kept (gl.keep_values), then walks the
recorded graph and rebuilds it with SymPy: leaves become the symbols x, y, …, constants become
exact numbers where they are simple fractions, and each op becomes its SymPy counterpart. From
there SymPy differentiates and integrates exactly:

    symbolic(lambda x: x**2)             x**2
    symbolic_derivative(lambda x: x**2)  2*x
    antiderivative(lambda x: x**2)       x**3/3      (print it as ∫x**2 dx = x**3/3 + C)

Only single-number functions built from element-wise ops can be rebuilt. Python control flow
(if x > 0: …) is frozen at the sample point, as in any tracer.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from ..autodiff import Tensor, grad, keep_values
from ..autodiff.tensor import Function

__all__ = ["SymbolicError", "antiderivative", "check_against_symbolic", "symbolic", "symbolic_derivative"]

SAMPLE_POINTS = (0.7316, 1.2143, 0.4521, 1.8377, 0.9862)  # away from 0 and 1, distinct


class SymbolicError(ValueError):
    """A function that cannot be turned into a symbolic expression."""


def _exact(value: float):
    """2.0 -> 2, 0.5 -> 1/2, 0.1 -> 1/10; anything not a short fraction stays a float."""
    value = float(value)
    if value.is_integer():
        return sp.Integer(int(value))
    fraction = Fraction(value).limit_denominator(1000)
    if abs(float(fraction) - value) <= 1e-15 * max(1.0, abs(value)):
        return sp.Rational(fraction.numerator, fraction.denominator)
    return sp.Float(value)


_UNARY = {
    "Neg": lambda a: -a,
    "Exp": sp.exp,
    "Log": sp.log,
    "Sqrt": sp.sqrt,
    "Abs": sp.Abs,
    "Sin": sp.sin,
    "Cos": sp.cos,
    "Tan": sp.tan,
    "Tanh": sp.tanh,
    "Sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
    "Relu": lambda a: sp.Max(0, a),
    "Softplus": lambda a: sp.log(1 + sp.exp(a)),
    "AsType": lambda a: a,
    "Reshape": lambda a: a,
    "Sum": lambda a: a,
    "Mean": lambda a: a,
}
_BINARY = {
    "Add": lambda a, b: a + b,
    "Sub": lambda a, b: a - b,
    "Mul": lambda a, b: a * b,
    "Div": lambda a, b: a / b,
    "Power": lambda a, b: a**b,
    "Maximum": sp.Max,
    "Minimum": sp.Min,
}


def symbolic(f, variables=("x",)) -> sp.Expr:
    """The SymPy expression that f computes, as a function of the named variables."""
    variables = tuple(variables)
    symbols = sp.symbols(variables, real=True)
    symbols = symbols if isinstance(symbols, tuple) else (symbols,)
    leaves = [Tensor(SAMPLE_POINTS[i % len(SAMPLE_POINTS)], requires_grad=True) for i in range(len(variables))]
    with keep_values():
        out = f(*leaves)
    if not isinstance(out, Tensor):
        return _exact(out)
    if out.size != 1:
        raise SymbolicError(f"symbolic() needs a function returning one number, this one returned shape {out.shape}")
    by_leaf = {id(leaf): symbol for leaf, symbol in zip(leaves, symbols)}
    if out._node is None:
        return by_leaf.get(id(out), _exact(out.data))
    return _rebuild(out._node, by_leaf)


def _rebuild(root: Function, by_leaf: dict) -> sp.Expr:
    """Post-order walk of the graph (no recursion, so deep formulas are fine)."""
    done: dict[int, sp.Expr] = {}
    stack = [(root, False)]
    while stack:
        fn, expanded = stack.pop()
        if id(fn) in done:
            continue
        if not expanded:
            stack.append((fn, True))
            stack.extend((p, False) for p in fn.parents if isinstance(p, Function) and id(p) not in done)
            continue
        operands = []
        for i, parent in enumerate(fn.parents):
            if isinstance(parent, Function):
                operands.append(done[id(parent)])
            elif isinstance(parent, Tensor) and id(parent) in by_leaf:
                operands.append(by_leaf[id(parent)])
            else:
                constant = fn.inputs[i].data
                if np.size(constant) != 1:
                    raise SymbolicError(f"op {fn.name} uses a constant array; symbolic() handles single numbers")
                operands.append(_exact(np.asarray(constant).reshape(())))
        name = fn.name
        if name in _UNARY and len(operands) == 1:
            done[id(fn)] = _UNARY[name](operands[0])
        elif name in _BINARY and len(operands) == 2:
            done[id(fn)] = _BINARY[name](*operands)
        else:
            raise SymbolicError(f"op {name} has no symbolic counterpart here; symbolic() handles element-wise maths")
    return done[id(root)]


def symbolic_derivative(f, variables=("x",), wrt: int = 0, simplify: bool = True) -> sp.Expr:
    """∂f/∂(variable number wrt), exactly, by SymPy (simplified for reading unless simplify=False)."""
    expression = symbolic(f, variables)
    result = sp.diff(expression, sp.Symbol(tuple(variables)[wrt], real=True))
    return sp.simplify(result) if simplify else result


def antiderivative(f, variable: str = "x") -> sp.Expr:
    """An antiderivative F with F' = f (the indefinite integral without its + C)."""
    return sp.integrate(symbolic(f, (variable,)), sp.Symbol(variable, real=True))


def check_against_symbolic(f, points, variables=("x",), rtol: float = 1e-9) -> float:
    """Compare the engine's derivative of f with SymPy's at the given points; return the worst
    relative difference (raises AssertionError above rtol)."""
    exact = sp.lambdify(sp.symbols(variables, real=True), symbolic_derivative(f, variables, simplify=False), "numpy")
    engine = grad(f)
    worst = 0.0
    for x in np.atleast_1d(points):
        a, b = float(engine(float(x))), float(exact(float(x)))
        worst = max(worst, abs(a - b) / max(1.0, abs(b)))
    if worst > rtol:
        raise AssertionError(f"the engine and SymPy disagree on the derivative: worst relative difference {worst:.3g}")
    return worst

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

SymPy has no time limit of its own, and simplify() can take minutes on a formula of 60 characters
(twelve nested sines) or recurse past Python's limit on a deeply nested one. derivative_within(text,
budget=2.0) therefore does the symbolic step for a typed formula in a child process that is ended
when the budget runs out, and says what happened instead of raising (see SymbolicAnswer).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from ..autodiff import Node, Tensor, grad, keep_values, walk

__all__ = [
    "SymbolicAnswer",
    "SymbolicError",
    "antiderivative",
    "check_against_symbolic",
    "derivative_within",
    "symbolic",
    "symbolic_derivative",
]

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
    if out.is_leaf:
        return by_leaf.get(id(out), _exact(out.data))
    return _rebuild(out, by_leaf)


def _rebuild(out: Tensor, by_leaf: dict) -> sp.Expr:
    """Each recorded op's SymPy expression, in the order they ran (every input is built first)."""
    done: dict[Node, sp.Expr] = {}
    expression = None
    for node in walk(out):
        operands = []
        for x in node.inputs:
            if isinstance(x, Node):
                operands.append(done[x])
            elif isinstance(x, Tensor) and id(x) in by_leaf:
                operands.append(by_leaf[id(x)])
            else:  # a constant (keep_values kept it), or a leaf that is not one of the variables
                if np.size(x.data) != 1:
                    raise SymbolicError(f"op {node.name} uses a constant array; symbolic() handles single numbers")
                operands.append(_exact(np.asarray(x.data).reshape(())))
        if node.name in _UNARY and len(operands) == 1:
            expression = _UNARY[node.name](operands[0])
        elif node.name in _BINARY and len(operands) == 2:
            expression = _BINARY[node.name](*operands)
        else:
            raise SymbolicError(
                f"op {node.name} has no symbolic counterpart here; symbolic() handles element-wise maths"
            )
        done[node] = expression
    return expression  # the last op recorded is out's own


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


# --- the symbolic step with a time budget -------------------------------------------------------------

SYMBOLIC_BUDGET = 2.0  # seconds: the default budget of derivative_within
_STARTUP_ALLOWANCE = 60.0  # seconds for a freshly started interpreter to import gradlab (spawn only)
_CHILD_STACK = 512 * 2**20  # bytes of stack for SymPy's recursion in the child (reserved, not used up front)
_CHILD_RECURSION_LIMIT = 100_000


@dataclass(frozen=True)
class SymbolicAnswer:
    """What the symbolic step gave: `text` is the derivative as SymPy prints it, or None, and then
    `status` says why: "timeout" (past the budget), "unsupported" (no symbolic counterpart) or
    "failed" (SymPy stopped with an error; `detail` has it)."""

    text: str | None
    status: str  # "ok", "timeout", "unsupported" or "failed"
    detail: str = ""
    seconds: float = 0.0


def _derive_text(formula: str, variables: tuple[str, ...], wrt: int, simplify: bool) -> tuple[str, str]:
    from .expressions import parse_expression

    try:
        function = parse_expression(formula, variables)
        with np.errstate(all="ignore"):
            return "ok", str(symbolic_derivative(function, variables, wrt=wrt, simplify=simplify))
    except SymbolicError as error:
        return "unsupported", str(error)
    except RecursionError:
        return "failed", "the formula is nested too deeply for SymPy"
    except Exception as error:  # the child reports any SymPy failure as a sentence, never a traceback
        return "failed", f"SymPy stopped with {type(error).__name__}: {error}"


def _worker(connection, formula: str, variables: tuple[str, ...], wrt: int, simplify: bool) -> None:
    """The child process: say it is ready, derive, send (status, text), exit. SymPy recurses once per
    level of the expression, so the work runs in a thread with a large stack and a high recursion limit."""
    warnings.simplefilter("ignore")
    with contextlib.suppress(ValueError, OSError, AttributeError):  # Ctrl-C is the parent's to handle
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    connection.send(("ready", ""))
    answer = [("failed", "SymPy did not finish")]

    def work():
        answer[0] = _derive_text(formula, variables, wrt, simplify)

    try:
        threading.stack_size(_CHILD_STACK)
        sys.setrecursionlimit(_CHILD_RECURSION_LIMIT)
        thread = threading.Thread(target=work, name="gradlab-sympy")
        thread.start()
        thread.join()
    except (RuntimeError, ValueError, MemoryError):  # no room for a large stack: SymPy's usual depth
        work()
    connection.send(answer[0])
    connection.close()


def _start_method() -> str:
    """fork (fast: the child has gradlab and SymPy loaded already) when this process runs one Python
    thread; otherwise spawn, since forking beside other Python threads can deadlock the child."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


def derivative_within(
    formula: str, variables=("x",), wrt: int = 0, budget: float | None = None, simplify: bool = True
) -> SymbolicAnswer:
    """∂f/∂(variable number wrt) of the typed formula, as SymPy prints it, within `budget` seconds
    (default SYMBOLIC_BUDGET). SymPy runs in a child process that is ended when the budget runs out,
    so nothing keeps running afterwards; the answer then has status "timeout". Never raises for a
    formula that parse_expression accepts."""
    budget = SYMBOLIC_BUDGET if budget is None else float(budget)
    variables = tuple(variables)
    method = _start_method()
    context = multiprocessing.get_context(method)
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_worker, args=(sender, formula, variables, wrt, simplify), name="gradlab-symbolic", daemon=True
    )
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns about fork() when native threads exist (a BLAS pool, idle); the child
            # only runs SymPy and gradlab's scalar ops, which take none of their locks.
            warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
            process.start()
        sender.close()
        if not receiver.poll(_STARTUP_ALLOWANCE if method != "fork" else max(budget, 1.0)):
            return SymbolicAnswer(None, "timeout", seconds=time.perf_counter() - start)
        receiver.recv()  # "ready": the budget starts now
        start = time.perf_counter()
        if not receiver.poll(max(budget, 0.0)):
            return SymbolicAnswer(None, "timeout", seconds=time.perf_counter() - start)
        status, text = receiver.recv()
    except (EOFError, OSError):
        return SymbolicAnswer(None, "failed", "the SymPy process ended without an answer")
    finally:
        _end(process)
        receiver.close()
    seconds = time.perf_counter() - start
    if status == "ok":
        return SymbolicAnswer(text, "ok", seconds=seconds)
    return SymbolicAnswer(None, status, text, seconds)


def _end(process) -> None:
    """Stop the child if it is still working, and reap it."""
    if process.pid is None:
        return
    process.join(0.05)
    if process.is_alive():
        process.terminate()
        process.join(1.0)
    if process.is_alive():
        process.kill()
        process.join()
    process.close()

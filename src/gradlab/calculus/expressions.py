"""A safe parser for formulas typed by people: "x**2*sin(x) + exp(-y)" becomes a function.

The text is parsed with Python's own `ast` module and then checked against a whitelist: numbers,
the named variables, the constants pi and e, the operators + - * / ** and unary minus, and
calls of the functions in FUNCTIONS. Anything else — attribute access, indexing, names that are
not listed, lambdas, comprehensions, keywords, strings — is refused with a message that points
at the offending part. The tree is then turned into nested Python closures over gradlab ops:
nothing is ever passed to eval or exec, so a formula can only compute, and its derivatives come
from the engine like those of any other function.

Limits (each refusal says which one was hit): at most MAX_LENGTH = 500 characters, MAX_NODES = 300
syntax-tree parts, and MAX_DEPTH = 40 levels of nesting. Each function call, power, unary minus
and operand of an operator is a level; a run of one kind of operator (x + x - x + ..., x * x / x)
counts once, so a long sum is not "deep".
Numbers are at most MAX_CONSTANT in size and constant exponents at most MAX_POWER.

evaluate_parts(expression, x, ...) evaluates a parsed formula one part at a time in IEEE float64
arithmetic (inf and nan where Python's floats would raise), innermost parts first, so a caller can
say which part of a formula is undefined or overflows at a point.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass

import numpy as np

from .. import autodiff as gl

__all__ = ["FUNCTIONS", "Expression", "ExpressionError", "Part", "evaluate_parts", "parse_expression"]

MAX_LENGTH = 500  # characters
MAX_NODES = 300  # syntax-tree nodes
MAX_DEPTH = 40  # levels of nesting (a run of + - or of * / counts once)
MAX_CONSTANT = 1e12  # largest number written in a formula
MAX_POWER = 100  # largest constant exponent


def _square(x):
    return x * x


FUNCTIONS = {
    "sin": gl.sin,
    "cos": gl.cos,
    "tan": gl.tan,
    "exp": gl.exp,
    "log": gl.log,
    "ln": gl.log,
    "sqrt": gl.sqrt,
    "abs": gl.abs,
    "tanh": gl.tanh,
    "sigmoid": gl.sigmoid,
    "relu": gl.relu,
    "softplus": gl.softplus,
    "square": _square,
}
CONSTANTS = {"pi": math.pi, "e": math.e}

_OPERATORS = {
    ast.Add: ("+", lambda a, b: a + b),
    ast.Sub: ("-", lambda a, b: a - b),
    ast.Mult: ("*", lambda a, b: a * b),
    ast.Div: ("/", lambda a, b: a / b),
    ast.Pow: ("**", lambda a, b: a**b),
}
_HINTS = {
    ast.BitXor: "'^' is not a power here; write x**2",
    ast.Attribute: "attribute access (a.b) is not allowed; call functions by name, e.g. sin(x)",
    ast.Subscript: "indexing (a[i]) is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Compare: "comparisons are not allowed; a formula must give a number",
    ast.BoolOp: "'and'/'or' are not allowed",
    ast.IfExp: "'if ... else' is not allowed",
    ast.Starred: "'*args' is not allowed",
}


class ExpressionError(ValueError):
    """A formula that cannot be accepted; `column` is where the problem starts (0-based)."""

    def __init__(self, message: str, text: str, column: int | None = None):
        self.reason, self.text, self.column = message, text, column
        where = ""
        if column is not None:
            where = f"\n  {text}\n  {' ' * column}^"
        super().__init__(f"{message}{where}")


@dataclass(frozen=True)
class Expression:
    """A parsed formula: call it with one value per variable (numbers, arrays or Tensors)."""

    text: str
    variables: tuple[str, ...]
    _evaluate: object

    def __call__(self, *values):
        if len(values) != len(self.variables):
            names = ", ".join(self.variables)
            raise TypeError(f"{self.text!r} takes {len(self.variables)} value(s) ({names}), got {len(values)}")
        return self._evaluate(dict(zip(self.variables, values)))


def parse_expression(text: str, variables=("x",)) -> Expression:
    """Parse `text` into an Expression of the given variables, or raise ExpressionError."""
    if not isinstance(text, str):
        raise ExpressionError(f"a formula must be text, got {type(text).__name__}", str(text))
    variables = tuple(variables)
    for name in variables:
        if not name.isidentifier() or name in FUNCTIONS or name in CONSTANTS:
            raise ExpressionError(f"{name!r} cannot be a variable name", text)
    stripped = text.strip()
    if not stripped:
        raise ExpressionError("the formula is empty", text)
    if len(stripped) > MAX_LENGTH:
        raise ExpressionError(f"the formula is {len(stripped)} characters long; the limit is {MAX_LENGTH}", stripped)
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as error:
        column = max(0, (error.offset or 1) - 1)
        raise ExpressionError(f"this is not a valid formula ({error.msg})", stripped, column) from None
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise ExpressionError(f"the formula has {nodes} parts; the limit is {MAX_NODES}", stripped)
    builder = _Builder(stripped, variables)
    return Expression(stripped, variables, builder.build(tree.body, depth=0))


def _same_run(node: ast.BinOp, left: ast.AST) -> bool:
    """Whether `left` continues a run of one kind of operator (x + x - x, x * x / x): one level."""
    groups = ((ast.Add, ast.Sub), (ast.Mult, ast.Div))
    return isinstance(left, ast.BinOp) and any(
        isinstance(node.op, group) and isinstance(left.op, group) for group in groups
    )


class _Builder:
    """Turns a checked syntax tree into a closure: env -> value."""

    def __init__(self, text: str, variables: tuple[str, ...]):
        self.text, self.variables = text, variables

    def fail(self, message: str, node: ast.AST):
        raise ExpressionError(message, self.text, getattr(node, "col_offset", None))

    def build(self, node: ast.AST, depth: int):
        if depth > MAX_DEPTH:
            self.fail(f"the formula is nested more than {MAX_DEPTH} levels deep", node)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            inner = self.build(node.operand, depth + 1)
            if isinstance(node.op, ast.USub):
                return lambda env: -inner(env)
            return inner
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return self.binary(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        hint = _HINTS.get(type(node)) or (isinstance(node, ast.BinOp) and _HINTS.get(type(node.op)))
        self.fail(hint or f"'{ast.get_source_segment(self.text, node) or type(node).__name__}' is not allowed", node)

    def constant(self, node: ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"only numbers are allowed as constants, not {value!r}", node)
        if not abs(value) <= MAX_CONSTANT:
            self.fail(f"the number {value} is too large (the limit is {MAX_CONSTANT:g})", node)
        value = float(value)
        return lambda env: value

    def name(self, node: ast.Name):
        if node.id in self.variables:
            name = node.id
            return lambda env: env[name]
        if node.id in CONSTANTS:
            value = CONSTANTS[node.id]
            return lambda env: value
        if node.id.startswith("__"):
            self.fail(f"'{node.id}' is not allowed", node)
        known = ", ".join(self.variables)
        self.fail(f"unknown name '{node.id}' (variables: {known}; constants: pi, e)", node)

    def binary(self, node: ast.BinOp, depth: int):
        symbol, combine = _OPERATORS[type(node.op)]
        if symbol == "**" and isinstance(node.right, ast.Constant) and isinstance(node.right.value, (int, float)):
            if abs(node.right.value) > MAX_POWER:
                self.fail(f"the exponent {node.right.value} is too large (the limit is {MAX_POWER})", node.right)
        left = self.build(node.left, depth + (0 if _same_run(node, node.left) else 1))
        right = self.build(node.right, depth + 1)
        return lambda env: combine(left(env), right(env))

    def call(self, node: ast.Call, depth: int):
        if not isinstance(node.func, ast.Name):
            self.fail(_HINTS.get(type(node.func), "only named functions can be called, e.g. sin(x)"), node.func)
        name = node.func.id
        if name not in FUNCTIONS:
            allowed = ", ".join(sorted(FUNCTIONS))
            self.fail(f"unknown function '{name}' (allowed: {allowed})", node.func)
        if node.keywords:
            self.fail(f"{name}() takes no keyword arguments", node.keywords[0].value)
        if len(node.args) != 1:
            self.fail(f"{name}() takes exactly one argument, got {len(node.args)}", node)
        function = FUNCTIONS[name]
        argument = self.build(node.args[0], depth + 1)
        return lambda env: function(argument(env))


# --- evaluation part by part ------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One part of a formula evaluated at a point: `kind` is "number", "name", "neg", one of
    + - * / **, or a function name; `operands` are the values it was applied to (`operand_texts`
    their source, `varying` whether each depends on a variable); `value` is what it gave."""

    text: str
    kind: str
    operands: tuple[float, ...]
    operand_texts: tuple[str, ...]
    varying: tuple[bool, ...]
    value: float


def _ieee(kind: str, operands: tuple[float, ...]) -> float:
    """One operator or function applied to float64 numbers, giving inf or nan rather than raising."""
    a = [np.float64(v) for v in operands]
    if kind == "neg":
        result = -a[0]
    elif kind in ("+", "-", "*", "/", "**"):
        result = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}[kind](a[0], a[1])
    else:
        result = FUNCTIONS[kind](a[0])
    return float(np.asarray(getattr(result, "data", result)).reshape(()))


def evaluate_parts(expression: Expression, *values) -> tuple[Part, ...]:
    """Evaluate `expression` at single numbers (one per variable), part by part, in IEEE float64
    arithmetic: 1/0 gives inf and log(-1) nan where Python's floats would raise. Every part comes
    after the parts it is made of (innermost first), so the first Part whose value is not finite
    is where the formula stops being defined. Walks the tree without recursion."""
    if len(values) != len(expression.variables):
        raise TypeError(f"{expression.text!r} takes {len(expression.variables)} value(s), got {len(values)}")
    env = {name: float(np.asarray(getattr(v, "data", v)).reshape(())) for name, v in zip(expression.variables, values)}
    text = expression.text
    root = ast.parse(text, mode="eval").body
    done: dict[int, tuple[float, bool]] = {}  # id(node) -> (value, depends on a variable)
    parts: list[Part] = []
    stack: list[tuple[ast.AST, bool]] = [(root, False)]
    with np.errstate(all="ignore"):
        while stack:
            node, expanded = stack.pop()
            children = _children(node)
            if not expanded and children:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(children))
                continue
            kind = _kind(node)
            if kind == "number":
                value, varying = float(node.value), False
            elif kind == "name":
                varying = node.id in env
                value = env[node.id] if varying else CONSTANTS[node.id]
            else:
                operands = tuple(done[id(child)][0] for child in children)
                varying_operands = tuple(done[id(child)][1] for child in children)
                value = operands[0] if kind == "pos" else _ieee(kind, operands)
                varying = any(varying_operands)
                if kind != "pos":
                    texts = tuple(ast.get_source_segment(text, child) or "" for child in children)
                    segment = ast.get_source_segment(text, node) or text
                    parts.append(Part(segment, kind, operands, texts, varying_operands, value))
            done[id(node)] = (value, varying)
    return tuple(parts)


def _children(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.Call):
        return [node.args[0]]
    return []


def _kind(node: ast.AST) -> str:
    if isinstance(node, ast.Constant):
        return "number"
    if isinstance(node, ast.Name):
        return "name"
    if isinstance(node, ast.UnaryOp):
        return "neg" if isinstance(node.op, ast.USub) else "pos"
    if isinstance(node, ast.BinOp):
        return _OPERATORS[type(node.op)][0]
    return node.func.id

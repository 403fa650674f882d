"""`gradlab derive FORMULA --at X`: the value of a typed formula of x, its derivative exactly (by the
engine) and numerically (central difference), and f'(x) symbolically (by SymPy).

    add_derive_command(subparsers)   adds the `derive` sub-command
    run(args, budget=None) -> int    0 for a result, 2 for a user error (a sentence on stderr)

Every formula the parser accepts and every point gives a result or one sentence, never a traceback:

- X must be a finite number (argparse refuses nan and inf with the usage line).
- If f is not defined at X (log(x) at -1, 1/x at 0, x**0.5 at -1) or overflows there (x**2 at 1e300,
  9**9**9**9), the command says so, naming the part of the formula that fails, and exits with 2.
  A formula counts as undefined at X when any part of it is, even if floating point would carry on
  past it (exp(-1/x**2) at 0 divides by zero, although NumPy would give exp(-inf) = 0).
- If f is defined at X but f' is not (sqrt(x) at 0: an infinite slope), the result is printed with
  f'(X) = undefined and the reason, and the exit code is 0: what is known is a result. At a corner
  of abs or relu the engine's convention abs'(0) = relu'(0) = 0 is printed and named as such.
- The central difference is shown when it can be computed; when f is undefined at x - h or x + h
  it is "not available" and the line says where.
- The symbolic step runs in a child process with a time budget (SYMBOLIC_BUDGET, 2 s); past it,
  the numbers are printed and the f'(x) line says the step was skipped.
- NumPy's floating-point warnings are switched off here: the sentences above replace them.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
import sys
import warnings

from .argtypes import finite

__all__ = ["MAX_SHOWN", "SYMBOLIC_BUDGET", "add_derive_command", "run"]

SYMBOLIC_BUDGET = 2.0  # seconds for SymPy (differentiate and simplify); tests may lower it
MAX_SHOWN = 1000  # characters: a longer symbolic derivative is not printed
_LARGEST = "the largest float, about 1.8e308"


def add_derive_command(subparsers) -> argparse.ArgumentParser:
    """Add `derive` to an argparse sub-parser set (the `gradlab` command's `commands`)."""
    from .calculus.expressions import MAX_DEPTH, MAX_LENGTH

    derive = subparsers.add_parser(
        "derive",
        help="value and derivative of a typed formula, exact and numerical",
        description="The value of a formula of x at a point, its derivative exactly (automatic "
        "differentiation) and by a central difference, and f'(x) symbolically (SymPy).",
        epilog=f"Formulas are at most {MAX_LENGTH} characters and {MAX_DEPTH} levels deep. Exit status: 0 "
        "with a result (also when f'(X) is undefined, which is then said), 2 when the formula or the "
        "point cannot be used (f undefined or overflowing at X).",
    )
    derive.add_argument(
        "formula",
        help='a formula of x, e.g. "x**2*sin(x)" (allowed: numbers, x, pi, e, + - * / **, '
        "sin cos tan exp log sqrt abs tanh sigmoid relu softplus)",
    )
    derive.add_argument("--at", type=finite, required=True, metavar="X", help="the finite point x at which to evaluate")
    # After the options are added (argparse checks them against this pattern): a word that starts
    # with '-' but is not an option is a value, so "-x**2" is a formula and "--at -1e-3" a point.
    if hasattr(derive, "_negative_number_matcher") and not derive._has_negative_number_optionals:
        derive._negative_number_matcher = re.compile(r"^-")
    return derive


@contextlib.contextmanager
def _quiet():
    """No floating-point warnings: inf and nan are looked at and explained in sentences instead."""
    import numpy as np

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def run(args, budget: float | None = None) -> int:
    """Print f(x), f'(x) exact and numerical, and the symbolic f'(x) for args.formula at args.at.
    `budget` is the time for the symbolic step in seconds (default SYMBOLIC_BUDGET)."""
    import numpy as np

    from .autodiff import value_and_grad
    from .calculus.expressions import ExpressionError, evaluate_parts, parse_expression

    budget = SYMBOLIC_BUDGET if budget is None else budget
    try:
        f = parse_expression(args.formula)
    except ExpressionError as error:
        return _refuse(str(error))
    at = float(args.at) + 0.0  # -0 is shown as 0
    if not math.isfinite(at):
        return _refuse(f"the point must be a finite number, got {at}")
    with _quiet():
        parts = evaluate_parts(f, at)
        problem = _first_problem(parts)
        if problem is not None:
            return _refuse(_not_defined(f.text, at, parts, problem))
        # every part of f is finite at x, so Python's float arithmetic on the formula's constants
        # cannot raise either: the engine runs on a NumPy number
        value, slope = value_and_grad(f)(np.float64(at))
        value, slope = float(value), float(slope)
        rows = [("f(x)", f.text, ""), (f"f({_num(at)})", f"{value + 0.0:.10g}", "")]
        rows += _derivative_rows(f, at, parts, slope)
    labels = [row[0] for row in rows] + ["f'(x)"]
    width = max(len(label) for label in labels)
    for row in rows:
        _print_row(width, *row)
    sys.stdout.flush()
    _print_row(width, *_symbolic_row(f.text, budget))
    return 0


def _refuse(message: str) -> int:
    print(f"gradlab derive: {message}", file=sys.stderr)
    return 2


def _print_row(width: int, label: str, text: str, note: str) -> None:
    print(f"{label:<{width}} {'=' if label else ' '} {text}" + (f"   ({note})" if note else ""))


def _num(x: float) -> str:
    return f"{x:.12g}"


# --- where f is not defined ----------------------------------------------------------------------------


def _first_problem(parts) -> int | None:
    """The index of the first part that is not finite (its operands are, being earlier parts)."""
    return next((i for i, part in enumerate(parts) if not math.isfinite(part.value)), None)


def _not_defined(formula: str, at: float, parts, index: int) -> str:
    """One sentence: "log(x) is undefined at x = -1 (log needs x > 0)"."""
    part = parts[index]
    where = f" at x = {_num(at)}" if any(any(p.varying) for p in parts) else ""
    if math.isinf(part.value) and _is_overflow(part):
        subject = "its value" if part.text == formula else part.text
        return f"{formula} overflows{where} ({subject} is beyond {_LARGEST})"
    return f"{formula} is undefined{where} ({_domain_reason(parts, index)})"


def _is_overflow(part) -> bool:
    """Whether an infinite value comes from size (exp(1000)) rather than a pole (1/0, log(0), 0**-1)."""
    if part.kind == "/" and part.operands[1] == 0:
        return False
    if part.kind in ("log", "ln") and part.operands[0] == 0:
        return False
    return not (part.kind == "**" and part.operands[0] == 0 and part.operands[1] < 0)


def _needs(name: str, text: str, varying: bool, value: float, condition: str) -> str:
    if text == "x":
        return f"{name} needs x {condition}"
    if varying:
        return f"{name} needs {text} {condition}; here {text} = {_num(value)}"
    return f"{name} needs a number {condition}; here it is {_num(value)}"


def _domain_reason(parts, index: int) -> str:
    part = parts[index]
    kind, operands, texts = part.kind, part.operands, part.operand_texts
    if kind in ("log", "ln"):
        return _needs(kind, texts[0], part.varying[0], operands[0], "> 0")
    if kind == "sqrt":
        return _needs(kind, texts[0], part.varying[0], operands[0], ">= 0")
    if kind == "/":
        if operands[0] == 0:
            return f"0/0: {texts[0]} and {texts[1]} are both 0 there"
        if index > 0 and parts[index - 1].text == texts[1] and _underflowed(parts[index - 1]):
            return f"division by zero: {texts[1]} underflows to 0 there, being too small for a float"
        return f"division by zero: {texts[1]} is 0 there"
    if kind == "**":
        base, power = operands
        if base == 0 and power < 0:
            return f"0 to the negative power {_num(power)} divides by zero: {texts[0]} is 0 there"
        if base < 0 and power != int(power):
            return (
                f"a negative number to a fractional power has no real value: {texts[0]} = {_num(base)} "
                f"and the power is {_num(power)}"
            )
    return f"{part.text} gives {part.value}"


def _underflowed(part) -> bool:
    """A zero from nonzero numbers by a product, quotient, power or exp: a rounding to 0, not a true 0."""
    multiplicative = ("*", "/", "**", "exp", "sigmoid", "softplus", "square")
    return part.value == 0 and part.kind in multiplicative and all(v != 0 for v in part.operands)


# --- the derivative, exact and numerical ------------------------------------------------------------


def _derivative_rows(f, at: float, parts, slope: float) -> list[tuple[str, str, str]]:
    label = f"f'({_num(at)})"
    rows = []
    no_derivative = _no_derivative(parts)  # the engine may still give a number there (x**x at 0)
    if no_derivative is None and math.isfinite(slope):
        corner = _corner(parts, at)
        note = "exact, by automatic differentiation"
        if corner:
            note += f", with the convention {corner}"
        rows.append((label, f"{slope + 0.0:.10g}", note))
    elif no_derivative is not None:
        rows.append((label, "undefined", no_derivative))
    elif math.isinf(slope) and (vertical := _vertical(parts)) is not None:
        rows.append((label, "undefined", f"{vertical}, a vertical tangent"))
    elif math.isinf(slope):
        rows.append((label, "overflows", f"the slope is beyond {_LARGEST}"))
    else:
        vertical = _vertical(parts)
        reason = f": {vertical}" if vertical else " (inf * 0 or inf - inf along the way)"
        rows.append((label, "undefined", f"the chain rule has no value there{reason}"))
    numeric, note = _central_difference(f, at, slope if rows[0][1] not in ("undefined", "overflows") else math.nan)
    rows.append(("", numeric, note))
    return rows


def _corner(parts, at: float) -> str | None:
    """abs'(0) = 0 or relu'(0) = 0 when the formula sits on a corner of abs or relu."""
    for part in parts:
        if part.kind in ("abs", "relu") and part.operands[0] == 0 and part.varying[0]:
            return f"{part.kind}'(0) = 0: {part.text} has a corner at x = {_num(at)}"
    return None


def _vertical(parts) -> str | None:
    """The first part with an infinite slope at its argument: sqrt at 0, a power between 0 and 1 at 0."""
    for part in parts:
        operands, texts, varying = part.operands, part.operand_texts, part.varying
        if not varying[0] or operands[0] != 0:
            continue
        where = "there" if texts[0] == "x" else f"where {texts[0]} = 0"
        if part.kind == "sqrt":
            return f"{part.text} has an infinite slope {where}"
        if part.kind == "**" and 0 < operands[1] < 1:
            return f"{part.text} has an infinite slope {where}"
    return None


def _no_derivative(parts) -> str | None:
    """A power with a varying exponent at a base <= 0: it has no real values on one side at least, so
    no derivative (x**x at 0, (-2)**x at 2), whatever number the engine's convention gives."""
    for part in parts:
        if part.kind != "**" or not part.varying[1]:
            continue
        base, power = part.operands
        if base < 0 or (base == 0 and (part.varying[0] or power == 0)):
            base_is = f"{part.operand_texts[0]} = {_num(base)}" if part.varying[0] else f"the base is {_num(base)}"
            needs = "a power with a varying exponent needs a base > 0"
            return f"{part.text} has no derivative there: {needs}, and {base_is}"
    return None


def _central_difference(f, at: float, slope: float) -> tuple[str, str]:
    """(value, note) of the central difference, or why it is not available."""
    import numpy as np

    from .calculus.derivatives import numerical_derivative
    from .calculus.expressions import evaluate_parts

    h = float(np.finfo(np.float64).eps) ** (1 / 3) * max(1.0, abs(at))  # numerical_derivative's own step
    for side, x in (("x - h", at - h), ("x + h", at + h)):
        parts = evaluate_parts(f, x)
        index = _first_problem(parts)
        if index is not None:
            what = "overflows" if math.isinf(parts[index].value) and _is_overflow(parts[index]) else "is undefined"
            return "not available", f"central difference: f {what} at {side} = {x:.6g}"
    try:
        numeric = float(numerical_derivative(lambda t: f(np.float64(t)), at, h=h, method="central"))
    except (ArithmeticError, ValueError, TypeError) as error:
        return "not available", f"central difference: {error}"
    if not math.isfinite(numeric):
        return "not available", "central difference: it overflows"
    if math.isfinite(slope):
        return f"{numeric + 0.0:.10g}", f"central difference, error {abs(numeric - slope):.1e}"
    return f"{numeric + 0.0:.10g}", "central difference: an estimate from the two sides, see the line above"


# --- the symbolic step --------------------------------------------------------------------------------


def _symbolic_row(formula: str, budget: float) -> tuple[str, str, str]:
    from .calculus.symbolic import derivative_within

    answer = derivative_within(formula, ("x",), budget=budget)
    if answer.status == "ok":
        if len(answer.text) > MAX_SHOWN:
            return "f'(x)", f"(symbolic, by SymPy: {len(answer.text)} characters long, not shown)", ""
        return "f'(x)", answer.text, "symbolic, by SymPy"
    if answer.status == "timeout":
        return "f'(x)", f"(symbolic step skipped: took longer than {budget:g} s)", ""
    return "f'(x)", f"(symbolic step skipped: {answer.detail})", ""

"""`gradlab derive FORMULA --at X`: the value of a typed formula of x, its derivative exactly (by the
engine) and numerically (central difference), and f'(x) symbolically (by SymPy).

    add_derive_command(subparsers)   adds the `derive` sub-command
    run(args) -> int                 0 on success, 2 on a user error (message on stderr)
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_derive_command", "run"]


def add_derive_command(subparsers) -> argparse.ArgumentParser:
    """Add `derive` to an argparse sub-parser set (the `gradlab` command's `commands`)."""
    derive = subparsers.add_parser("derive", help="value and derivative of a typed formula, exact and numerical")
    derive.add_argument(
        "formula",
        help='a formula of x, e.g. "x**2*sin(x)" (allowed: numbers, x, pi, e, + - * / **, '
        "sin cos tan exp log sqrt abs tanh sigmoid relu softplus)",
    )
    derive.add_argument("--at", type=float, required=True, help="the point x at which to evaluate")
    return derive


def run(args) -> int:
    """Print f(x), f'(x) exact and numerical, and the symbolic f'(x) for args.formula at args.at."""
    from .calculus import ExpressionError, derivative, numerical_derivative, parse_expression, symbolic_derivative

    formula, at = args.formula, args.at
    try:
        f = parse_expression(formula)
    except ExpressionError as error:
        print(f"gradlab derive: {error}", file=sys.stderr)
        return 2
    value = f(at).item()
    exact = derivative(f)(at)
    numeric = numerical_derivative(f, at, method="central")
    rows = [
        ("f(x)", f.text, ""),
        (f"f({at:g})", f"{value:.10g}", ""),
        (f"f'({at:g})", f"{exact:.10g}", "exact, by automatic differentiation"),
        ("", f"{numeric:.10g}", f"central difference, error {abs(numeric - exact):.1e}"),
        ("f'(x)", str(symbolic_derivative(f)), "symbolic, by SymPy"),
    ]
    width = max(len(r[0]) for r in rows)
    for label, text, note in rows:
        print(f"{label:<{width}} {'=' if label else ' '} {text}" + (f"   ({note})" if note else ""))
    return 0

"""`gradlab derive FORMULA --at X`: a result or one plain sentence for every formula the parser
accepts and every point, never a traceback, a NumPy warning or a hang (issue 12, part 1)."""

import contextlib
import importlib
import io
import math
import os
import re
import threading
import time
import warnings

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gradlab import derive_cli
from gradlab.calculus.expressions import FUNCTIONS, MAX_DEPTH, ExpressionError, evaluate_parts, parse_expression
from gradlab.calculus.symbolic import derivative_within
from gradlab.cli import main


def derive(formula, at):
    """Run the command in-process: (exit code, stdout, stderr); argparse's SystemExit counts as its code."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["derive", formula, f"--at={at}"])
        except SystemExit as stop:
            code = stop.code
    return code, out.getvalue(), err.getvalue()


def nested(function, levels, inner="x"):
    text = inner
    for _ in range(levels):
        text = f"{function}({text})"
    return text


@pytest.fixture
def quick_symbolic(monkeypatch):
    monkeypatch.setattr(derive_cli, "SYMBOLIC_BUDGET", 0.5)


# --- the two tests that lived in test_pricing.py --------------------------------------------------------


def test_cli_derive(capsys):
    assert main(["derive", "x**2*sin(x)", "--at", "2"]) == 0
    out = capsys.readouterr().out
    assert "1.972602361" in out and "x*(x*cos(x) + 2*sin(x))" in out


def test_cli_derive_rejects_unsafe_text(capsys):
    assert main(["derive", "__import__('os').system('ls')", "--at", "1"]) == 2
    assert "attribute access" in capsys.readouterr().err
    assert main(["derive", "__import__('os')", "--at", "1"]) == 2
    assert "unknown function '__import__'" in capsys.readouterr().err


# --- the failures listed in the issue, each now a result or a sentence -------------------------------------


@pytest.mark.parametrize(
    ("formula", "at", "value", "slope", "symbolic"),
    [
        ("x**2", 3, "9", "6", "2*x"),  # was AttributeError: 'float' object has no attribute 'item'
        ("x", 3, "3", "1", "1"),
        ("2", 3, "2", "0", "0"),
        ("x+1", 3, "4", "1", "1"),
        ("pi", 3, "3.141592654", "0", "0"),
        ("-x**2", -1, "-1", "2", "-2*x"),  # a formula starting with '-' is not taken for an option
    ],
)
def test_simple_and_constant_formulas_give_a_result(formula, at, value, slope, symbolic):
    code, out, err = derive(formula, at)
    assert code == 0 and err == ""
    lines = dict(re.match(r"(\S*)\s+= (.*)", line).groups() for line in out.splitlines() if " = " in line)
    assert lines[f"f({at})"] == value
    assert lines[f"f'({at})"].split()[0] == slope
    assert lines["f'(x)"].split("   ")[0] == symbolic


@pytest.mark.parametrize(
    ("formula", "at", "sentence"),
    [
        ("1/x", 0, "1/x is undefined at x = 0 (division by zero: x is 0 there)"),  # was ZeroDivisionError
        ("x**0.5", -1, "x**0.5 is undefined at x = -1 (a negative number to a fractional power"),  # was complex
        ("log(x)", -1, "log(x) is undefined at x = -1 (log needs x > 0)"),  # was nan beside f'(-1) = -1
        ("log(x)", 0, "log(x) is undefined at x = 0 (log needs x > 0)"),
        ("sqrt(x - 2)", 1, "sqrt needs x - 2 >= 0; here x - 2 = -1"),
        ("x + log(-1)", 1, "log needs a number > 0; here it is -1"),
        ("sin(x)/x", 0, "0/0: sin(x) and x are both 0 there"),
        ("exp(-1/x**2)", 0, "division by zero: x**2 is 0 there"),  # undefined even though exp(-inf) = 0
        ("1/exp(-x)", 1000, "exp(-x) underflows to 0 there"),
        ("x**-1", 0, "0 to the negative power -1 divides by zero"),
        ("9**9**9**9", 1, "9**9**9**9 overflows (9**9**9 is beyond the largest float"),  # was OverflowError
        ("x**100", 1e6, "x**100 overflows at x = 1000000 (its value is beyond the largest float"),  # OverflowError
        ("x**2", 1e300, "x**2 overflows at x = 1e+300"),
        ("exp(x)", 1000, "exp(x) overflows at x = 1000"),
        ("sigmoid(exp(x))", 1000, "sigmoid(exp(x)) overflows at x = 1000 (exp(x) is beyond"),
    ],
)
def test_a_point_where_f_is_not_defined_is_one_sentence_and_exit_2(formula, at, sentence):
    code, out, err = derive(formula, at)
    assert code == 2 and out == ""
    assert err.startswith(f"gradlab derive: {formula} ") and sentence in err
    assert err.count("\n") == 1 and "Traceback" not in err and "Warning" not in err


@pytest.mark.parametrize("at", ["nan", "inf", "-inf", "1e999", "abc"])
def test_a_point_that_is_not_a_finite_number_is_refused_by_argparse(at):
    code, out, err = derive("x", at)
    assert code == 2 and out == ""
    assert "argument --at: must be a" in err and "Traceback" not in err


def test_negative_points_and_formulas_starting_with_minus_need_no_equals_sign(capsys):
    assert main(["derive", "-x**3", "--at", "-1e-3"]) == 0
    assert "f'(-0.001) = -3e-06" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        main(["derive", "x", "--at", "-inf"])
    assert stop.value.code == 2 and "must be a finite number, got -inf" in capsys.readouterr().err


@pytest.mark.parametrize("at", ["-1e-300", "1e-300", "-0.0", "1e300", "-1e300"])
def test_extreme_but_finite_points(at):
    code, out, err = derive("x", at)
    assert code == 0 and err == "" and "f'(" in out
    code, out, err = derive("-x**2", at)
    assert code in (0, 2) and "Traceback" not in out + err


def test_where_f_is_defined_but_f_prime_is_not_the_result_says_undefined():
    code, out, err = derive("sqrt(x)", 0)
    assert code == 0 and err == ""
    assert "f(0)  = 0" in out
    assert "f'(0) = undefined   (sqrt(x) has an infinite slope there, a vertical tangent)" in out
    assert "not available   (central difference: f is undefined at x - h" in out
    assert "nan" not in out.replace("f'(x)", "")  # no nan beside a number
    assert "1/(2*sqrt(x))" in out  # the symbolic f'(x) is still shown


VARYING = "a power with a varying exponent needs a base > 0"


@pytest.mark.parametrize(
    ("formula", "at", "reason"),
    [
        ("x**0.5", 0, "x**0.5 has an infinite slope there"),
        ("sqrt(x**2)", 0, "the chain rule has no value there: sqrt(x**2) has an infinite slope where x**2 = 0"),
        ("x**x", 0, f"x**x has no derivative there: {VARYING}, and x = 0"),  # the engine alone would say 0
        ("(-2)**x", 2, f"(-2)**x has no derivative there: {VARYING}, and the base is -2"),  # here too
    ],
)
def test_other_points_without_a_derivative(formula, at, reason):
    code, out, err = derive(formula, at)
    assert code == 0 and err == ""
    assert f"f'({at}) = undefined   ({reason}" in out


def test_a_corner_of_abs_or_relu_names_the_convention():
    code, out, _ = derive("abs(x)", 0)
    assert code == 0 and "f'(0) = 0   (exact, by automatic differentiation, with the convention abs'(0) = 0" in out
    code, out, _ = derive("relu(x - 1)", 1)
    assert code == 0 and "relu'(0) = 0: relu(x - 1) has a corner at x = 1" in out
    code, out, _ = derive("abs(x)", 1)
    assert "convention" not in out


def test_the_central_difference_says_where_it_cannot_be_taken():
    code, out, _ = derive("sqrt(x)", 1e-7)  # f'(x) is fine, but x - h < 0
    assert code == 0 and "f'(1e-07) = 1581.13883" in out
    assert "not available   (central difference: f is undefined at x - h = -5.95545e-06)" in out


def test_no_numpy_warning_reaches_the_user(recwarn):
    for formula, at in [("log(x)", -1), ("sqrt(x)", 0), ("exp(x)", 1000), ("1/x", 0), ("x**0.5", 0)]:
        _, out, err = derive(formula, at)
        assert "RuntimeWarning" not in out + err and ".py:" not in out + err
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# --- deep nesting and long formulas --------------------------------------------------------------------


def test_deep_nesting_is_refused_at_the_documented_limit(quick_symbolic):
    assert derive(nested("sin", MAX_DEPTH), 1)[0] == 0
    code, _, err = derive(nested("sin", MAX_DEPTH + 1), 1)
    assert code == 2 and f"nested more than {MAX_DEPTH} levels deep" in err and "Traceback" not in err


def test_39_nested_sigmoids_give_numbers_not_a_recursion_error(quick_symbolic):
    code, out, err = derive(nested("sigmoid", 39), 1)  # was RecursionError in SymPy
    assert code == 0 and err == "" and "f(1)  = 0.6590460684" in out
    assert "\nf'(x) " in out and "Recursion" not in out


def test_a_long_sum_is_not_deep():
    formula = "+".join(["x"] * 60)  # 60 terms: one level of nesting, not 59
    code, out, _ = derive(formula, 2)
    assert code == 0 and "f(2)  = 120" in out
    with pytest.raises(ExpressionError, match="nested more than"):
        parse_expression("-" * (MAX_DEPTH + 1) + "x")


def test_the_lab_keeps_its_500_character_limit():
    code, _, err = derive("x" + " + x" * 200, 1)
    assert code == 2 and "the limit is 500" in err


# --- the symbolic step's time budget ----------------------------------------------------------------------


def test_a_slow_symbolic_step_is_skipped_after_the_budget_and_the_numbers_still_print(monkeypatch):
    monkeypatch.setattr(derive_cli, "SYMBOLIC_BUDGET", 1.0)
    formula = nested("sin", 12)  # 61 characters; sympy.simplify takes 10 s or more
    assert len(formula) == 61
    start = time.perf_counter()
    code, out, err = derive(formula, 1)
    assert time.perf_counter() - start < 3
    assert code == 0 and err == ""
    assert "f(1)  = 0.4318984333" in out and "f'(1) = 0.06398804902" in out
    assert "f'(x) = (symbolic step skipped: took longer than 1 s)" in out


def test_nothing_keeps_running_after_the_budget():
    import multiprocessing

    before = threading.active_count()
    answer = derivative_within(nested("sin", 12), budget=0.3)
    assert answer.status == "timeout" and answer.text is None
    assert multiprocessing.active_children() == [] and threading.active_count() == before


def test_beside_other_threads_the_symbolic_step_runs_in_a_fresh_interpreter(monkeypatch):
    symbolic = importlib.import_module("gradlab.calculus.symbolic")  # the module, not the function
    monkeypatch.setattr(symbolic, "_start_method", lambda: "spawn")  # what happens with threads running
    assert derivative_within("log(x)", budget=5).text == "1/x"
    answer = derivative_within(nested("sin", 12), budget=0.3)  # the budget starts once it is ready
    assert answer.status == "timeout"


def test_the_budgeted_symbolic_step_gives_sympys_answer():
    answer = derivative_within("x**2*sin(x)")
    assert answer.status == "ok" and answer.text == "x*(x*cos(x) + 2*sin(x))"
    assert derivative_within("2").text == "0"


# --- evaluate_parts: the parts of a formula at a point --------------------------------------------------


def test_evaluate_parts_gives_inf_and_nan_instead_of_raising_innermost_first():
    parts = evaluate_parts(parse_expression("x + log(x - 2)"), 1.0)
    assert [(p.text, p.value) for p in parts[:1]] == [("x - 2", -1.0)]
    assert parts[1].kind == "log" and math.isnan(parts[1].value) and parts[1].operand_texts == ("x - 2",)
    assert parts[1].varying == (True,)
    assert evaluate_parts(parse_expression("1/x"), 0.0)[0].value == math.inf
    assert evaluate_parts(parse_expression("2**3**2"), 5.0)[-1].value == 512.0
    assert evaluate_parts(parse_expression("x"), 5.0) == ()


# --- the property: any formula of the grammar at any point ---------------------------------------------


NAMES = ["x", "x", "pi", "e"]
NUMBERS = ["0", "1", "2", "0.5", "3", "100", "1e12", "9"]


@st.composite
def grammar(draw, depth=0):
    """Formulas the parser accepts: numbers, x, pi, e, + - * / ** (both constant and varying powers),
    unary minus and every function, nested a few levels."""
    if depth >= 4 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(NAMES + NUMBERS))
    kind = draw(st.sampled_from(["call", "call", "neg", "binary", "binary"]))
    inner = draw(grammar(depth=depth + 1))
    if kind == "call":
        return f"{draw(st.sampled_from(sorted(FUNCTIONS)))}({inner})"
    if kind == "neg":
        return f"-{inner}" if inner[0] not in "-+" else f"-({inner})"
    right = draw(grammar(depth=depth + 1))
    op = draw(st.sampled_from(["+", "-", "*", "/", "**"]))
    return f"({inner}){op}({right})"


HOSTILE = [0.0, -1.0, 1.0, math.nan, math.inf, -math.inf, 1e300, -1e-300, 1e-300, 710.0, -710.0, 1e6, 1e-7]
POINTS = st.sampled_from(HOSTILE) | st.floats(allow_nan=True, allow_infinity=True)


# derandomize: the same cases on every run, so CI cannot turn red on a case it never met before; wider random
# runs are for development: FUZZ_DERANDOMIZE=0 FUZZ_EXAMPLES=1500 pytest tests/test_derive_cli.py -k every_formula
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 150)),
    derandomize=os.environ.get("FUZZ_DERANDOMIZE", "1") == "1",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@example(formula="abs(sqrt(x))", at=0.0)  # once printed "the chain rule gives nan"
@given(formula=grammar() | st.builds(nested, st.sampled_from(sorted(FUNCTIONS)), st.integers(1, 45)), at=POINTS)
def test_every_formula_at_every_point_gives_a_result_or_a_sentence(formula, at):
    original = derive_cli.SYMBOLIC_BUDGET
    derive_cli.SYMBOLIC_BUDGET = 0.5
    try:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning escaping to the user fails the case
            code, out, err = derive(formula, repr(at))
        seconds = time.perf_counter() - start
    finally:
        derive_cli.SYMBOLIC_BUDGET = original
    assert code in (0, 2), (code, out, err)
    assert "Traceback" not in out + err and "Warning" not in out + err
    assert seconds < 5, f"{formula!r} at {at!r} took {seconds:.1f} s"
    if code == 2:
        assert out == "" and err.startswith(("gradlab derive: ", "usage: "))
    else:
        assert err == "" and re.search(r"^f'\(x\) +=", out, re.M)
        assert "nan" not in out.split("\nf'(x)")[0].lower()  # never a nan beside a number

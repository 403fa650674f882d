"""gradlab.exercises: check() grades, names what is wrong, never raises; grading's maths; solution blocks."""

import textwrap

import numpy as np
import pytest

import gradlab.exercises as ex
from gradlab.exercises import RESULTS, Result, Wrong, check, exercise, grading, solutions
from gradlab.exercises.core import LESSON_MODULES, checker_for

HINTS = [
    (grading.off_by_factor(2), "off by a factor 2: did you forget to divide?"),
    (grading.sign_flipped, "the sign is flipped at {at}: subtract the other way round"),
]


@exercise("testing.cube_slope")
def _cube_slope(fn):
    for x in grading.points(seed=3, n=5, low=-2, high=2):
        grading.expect_close(grading.call(fn, x), 3 * x**2, at=f"x = {x:.3g}", hints=HINTS)


@exercise("testing.buggy_checker")
def _buggy_checker(fn):
    return {}["missing"]


@exercise("testing.custom_message")
def _custom_message(fn):
    if grading.call(fn, 1.0) != 2.0:
        raise Wrong("f(1) should be 2")
    return "right, and well done"


def _not_yet(x):
    # YOUR CODE HERE
    raise NotImplementedError


def test_a_right_answer_passes_and_says_at_how_many_points(capsys):
    result = check("testing.cube_slope", lambda x: 3 * x**2)
    assert result.status == "passed" and result and result == RESULTS[-1]
    assert capsys.readouterr().out == "✓ testing.cube_slope: correct at 5 points you did not choose\n"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda x: 6 * x**2, "off by a factor 2: did you forget to divide? (at x = "),
        (lambda x: -3 * x**2, "the sign is flipped at x = "),
        (lambda x: 3 * x**2 + 1e-3, "expected "),
        (lambda x: np.array([3 * x**2, 0.0]), "your answer has shape (2,), expected one number"),
        (lambda x: 3 * x**2 / 0.0, "your answer contains inf at x = "),
        (lambda x: np.log(-1.0 - x * x), "your answer contains NaN at x = "),
        (lambda x: "3x²", "is a str, not a number"),
        (lambda x: int("three"), "your function raised ValueError: invalid literal"),
    ],
)
def test_a_wrong_answer_fails_with_the_hint_that_fits(answer, message, capsys):
    result = check("testing.cube_slope", answer)
    assert result.status == "failed" and not result
    assert message in result.message
    out = capsys.readouterr().out
    assert out.startswith("✗ testing.cube_slope: ") and out.count("\n") == 1


def test_the_generic_message_states_both_values_and_the_error():
    result = check("testing.cube_slope", lambda x: 3 * x**2 * (1 + 1e-6))
    assert "relative error 1e-06, allowed 1e-07" in result.message
    assert result.message.startswith("expected ") and ", got " in result.message


def test_an_unattempted_exercise_says_so_and_a_missing_return_too(capsys):
    result = check("testing.cube_slope", _not_yet)
    assert result.status == "not attempted" and not result
    assert capsys.readouterr().out == (
        "… testing.cube_slope: not attempted yet: replace `raise NotImplementedError` with your code\n"
    )
    forgot_return = check("testing.cube_slope", lambda x: None)
    assert forgot_return.status == "not attempted" and "returned None" in forgot_return.message


def test_check_never_raises_and_tells_a_checker_bug_from_a_learner_bug():
    unknown = check("derivatives.no_such_exercise", _not_yet)
    assert unknown.status == "error" and "no exercise is called 'derivatives.no_such_exercise'" in unknown.message
    assert check("nolesson.x", _not_yet).status == "error"
    bug = check("testing.buggy_checker", lambda x: x)
    assert bug.status == "error" and "KeyError" in bug.message and "bug in gradlab" in bug.message
    assert check("testing.cube_slope", 3.0).message.startswith("check expects your function itself, got float")


def test_a_learner_function_called_directly_by_a_checker_is_still_graded():
    @exercise("testing.direct_call")
    def _direct(fn):
        fn(1.0)

    def raises_inside_numpy(x):
        return np.reshape(np.arange(3), (2, 2))

    assert check("testing.direct_call", _not_yet).status == "not attempted"
    result = check("testing.direct_call", raises_inside_numpy)
    assert result.status == "failed" and result.message.startswith("your function raised ValueError")


def test_a_checker_may_word_its_own_success_and_results_accumulate():
    before = len(RESULTS)
    assert check("testing.custom_message", lambda x: 2 * x).message == "right, and well done"
    assert check("testing.custom_message", lambda x: x).message == "f(1) should be 2"
    assert [r.status for r in RESULTS[before:]] == ["passed", "failed"]
    assert str(RESULTS[-1]) == "✗ testing.custom_message: f(1) should be 2"


def test_result_is_truthy_only_when_passed():
    assert Result("a.b", "passed", "correct")
    for status in ("failed", "not attempted", "error"):
        assert not Result("a.b", status, "")


def test_exercise_names_need_a_lesson_and_one_checker_each():
    with pytest.raises(ValueError, match="'<lesson>.<name>'"):
        exercise("no_dot")
    with pytest.raises(ValueError, match="already has a checker"):

        def impostor(fn):
            pass

        impostor.__module__ = "somewhere.else"
        exercise("testing.cube_slope")(impostor)


def test_a_lesson_module_is_imported_on_first_use(tmp_path, monkeypatch):
    (tmp_path / "lessonfake.py").write_text(
        textwrap.dedent(
            """
            from gradlab.exercises import exercise

            @exercise("fakelesson.double")
            def _double(fn):
                pass
            """
        )
    )
    (tmp_path / "lessonbroken.py").write_text("import numpy_that_does_not_exist\n")
    monkeypatch.setattr(ex, "__path__", [*ex.__path__, str(tmp_path)])
    monkeypatch.setitem(LESSON_MODULES, "fakelesson", "lessonfake")
    monkeypatch.setitem(LESSON_MODULES, "brokenlesson", "lessonbroken")
    monkeypatch.setitem(LESSON_MODULES, "absentlesson", "lessonabsent")
    assert checker_for("fakelesson.double").__name__ == "_double"
    assert check("fakelesson.double", _not_yet).status == "passed"
    broken = check("brokenlesson.x", _not_yet)
    assert broken.status == "error" and "numpy_that_does_not_exist" in broken.message
    assert "no exercise is called" in check("absentlesson.x", _not_yet).message


def test_every_lesson_prefix_maps_to_its_own_module():
    assert len(set(LESSON_MODULES.values())) == len(LESSON_MODULES) == 18
    assert LESSON_MODULES["tour"] == "lesson00" and LESSON_MODULES["recommender"] == "lesson09"
    assert sorted(LESSON_MODULES.values()) == [f"lesson{n:02d}" for n in range(18)]


# grading: the maths


def test_relative_error_is_the_elementwise_maximum_of_the_cs231n_formula():
    assert grading.relative_error(1.0, 1.1) == pytest.approx(0.1 / 1.1)
    assert grading.relative_error([1.0, 100.0], [1.0, 101.0]) == pytest.approx(1 / 101)
    assert grading.relative_error(0.0, 0.0) == 0.0
    assert grading.relative_error(0.0, 1e-13) == pytest.approx(1e-13 / 1e-12)  # the floor
    assert grading.relative_error(-2.0, 2.0) == pytest.approx(2.0)


def test_points_are_seeded_float64_within_bounds():
    xs = grading.points(seed=7, n=50, low=-1.5, high=0.5)
    assert xs.dtype == np.float64 and xs.shape == (50,) and np.all((xs >= -1.5) & (xs < 0.5))
    assert np.array_equal(xs, grading.points(seed=7, n=50, low=-1.5, high=0.5))
    assert not np.array_equal(xs, grading.points(seed=8, n=50, low=-1.5, high=0.5))
    assert grading.points(seed=0, n=4, low=0, high=1, shape=(3, 2)).shape == (4, 3, 2)


def test_gradient_check_accepts_the_true_gradient_and_rejects_a_wrong_one():
    def f(w):
        return float(np.sum(np.sin(w) * w**2))

    def grad(w):
        return np.cos(w) * w**2 + 2 * w * np.sin(w)

    w = grading.points(seed=1, n=6, low=-2, high=2).reshape(2, 3)
    assert grading.gradient_check(f, grad, w) <= grading.SMOOTH
    with pytest.raises(Wrong, match="disagrees with central differences"):
        grading.gradient_check(f, lambda w: np.cos(w) * w**2, w)
    with pytest.raises(Wrong, match=r"your gradient has shape \(3, 2\), the parameter \(2, 3\)"):
        grading.gradient_check(f, lambda w: grad(w).T, w)
    with pytest.raises(Wrong, match="transposed!"):
        grading.gradient_check(f, lambda w: grad(w).T, w, hints=[(grading.transposed, "transposed!")])


def test_gradient_check_at_a_kink_needs_the_looser_threshold():
    relu_sum = lambda w: float(np.sum(np.maximum(w, 0.0)))  # noqa: E731
    w = np.array([0.3, -0.2, 1e-6])  # the last one within h of the kink
    with pytest.raises(Wrong):
        grading.gradient_check(relu_sum, lambda w: (w > 0).astype(float), w)
    assert grading.gradient_check(relu_sum, lambda w: (w > 0).astype(float), w[:2], tol=grading.KINK) <= grading.KINK


def test_gradient_check_passes_on_not_attempted():
    with pytest.raises(ex.core.NotAttempted):
        grading.gradient_check(lambda w: float(w @ w), _not_yet, np.ones(3))


def test_predicates_fire_on_their_mistake_only():
    want = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert grading.off_by_factor(2)(2 * want, want) and not grading.off_by_factor(2)(want, want)
    assert not grading.off_by_factor(2)(0.5 * want, want) and grading.off_by_factor(0.5)(0.5 * want, want)
    assert grading.sign_flipped(-want, want) and not grading.sign_flipped(want, want)
    assert not grading.sign_flipped(0.0, 0.0)
    assert grading.transposed(want.T, want) and not grading.transposed(want, want)
    assert grading.transposed(np.ones((3, 2)).T, np.ones((3, 2)))
    assert not grading.transposed(np.ones(3), np.ones(3))
    assert grading.off_by_constant(want + 1, want) and not grading.off_by_constant(want, want)
    assert not grading.off_by_constant(want * 2, want) and not grading.off_by_constant(3.0, 2.0)


def test_expect_close_checks_shape_before_hints_unless_a_hint_recognises_the_answer():
    want = np.arange(6.0).reshape(2, 3) + 1
    with pytest.raises(Wrong, match=r"shape \(3, 2\), expected \(2, 3\) \(at here\)"):
        grading.expect_close(want.T, want, at="here", hints=[(grading.sign_flipped, "flipped")])
    with pytest.raises(Wrong, match="swap the axes"):
        grading.expect_close(want.T, want, at="here", hints=[(grading.transposed, "swap the axes")])
    with pytest.raises(Wrong, match="^off by 2 \\(at here\\)$"):
        grading.expect_close(
            2 * want, want, at="here", hints=[(grading.off_by_factor(2), "off by 2"), (grading.sign_flipped, "no")]
        )
    with pytest.raises(Wrong, match=r"^computed 2x \(at here\)$"):
        grading.expect_close(2 * want, want, at="here", hints=[(grading.off_by_factor(2), lambda g, w: "computed 2x")])
    assert grading.expect_close(want * (1 + 1e-9), want, at="here") < 1e-8


def test_a_predicate_that_cannot_handle_an_answer_does_not_fire():
    def fussy(got, want):
        raise IndexError

    with pytest.raises(Wrong, match="^expected "):
        grading.expect_close(1.0, 2.0, at="x = 1", hints=[(fussy, "never")])


# solutions


def test_solution_blocks_run_from_marker_to_marker():
    text = '"""Solutions."""\nimport numpy as np\n\n# exercise: a.one\ndef one():\n    return 1\n\n\n'
    text += "# exercise: a.two\n\ndef two():\n    return 2\ncheck('a.two', two)\n"
    blocks = solutions.parse(text)
    assert blocks == {"a.one": "def one():\n    return 1\n", "a.two": "def two():\n    return 2\ncheck('a.two', two)\n"}
    with pytest.raises(ValueError, match="'a.one' has two solution blocks"):
        solutions.parse(text + "# exercise: a.one\n")


def test_solutions_are_found_in_the_checkout_and_a_missing_lesson_is_named():
    assert (solutions.repo_root() / "src" / "gradlab" / "__init__.py").is_file()
    with pytest.raises(FileNotFoundError, match="'99_nowhere'"):
        solutions.load("99_nowhere")


def test_solutions_outside_a_checkout_say_how_to_get_them(monkeypatch, tmp_path):
    monkeypatch.setattr(solutions, "repo_root", lambda: tmp_path)
    with pytest.raises(FileNotFoundError, match="pip install -e"):
        solutions.load("00_tour")

"""Lesson 0's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import pytest

from gradlab.exercises import check, solutions


def reference():
    namespace = {"check": lambda *args, **kwargs: None}
    exec(solutions.load("00_tour")["tour.slope_of_line"], namespace)
    return namespace["slope"]


def test_the_reference_solution_passes():
    result = check("tour.slope_of_line", reference())
    assert result.status == "passed" and result.message == "correct at 5 points you did not choose"


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda x1, y1, x2, y2: (y1 - y2) / (x2 - x1), "the sign is flipped at (x1, y1) = ("),
        (lambda x1, y1, x2, y2: (x2 - x1) / (y2 - y1), "that is the run over the rise, upside down"),
        (lambda x1, y1, x2, y2: y2 - y1, "that is the rise y2 − y1 alone: divide it by the run x2 − x1"),
        (lambda x1, y1, x2, y2: y2 / x2, "that is y2/x2, the slope of the line from the origin"),
        (lambda x1, y1, x2, y2: (y2 - y1) / (x2 + x1), "expected "),
    ],
)
def test_typical_mistakes_get_their_own_hint(wrong, hint):
    result = check("tour.slope_of_line", wrong)
    assert result.status == "failed" and result.message.startswith(hint), result.message


def test_the_unchanged_exercise_is_not_attempted():
    def slope(x1, y1, x2, y2):
        # YOUR CODE HERE
        raise NotImplementedError

    assert check("tour.slope_of_line", slope).status == "not attempted"

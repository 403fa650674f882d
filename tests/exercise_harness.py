"""What the lessons' exercise tests (tests/test_exercises_all.py and tests/test_exercises_lessonNN.py) share: a lesson's
reference solutions and notebook cells, run as the notebook runs them, and the checks every exercise must
pass: its reference solution passes, an unchanged exercise is "not attempted", a wrong answer fails."""

import json
from pathlib import Path

import numpy as np

from gradlab.exercises import RESULTS, check, solutions

LESSONS = Path(__file__).resolve().parents[1] / "lessons"


def failed(name, fn):
    """check(name, fn) must fail; its message (the hint) is returned for the test to look into."""
    result = check(name, fn)
    assert result.status == "failed", result
    return result.message


def unattempted(*args, **kwargs):
    # YOUR CODE HERE
    raise NotImplementedError


class Lesson:
    """One lesson's exercises: its reference solution blocks (lessons/solutions/) and its notebook's exercise
    cells, run with the names the notebook gives them (`np`, and whatever else is passed here)."""

    def __init__(self, lesson, **names):
        self.lesson = lesson
        self.solutions = solutions.load(lesson)
        self.names = {"np": np, **names}

    def exercise_cells(self):
        """{exercise name: source} of the notebook's exercise cells."""
        cells = json.loads((LESSONS / f"{self.lesson}.ipynb").read_text(encoding="utf-8"))["cells"]
        return {c["metadata"]["exercise"]: "".join(c["source"]) for c in cells if "exercise" in c.get("metadata", {})}

    def run_cell(self, name, source):
        """Execute a cell's source as the notebook would; its last line calls check(...). Return that Result."""
        before = len(RESULTS)
        exec(compile(source, f"<{name}>", "exec"), {**self.names, "check": check})
        assert len(RESULTS) == before + 1
        return RESULTS[-1]

    def solution(self, name):
        """The function the reference solution's block for `name` defines. The blocks run in order in one
        namespace up to that one, as the notebook runs them (a later one may use an earlier one's function);
        their own check calls are captured, not run."""
        calls = []
        namespace = {**self.names, "check": lambda exercise, fn, **kw: calls.append((exercise, fn))}
        for exercise, source in self.solutions.items():
            exec(compile(source, f"<{exercise}>", "exec"), namespace)
            assert [called for called, _ in calls] == [exercise]
            if exercise == name:
                return calls[0][1]
            calls.clear()
        raise KeyError(name)

    def assert_cells_work(self, name):
        """The reference block, run as the notebook's cell, passes; the shipped (unchanged) cell is not attempted."""
        result = self.run_cell(name, self.solutions[name])
        assert result.status == "passed", result.message
        result = self.run_cell(name, self.exercise_cells()[name])
        assert result.status == "not attempted" and "not attempted" in str(result), result

    def assert_solution_works(self, name):
        """The reference solution's function passes (and is the last Result recorded); a function that still
        raises NotImplementedError is not attempted."""
        result = check(name, self.solution(name))
        assert result.status == "passed", result.message
        assert RESULTS[-1] is result
        result = check(name, unattempted)
        assert result.status == "not attempted" and "not attempted" in result.message, result

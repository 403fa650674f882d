"""Exercises for the lessons: the learner writes a function, `check` grades it and names what is wrong.

    from gradlab.exercises import check
    check("derivatives.power_rule", my_derivative)   # prints one verdict line, returns a Result

Checkers are written with `exercise` and the helpers in `grading` (see gradlab/exercises/core.py);
reference solutions are read by `solutions.load` from the source checkout's lessons/solutions/.
"""

from . import grading
from .core import RESULTS, Result, Wrong, check, exercise

__all__ = ["RESULTS", "Result", "Wrong", "check", "exercise", "grading"]

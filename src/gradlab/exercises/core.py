"""The exercise registry and `check`, the one call a lesson makes to grade the learner's function.

    @exercise("derivatives.power_rule")      registers a checker: a function checker(fn, **kwargs) that
    def _power_rule(fn): ...                 returns quietly when fn is right and raises Wrong(hint) when not

    check("derivatives.power_rule", fn)      runs that checker, prints one verdict line, returns a Result

`check` never raises (a notebook always runs to its end). The verdict is one of

    passed         ✓ name: correct at 5 points you did not choose
    failed         ✗ name: <the hint that names what is wrong>
    not attempted  … name: not attempted yet: replace `raise NotImplementedError` with your code
    error          ! name: <a name nobody registered, or a bug in the checker itself>

Checkers live in one module per lesson (gradlab.exercises.lessonNN); a lesson's module is imported the
first time one of its exercises is checked, so importing gradlab.exercises stays cheap.
"""

from __future__ import annotations

import importlib
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LESSON_MODULES",
    "RESULTS",
    "STATUSES",
    "LearnerError",
    "NotAttempted",
    "Result",
    "Wrong",
    "check",
    "checker_for",
    "exercise",
]

# The part of an exercise name before the dot names its lesson; this table names the lesson's module.
LESSON_MODULES = {
    "tour": "lesson00",
    "derivatives": "lesson01",
    "gradients": "lesson02",
    "backprop": "lesson03",
    "descent": "lesson04",
    "optimizers": "lesson05",
    "xor": "lesson06",
    "deeper": "lesson07",
    "integrals": "lesson08",
    "recommender": "lesson09",
    "attention": "lesson10",
    "conv": "lesson11",
    "tracking": "lesson12",
    "rl": "lesson13",
    "gan": "lesson14",
    "diffusion": "lesson15",
    "distributed": "lesson16",
    "compile": "lesson17",
}

STATUSES = ("passed", "failed", "not attempted", "error")
_MARKS = {"passed": "✓", "failed": "✗", "not attempted": "…", "error": "!"}
NOT_ATTEMPTED = "not attempted yet: replace `raise NotImplementedError` with your code"

_CHECKERS: dict[str, Callable] = {}
_POINTS: list[set[str]] = []  # one set per running check: the places expect_close/gradient_check looked at


class Wrong(Exception):
    """Raised by a checker: the learner's answer is wrong; the message is the hint shown to the learner."""


class NotAttempted(Exception):
    """The learner has not written the function yet (it raised NotImplementedError or returned None)."""


class LearnerError(Exception):
    """The learner's function raised an exception of its own (the message names it)."""


@dataclass(frozen=True)
class Result:
    """What `check` found: status is "passed", "failed", "not attempted" or "error"; truthy only when passed."""

    name: str
    status: str
    message: str

    def __bool__(self) -> bool:
        return self.status == "passed"

    def __str__(self) -> str:
        return f"{_MARKS[self.status]} {self.name}: {self.message}"

    def _ipython_display_(self) -> None:
        """In a notebook the verdict line is already printed by check(); show nothing twice."""


RESULTS: list[Result] = []  # every result in the order it was checked (the notebook harness reads it)


def exercise(name: str) -> Callable[[Callable], Callable]:
    """Register the decorated function as the checker of exercise `name` ("<lesson>.<exercise>")."""
    lesson, dot, rest = name.partition(".")
    if not (lesson and dot and rest):
        raise ValueError(f"an exercise name is '<lesson>.<name>', e.g. 'derivatives.power_rule'; got {name!r}")

    def register(checker: Callable) -> Callable:
        old = _CHECKERS.get(name)
        if old is not None and old.__module__ != checker.__module__:
            raise ValueError(f"exercise {name!r} already has a checker in {old.__module__}")
        _CHECKERS[name] = checker
        return checker

    return register


def checker_for(name: str) -> Callable:
    """The checker registered under `name`, importing its lesson's module on first use (KeyError if none)."""
    if name not in _CHECKERS:
        module = LESSON_MODULES.get(name.partition(".")[0])
        if module is not None:
            try:
                importlib.import_module(f"{__package__}.{module}")
            except ModuleNotFoundError as error:
                if error.name != f"{__package__}.{module}":
                    raise
    if name not in _CHECKERS:
        known = ", ".join(sorted(LESSON_MODULES))
        raise KeyError(f"no exercise is called {name!r} (names start with a lesson: {known})")
    return _CHECKERS[name]


def check(name: str, fn=None, **kwargs) -> Result:
    """Grade `fn` with the checker of exercise `name`, print one verdict line and return the Result.

    Never raises (except KeyboardInterrupt): whatever goes wrong becomes the verdict."""
    _POINTS.append(set())
    try:
        status, message = _run(name, fn, kwargs)
        if status == "passed" and message is None:
            count = len(_POINTS[-1])
            message = f"correct at {count} points you did not choose" if count > 1 else "correct"
    finally:
        _POINTS.pop()
    result = Result(name, status, message)
    RESULTS.append(result)
    print(result, flush=True)
    return result


def _run(name: str, fn, kwargs: dict) -> tuple[str, str | None]:
    try:
        checker = checker_for(name)
    except KeyError as error:
        return "error", error.args[0]
    except Exception as error:
        return "error", f"the checkers for this lesson could not be loaded: {type(error).__name__}: {error}"
    try:
        outcome = checker(fn, **kwargs)
    except Wrong as wrong:
        return "failed", str(wrong)
    except NotAttempted as why:
        return "not attempted", str(why) or NOT_ATTEMPTED
    except NotImplementedError:
        return "not attempted", NOT_ATTEMPTED
    except LearnerError as error:
        return "failed", str(error)
    except Exception as error:
        if _raised_in_learner_code(error, fn, checker):
            return "failed", f"your function raised {_describe(error)}"
        return "error", f"the checker itself failed ({_describe(error)}); this is a bug in gradlab, please report it"
    return "passed", outcome if isinstance(outcome, str) else None


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def note_point(at: str) -> None:
    """Count `at` as one place the running check looked at (for the "correct at N points" verdict)."""
    if _POINTS:
        _POINTS[-1].add(at)


_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_NOT_LEARNER_DIRS = (
    _PACKAGE_DIR,
    Path(sys.prefix).resolve(),
    *(Path(path).resolve() for key, path in sysconfig.get_paths().items() if key in ("stdlib", "purelib", "platlib")),
)


def _learner_codes(fn) -> set:
    """The code objects of the learner's function, or of the methods of the learner's class or object."""
    if hasattr(fn, "__code__"):
        return {fn.__code__}
    owner = fn if isinstance(fn, type) else type(fn)
    codes = set()
    for value in vars(owner).values():
        value = getattr(value, "__func__", value)
        if hasattr(value, "__code__"):
            codes.add(value.__code__)
    return codes


def _raised_in_learner_code(error: BaseException, fn, checker) -> bool:
    """True when the traceback passes through the learner's function, or through code that is neither
    gradlab's, an installed library's nor the checker's file (a learner's helper in a notebook cell)."""
    codes = _learner_codes(fn)
    checker_file = getattr(getattr(checker, "__code__", None), "co_filename", None)
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code in codes:
            return True
        if code.co_filename != checker_file:
            if code.co_filename.startswith("<"):
                return True
            path = Path(code.co_filename).resolve()
            if not any(path.is_relative_to(d) for d in _NOT_LEARNER_DIRS):
                return True
        tb = tb.tb_next
    return False

"""The API's request bodies, checked before any work starts: types, ranges and the lab's limits.

Rules between fields (x_min < x_max, a window's ends) are checked in app.py, where the error
can name the field. A request that breaks a rule gets HTTP 422 with one readable sentence (see `describe_error`) and
the name of the field it concerns, so the page can show it next to the right control.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..calculus.expressions import MAX_LENGTH as MAX_FORMULA_LENGTH
from . import limits

# Numbers are strict: JSON true/false or "1.5" is not a number (lax pydantic would take true as 1).
# A whole number is accepted where a float is expected (2 is 2.0); a float is not a whole number.
Number = Annotated[float, Field(strict=True)]
Whole = Annotated[int, Field(strict=True)]
Flag = Annotated[bool, Field(strict=True)]

Method = Literal["forward", "central", "complex"]
Coordinate = Annotated[Number, Field(ge=-limits.MAX_ABS_X, le=limits.MAX_ABS_X)]
WindowEnd = Annotated[Number, Field(ge=-limits.MAX_WINDOW, le=limits.MAX_WINDOW)]
Formula = Annotated[str, Field(max_length=MAX_FORMULA_LENGTH)]  # the parser's own limit
LearningRate = Annotated[Number, Field(gt=0, le=limits.MAX_LR)]
Hyper = Annotated[dict[str, Number], Field(max_length=8)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class DerivativeRequest(Request):
    expr: Formula = "x**2*sin(x)"
    x_min: Coordinate = -5.0
    x_max: Coordinate = 5.0
    points: Whole = Field(401, ge=11, le=limits.MAX_POINTS)
    h: Number = Field(1e-5, ge=limits.MIN_STEP_H, le=limits.MAX_STEP_H)
    method: Method = "central"
    second: Flag = False


class PointRequest(Request):
    expr: Formula = "x**2*sin(x)"
    x0: Coordinate = 1.0
    h: Number = Field(1e-5, ge=limits.MIN_STEP_H, le=limits.MAX_STEP_H)
    method: Method = "central"
    x_min: Coordinate = -5.0
    x_max: Coordinate = 5.0


class LandscapeRequest(Request):
    landscape: str = Field("rosenbrock", max_length=40)
    expr: Formula | None = None  # a typed f(x, y) instead of a named landscape
    x_range: tuple[WindowEnd, WindowEnd] = (-3.0, 3.0)
    y_range: tuple[WindowEnd, WindowEnd] = (-3.0, 3.0)
    condition: Number = Field(10.0, ge=1.0, le=limits.MAX_CONDITION)


class SurfaceRequest(LandscapeRequest):
    n: Whole = Field(80, ge=10, le=limits.MAX_GRID)


class DescentRequest(LandscapeRequest):
    start: tuple[Coordinate, Coordinate] | None = None
    optimizer: str = Field("sgd", max_length=20)
    lr: LearningRate = 1e-3
    hyper: Hyper = {}
    steps: Whole = Field(200, ge=1, le=limits.MAX_DESCENT_STEPS)


class RaceEntry(Request):
    optimizer: str = Field(max_length=20)
    lr: LearningRate
    hyper: Hyper = {}


class RaceRequest(LandscapeRequest):
    start: tuple[Coordinate, Coordinate] | None = None
    optimizers: list[RaceEntry] = Field(min_length=1, max_length=limits.MAX_RACE_OPTIMIZERS)
    steps: Whole = Field(300, ge=1, le=limits.MAX_RACE_STEPS)
    tol: Number = Field(1e-6, ge=1e-12, le=1e3)


class GraphRequest(Request):
    expr: Formula = "x**2*sin(y) - x/y + exp(-x)"
    x: Coordinate = 1.5
    y: Coordinate = 0.5


class TrainRequest(Request):
    dataset: Literal["moons", "circles", "spiral", "xor"] = "moons"
    n: Whole = Field(300, ge=limits.MIN_EXAMPLES, le=limits.MAX_EXAMPLES)
    noise: Number = Field(0.1, ge=0.0, le=2.0)
    test_fraction: Number = Field(0.3, ge=0.1, le=0.5)
    hidden: list[Annotated[Whole, Field(ge=1, le=limits.MAX_WIDTH)]] = Field(
        [8, 8], max_length=limits.MAX_HIDDEN_LAYERS
    )
    activation: Literal["relu", "tanh", "sigmoid", "leaky_relu", "gelu"] = "tanh"
    optimizer: str = Field("adam", max_length=20)
    lr: LearningRate = 0.03
    l2: Number = Field(0.0, ge=0.0, le=1.0)
    batch_size: Whole = Field(0, ge=0, le=limits.MAX_EXAMPLES)
    seed: Whole = Field(0, ge=0, le=2**31 - 1)


class StepRequest(Request):
    steps: Whole = Field(1, ge=1, le=limits.MAX_STEPS_PER_REQUEST)


class SettingsRequest(Request):
    lr: LearningRate | None = None
    l2: Number | None = Field(None, ge=0.0, le=1.0)


# --- what a refusal looks like (declared in the OpenAPI schema, checked against real answers in the tests) ---


class FieldError(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str = Field(description="the control the sentence is about, e.g. 'lr' or 'optimizers.1.lr'")
    detail: str = Field(description="one readable sentence")


class ErrorBody(BaseModel):
    """Every error answer of the lab's API: 404, 405, 422 and 500."""

    model_config = ConfigDict(extra="forbid")
    detail: str = Field(description="one readable sentence (a refused formula adds the formula and a caret line)")
    field: str | None = Field(description="the request field (the page's control) it concerns, or null")
    column: int | None = Field(None, description="a refused formula: where the problem starts (0-based)")
    errors: list[FieldError] | None = Field(None, description="a refused request body: every problem found")


# --- pydantic's errors as sentences -------------------------------------------------------------------

_KINDS = {  # what a value of each JSON type must be, for pydantic's "*_type" errors
    "float": "a number",
    "int": "a whole number",
    "bool": "true or false",
    "string": "text (a JSON string)",
    "dict": 'a JSON object of names and numbers, like {"momentum": 0.9}',
    "list": "a JSON list",
    "tuple": "a JSON list",
    "model": "a JSON object",
    "model_attributes": "a JSON object",
    "dataclass": "a JSON object",
}


def _shown(value) -> str:
    """The value as the request wrote it (JSON: null, true, "text"), cut at 60 characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe_error(error: dict) -> tuple[str, str]:
    """(field, one readable sentence) for one pydantic error."""
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
    field = ".".join(loc) or "request"
    kind, ctx, got = error.get("type", ""), error.get("ctx") or {}, error.get("input")
    base = kind.removesuffix("_type").removesuffix("_parsing").removesuffix("_from_float")
    if field == "request" and kind == "missing":
        message = "the request needs a JSON body (an object such as {})"
    elif field == "request" and kind in ("model_type", "model_attributes_type", "dict_type"):
        message = f"the request body must be a JSON object such as {{}}, got {_shown(got)}"
    elif kind == "finite_number":
        message = f"{field} must be a finite number, not {_shown(got)}"
    elif kind == "less_than_equal":
        message = f"{field} is {_shown(got)}; the limit is {_number(ctx.get('le'))}"
    elif kind == "less_than":
        message = f"{field} must be below {_number(ctx.get('lt'))}, got {_shown(got)}"
    elif kind == "greater_than_equal":
        message = f"{field} must be at least {_number(ctx.get('ge'))}, got {_shown(got)}"
    elif kind == "greater_than":
        message = f"{field} must be greater than {_number(ctx.get('gt'))}, got {_shown(got)}"
    elif kind == "too_long":
        actual = ctx.get("actual_length")
        count = f"{actual} items" if actual is not None else "more items than that"
        message = f"{field} has {count}; the limit is {ctx.get('max_length')}"
    elif kind == "too_short":
        message = f"{field} needs at least {ctx.get('min_length')} item(s)"
    elif kind == "string_too_long":
        length = f" ({len(got)} characters)" if isinstance(got, str) else ""
        message = f"{field} is too long{length}; the limit is {ctx.get('max_length')} characters"
    elif kind == "missing" and len(loc) > 1 and loc[-1].isdigit():
        field = ".".join(loc[:-1])
        message = f"{field} has too few items: item {loc[-1]} (counting from 0) is missing"
    elif kind == "missing":
        message = f"{field} is required"
    elif kind == "extra_forbidden":
        message = f"unknown field '{field}'"
    elif kind == "literal_error":
        message = f"{field} must be one of {ctx.get('expected')}, got {_shown(got)}"
    elif kind == "json_invalid":
        field, message = "request", "the request is not valid JSON"
    elif kind == "value_error":
        message = f"{field}: {ctx.get('error', error.get('msg', ''))}"
    elif kind.endswith(("_type", "_parsing", "_from_float")) and base in _KINDS:
        if got == "" and base in ("float", "int"):
            message = f"{field} is empty; type {_KINDS[base]}"
        else:
            message = f"{field} must be {_KINDS[base]}, got {_shown(got)}"
    else:
        text = str(error.get("msg", "is not valid"))
        if text.startswith("Input should be "):
            text = "must be " + text.removeprefix("Input should be ")
            message = f"{field} {text}, got {_shown(got)}"
        else:
            message = f"{field}: {text}"
    return field, message

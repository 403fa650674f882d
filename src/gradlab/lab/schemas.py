"""The API's request bodies, checked before any work starts: types, ranges and the lab's limits.

Rules between fields (x_min < x_max, a window's ends) are checked in app.py, where the error
can name the field. A request that breaks a rule gets HTTP 422 with one readable sentence (see `describe_error`) and
the name of the field it concerns, so the page can show it next to the right control.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from . import limits

Method = Literal["forward", "central", "complex"]
Coordinate = Annotated[float, Field(ge=-limits.MAX_ABS_X, le=limits.MAX_ABS_X)]
WindowEnd = Annotated[float, Field(ge=-limits.MAX_WINDOW, le=limits.MAX_WINDOW)]
Formula = Annotated[str, Field(max_length=2000)]
LearningRate = Annotated[float, Field(gt=0, le=limits.MAX_LR)]
Hyper = Annotated[dict[str, float], Field(max_length=8)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class DerivativeRequest(Request):
    expr: Formula = "x**2*sin(x)"
    x_min: Coordinate = -5.0
    x_max: Coordinate = 5.0
    points: int = Field(401, ge=11, le=limits.MAX_POINTS)
    h: float = Field(1e-5, ge=limits.MIN_STEP_H, le=limits.MAX_STEP_H)
    method: Method = "central"
    second: bool = False


class PointRequest(Request):
    expr: Formula = "x**2*sin(x)"
    x0: Coordinate = 1.0
    h: float = Field(1e-5, ge=limits.MIN_STEP_H, le=limits.MAX_STEP_H)
    method: Method = "central"
    x_min: Coordinate = -5.0
    x_max: Coordinate = 5.0


class LandscapeRequest(Request):
    landscape: str = Field("rosenbrock", max_length=40)
    expr: Formula | None = None  # a typed f(x, y) instead of a named landscape
    x_range: tuple[WindowEnd, WindowEnd] = (-3.0, 3.0)
    y_range: tuple[WindowEnd, WindowEnd] = (-3.0, 3.0)
    condition: float = Field(10.0, ge=1.0, le=limits.MAX_CONDITION)


class SurfaceRequest(LandscapeRequest):
    n: int = Field(80, ge=10, le=limits.MAX_GRID)


class DescentRequest(LandscapeRequest):
    start: tuple[Coordinate, Coordinate] | None = None
    optimizer: str = Field("sgd", max_length=20)
    lr: LearningRate = 1e-3
    hyper: Hyper = {}
    steps: int = Field(200, ge=1, le=limits.MAX_DESCENT_STEPS)


class RaceEntry(Request):
    optimizer: str = Field(max_length=20)
    lr: LearningRate
    hyper: Hyper = {}


class RaceRequest(LandscapeRequest):
    start: tuple[Coordinate, Coordinate] | None = None
    optimizers: list[RaceEntry] = Field(min_length=1, max_length=limits.MAX_RACE_OPTIMIZERS)
    steps: int = Field(300, ge=1, le=limits.MAX_RACE_STEPS)
    tol: float = Field(1e-6, ge=1e-12, le=1e3)


class GraphRequest(Request):
    expr: Formula = "x**2*sin(y) - x/y + exp(-x)"
    x: Coordinate = 1.5
    y: Coordinate = 0.5


class TrainRequest(Request):
    dataset: Literal["moons", "circles", "spiral", "xor"] = "moons"
    n: int = Field(300, ge=limits.MIN_EXAMPLES, le=limits.MAX_EXAMPLES)
    noise: float = Field(0.1, ge=0.0, le=2.0)
    test_fraction: float = Field(0.3, ge=0.1, le=0.5)
    hidden: list[Annotated[int, Field(ge=1, le=limits.MAX_WIDTH)]] = Field([8, 8], max_length=limits.MAX_HIDDEN_LAYERS)
    activation: Literal["relu", "tanh", "sigmoid", "leaky_relu", "gelu"] = "tanh"
    optimizer: str = Field("adam", max_length=20)
    lr: LearningRate = 0.03
    l2: float = Field(0.0, ge=0.0, le=1.0)
    batch_size: int = Field(0, ge=0, le=limits.MAX_EXAMPLES)
    seed: int = Field(0, ge=0, le=2**31 - 1)


class StepRequest(Request):
    steps: int = Field(1, ge=1, le=limits.MAX_STEPS_PER_REQUEST)


class SettingsRequest(Request):
    lr: LearningRate | None = None
    l2: float | None = Field(None, ge=0.0, le=1.0)


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe_error(error: dict) -> tuple[str, str]:
    """(field, one readable sentence) for one pydantic error."""
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
    field = ".".join(loc) or "request"
    kind, ctx, got = error.get("type", ""), error.get("ctx") or {}, error.get("input")
    if kind == "finite_number":
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
        message = f"{field} has {ctx.get('actual_length')} items; the limit is {ctx.get('max_length')}"
    elif kind == "too_short":
        message = f"{field} needs at least {ctx.get('min_length')} item(s)"
    elif kind == "string_too_long":
        message = f"{field} is too long; the limit is {ctx.get('max_length')} characters"
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
    elif kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        what = "a whole number" if kind.startswith("int") else "a number"
        message = f"{field} must be {what}, got {_shown(got)}"
    else:
        message = f"{field}: {error.get('msg', 'invalid value')}"
    return field, message

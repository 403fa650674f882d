"""Forward mode: tangents pushed through every op beside the values, by each op's `jvp` rule.

`jvp(f, (x,), (v,))` gives x the tangent v at a fresh *level* and runs f. While a level is
active, every op computes its output's tangent from its inputs' tangents:

    dy = Σ_i ∂y/∂x_i · dx_i        (the op's jvp rule; an absent dx_i counts as zero)

Tangents are Tensors kept in `t.tangents` = {level: tangent}. Levels nest (jvp inside jvp, or
inside grad): an inner level always has a larger number, and while the rule for one level runs,
only the levels outside it stay active, so a tangent carries derivatives for the enclosing levels
and no level differentiates its own tangent (no perturbation confusion).

The active levels are per thread (modes.Switches.levels); the numbers come from one counter so
that levels of different threads never share a number.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager

from .modes import this_thread
from .tensor import Tensor

_numbers = itertools.count(1)


def active() -> bool:
    """Whether forward mode is on in this thread (some jvp is running)."""
    return bool(this_thread.switches.levels)


@contextmanager
def new_level():
    """Activate a fresh level, innermost, for the duration of the block; yields its number."""
    level = next(_numbers)
    switches = this_thread.switches
    outer = switches.set("levels", (*switches.levels, level))
    try:
        yield level
    finally:
        switches.set("levels", outer)


def tangent(t, level: int):
    """t's tangent at `level`, or None if it has none."""
    return t.tangents.get(level) if t.tangents is not None else None


def set_tangent(t, level: int, direction):
    """Give t the tangent `direction` at `level` (keeping its tangents at other levels)."""
    t.tangents = {**(t.tangents or {}), level: direction}


def push_tangents(node, inputs, out, switches):
    """out's tangent at each active level, from the inputs' tangents by the op's jvp rule."""
    node.out = out  # if the op is recorded, reverse rules run in forward mode need the output's tangents
    levels = switches.levels
    for level in levels:
        tangents = [tangent(t, level) for t in inputs]
        if all(d is None for d in tangents):
            continue
        switches.set("levels", tuple(v for v in levels if v < level))
        try:
            dy = node.jvp(tangents, out, *inputs)
        finally:
            switches.set("levels", levels)
        if dy is None:
            continue
        set_tangent(out, level, dy if isinstance(dy, Tensor) else Tensor(dy))

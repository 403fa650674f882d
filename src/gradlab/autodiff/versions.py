"""The engine's clock, and in-place change detection.

A rule such as d(x·w)/dx = w reads the arrays its op saved. If one of them is changed in place
after the op was recorded (w += 1), the rule would silently compute the gradient at the new
value; the engine notices and raises instead.

The clock ticks at every recorded op (its `seq`), at every leaf that requires grad and at every
in-place change, so comparing two readings tells which came first. Creation order is also a valid
topological order for the sweep: an op is always recorded after the ops that made its inputs.

A change is a property of the memory that changed, not of the thread that changed it, so the
clock and the table of changes are shared by all threads: `next(clock)` is atomic (itertools.count
runs in C under the GIL), and the table is written under a lock, which only in-place changes take.
"""

from __future__ import annotations

import itertools
import threading
import weakref

import numpy as np

clock = itertools.count()

# id(root array) -> the clock's reading at its last in-place change. Views share their root
# (x.T, x[1:], x.detach()), so a change through any of them is seen.
_buffer_versions: dict[int, int] = {}
_lock = threading.Lock()

# The clock's reading at the latest in-place change of any array: the sweep looks a node's arrays
# up in the table only if it was recorded before that.
last_change = -1


def note_change(data: np.ndarray):
    """Record that the memory behind `data` changes now.

    An entry is dropped when its buffer is freed, so a loop that changes many short-lived Tensors
    in place does not grow the table (and a new array that reuses a freed id starts clean).
    """
    global last_change
    root = data if data.base is None else buffer_root(data)
    key = id(root)
    with _lock:
        last_change = now = next(clock)
        if key not in _buffer_versions:
            weakref.finalize(root, _buffer_versions.pop, key, None).atexit = False
        _buffer_versions[key] = now


def buffer_root(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory `array` looks at (itself, unless it is a view)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def changed_since(array: np.ndarray, seq: int) -> bool:
    """Whether the memory behind `array` was changed in place after clock reading `seq`."""
    return _buffer_versions.get(id(buffer_root(array)), -1) > seq

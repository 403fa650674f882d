"""The bounds on every request's work, in one place (the API states them when one is hit).

The lab runs on a learner's laptop or a classroom machine: each request must finish in about a
second, and training sessions must not pile up in memory.
"""

from __future__ import annotations

# --- derivatives --------------------------------------------------------------------------------
MAX_POINTS = 2001  # points at which f, f', f'' and the finite difference are evaluated
MAX_ABS_X = 1e6  # largest |x| of a plotting window or a point
MIN_STEP_H, MAX_STEP_H = 1e-20, 1.0  # finite-difference step h

# --- landscapes, descent and the race -------------------------------------------------------------
MAX_GRID = 200  # surface / contour grid: at most MAX_GRID × MAX_GRID values
MAX_WINDOW = 1e4  # largest |coordinate| of a typed function's window
MAX_DESCENT_STEPS = 2000
MAX_LR = 10.0
MAX_RACE_OPTIMIZERS = 6
MAX_RACE_STEPS = 2000  # per optimizer
MAX_RACE_TOTAL_STEPS = 4000  # summed over the optimizers of one race (about 2 s of work)
MAX_CONDITION = 1e4  # condition number of the quadratic landscape

# ranges of the optimizers' other hyper-parameters (inclusive)
HYPER_RANGES = {
    "momentum": (0.0, 0.9999),
    "beta1": (0.0, 0.9999),
    "beta2": (0.0, 0.999999),
    "rho": (0.0, 0.999999),
    "eps": (1e-12, 1.0),
    "weight_decay": (0.0, 10.0),
}

# --- backprop flow: live training -------------------------------------------------------------------
MAX_SESSIONS = 16  # training sessions kept at once; the least recently used one is dropped first
IDLE_TIMEOUT = 600.0  # seconds without a request before a session is dropped
MAX_SESSION_STEPS = 20000  # optimizer steps per session
MAX_STEPS_PER_REQUEST = 500  # one "step" request
MAX_STEPS_PER_FRAME = 200  # one streamed frame
MAX_STREAM_SECONDS = 120.0  # one stream; press play again to go on
MIN_FRAME_INTERVAL = 1 / 20  # seconds: at most 20 frames a second reach the page
MAX_EXAMPLES = 1000
MIN_EXAMPLES = 20
MAX_HIDDEN_LAYERS = 6
MAX_WIDTH = 16
BOUNDARY_GRID = 50  # decision-boundary resolution (BOUNDARY_GRID × BOUNDARY_GRID)

# --- computation graph ----------------------------------------------------------------------------
MAX_GRAPH_OPS = 200  # recorded ops drawn (the parser already limits a formula to 300 syntax nodes)


def as_dict() -> dict:
    """Every limit by name, for the page (it shows them beside the controls)."""
    return {name.lower(): value for name, value in globals().items() if name.isupper()}

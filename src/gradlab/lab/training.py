"""Live training for the backprop-flow view: a small network on a toy 2-D data set, one session per page.

A session holds the data (split into train and test), a gradlab.nn network of Linear layers with
one activation, and a gradlab optimizer. Each step is

    logits = net(x_batch)                       (n, 1)
    loss   = mean BCE(σ(logits), y_batch)       the data loss
    J      = loss + (λ/2) Σ_layers ‖W‖²         with L2 regularisation λ (weights only, not biases)
    J.backward();  optimizer.step()

and runs through gl.compile (nn.compiled_step.CompiledStep): traced at the first step (and once more if λ
turns from 0 to non-zero, which adds the penalty's terms), replayed as straight-line NumPy at every
other; λ and the learning rate are read afresh at each replay, so the page's sliders need no trace.
A network gl.compile refused would be stepped eagerly, with the same numbers.

A frame reports what the page draws: train and test loss and accuracy, the probability of
class 1 on a grid (the decision boundary), and per layer ‖∂J/∂W‖ with |∂J/∂W_ij| for every edge.

SessionStore keeps at most MAX_SESSIONS sessions, drops those idle for IDLE_TIMEOUT seconds, and
makes room for a new one by dropping the least recently used. The lab's server keeps each session
in a worker process and only a handle here (workers.RemoteSession); the store's rules are the same.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import asdict, dataclass

import numpy as np

from .. import autodiff as gl
from .. import nn
from ..data import make_circles, make_moons, make_spiral, make_xor, train_test_split
from ..nn.compiled_step import CompiledStep
from ..optim.minimize import make_optimizer
from . import limits
from .compute import engine
from .errors import LabError

__all__ = ["ACTIVATIONS", "DATASETS", "SessionStore", "TrainingConfig", "TrainingSession"]

DATASETS = {"moons": make_moons, "circles": make_circles, "spiral": make_spiral, "xor": make_xor}
ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
}


@dataclass(frozen=True)
class TrainingConfig:
    dataset: str = "moons"
    n: int = 300
    noise: float = 0.1
    test_fraction: float = 0.3
    hidden: tuple = (8, 8)
    activation: str = "tanh"
    optimizer: str = "adam"
    lr: float = 0.03
    l2: float = 0.0
    batch_size: int = 0  # 0: the whole training set (full-batch gradient descent)
    seed: int = 0


class TrainingSession:
    """One network learning one data set, stepped on request (see the module docstring).

    One thread at a time uses a session: the lab keeps it in one worker lane, which runs the
    requests about it in order (workers.py).
    """

    @classmethod
    def checked(cls, config: TrainingConfig, session_id: str) -> TrainingSession:
        """A new session, or a LabError naming what could not be set up."""
        return _new_session(config, session_id)

    def __init__(self, config: TrainingConfig, session_id: str, compile: bool = True):  # noqa: A002  (as fit's)
        self.id, self.config = session_id, config
        make = DATASETS[config.dataset]
        x, y = make(n=config.n, noise=config.noise, seed=config.seed)
        self.x_train, self.x_test, self.y_train, self.y_test = train_test_split(
            x, y, test_fraction=config.test_fraction, seed=config.seed
        )
        self.t_train = self.y_train.astype(np.float64)
        self.t_test = self.y_test.astype(np.float64)
        self.linears: list[nn.Linear] = []
        layers, n_in = [], 2
        init = "he" if config.activation in ("relu", "leaky_relu", "gelu") else "xavier"
        for i, width in enumerate((*config.hidden, 1)):
            linear = nn.Linear(n_in, width, init=init if i < len(config.hidden) else "xavier", seed=config.seed + i)
            self.linears.append(linear)
            layers.append(linear)
            if i < len(config.hidden):
                layers.append(ACTIVATIONS[config.activation]())
            n_in = width
        self.model = nn.Sequential(*layers)
        self.optimizer = make_optimizer(config.optimizer, self.model.parameters(), lr=config.lr)
        self.l2 = config.l2
        self.step = 0
        self.rng = np.random.default_rng(config.seed)
        self.order: np.ndarray = np.empty(0, dtype=np.int64)
        self.history: list[dict] = []
        self.stopped: str | None = None
        self.stream_token = 0
        self.max_steps = limits.MAX_SESSION_STEPS
        self.last_used = time.monotonic()
        low = np.floor(np.min(x, axis=0) - 0.5)
        high = np.ceil(np.max(x, axis=0) + 0.5)
        self.extent = (low, high)
        g = limits.BOUNDARY_GRID
        self.grid_x = np.linspace(low[0], high[0], g)
        self.grid_y = np.linspace(low[1], high[1], g)
        gx, gy = np.meshgrid(self.grid_x, self.grid_y)
        self.grid_points = np.stack([gx.ravel(), gy.ravel()], axis=1)
        step = _training_step(self.model, self.linears, self.optimizer)
        self.train_step = CompiledStep(step, self.model, self.optimizer, enabled=compile)  # compile=False: eager
        self.last_gradients = self._gradients(self.x_train, self.t_train)  # what the first step will follow

    # --- the loss and one step ----------------------------------------------------------------------
    def _l2(self):
        """λ as the steps take it: None without the penalty; else a 0-d array, so a new λ needs no new trace."""
        return np.asarray(float(self.l2)) if self.l2 else None

    def _gradients(self, x, t) -> list[dict]:
        """Backward through J on (x, t); the gradients per layer (and the parameters keep them in .grad)."""
        self.model.zero_grad()
        _objective(self.model, self.linears, x, t, self._l2()).backward()
        return _per_layer([(layer.weight.grad, layer.bias.grad) for layer in self.linears])

    def _batch(self):
        size = self.config.batch_size
        if size <= 0 or size >= len(self.x_train):
            return self.x_train, self.t_train
        if self.order.size < size:
            self.order = np.concatenate([self.order, self.rng.permutation(len(self.x_train))])
        index, self.order = self.order[:size], self.order[size:]
        return self.x_train[index], self.t_train[index]

    def advance(self, steps: int, token: int | None = None, max_steps: int | None = None) -> dict | None:
        """Take up to `steps` optimizer steps (fewer at the session's limit or on divergence); then a frame.

        A stream passes its token: once the session was paused (or another stream started), the
        token is stale and nothing happens (None), so a pause stops training at once. `max_steps`:
        the limit per session (limits.MAX_SESSION_STEPS unless the server, in another process, says).
        """
        if max_steps is not None:
            self.max_steps = max_steps
        with np.errstate(all="ignore"):
            if token is not None and token != self.stream_token:
                return None
            for _ in range(steps):
                if self.stopped:
                    break
                if self.step >= self.max_steps:
                    self.stopped = (
                        f"this session reached {self.max_steps} steps, the limit per session; "
                        "press reset to start again"
                    )
                    break
                x, t = self._batch()
                self.last_gradients = _per_layer(self.train_step(x, t, self._l2()))
                self.step += 1
                if not all(np.all(np.isfinite(p.data)) for p in self.model.parameters()):
                    self.stopped = (
                        f"the weights became NaN or infinite at step {self.step}: training diverged "
                        "(the learning rate is too large); press reset"
                    )
            return self.frame()

    def pause(self) -> dict:
        """Stop any stream of this session (after the steps it is taking now) and return the frame."""
        self.stream_token += 1
        return self.frame()

    def start_stream(self) -> int:
        self.stream_token += 1
        return self.stream_token

    def set_hyper(self, lr: float | None, l2: float | None):
        if lr is not None:
            self.optimizer.lr = lr
        if l2 is not None:
            self.l2 = l2

    # --- what the page draws -------------------------------------------------------------------------
    def _evaluate(self, x, t):
        with gl.no_grad():
            logits = np.asarray(gl.reshape(self.model(gl.Tensor(x)), (-1,)).data)
            loss = float(gl.bce_with_logits(logits, t).item())
        accuracy = float(np.mean((logits > 0) == (t > 0.5)))
        return loss, accuracy

    def frame(self) -> dict:
        """The state after the latest step (see the module docstring)."""
        with np.errstate(all="ignore"):
            train_loss, train_accuracy = self._evaluate(self.x_train, self.t_train)
            test_loss, test_accuracy = self._evaluate(self.x_test, self.t_test)
            with gl.no_grad():
                probability = gl.sigmoid(self.model(gl.Tensor(self.grid_points))).data.reshape(
                    len(self.grid_y), len(self.grid_x)
                )
            layers = []
            for i, (layer, grads) in enumerate(zip(self.linears, self.last_gradients)):
                layers.append(
                    {
                        "name": f"layer {i + 1}" if i < len(self.linears) - 1 else "output",
                        "shape": layer.weight.shape,
                        "grad_norm": float(np.linalg.norm(grads["weight"])),
                        "bias_grad_norm": float(np.linalg.norm(grads["bias"])),
                        "weight_norm": float(np.linalg.norm(layer.weight.data)),
                        "edge_grad": np.abs(grads["weight"]),
                        "weight": np.array(layer.weight.data, dtype=np.float64),
                        "bias_grad": np.abs(grads["bias"]),
                    }
                )
        record = {"step": self.step, "train_loss": train_loss, "test_loss": test_loss}
        if not self.history or self.history[-1]["step"] != self.step:
            self.history.append(record)
        return {
            **record,
            "train_accuracy": train_accuracy,
            "test_accuracy": test_accuracy,
            "lr": self.optimizer.lr,
            "l2": self.l2,
            "boundary": {
                "x": self.grid_x,
                "y": self.grid_y,
                "p": np.round(probability, 4),
            },  # 4 decimals: smaller frames
            "layers": layers,
            "stopped": self.stopped,
            "max_steps": self.max_steps,
        }

    def describe(self) -> dict:
        """Everything the page needs after creating (or reloading) a session."""
        return {
            "id": self.id,
            "config": asdict(self.config),
            "data": {
                "train": {"x": self.x_train, "y": self.y_train},
                "test": {"x": self.x_test, "y": self.y_test},
                "extent": {"x": [self.extent[0][0], self.extent[1][0]], "y": [self.extent[0][1], self.extent[1][1]]},
            },
            "parameters": self.model.num_parameters(),
            "history": self.history,
            "frame": self.frame(),
        }


def _objective(model, linears, x, t, l2):
    """J = mean BCE(σ(logits), t) + (λ/2) Σ_layers ‖W‖² (no penalty for l2=None)."""
    logits = gl.reshape(model(gl.Tensor(x)), (-1,))
    loss = gl.bce_with_logits(logits, t)
    if l2 is None:
        return loss
    return loss + (l2 / 2) * sum(gl.sum(layer.weight * layer.weight) for layer in linears)


def _training_step(model, linears, optimizer):
    """step(x, t, l2): zero_grad, J, backward, optimizer.step(); returns (∂J/∂W, ∂J/∂b) per layer."""

    def step(x, t, l2):
        optimizer.zero_grad()
        _objective(model, linears, x, t, l2).backward()
        optimizer.step()
        return [(layer.weight.grad, layer.bias.grad) for layer in linears]

    return step


def _per_layer(gradients) -> list[dict]:
    return [{"weight": np.array(w, dtype=np.float64), "bias": np.array(b, dtype=np.float64)} for w, b in gradients]


def session_missing(kept: int = limits.MAX_SESSIONS) -> LabError:
    """The answer about a session that is gone (expired, dropped to make room, or never made)."""
    return LabError(
        "this training session no longer exists (sessions end after "
        f"{limits.IDLE_TIMEOUT / 60:g} minutes without use, and at most {kept} are kept); "
        "the page starts a new one",
        field="session",
        status=404,
    )


class SessionStore:
    """At most `max_sessions` sessions; idle ones expire, and the least recently used makes room.

    `factory(config, id)` makes a session (a TrainingSession here, by default); a session with a
    `close()` is told when the store drops it.
    """

    def __init__(
        self,
        max_sessions: int = limits.MAX_SESSIONS,
        idle_timeout: float = limits.IDLE_TIMEOUT,
        clock=time.monotonic,
        factory=None,
    ):
        self.max_sessions, self.idle_timeout, self.clock = max_sessions, idle_timeout, clock
        self.factory = factory if factory is not None else TrainingSession.checked
        self.sessions: dict = {}
        self.lock = threading.Lock()

    def _drop(self, session_id: str) -> bool:
        session = self.sessions.pop(session_id, None)
        if session is not None and hasattr(session, "close"):
            session.close()
        return session is not None

    def _expire(self):
        now = self.clock()
        for key in [k for k, s in self.sessions.items() if now - s.last_used > self.idle_timeout]:
            self._drop(key)

    def create(self, config: TrainingConfig):
        session = self.factory(config, secrets.token_urlsafe(9))
        session.last_used = self.clock()
        with self.lock:
            self._expire()
            while len(self.sessions) >= self.max_sessions:
                oldest = min(self.sessions.values(), key=lambda s: s.last_used)
                self._drop(oldest.id)
            self.sessions[session.id] = session
        return session

    def get(self, session_id: str) -> TrainingSession:
        with self.lock:
            self._expire()
            session = self.sessions.get(session_id)
            if session is None:
                raise session_missing(self.max_sessions)
            session.last_used = self.clock()
            return session

    def delete(self, session_id: str) -> bool:
        with self.lock:
            return self._drop(session_id)

    def __len__(self):
        return len(self.sessions)


@engine
def _new_session(config: TrainingConfig, session_id: str) -> TrainingSession:
    try:
        return TrainingSession(config, session_id)
    except (ValueError, TypeError) as error:
        raise LabError(f"could not set up the network: {error}", field="dataset") from None

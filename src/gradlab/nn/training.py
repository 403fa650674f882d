"""The training loop: fit, evaluate, predict.

fit repeats, for every epoch and every shuffled mini-batch:
    forward (predictions) → loss → backward (gradients) → optimizer.step() (move the weights)
and keeps a history of the metrics per epoch. Long runs show a progress bar; early stopping
keeps the best weights; Ctrl-C stops cleanly between two steps and also keeps the best weights.

The per-batch step runs through gl.compile by default (CompiledStep, in compiled_step.py): traced once per
batch shape and training mode, then replayed as straight-line NumPy, computing what the eager step computes.
A model the compiler refuses (batch norm in training mode, value-dependent Python control flow) is trained eagerly
instead, from the state it had before the refused trace; History.compile_note says why.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .. import autodiff as gl
from ..progress import Pace, clock
from .compiled_step import CompiledStep
from .module import Module

__all__ = [
    "Callback",
    "CompiledStep",
    "EarlyStopping",
    "History",
    "LearningRateSchedule",
    "evaluate",
    "fit",
    "predict",
]


@dataclass
class History:
    """Metrics per epoch (loss, accuracy, val_loss, val_accuracy, seconds) and how training ended.

    compiled: whether the steps ran through gl.compile; compile_note: why not (or what ran eagerly);
    traces: how many times gl.compile traced the step (once per batch shape and training mode).
    """

    epochs: list = field(default_factory=list)
    stopped: str = "completed"
    best_epoch: int | None = None
    compiled: bool = False
    compile_note: str = ""
    traces: int = 0

    def __getitem__(self, key):
        return [e[key] for e in self.epochs if key in e]

    def last(self) -> dict:
        return self.epochs[-1] if self.epochs else {}


class Callback:
    """Hooks into fit(). Override what you need; return True from on_epoch_end to stop training."""

    def on_train_begin(self, model, optimizer):
        pass

    def on_after_backward(self, model):
        """Called after loss.backward(), before optimizer.step(): gradients are fresh."""

    def on_after_step(self, model):
        """Called after optimizer.step(): the weights have just moved."""

    def on_epoch_end(self, epoch: int, logs: dict, model) -> bool:
        return False


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved for `patience` epochs; fit restores the best weights."""

    def __init__(self, monitor: str = "val_loss", patience: int = 3, min_delta: float = 0.0):
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.best = math.inf
        self.waited = 0

    def on_epoch_end(self, epoch, logs, model):
        value = logs.get(self.monitor)
        if value is None:
            raise KeyError(f"EarlyStopping monitors '{self.monitor}', but the logs have {sorted(logs)}")
        sign = -1 if "accuracy" in self.monitor else 1
        if sign * value < self.best - self.min_delta:
            self.best, self.waited = sign * value, 0
            return False
        self.waited += 1
        return self.waited >= self.patience


class LearningRateSchedule(Callback):
    """Step a schedule from gradlab.optim (StepLR, CosineAnnealingLR, ...) once per epoch."""

    def __init__(self, schedule):
        self.schedule = schedule

    def on_epoch_end(self, epoch, logs, model):
        logs["lr"] = self.schedule.optimizer.lr
        self.schedule.step()
        return False


def _overrides(callback, hook: str) -> bool:
    return getattr(type(callback), hook) is not getattr(Callback, hook)


def _train_step(model, loss_fn, optimizer, callbacks, enabled: bool):
    """One mini-batch's update as (run, compiled): run(x, y) -> (output, loss), and the CompiledStep
    whose `compiled`, `reason` and `traces` the History reports (see fit's docstring)."""
    after_backward = [c for c in callbacks if _overrides(c, "on_after_backward")]

    def forward_backward(xb, yb):
        optimizer.zero_grad()
        output = model(xb)
        loss = loss_fn(output, yb)
        loss.backward()
        return output, loss

    def whole(xb, yb):  # written out, not through forward_backward: gl.compile finds the model among its closure
        optimizer.zero_grad()
        output = model(xb)
        loss = loss_fn(output, yb)
        loss.backward()
        optimizer.step()
        return output, loss

    if not after_backward:
        step = CompiledStep(whole, model, optimizer, enabled)
        return step, step
    part = CompiledStep(forward_backward, model, optimizer, enabled)

    def split(xb, yb):  # the callbacks see (and may change) the fresh gradients; the update runs eagerly
        output, loss = part(xb, yb)
        for c in after_backward:
            c.on_after_backward(model)
        optimizer.step()
        return output, loss

    return split, part


def _batches(n: int, batch_size: int, rng):
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def _accuracy(output: np.ndarray, labels: np.ndarray) -> float | None:
    labels = np.asarray(labels)
    if labels.dtype.kind in "iu" and output.ndim == 2 and output.shape[1] > 1:
        return float(np.mean(output.argmax(axis=1) == labels))
    if output.ndim == labels.ndim and output.shape == labels.shape and set(np.unique(labels)) <= {0, 1}:
        return float(np.mean((output > 0) == (labels > 0.5)))
    return None


class _Progress:
    """Progress a person can plan with: examples per second, time elapsed and time left.

    On a terminal one line redraws itself (at most ten times a second). In a log file or CI, where a
    redrawn line shows nothing until it ends, a plain line is written every `interval` seconds instead.
    Time left assumes the remaining batches run at the rate measured so far in the run.
    """

    def __init__(self, total: int, epochs: int, enabled: bool, unit: str = "examples", stream=None, interval=10.0):
        self.total, self.epochs, self.enabled, self.unit = total, epochs, enabled, unit
        self.stream = stream or sys.stderr
        self.pace = Pace(self.stream, interval, redraw=0.1, clock=time.perf_counter)
        self.tty = self.pace.tty
        self.run_start = time.perf_counter()
        self.finished_batches = 0  # in earlier epochs
        self.start_epoch(1)

    def start_epoch(self, epoch: int):
        self.epoch, self.start = epoch, time.perf_counter()
        self.pace.restart()

    def line(self, done: int, examples: int, loss: float, accuracy: float | None) -> str:
        now = time.perf_counter()
        in_epoch, in_run = now - self.start, now - self.run_start
        per_batch = in_run / max(self.finished_batches + done, 1)
        epoch_left = (self.total - done) * per_batch
        run_left = epoch_left + (self.epochs - self.epoch) * self.total * per_batch
        width = 20
        filled = int(width * done / self.total)
        acc = "" if accuracy is None else f" acc {accuracy:.3f}"
        left = f"{clock(epoch_left)} left" + (f" (run {clock(run_left)})" if self.epoch < self.epochs else "")
        return (
            f"epoch {self.epoch}/{self.epochs} [{'#' * filled}{'-' * (width - filled)}] {done}/{self.total}"
            f" loss {loss:.4f}{acc}  {examples / max(in_epoch, 1e-9):,.0f} {self.unit}/s"
            f"  {clock(in_epoch)} elapsed, {left}"
        )

    def update(self, done: int, examples: int, loss: float, accuracy: float | None):
        if not self.enabled or done == self.total or not self.pace.due():
            return
        text = self.line(done, examples, loss, accuracy)
        self.stream.write(f"\r{text}" if self.tty else text + "\n")
        self.stream.flush()

    def finish(self, logs: dict):
        self.finished_batches += self.total
        if not self.enabled:
            return
        parts = [f"{k} {v:.4f}" for k, v in logs.items() if k != "seconds" and v is not None]
        prefix = "\r" if self.tty else ""
        self.stream.write(
            f"{prefix}epoch {self.epoch}/{self.epochs}: "
            + ", ".join(parts)
            + (f" ({logs['seconds']:.1f} s)" if logs["seconds"] < 60 else f" ({clock(logs['seconds'])})")
            + " " * 40
            + "\n"
        )
        self.stream.flush()


def fit(
    model: Module,
    loss_fn,
    optimizer,
    train_data,
    val_data=None,
    epochs: int = 10,
    batch_size: int = 64,
    shuffle: bool = True,
    seed: int | None = 0,
    callbacks=(),
    verbose: bool = True,
    dtype=None,
    unit: str = "examples",
    compile: bool = True,  # noqa: A002  (fit(compile=False), as the issue spells it)
) -> History:
    """Train `model` on train_data = (x, y); return the History.

    loss_fn(output, y_batch) must return a single-number Tensor. Accuracy is reported for
    classification (integer labels with logits per class, or 0/1 targets with one logit).
    With verbose=True the progress (unit/s, elapsed, time left) goes to stderr: a redrawn line on a
    terminal, a line every 10 s otherwise, and a summary line per epoch.

    compile=True runs each step (zero_grad, forward, loss, backward, optimizer.step) through gl.compile:
    the first batch of each shape is traced (the last, smaller batch of an epoch is one more trace),
    every other batch replays straight-line NumPy that computes what the eager step computes, dropout
    masks included (drawn from the same generators in the same order). When gl.compile refuses the step,
    training goes on eagerly from where it was (a one-line notice with verbose=True), and the History
    records it (compiled=False, compile_note says why). A callback that overrides on_after_backward gets
    the fresh gradients as before: then forward and backward are compiled and optimizer.step() runs
    eagerly after the callbacks. compile=False runs the step as written.
    """
    x, y = (np.asarray(a) for a in train_data)
    if len(x) != len(y):
        raise ValueError(f"train_data has {len(x)} inputs but {len(y)} targets")
    if dtype is not None:
        x = x.astype(dtype)
    rng = np.random.default_rng(seed) if shuffle else None
    history = History()
    best_state, best_value = None, math.inf
    stopper = next((c for c in callbacks if isinstance(c, EarlyStopping)), None)
    for c in callbacks:
        c.on_train_begin(model, optimizer)
    batches_per_epoch = math.ceil(len(x) / batch_size)
    progress = _Progress(batches_per_epoch, epochs, verbose, unit=unit)
    run, compiled = _train_step(model, loss_fn, optimizer, callbacks, compile)
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            progress.start_epoch(epoch)
            start = time.perf_counter()
            total_loss, correct, seen, count = 0.0, 0.0, 0, 0
            for i, index in enumerate(_batches(len(x), batch_size, rng), start=1):
                yb = y[index]
                output, loss = run(gl.Tensor(x[index]), yb)
                if compile and not compiled.compiled and not history.compile_note:
                    _note_eager(history, compiled.reason, verbose)
                for c in callbacks:
                    c.on_after_step(model)
                value = loss.item()
                if not math.isfinite(value):
                    raise FloatingPointError(
                        f"the loss became {value} at epoch {epoch}, batch {i}: lower the learning rate, or check the "
                        "data for NaN/Inf (gl.detect_anomaly() names the op that produced it)"
                    )
                total_loss += value * len(index)
                seen += len(index)
                accuracy = _accuracy(output.data, yb)
                if accuracy is not None:
                    correct += accuracy * len(index)
                    count += len(index)
                progress.update(i, seen, total_loss / seen, correct / count if count else None)
            logs = {"loss": total_loss / seen, "accuracy": correct / count if count else None}
            if val_data is not None:
                scores = evaluate(model, loss_fn, val_data, batch_size=max(batch_size, 256), dtype=dtype)
                logs["val_loss"], logs["val_accuracy"] = scores["loss"], scores["accuracy"]
            logs["seconds"] = time.perf_counter() - start
            history.epochs.append(logs)
            progress.finish(logs)
            watched = logs.get(stopper.monitor if stopper else "val_loss", logs["loss"])
            watched = -watched if stopper and "accuracy" in stopper.monitor else watched
            if watched is not None and watched < best_value:
                best_value, best_state, history.best_epoch = watched, model.state_dict(), epoch
            if any(c.on_epoch_end(epoch, logs, model) for c in callbacks):
                history.stopped = "early stopping"
                break
    except KeyboardInterrupt:
        history.stopped = "interrupted"
        if verbose:
            sys.stderr.write("\ntraining interrupted: keeping the best weights so far\n")
    finally:
        history.compiled, history.traces = compiled.compiled, compiled.traces
        history.compile_note = compiled.reason
        if compiled.compiled and run is not compiled:
            history.compile_note = "optimizer.step() ran eagerly: a callback's on_after_backward needs the gradients"
    if best_state is not None and (stopper is not None or history.stopped == "interrupted"):
        model.load_state_dict(best_state)
    model.eval()
    return history


def _note_eager(history: History, reason: str, verbose: bool):
    history.compile_note = reason
    if verbose:
        sys.stderr.write(f"fit: training eagerly ({reason}); compile=False skips the attempt\n")


def predict(model: Module, x, batch_size: int = 256, dtype=None) -> np.ndarray:
    """The model's outputs for x, in evaluation mode, without recording anything."""
    x = np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)
    model.eval()
    outputs = []
    with gl.no_grad():
        for start in range(0, len(x), batch_size):
            outputs.append(model(gl.Tensor(x[start : start + batch_size])).data)
    return np.concatenate(outputs) if outputs else np.empty((0,))


def evaluate(model: Module, loss_fn, data, batch_size: int = 256, dtype=None) -> dict:
    """{"loss": mean loss, "accuracy": fraction correct (None for regression)} on data = (x, y)."""
    x, y = data
    y = np.asarray(y)
    output = predict(model, x, batch_size, dtype)
    with gl.no_grad():
        loss = float(loss_fn(gl.Tensor(output), y).item())
    return {"loss": loss, "accuracy": _accuracy(output, y)}

"""fit(compile=True): the compiled training step follows the eager one (fit(compile=False)) exactly.

The same History and the same weights (float64, fixed seeds) for SGD and Adam with dropout, with
callbacks, early stopping and Ctrl-C; one trace per batch shape; a model gl.compile refuses is trained
eagerly from the state it had before the refused trace.
"""

import numpy as np
import pytest

import gradlab as gl
from gradlab import nn, optim
from gradlab.nn.training import CompiledStep

rng = np.random.default_rng(11)
X = rng.standard_normal((90, 4))
Y = (X[:, 0] + X[:, 1] ** 2 > 0.8).astype(np.int64) + (X[:, 2] > 1).astype(np.int64)  # 3 classes
VAL = (rng.standard_normal((40, 4)), rng.integers(0, 3, 40))


def mlp():
    return nn.Sequential(nn.Linear(4, 16, seed=0), nn.ReLU(), nn.Dropout(0.3, seed=1), nn.Linear(16, 3, seed=2))


def train(compiled, make=mlp, optimizer=optim.Adam, loss_fn=gl.cross_entropy, callbacks=(), **options):
    model = make()
    opt = optimizer(model.parameters(), lr=0.05)
    settings = {"epochs": 3, "batch_size": 32, "verbose": False, **options}
    history = nn.fit(model, loss_fn, opt, (X, Y), callbacks=callbacks, compile=compiled, **settings)
    return history, model.state_dict()


def assert_same_training(compiled, eager, keys=("loss", "accuracy")):
    (history, state), (expected_history, expected_state) = compiled, eager
    assert len(history.epochs) == len(expected_history.epochs)
    for key in keys:
        np.testing.assert_allclose(history[key], expected_history[key], rtol=0, atol=1e-10)
    assert (history.stopped, history.best_epoch) == (expected_history.stopped, expected_history.best_epoch)
    for name, value in expected_state.items():
        np.testing.assert_allclose(state[name], value, rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("optimizer", [optim.SGD, optim.Adam])
def test_compiled_fit_follows_eager_fit_with_dropout(optimizer):
    """Dropout draws a fresh mask per batch in both (same generator, same order): equal losses prove it."""
    eager = train(False, optimizer=optimizer, val_data=VAL)
    compiled = train(True, optimizer=optimizer, val_data=VAL)
    assert_same_training(compiled, eager, keys=("loss", "accuracy", "val_loss", "val_accuracy"))
    history = compiled[0]
    assert history.compiled and history.compile_note == ""
    assert history.traces == 2  # 90 = 2 × 32 + 26: a full batch and the last, smaller one
    assert not eager[0].compiled and eager[0].compile_note == "compile=False"
    assert history["loss"][-1] < history["loss"][0]  # it trained


def test_one_trace_per_batch_shape_over_many_epochs():
    history, _ = train(True, epochs=4, batch_size=30)  # 90 = 3 × 30: every batch has one shape
    assert history.traces == 1


class HalveGradients(nn.Callback):
    """Reads the fresh gradients after backward and changes them in place; reads the weights after the step."""

    def __init__(self):
        self.gradient_norms, self.weight_sums = [], []

    def on_after_backward(self, model):
        for p in model.parameters():
            self.gradient_norms.append(float(np.linalg.norm(p.grad)))
            p.grad *= 0.5

    def on_after_step(self, model):
        self.weight_sums.append(float(sum(np.sum(p.data) for p in model.parameters())))


def test_a_callback_between_backward_and_step_sees_and_changes_the_fresh_gradients():
    eager_callback, callback = HalveGradients(), HalveGradients()
    eager = train(False, callbacks=[eager_callback])
    compiled = train(True, callbacks=[callback])
    assert_same_training(compiled, eager)
    np.testing.assert_allclose(callback.gradient_norms, eager_callback.gradient_norms, rtol=0, atol=1e-10)
    np.testing.assert_allclose(callback.weight_sums, eager_callback.weight_sums, rtol=0, atol=1e-10)
    assert len(set(callback.weight_sums)) == len(callback.weight_sums)  # the weights moved at every step
    history = compiled[0]
    assert history.compiled and "on_after_backward" in history.compile_note
    assert history.traces == 2


def test_early_stopping_and_its_best_weights_are_those_of_eager_fit():
    def stopper():
        return [nn.EarlyStopping(patience=1)]

    eager = train(False, callbacks=stopper(), val_data=VAL, epochs=30, optimizer=optim.SGD)
    compiled = train(True, callbacks=stopper(), val_data=VAL, epochs=30, optimizer=optim.SGD)
    assert eager[0].stopped == "early stopping"  # the case under test happened
    assert_same_training(compiled, eager, keys=("loss", "val_loss"))


class InterruptAt(nn.Callback):
    def __init__(self, step: int):
        self.step, self.steps = step, 0

    def on_after_step(self, model):
        self.steps += 1
        if self.steps == self.step:
            raise KeyboardInterrupt


def test_ctrl_c_keeps_the_best_weights_as_eager_fit_does():
    eager = train(False, callbacks=[InterruptAt(8)])
    compiled = train(True, callbacks=[InterruptAt(8)])
    assert compiled[0].stopped == "interrupted" and compiled[0].best_epoch == 2
    assert_same_training(compiled, eager)
    assert compiled[0].compiled


def batch_norm_mlp():
    return nn.Sequential(
        nn.Linear(4, 16, seed=0), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3, seed=1), nn.Linear(16, 3, seed=2)
    )


def test_a_model_the_compiler_refuses_trains_eagerly_from_its_state_before_the_refused_trace(capsys):
    """Batch norm in training mode is refused after the trace ran the whole step (weights, Adam's moments,
    running statistics and the dropout generator moved): all of it is put back, so nothing runs twice."""
    eager = train(False, make=batch_norm_mlp)
    compiled = train(True, make=batch_norm_mlp, verbose=True)
    assert_same_training(compiled, eager)
    assert "1.running_mean" in compiled[1]  # the running statistics are compared too
    history = compiled[0]
    assert not history.compiled
    assert "BatchNorm1d.running_var" in history.compile_note and "model.eval()" in history.compile_note
    notices = [line for line in capsys.readouterr().err.splitlines() if line.startswith("fit: training eagerly")]
    assert len(notices) == 1


def test_value_dependent_control_flow_in_the_loss_falls_back_to_eager():
    def doubled_when_large(output, y):
        loss = gl.cross_entropy(output, y)
        return loss * 2 if loss.item() > 0.9 else loss  # a branch on a value: refused by gl.compile

    eager = train(False, loss_fn=doubled_when_large)
    compiled = train(True, loss_fn=doubled_when_large)
    assert_same_training(compiled, eager)
    assert not compiled[0].compiled and "gl.where" in compiled[0].compile_note


HEAD = nn.BatchNorm1d(3)  # reached by the loss only through a global: gl.compile finds it after one call


def _loss_through_a_global_head(output, y):
    return gl.cross_entropy(HEAD(output), y)


def test_a_refused_module_found_only_at_the_second_call_still_falls_back():
    """gl.compile runs the first call eagerly while it finds HEAD, then refuses the second call's trace
    (batch norm in training mode): that call too must start from the state it had before."""
    eager = train(False, loss_fn=_loss_through_a_global_head)
    compiled = train(True, loss_fn=_loss_through_a_global_head)
    assert_same_training(compiled, eager)
    assert not compiled[0].compiled and "BatchNorm1d" in compiled[0].compile_note


def test_compiled_step_replays_and_reports_its_traces():
    model = nn.Sequential(nn.Linear(3, 1, seed=0))
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = gl.mse(model(x), y)
        loss.backward()
        opt.step()
        return loss

    compiled = CompiledStep(step, model, opt)
    losses = [compiled(rng.standard_normal((8, 3)), np.ones((8, 1))).item() for _ in range(5)]
    assert compiled.compiled and compiled.traces == 1 and compiled.reason == ""
    assert losses[-1] < losses[0]
    assert CompiledStep(step, model, opt, enabled=False).reason == "compile=False"


def test_state_is_kept_before_every_call_gl_compile_would_trace_again(monkeypatch):
    """CompiledStep keeps the model's state before a call that may trace, judged by gl.compile's own cache key:
    an argument that turns into a leaf (requires_grad) traces again, so its state must be kept too (a key
    that saw only shapes and dtypes would call it replayed, and a refused trace could not be undone)."""
    model = nn.Sequential(nn.Linear(3, 1, seed=0))
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = gl.mse(model(x), y)
        loss.backward()
        opt.step()
        return loss

    compiled = CompiledStep(step, model, opt)
    kept = []
    save = compiled._save
    monkeypatch.setattr(compiled, "_save", lambda: kept.append(compiled.traces) or save())
    x, y = rng.standard_normal((8, 3)), np.ones((8, 1))
    for _ in range(3):
        compiled(gl.Tensor(x), y)
    # kept before the trace and before the first replay (only a replay proves calls like it no longer trace)
    assert kept == [0, 1] and compiled.traces == 1
    compiled(gl.Tensor(x, requires_grad=True), y)
    assert kept == [0, 1, 1] and compiled.traces == 2

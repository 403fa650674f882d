"""The lab's training sessions step through gl.compile: one trace, then replays that give the eager numbers.

Compared with the same session stepped eagerly (compile=False: its step run as written): losses, per-edge gradients
and weights; the page's sliders (learning rate, λ) take effect without a new trace (λ from 0 to non-zero
once adds the penalty's terms); the worker's code path uses the same compiled step.
"""

import numpy as np
import pytest

from gradlab.lab import workers
from gradlab.lab.training import TrainingConfig, TrainingSession


def assert_same_frames(frame, expected):
    for key in ("step", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "lr", "l2"):
        np.testing.assert_allclose(frame[key], expected[key], rtol=0, atol=1e-10, err_msg=key)
    np.testing.assert_allclose(frame["boundary"]["p"], expected["boundary"]["p"], rtol=0, atol=1e-4)
    for layer, want in zip(frame["layers"], expected["layers"]):
        for key in ("edge_grad", "weight", "bias_grad", "grad_norm"):
            np.testing.assert_allclose(layer[key], want[key], rtol=0, atol=1e-10, err_msg=f"{layer['name']} {key}")


@pytest.mark.parametrize(
    "config",
    [
        TrainingConfig(),  # full batch, Adam, tanh
        TrainingConfig(dataset="spiral", batch_size=32, activation="relu", optimizer="sgd", l2=0.01, hidden=(16, 8)),
    ],
    ids=["full-batch-adam", "mini-batch-sgd-l2"],
)
def test_a_session_is_stepped_by_its_compiled_step_with_the_eager_numbers(config):
    session, reference = TrainingSession(config, "compiled"), TrainingSession(config, "eager", compile=False)
    for steps in (1, 25, 40):
        assert_same_frames(session.advance(steps), reference.advance(steps))
    assert session.train_step.compiled and session.train_step.traces == 1
    assert reference.train_step.traces == 0  # the reference really ran eagerly
    assert session.frame()["train_loss"] < TrainingSession(config, "fresh").frame()["train_loss"]  # it learned


def test_the_sliders_need_no_new_trace_except_turning_the_penalty_on():
    session, reference = (
        TrainingSession(TrainingConfig(), "compiled"),
        TrainingSession(TrainingConfig(), "eager", compile=False),
    )
    changes = [(0.01, None, 1), (None, 0.05, 2), (None, 0.2, 2), (0.1, 0.0, 2), (None, 0.3, 2)]
    for lr, l2, traces in changes:  # (new learning rate, new λ, traces expected after the next steps)
        session.set_hyper(lr, l2)
        reference.set_hyper(lr, l2)
        assert_same_frames(session.advance(10), reference.advance(10))
        assert session.train_step.traces == traces


def test_the_workers_session_calls_step_the_compiled_session():
    """What a lane runs (session_create, then session_call 'advance') reaches the compiled step."""
    session_id = "lab-compile-test"
    workers.session_create(TrainingConfig(dataset="xor"), session_id)
    try:
        text, stopped = workers.session_call(session_id, "advance", 30, None, 1000)
        assert stopped is None and '"step":30' in text
        step = workers._session(session_id).train_step
        assert step.compiled and step.traces == 1
    finally:
        workers.session_drop(session_id)

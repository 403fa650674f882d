"""Lesson 17's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import re

import numpy as np

import gradlab as gl
from exercise_harness import failed
from gradlab.exercises import lesson17

# compile.backward_by_hand -----------------------------------------------------------------------------------


def by_hand(**mistake):
    return lambda x, y, W1, b1, W2, b2: lesson17.reference_backward_by_hand(x, y, W1, b1, W2, b2, **mistake)


def test_backward_without_the_relu_mask():
    assert "forgot the ReLU mask" in failed("compile.backward_by_hand", by_hand(mask="none"))


def test_backward_multiplying_by_h_instead_of_the_mask():
    assert "not h itself" in failed("compile.backward_by_hand", by_hand(mask="h"))


def test_backward_through_w2_instead_of_its_transpose():
    message = failed("compile.backward_by_hand", by_hand(transpose=False))
    assert "wrong transpose" in message and "W2ᵀ" in message


def test_backward_without_the_factor_2():
    assert "factor 2 is missing" in failed("compile.backward_by_hand", by_hand(scale=1.0))


def test_backward_without_the_mean():
    assert "1/N of the mean is missing" in failed("compile.backward_by_hand", by_hand(size=1))


def test_backward_dividing_by_the_batch_size_when_p_has_several_columns():
    def wrong(x, y, W1, b1, W2, b2):
        return lesson17.reference_backward_by_hand(x, y, W1, b1, W2, b2, size=len(x))

    assert "every entry of p" in failed("compile.backward_by_hand", wrong)


def test_backward_with_target_minus_prediction():
    assert "sign is flipped" in failed("compile.backward_by_hand", by_hand(scale=-2.0))


def test_weight_gradient_transposed():
    def wrong(*args):
        g_W1, g_b1, g_W2, g_b2 = lesson17.reference_backward_by_hand(*args)
        return g_W1, g_b1, g_W2.T, g_b2

    message = failed("compile.backward_by_hand", wrong)
    assert "g_W2 is transposed" in message


def test_bias_gradient_not_summed_over_the_batch():
    def wrong(x, y, W1, b1, W2, b2):
        g_W1, g_b1, g_W2, _ = lesson17.reference_backward_by_hand(x, y, W1, b1, W2, b2)
        p = np.maximum(x @ W1 + b1, 0) @ W2 + b2
        return g_W1, g_b1, g_W2, 2 * (p - y) / p.size  # g_p itself: one row per example

    message = failed("compile.backward_by_hand", wrong)
    assert "g_b2 has one row per example" in message and "sum of the rows" in message


def test_bias_gradient_averaged_instead_of_summed():
    def wrong(x, y, W1, b1, W2, b2):
        g_W1, g_b1, g_W2, g_b2 = lesson17.reference_backward_by_hand(x, y, W1, b1, W2, b2)
        return g_W1, g_b1, g_W2, g_b2 / len(x)

    assert "sum over the batch, not mean" in failed("compile.backward_by_hand", wrong)


def test_backward_returning_three_gradients():
    message = failed("compile.backward_by_hand", lambda *args: lesson17.reference_backward_by_hand(*args)[1:])
    assert "return four arrays" in message


def test_the_reference_is_the_engine():
    rng = np.random.default_rng(0)
    args = rng.normal(size=(4, 3)), rng.normal(size=(4, 2)), rng.normal(size=(3, 5)), rng.normal(size=5)
    args += rng.normal(size=(5, 2)), rng.normal(size=2)
    for hand, engine in zip(lesson17.reference_backward_by_hand(*args), lesson17.engine_mlp_gradients(*args)):
        np.testing.assert_allclose(hand, engine, rtol=1e-12)


# compile.needed_gradients ----------------------------------------------------------------------------------


def with_extra(*names):
    """The right answer plus those of `names` that the graph has."""

    def wrong(ops, trainable):
        in_graph = {out for out, _, _ in ops} | {v for _, _, inputs in ops for v in inputs}
        return lesson17.reference_needed_gradients(ops, trainable) | (set(names) & in_graph)

    return wrong


def test_needed_gradients_including_the_data():
    assert "'x' is data or frozen" in failed("compile.needed_gradients", with_extra("x"))


def test_needed_gradients_including_the_loss():
    assert "leave out the loss" in failed("compile.needed_gradients", with_extra("loss"))


def test_needed_gradients_including_the_dead_value():
    assert "'e' never reaches the loss" in failed("compile.needed_gradients", with_extra("e"))


def every_value_but_e_and_loss(ops, trainable):
    return {out for out, _, _ in ops} - {"e", "loss"} | set(trainable)


def test_needed_gradients_of_every_value_of_a_frozen_layer():
    """With W2 and b2 trainable only, h lies before them: it depends on no trainable parameter."""
    message = failed("compile.needed_gradients", every_value_but_e_and_loss)
    assert "does not depend on any trainable parameter" in message and "first layer frozen" in message


def test_needed_gradients_of_every_value():
    """Each op's output; the gradient the chain rule must pass through W1 (z1 when only b1 is trainable) is missed."""

    def wrong(ops, trainable):
        return set(trainable) | {"p", "h", "a1", "z2", "d", "s"}

    message = failed("compile.needed_gradients", wrong)
    assert "∂L/∂z1 is needed" in message


def test_needed_gradients_missing_a_trainable_parameter():
    def wrong(ops, trainable):
        return lesson17.reference_needed_gradients(ops, trainable) - {"b2"}

    assert "'b2' is trainable" in failed("compile.needed_gradients", wrong)


def test_needed_gradients_of_an_unused_parameter():
    assert "'U' never reaches the loss" in failed("compile.needed_gradients", with_extra("U", "u"))


def test_needed_gradients_as_a_string():
    assert "set of value names" in failed("compile.needed_gradients", lambda ops, trainable: "W1")


def _gradient_lines(source: str) -> set[str]:
    """Names v of the lines `g_v = ...` (or `g_v, _ = ...`) of a compiled step's source."""
    names = set()
    for line in source.splitlines():
        match = re.match(r"\s*((?:g_\w+|_)(?:, (?:g_\w+|_))*) = ", line)
        if match:
            names |= {n[2:] for n in match.group(1).split(", ") if n.startswith("g_")}
    return names


def test_the_reference_computes_the_gradients_gl_compile_writes_lines_for():
    """The MLP graph written with gradlab ops, compiled with each set of trainable parameters of the exercise:
    its backward lines are for the intermediate values the reference names (the tracer names them by op)."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=(6, 1))
    tracer_names = {"z1": "matmul", "a1": "add", "h": "relu", "z2": "matmul2", "p": "add2", "d": "sub", "s": "power"}
    for trainable in ({"W1", "b1", "W2", "b2"}, {"W2", "b2"}, {"b1"}, {"W1"}):
        shapes = {"W1": (2, 4), "b1": (4,), "W2": (4, 1), "b2": (1,)}
        W1, b1, W2, b2 = (gl.Tensor(rng.normal(size=s), requires_grad=n in trainable) for n, s in shapes.items())

        def step(x, y, W1=W1, b1=b1, W2=W2, b2=b2):
            p = gl.relu(x @ W1 + b1) @ W2 + b2
            gl.exp(p)  # the dead value e
            return gl.mean((p - y) ** 2).backward()

        compiled = gl.compile(step)
        compiled(x, y)
        lines = _gradient_lines(compiled.source)
        expected = lesson17.reference_needed_gradients(lesson17.MLP_GRAPH, trainable)
        assert {tracer_names[v] for v in expected - set(shapes)} == lines & set(tracer_names.values()), trainable
        assert len(lines - set(tracer_names.values())) == len(trainable), trainable  # one line per parameter


# compile.cross_entropy_backward ----------------------------------------------------------------------------


def softmax_rows(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_cross_entropy_without_the_mean():
    def wrong(z, t):
        return lesson17.reference_cross_entropy_backward(z, t) * len(t)

    message = failed("compile.cross_entropy_backward", wrong)
    assert "1/n of the mean" in message


def test_cross_entropy_without_the_one_hot():
    assert "one-hot" in failed("compile.cross_entropy_backward", lambda z, t: softmax_rows(z) / len(t))


def test_cross_entropy_with_the_sign_flipped():
    message = failed("compile.cross_entropy_backward", lambda z, t: -lesson17.reference_cross_entropy_backward(z, t))
    assert "sign is flipped" in message


def test_cross_entropy_softmax_down_the_columns():
    message = failed("compile.cross_entropy_backward", lesson17._softmax_of_columns)
    assert "along each row" in message


def test_cross_entropy_without_the_max_shift_overflows():
    def unshifted(z, t):
        e = np.exp(z)
        return (e / e.sum(axis=1, keepdims=True) - np.eye(z.shape[1])[t]) / len(t)

    assert "subtract each row's max" in failed("compile.cross_entropy_backward", unshifted)

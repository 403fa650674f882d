"""Property-based tests (hypothesis): broadcasting and reductions on random shapes."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradlab as gl

FLOATS = st.floats(-3, 3, allow_nan=False, width=64)


@st.composite
def broadcastable_pair(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    a = draw(hnp.arrays(np.float64, shapes.input_shapes[0], elements=FLOATS))
    b = draw(hnp.arrays(np.float64, shapes.input_shapes[1], elements=FLOATS))
    return a, b


@settings(max_examples=60, deadline=None)
@given(broadcastable_pair(), st.sampled_from(["add", "sub", "mul"]))
def test_broadcast_binary_ops_give_gradients_of_the_input_shapes(pair, op):
    a, b = pair
    ta, tb = gl.Tensor(a, requires_grad=True), gl.Tensor(b, requires_grad=True)
    out = getattr(gl, op)(ta, tb)
    np.testing.assert_allclose(out.data, getattr(np, {"add": "add", "sub": "subtract", "mul": "multiply"}[op])(a, b))
    out.sum().backward()
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape
    # d/da Σ(a ∘ b) = the sum of the partner over the broadcast copies
    if op == "add":
        np.testing.assert_allclose(ta.grad.sum(), out.size)
    assert gl.gradcheck(getattr(gl, op), a, b).ok


@st.composite
def array_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    x = draw(hnp.arrays(np.float64, shape, elements=FLOATS))
    axis = draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    return x, axis


@settings(max_examples=60, deadline=None)
@given(array_and_axis(), st.booleans(), st.sampled_from(["sum", "mean", "logsumexp", "var"]))
def test_reductions_match_numpy_and_pass_gradcheck(data, keepdims, op):
    x, axis = data
    got = getattr(gl, op)(x, axis=axis, keepdims=keepdims)
    if op == "logsumexp":
        m = x.max(axis=axis, keepdims=True)
        want = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
        want = want if keepdims else np.squeeze(want, axis=axis)
    else:
        want = getattr(np, op)(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(got.data, want, rtol=1e-10, atol=1e-12)
    assert got.shape == np.shape(want)
    assert gl.gradcheck(lambda t: getattr(gl, op)(t, axis=axis, keepdims=keepdims), x).ok


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), elements=FLOATS))
def test_sum_gradient_is_all_ones(x):
    t = gl.Tensor(x, requires_grad=True)
    t.sum().backward()
    np.testing.assert_array_equal(t.grad, np.ones_like(x))

"""The classic autodiff pitfalls, one named test each."""

import warnings

import numpy as np
import pytest

import gradlab as gl


def test_fan_out_gradients_add_up():
    """d/dx (x·x) at 3 is 6: both uses of x contribute 3."""
    x = gl.Tensor(3.0, requires_grad=True)
    (x * x).backward()
    assert x.grad == 6.0


def test_fan_out_through_a_shared_intermediate():
    """y = u + u·u with u = 2x: dy/dx = 2 + 2·u·2 = 2 + 8x; at x = 1.5 that is 14."""
    x = gl.Tensor(1.5, requires_grad=True)
    u = 2 * x
    (u + u * u).backward()
    assert x.grad == pytest.approx(14.0)


def test_broadcast_add_sums_the_gradient_back():
    a = gl.Tensor(np.ones((2, 3)), requires_grad=True)
    b = gl.Tensor(np.ones((1, 3)), requires_grad=True)
    (a + b).sum().backward()
    assert a.grad.shape == (2, 3) and b.grad.shape == (1, 3)
    np.testing.assert_array_equal(b.grad, [[2.0, 2.0, 2.0]])
    np.testing.assert_array_equal(a.grad, np.ones((2, 3)))


def test_backward_twice_raises_a_clear_error():
    x = gl.Tensor(2.0, requires_grad=True)
    y = gl.exp(x) * x
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_backward_twice_with_retain_graph_accumulates():
    x = gl.Tensor(2.0, requires_grad=True)
    y = x * x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad == pytest.approx(2 * 12.0)


def test_where_does_not_leak_nan_from_the_branch_not_taken():
    """where(x > 0, log(x), 0): the log of the negative entries is NaN but never chosen."""
    x = gl.Tensor([-1.0, 2.0, -3.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log(-1) in the untaken branch
        y = gl.where(x > 0, gl.log(x), 0.0)
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [0.0, np.log(2.0), 0.0])
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.0])


def test_norm_at_zero_has_a_finite_gradient():
    x = gl.Tensor(np.zeros(3), requires_grad=True)
    gl.norm(x).backward()
    np.testing.assert_array_equal(x.grad, np.zeros(3))


def test_norm_gradient_away_from_zero_is_the_unit_vector():
    x = gl.Tensor([3.0, 4.0], requires_grad=True)
    gl.norm(x).backward()
    np.testing.assert_allclose(x.grad, [0.6, 0.8])


@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_softmax_and_cross_entropy_with_huge_logits(scale):
    logits = gl.Tensor(np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 0.5]]) * scale, requires_grad=True)
    p = gl.softmax(logits)
    assert np.all(np.isfinite(p.data))
    np.testing.assert_allclose(p.data.sum(axis=1), 1.0)
    loss = gl.cross_entropy(logits, [0, 2])
    loss.backward()
    assert np.isfinite(loss.item())
    assert np.all(np.isfinite(logits.grad))
    # The gradient of mean cross-entropy is (softmax - onehot) / N.
    expected = (p.data - np.eye(3)[[0, 2]]) / 2
    np.testing.assert_allclose(logits.grad, expected, atol=1e-12)


def test_log_softmax_and_logsumexp_with_huge_logits():
    z = gl.Tensor([1000.0, 0.0, -1000.0], requires_grad=True)
    assert gl.logsumexp(z).item() == pytest.approx(1000.0)
    np.testing.assert_allclose(gl.log_softmax(z).data, [0.0, -1000.0, -2000.0])
    gl.logsumexp(z).backward()
    np.testing.assert_allclose(z.grad, [1.0, 0.0, 0.0])


def test_sigmoid_and_bce_are_stable_for_huge_logits():
    z = gl.Tensor([-1000.0, 1000.0], requires_grad=True)
    assert np.all(np.isfinite(gl.sigmoid(z).data))
    loss = gl.bce_with_logits(z, [0.0, 1.0])
    loss.backward()
    assert loss.item() == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(z.grad, [0.0, 0.0], atol=1e-12)


def test_deep_chain_of_ten_thousand_ops():
    """A recursive topological sort would hit Python's recursion limit long before this."""
    x = gl.Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**10_000)


def test_repeated_indices_in_getitem_accumulate():
    x = gl.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


def test_relu_and_abs_subgradient_at_zero_is_zero():
    x = gl.Tensor([0.0, 0.0], requires_grad=True)
    (gl.relu(x) + gl.abs(x)).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_max_splits_the_gradient_between_ties():
    x = gl.Tensor([1.0, 3.0, 3.0], requires_grad=True)
    gl.max(x).backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5])


def test_mse_refuses_silent_broadcasting():
    with pytest.raises(gl.ShapeError, match=r"\(4, 1\).*\(4,\)"):
        gl.mse(np.zeros((4, 1)), np.zeros(4))

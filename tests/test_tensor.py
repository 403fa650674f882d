"""The Tensor API: construction, operators, grad modes, hooks, errors and the drawable graph."""

import numpy as np
import pytest

import gradlab as gl


def test_float64_by_default_and_float32_on_request():
    assert gl.Tensor([1, 2, 3]).dtype == np.float64
    assert gl.Tensor(np.arange(3)).dtype == np.float64
    assert gl.Tensor([1.0], dtype=np.float32).dtype == np.float32
    assert gl.Tensor(np.ones(2, dtype=np.float32)).dtype == np.float32


def test_float32_stays_float32_through_python_numbers():
    x = gl.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = (2.0 * x + 1) / 3 - x**2
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_strings_are_refused_with_a_clear_error():
    with pytest.raises(TypeError, match="numbers"):
        gl.Tensor(["a", "b"])


def test_operators_match_numpy():
    a, b = np.array([[1.0, -2.0], [3.0, 4.0]]), np.array([[0.5, 2.0], [-1.0, 3.0]])
    ta, tb = gl.Tensor(a), gl.Tensor(b)
    for got, want in [
        (ta + tb, a + b),
        (ta - tb, a - b),
        (ta * tb, a * b),
        (ta / tb, a / b),
        (ta @ tb, a @ b),
        (-ta, -a),
        (abs(ta), np.abs(a)),
        (tb**2, b**2),
        (2**tb, 2**b),
        (1 - ta, 1 - a),
        (a @ tb, a @ b),
        (ta.T, a.T),
        (ta[0], a[0]),
        (ta.sum(axis=0), a.sum(axis=0)),
        (ta.mean(), a.mean()),
        (ta.reshape(4), a.reshape(4)),
        (ta.max(axis=1, keepdims=True), a.max(axis=1, keepdims=True)),
    ]:
        assert isinstance(got, gl.Tensor)
        np.testing.assert_allclose(got.data, want)


def test_numpy_array_on_the_left_gives_a_tensor():
    x = gl.Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, gl.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_comparisons_return_plain_boolean_arrays():
    x = gl.Tensor([1.0, 2.0, 3.0])
    mask = x > 1.5
    assert isinstance(mask, np.ndarray) and mask.dtype == bool
    np.testing.assert_array_equal(mask, [False, True, True])
    np.testing.assert_array_equal(x == gl.Tensor([1.0, 0.0, 3.0]), [True, False, True])


def test_every_op_accepts_plain_numbers_and_arrays():
    assert gl.exp(0.0).item() == 1.0
    np.testing.assert_allclose(gl.matmul([[1.0, 2.0]], [[3.0], [4.0]]).data, [[11.0]])
    assert gl.sum([1, 2, 3]).item() == 6.0


def test_item_numpy_detach():
    x = gl.Tensor([[2.0]], requires_grad=True)
    assert x.item() == 2.0
    view = x.numpy()
    with pytest.raises(ValueError):
        view[0, 0] = 1.0
    d = (x * 3).detach()
    assert not d.requires_grad and d.is_leaf
    with pytest.raises(ValueError, match="one element"):
        gl.Tensor([1.0, 2.0]).item()


def test_no_grad_records_nothing_and_enable_grad_restores():
    x = gl.Tensor(2.0, requires_grad=True)
    with gl.no_grad():
        y = x * x
        with gl.enable_grad():
            z = x * x
    assert not y.requires_grad
    assert z.requires_grad
    assert gl.is_grad_enabled()


def test_no_grad_works_as_a_decorator():
    @gl.no_grad()
    def evaluate(t):
        return t * 2

    assert not evaluate(gl.Tensor(1.0, requires_grad=True)).requires_grad


def test_backward_needs_a_gradient_for_non_scalars():
    x = gl.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*sum"):
        (x * 2).backward()
    (x * 2).backward(gradient=np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 20.0])


def test_backward_on_a_constant_says_why():
    with pytest.raises(RuntimeError, match="requires_grad"):
        gl.Tensor(1.0).backward()


def test_hooks_see_and_can_replace_gradients():
    x = gl.Tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x * 3
    h.register_hook(lambda g: seen.append(g.copy()))
    handle = x.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    np.testing.assert_array_equal(seen[0], 2 * h.data)
    np.testing.assert_array_equal(x.grad, 10 * 2 * 9 * x.data)
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_retain_grad_keeps_an_intermediate_gradient():
    x = gl.Tensor(3.0, requires_grad=True)
    u = x * x
    u.retain_grad()
    (u * 2).backward()
    assert u.grad == 2.0 and x.grad == 12.0


def test_shape_errors_name_the_op_the_shapes_and_the_callers_line():
    a, b = gl.Tensor(np.ones((3, 4))), gl.Tensor(np.ones((5, 2)))
    with pytest.raises(gl.ShapeError) as info:
        a @ b  # the line the message must point at
    message = str(info.value)
    assert "Matmul" in message and "(3, 4)" in message and "(5, 2)" in message
    assert "test_tensor.py" in message
    with pytest.raises(gl.ShapeError, match=r"Add.*\(3, 4\) and \(2,\)"):
        a + gl.Tensor(np.ones(2))


def test_detect_anomaly_names_the_op_that_made_nan():
    x = gl.Tensor([1.0, -1.0], requires_grad=True)
    with gl.detect_anomaly(), np.errstate(invalid="ignore"), pytest.raises(FloatingPointError, match="Sqrt"):
        gl.sqrt(x)


def test_detect_anomaly_names_the_op_whose_gradient_is_infinite():
    x = gl.Tensor([0.0, 1.0], requires_grad=True)
    with gl.detect_anomaly(), np.errstate(divide="ignore"):
        y = gl.sqrt(x).sum()
        with pytest.raises(FloatingPointError, match=r"Sqrt.*gradient.*test_tensor.py"):
            y.backward()


def test_mutating_an_input_the_tape_needs_raises_and_names_the_op():
    x = gl.Tensor([1.0, 2.0], requires_grad=True)
    c = gl.Tensor([3.0, 4.0])
    y = (x * c).sum()
    c += 1  # Mul's rule needs the old c
    with pytest.raises(RuntimeError, match="Mul.*modified in place"):
        y.backward()


def test_mutating_an_output_the_tape_needs_raises_and_names_the_op():
    x = gl.Tensor([1.0, 2.0], requires_grad=True)
    y = gl.exp(x)
    with gl.no_grad(), pytest.raises(RuntimeError, match="Exp"):
        y += 1


def test_in_place_on_a_leaf_that_requires_grad_is_refused_while_recording():
    w = gl.Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w -= 0.1
    with gl.no_grad():
        w -= 0.5
    assert w.data[0] == 0.5


def test_parameter_updates_after_backward_are_allowed():
    w = gl.Tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        with gl.no_grad():
            w -= 0.25 * w.grad
        w.grad = None
    np.testing.assert_allclose(w.data, [0.125, 0.25])


def test_to_dot_draws_values_and_gradients():
    with gl.keep_values():
        a = gl.Tensor(2.0, requires_grad=True, name="a")
        b = gl.Tensor(-3.0, requires_grad=True, name="b")
        y = gl.tanh(a * b + 1.0)
    y.backward(retain_graph=True)
    dot = gl.to_dot(y)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    for text in ("Tanh", "Mul", "Add", "a\\nvalue 2.", "constant 1.", "grad 1."):
        assert text in dot
    # da = (1 - tanh²(-5)) · b
    assert f"grad {(1 - np.tanh(-5.0) ** 2) * -3:.4f}"[:10] in dot


def test_tape_frees_intermediates_it_does_not_need():
    """x @ w + b: the matmul output is not needed by any rule, so it is not kept alive."""
    import weakref

    x = gl.Tensor(np.ones((4, 3)))
    w = gl.Tensor(np.ones((3, 2)), requires_grad=True)
    m = x @ w
    ref = weakref.ref(m.data)
    y = gl.relu(m + 1.0)
    del m
    assert ref() is None
    y.sum().backward()
    np.testing.assert_array_equal(w.grad, np.full((3, 2), 4.0))


def test_truth_value_and_numpy_conversion():
    assert bool(gl.Tensor(1.0)) and not bool(gl.Tensor([0.0]))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(gl.Tensor([1.0, 2.0]))
    np.testing.assert_array_equal(np.asarray(gl.Tensor([1.0, 2.0])), [1.0, 2.0])
    assert [float(v) for v in gl.Tensor([3.0, 4.0])] == [3.0, 4.0]

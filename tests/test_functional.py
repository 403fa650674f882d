"""grad / value_and_grad, finite differences and gradcheck."""

import math

import numpy as np
import pytest

import gradlab as gl


def test_grad_of_a_plain_python_function_returns_a_float():
    g = gl.grad(lambda x: x**3)(2.0)
    assert isinstance(g, float) and g == pytest.approx(12.0)


def test_grad_keeps_the_kind_of_its_input():
    f = lambda x: gl.sum(gl.sin(x))  # noqa: E731
    x = np.array([0.0, 1.0])
    g = gl.grad(f)(x)
    assert isinstance(g, np.ndarray)
    np.testing.assert_allclose(g, np.cos(x))
    gt = gl.grad(f)(gl.Tensor(x))
    assert isinstance(gt, gl.Tensor)
    np.testing.assert_allclose(gt.data, np.cos(x))


def test_grad_with_several_arguments():
    """f(x, y) = x²y + y³: ∂f/∂x = 2xy, ∂f/∂y = x² + 3y²."""
    f = lambda x, y: x * x * y + y**3  # noqa: E731
    assert gl.grad(f, argnums=1)(2.0, 3.0) == pytest.approx(4 + 27)
    gx, gy = gl.grad(f, argnums=(0, 1))(2.0, 3.0)
    assert (gx, gy) == (pytest.approx(12.0), pytest.approx(31.0))


def test_value_and_grad_and_has_aux():
    def loss(w):
        pred = w * 2.0
        return (pred - 1.0) ** 2, {"pred": pred.item()}

    (value, aux), g = gl.value_and_grad(loss, has_aux=True)(1.0)
    assert value == pytest.approx(1.0) and aux == {"pred": 2.0} and g == pytest.approx(4.0)
    value, g = gl.value_and_grad(lambda w: w * w)(3.0)
    assert (value, g) == (9.0, 6.0)


def test_grad_of_a_function_that_ignores_its_input_is_zero():
    assert gl.grad(lambda x: 5.0)(1.0) == 0.0


def test_grad_refuses_non_scalar_outputs():
    with pytest.raises(ValueError, match="single-number output"):
        gl.grad(lambda x: x * 2)(np.ones(3))


def test_grad_argnums_out_of_range():
    with pytest.raises(ValueError, match="argnums"):
        gl.grad(lambda x: x, argnums=2)(1.0)


@pytest.mark.parametrize(("method", "tolerance"), [("forward", 1e-6), ("central", 1e-9), ("complex", 1e-14)])
def test_numerical_derivative_methods(method, tolerance):
    f = lambda x: gl.exp(x) * gl.sin(x)  # noqa: E731
    exact = math.exp(1.0) * (math.sin(1.0) + math.cos(1.0))
    assert gl.numerical_derivative(f, 1.0, method=method) == pytest.approx(exact, abs=tolerance)


def test_forward_difference_of_x_squared_at_3():
    """(f(3 + h) - f(3)) / h = 6 + h for f = x²."""
    assert gl.numerical_derivative(lambda x: x**2, 3.0, h=1e-5, method="forward") == pytest.approx(6.00001, abs=1e-8)


def test_numerical_derivative_rejects_bad_arguments():
    with pytest.raises(ValueError, match="method"):
        gl.numerical_derivative(lambda x: x, 1.0, method="backward")
    with pytest.raises(ValueError, match="positive"):
        gl.numerical_derivative(lambda x: x, 1.0, h=0.0)


def test_numerical_gradient_matches_the_engine():
    f = lambda v: gl.sum(v**2 * gl.tanh(v))  # noqa: E731
    x = np.array([[0.3, -1.2], [2.0, 0.1]])
    np.testing.assert_allclose(gl.numerical_gradient(f, x), gl.grad(f)(x), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(gl.numerical_gradient(f, x, method="complex"), gl.grad(f)(x), rtol=1e-12)


def test_gradcheck_reports_the_worst_element():
    result = gl.gradcheck(lambda a: a * a, np.array([1.0, -2.0]))
    assert result.ok and result.worst_input == 0
    assert "passed" in str(result)


def test_gradcheck_failure_names_input_and_index():
    """A function whose recorded gradient is wrong on purpose: the value uses x³ but the tape
    sees only x·c with c a detached x² (so the engine says 1·x², the truth is 3x²)."""

    def wrong(x):
        return x * (x * x).detach()

    result = gl.gradcheck(wrong, np.array([1.0, 2.0]), raise_exception=False)
    assert not result.ok
    assert result.worst_index == (1,)
    assert result.analytic != pytest.approx(result.numerical)


def test_argnums_naming_one_argument_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        gl.grad(lambda x: x * x, argnums=(0, 0))(3.0)

"""Derivatives of derivatives: create_graph, nested transforms, Hessians, Jacobians."""

import numpy as np
import pytest

import gradlab as gl
from test_tracking import ctrv_jacobian  # the hand-derived CTRV Jacobian (with its ψ̇ → 0 limit)


def test_third_derivative_of_exp_2x():
    """d³/dx³ e^(2x) = 8 e^(2x)."""
    f = lambda x: gl.exp(2 * x)  # noqa: E731
    third = gl.grad(gl.grad(gl.grad(f)))
    for x in (-1.0, 0.0, 0.7):
        assert third(x) == pytest.approx(8 * np.exp(2 * x), rel=1e-12)


def test_backward_with_create_graph_gives_differentiable_gradients():
    x = gl.Tensor([1.0, 2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    first = x.grad
    assert isinstance(first, gl.Tensor)
    np.testing.assert_allclose(first.data, 3 * x.data**2)
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad, 6 * x.data)


def test_gradients_api_does_not_touch_grad():
    x = gl.Tensor([1.0, 2.0], requires_grad=True)
    w = gl.Tensor([3.0, 4.0], requires_grad=True)
    (gx, gw) = gl.gradients((x * w).sum(), [x, w])
    np.testing.assert_array_equal(gx, w.data)
    np.testing.assert_array_equal(gw, x.data)
    assert x.grad is None and w.grad is None


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def rosenbrock_hessian(x, y):
    return np.array([[2 - 400 * (y - 3 * x**2), -400 * x], [-400 * x, 200.0]])


@pytest.mark.parametrize("point", [(-1.2, 1.0), (1.0, 1.0), (0.3, -2.0), (2.5, 0.1)])
def test_hessian_of_rosenbrock_equals_its_closed_form(point):
    np.testing.assert_allclose(gl.hessian(rosenbrock)(np.array(point)), rosenbrock_hessian(*point), rtol=1e-12)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_hvp_matches_the_hessian_times_the_vector(mode):
    x, v = np.array([-1.2, 1.0]), np.array([0.3, -2.0])
    np.testing.assert_allclose(gl.hvp(rosenbrock, x, v, mode=mode), rosenbrock_hessian(*x) @ v, rtol=1e-12)


def ctrv(state, dt=0.1):
    """Constant turn rate and velocity: state (px, py, v, yaw, yaw_rate) one step of dt later."""
    px, py, v, yaw, rate = state[0], state[1], state[2], state[3], state[4]
    turned = yaw + rate * dt
    return gl.stack(
        [
            px + v / rate * (gl.sin(turned) - gl.sin(yaw)),
            py + v / rate * (gl.cos(yaw) - gl.cos(turned)),
            v,
            turned,
            rate,
        ]
    )


@pytest.mark.parametrize("jac", [gl.jacfwd, gl.jacrev])
def test_jacobian_of_the_ctrv_motion_model_equals_the_hand_derived_one(jac):
    state = np.array([0.6, 0.6, 5.2, 0.3, 0.45])
    np.testing.assert_allclose(jac(ctrv)(state), ctrv_jacobian(state, 0.1), rtol=1e-12, atol=1e-14)


def test_jacfwd_and_jacrev_agree_on_random_functions():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((4, 3))

    def f(x):
        return gl.tanh(w @ x) * gl.softmax(w @ x) + gl.log(1 + x[0] ** 2)

    for _ in range(5):
        x = rng.standard_normal(3)
        np.testing.assert_allclose(gl.jacfwd(f)(x), gl.jacrev(f)(x), rtol=1e-12, atol=1e-14)


def test_hessian_is_symmetric_for_smooth_functions():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((5, 5))

    def f(x):
        return gl.logsumexp(a @ x) + (gl.sin(x) * x).sum() + gl.norm(x) ** 3

    h = gl.hessian(f)(rng.standard_normal(5))
    np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-12)


def test_all_four_ways_to_a_second_derivative_agree():
    f = lambda v: (v**3 * gl.sin(v)).sum()  # noqa: E731
    x = np.array([0.4, -1.3])
    reference = gl.hessian(f)(x)
    for outer, inner in [(gl.jacfwd, gl.jacfwd), (gl.jacrev, gl.jacrev), (gl.jacrev, gl.jacfwd)]:
        np.testing.assert_allclose(outer(inner(f))(x), reference, rtol=1e-12)


def test_nested_gradients_do_not_confuse_their_variables():
    """d/dx [x · d/dy (x y)] = d/dx x² = 2x (the classic perturbation-confusion check)."""
    assert gl.grad(lambda x: x * gl.grad(lambda y: x * y)(3.0))(2.0) == pytest.approx(4.0)


def test_forward_over_forward_second_derivative():
    first = lambda x: gl.jvp(gl.sin, (x,), (1.0,))[1]  # noqa: E731
    assert gl.jvp(first, (1.0,), (1.0,))[1] == pytest.approx(-np.sin(1.0))


def test_gradcheck_second_order_catches_a_rule_that_is_only_right_to_first_order(monkeypatch):
    """A rule computed from plain values is right, but not differentiable: order=2 must say so."""
    from gradlab.autodiff.ops.elementwise import Sin

    monkeypatch.setattr(Sin, "vjp", lambda self, g, y, x: (g * np.cos(x.data if isinstance(x, gl.Tensor) else x),))
    x = np.array([0.3, 1.1])
    assert gl.gradcheck(gl.sin, x).ok
    with pytest.raises(gl.GradcheckError, match="second derivative, rev mode"):
        gl.gradcheck(gl.sin, x, order=2)


def test_gradcheck_forward_mode_catches_a_wrong_jvp(monkeypatch):
    from gradlab.autodiff.ops.elementwise import Exp

    monkeypatch.setattr(Exp, "jvp", lambda self, dxs, y, x: dxs[0] * y * 2)
    x = np.array([0.3, 1.1])
    assert gl.gradcheck(gl.exp, x, modes=("rev",)).ok
    with pytest.raises(gl.GradcheckError, match="fwd mode"):
        gl.gradcheck(gl.exp, x, modes=("rev", "fwd"))

"""The functional transforms: argnums, pytrees, return types, vmap, custom_vjp, stop_gradient."""

import numpy as np
import pytest

import gradlab as gl


def test_grad_over_a_dict_of_parameters_returns_the_same_nesting():
    def loss(params, x):
        return ((x @ params["w"] + params["b"][0]) ** 2).sum()

    params = {"w": np.array([1.0, -1.0]), "b": [np.array(0.5)]}
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = gl.grad(loss)(params, x)
    assert set(g) == {"w", "b"} and isinstance(g["b"], list)
    pred = x @ params["w"] + 0.5
    np.testing.assert_allclose(g["w"], 2 * x.T @ pred)
    np.testing.assert_allclose(g["b"][0], 2 * pred.sum())


def test_transforms_return_numpy_for_numpy_and_tensors_for_tensors():
    x = np.array([0.5, 1.0])
    assert isinstance(gl.jacrev(gl.sin)(x), np.ndarray)
    assert isinstance(gl.hessian(lambda v: (v**3).sum())(x), np.ndarray)
    out, tangent = gl.jvp(gl.sin, (x,), (np.ones(2),))
    assert isinstance(out, np.ndarray) and isinstance(tangent, np.ndarray)
    assert isinstance(gl.grad(lambda v: (v**2).sum())(gl.Tensor(x)), gl.Tensor)


def test_jacobian_with_several_arguments():
    f = lambda a, b: a * b  # noqa: E731
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    ja, jb = gl.jacobian(f, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(ja, np.diag(b))
    np.testing.assert_allclose(jb, np.diag(a))
    np.testing.assert_allclose(gl.jacfwd(f, argnums=1)(a, b), np.diag(a))


def test_jacobian_shapes_are_output_shape_then_input_shape():
    f = lambda m: m @ np.ones((3, 2))  # noqa: E731
    assert gl.jacrev(f)(np.ones((4, 3))).shape == (4, 2, 4, 3)
    assert gl.jacfwd(f)(np.ones((4, 3))).shape == (4, 2, 4, 3)


def test_vjp_with_pytree_output():
    f = lambda x: {"double": 2 * x, "square": x * x}  # noqa: E731
    out, pullback = gl.vjp(f, np.array([1.0, 3.0]))
    np.testing.assert_array_equal(out["square"], [1.0, 9.0])
    (g,) = pullback({"double": np.ones(2), "square": np.ones(2)})
    np.testing.assert_array_equal(g, [4.0, 8.0])


def test_jvp_checks_its_arguments():
    with pytest.raises(ValueError, match="tangent of shape"):
        gl.jvp(gl.sin, (np.ones(2),), (np.ones(3),))
    with pytest.raises(ValueError, match="primals"):
        gl.jvp(gl.sin, (1.0, 2.0), (1.0,))


def test_elementwise_grad_is_the_derivative_at_every_point():
    xs = np.linspace(-2, 2, 5)
    np.testing.assert_allclose(gl.elementwise_grad(gl.tanh)(xs), 1 - np.tanh(xs) ** 2)


def test_stop_gradient_blocks_both_modes():
    f = lambda x: x * gl.stop_gradient(x)  # noqa: E731
    assert gl.grad(f)(3.0) == pytest.approx(3.0)
    assert gl.jvp(f, (3.0,), (1.0,))[1] == pytest.approx(3.0)


def test_vmap_maps_over_the_leading_axis_and_can_be_differentiated():
    rows = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(gl.vmap(lambda r: (r**2).sum())(rows), (rows**2).sum(axis=1))
    w = np.array([1.0, 2.0])
    g = gl.grad(lambda w: gl.vmap(lambda r, w: (r * w).sum(), in_axes=(0, None))(rows, w).sum())(w)
    np.testing.assert_allclose(g, rows.sum(axis=0))


def test_custom_vjp_replaces_the_rule():
    @gl.custom_vjp
    def clipped_identity(x):
        return x

    clipped_identity.defvjp(lambda x: (x, None), lambda saved, g: (np.clip(g, -1, 1),))
    g = gl.grad(lambda x: (clipped_identity(x) * 5).sum())(np.ones(2))
    np.testing.assert_array_equal(g, [1.0, 1.0])
    with pytest.raises(NotImplementedError, match="forward mode"):
        gl.jvp(clipped_identity, (np.ones(2),), (np.ones(2),))


def test_custom_vjp_without_rules_says_so():
    plain = gl.custom_vjp(lambda x: x)
    with pytest.raises(TypeError, match="defvjp"):
        plain(1.0)

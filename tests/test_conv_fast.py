"""The fast convolution (through the Fourier transform) against the plain one (im2col) it stands in for.

conv2d takes large stride-1 convolutions through the Fourier transform (ops/conv.py, `_spectral_conv`)
and all others through im2col. Both must give the same output and the same gradients of x, w and b,
keep float32 as float32, and the fast path must pass the same finite-difference checks as every op.
"""

import numpy as np
import pytest

import gradlab as gl
from gradlab.autodiff.ops import conv

PLAIN, FAST = 10**9, 0  # thresholds that send every (stride-1, real) convolution one way


def use_threshold(monkeypatch, threshold):
    monkeypatch.setattr(conv, "SPECTRAL_MIN_AREA", threshold)
    monkeypatch.setattr(conv, "SPECTRAL_MIN_PATCH", threshold)


def conv_and_gradients(monkeypatch, threshold, x, w, b, padding):
    """conv2d(x, w, b) and (dL/dx, dL/dw, dL/db) for L = Σ y · R (R fixed), both thresholds at `threshold`."""
    use_threshold(monkeypatch, threshold)
    through_spectra = []
    spectral_conv = conv._spectral_conv
    monkeypatch.setattr(conv, "_spectral_conv", lambda *args: through_spectra.append(1) or spectral_conv(*args))
    xt, wt = gl.Tensor(x, requires_grad=True), gl.Tensor(w, requires_grad=True)
    bt = None if b is None else gl.Tensor(b, requires_grad=True)
    y = gl.conv2d(xt, wt, bt, padding=padding)
    assert bool(through_spectra) == (threshold == FAST), "the threshold did not pick the path"
    weights = np.cos(np.arange(y.size)).reshape(y.shape).astype(x.dtype)
    (y * gl.Tensor(weights)).sum().backward()
    grads = [xt.grad, wt.grad] + ([] if bt is None else [bt.grad])
    return [y.numpy(), *grads]


# (x shape, w shape, padding): square and oblong images and kernels, no padding, a 1×1 kernel, a
# kernel as large as the padded image (a single output position), and padded sizes of prime length
# (13 × 7: the transforms run at 15 × 8, so the crops must not assume the padded size).
SHAPES = [
    ((2, 3, 7, 6), (4, 3, 3, 2), 1),
    ((2, 2, 11, 7), (3, 2, 3, 2), 1),
    ((1, 2, 7, 7), (2, 2, 2, 3), 0),
    ((3, 2, 5, 5), (2, 2, 5, 5), 2),
    ((1, 1, 4, 9), (3, 1, 1, 4), 0),
    ((2, 2, 3, 4), (2, 2, 5, 6), 1),
    ((2, 3, 6, 6), (2, 3, 1, 1), 0),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "padding"), SHAPES)
@pytest.mark.parametrize("bias", [True, False])
def test_fast_path_equals_plain_path_in_float64(monkeypatch, x_shape, w_shape, padding, bias):
    rng = np.random.default_rng(sum(x_shape) + padding)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0]) if bias else None
    plain = conv_and_gradients(monkeypatch, PLAIN, x, w, b, padding)
    fast = conv_and_gradients(monkeypatch, FAST, x, w, b, padding)
    for name, p, f in zip(["y", "dL/dx", "dL/dw", "dL/db"], plain, fast):
        assert f.shape == p.shape, name
        np.testing.assert_allclose(f, p, rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("threshold", [PLAIN, FAST])
def test_float32_stays_float32_and_matches_float64(monkeypatch, threshold):
    """No silent upcast: output and gradients in float32, within float32 rounding of the float64 result."""
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((4, 8, 10, 10)), rng.standard_normal((6, 8, 5, 5)), rng.standard_normal(6)
    exact = conv_and_gradients(monkeypatch, PLAIN, x, w, b, 2)
    single = conv_and_gradients(monkeypatch, threshold, *(a.astype(np.float32) for a in (x, w, b)), 2)
    for name, e, s in zip(["y", "dL/dx", "dL/dw", "dL/db"], exact, single):
        assert s.dtype == np.float32, f"{name} is {s.dtype}"
        np.testing.assert_allclose(s, e, rtol=0, atol=2e-5 * np.abs(e).max(), err_msg=name)


def test_fast_path_passes_gradcheck_both_modes_to_second_order(monkeypatch):
    use_threshold(monkeypatch, FAST)
    rng = np.random.default_rng(5)
    inputs = [rng.standard_normal((2, 2, 4, 5)), rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(3)]
    result = gl.gradcheck(lambda x, w, b: gl.conv2d(x, w, b, padding=1), *inputs, modes=("rev", "fwd"), order=2)
    assert result.ok, str(result)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "stride", "dtype", "fast"),
    [
        ((128, 32, 14, 14), (64, 32, 5, 5), 1, np.float32, True),  # the MNIST CNN's second convolution
        ((128, 1, 28, 28), (32, 1, 5, 5), 1, np.float32, False),  # its first: 25 products per output
        ((128, 32, 14, 14), (64, 32, 5, 5), 2, np.float32, False),  # strided: the transform computes all
        ((2, 32, 14, 14), (64, 32, 5, 5), 1, np.complex128, False),  # rfft2 would drop the imaginary part
        ((16, 64, 56, 56), (64, 64, 3, 3), 1, np.float32, False),  # 3×3: the transform lost 2x here
        ((32, 3, 64, 64), (16, 3, 7, 7), 1, np.float32, True),  # 7×7 on RGB: 147 products per output
    ],
)
def test_the_transform_is_used_where_it_pays(x_shape, w_shape, stride, dtype, fast):
    assert conv._uses_spectra(np.zeros(x_shape, dtype), np.zeros(w_shape, dtype), stride) == fast


@pytest.mark.parametrize("kernel", [2, 3])
def test_max_pool_gradient_splits_ties_evenly(kernel):
    """The array rule (one division per tile) and the recorded rule (create_graph=True) both give each
    tile's gradient in equal parts to its tied maxima: ReLU outputs make all-zero tiles common."""
    rng = np.random.default_rng(kernel)
    x = np.maximum(rng.integers(-2, 3, (2, 3, 2 * kernel, 3 * kernel)), 0).astype(np.float32)
    g = rng.standard_normal((2, 3, 2, 3)).astype(np.float32)
    tiles = x.reshape(2, 3, 2, kernel, 3, kernel)
    hit = tiles == tiles.max(axis=(3, 5), keepdims=True)
    share = g[:, :, :, None, :, None] / hit.sum(axis=(3, 5), keepdims=True)
    expected = (hit * share).reshape(x.shape)
    for create_graph in (False, True):
        xt = gl.Tensor(x, requires_grad=True)
        (gl.max_pool2d(xt, kernel) * gl.Tensor(g)).sum().backward(create_graph=create_graph)
        got = xt.grad.numpy() if isinstance(xt.grad, gl.Tensor) else xt.grad
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7, err_msg=f"create_graph={create_graph}")

"""The convolution-gradient identities (gradlab.apps.conv_gradient) give the engine's conv2d gradients.

The engine's numbers come from gl.grad of L = Σ y · R through gl.conv2d, so ∂L/∂y = R: a random
output gradient, not a special one."""

import itertools

import numpy as np
import pytest

import gradlab as gl
from gradlab.apps.conv_gradient import conv_input_gradient, conv_weight_gradient, dilate, output_size


def engine_gradients(x, w, grad_y, stride, padding):
    """(∂L/∂x, ∂L/∂w) from the engine for L = Σ conv2d(x, w) · grad_y."""

    def loss(x, w):
        return (gl.conv2d(x, w, stride=stride, padding=padding) * grad_y).sum()

    gx, gw = gl.grad(loss, argnums=(0, 1))(gl.Tensor(x), gl.Tensor(w))
    assert gx.dtype == gw.dtype == np.float64
    return gx.numpy(), gw.numpy()


def case(n, c, o, h, wd, kh, kw, stride, padding, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, wd))
    w = rng.standard_normal((o, c, kh, kw))
    oh, ow = output_size(h, kh, stride, padding), output_size(wd, kw, stride, padding)
    grad_y = rng.standard_normal((n, o, oh, ow))
    return x, w, grad_y


# Sizes chosen so that (H + 2p − kh) is sometimes a multiple of the stride and sometimes not (the crop).
GRID = [
    (n, c, o, h, wd, kh, kw, s, p)
    for (n, c, o), (h, wd, kh, kw), s, p in itertools.product(
        [(1, 1, 1), (2, 3, 2), (1, 2, 3)],
        [(7, 7, 3, 3), (8, 6, 2, 3), (9, 10, 4, 1)],
        [1, 2, 3],
        [0, 1, 2],
    )
]


@pytest.mark.parametrize(("n", "c", "o", "h", "wd", "kh", "kw", "stride", "padding"), GRID)
def test_identities_equal_the_engine(n, c, o, h, wd, kh, kw, stride, padding):
    x, w, grad_y = case(n, c, o, h, wd, kh, kw, stride, padding, seed=n + 7 * c + 11 * o + stride)
    want_x, want_w = engine_gradients(x, w, grad_y, stride, padding)
    got_w = conv_weight_gradient(x, grad_y, stride, padding, kernel_size=(kh, kw))
    got_x = conv_input_gradient(grad_y, w, x.shape, stride, padding)
    assert got_w.shape == w.shape and got_x.shape == x.shape
    np.testing.assert_allclose(got_w, want_w, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got_x, want_x, rtol=0, atol=1e-12)


def test_the_grid_covers_the_crop():
    """Some strided cases leave rows the filter never reaches: their input gradient must be exactly 0."""
    cropped = [g for g in GRID if (g[3] + 2 * g[8] - g[5]) % g[7] != 0]
    assert len(cropped) >= 10
    n, c, o, h, wd, kh, kw, s, p = 1, 1, 1, 8, 8, 3, 3, 2, 0  # (8 − 3) mod 2 = 1: the last row and column unused
    x, w, grad_y = case(n, c, o, h, wd, kh, kw, s, p)
    gx = conv_input_gradient(grad_y, w, x.shape, s, p)
    assert np.all(gx[..., -1, :] == 0) and np.all(gx[..., :, -1] == 0)
    assert np.any(gx[..., -2, :] != 0)


def test_stride_one_single_channel_is_the_textbook_pair():
    """With one image, one channel, no padding: ∂L/∂W = correlate(X, G), ∂L/∂X = convolve(G, W, full)."""
    from scipy.signal import convolve2d, correlate2d

    x, w, grad_y = case(1, 1, 1, 6, 5, 3, 2, 1, 0, seed=3)
    assert np.array_equal(conv_weight_gradient(x, grad_y)[0, 0], correlate2d(x[0, 0], grad_y[0, 0], "valid"))
    assert np.array_equal(conv_input_gradient(grad_y, w, x.shape)[0, 0], convolve2d(grad_y[0, 0], w[0, 0], "full"))


def test_stride_one_infers_the_kernel_size():
    x, w, grad_y = case(2, 2, 3, 7, 6, 3, 2, 1, 1)
    assert conv_weight_gradient(x, grad_y, padding=1).shape == w.shape


def test_dilate_puts_stride_minus_one_zeros_between_entries():
    g = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    assert np.array_equal(dilate(g, 3)[0, 0], [[1, 0, 0, 2], [0, 0, 0, 0], [0, 0, 0, 0], [3, 0, 0, 4]])
    assert np.array_equal(dilate(g, 1), g)


def test_bad_arguments_get_clear_errors():
    x, w, grad_y = case(1, 2, 1, 7, 7, 3, 3, 2, 0)
    with pytest.raises(ValueError, match="kernel size is ambiguous"):
        conv_weight_gradient(x, grad_y, stride=2)
    with pytest.raises(ValueError, match="check stride and padding"):
        conv_input_gradient(grad_y, w, x.shape, stride=1)
    with pytest.raises(ValueError, match="channels"):
        conv_input_gradient(grad_y, w[:, :1], x.shape, stride=2)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        conv_input_gradient(grad_y, w, x.shape, stride=0)
    with pytest.raises(TypeError, match="whole number"):
        conv_input_gradient(grad_y, w, x.shape, stride=2.0)


# ---- the `gradlab conv` command ----

from gradlab.apps.conv_cli import CONFIGURATIONS, TRAIN_IMAGES  # noqa: E402
from gradlab.cli import main  # noqa: E402
from reference_data import HINT, SHARED_DATA  # noqa: E402

MNIST = SHARED_DATA / "mnist"


def test_conv_prints_the_table_within_1e_12(capsys):
    assert main(["conv", "--figure", "none"]) == 0
    out = capsys.readouterr().out
    assert "(within 1e-12)" in out
    rows = [line for line in out.splitlines() if line.strip().startswith("(")]
    assert len(rows) == len(CONFIGURATIONS)
    assert all(float(value) <= 1e-12 for row in rows for value in row.split()[-2:])
    assert {config[7] for config in CONFIGURATIONS} == {1, 2, 3}


@pytest.mark.skipif(not MNIST.is_dir(), reason=HINT)
def test_conv_draws_a_digit_and_a_trained_filter(tmp_path, capsys):
    figure = tmp_path / "conv.png"
    assert main(["conv", "--digit", "3", "--data", str(MNIST), "--figure", str(figure)]) == 0
    out = capsys.readouterr().out
    assert "X: MNIST training image 3 (a 1)" in out and f"W: trained for one pass over {TRAIN_IMAGES} digits" in out
    assert figure.stat().st_size > 10_000


def test_conv_without_mnist_says_what_stands_in(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRADLAB_DATA", str(tmp_path))  # an empty folder: no MNIST by default
    figure = tmp_path / "conv.png"
    assert main(["conv", "--figure", str(figure)]) == 0
    out = capsys.readouterr().out
    assert "hand-drawn 28×28 '3'" in out and "fixed vertical-edge filter" in out
    assert figure.is_file()


def test_conv_loads_a_saved_model(tmp_path, monkeypatch, capsys):
    from gradlab.apps.mnist import cnn

    monkeypatch.setenv("GRADLAB_DATA", str(tmp_path))
    saved = cnn(seed=5).save(tmp_path / "cnn.npz")
    assert main(["conv", "--model", str(saved), "--figure", str(tmp_path / "c.png")]) == 0
    assert f"W: loaded from {saved}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--data", "/no/such/folder"], "--data /no/such/folder: no such folder"),
        (["--model", "/no/such/model.npz"], "model.npz"),
    ],
)
def test_conv_bad_paths_exit_2_with_one_sentence(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRADLAB_DATA", str(tmp_path))
    assert main(["conv", *argv, "--figure", str(tmp_path / "c.png")]) == 2
    out, err = capsys.readouterr()
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert out == ""  # refused before the table is computed


def test_conv_digit_beyond_mnist_is_refused_before_any_work(tmp_path, capsys):
    assert main(["conv", "--digit", "60000", "--figure", str(tmp_path / "c.png")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "only 60000 images (0–59999)" in err


@pytest.mark.skipif(not MNIST.is_dir(), reason=HINT)
def test_conv_digit_beyond_the_training_set_exits_2(tmp_path, capsys):
    assert main(["conv", "--digit", "60000", "--data", str(MNIST), "--figure", str(tmp_path / "c.png")]) == 2
    assert "only 60000 images (0–59999)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--digit", "-1"], "whole number >= 0"), (["--figure", "conv.txt"], "picture format")],
)
def test_conv_bad_values_are_refused_by_the_parser(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["conv", *argv])
    assert stop.value.code == 2 and message in capsys.readouterr().err

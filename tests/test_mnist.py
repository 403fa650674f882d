"""Training on real MNIST digits, on small slices so the default test run stays fast.

The full runs (all 60,000 images, >= 98 % for the MLP and >= 99 % for the CNN on the official
test set, time per epoch beside PyTorch) are in benchmarks/mnist.py.
"""

import numpy as np
import pytest

from gradlab import nn
from gradlab.apps.mnist import cnn, mlp, train_mnist
from gradlab.cli import main
from reference_data import HINT, SHARED_DATA

DATA = SHARED_DATA / "mnist"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"the MNIST files are not at {DATA}: {HINT}")


def test_mlp_learns_digits_from_two_thousand_images():
    result = train_mnist("mlp", epochs=5, limit=2000, test_limit=1000, data_dir=DATA, verbose=False)
    losses = result.history["loss"]
    assert losses[-1] < losses[0] * 0.6
    assert result.test_accuracy >= 0.88, result.test_accuracy


def test_cnn_learns_digits_from_one_thousand_images():
    result = train_mnist("cnn", epochs=2, limit=1000, test_limit=500, batch_size=64, data_dir=DATA, verbose=False)
    losses = result.history["loss"]
    assert losses[-1] < losses[0]
    assert result.test_accuracy >= 0.80, result.test_accuracy


def test_models_have_the_documented_shapes():
    x = np.zeros((2, 1, 28, 28), dtype=np.float32)
    assert nn.predict(mlp(), x).shape == (2, 10)
    assert nn.predict(cnn(), x).shape == (2, 10)
    assert all(p.dtype == np.float32 for p in cnn().parameters())


def test_cli_train_saves_a_model_that_predicts_the_same(tmp_path, capsys):
    path = tmp_path / "mlp"  # saved as mlp.npz, and the message says so
    code = main(
        [
            "train",
            "mnist",
            "--model",
            "mlp",
            "--epochs",
            "1",
            "--limit",
            "500",
            "--data",
            str(DATA),
            "--save",
            str(path),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and f"weights saved to {path}.npz\n" in out
    assert "the step ran through gl.compile (2 traces: one per batch shape)" in out  # 500 = 3·128 + 116
    restored = mlp().load(f"{path}.npz")
    x = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    assert nn.predict(restored, x).argmax(axis=1).shape == (3,)


def test_cli_train_without_data_explains_where_to_put_it(tmp_path, capsys):
    assert main(["train", "mnist", "--data", str(tmp_path), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "download_mnist" in err


def test_cli_train_no_compile_runs_eagerly(capsys):
    argv = ["train", "mnist", "--epochs", "1", "--limit", "300", "--data", str(DATA), "--no-compile"]
    assert main(argv) == 0
    assert "the step ran eagerly (compile=False)" in capsys.readouterr().out


def test_cli_train_says_when_the_learning_rate_made_it_diverge(capsys):
    """Found by a new-user trial: --lr 10 ended with a loss of 1e8 and exit 0, no word of divergence."""
    argv = ["train", "mnist", "--lr", "10", "--epochs", "1", "--limit", "500", "--data", str(DATA)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "diverged: the test loss is" in err and "try a smaller --lr than 10, e.g. 1" in err

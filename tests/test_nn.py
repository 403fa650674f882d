"""Modules, layers, losses, initialisers, the training loop and diagnostics."""

import warnings

import numpy as np
import pytest

import gradlab as gl
from gradlab import nn, optim
from gradlab.demo import two_moons

rng = np.random.default_rng(0)


def test_parameters_are_registered_however_deeply_nested():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(3, 4, seed=0)
            self.scale = nn.Parameter(np.ones(4))

        def forward(self, x):
            return self.inner(x) * self.scale

    model = nn.Sequential(Block(), nn.ReLU(), nn.Linear(4, 2, seed=1))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.scale", "0.inner.weight", "0.inner.bias", "2.weight", "2.bias"]
    assert model.num_parameters() == 4 + 12 + 4 + 8 + 2


def test_module_without_super_init_says_so():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(2))

    with pytest.raises(RuntimeError, match="super"):
        Broken()


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (lambda: nn.Linear(3, 2, seed=0), (4, 3)),
        (lambda: nn.Conv2d(2, 3, 3, padding=1, seed=0), (2, 2, 5, 5)),
        (lambda: nn.BatchNorm1d(3), (6, 3)),
        (lambda: nn.BatchNorm2d(2), (3, 2, 4, 4)),
        (lambda: nn.LayerNorm(5), (3, 5)),
        (
            lambda: nn.Sequential(
                nn.Conv2d(1, 2, 3, seed=0), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 2 * 2, 3, seed=1)
            ),
            (2, 1, 6, 6),
        ),
        (lambda: nn.Sequential(nn.AvgPool2d(2), nn.Flatten(), nn.Tanh()), (2, 1, 4, 4)),
    ],
)
def test_layer_gradients_pass_gradcheck(layer, shape):
    module = layer()
    x = rng.standard_normal(shape)
    params = module.parameters()

    def f(x_in, *weights):
        return _call_with(module, x_in, dict(zip(map(id, params), weights)))

    result = gl.gradcheck(f, x, *[p.data.copy() for p in params], modes=("rev", "fwd"))
    assert result.ok, str(result)


def _call_with(module, x, replacements):
    """Run module(x) with its Parameters swapped for the given traced Tensors (by identity)."""
    swapped = []
    for _, sub in module.named_modules():
        for name, p in list(sub._parameters.items()):
            if id(p) in replacements:
                object.__setattr__(sub, name, replacements[id(p)])
                swapped.append((sub, name, p))
    try:
        return module(x)
    finally:
        for sub, name, p in swapped:
            object.__setattr__(sub, name, p)


def test_batchnorm_uses_batch_statistics_in_training_and_running_ones_in_evaluation():
    bn = nn.BatchNorm1d(2, momentum=0.5)
    x = np.array([[1.0, 10.0], [3.0, 30.0]])
    out = bn(gl.Tensor(x)).data
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(bn.running_mean, [1.0, 10.0])  # 0.5·0 + 0.5·batch mean
    bn.eval()
    np.testing.assert_allclose(bn(gl.Tensor(x)).data, (x - bn.running_mean) / np.sqrt(bn.running_var + 1e-5))


def test_dropout_scales_in_training_and_is_identity_in_evaluation():
    drop = nn.Dropout(0.5, seed=0)
    x = gl.Tensor(np.ones((1000, 10)))
    out = drop(x).data
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert abs(out.mean() - 1.0) < 0.05
    drop.eval()
    np.testing.assert_array_equal(drop(x).data, x.data)


def test_embedding_gradient_adds_up_over_repeated_ids():
    emb = nn.Embedding(5, 3, seed=0)
    emb(np.array([1, 1, 4])).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.sum(axis=1), [0, 6, 0, 0, 3])


def test_initialisers_have_the_stated_variance():
    w = nn.init.he_normal((2000, 500), seed=0)
    assert np.var(w) == pytest.approx(2 / 2000, rel=0.02)
    w = nn.init.xavier_uniform((300, 700), seed=0)
    assert np.var(w) == pytest.approx(2 / 1000, rel=0.02)
    assert nn.init.fans((16, 3, 5, 5)) == (75, 400)


def test_save_and_load_predict_identically(tmp_path):
    def make():
        return nn.Sequential(
            nn.Conv2d(1, 2, 3, seed=0), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3, seed=1)
        )

    model = make()
    x = rng.standard_normal((4, 1, 4, 4))
    model(gl.Tensor(x))  # move the batch-norm running statistics away from their start
    for p in model.parameters():
        p.data += rng.standard_normal(p.shape) * 0.1
    path = model.save(tmp_path / "model.npz")
    restored = make().load(path)
    np.testing.assert_array_equal(nn.predict(restored, x), nn.predict(model, x))


def test_loading_a_mismatched_file_names_the_first_mismatch(tmp_path):
    path = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)).save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match="'0.weight' has shape \\(3, 4\\).*\\(3, 5\\)"):
        nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2)).load(path)
    with pytest.raises(KeyError, match="missing"):
        nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2), nn.Linear(2, 2)).load(path)


def test_saved_files_hold_arrays_only(tmp_path):
    path = nn.Linear(2, 2).save(tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["bias", "weight"]


def moons_model(seed=0):
    return nn.Sequential(
        nn.Linear(2, 16, seed=seed),
        nn.ReLU(),
        nn.Linear(16, 16, seed=seed + 1),
        nn.ReLU(),
        nn.Linear(16, 2, seed=seed + 2),
    )


def test_fit_drives_the_loss_down_and_keeps_a_history():
    x, y = two_moons(400)
    model = moons_model()
    history = nn.fit(
        model,
        nn.CrossEntropyLoss(),
        optim.Adam(model.parameters(), lr=0.01),
        (x, y),
        val_data=(x[:100], y[:100]),
        epochs=40,
        batch_size=32,
        verbose=False,
    )
    losses = history["loss"]
    assert len(losses) == 40 and losses[-1] < losses[0] / 4
    assert history.last()["val_accuracy"] >= 0.95
    assert not model.training  # fit leaves the model in evaluation mode


def test_early_stopping_restores_the_best_weights():
    x, y = two_moons(200)
    model = moons_model()
    # a learning rate far too high: the validation loss soon stops improving
    history = nn.fit(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=5.0),
        (x, y),
        val_data=(x, y),
        epochs=50,
        callbacks=[nn.EarlyStopping(patience=2)],
        verbose=False,
    )
    assert history.stopped == "early stopping" and len(history.epochs) < 50
    best = min(history["val_loss"])
    assert nn.evaluate(model, nn.CrossEntropyLoss(), (x, y))["loss"] == pytest.approx(best, rel=1e-9)


def test_ctrl_c_stops_cleanly_and_keeps_the_best_weights():
    x, y = two_moons(200)
    model = moons_model()

    class Interrupt(nn.Callback):
        def on_epoch_end(self, epoch, logs, model):
            if epoch == 3:
                raise KeyboardInterrupt
            return False

    history = nn.fit(
        model,
        nn.CrossEntropyLoss(),
        optim.Adam(model.parameters(), lr=0.01),
        (x, y),
        val_data=(x, y),
        epochs=10,
        callbacks=[Interrupt()],
        verbose=False,
    )
    assert history.stopped == "interrupted" and len(history.epochs) == 3
    best = min(history["val_loss"])
    assert nn.evaluate(model, nn.CrossEntropyLoss(), (x, y))["loss"] == pytest.approx(best, rel=1e-9)


def test_a_diverging_run_stops_with_a_clear_message():
    x, y = two_moons(100)
    x = x.copy()
    x[3, 0] = np.nan
    model = moons_model()
    with pytest.raises(FloatingPointError, match="loss became nan"):
        nn.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=1, verbose=False)


def test_progress_bar_lines_in_a_log(capsys):
    x, y = two_moons(64)
    model = moons_model()
    nn.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()), (x, y), epochs=2, batch_size=16)
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err and "accuracy" in err


def test_deep_sigmoid_gradients_vanish_and_relu_gradients_do_not(tmp_path):
    norms = nn.compare_depth_gradients(depth=10)
    sigmoid, relu = norms["sigmoid"], norms["relu"]
    assert sigmoid[0] < 1e-4 * sigmoid[-1]  # shrinks by orders of magnitude towards the input
    assert relu[0] > 0.1 * relu[-1]
    path = tmp_path / "gradients.png"
    nn.plot_layer_gradients(norms, path)
    assert path.stat().st_size > 10_000


def test_gradient_monitor_warns_about_vanishing_gradients():
    x, y = two_moons(64)
    layers = []
    for i in range(12):
        layers += [nn.Linear(2 if i == 0 else 16, 16, init="xavier", seed=i), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(16, 2, seed=99))
    monitor = nn.GradientMonitor(vanish=1e-5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.fit(
            model,
            nn.CrossEntropyLoss(),
            optim.SGD(model.parameters(), lr=0.1),
            (x, y),
            epochs=1,
            callbacks=[monitor],
            verbose=False,
        )
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    vanishing = [m for m in messages if m.startswith("vanishing gradient in ")]
    assert any(m.startswith("vanishing gradient in 0.weight") for m in vanishing)
    assert len(vanishing) == len({m.split()[3] for m in vanishing})  # each layer warned once
    summary = monitor.summary()
    assert summary["0.weight"][0] < summary["24.weight"][0]

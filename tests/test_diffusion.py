"""The diffusion model: the forward process's closed form, the loss's gradient, the learned score against a
known one, a short training run that beats the Gaussian baseline, the metrics, and `gradlab diffusion`."""

import math
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pytest

import gradlab as gl
from gradlab.apps import diffusion as d
from gradlab.cli import main
from gradlab.data import read_points


def test_closed_form_matches_the_step_by_step_forward_process():
    # q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I): t single steps from one x_0, many times over
    schedule = d.Schedule(T=50)
    rng = np.random.default_rng(0)
    x0 = np.tile([[1.5, -0.7]], (40_000, 1))
    for t in (1, 10, 50):
        x = d.forward_steps(schedule, x0, t, rng)
        mean, var = np.sqrt(schedule.alpha_bar[t]) * x0[0], 1 - schedule.alpha_bar[t]
        se = math.sqrt(var / len(x0))
        assert np.all(np.abs(x.mean(0) - mean) < 5 * se), (t, x.mean(0), mean)
        assert np.allclose(x.var(0), var, rtol=0.03), (t, x.var(0), var)
        shortcut = d.q_sample(schedule, x0, t, rng.standard_normal(x0.shape))
        assert np.allclose(shortcut.mean(0), mean, atol=5 * se) and np.allclose(shortcut.var(0), var, rtol=0.03)


def test_schedule_ends_near_pure_noise_and_posterior_variance_is_smaller_than_beta():
    s = d.Schedule()
    assert s.alpha_bar[0] == 1.0 and s.alpha_bar[-1] < 0.01
    t = np.arange(2, s.T + 1)
    assert np.all(s.posterior_variance(t) < s.beta[t])


def test_loss_gradient_equals_the_engine_gradient():
    # L = mean (ε̂ − ε)² over n rows and 2 coordinates: ∂L/∂ε̂ = 2 (ε̂ − ε) / (2n), and through the last layer
    # ∂L/∂W = hᵀ ∂L/∂ε̂, ∂L/∂b = Σ_rows ∂L/∂ε̂ — by hand, against the engine's backward pass (float64)
    rng = np.random.default_rng(1)
    schedule = d.Schedule(T=20)
    model = d.ScoreNet(20, width=8, depth=2, seed=0, dtype=np.float64)
    x0, t, eps = rng.standard_normal((6, 2)), rng.integers(1, 21, 6), rng.standard_normal((6, 2))
    loss = d.diffusion_loss(model, x0, t, eps, schedule)
    loss.backward()
    layers = list(model.layers)
    x_t = d.q_sample(schedule, x0, t, eps)
    with gl.no_grad():
        h = model.inputs(x_t, t)
        for layer in layers[:-1]:
            h = gl.softplus(layer(h))
        h = h.numpy()
    out = h @ layers[-1].weight.numpy() + layers[-1].bias.numpy()
    assert np.isclose(loss.item(), np.mean((out - eps) ** 2), rtol=1e-12)
    g_out = 2 * (out - eps) / out.size
    assert np.allclose(layers[-1].weight.grad, h.T @ g_out, rtol=1e-10, atol=1e-14)
    assert np.allclose(layers[-1].bias.grad, g_out.sum(0), rtol=1e-10, atol=1e-14)
    # and every parameter's gradient against central differences
    params = list(model.parameters())
    first = params[0]
    want = first.grad.copy()
    h_fd, numeric = 1e-6, np.zeros_like(want)
    for i in np.ndindex(*want.shape):
        keep = first.data[i]
        values = []
        for step in (h_fd, -h_fd):
            first.data[i] = keep + step
            with gl.no_grad():
                values.append(d.diffusion_loss(model, x0, t, eps, schedule).item())
        first.data[i] = keep
        numeric[i] = (values[0] - values[1]) / (2 * h_fd)
    assert np.allclose(want, numeric, rtol=1e-6, atol=1e-9)


def test_the_dsm_form_of_the_loss_is_the_same_number():
    # ‖ε̂ − ε‖² = (1 − ᾱ_t) ‖ŝ + ε/√(1 − ᾱ_t)‖² with ŝ = −ε̂/√(1 − ᾱ_t)
    rng = np.random.default_rng(2)
    schedule = d.Schedule(T=20)
    eps_hat, eps, t = rng.standard_normal((5, 2)), rng.standard_normal((5, 2)), 7
    sigma = math.sqrt(1 - schedule.alpha_bar[t])
    s = -eps_hat / sigma
    assert np.allclose(((eps_hat - eps) ** 2).sum(1), sigma**2 * ((s + eps / sigma) ** 2).sum(1))


def test_learned_score_of_a_gaussian_approaches_the_true_score():
    # data N(μ, σ² I): q_t = N(√ᾱ μ, (ᾱ σ² + 1 − ᾱ) I), whose score is −(x − √ᾱ μ)/(ᾱ σ² + 1 − ᾱ)
    mu, sigma = np.array([1.0, -0.5]), 0.5
    data = mu + sigma * np.random.default_rng(3).standard_normal((4000, 2))
    trained = d.train(data, steps=1500, batch=256, lr=3e-3, T=20, width=32, depth=2, seed=0)
    schedule = trained.schedule
    x = mu + np.random.default_rng(4).standard_normal((400, 2)) * 0.6
    # (at t = 1, 2 the noise is σ_t ≤ 0.1 and ŝ = −ε̂/σ_t magnifies ε̂'s error tenfold: those steps are left out)
    for t in (5, 10, 20):
        ab = schedule.alpha_bar[t]
        true = -(x - math.sqrt(ab) * mu) / (ab * sigma**2 + 1 - ab)
        learned = d.score(trained.model, x, t, schedule)
        error = np.linalg.norm(learned - true, axis=1).mean() / np.linalg.norm(true, axis=1).mean()
        assert error < 0.1, (t, error)
    untrained = d.train(data, steps=1, T=20, width=32, depth=2, seed=0)
    ab = schedule.alpha_bar[10]
    true = -(x - math.sqrt(ab) * mu) / (ab * sigma**2 + 1 - ab)
    before = np.linalg.norm(d.score(untrained.model, x, 10, schedule) - true, axis=1).mean()
    assert before > 5 * np.linalg.norm(d.score(trained.model, x, 10, schedule) - true, axis=1).mean()


def test_a_short_training_run_beats_the_gaussian_baseline():
    # a few seconds of training: far below the Gaussian with the data's mean and covariance (0.50 here), on
    # its way to the floor (0.20 for 500 points); benchmarks/diffusion.py trains to the floor
    result = d.evaluate("moons", steps=2500, n_train=4000, n_eval=500, seed=0, width=64, lr=5e-3)
    w = result["w2"]
    assert w["model"] < 0.65 * w["gaussian"], w
    assert result["trained"].losses[-1] < 0.7 * result["trained"].losses[0]


def test_w2_is_exact_on_a_small_case_and_mmd_vanishes_on_equal_samples():
    a = np.array([[0.0, 0.0], [1.0, 0.0]])
    b = np.array([[1.0, 1.0], [0.0, 1.0]])  # best matching: straight up, each distance 1
    assert d.w2(a, b) == pytest.approx(1.0)
    shifted = a + np.array([3.0, 4.0])
    assert d.w2(a, shifted) == pytest.approx(5.0)
    x = np.random.default_rng(0).standard_normal((50, 2))
    assert d.mmd(x, x) == pytest.approx(0.0, abs=1e-7)
    assert d.mmd(x, x + 3.0) > 0.5
    with pytest.raises(ValueError, match="same size"):
        d.w2(a, b[:1])


def test_data_sets_are_standardised():
    for name in d.DATA:
        x = d.make_data(name, 20_000, seed=5)
        assert np.allclose(x.mean(0), 0, atol=0.05) and np.allclose(x.std(0), 1, atol=0.05), name
    with pytest.raises(ValueError, match="unknown data set"):
        d.make_data("spiral")


# --- the command --------------------------------------------------------------------------------------------


def test_cli_moons_prints_metrics_and_writes_samples_and_the_score_field(tmp_path, capsys):
    samples, figure = tmp_path / "samples.csv", tmp_path / "score.png"
    code = main(
        ["diffusion", "moons", "--steps", "150", "--width", "32", "--eval", "200"]
        + ["--samples", str(samples), "--figure", str(figure)]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "W2" in out and "MMD" in out and "floor" in out and "Gaussian" in out
    assert read_points(samples).shape == (200, 2)
    assert figure.stat().st_size > 10_000


def test_cli_reads_a_csv(tmp_path, capsys):
    path = tmp_path / "points.csv"
    d.write_samples(d.make_data("swissroll", 600, seed=1), path)
    samples = tmp_path / "samples.csv"  # never the default, which would land in the folder the tests run from
    argv = [str(path), "--steps", "50", "--width", "16", "--eval", "100", "--figure", "none", "--samples", str(samples)]
    assert main(["diffusion", *argv]) == 0
    assert "points.csv" in capsys.readouterr().out and samples.is_file()


def test_cli_a_csv_with_a_bad_row_names_the_line(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n" + "0.1,0.2\n" * 20 + "0.3;0.4\n")
    assert main(["diffusion", str(path), "--steps", "5", "--figure", "none"]) == 2
    err = capsys.readouterr().err
    assert "line 22" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args, words",
    [
        (["diffusion", "nowhere.csv"], "no such file"),
        (["diffusion", "moons", "--steps", "0"], "positive whole number"),
        (["diffusion", "moons", "--lr", "nan"], "finite"),
        (["diffusion", "moons", "--figure", "x.txt"], "picture format"),
        (["diffusion", "moons", "--samples", "/no/such/dir/s.csv"], "does not exist"),
    ],
)
def test_cli_refuses_bad_arguments(args, words, capsys):
    with pytest.raises(SystemExit) as stop:
        code = main(args)
        raise SystemExit(code)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err

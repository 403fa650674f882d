"""The GAN on 2-D data: the game's gradients with their signs, the metrics, learning, and `gradlab gan`."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: one BLAS thread is ~10× faster here

import numpy as np
import pytest

import gradlab as gl
from gradlab.apps import gan
from gradlab.cli import main


def _batch(m=1, seed=3):
    rng = np.random.default_rng(seed)
    G = gan.generator(seed=1, hidden=16, depth=2, dtype=np.float64)
    D = gan.discriminator(m, hidden=16, depth=2, seed=2, dtype=np.float64)
    x = gl.Tensor(gan.RING.sample(8 * m, rng))
    z = gl.Tensor(rng.standard_normal((8 * m, 2)))
    return G, D, x, z


def _numerical(f, params, h=1e-6):
    """Central differences of the scalar f() with respect to every entry of every parameter."""
    grads = []
    for p in params:
        g = np.zeros_like(p.data)
        for i in np.ndindex(p.data.shape):
            keep = p.data[i]
            p.data[i] = keep + h
            up = f()
            p.data[i] = keep - h
            down = f()
            p.data[i] = keep
            g[i] = (up - down) / (2 * h)
        grads.append(g)
    return grads


@pytest.mark.parametrize("m", [1, 2])
def test_discriminator_gradient_is_the_ascent_direction_of_V(m):
    G, D, x, z = _batch(m)
    params = list(D.parameters())

    def V():
        with gl.no_grad():
            return float(gan.discriminator_value(D(gan.pack(x, m)), D(gan.pack(G(z), m))).data)

    value = gan.discriminator_value(D(gan.pack(x, m)), D(gan.pack(gl.Tensor(G(z).data), m)))
    value.backward()
    engine = [p.grad for p in params]
    for got, want in zip(engine, _numerical(V, params)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    # a small step along +∂V/∂θ_D raises V: the discriminator ascends
    before = V()
    for p, g in zip(params, engine):
        p.data += 1e-3 * g
    assert V() > before


def test_generator_gradient_is_the_descent_direction_of_its_loss():
    G, D, _, z = _batch()
    params = list(G.parameters())

    def loss():
        with gl.no_grad():
            return float(gan.generator_loss(D(G(z))).data)

    value = gan.generator_loss(D(G(z)))
    value.backward()
    engine = [p.grad for p in params]
    for got, want in zip(engine, _numerical(loss, params)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    before = loss()
    for p, g in zip(params, engine):
        p.data -= 1e-3 * g
    assert loss() < before


def test_the_gradients_on_the_logits_are_the_written_formulas():
    rng = np.random.default_rng(0)
    r, f = rng.standard_normal(6), rng.standard_normal(6)
    dr, df = gl.grad(gan.discriminator_value, argnums=(0, 1))(r, f)
    sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    np.testing.assert_allclose(dr, (1 - sig(r)) / 6, rtol=1e-12)
    np.testing.assert_allclose(df, -sig(f) / 6, rtol=1e-12)
    np.testing.assert_allclose(gl.grad(gan.generator_loss)(f), -(1 - sig(f)) / 6, rtol=1e-12)
    # the value itself: mean log σ(r) + mean log(1 − σ(f))
    want = np.mean(np.log(sig(r))) + np.mean(np.log(1 - sig(f)))
    assert float(gan.discriminator_value(gl.Tensor(r), gl.Tensor(f)).data) == pytest.approx(want, rel=1e-12)


def test_pack_puts_m_consecutive_points_side_by_side():
    points = np.arange(12.0).reshape(6, 2)
    np.testing.assert_array_equal(gan.pack(gl.Tensor(points), 3).data, [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])


def test_the_mixtures_are_the_papers():
    assert len(gan.RING.centres) == 8 and gan.RING.sigma == 0.02
    np.testing.assert_allclose(np.hypot(*gan.RING.centres.T), 2.0)
    assert len(gan.GRID.centres) == 25 and gan.GRID.sigma == 0.05
    assert sorted(set(gan.GRID.centres[:, 0])) == [-4, -2, 0, 2, 4]


@pytest.mark.parametrize("mixture", [gan.RING, gan.GRID], ids=["ring", "grid"])
def test_metrics_on_the_data_itself_and_on_a_collapse(mixture):
    exact = np.repeat(mixture.centres, 3, axis=0)
    assert gan.mode_metrics(exact, mixture)["modes"] == len(mixture.centres)
    assert gan.mode_metrics(exact, mixture)["high_quality"] == 1.0
    data = gan.mode_metrics(mixture.sample(2500, 0), mixture)
    assert data["modes"] == len(mixture.centres) and data["high_quality"] > 0.98  # 3σ in 2-D holds 98.9 %
    collapsed = mixture.centres[[2]] + mixture.sigma * np.random.default_rng(1).standard_normal((2500, 2))
    one = gan.mode_metrics(collapsed, mixture)
    assert one["modes"] == 1 and one["covered"][2] and one["high_quality"] > 0.98
    between = (mixture.centres[[0]] + mixture.centres[[1]]) / 2 + np.zeros((10, 2))
    nowhere = gan.mode_metrics(between, mixture)
    assert nowhere["modes"] == 0 and nowhere["high_quality"] == 0.0


def test_cloud_metrics_see_a_collapse():
    data = gan.GRID.sample(1000, 0)
    assert gan.cloud_metrics(data, data)["coverage"] == 1.0
    half = gan.cloud_metrics(data[data[:, 0] < -1], data)  # two columns of five
    assert half["high_quality"] == 1.0 and 0.3 < half["coverage"] < 0.5


def test_a_short_run_learns_the_ring():
    before = gan.GANRun(gan.generator(seed=0), None, 1, 2, 0, 0.0).sample(2500)
    run = gan.train(gan.RING, m=2, steps=500, batch=64, lr=2e-3, seed=0, hidden=32)
    start = gan.mode_metrics(before, gan.RING)
    end = gan.mode_metrics(run.sample(2500), gan.RING)
    assert start["high_quality"] < 0.05  # an untrained generator lands near a mode by chance only
    assert end["modes"] >= start["modes"] + 3 and end["modes"] >= 7
    assert end["median_distance"] < start["median_distance"] / 2


# the command line ----------------------------------------------------------------------------------------


def test_cli_ring_prints_the_metrics_and_writes_the_figure(tmp_path, capsys):
    figure = tmp_path / "gan.png"
    assert main(["gan", "ring", "--steps", "50", "--hidden", "16", "--figure", str(figure)]) == 0
    out = capsys.readouterr().out
    assert "modes covered" in out and "high quality" in out and figure.stat().st_size > 1000


def test_cli_reads_a_csv(tmp_path, capsys):
    data = tmp_path / "moons.csv"
    data.write_text("x,y\n" + "\n".join(f"{x:.4f},{y:.4f}" for x, y in gan.GRID.sample(200, 1)) + "\n")
    assert main(["gan", str(data), "--steps", "30", "--hidden", "16", "--figure", "none"]) == 0
    assert "coverage" in capsys.readouterr().out


def test_cli_names_the_bad_line_of_a_csv(tmp_path, capsys):
    data = tmp_path / "bad.csv"
    data.write_text("x,y\n1,2\n3,4\n5,six\n")
    assert main(["gan", str(data)]) == 2
    err = capsys.readouterr().err
    assert "line 4" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["gan", "missing.csv"],
        ["gan", "ring", "--steps", "0"],
        ["gan", "ring", "--pack", "x"],
        ["gan", "ring", "--figure", "a.txt"],
    ],
)
def test_cli_refuses_bad_arguments(args, capsys):
    with pytest.raises(SystemExit) as stop:
        code = main(args)
        raise SystemExit(code)
    assert stop.value.code == 2
    assert "Traceback" not in capsys.readouterr().err

"""REINFORCE with a value baseline (gradlab.apps.policy_gradient) and `gradlab rl cartpole`."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab as gl
from gradlab.apps import policy_gradient as pg
from gradlab.cli import main


def test_discounted_returns_are_the_discounted_tail_sums():
    r = np.array([1.0, 0.5, -2.0, 3.0])
    gamma = 0.9
    want = [sum(gamma**k * r[t + k] for k in range(len(r) - t)) for t in range(len(r))]
    np.testing.assert_allclose(pg.discounted_returns(r, gamma), want, rtol=1e-14)


def test_linear_policy_score_is_the_engines_gradient_of_log_pi():
    rng = np.random.default_rng(0)
    W, s = rng.normal(size=(4, 3)), rng.normal(size=4)
    for a in range(3):
        engine = gl.grad(lambda W, a=a: gl.log_softmax(gl.Tensor(s) @ W)[a])(W)
        np.testing.assert_allclose(pg.linear_policy_score(W, s, a), engine, rtol=1e-12, atol=1e-14)


def test_score_function_estimate_equals_the_engines_gradient_of_mean_log_pi_times_advantage():
    """On a fixed batch, (1/T) Σ_t s_t (e_{a_t} − π_t)ᵀ A_t is ∇_W of (1/T) Σ_t log π(a_t|s_t) A_t."""
    rng = np.random.default_rng(1)
    W = rng.normal(size=(4, 2))
    S, A, adv = rng.normal(size=(32, 4)), rng.integers(0, 2, 32), rng.normal(size=32)
    by_hand = np.mean([pg.linear_policy_score(W, s, a) * g for s, a, g in zip(S, A, adv)], axis=0)

    class Linear(gl.nn.Module):
        def __init__(self):
            super().__init__()
            self.W = gl.nn.Parameter(W.copy())

        def forward(self, x):
            return x @ self.W

    policy = Linear()
    pg.surrogate_loss(policy, S, A, adv).backward()
    np.testing.assert_allclose(-policy.W.grad, by_hand, rtol=1e-12, atol=1e-15)


def test_policy_gradient_theorem_on_a_bandit_and_a_baseline_leaves_the_mean_alone():
    """One step, three actions: ∇_z Σ_a π(a) r(a) (engine) = Σ_a π(a) ∇log π(a) (r(a) − b) for every b."""
    z, r = np.array([0.3, -1.0, 0.5]), np.array([1.0, 4.0, -2.0])
    exact = gl.grad(lambda z: (gl.softmax(z) * r).sum())(z)
    p = np.exp(z) / np.exp(z).sum()
    for b in (0.0, 2.5, -7.0):
        score = sum(p[a] * (np.eye(3)[a] - p) * (r[a] - b) for a in range(3))
        np.testing.assert_allclose(score, exact, rtol=1e-12, atol=1e-15)


def test_policy_probabilities_in_numpy_match_the_engine_forward():
    policy = pg.PolicyNet(seed=3)
    S = np.random.default_rng(3).normal(size=(5, 4))
    engine = gl.softmax(policy(gl.Tensor(S)), axis=-1).data
    np.testing.assert_allclose([policy.probabilities(s) for s in S], engine, rtol=1e-12)


def test_the_learned_baseline_cuts_the_gradient_variance_at_a_fixed_policy():
    policy = pg.PolicyNet(seed=0)
    before = [p.data.copy() for p in policy.parameters()]
    v = pg.gradient_variance(policy, episodes=40, seed=0, fit_steps=200)
    assert v["ratio"] >= 2.0, v
    assert all(np.array_equal(b, p.data) for b, p in zip(before, policy.parameters()))  # the same policy throughout


def test_a_short_run_learns_well_above_random():
    """A uniform random policy lasts ~22 steps; 60 episodes of REINFORCE lift the last 20's mean far above it."""
    env, rng = pg.make_env(0), np.random.default_rng(0)
    random_returns = []
    for i in range(50):
        env.reset(seed=i)
        steps, done = 0, False
        while not done:
            _, _, terminated, truncated, _ = env.step(int(rng.integers(2)))
            steps, done = steps + 1, terminated or truncated
        random_returns.append(steps)
    assert 15 < np.mean(random_returns) < 30
    for seed in (0, 1, 2):
        run = pg.train_cartpole(seed=seed, episodes=60)
        last = np.mean(run.returns[-20:])
        assert last > 3 * np.mean(random_returns), (seed, last)
        assert len(run.baseline) == len(run.normalised_spread) == len(run.advantages) == 60
        adv = run.advantages[-1]
        assert abs(adv.mean()) < 1e-9 and abs(adv.std() - 1) < 1e-6 and len(adv) == run.returns[-1]
        assert run.solved_at is None  # 60 < 100 episodes: the criterion cannot hold yet


def test_cli_trains_and_plots(tmp_path, capsys):
    figure = tmp_path / "curve.png"
    code = main(["rl", "cartpole", "--seed", "0", "--episodes", "30", "--quiet", "--plot", str(figure)])
    out = capsys.readouterr().out
    assert code == 1  # 30 episodes cannot solve it, and it says so
    assert "not solved within 30 episodes" in out and "greedy policy" in out
    assert figure.stat().st_size > 10_000


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--episodes", "0"], "positive whole number"),
        (["--episodes", "ten"], "positive whole number"),
        (["--seed", "-1"], "whole number >= 0"),
        (["--plot", "/no/such/folder/c.png"], "does not exist"),
        (["--plot", "curve.txt"], "png"),
    ],
)
def test_cli_refuses_bad_arguments_in_one_sentence(argv, words, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["rl", "cartpole", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_cli_refuses_too_many_episodes(capsys):
    assert main(["rl", "cartpole", "--episodes", "6000"]) == 2
    assert "at most 5000" in capsys.readouterr().err


def test_rl_without_an_action_prints_help(capsys):
    assert main(["rl"]) == 0
    assert "cartpole" in capsys.readouterr().out

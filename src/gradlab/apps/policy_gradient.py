"""Policy gradients: REINFORCE with a learned value baseline on CartPole-v1.

The policy-gradient theorem (Williams 1992; Sutton et al. 2000). For a policy π_θ(a|s) and the return
G_t = Σ_{k≥t} γ^{k−t} r_k of an episode τ = (s_0, a_0, r_0, s_1, …),

    ∇_θ J(θ) = ∇_θ E_τ[G_0] = E_τ[ Σ_t ∇_θ log π_θ(a_t|s_t) · (G_t − b(s_t)) ]

for ANY baseline b(s) that does not depend on the action: E_{a~π}[∇ log π(a|s)] = Σ_a ∇π(a|s) = ∇1 = 0,
so subtracting b changes the estimator's variance and not its mean. The log-likelihood-ratio ("score
function") trick ∇π = π ∇log π is what turns the gradient of an expectation into an expectation we can
sample. REINFORCE samples one episode and follows that estimate; it is unbiased and noisy. A learned
value V_w(s) ≈ E[G_t | s_t = s] is the baseline that removes most of the noise: A_t = G_t − V_w(s_t).

For a softmax policy over logits z = f_θ(s),  ∂ log π(a|s) / ∂z = e_a − π(·|s),  and for a linear one
(z = s W)  ∇_W log π(a|s) = s (e_a − π)ᵀ.

    PolicyNet, ValueNet                       gradlab.nn modules (4 → 32 → 2 logits, 4 → 32 → 1)
    discounted_returns(rewards, gamma)        G_t, by the backward recursion G_t = r_t + γ G_{t+1}
    linear_policy_score(W, s, a)              s (e_a − π)ᵀ, the closed form
    surrogate_loss(policy, S, A, adv)         −mean(log π(a_t|s_t) · A_t); its gradient is −(the estimate)
    train_cartpole(seed, episodes)            the whole REINFORCE loop; returns a Run (curves, solved_at)
    gradient_variance(policy, value, ...)     the estimator's variance with and without the baseline
    evaluate_greedy(policy, episodes)         mean return of argmax π
    plot_run(run, path)                       raw returns, the baseline, normalised advantages
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import autodiff as gl
from .. import nn, optim

__all__ = [
    "SOLVED_MEAN",
    "SOLVED_WINDOW",
    "PolicyNet",
    "Run",
    "ValueNet",
    "discounted_returns",
    "evaluate_greedy",
    "gradient_variance",
    "linear_policy_score",
    "make_env",
    "plot_run",
    "rollout",
    "surrogate_loss",
    "train_cartpole",
]

SOLVED_WINDOW = 100  # CartPole-v1 counts as solved when the mean of 100 consecutive episodes ...
SOLVED_MEAN = 475.0  # ... reaches 475 (its reward threshold in Gymnasium's registry)


def make_env(seed: int | None = None):
    """CartPole-v1 from Gymnasium (pure Python, no window): 4 observations, 2 actions, +1 per step, ≤ 500 steps."""
    import gymnasium

    env = gymnasium.make("CartPole-v1")
    if seed is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
    return env


class PolicyNet(nn.Module):
    """π_θ(·|s) = softmax(W₂ tanh(W₁ s + b₁) + b₂): the logits of the two actions (push left, push right)."""

    def __init__(self, n_obs: int = 4, n_actions: int = 2, hidden: int = 32, seed=None):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.hidden = nn.Linear(n_obs, hidden, init="xavier", seed=int(rng.integers(2**31)))
        self.out = nn.Linear(hidden, n_actions, init="xavier", seed=int(rng.integers(2**31)))
        with gl.no_grad():  # small last layer: the first policy is close to uniform, so it explores
            self.out.weight *= 0.1

    def forward(self, states):
        return self.out(gl.tanh(self.hidden(states)))

    def probabilities(self, state: np.ndarray) -> np.ndarray:
        """π(·|s) for one state, in plain NumPy from the parameters' arrays: no tape during the rollout."""
        h = np.tanh(state @ self.hidden.weight.data + self.hidden.bias.data)
        z = h @ self.out.weight.data + self.out.bias.data
        z = np.exp(z - z.max())
        return z / z.sum()


class ValueNet(nn.Module):
    """V_w(s) ≈ E[G_t | s_t = s]: the baseline, one number per state."""

    def __init__(self, n_obs: int = 4, hidden: int = 32, seed=None):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.hidden = nn.Linear(n_obs, hidden, init="xavier", seed=int(rng.integers(2**31)))
        self.out = nn.Linear(hidden, 1, init="xavier", seed=int(rng.integers(2**31)))

    def forward(self, states):
        return self.out(gl.tanh(self.hidden(states))).reshape(-1)


def discounted_returns(rewards, gamma: float = 0.99) -> np.ndarray:
    """G_t = Σ_{k≥t} γ^{k−t} r_k, computed backwards: G_{T−1} = r_{T−1}, G_t = r_t + γ G_{t+1}."""
    rewards = np.asarray(rewards, dtype=np.float64)
    out = np.empty_like(rewards)
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def linear_policy_score(W, s, a: int) -> np.ndarray:
    """∇_W log π(a|s) for the linear softmax policy π = softmax(s W):  s (e_a − π)ᵀ, shape W.shape."""
    W, s = np.asarray(W, dtype=np.float64), np.asarray(s, dtype=np.float64)
    z = s @ W
    p = np.exp(z - z.max())
    p /= p.sum()
    e = np.zeros_like(p)
    e[a] = 1.0
    return np.outer(s, e - p)


def surrogate_loss(policy, states, actions, advantages):
    """L(θ) = −(1/T) Σ_t log π_θ(a_t|s_t) · A_t, with A_t held fixed: −∇L is the REINFORCE estimate."""
    logp = gl.log_softmax(policy(gl.Tensor(states)), axis=-1)
    chosen = logp[np.arange(len(actions)), np.asarray(actions)]
    return -(chosen * gl.Tensor(np.asarray(advantages, dtype=np.float64))).mean()


def rollout(env, policy, rng, greedy: bool = False, seed: int | None = None):
    """One episode with actions drawn from π (or argmax π): states (T, 4), actions (T,), rewards (T,)."""
    state, _ = env.reset(seed=seed)
    states, actions, rewards = [], [], []
    done = False
    while not done:
        p = policy.probabilities(state)
        a = int(np.argmax(p)) if greedy else int(rng.random() > p[0])  # two actions: a = 1 with prob. p[1]
        states.append(state)
        actions.append(a)
        state, r, terminated, truncated, _ = env.step(a)
        rewards.append(r)
        done = terminated or truncated
    return np.array(states), np.array(actions), np.array(rewards)


@dataclass
class Run:
    """One REINFORCE run: per-episode curves, and the episode at which it was solved (None if not)."""

    seed: int
    returns: list = field(default_factory=list)  # raw undiscounted episode returns (= length)
    mean100: list = field(default_factory=list)  # mean of the last ≤ 100 episodes' returns
    baseline: list = field(default_factory=list)  # mean V(s_t) over the episode, on the scale of G_t
    discounted: list = field(default_factory=list)  # mean G_t over the episode
    normalised_spread: list = field(default_factory=list)  # std of G_t − V(s_t), which normalisation divides by
    advantages: list = field(default_factory=list)  # each episode's normalised advantages Â_t (mean 0, std 1)
    solved_at: int | None = None  # 1-based episode index where mean100 (over 100 episodes) first ≥ 475
    seconds: float = 0.0
    policy: PolicyNet | None = None
    value: ValueNet | None = None


def train_cartpole(
    seed: int = 0,
    episodes: int = 400,
    gamma: float = 0.99,
    lr_policy: float = 0.01,
    lr_value: float = 0.01,
    hidden: int = 32,
    baseline: bool = True,
    stop_when_solved: bool = False,
    callback=None,
) -> Run:
    """REINFORCE with a learned value baseline and normalised advantages, one update per episode.

    Per episode: roll out π_θ (NumPy forward, no tape); G_t by discounted_returns; V_w(s_t) in one engine
    forward; A_t = G_t − V_w(s_t), normalised to mean 0 and std 1 within the episode; one Adam step on
    −mean(log π(a_t|s_t) A_t) and one on mean((V_w(s_t) − G_t/scale)²). V learns G/scale, scale = 1/(1−γ),
    so its targets lie in [0, 1]. "Solved" is the 1-based index of the first episode at which the mean
    return of the last 100 episodes is ≥ 475.
    """
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    env = make_env(seed)
    policy = PolicyNet(hidden=hidden, seed=seed)
    value = ValueNet(hidden=hidden, seed=seed + 10_000)
    opt_pi = optim.Adam(policy.parameters(), lr=lr_policy)
    opt_v = optim.Adam(value.parameters(), lr=lr_value)
    scale = 1.0 / (1.0 - gamma)
    run = Run(seed=seed, policy=policy, value=value)
    for episode in range(1, episodes + 1):
        states, actions, rewards = rollout(env, policy, rng)
        G = discounted_returns(rewards, gamma)
        v = value(gl.Tensor(states))
        if baseline:
            adv = G - scale * v.data
        else:
            adv = G.copy()
        run.normalised_spread.append(float(adv.std()))
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        run.advantages.append(adv)

        opt_pi.zero_grad()
        surrogate_loss(policy, states, actions, adv).backward()
        opt_pi.step()
        opt_v.zero_grad()
        gl.mse(v, gl.Tensor(G / scale)).backward()
        opt_v.step()

        run.returns.append(float(rewards.sum()))
        window = run.returns[-SOLVED_WINDOW:]
        run.mean100.append(float(np.mean(window)))
        run.baseline.append(float(scale * v.data.mean()))
        run.discounted.append(float(G.mean()))
        if run.solved_at is None and len(window) == SOLVED_WINDOW and run.mean100[-1] >= SOLVED_MEAN:
            run.solved_at = episode
        if callback is not None:
            callback(episode, run)
        if stop_when_solved and run.solved_at is not None:
            break
    env.close()
    run.seconds = time.perf_counter() - start
    return run


def evaluate_greedy(policy, episodes: int = 10, seed: int = 12345) -> float:
    """Mean return of the greedy policy a = argmax π(·|s) over `episodes` fresh episodes (500 is the cap)."""
    env = make_env()
    rng = np.random.default_rng(seed)
    total = [rollout(env, policy, rng, greedy=True, seed=seed + i)[2].sum() for i in range(episodes)]
    env.close()
    return float(np.mean(total))


def _flat_grad(module) -> np.ndarray:
    return np.concatenate([np.ravel(p.grad) for p in module.parameters()])


def gradient_variance(policy, episodes: int = 100, gamma: float = 0.99, seed: int = 0, fit_steps: int = 300):
    """The REINFORCE estimator's variance at one fixed policy, with and without a learned baseline.

    Per episode i, ĝ_i = Σ_t ∇_θ log π(a_t|s_t) · Ψ_t with Ψ_t = G_t (no baseline) or Ψ_t = G_t − V(s_t).
    V is fitted (Adam on mean squared error) to G_t on a separate set of `episodes` episodes of the same
    policy, so it is a baseline that does not see the episodes it is scored on. Variance = the trace of the
    covariance, (1/n) Σ_i ‖ĝ_i − ḡ‖². Returns a dict with var_plain, var_baseline, ratio, the two mean gradients and the
    episodes' mean return.
    """
    rng = np.random.default_rng(seed)
    env = make_env(seed)
    scale = 1.0 / (1.0 - gamma)

    def sample(n):
        return [rollout(env, policy, rng) for _ in range(n)]

    fit_set, score_set = sample(episodes), sample(episodes)
    value = ValueNet(seed=seed)
    S = np.concatenate([e[0] for e in fit_set])
    target = np.concatenate([discounted_returns(e[2], gamma) for e in fit_set]) / scale
    opt = optim.Adam(value.parameters(), lr=0.01)
    for _ in range(fit_steps):
        opt.zero_grad()
        gl.mse(value(gl.Tensor(S)), gl.Tensor(target)).backward()
        opt.step()

    plain, based = [], []
    for states, actions, rewards in score_set:
        G = discounted_returns(rewards, gamma)
        with gl.no_grad():
            V = scale * value(gl.Tensor(states)).data
        for psi, store in ((G, plain), (G - V, based)):
            policy.zero_grad()
            # sum, not mean: ĝ is the per-episode estimate Σ_t ∇log π · Ψ_t (the surrogate's gradient × −T)
            (-len(actions) * surrogate_loss(policy, states, actions, psi)).backward()
            store.append(-_flat_grad(policy))
    policy.zero_grad()
    env.close()
    plain, based = np.array(plain), np.array(based)
    var_plain = float(((plain - plain.mean(0)) ** 2).sum(1).mean())
    var_based = float(((based - based.mean(0)) ** 2).sum(1).mean())
    return {
        "var_plain": var_plain,
        "var_baseline": var_based,
        "ratio": var_plain / var_based,
        "mean_plain": plain.mean(0),
        "mean_baseline": based.mean(0),
        "mean_return": float(np.mean([e[2].sum() for e in score_set])),
    }


def plot_run(run: Run, path: str, title: str | None = None):
    """Four panels: raw returns with their 100-episode mean; the per-episode mean G_t beside the baseline's
    mean V(s_t); the spread std(G_t − V(s_t)) that normalisation divides out; and the normalised advantages
    Â_t along three episodes (early, middle, last), the weights the policy gradient actually uses."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.arange(1, len(run.returns) + 1)
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5))
    ax = axes[0, 0]
    ax.plot(x, run.returns, lw=0.6, alpha=0.6, label="return")
    ax.plot(x, run.mean100, lw=2, label="mean of last 100")
    ax.axhline(SOLVED_MEAN, color="k", ls="--", lw=0.8, label="solved (475)")
    if run.solved_at:
        ax.axvline(run.solved_at, color="g", ls=":", label=f"solved at {run.solved_at}")
    ax.set(xlabel="episode", ylabel="undiscounted return", title="raw returns")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.plot(x, run.discounted, label="mean G_t (discounted return)")
    ax.plot(x, run.baseline, label="mean V(s_t) (learned baseline)")
    ax.set(xlabel="episode", ylabel="γ = 0.99 return", title="returns and the baseline")
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    ax.plot(x, run.normalised_spread, lw=0.8)
    ax.set(xlabel="episode", ylabel="std of G_t − V(s_t)", title="the spread normalisation divides out")
    ax = axes[1, 1]
    for i in sorted({0, len(run.advantages) // 2, len(run.advantages) - 1}):
        ax.plot(run.advantages[i], lw=0.9, label=f"episode {i + 1}")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="step t", ylabel="Â_t", title="normalised advantages (G_t − V(s_t), then mean 0, std 1)")
    ax.legend(fontsize=8)
    fig.suptitle(title or f"REINFORCE with a value baseline, CartPole-v1, seed {run.seed}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

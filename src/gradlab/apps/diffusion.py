"""A diffusion model on 2-D data (DDPM, Ho et al. 2020): noise the data step by step, learn to undo it.

The forward process adds a little Gaussian noise at each of T steps, β_1 < … < β_T:

    q(x_t | x_(t−1)) = N(√(1 − β_t) x_(t−1), β_t I)
    q(x_t | x_0)     = N(√ᾱ_t x_0, (1 − ᾱ_t) I),   α_t = 1 − β_t,  ᾱ_t = α_1 α_2 … α_t     (closed form)

so x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε with ε ~ N(0, I), and x_T is almost pure noise. A network ε̂(x_t, t) learns
to say which ε was added, by least squares:

    L = E ‖ε̂(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t) − ε‖²

This is denoising score matching in disguise: the score of the noised data, s_t(x) = ∇ₓ log q_t(x), is
(Tweedie / Vincent 2011)

    s_t(x) = −E[ε | x_t = x] / √(1 − ᾱ_t)      so   ŝ_t(x) = −ε̂(x, t) / √(1 − ᾱ_t)

and L equals (1 − ᾱ_t) E ‖ŝ_t(x_t) + ε/√(1 − ᾱ_t)‖², the denoising score-matching loss weighted by the
noise variance. Sampling runs the chain backwards from x_T ~ N(0, I):

    x_(t−1) = (x_t − β_t/√(1 − ᾱ_t) ε̂(x_t, t)) / √α_t + σ_t z,   σ_t² = β̃_t = β_t (1 − ᾱ_(t−1))/(1 − ᾱ_t)

(z ~ N(0, I), and no noise at the last step): each step moves along the learned score, then adds less noise
than the forward step took away.

    make_data(name, n, seed)         "moons" | "swissroll", standardised (see DATA)
    (a CSV file of x,y lines: gradlab.data.read_points; the swiss roll: gradlab.data.make_swiss_roll)
    Schedule(T), q_sample            the forward process and its closed form
    ScoreNet, train, sample          the ε-network, its training loop (Adam, float32) and the reverse sampler
    score(model, x, t)               ŝ_t(x) = −ε̂/√(1 − ᾱ_t), the field plot_score draws
    w2, mmd, gaussian_baseline       the metrics: exact 2-Wasserstein by optimal assignment, RBF-kernel MMD
    evaluate, run                    the whole experiment on one data set, with the metrics beside their floors
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import autodiff as gl
from .. import nn, optim
from ..data.toy import make_moons, make_swiss_roll

__all__ = [
    "DATA",
    "Schedule",
    "ScoreNet",
    "diffusion_loss",
    "evaluate",
    "gaussian_baseline",
    "make_data",
    "mmd",
    "plot_score",
    "q_sample",
    "sample",
    "score",
    "train",
    "w2",
]


# --- data -----------------------------------------------------------------------------------------------------


def _moons(n, seed):
    return make_moons(n, noise=0.05, seed=seed)[0]


# name: (generator, centre, scale). Each set is shifted and scaled by fixed constants, its population mean and
# standard deviation per coordinate (moons: exact; swiss roll: from 2·10⁶ draws), so that every sample of it,
# training or held out, is standardised the same way.
DATA = {
    "moons": (_moons, np.array([0.5, 0.25]), np.array([0.8675, 0.4967])),
    "swissroll": (lambda n, seed: make_swiss_roll(n, 1.0, seed), np.array([2.0, 0.21]), np.array([6.70, 7.02])),
}


def make_data(name: str, n: int = 1000, seed: int | None = 0) -> np.ndarray:
    """n points of a standardised 2-D set, float64 (n, 2):

    moons      gradlab.data.make_moons(n, noise=0.05), minus (0.5, 0.25), over (0.8675, 0.4967)
    swissroll  gradlab.data.make_swiss_roll(n, noise=1.0), minus (2.0, 0.21), over (6.70, 7.02)"""
    if name not in DATA:
        raise ValueError(f"unknown data set {name!r}: choose one of {', '.join(DATA)} or give a CSV file")
    make, centre, scale = DATA[name]
    return (make(n, seed) - centre) / scale


# --- the forward process --------------------------------------------------------------------------------------


class Schedule:
    """β_t linear from beta_min to beta_max over t = 1..T, with α_t = 1 − β_t, ᾱ_t = Π_(s≤t) α_s.

    Arrays are indexed by t (entry 0 is t = 0: β_0 = 0, ᾱ_0 = 1, i.e. the clean data). With the defaults
    (T = 100, β from 10⁻⁴ to 0.1), ᾱ_T ≈ 0.006: x_T keeps 8 % of x_0's scale."""

    def __init__(self, T: int = 100, beta_min: float = 1e-4, beta_max: float = 0.1):
        if T < 1 or not 0 < beta_min <= beta_max < 1:
            raise ValueError(f"need T >= 1 and 0 < beta_min <= beta_max < 1, got {T}, {beta_min}, {beta_max}")
        self.T = int(T)
        self.beta = np.concatenate([[0.0], np.linspace(beta_min, beta_max, self.T)])
        self.alpha = 1.0 - self.beta
        self.alpha_bar = np.cumprod(self.alpha)

    def posterior_variance(self, t):
        """β̃_t = β_t (1 − ᾱ_(t−1)) / (1 − ᾱ_t): the variance of q(x_(t−1) | x_t, x_0)."""
        t = np.asarray(t)
        return self.beta[t] * (1 - self.alpha_bar[t - 1]) / (1 - self.alpha_bar[t])


def q_sample(schedule: Schedule, x0, t, eps) -> np.ndarray:
    """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε: a draw of q(x_t | x_0) in one step (t an int or one per row)."""
    a = schedule.alpha_bar[np.asarray(t)]
    a = a[..., None] if np.ndim(a) else a
    return np.sqrt(a) * x0 + np.sqrt(1 - a) * eps


def forward_steps(schedule: Schedule, x0, t: int, rng) -> np.ndarray:
    """x_t by t single steps x_s = √(1 − β_s) x_(s−1) + √β_s z: the process q_sample shortcuts."""
    x = np.array(x0, dtype=np.float64)
    for s in range(1, t + 1):
        x = math.sqrt(1 - schedule.beta[s]) * x + math.sqrt(schedule.beta[s]) * rng.standard_normal(x.shape)
    return x


# --- the network ----------------------------------------------------------------------------------------------


def time_features(t, T: int, size: int = 16) -> np.ndarray:
    """Sinusoidal features of τ = t/T: sin(π k τ), cos(π k τ) for k = 1..size/2 (so the network can tell
    nearby steps apart without seeing t as one raw number)."""
    tau = np.asarray(t, dtype=np.float64)[..., None] / T
    k = np.arange(1, size // 2 + 1)
    return np.concatenate([np.sin(math.pi * k * tau), np.cos(math.pi * k * tau)], axis=-1)


class ScoreNet(nn.Module):
    """ε̂(x, t): an MLP on [x, time_features(t)] (2 + 16 inputs) → width → width → width → 2, softplus
    between (smooth, so the score field it draws is smooth too)."""

    def __init__(self, T: int, width: int = 128, depth: int = 3, features: int = 16, seed: int = 0, dtype=np.float32):
        super().__init__()
        self.T, self.features, self.dtype = T, features, dtype
        sizes = [2 + features] + [width] * depth + [2]
        self.layers = nn.Sequential(
            *[nn.Linear(a, b, seed=seed + i, dtype=dtype) for i, (a, b) in enumerate(zip(sizes, sizes[1:]))]
        )

    def inputs(self, x, t) -> np.ndarray:
        t = np.broadcast_to(np.asarray(t), (len(x),))
        return np.concatenate([np.asarray(x), time_features(t, self.T, self.features)], axis=1).astype(self.dtype)

    def forward(self, x, t):
        h = self.inputs(x, t)
        layers = list(self.layers)
        for layer in layers[:-1]:
            h = gl.softplus(layer(h))
        return layers[-1](h)


def diffusion_loss(model: ScoreNet, x0, t, eps, schedule: Schedule):
    """L = mean over the batch and both coordinates of (ε̂(x_t, t) − ε)², x_t = q_sample(x0, t, ε)."""
    x_t = q_sample(schedule, x0, t, eps)
    return gl.mse(model(x_t, t), np.asarray(eps, dtype=model.dtype))


def score(model: ScoreNet, x, t: int, schedule: Schedule) -> np.ndarray:
    """ŝ_t(x) = −ε̂(x, t) / √(1 − ᾱ_t), the learned ∇ₓ log q_t(x), float64 (n, 2)."""
    with gl.no_grad():
        eps = model(np.asarray(x, dtype=np.float64), t).numpy().astype(np.float64)
    return -eps / math.sqrt(1 - schedule.alpha_bar[t])


@dataclass
class Trained:
    """A trained model with its schedule, its loss per step and its CPU seconds."""

    model: ScoreNet
    schedule: Schedule
    losses: list = field(default_factory=list)
    seconds: float = 0.0


def train(
    data,
    steps: int = 6000,
    batch: int = 512,
    lr: float = 5e-3,
    T: int = 100,
    beta_max: float = 0.1,
    width: int = 128,
    depth: int = 3,
    seed: int = 0,
    dtype=np.float32,
) -> Trained:
    """Fit ε̂ by Adam on minibatches of `data`: each step draws rows x_0, steps t uniform in 1..T and ε ~ N(0, I),
    and takes one step on diffusion_loss. The learning rate falls along a cosine to lr/20 by the last step."""
    data = np.asarray(data, dtype=np.float64)
    rng = np.random.default_rng(seed)
    schedule = Schedule(T, beta_max=beta_max)
    model = ScoreNet(T, width, depth, seed=seed, dtype=dtype)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    result = Trained(model, schedule)
    start = time.process_time()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        x0 = data[rng.integers(0, len(data), batch)]
        t = rng.integers(1, T + 1, batch)
        eps = rng.standard_normal(x0.shape)
        loss = diffusion_loss(model, x0, t, eps, schedule)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        result.losses.append(loss.item())
        if not math.isfinite(result.losses[-1]):
            raise FloatingPointError(f"the loss became {result.losses[-1]} at step {step + 1}")
    result.seconds = time.process_time() - start
    return result


def sample(trained: Trained, n: int = 1000, seed: int = 0, keep=()) -> np.ndarray | tuple:
    """n draws by the reverse chain from x_T ~ N(0, I) (see the module's docstring), float64 (n, 2).
    keep: steps t whose x_t to return as well, as {t: x_t} in a second value."""
    model, schedule = trained.model, trained.schedule
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    kept = {schedule.T: x.copy()} if schedule.T in keep else {}
    with gl.no_grad():
        for t in range(schedule.T, 0, -1):
            eps = model(x, t).numpy().astype(np.float64)
            a, ab, b = schedule.alpha[t], schedule.alpha_bar[t], schedule.beta[t]
            x = (x - b / math.sqrt(1 - ab) * eps) / math.sqrt(a)
            if t > 1:
                x = x + math.sqrt(schedule.posterior_variance(t)) * rng.standard_normal(x.shape)
            if t - 1 in keep:
                kept[t - 1] = x.copy()
    return (x, kept) if keep else x


# --- metrics ----------------------------------------------------------------------------------------------------


def _squared_distances(a, b) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.maximum(d, 0.0)


def w2(a, b) -> float:
    """The exact 2-Wasserstein distance between two equal-sized point clouds:

        W₂ = √( min over one-to-one matchings π of (1/n) Σ_i ‖a_i − b_π(i)‖² )

    found by scipy.optimize.linear_sum_assignment on the n × n matrix of squared distances."""
    from scipy.optimize import linear_sum_assignment

    if len(a) != len(b):
        raise ValueError(f"w2 matches points one to one: both clouds need the same size, got {len(a)} and {len(b)}")
    cost = _squared_distances(a, b)
    rows, cols = linear_sum_assignment(cost)
    return float(math.sqrt(cost[rows, cols].mean()))


def mmd(a, b, bandwidth: float | None = None) -> float:
    """The RBF-kernel maximum mean discrepancy (the biased V-statistic, so never negative):

        MMD² = mean k(a, a') + mean k(b, b') − 2 mean k(a, b),   k(x, y) = exp(−‖x − y‖² / (2ℓ²))

    with ℓ by the median heuristic unless given: ℓ = the median distance between two points of a ∪ b.
    Returns MMD (the square root)."""
    both = np.concatenate([a, b])
    if bandwidth is None:
        d = _squared_distances(both, both)
        bandwidth = math.sqrt(float(np.median(d[np.triu_indices(len(both), 1)])))
    k = np.exp(-_squared_distances(both, both) / (2 * bandwidth**2))
    n = len(a)
    value = k[:n, :n].mean() + k[n:, n:].mean() - 2 * k[:n, n:].mean()
    return float(math.sqrt(max(value, 0.0)))


def gaussian_baseline(data, n: int, seed: int = 0) -> np.ndarray:
    """n draws of N(mean, covariance) of the data: the best a model that knows only two moments can do."""
    rng = np.random.default_rng(seed)
    data = np.asarray(data, dtype=np.float64)
    return rng.multivariate_normal(data.mean(0), np.cov(data.T), n)


def evaluate(
    name: str,
    steps: int = 6000,
    n_train: int = 10_000,
    n_eval: int = 1000,
    seed: int = 0,
    points=None,
    **options,
) -> dict:
    """Train on n_train points and compare n_eval generated points with n_eval held-out ones.

    For a named set the held-out points and the floor's second sample are fresh draws (other seeds); for a
    CSV (points given) the file is shuffled and split: n_eval held out, the rest trains (and its first n_eval
    are the floor's second sample). Returns the metrics of the model, the floor (data against data) and
    the Gaussian baseline, with the trained model and the samples."""
    if points is None:
        train_set = make_data(name, n_train, seed=seed)
        held_out = make_data(name, n_eval, seed=seed + 1_000_001)
        other = make_data(name, n_eval, seed=seed + 2_000_003)
    else:
        points = np.asarray(points, dtype=np.float64)
        if len(points) < 2 * n_eval:
            n_eval = len(points) // 2
        rng = np.random.default_rng(seed)
        shuffled = points[rng.permutation(len(points))]
        held_out, train_set = shuffled[:n_eval], shuffled[n_eval:]
        other = train_set[:n_eval]
    trained = train(train_set, steps=steps, seed=seed, **options)
    generated = sample(trained, n_eval, seed=seed + 7)
    gaussian = gaussian_baseline(train_set, n_eval, seed=seed + 11)
    rows = {"model": generated, "floor": other, "gaussian": gaussian}
    return {
        "name": name,
        "w2": {label: w2(x, held_out) for label, x in rows.items()},
        "mmd": {label: mmd(x, held_out) for label, x in rows.items()},
        "seconds": trained.seconds,
        "steps": steps,
        "n_eval": n_eval,
        "trained": trained,
        "samples": generated,
        "held_out": held_out,
    }


def format_metrics(result: dict) -> str:
    """The metrics as a small table: W₂ and MMD of the model, the floor and the Gaussian, and model/floor."""
    w, m = result["w2"], result["mmd"]
    lines = [
        f"{result['name']}: {result['n_eval']} generated vs {result['n_eval']} held-out points, "
        f"{result['steps']} training steps in {result['seconds']:.1f} s (CPU)",
        f"{'':>10} {'model':>8} {'floor':>8} {'Gaussian':>9} {'model/floor':>12}",
        f"{'W2':>10} {w['model']:8.3f} {w['floor']:8.3f} {w['gaussian']:9.3f} {w['model'] / w['floor']:12.2f}",
        f"{'MMD (RBF)':>10} {m['model']:8.4f} {m['floor']:8.4f} {m['gaussian']:9.4f} {m['model'] / m['floor']:12.2f}",
    ]
    return "\n".join(lines)


# --- pictures -----------------------------------------------------------------------------------------------------


def score_grid(trained: Trained, t: int, lim: float = 2.5, n: int = 21):
    """The learned score on an n × n grid over [−lim, lim]²: (X, Y, U, V) ready for a quiver plot."""
    xs = np.linspace(-lim, lim, n)
    X, Y = np.meshgrid(xs, xs)
    s = score(trained.model, np.stack([X.ravel(), Y.ravel()], axis=1), t, trained.schedule)
    return X, Y, s[:, 0].reshape(X.shape), s[:, 1].reshape(X.shape)


def plot_score(result: dict, path=None, times=(5, 20, 50)):
    """Held-out data and generated samples side by side, then the learned score ŝ_t(x) as arrows at a few t
    (at small t it points back to the data; at large t, towards the origin like the Gaussian's −x)."""
    from ..plotting import finish, new_figure

    trained = result["trained"]
    times = [t for t in times if t <= trained.schedule.T]
    figure, axes = new_figure(path, nrows=1, ncols=2 + len(times), figsize=(4 * (2 + len(times)), 4))
    panels = [(result["held_out"], "held-out data", "tab:blue"), (result["samples"], "generated", "tab:orange")]
    for ax, (points, title, colour) in zip(axes[:2], panels, strict=True):
        ax.scatter(points[:, 0], points[:, 1], s=3, color=colour)
        ax.set_title(title)
    for ax, t in zip(axes[2:], times, strict=True):
        X, Y, U, V = score_grid(trained, t)
        norm = np.hypot(U, V) + 1e-12
        ax.scatter(result["held_out"][:, 0], result["held_out"][:, 1], s=1, color="lightgrey")
        ax.quiver(X, Y, U / norm, V / norm, np.log(norm), cmap="viridis", pivot="mid", scale=28, width=0.005)
        ax.set_title(f"score ∇ log q_t(x), t = {t} (arrows: direction)")
    for ax in axes:
        ax.set_xlim(-2.6, 2.6)
        ax.set_ylim(-2.6, 2.6)
        ax.set_aspect("equal")
    w = result["w2"]
    figure.suptitle(f"{result['name']}: W2 {w['model']:.3f} (floor {w['floor']:.3f}, Gaussian {w['gaussian']:.3f})")
    return finish(figure, path)


def write_samples(points, path) -> Path:
    """Write points as an x,y CSV with a header line."""
    path = Path(path)
    np.savetxt(path, points, delimiter=",", header="x,y", comments="", fmt="%.6f")
    return path

"""A generative adversarial network on 2-D data: the minimax game, mode collapse, and packing as its fix.

Goodfellow et al. 2014. A generator G(z; θ_G) turns noise z ~ N(0, I) into points; a discriminator
D(x; θ_D) = σ(d(x)) (d: a logit) says how likely x is real. They play

    min_θG max_θD  V(D, G) = E_x[log D(x)] + E_z[log(1 − D(G(z)))]

D ascends V (∂V/∂θ_D points uphill: it separates real from fake). G, in the "non-saturating" form the
paper recommends, descends

    L_G = −E_z[log D(G(z))]

instead of V's second term: both push D(G(z)) up, but log(1 − D) is flat where D(G(z)) ≈ 0 — exactly
when G is bad — while −log D is steep there. With logits d: log D = −softplus(−d), log(1 − D) = −softplus(d),
and the gradients with respect to the logits, for batches of n real and n fake points, are

    ∂V/∂d(x_i) = (1 − D(x_i)) / n      ∂V/∂d(G(z_j)) = −D(G(z_j)) / n      ∂L_G/∂d(G(z_j)) = −(1 − D(G(z_j))) / n

Mode collapse: G may put all its mass on a few of the data's modes; D, judging one point at a time,
cannot see that the fakes lack variety. PacGAN (Lin et al. 2018) packs m points into one input of D
(2m numbers): a pack of m fakes from a collapsed G looks unlike a pack of m real points (which come from
m different modes), so D learns to tell and G is pushed to spread out.

Data and metrics as in VEEGAN (Srivastava et al. 2017) and PacGAN:
    ring   8 Gaussians on a circle of radius 2, σ = 0.02 (VEEGAN's; PacGAN's radius 1, σ = 0.01 is the same
           problem scaled by ½, and the metrics below do not change under scaling)
    grid   25 Gaussians at {−4, −2, 0, 2, 4}², σ = 0.05
    2,500 generated samples; a sample is high quality within 3σ of its nearest mode; a mode is covered when
    at least one high-quality sample is nearest to it.

    Mixture, RING, GRID                           the data (a CSV file: gradlab.data.read_points)
    mode_metrics(samples, mixture)                modes covered, % high quality
    cloud_metrics(samples, data)                  the same idea for any point cloud (no known modes)
    discriminator_value, generator_loss, pack     the game on logits
    train(data, pack=1, ...)                      the training loop -> GANRun
    plot_samples(samples, data, path)             the figure
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import autodiff as gl
from .. import nn, optim

__all__ = [
    "GRID",
    "RING",
    "GANRun",
    "Mixture",
    "cloud_metrics",
    "discriminator",
    "discriminator_value",
    "generator",
    "generator_loss",
    "mode_metrics",
    "pack",
    "plot_samples",
    "train",
]


@dataclass(frozen=True)
class Mixture:
    """An equal-weight mixture of isotropic Gaussians N(centre_k, σ² I) in the plane."""

    name: str
    centres: np.ndarray
    sigma: float

    def sample(self, n: int, rng) -> np.ndarray:
        """n points: a centre chosen uniformly, plus N(0, σ² I) noise. Shape (n, 2)."""
        rng = np.random.default_rng(rng)
        k = rng.integers(len(self.centres), size=n)
        return self.centres[k] + self.sigma * rng.standard_normal((n, 2))


def _ring(count: int = 8, radius: float = 2.0) -> np.ndarray:
    angles = 2 * np.pi * np.arange(count) / count
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


RING = Mixture("ring", _ring(), 0.02)
GRID = Mixture("grid", np.array([(x, y) for x in range(-4, 5, 2) for y in range(-4, 5, 2)], dtype=np.float64), 0.05)
MIXTURES = {"ring": RING, "grid": GRID}


# metrics ---------------------------------------------------------------------------------------------------


def _nearest(points: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the index of its nearest centre and the distance to it."""
    from scipy.spatial import cKDTree

    distance, index = cKDTree(centres).query(points)
    return index, distance


def mode_metrics(samples, mixture: Mixture) -> dict:
    """Modes covered and the share of high-quality samples (VEEGAN/PacGAN):
    high quality  ‖x − c_k(x)‖ ≤ 3σ, c_k(x) the nearest centre;  covered  mode k has ≥ 1 high-quality sample."""
    samples = np.asarray(samples, dtype=np.float64)
    index, distance = _nearest(samples, mixture.centres)
    good = distance <= 3 * mixture.sigma
    covered = np.bincount(index[good], minlength=len(mixture.centres)) > 0
    return {
        "modes": int(covered.sum()),
        "of": len(mixture.centres),
        "high_quality": float(good.mean()),
        "covered": covered,
        "median_distance": float(np.median(distance)) / mixture.sigma,  # in σ: 3 or less is high quality
    }


def cloud_metrics(samples, data) -> dict:
    """For a point cloud without known modes, the same two ideas against the data points themselves, at the
    radius r = 3 × the median distance from a data point to its nearest neighbour:
    high quality  a sample within r of some data point;  coverage  the share of data points with a sample within r."""
    from scipy.spatial import cKDTree

    samples, data = np.asarray(samples, dtype=np.float64), np.asarray(data, dtype=np.float64)
    neighbour = cKDTree(data).query(data, k=2)[0][:, 1]
    r = 3 * float(np.median(neighbour))
    near_data = cKDTree(data).query(samples)[0] <= r
    near_sample = cKDTree(samples).query(data)[0] <= r
    return {"radius": r, "high_quality": float(near_data.mean()), "coverage": float(near_sample.mean())}


# the game ----------------------------------------------------------------------------------------------------


def discriminator_value(real_logits, fake_logits):
    """V = mean log D(x) + mean log(1 − D(G(z))), D = σ(logit), as −softplus(−d_real) − softplus(d_fake).
    The discriminator ascends it."""
    return -gl.mean(gl.softplus(-real_logits)) - gl.mean(gl.softplus(fake_logits))


def generator_loss(fake_logits):
    """L_G = −mean log D(G(z)) = mean softplus(−d_fake), the non-saturating loss the generator descends."""
    return gl.mean(gl.softplus(-fake_logits))


def pack(points, m: int):
    """(n·m, 2) points -> (n, 2m): m consecutive points side by side, one input of a packed discriminator."""
    if m == 1:
        return points
    n = points.shape[0] // m
    return gl.reshape(points[: n * m], (n, 2 * m))


def generator(noise_dim: int = 2, hidden: int = 128, depth: int = 3, seed=None, dtype=np.float32) -> nn.Sequential:
    """G: z ∈ R^noise_dim -> R², depth hidden ReLU layers of width `hidden`."""
    rng = np.random.default_rng(seed)
    sizes = [noise_dim] + [hidden] * depth
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b, seed=int(rng.integers(2**31)), dtype=dtype), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(hidden, 2, init="xavier", seed=int(rng.integers(2**31)), dtype=dtype))


def discriminator(m: int = 1, hidden: int = 128, depth: int = 3, seed=None, dtype=np.float32) -> nn.Sequential:
    """D's logit: a pack of m points (2m numbers) -> one logit, depth hidden LeakyReLU(0.2) layers."""
    rng = np.random.default_rng(seed)
    sizes = [2 * m] + [hidden] * depth
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b, seed=int(rng.integers(2**31)), dtype=dtype), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers, nn.Linear(hidden, 1, init="xavier", seed=int(rng.integers(2**31)), dtype=dtype))


@dataclass
class GANRun:
    """A trained pair and what happened on the way."""

    G: nn.Module
    D: nn.Module
    m: int
    noise_dim: int
    steps: int
    seconds: float
    history: list = field(default_factory=list)  # (step, value V, generator loss)

    def sample(self, n: int = 2500, seed=0) -> np.ndarray:
        """n points from the generator, float64, shape (n, 2)."""
        z = np.random.default_rng(seed).standard_normal((n, self.noise_dim)).astype(self._dtype())
        with gl.no_grad():
            return np.asarray(self.G(gl.Tensor(z)).data, dtype=np.float64)

    def _dtype(self):
        return next(iter(self.G.parameters())).data.dtype


def train(
    data,
    m: int = 1,
    steps: int = 3000,
    batch: int = 256,
    lr: float = 2e-4,
    seed: int = 0,
    hidden: int = 128,
    noise_dim: int = 2,
    dtype=np.float32,
    log_every: int = 100,
    lr_end: float = 0.05,
) -> GANRun:
    """Alternate one ascent step of D on V and one descent step of G on L_G, Adam (β₁ = 0.5) for both,
    the learning rate falling linearly from lr to lr·lr_end (default lr/20) over the run.

    data: a Mixture (fresh samples every step) or an (N, 2) array (mini-batches drawn with replacement).
    m: how many points the discriminator sees in one pack (1 is the vanilla GAN). A batch is `batch` packs,
    so D sees batch·m real and batch·m fake points a step."""
    rng = np.random.default_rng(seed)
    G = generator(noise_dim, hidden, seed=rng.integers(2**31), dtype=dtype)
    D = discriminator(m, hidden, seed=rng.integers(2**31), dtype=dtype)
    opt_g = optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    d_params = list(D.parameters())
    points = None if isinstance(data, Mixture) else np.asarray(data, dtype=np.float64)
    n = batch * m
    history = []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        # the learning rate falls linearly to lr·lr_end: the late small steps pull samples onto the modes
        opt_d.lr = opt_g.lr = lr * (1 - (1 - lr_end) * (step - 1) / steps)
        real = data.sample(n, rng) if points is None else points[rng.integers(len(points), size=n)]
        real = gl.Tensor(real.astype(dtype))
        with gl.no_grad():
            fake = G(gl.Tensor(rng.standard_normal((n, noise_dim)).astype(dtype)))
        # D ascends V: the optimizers descend, so D's optimizer is given −V.
        value = discriminator_value(D(pack(real, m)), D(pack(gl.Tensor(fake.data), m)))
        opt_d.zero_grad()
        (-value).backward()
        opt_d.step()
        # G descends L_G through a D held fixed (D's gradients from this pass are thrown away).
        for p in d_params:
            p.requires_grad = False
        loss = generator_loss(D(pack(G(gl.Tensor(rng.standard_normal((n, noise_dim)).astype(dtype))), m)))
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        for p in d_params:
            p.requires_grad = True
        if step % log_every == 0 or step == steps:
            history.append((step, float(value.data), float(loss.data)))
    return GANRun(G, D, m, noise_dim, steps, time.perf_counter() - start, history)


# the figure ------------------------------------------------------------------------------------------------


def plot_samples(samples, data, path, title: str = "", centres=None):
    """Generated samples (orange) over the data (grey, or the mixture's centres as crosses) to `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(data[:, 0], data[:, 1], s=4, c="0.6", alpha=0.5, label="data", linewidths=0)
    if centres is not None:
        ax.scatter(centres[:, 0], centres[:, 1], marker="x", c="k", s=30, label="modes")
    ax.scatter(samples[:, 0], samples[:, 1], s=3, c="tab:orange", alpha=0.6, label="generated", linewidths=0)
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8, markerscale=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

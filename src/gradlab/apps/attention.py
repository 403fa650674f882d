"""Why attention divides its scores by √d_k: the experiment, the softmax's Jacobian, and a model that needs it.

Vaswani et al. 2017, §3.2.1 and footnote 4: if q and k have independent entries of mean 0 and variance 1,
q·k = Σ_{i=1..d_k} q_i k_i has mean 0 and variance d_k. The scores' spread grows like √d_k, the softmax
over them saturates (one weight → 1, the rest → 0), and its Jacobian

    J = ∂s/∂x = diag(s) − s sᵀ          (s = softmax(x); J_ij = s_i (δ_ij − s_j))

goes to 0 with it: every gradient that reaches the queries and keys is J times something. Dividing the
scores by √d_k keeps their variance at 1 for every d_k, and the Jacobian with it.

    softmax_jacobian(x)         J at x, written out (equal to gl.jacrev(gl.softmax) to 1e-12)
    scaling_experiment()        medians over random draws, per d_k, unscaled and scaled
    format_table(rows), plot_scaling(rows, path)
    train_retrieval(scale)      key–value retrieval at d_k = 512: learns with the scaling, stalls without
"""

from __future__ import annotations

import math
import time

import numpy as np

from .. import autodiff as gl
from .. import nn, optim

__all__ = [
    "D_KS",
    "RetrievalModel",
    "format_table",
    "plot_scaling",
    "retrieval_batch",
    "scaling_experiment",
    "softmax",
    "softmax_jacobian",
    "train_retrieval",
]

D_KS = (4, 16, 64, 256, 1024, 4096)
STATISTICS = {
    "score_std": "std of scores",
    "entropy": "entropy / ln n",
    "max_weight": "largest weight",
    "jacobian_norm": "‖J‖_F",
}


def softmax(x: np.ndarray) -> np.ndarray:
    """s_i = e^(x_i − max x) / Σ_j e^(x_j − max x) along the last axis (shifted, so no overflow)."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_jacobian(x) -> np.ndarray:
    """J = diag(s) − s sᵀ, s = softmax(x), for a vector x of n scores: the n × n matrix J_ij = ∂s_i/∂x_j.

    From s_i = e^(x_i) / Σ e^(x_k): ∂s_i/∂x_j = s_i δ_ij − s_i s_j (the quotient rule). J is symmetric,
    each row sums to 0 (the weights always sum to 1) and J → 0 as s approaches one-hot."""
    x = np.asarray(x.data if isinstance(x, gl.Tensor) else x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"softmax_jacobian takes one vector of scores, got shape {x.shape}")
    s = softmax(x)
    return np.diag(s) - np.outer(s, s)


def _statistics(scores: np.ndarray) -> dict:
    """The four numbers of one row of scores: their spread, and the softmax's entropy, peak and ‖J‖_F."""
    s = softmax(scores)
    n = scores.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.sum(np.where(s > 0, s * np.log(s), 0.0))  # 0 · ln 0 = 0
    return {
        "score_std": float(scores.std()),
        "entropy": float(entropy / math.log(n)),
        "max_weight": float(s.max()),
        "jacobian_norm": float(np.linalg.norm(softmax_jacobian(scores))),
    }


def scaling_experiment(d_ks=D_KS, keys: int = 64, draws: int = 200, seed: int = 0) -> list[dict]:
    """For each d_k: draw q ~ N(0, I_dk) and `keys` keys k_j ~ N(0, I_dk), score x_j = q·k_j (unscaled) or
    q·k_j / √d_k (scaled), and take the median over `draws` draws of: the scores' standard deviation,
    the softmax's entropy / ln n (1 = uniform, 0 = one-hot), its largest weight, and ‖J‖_F.

    Returns one dict per d_k: {"d_k": d_k, "unscaled": {statistic: median}, "scaled": {...}}."""
    if keys < 2 or draws < 1:
        raise ValueError(f"need at least 2 keys and 1 draw, got keys={keys}, draws={draws}")
    rng = np.random.default_rng(seed)
    rows = []
    for d_k in d_ks:
        d_k = int(d_k)
        if d_k < 1:
            raise ValueError(f"d_k must be a positive whole number, got {d_k}")
        found = {"unscaled": [], "scaled": []}
        for _ in range(draws):
            q = rng.standard_normal(d_k)
            k = rng.standard_normal((keys, d_k))
            scores = k @ q
            found["unscaled"].append(_statistics(scores))
            found["scaled"].append(_statistics(scores / math.sqrt(d_k)))
        row = {"d_k": d_k}
        for arm, stats in found.items():
            row[arm] = {name: float(np.median([s[name] for s in stats])) for name in STATISTICS}
        rows.append(row)
    return rows


def format_table(rows: list[dict], keys: int = 64, draws: int = 200) -> str:
    """The experiment as a text table: one line per d_k, the four medians unscaled ‖ scaled.

    Columns: std = the scores' standard deviation, H/ln n = the softmax's entropy over its largest value,
    max s = the largest weight, ‖J‖_F = the Frobenius norm of the softmax's Jacobian."""
    names = list(STATISTICS)
    head = " ".join(f"{title:>9}" for title in ("std", "H/ln n", "max s", "‖J‖_F"))
    lines = [
        f"softmax over {keys} scores q·k, q, k ~ N(0, 1) entry by entry; medians over {draws} draws",
        f"{'':>6}  {'unscaled: q·k':^{len(head)}}  ‖  {'scaled: q·k / √d_k':^{len(head)}}".rstrip(),
        f"{'d_k':>6}  {head}  ‖  {head}",
    ]
    for row in rows:
        cells = [" ".join(f"{row[arm][n]:>9.3g}" for n in names) for arm in ("unscaled", "scaled")]
        lines.append(f"{row['d_k']:>6}  {cells[0]}  ‖  {cells[1]}")
    return "\n".join(lines)


def plot_scaling(rows: list[dict], path=None, keys: int = 64):
    """Four panels against d_k (log scale): each statistic unscaled and scaled. Returns the figure."""
    from ..plotting import finish, new_figure

    figure, axes = new_figure(path, nrows=2, ncols=2, figsize=(10, 7))
    d_ks = [row["d_k"] for row in rows]
    for ax, (name, label) in zip(axes.ravel(), STATISTICS.items(), strict=True):
        for arm, style in (("unscaled", "o-"), ("scaled", "s-")):
            ax.plot(d_ks, [row[arm][name] for row in rows], style, label=arm)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("d_k")
        ax.set_title(label)
        ax.grid(True, alpha=0.3)
    axes[0, 0].set_yscale("log")
    axes[1, 1].set_yscale("log")
    axes[0, 0].plot(d_ks, np.sqrt(d_ks), ":", color="grey", label="√d_k")
    axes[0, 0].legend()
    figure.suptitle(f"softmax(q·k) over {keys} keys: without 1/√d_k it saturates and its Jacobian vanishes")
    return finish(figure, path)


# --- a model that needs the scaling: key–value retrieval --------------------------------------------------


def retrieval_batch(n: int, pairs: int, key_count: int, value_count: int, rng):
    """n examples of the task: `pairs` distinct keys (ids < key_count), a value (id < value_count) for each,
    and a query that is one of the keys. The answer is the query's value: (keys, values, query, answer)."""
    if pairs > key_count:
        raise ValueError(f"{pairs} distinct keys need a vocabulary of at least {pairs}, got {key_count}")
    keys = np.argsort(rng.random((n, key_count)), axis=1)[:, :pairs]
    values = rng.integers(0, value_count, (n, pairs))
    which = rng.integers(0, pairs, n)
    rows = np.arange(n)
    return keys, values, keys[rows, which], values[rows, which]


class RetrievalModel(nn.Module):
    """One attention head reads the answer: query = E[query key], keys = E[key ids], values = E[key ids] +
    V[value ids]; logits = (attention output) W_out + b. Learning means making q·k largest for the key that
    equals the query, which only a gradient through the softmax can do.

    W_q and W_k start as N(0, 1/d_model), so q and k have entries of variance ≈ 1: the paper's setting."""

    def __init__(self, d_k: int, scale, key_count: int, value_count: int, d_model: int = 16, seed: int = 0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.key_embedding = nn.Embedding(key_count, d_model, seed=seed)
        self.value_embedding = nn.Embedding(value_count, d_model, seed=seed + 1)
        self.attention = nn.MultiHeadAttention(d_model, heads=1, d_k=d_k, scale=scale, seed=seed + 2)
        for layer in (self.attention.w_q, self.attention.w_k):
            layer.weight.data[...] = rng.normal(0, 1 / math.sqrt(d_model), layer.weight.shape)
        self.out = nn.Linear(d_model, value_count, seed=seed + 3)

    def forward(self, keys, values, query):
        k = self.key_embedding(keys)
        q = self.key_embedding(np.asarray(query)[:, None])
        read = self.attention(q, k, k + self.value_embedding(values))
        return self.out(read[:, 0])


def train_retrieval(
    scale,
    d_k: int = 512,
    steps: int = 150,
    pairs: int = 32,
    key_count: int = 64,
    value_count: int = 8,
    batch: int = 32,
    lr: float = 0.5,
    seed: int = 0,
    test_size: int = 2000,
    optimizer: str = "sgd",
) -> dict:
    """Train RetrievalModel and score it on fresh examples. Plain SGD by default, so each step is the gradient
    itself; optimizer="adam" divides each step by the gradient's running size, which hides a vanishing
    gradient in part (benchmarks/attention.py measures how much).
    Returns {"accuracy", "chance", "losses" (one per step), "seconds" (CPU), "scale", "d_k"}."""
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    rng = np.random.default_rng(seed)
    model = RetrievalModel(d_k, scale, key_count, value_count, seed=seed)
    optimizer = (optim.SGD if optimizer == "sgd" else optim.Adam)(model.parameters(), lr=lr)
    losses = []
    start = time.process_time()
    for _ in range(steps):
        keys, values, query, answer = retrieval_batch(batch, pairs, key_count, value_count, rng)
        loss = gl.cross_entropy(model(keys, values, query), answer)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    seconds = time.process_time() - start
    keys, values, query, answer = retrieval_batch(test_size, pairs, key_count, value_count, rng)
    with gl.no_grad():
        predicted = model(keys, values, query).numpy().argmax(axis=1)
    return {
        "accuracy": float(np.mean(predicted == answer)),
        "chance": 1 / value_count,
        "losses": losses,
        "seconds": seconds,
        "scale": scale,
        "d_k": d_k,
    }

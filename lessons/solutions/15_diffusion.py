"""Reference solutions for lessons/15_diffusion.ipynb (one block per exercise cell)."""

import numpy as np

from gradlab.exercises import check


# exercise: diffusion.q_sample
def q_sample(x0, t, eps, alpha_bar):
    """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε: t noising steps in one."""
    a = alpha_bar[t]
    return np.sqrt(a) * x0 + np.sqrt(1 - a) * eps


check("diffusion.q_sample", q_sample)


# exercise: diffusion.gaussian_score
def gaussian_score(x, mu, sigma):
    """∇ₓ log N(x; μ, σ² I) = −(x − μ)/σ²."""
    return -(x - mu) / sigma**2


check("diffusion.gaussian_score", gaussian_score)


# exercise: diffusion.reverse_mean
def reverse_mean(x_t, eps_hat, t, beta, alpha_bar):
    """The mean of x_(t−1) given x_t: (x_t − β_t/√(1 − ᾱ_t) ε̂) / √α_t, α_t = 1 − β_t."""
    return (x_t - beta[t] / np.sqrt(1 - alpha_bar[t]) * eps_hat) / np.sqrt(1 - beta[t])


check("diffusion.reverse_mean", reverse_mean)

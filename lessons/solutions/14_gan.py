"""Reference solutions for lessons/14_gan.ipynb (one block per exercise cell)."""

import numpy as np

from gradlab.exercises import check


# exercise: gan.discriminator_value
def discriminator_value(real_logits, fake_logits):
    """V = mean log σ(r) + mean log(1 − σ(f)), with log σ(d) = −log(1 + e^(−d)) and log(1 − σ(d)) = −log(1 + e^d)."""
    return -np.mean(np.logaddexp(0, -real_logits)) - np.mean(np.logaddexp(0, fake_logits))


check("gan.discriminator_value", discriminator_value)


# exercise: gan.generator_gradient
def generator_gradient(fake_logits):
    """∂L_G/∂f_j for L_G = −mean log σ(f): −(1 − σ(f_j)) / n."""
    n = len(fake_logits)
    return -(1 - 1 / (1 + np.exp(-fake_logits))) / n


check("gan.generator_gradient", generator_gradient)


# exercise: gan.mode_coverage
def mode_coverage(samples, centres, sigma):
    """(modes with at least one sample within 3σ of it as its nearest mode, share of samples within 3σ)."""
    distance = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    nearest = distance.argmin(axis=1)
    good = distance.min(axis=1) <= 3 * sigma
    return len(np.unique(nearest[good])), float(np.mean(good))


check("gan.mode_coverage", mode_coverage)

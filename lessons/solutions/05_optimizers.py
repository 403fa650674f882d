"""Reference solutions of lesson 5 (optimizers): each block replaces its exercise cell."""

import numpy as np

from gradlab.exercises import check


# exercise: optimizers.momentum_step
def momentum_step(x, g, v, lr, mu):
    """Heavy ball: v ← mu·v + g, then x ← x − lr·v; return (x, v)."""
    v = mu * v + g
    return x - lr * v, v


check("optimizers.momentum_step", momentum_step)


# exercise: optimizers.rmsprop_step
def rmsprop_step(x, g, s, lr, rho, eps):
    """RMSProp: s ← rho·s + (1 − rho)·g², then x ← x − lr·g / (√s + eps); return (x, s)."""
    s = rho * s + (1 - rho) * g**2
    return x - lr * g / (np.sqrt(s) + eps), s


check("optimizers.rmsprop_step", rmsprop_step)


# exercise: optimizers.adam_step
def adam_step(x, g, m, v, t, lr, beta1, beta2, eps):
    """Adam at step t (1, 2, ...): moving averages m of g and v of g², bias-corrected; return (x, m, v)."""
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return x - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


check("optimizers.adam_step", adam_step)

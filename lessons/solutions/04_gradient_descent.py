"""Reference solutions of lesson 4 (gradient descent): each block replaces its exercise cell."""

import numpy as np

from gradlab.exercises import check


# exercise: descent.step
def step(x, g, lr):
    """One step of gradient descent: x_new = x − lr·g."""
    return x - lr * g


check("descent.step", step)


# exercise: descent.run
def run(grad, x0, lr=0.1, tol=1e-6, max_steps=10_000):
    """Step x ← x − lr·∇f(x) until ‖∇f(x)‖ <= tol or max_steps updates; return (x, steps)."""
    x = np.array(x0, dtype=float)
    for steps in range(max_steps):
        g = grad(x)
        if np.linalg.norm(g) <= tol:
            return x, steps
        x = x - lr * g
    return x, max_steps


check("descent.run", run)


# exercise: descent.training_loop
def training_loop(X, y, lr=0.1, epochs=500):
    """Fit y ≈ X·w + b by gradient descent on L = mean((X·w + b − y)²), from w = 0, b = 0."""
    n, d = X.shape
    w, b = np.zeros(d), 0.0
    for _ in range(epochs):
        r = X @ w + b - y
        w = w - lr * (2 / n) * (X.T @ r)
        b = b - lr * 2 * np.mean(r)
    return w, b


check("descent.training_loop", training_loop)

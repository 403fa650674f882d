"""Reference solutions for lessons/07_going_deeper.ipynb (one block per exercise cell)."""

import numpy as np

from gradlab.exercises import check


# exercise: deeper.jacobian
def my_jacobian(x):
    """J[i, j] = ∂fᵢ/∂xⱼ of f(x) = (x₀²·x₁, sin(x₀·x₁), x₀·e^(x₁))."""
    x0, x1 = x
    return np.array(
        [
            [2 * x0 * x1, x0**2],
            [x1 * np.cos(x0 * x1), x0 * np.cos(x0 * x1)],
            [np.exp(x1), x0 * np.exp(x1)],
        ]
    )


check("deeper.jacobian", my_jacobian)


# exercise: deeper.hessian_2x2
def my_hessian(x, y):
    """H of f(x, y) = x³·y + sin(y)."""
    return np.array(
        [
            [6 * x * y, 3 * x**2],
            [3 * x**2, -np.sin(y)],
        ]
    )


check("deeper.hessian_2x2", my_hessian)


# exercise: deeper.newton_step
def newton_step(x, g, H):
    """One Newton step: x − H⁻¹·g, with H⁻¹·g found by solving H·d = g."""
    d = np.linalg.solve(H, g)
    return x - d


check("deeper.newton_step", newton_step)

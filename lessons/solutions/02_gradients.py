"""Reference solutions for lessons/02_gradients.ipynb: each block replaces its exercise cell."""

import numpy as np

from gradlab.exercises import check


# exercise: gradients.partial_x
def df_dx(x, y):
    """∂/∂x [x²y + 3xy²]"""
    return 2 * x * y + 3 * y**2


check("gradients.partial_x", df_dx)


# exercise: gradients.gradient
def grad_f(x, y):
    """∇f for f(x, y) = x²y + 3xy², as np.array([∂f/∂x, ∂f/∂y])"""
    return np.array([2 * x * y + 3 * y**2, x**2 + 6 * x * y])


check("gradients.gradient", grad_f)


# exercise: gradients.directional_derivative
def directional(grad, p, v):
    """∇f(p) · v/‖v‖"""
    return grad(p) @ v / np.linalg.norm(v)


check("gradients.directional_derivative", directional)


# exercise: gradients.profit_gradient
def profit_gradient(p, s, a, b, k, c):
    """[∂profit/∂p, ∂profit/∂s] for profit = (p - c)(a - b p + k ln(1 + s)) - s"""
    dp = a - 2 * b * p + b * c + k * np.log(1 + s)
    ds = (p - c) * k / (1 + s) - 1
    return np.array([dp, ds])


check("gradients.profit_gradient", profit_gradient)

"""Reference solutions for lessons/01_derivatives.ipynb: each block replaces its exercise cell."""

import numpy as np

from gradlab.exercises import check


# exercise: derivatives.central_difference
def central_difference(f, x, h):
    """(f(x + h) - f(x - h)) / 2h"""
    return (f(x + h) - f(x - h)) / (2 * h)


check("derivatives.central_difference", central_difference)


# exercise: derivatives.product_rule
def d_product(x):
    """d/dx [x² · sin x]"""
    return 2 * x * np.sin(x) + x**2 * np.cos(x)


check("derivatives.product_rule", d_product)


# exercise: derivatives.chain_rule
def d_chain(x):
    """d/dx sin(x²)"""
    return np.cos(x**2) * 2 * x


check("derivatives.chain_rule", d_chain)


# exercise: derivatives.best_price
def best_price(a, b, c):
    """The price p where profit'(p) = 0 for profit(p) = (p - c)(a - b p)."""
    return (a + b * c) / (2 * b)


check("derivatives.best_price", best_price)

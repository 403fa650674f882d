"""Optimisation: how derivatives turn into steps downhill.

second_order: Newton's method (curvature from the Hessian) and Gauss–Newton for least squares.
"""

from .second_order import OptimizeResult, gauss_newton, newton

__all__ = ["OptimizeResult", "gauss_newton", "newton"]

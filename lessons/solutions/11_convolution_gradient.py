"""Reference solutions for lessons/11_convolution_gradient.ipynb (one block per exercise cell)."""

import numpy as np
from scipy.signal import convolve2d, correlate2d

from gradlab.exercises import check


# exercise: conv.weight_gradient
def weight_gradient(x, grad_y):
    """∂L/∂W = correlate(X, G, "valid") for Y = correlate(X, W, "valid"), G = ∂L/∂Y."""
    return correlate2d(x, grad_y, mode="valid")


check("conv.weight_gradient", weight_gradient)


# exercise: conv.input_gradient
def input_gradient(grad_y, w):
    """∂L/∂X = convolve(G, W, "full")."""
    return convolve2d(grad_y, w, mode="full")


check("conv.input_gradient", input_gradient)


# exercise: conv.strided_input_gradient
def strided_input_gradient(grad_y, w, x_shape, stride):
    """∂L/∂X = convolve(dilate(G, s), W, "full"), then zeros for the rows and columns the filter never reached."""
    oh, ow = grad_y.shape
    dilated = np.zeros((stride * (oh - 1) + 1, stride * (ow - 1) + 1))
    dilated[::stride, ::stride] = grad_y
    full = convolve2d(dilated, w, mode="full")
    grad_x = np.zeros(x_shape)
    grad_x[: full.shape[0], : full.shape[1]] = full
    return grad_x


check("conv.strided_input_gradient", strided_input_gradient)

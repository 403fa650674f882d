"""gradlab: calculus for machine learning as working software.

    import gradlab as gl
    x = gl.Tensor([1.0, 2.0], requires_grad=True)
    y = (x ** 2).sum()
    y.backward()          # x.grad == [2, 4]

Every op is a function here (gl.exp, gl.matmul, gl.softmax, gl.conv2d, gl.cross_entropy, ...)
that accepts Tensors, floats and arrays; `gl.grad(f)` differentiates plain Python functions.
"""

from .autodiff import *  # noqa: F403
from .autodiff import __all__ as _autodiff_all

__version__ = "0.1.0"
__all__ = list(_autodiff_all) + ["__version__"]

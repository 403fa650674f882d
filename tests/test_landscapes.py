"""The landscapes' stored minima are what Newton's method finds: stationary, to full precision."""

import numpy as np
import pytest

import gradlab as gl
from gradlab.landscapes import LANDSCAPES, get_landscape
from gradlab.optim.second_order import newton

STORED = [(name, m) for name in LANDSCAPES for m in get_landscape(name).minima]


@pytest.mark.parametrize(("name", "minimum"), STORED, ids=[f"{n}{m}" for n, m in STORED])
def test_stored_minimum_is_where_newton_lands(name, minimum):
    f = get_landscape(name).f
    start = np.asarray(minimum) + np.array([1e-3, -1e-3])
    found = newton(f, start, tol=1e-12)
    assert found.converged, found.message
    assert np.linalg.norm(gl.grad(f)(np.asarray(minimum, dtype=np.float64))) < 1e-9
    np.testing.assert_allclose(found.x, minimum, rtol=0, atol=1e-10)


def test_stored_minima_are_plain_floats():
    for name, minimum in STORED:
        assert all(type(v) is float for v in minimum), (name, minimum)


def test_landscapes_need_nothing_from_optim():
    import ast
    import inspect

    import gradlab.landscapes

    tree = ast.parse(inspect.getsource(gradlab.landscapes))
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not any("optim" in m for m in imported), imported

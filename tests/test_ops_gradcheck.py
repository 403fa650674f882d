"""Every registered op against central finite differences (float64), on many shapes.

Each op runs through gradcheck in both modes (reverse and forward) and to second order, and
its two rules must agree: ⟨u, J v⟩ from a forward pass equals ⟨uᵀ J, v⟩ from a backward pass.
`CASES` must name every class in `Function.registry`: adding an op without cases here fails
`test_every_op_has_cases`, so no op can skip the checks.
"""

import numpy as np
import pytest

import gradlab as gl
from gradlab.autodiff.tensor import Function

rng = np.random.default_rng(0)
SHAPES = {"scalar": (), "vector": (4,), "matrix": (3, 4), "batched": (2, 3, 4)}


def normal(*shape):
    return rng.standard_normal(shape)


def positive(*shape):
    return rng.uniform(0.5, 2.0, shape)


def away_from_zero(*shape):
    """Values with |x| >= 0.2, so a finite-difference step never crosses a kink at 0."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 2.0, shape)


def distinct(*shape):
    """A random permutation of well-separated values: max/min have no near-ties."""
    n = int(np.prod(shape)) if shape else 1
    return (rng.permutation(n) * 0.37 - n * 0.15).reshape(shape)


def unary_cases(fn, sample):
    return [(name, fn, [sample(*shape)]) for name, shape in SHAPES.items()]


def binary_cases(fn, sample_a, sample_b=None):
    sample_b = sample_b or sample_a
    cases = [(name, fn, [sample_a(*s), sample_b(*s)]) for name, s in SHAPES.items()]
    cases.append(("broadcast (3,1)·(1,4)", fn, [sample_a(3, 1), sample_b(1, 4)]))
    cases.append(("broadcast (2,3,4)·(4,)", fn, [sample_a(2, 3, 4), sample_b(4)]))
    cases.append(("broadcast scalar·matrix", fn, [sample_a(), sample_b(3, 4)]))
    return cases


def reduction_cases(op, sample=normal):
    cases = []
    for axis in (None, 0, -1, (0, 2)):
        for keepdims in (False, True):
            cases.append(
                (f"axis={axis} keepdims={keepdims}", lambda x, a=axis, k=keepdims: op(x, a, k), [sample(2, 3, 4)])
            )
    cases.append(("vector", lambda x: op(x, None, False), [sample(5)]))
    cases.append(("scalar", lambda x: op(x, None, False), [sample()]))
    return cases


# At a tie the first derivative jumps (it is split evenly there), so only the first order is checked.
FIRST_ORDER = {"order": 1}


@gl.custom_vjp
def cube_with_rule(x):
    return x**3


cube_with_rule.defvjp(lambda x: (x**3, x), lambda x, g: (3 * x**2 * g,))


CASES = {
    "Add": binary_cases(gl.add, normal),
    "Sub": binary_cases(gl.sub, normal),
    "Mul": binary_cases(gl.mul, normal),
    "Div": binary_cases(gl.div, normal, away_from_zero),
    "Neg": unary_cases(gl.neg, normal),
    "Power": binary_cases(gl.power, positive, normal)
    + [("integer exponent of negatives", lambda x: x**3, [normal(3, 4)])],
    "Atan2": binary_cases(gl.atan2, normal)
    + [("all four quadrants", gl.atan2, [np.array([1.0, 1.0, -1.0, -1.0]), np.array([2.0, -2.0, 2.0, -2.0])])],
    "Maximum": binary_cases(gl.maximum, normal) + [("tie", gl.maximum, [np.ones(3), np.ones(3)], FIRST_ORDER)],
    "Minimum": binary_cases(gl.minimum, normal),
    "Where": [
        ("matrix", lambda a, b: gl.where(np.arange(12).reshape(3, 4) % 3 == 0, a, b), [normal(3, 4), normal(3, 4)]),
        ("broadcast", lambda a, b: gl.where(np.array([True, False, True, False]), a, b), [normal(3, 4), normal(4)]),
    ],
    "AsType": [("float64 to float64", lambda x: gl.astype(x, np.float64) * x, [normal(3)])],
    "Exp": unary_cases(gl.exp, normal),
    "Log": unary_cases(gl.log, positive),
    "Sqrt": unary_cases(gl.sqrt, positive),
    "Abs": unary_cases(gl.abs, away_from_zero),
    "Sin": unary_cases(gl.sin, normal),
    "Cos": unary_cases(gl.cos, normal),
    "Tan": unary_cases(gl.tan, lambda *s: rng.uniform(-1.2, 1.2, s)),
    "Tanh": unary_cases(gl.tanh, normal),
    "Sigmoid": unary_cases(gl.sigmoid, lambda *s: 4 * normal(*s)),
    "Relu": unary_cases(gl.relu, away_from_zero),
    "LeakyRelu": unary_cases(lambda x: gl.leaky_relu(x, 0.1), away_from_zero),
    "Softplus": unary_cases(gl.softplus, lambda *s: 4 * normal(*s)),
    "Clip": unary_cases(lambda x: gl.clip(x, -0.5, 0.7), lambda *s: distinct(*s) + 0.011)
    + [("low only", lambda x: gl.clip(x, low=0.1), [away_from_zero(3, 4)])],
    "Sum": reduction_cases(gl.sum),
    "Mean": reduction_cases(gl.mean),
    "Max": reduction_cases(gl.max, distinct)
    + [("ties", lambda x: gl.max(x, axis=1), [np.array([[1.0, 3, 3]])], FIRST_ORDER)],
    "Min": reduction_cases(gl.min, distinct),
    "LogSumExp": reduction_cases(gl.logsumexp),
    "Softmax": [(f"axis={a}", lambda x, a=a: gl.softmax(x, a), [normal(2, 3, 4)]) for a in (0, 1, -1)]
    + [("vector", gl.softmax, [normal(5)])],
    "LogSoftmax": [(f"axis={a}", lambda x, a=a: gl.log_softmax(x, a), [normal(2, 3, 4)]) for a in (0, -1)]
    + [("vector", gl.log_softmax, [normal(5)])],
    "Norm": reduction_cases(gl.norm),
    "Reshape": [
        ("matrix to vector", lambda x: gl.reshape(x, (-1,)), [normal(3, 4)]),
        ("batched", lambda x: gl.reshape(x, (4, 6)), [normal(2, 3, 4)]),
    ],
    "Transpose": [
        ("matrix", gl.transpose, [normal(3, 4)]),
        ("permute", lambda x: gl.permute(x, 2, 0, 1), [normal(2, 3, 4)]),
    ],
    "BroadcastTo": [
        ("row to matrix", lambda x: gl.broadcast_to(x, (3, 4)), [normal(1, 4)]),
        ("new axes", lambda x: gl.broadcast_to(x, (2, 3, 4)), [normal(3, 1)]),
    ],
    "GetItem": [
        ("slice", lambda x: x[1:, ::2], [normal(3, 4)]),
        ("int and None", lambda x: x[1, None, :], [normal(3, 4)]),
        ("repeated integer array", lambda x: x[np.array([0, 2, 0, 0])], [normal(3, 4)]),
        ("boolean mask", lambda x: x[np.array([[True, False, True, True]] * 3)], [normal(3, 4)]),
        ("ellipsis", lambda x: x[..., 1], [normal(2, 3, 4)]),
    ],
    "IndexAdd": [
        ("repeated indices", lambda v: gl.scatter_add(v, np.array([0, 2, 0]), (4, 2)), [normal(3, 2)]),
        ("slice", lambda v: gl.scatter_add(v, (slice(1, 3), 0), (4, 2)), [normal(2)]),
    ],
    "Concatenate": [
        ("axis 0", lambda a, b: gl.concatenate([a, b], 0), [normal(2, 4), normal(3, 4)]),
        ("axis -1", lambda a, b: gl.concatenate([a, b], -1), [normal(2, 3), normal(2, 1)]),
    ],
    "Stack": [
        ("axis 0", lambda a, b: gl.stack([a, b]), [normal(3, 4), normal(3, 4)]),
        ("axis -1", lambda a, b: gl.stack([a, b], -1), [normal(3), normal(3)]),
    ],
    "Pad": [
        ("matrix", lambda x: gl.pad(x, ((1, 0), (2, 1))), [normal(3, 4)]),
        ("value", lambda x: gl.pad(x, 1, value=3.0), [normal(2, 2)]),
    ],
    "Matmul": [
        ("matrix·matrix", gl.matmul, [normal(3, 4), normal(4, 2)]),
        ("vector·matrix", gl.matmul, [normal(4), normal(4, 2)]),
        ("matrix·vector", gl.matmul, [normal(3, 4), normal(4)]),
        ("vector·vector", gl.matmul, [normal(4), normal(4)]),
        ("batched", gl.matmul, [normal(2, 3, 4), normal(2, 4, 5)]),
        ("batch-broadcast", gl.matmul, [normal(2, 3, 4), normal(4, 5)]),
        ("vector·batched", gl.matmul, [normal(4), normal(2, 4, 3)]),
        ("batched·vector", gl.matmul, [normal(2, 3, 4), normal(4)]),
    ],
    "Tensordot": [
        ("axes=1", lambda a, b: gl.tensordot(a, b, 1), [normal(2, 3), normal(3, 4)]),
        (
            "paired axes out of order",
            lambda a, b: gl.tensordot(a, b, ([0, 2], [1, 0])),
            [normal(2, 3, 4), normal(4, 2, 5)],
        ),
        ("full contraction", lambda a, b: gl.tensordot(a, b, 2), [normal(2, 3), normal(2, 3)]),
    ],
    "Linear": [
        ("batch", gl.linear, [normal(5, 3), normal(3, 2), normal(2)]),
        ("no bias", gl.linear, [normal(5, 3), normal(3, 2)]),
        ("single row", gl.linear, [normal(3), normal(3, 4), normal(4)]),
        ("batched rows", gl.linear, [normal(2, 5, 3), normal(3, 2), normal(2)]),
    ],
    "Conv2d": [
        ("3x3, padding 1", lambda x, w: gl.conv2d(x, w, padding=1), [normal(2, 2, 5, 5), normal(3, 2, 3, 3)]),
        ("stride 2", lambda x, w: gl.conv2d(x, w, stride=2), [normal(1, 2, 6, 5), normal(2, 2, 2, 3)]),
        (
            "with bias",
            lambda x, w, b: gl.conv2d(x, w, b, stride=2, padding=1),
            [normal(2, 1, 5, 5), normal(2, 1, 3, 3), normal(2)],
        ),
    ],
    "Unfold": [
        ("3x3 stride 1", lambda x: gl.unfold(x, (3, 3)), [normal(1, 2, 4, 5)]),
        ("2x3 stride 2 padding 1", lambda x: gl.unfold(x, (2, 3), 2, 1), [normal(2, 1, 5, 5)]),
    ],
    "Fold": [
        ("3x3 stride 1", lambda c: gl.fold(c, (1, 2, 4, 5)), [normal(1, 2, 2, 3, 3, 3)]),
        ("2x2 stride 2 padding 1", lambda c: gl.fold(c, (1, 1, 4, 4), 2, 1), [normal(1, 1, 3, 3, 2, 2)]),
    ],
    "MaxPool2d": [
        ("2x2", lambda x: gl.max_pool2d(x, 2), [distinct(2, 2, 4, 4)]),
        ("3x3 stride 2 overlapping", lambda x: gl.max_pool2d(x, 3, 2), [distinct(1, 2, 7, 7)]),
    ],
    "AvgPool2d": [
        ("2x2", lambda x: gl.avg_pool2d(x, 2), [normal(2, 2, 4, 4)]),
        ("3x3 stride 2", lambda x: gl.avg_pool2d(x, 3, 2), [normal(1, 2, 7, 7)]),
    ],
    "CrossEntropy": [
        ("batch of 5, 4 classes", lambda z: gl.cross_entropy(z, np.array([0, 3, 1, 1, 2])), [normal(5, 4)])
    ],
    "BCEWithLogits": [
        ("logits and soft targets", gl.bce_with_logits, [3 * normal(4, 3), rng.uniform(0, 1, (4, 3))]),
    ],
    # custom_vjp gives a reverse rule only, written with operators, so it works to second order.
    "CustomVJP": [("x³ with its own rule", cube_with_rule, [normal(3)], {"modes": ("rev",)})],
    "MSE": [("matrix", gl.mse, [normal(3, 4), normal(3, 4)]), ("scalar", gl.mse, [normal(), normal()])],
}


def test_every_op_has_cases():
    missing = sorted(set(Function.registry) - set(CASES))
    assert not missing, f"ops without gradcheck cases: {missing}"


PARAMS = [
    pytest.param(case[1], case[2], case[3] if len(case) > 3 else {}, id=f"{op}-{case[0]}")
    for op, cases in CASES.items()
    for case in cases
]


@pytest.mark.parametrize(("fn", "inputs", "options"), PARAMS)
def test_gradcheck_both_modes_to_second_order(fn, inputs, options):
    modes = options.get("modes", ("rev", "fwd"))
    result = gl.gradcheck(fn, *inputs, modes=modes, order=options.get("order", 2))
    assert result.ok, str(result)


@pytest.mark.parametrize(("fn", "inputs", "options"), PARAMS)
def test_forward_and_reverse_rules_agree(fn, inputs, options):
    """⟨u, J v⟩ by one forward pass equals Σ_i ⟨(uᵀ J)_i, v_i⟩ by one backward pass."""
    if "fwd" not in options.get("modes", ("rev", "fwd")):
        pytest.skip("no forward rule")
    local = np.random.default_rng(1)
    tangents = tuple(local.standard_normal(np.shape(x)) for x in inputs)
    out, derivative = gl.jvp(fn, tuple(inputs), tangents)
    u = local.standard_normal(np.shape(out))
    _, pullback = gl.vjp(fn, *inputs)
    cotangents = pullback(u)
    forward = np.sum(u * derivative)
    reverse = sum(np.sum(c * t) for c, t in zip(cotangents, tangents))
    np.testing.assert_allclose(forward, reverse, rtol=1e-9, atol=1e-9)


def test_gradcheck_catches_a_wrong_rule(monkeypatch):
    """A broken derivative rule must fail the check (so the test above can fail)."""
    from gradlab.autodiff.ops.elementwise import Sin

    monkeypatch.setattr(Sin, "vjp", lambda self, g, y, x: (g * np.sin(x),))
    with pytest.raises(gl.GradcheckError, match="worst element"):
        gl.gradcheck(gl.sin, normal(3))


@pytest.mark.parametrize("op", ["exp", "tanh", "sigmoid", "relu", "softmax"])
def test_float32_gradients_stay_float32(op):
    x = gl.Tensor(normal(4, 3).astype(np.float32), requires_grad=True)
    y = getattr(gl, op)(x)
    (y * 2.0).sum().backward()
    assert y.dtype == np.float32
    assert x.grad.dtype == np.float32


def test_astype_gradient_comes_back_in_the_input_dtype():
    x = gl.Tensor(normal(3), requires_grad=True)
    y = gl.astype(x, np.float32)
    (y * y).sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, 2 * x.data, rtol=1e-6)


COMPOSITES = {
    "gelu": (gl.gelu, [normal(3, 4)]),
    "var": (lambda x: gl.var(x, axis=1), [normal(3, 4)]),
    "var ddof=1": (lambda x: gl.var(x, ddof=1), [normal(5)]),
    "dot": (gl.dot, [normal(4), normal(4)]),
    "expand": (lambda x: gl.expand(x, (2, 3)), [normal(3)]),
    "x / y ** 2 - sqrt(x)": (lambda x, y: x / y**2 - gl.sqrt(x), [positive(3), positive(3)]),
}


@pytest.mark.parametrize(("fn", "inputs"), [pytest.param(f, i, id=k) for k, (f, i) in COMPOSITES.items()])
def test_gradcheck_composites(fn, inputs):
    """Functions written with other ops get their derivative from those ops' rules."""
    assert gl.gradcheck(fn, *inputs).ok

"""Checkers for lesson 3, the chain rule and backpropagation ("how does the error reach the first layer?").

    backprop.by_hand          L = tanh(w·x + b): (∂L/∂w, ∂L/∂x, ∂L/∂b) = (1 − L²)·(x, w, 1)
    backprop.mul_backward     out = a·b: (∂L/∂a, ∂L/∂b) = (b·g, a·g) with g = ∂L/∂out arriving from above
    backprop.value_class      the learner's scalar reverse-mode engine (a micrograd-sized Value class),
                              its gradients compared with gradlab's on fixed and random expressions
    backprop.sigmoid_chain    d/dx σ(σ(…σ(x))) (n layers) = Π σ′(aᵢ), aᵢ the input of layer i

The Value checker needs only the public face of the learner's class: Value(number), .data, .grad,
v + w, v * w, v.tanh(), v.exp(), v.backward().
"""

from __future__ import annotations

import numpy as np

from .. import autodiff as gl
from . import grading
from .common import mistake
from .core import Wrong, exercise


@exercise("backprop.by_hand")
def _by_hand(fn):
    for w, x, b in grading.points(seed=31, n=5, low=-1.5, high=1.5, shape=(3,)):
        got = grading.call(fn, w, x, b)
        n = w * x + b
        t = np.tanh(n)
        local = 1 - t**2
        want = np.array([local * x, local * w, local])
        at = f"w = {w:.3g}, x = {x:.3g}, b = {b:.3g}"
        grading.expect_close(
            got,
            want,
            at=at,
            hints=[
                (
                    mistake([x, w, 1.0]),
                    "these are the gradients of n = w·x + b only: every path also passes tanh, multiply by its local "
                    "derivative 1 − tanh(n)²",
                ),
                (
                    mistake(np.array([x, w, 1.0]) * (1 - n**2)),
                    "tanh′(n) = 1 − tanh(n)², not 1 − n²: square the output t = tanh(n), not the input",
                ),
                (
                    mistake([local * w, local * x, local]),
                    "∂L/∂w and ∂L/∂x are swapped: ∂(w·x)/∂w = x (the other factor) and ∂(w·x)/∂x = w",
                ),
                (
                    mistake([local * x, local * w, 1.0]),
                    "∂L/∂b: b reaches L through tanh too, so it is 1 − tanh(n)², not 1",
                ),
                (grading.sign_flipped, "the sign is flipped: 1 − tanh(n)² is positive, and so is ∂n/∂b = 1"),
            ],
        )
        grading.gradient_check(
            lambda v: np.tanh(v[0] * v[1] + v[2]), lambda v: fn(v[0], v[1], v[2]), np.array([w, x, b]), at=at
        )


@exercise("backprop.mul_backward")
def _mul_backward(fn):
    for a, b, g in grading.points(seed=32, n=5, low=-3, high=3, shape=(3,)):
        got = grading.call(fn, a, b, g)
        want = np.array([b * g, a * g])
        grading.expect_close(
            got,
            want,
            at=f"a = {a:.3g}, b = {b:.3g}, grad_out = {g:.3g}",
            hints=[
                (
                    mistake([a * g, b * g]),
                    "swapped: ∂(a·b)/∂a = b, so a's gradient is b·grad_out (each input gets the OTHER one)",
                ),
                (
                    mistake([b, a]),
                    "multiply by grad_out, the gradient arriving from above: the chain rule multiplies the local "
                    "derivative by it",
                ),
                (
                    mistake([g, g]),
                    "that is the rule for +, which passes grad_out through unchanged; for a·b scale it",
                ),
                (grading.sign_flipped, "the sign is flipped: ∂(a·b)/∂a = +b"),
            ],
        )


# --- the Value class -------------------------------------------------------------------------------------------

_OPS = {
    "+": (lambda u, v: u + v, lambda u, v: u + v),
    "*": (lambda u, v: u * v, lambda u, v: u * v),
    "tanh": (lambda u: u.tanh(), gl.tanh),
    "exp": (lambda u: u.exp(), gl.exp),
}


def _evaluate(recipe, leaves, engine):
    """Build the expression `recipe` (a list of (op, operand indices)) over `leaves`; engine 0 = Value, 1 = gradlab."""
    nodes = list(leaves)
    for op, args in recipe:
        nodes.append(_OPS[op][engine](*(nodes[i] for i in args)))
    return nodes[-1]


def _describe(recipe, n_leaves):
    names = ["x", "y", "z", "w"][:n_leaves]
    for op, args in recipe:
        if op in ("+", "*"):
            names.append(f"({names[args[0]]} {op} {names[args[1]]})")
        else:
            names.append(f"{op}({names[args[0]]})")
    return names[-1]


def _random_recipe(rng, n_leaves, steps):
    recipe, size = [], n_leaves
    for _ in range(steps):
        op = str(rng.choice(["+", "*", "*", "tanh", "exp"]))
        if op in ("+", "*"):
            args = (int(rng.integers(size)), int(rng.integers(size)))
        else:
            args = (int(rng.integers(max(0, size - 2), size)),)
        if op == "exp":  # keep values moderate: exp of a tanh
            recipe.append(("tanh", args))
            size += 1
            args = (size - 1,)
        recipe.append((op, args))
        size += 1
    return recipe


_SEED = "backward() starts the sweep with the output's own gradient: set self.grad = 1.0 (dL/dL = 1) first"
_SORT = (
    "a node passed its gradient back before all its users had sent theirs: put the nodes in topological order "
    "(each node after the nodes it was made from), then call _backward() on them in reverse"
)
_ADD_UP = (
    "a value used twice must collect gradient from both uses: accumulate with +=, not = (in a·a each factor "
    "sends a, so the gradient is 2a)"
)


def _run_value(Value, recipe, xs):
    leaves = [Value(float(x)) for x in xs]
    out = _evaluate(recipe, leaves, 0)
    out.backward()
    return np.array([leaf.grad for leaf in leaves], dtype=np.float64), float(out.data)


def _gradlab_grads(recipe, xs):
    def f(*leaves):
        return _evaluate(recipe, leaves, 1)

    value = float(np.asarray(f(*[gl.Tensor(float(x)) for x in xs]).data))
    grads = gl.grad(f, argnums=tuple(range(len(xs))))(*[float(x) for x in xs])
    return np.array([float(g) for g in grads]), value


def _expect_engine(Value, recipe, xs, hints=()):
    """The learner's gradients on `recipe` at xs against gradlab's, with the test's own hints."""
    what = _describe(recipe, len(xs))
    at = f"{what} at " + ", ".join(f"{n} = {x:.3g}" for n, x in zip("xyzw", xs, strict=False))
    got, value = grading.call(_run_value, Value, recipe, xs)
    want, want_value = _gradlab_grads(recipe, xs)
    if not np.isclose(value, want_value, rtol=1e-9, atol=1e-12):
        raise Wrong(f"the forward value of {what} is {value:.6g}, gradlab's is {want_value:.6g} (at {at})")
    generic = (
        lambda got, want: True,
        lambda got, want: (
            f"your gradients {np.array2string(got, precision=6)} differ from gradlab's "
            f"{np.array2string(want, precision=6)} (on {at})"
        ),
    )
    grading.expect_close(got, want, at=at, hints=[*hints, generic])


@exercise("backprop.value_class")
def _value_class(Value):
    if not isinstance(Value, type):
        raise Wrong("pass the class itself: check('backprop.value_class', Value)")
    zero_grads = (lambda got, want: np.all(got == 0), _SEED)
    rng = np.random.default_rng(33)
    a, b = rng.uniform(-1.5, 1.5, size=2)
    # the given +, then the learner's *, tanh, then fan-out and order, then random expressions
    _expect_engine(Value, [("+", (0, 1))], [a, b], hints=[zero_grads])
    _expect_engine(
        Value,
        [("*", (0, 1))],
        [a, b],
        hints=[
            zero_grads,
            (
                mistake([a, b]),
                "__mul__ swapped the gradients: self gets other.data·out.grad, other gets self.data·out.grad",
            ),
            (
                mistake([1.0, 1.0]),
                "__mul__ passes out.grad through unchanged, like +: scale it by the other factor",
            ),
        ],
    )
    t = np.tanh(a)
    _expect_engine(
        Value,
        [("tanh", (0,))],
        [a],
        hints=[
            zero_grads,
            (mistake([1 - a**2]), "tanh's local derivative is 1 − t² with t = tanh(x) the output, not 1 − x²"),
            (mistake([t]), "tanh's _backward passes t = tanh(x) itself; its derivative is 1 − t²"),
            (mistake([1 + t**2]), "tanh′ = 1 − t², with a minus"),
        ],
    )
    _expect_engine(Value, [("exp", (0,))], [a], hints=[zero_grads])
    _expect_engine(Value, [("*", (0, 0))], [a], hints=[zero_grads, (mistake([a]), _ADD_UP)])
    _expect_engine(Value, [("+", (0, 0))], [a], hints=[zero_grads, (mistake([1.0]), _ADD_UP)])
    # u = x·y; out = u·tanh(u): u feeds out twice, once through tanh; u must wait for both gradients
    order = [("*", (0, 1)), ("tanh", (2,)), ("*", (2, 3))]
    _expect_engine(Value, order, [a, b], hints=[zero_grads, (lambda got, want: True, _SORT)])
    chain = [("tanh", (0,))] + [("tanh", (i,)) for i in range(1, 40)]  # 40 layers deep
    _expect_engine(Value, chain, [a], hints=[zero_grads, (lambda got, want: True, _SORT)])
    for _ in range(6):
        xs = rng.uniform(-1.5, 1.5, size=3)
        _expect_engine(Value, _random_recipe(rng, 3, 7), xs)
    return "your engine's gradients match gradlab's on 14 expressions, 6 of them random"


# --- vanishing gradients ---------------------------------------------------------------------------------------


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


@exercise("backprop.sigmoid_chain")
def _sigmoid_chain(fn):
    xs = grading.points(seed=34, n=5, low=-3, high=3)
    for x, n in zip(xs, (1, 2, 3, 5, 10), strict=True):
        got = grading.call(fn, x, n)

        def chain(x, n=n):
            for _ in range(n):
                x = gl.sigmoid(x)
            return x

        want = float(gl.grad(chain)(float(x)))
        activations = [x]  # the input of each layer
        for _ in range(n):
            activations.append(_sigmoid(activations[-1]))
        factors = [_sigmoid(a) * (1 - _sigmoid(a)) for a in activations[:-1]]
        at = f"x = {x:.3g}, n = {n}"
        grading.expect_close(
            got,
            want,
            at=at,
            hints=[
                (
                    mistake(factors[0] ** n),
                    "you used σ′(x) in every layer: layer i's factor is σ′ at ITS input (σ applied i − 1 times to x); "
                    "carry the activation forward, a ← σ(a), and multiply σ′(a) as you go",
                ),
                (mistake(factors[-1]), "only the last layer's factor: the chain rule multiplies all n of them"),
                (mistake(factors[0]), "only the first layer's factor: the chain rule multiplies all n of them"),
                (
                    mistake(sum(factors)),
                    "the chain rule multiplies the layers' local derivatives, it does not add them",
                ),
                (
                    mistake(np.prod([a * (1 - a) for a in activations[:-1]])),
                    "σ′(a) = σ(a)·(1 − σ(a)): apply σ first; a·(1 − a) with the layer's input a is not σ′",
                ),
            ],
        )
    grading.gradient_check(lambda x: _sigmoid(_sigmoid(_sigmoid(x))), lambda x: fn(x, 3), 0.7)

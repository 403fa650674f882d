"""gl.walk: the one public view of a recorded graph, and what is built on it (to_dot, the lab, pruning)."""

import dataclasses

import numpy as np
import pytest

import gradlab as gl
from gradlab.autodiff.gradients import Targets, next_sequence, recorded_before

# to_dot's text for the graphs of `dot_examples`, captured from the code before it used walk()
# (without the three lines every graph starts with).
HEADER = 'digraph gradlab {\n  rankdir=LR;\n  node [fontname="Helvetica", fontsize=10];'
DOT_BEFORE = {
    "tanh": r"""
  n0 [shape=box, style=filled, fillcolor=lightyellow, label="value -0.9999\ngrad 1."];
  op_n0 [shape=ellipse, label="Tanh"];
  op_n0 -> n0;
  n1 -> op_n0;
  n1 [shape=box, style=filled, fillcolor=lightyellow, label="value -5.\ngrad 0.0002"];
  op_n1 [shape=ellipse, label="Add"];
  op_n1 -> n1;
  n2 -> op_n1;
  n3 [shape=box, style=filled, fillcolor=white, label="constant 1."];
  n3 -> op_n1;
  n2 [shape=box, style=filled, fillcolor=lightyellow, label="value -6.\ngrad 0.0002"];
  op_n2 [shape=ellipse, label="Mul"];
  op_n2 -> n2;
  n4 [shape=box, style=filled, fillcolor=lightblue, label="a\nvalue 2.\ngrad -0.0005"];
  n4 -> op_n2;
  n5 [shape=box, style=filled, fillcolor=lightblue, label="b\nvalue -3.\ngrad 0.0004"];
  n5 -> op_n2;
}""",
    "fan_out": r"""
  n0 [shape=box, style=filled, fillcolor=lightyellow, label="value 0.8893\ngrad 1."];
  op_n0 [shape=ellipse, label="Add"];
  op_n0 -> n0;
  n1 -> op_n0;
  n2 -> op_n0;
  n2 [shape=box, style=filled, fillcolor=lightyellow, label="value 0.6595\ngrad 1."];
  op_n2 [shape=ellipse, label="Div"];
  op_n2 -> n2;
  n3 -> op_n2;
  n4 -> op_n2;
  n4 [shape=box, style=filled, fillcolor=lightyellow, label="value 2.5\ngrad -0.2638"];
  op_n4 [shape=ellipse, label="Add"];
  op_n4 -> n4;
  n5 [shape=box, style=filled, fillcolor=lightblue, label="x\nvalue 0.5\ngrad 1.2372"];
  n5 -> op_n4;
  n6 [shape=box, style=filled, fillcolor=white, label="constant 2."];
  n6 -> op_n4;
  n3 [shape=box, style=filled, fillcolor=lightyellow, label="value 1.6487\ngrad 0.4"];
  op_n3 [shape=ellipse, label="Exp"];
  op_n3 -> n3;
  n5 -> op_n3;
  n1 [shape=box, style=filled, fillcolor=lightyellow, label="value 0.2298\ngrad 1."];
  op_n1 [shape=ellipse, label="Mul"];
  op_n1 -> n1;
  n7 -> op_n1;
  n7 -> op_n1;
  n7 [shape=box, style=filled, fillcolor=lightyellow, label="value 0.4794\ngrad 0.9589"];
  op_n7 [shape=ellipse, label="Sin"];
  op_n7 -> n7;
  n5 -> op_n7;
}""",
    "arrays_not_kept": r"""
  n0 [shape=box, style=filled, fillcolor=lightyellow, label="value 0.15\ngrad not kept"];
  op_n0 [shape=ellipse, label="Sum"];
  op_n0 -> n0;
  n1 -> op_n0;
  n1 [shape=box, style=filled, fillcolor=lightyellow, label="value [0.  , 0.15]\ngrad not kept"];
  op_n1 [shape=ellipse, label="Relu"];
  op_n1 -> n1;
  n2 -> op_n1;
  n2 [shape=box, style=filled, fillcolor=lightyellow, label="value not kept\ngrad not kept"];
  op_n2 [shape=ellipse, label="Matmul"];
  op_n2 -> n2;
  n3 [shape=box, style=filled, fillcolor=lightblue, label="value shape (2, 3), mean 0.25\ngrad not kept"];
  n3 -> op_n2;
}""",
    "cut": r"""
  n0 [shape=box, style=filled, fillcolor=lightyellow, label="value 2.2564\ngrad not kept"];
  op_n0 [shape=ellipse, label="Add"];
  op_n0 -> n0;
  n1 -> op_n0;
  n2 [shape=box, style=filled, fillcolor=lightblue, label="value 1.5\ngrad not kept"];
  n2 -> op_n0;
  n1 [shape=box, style=filled, fillcolor=lightyellow, label="value not kept\ngrad not kept"];
  op_n1 [shape=ellipse, label="Sin"];
  op_n1 -> n1;
  n3 -> op_n1;
  n3 [shape=box, style=filled, fillcolor=lightyellow, label="value not kept\ngrad not kept"];
  op_n3 [shape=ellipse, label="Add"];
  op_n3 -> n3;
  n4 -> op_n3;
  n2 -> op_n3;
  n4 [shape=box, style=filled, fillcolor=lightyellow, label="value not kept\ngrad not kept"];
  op_n4 [shape=ellipse, label="Sin"];
  op_n4 -> n4;
  n5 -> op_n4;
  n5 [shape=box, style=filled, fillcolor=lightyellow, label="value not kept\ngrad not kept"];
  op_n5 [shape=ellipse, label="Add"];
  op_n5 -> n5;
  n6 -> op_n5;
  n2 -> op_n5;
  cut [label="graph cut at 5 ops", shape=plaintext];
}""",
    "leaf": r"""
  n0 [shape=box, style=filled, fillcolor=lightblue, label="value [1., 2.]"];
}""",
}

# (id, kind, label, seq, layer) and (source, target, argument) of
# computation_graph("x**2*sin(y) - x/y + exp(-x)", 1.5, 0.5), as the code before walk() gave them.
LAB_NODES = [
    ("n0", "op", "Add", 7, 4),
    ("n1", "op", "Sub", 4, 3),
    ("n2", "op", "Exp", 6, 2),
    ("n3", "op", "Neg", 5, 1),
    ("n4", "variable", "x", None, 0),
    ("n5", "op", "Mul", 2, 2),
    ("n6", "op", "Div", 3, 1),
    ("n7", "variable", "y", None, 0),
    ("n8", "op", "Power", 0, 1),
    ("n9", "op", "Sin", 1, 1),
    ("n10", "constant", "constant", None, 0),
]
LAB_EDGES = [
    ("n1", "n0", 0),
    ("n2", "n0", 1),
    ("n3", "n2", 0),
    ("n4", "n3", 0),
    ("n5", "n1", 0),
    ("n6", "n1", 1),
    ("n4", "n6", 0),
    ("n7", "n6", 1),
    ("n8", "n5", 0),
    ("n9", "n5", 1),
    ("n7", "n9", 0),
    ("n4", "n8", 0),
    ("n10", "n8", 1),
]


def dot_examples():
    """name -> to_dot text, for graphs that cover each kind of box."""
    out = {}
    with gl.keep_values():
        a = gl.Tensor(2.0, requires_grad=True, name="a")
        b = gl.Tensor(-3.0, requires_grad=True, name="b")
        y = gl.tanh(a * b + 1.0)
    y.backward(retain_graph=True)
    out["tanh"] = gl.to_dot(y)
    with gl.keep_values():  # fan-out: x used three times, a shared intermediate used twice
        x = gl.Tensor(0.5, requires_grad=True, name="x")
        s = gl.sin(x)
        z = s * s + gl.exp(x) / (x + 2.0)
    z.backward(retain_graph=True)
    out["fan_out"] = gl.to_dot(z)
    w = gl.Tensor(np.arange(6.0).reshape(2, 3) / 10, requires_grad=True)
    v = gl.Tensor([1.0, -1.0, 0.5])
    out["arrays_not_kept"] = gl.to_dot(gl.relu(w @ v).sum())
    c = gl.Tensor(1.5, requires_grad=True)
    chain = c
    for _ in range(8):
        chain = gl.sin(chain) + c
    out["cut"] = gl.to_dot(chain, max_nodes=5)
    out["leaf"] = gl.to_dot(gl.Tensor([1.0, 2.0], requires_grad=True))
    return out


def test_to_dot_draws_what_it_drew_before_walk():
    drawn = dot_examples()
    assert drawn.keys() == DOT_BEFORE.keys()
    for name, text in drawn.items():
        assert text == HEADER + DOT_BEFORE[name], name


def test_the_lab_numbers_and_links_the_graph_as_before():
    from gradlab.lab.compute import computation_graph

    answer = computation_graph("x**2*sin(y) - x/y + exp(-x)", 1.5, 0.5)
    assert [(n["id"], n["kind"], n["label"], n.get("seq"), n["layer"]) for n in answer["nodes"]] == LAB_NODES
    assert [(e["source"], e["target"], e["argument"]) for e in answer["edges"]] == LAB_EDGES


# --- random graphs ---------------------------------------------------------------------------------
UNARY = [gl.sin, gl.tanh, gl.sigmoid, lambda a: a * a]
BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b]  # one op each


def random_graph(seed: int, size: int = 30):
    """y = a scalar function of three leaves and a constant, with fan-out: every new value picks
    its operands among all the values made so far. Returns y, the leaves and every value made."""
    rng = np.random.default_rng(seed)
    leaves = [gl.Tensor(rng.uniform(-1, 1), requires_grad=True, name=f"x{i}") for i in range(3)]
    pool = [*leaves, gl.Tensor(0.7)]
    for _ in range(size):
        if rng.random() < 0.4:
            pool.append(UNARY[rng.integers(len(UNARY))](pool[rng.integers(len(pool))]))
        else:
            a, b = (pool[i] for i in rng.integers(len(pool), size=2))
            pool.append(BINARY[rng.integers(len(BINARY))](a, b))
    y = pool[-1] + pool[-2] * pool[-3]
    return y, leaves, pool


def assert_topological(nodes):
    position = {id(node): k for k, node in enumerate(nodes)}
    for node in nodes:
        for x in node.inputs:
            if isinstance(x, gl.Node):
                assert position[id(x)] < position[id(node)], (x, node)


@pytest.mark.parametrize("seed", range(12))
def test_walk_is_topological_and_numbers_the_ops_in_recording_order(seed):
    y, leaves, _ = random_graph(seed)
    nodes = gl.walk(y)
    assert_topological(nodes)
    assert [node.index for node in nodes] == list(range(len(nodes)))
    assert nodes[-1].value is y.data  # y's own op is recorded last
    for node in nodes:
        for x in node.inputs:  # a Node, a leaf, or None (constants are kept only in keep_values)
            assert isinstance(x, gl.Node) or x is None or any(x is leaf for leaf in leaves)
    # the other order: the same nodes, from y's op back to the inputs
    backwards = gl.walk(y, order="from_output")  # (a new walk: new Node objects)
    assert backwards[0].index == nodes[-1].index and backwards[0].value is y.data
    assert sorted(node.index for node in backwards) == list(range(len(nodes)))


@pytest.mark.parametrize("seed", range(8))
def test_values_gradients_and_local_derivatives_agree_with_the_engine(seed):
    with gl.keep_values():
        y, leaves, pool = random_graph(seed)
    made = [t for t in pool if not t.is_leaf]
    expected = gl.gradients(y, [*made, *leaves], retain_graph=True)  # dy/d(every value)
    y.backward(retain_graph=True)
    nodes = gl.walk(y)
    by_value = {id(t.data): g for t, g in zip(made, expected)}
    shares = {}  # id(value) -> Σ over its uses of (the use's gradient) · (local derivative)
    for node in nodes:
        for x in node.inputs:  # inside keep_values every input is there, constants included
            assert x is not None
            if isinstance(x, gl.Tensor) and not x.requires_grad:
                assert any(x is t for t in pool)  # the constant, or a value made from it alone
        if id(node.value) in by_value:  # (a few ops, as in y's own formula, made no value of the pool)
            np.testing.assert_allclose(node.grad, by_value.pop(id(node.value)), rtol=1e-12, atol=1e-15)
        for x, local in zip(node.inputs, node.local_derivatives()):
            if local is not None and (isinstance(x, gl.Node) or x.requires_grad):
                shares[id(x)] = shares.get(id(x), 0.0) + node.grad * local
    assert all(g == 0 for g in by_value.values())  # values y was not computed from: not in its walk
    assert float(nodes[-1].grad) == 1.0
    for node in nodes[:-1]:  # the chain rule, node by node (y's op is used by nobody)
        if id(node) in shares:
            np.testing.assert_allclose(shares[id(node)], node.grad, rtol=1e-12, atol=1e-15)
    for leaf, g in zip(leaves, expected[len(made) :]):
        np.testing.assert_allclose(0.0 if leaf.grad is None else leaf.grad, g, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(shares.get(id(leaf), 0.0), g, rtol=1e-12, atol=1e-15)


def test_local_derivatives_of_array_ops_are_vjps_of_ones():
    with gl.keep_values():
        w = gl.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        v = gl.Tensor([1.0, -1.0, 0.5])
        y = (w @ v).sum()
    matmul = gl.walk(y)[0]
    assert matmul.name == "Matmul"
    dw, dv = matmul.local_derivatives()
    np.testing.assert_array_equal(dw, np.outer(np.ones(2), v.data))  # Σ_j ∂(w v)_j/∂w
    assert dv is None or np.allclose(dv, w.data.sum(axis=0))  # v needs no gradient: None allowed


# --- edge cases ------------------------------------------------------------------------------------
def test_a_leaf_or_a_constant_has_an_empty_walk():
    assert gl.walk(gl.Tensor(2.0, requires_grad=True)) == []
    assert gl.walk(gl.Tensor([1.0, 2.0])) == []
    with pytest.raises(TypeError, match="needs a Tensor"):
        gl.walk(3.0)
    with pytest.raises(ValueError, match="order"):
        gl.walk(gl.sin(gl.Tensor(1.0, requires_grad=True)), order="backwards")


def test_nodes_are_read_only_and_print_briefly():
    x = gl.Tensor(2.0, requires_grad=True, name="x")
    (node,) = gl.walk(gl.exp(x))
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.name = "Log"
    assert repr(node) == f"Node(Exp #0, value {np.exp(2.0):.4f}, grad not kept, inputs (x))"


def test_without_keep_values_the_walk_shows_what_the_tape_kept():
    x = gl.Tensor(0.5, requires_grad=True)
    y = gl.exp(x) * 3.0  # Mul keeps its inputs, Exp its output
    exp, mul = gl.walk(y)
    assert exp.value == np.exp(0.5) and exp.grad is None and mul.inputs == (exp, None)
    assert exp.local_derivatives() == (np.exp(0.5),)
    y.backward()  # frees the tape: the graph's shape is still there, its values are not
    exp, mul = gl.walk(y)
    assert exp.value is None and mul.value is y.data
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        mul.local_derivatives()


def test_a_graph_5000_ops_deep_is_walked_without_recursion():
    x = gl.Tensor(0.3, requires_grad=True)
    y = x
    for _ in range(5000):
        y = gl.sin(y) * 0.5 + x  # fan-out: x feeds every level
    nodes = gl.walk(y)
    assert len(nodes) == 15000
    assert_topological(nodes)
    assert gl.walk(y, order="from_output")[-1].index == 0  # the deepest op comes last
    assert gl.to_dot(y).count("shape=ellipse") == 500  # cut at max_nodes
    targets = Targets(y, [x])  # the pruning: every op leads to x
    assert len(targets.relevant) == 15000 and not targets.outer
    assert Targets(y, [x], start=next_sequence()).outer  # as if an enclosing transform traced y
    assert recorded_before([y], x.seq + 1) and not recorded_before([y], x.seq)
    (g,) = gl.gradients(y, [x])
    assert np.isfinite(g)


def test_walk_and_the_exports():
    assert "walk" in gl.__all__ and "Node" in gl.__all__
    assert gl.walk is gl.autodiff.graph.walk

"""Lesson 3's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import math

import numpy as np

from exercise_harness import Lesson, failed
from gradlab.exercises import check

LESSON = Lesson("03_chain_rule_and_backprop", math=math)
SOLUTIONS = LESSON.solutions
exercise_cells = LESSON.exercise_cells


# backprop.by_hand


def test_by_hand_rejects_forgetting_tanh():
    assert "multiply by its local derivative" in failed("backprop.by_hand", lambda w, x, b: (x, w, 1.0))


def test_by_hand_rejects_one_minus_input_squared():
    def wrong(w, x, b):
        n = w * x + b
        return ((1 - n**2) * x, (1 - n**2) * w, 1 - n**2)

    assert "not 1 − n²" in failed("backprop.by_hand", wrong)


def test_by_hand_rejects_swapped_factors():
    def wrong(w, x, b):
        d = 1 - np.tanh(w * x + b) ** 2
        return (d * w, d * x, d)

    assert "are swapped" in failed("backprop.by_hand", wrong)


def test_by_hand_rejects_bias_gradient_of_one():
    def wrong(w, x, b):
        d = 1 - np.tanh(w * x + b) ** 2
        return (d * x, d * w, 1.0)

    assert "∂L/∂b" in failed("backprop.by_hand", wrong)


# backprop.mul_backward


def test_mul_backward_rejects_swapped_gradients():
    assert "OTHER one" in failed("backprop.mul_backward", lambda a, b, g: (a * g, b * g))


def test_mul_backward_rejects_ignoring_grad_out():
    assert "multiply by grad_out" in failed("backprop.mul_backward", lambda a, b, g: (b, a))


def test_mul_backward_rejects_the_rule_of_addition():
    assert "the rule for +" in failed("backprop.mul_backward", lambda a, b, g: (g, g))


def test_mul_backward_rejects_flipped_sign():
    assert "sign is flipped" in failed("backprop.mul_backward", lambda a, b, g: (-b * g, -a * g))


# backprop.value_class: the reference class with one mistake


def value_class_with(*replacements):
    source = SOLUTIONS["backprop.value_class"]
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new)
    source = source.replace('check("backprop.value_class", Value)', "")
    namespace = {"math": math}
    exec(compile(source, "<value_class>", "exec"), namespace)
    return namespace["Value"]


NAIVE_BACKWARD = """    def backward(self):
        self.grad = 1.0
        queue, seen = [self], set()
        while queue:  # breadth first, no topological order
            node = queue.pop(0)
            if node not in seen:
                seen.add(node)
                node._backward()
                queue.extend(node._prev)

"""


def reference_backward():
    source = SOLUTIONS["backprop.value_class"]
    start = source.index("    def backward(self):")
    return source[start : source.index("    def __repr__")]


def test_value_class_rejects_a_missing_seed():
    Value = value_class_with(("        self.grad = 1.0\n", ""))
    assert "set self.grad = 1.0" in failed("backprop.value_class", Value)


def test_value_class_rejects_assignment_instead_of_accumulation():
    Value = value_class_with(
        ("self.grad += other.data * out.grad", "self.grad = other.data * out.grad"),
        ("other.grad += self.data * out.grad", "other.grad = self.data * out.grad"),
    )
    assert "accumulate with +=" in failed("backprop.value_class", Value)


def test_value_class_rejects_swapped_product_gradients():
    Value = value_class_with(
        ("self.grad += other.data * out.grad", "self.grad += self.data * out.grad"),
        ("other.grad += self.data * out.grad", "other.grad += other.data * out.grad"),
    )
    assert "__mul__ swapped the gradients" in failed("backprop.value_class", Value)


def test_value_class_rejects_tanh_derivative_of_the_input():
    Value = value_class_with(("(1 - out.data**2)", "(1 - self.data**2)"))
    assert "not 1 − x²" in failed("backprop.value_class", Value)


def test_value_class_rejects_a_sweep_without_topological_order():
    Value = value_class_with((reference_backward(), NAIVE_BACKWARD))
    assert "topological order" in failed("backprop.value_class", Value)


def test_value_class_reports_an_unfinished_method_as_not_attempted():
    Value = value_class_with(("        self.grad = 1.0\n", "        raise NotImplementedError\n"))
    assert check("backprop.value_class", Value).status == "not attempted"


def test_value_class_wants_the_class_itself():
    Value = value_class_with()
    assert "pass the class itself" in failed("backprop.value_class", Value(1.0))


# backprop.sigmoid_chain


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_sigmoid_chain_rejects_derivative_at_x_in_every_layer():
    def wrong(x, n):
        return (sigmoid(x) * (1 - sigmoid(x))) ** n

    assert "σ′(x) in every layer" in failed("backprop.sigmoid_chain", wrong)


def test_sigmoid_chain_rejects_the_last_factor_only():
    def wrong(x, n):
        for _ in range(n - 1):
            x = sigmoid(x)
        return sigmoid(x) * (1 - sigmoid(x))

    assert "only the last layer's factor" in failed("backprop.sigmoid_chain", wrong)


def test_sigmoid_chain_rejects_a_sum_of_factors():
    def wrong(x, n):
        total = 0.0
        for _ in range(n):
            s = sigmoid(x)
            total, x = total + s * (1 - s), s
        return total

    assert "does not add them" in failed("backprop.sigmoid_chain", wrong)


def test_sigmoid_chain_rejects_the_derivative_of_the_preactivation():
    def wrong(x, n):
        grad = 1.0
        for _ in range(n):
            grad, x = grad * x * (1 - x), sigmoid(x)
        return grad

    assert "apply σ first" in failed("backprop.sigmoid_chain", wrong)

"""Reference solutions for lessons/03_chain_rule_and_backprop.ipynb: each block replaces its exercise cell."""

import math

import numpy as np

from gradlab.exercises import check


# exercise: backprop.by_hand
def neuron_grads(w, x, b):
    """(∂L/∂w, ∂L/∂x, ∂L/∂b) for L = tanh(w·x + b)"""
    L = np.tanh(w * x + b)
    dL_dn = 1 - L**2
    return (dL_dn * x, dL_dn * w, dL_dn)


check("backprop.by_hand", neuron_grads)


# exercise: backprop.mul_backward
def mul_backward(a, b, grad_out):
    """out = a·b: return (∂L/∂a, ∂L/∂b) given grad_out = ∂L/∂out"""
    return (b * grad_out, a * grad_out)


check("backprop.mul_backward", mul_backward)


# exercise: backprop.value_class
class Value:
    """A number that remembers how it was made, for reverse-mode differentiation."""

    def __init__(self, data, children=()):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(children)
        self._backward = lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,))

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,))

        def _backward():
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        order, seen = [], set()

        def visit(node):  # depth-first: a node goes in after everything it was made from
            if node not in seen:
                seen.add(node)
                for child in node._prev:
                    visit(child)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"


check("backprop.value_class", Value)


# exercise: backprop.sigmoid_chain
def sigmoid_chain_grad(x, n):
    """d/dx σ(σ(...σ(x)...)), n layers"""
    grad, a = 1.0, x
    for _ in range(n):
        s = 1 / (1 + np.exp(-a))
        grad = grad * s * (1 - s)
        a = s
    return grad


check("backprop.sigmoid_chain", sigmoid_chain_grad)

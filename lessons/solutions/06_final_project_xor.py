"""Reference solutions of lesson 6 (the final project, XOR by hand): each block replaces its exercise cell."""

import numpy as np

from gradlab.exercises import check


# exercise: xor.forward
def forward(params, X):
    """h = tanh(X·W1 + b1), p = sigmoid(h·W2 + b2); return (h, p)."""
    h = np.tanh(X @ params["W1"] + params["b1"])
    p = 1 / (1 + np.exp(-(h @ params["W2"] + params["b2"])))
    return h, p


check("xor.forward", forward)


# exercise: xor.backward
def backward(params, X, y):
    """The gradients of L = mean binary cross-entropy, by the chain rule from the output back."""
    n = len(X)
    h, p = forward(params, X)
    dz2 = (p - y) / n  # ∂L/∂z2: the sigmoid's derivative cancels against the cross-entropy's
    dW2 = h.T @ dz2
    db2 = dz2.sum(axis=0)
    dh = dz2 @ params["W2"].T
    dz1 = dh * (1 - h**2)  # tanh'(z) = 1 − tanh(z)²
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


check("xor.backward", backward)


# exercise: xor.train
def train(steps=2000, lr=0.5, seed=1):
    """Gradient descent on the four XOR examples from random weights; return the trained params."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(size=(2, 4)), "b1": np.zeros(4), "W2": rng.normal(size=(4, 1)), "b2": np.zeros(1)}
    for _ in range(steps):
        grads = backward(params, X, y)
        for name in params:
            params[name] = params[name] - lr * grads[name]
    return params


check("xor.train", train)

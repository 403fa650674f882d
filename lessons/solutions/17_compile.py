"""Reference solutions for lessons/17_compile.ipynb (one block per exercise cell)."""

import numpy as np

from gradlab.exercises import check


# exercise: compile.backward_by_hand
def backward_by_hand(x, y, W1, b1, W2, b2):
    """The compiled step's backward lines, newest op first: MSE, the second Linear, the ReLU, the first Linear."""
    z1 = x @ W1 + b1
    h = np.maximum(z1, 0)
    p = h @ W2 + b2
    g_p = 2 * (p - y) / p.size  # ∂L/∂p: L is the mean over all N = p.size entries
    g_W2 = h.T @ g_p  # ∂L/∂W2 = hᵀ · ∂L/∂p
    g_b2 = g_p.sum(axis=0)  # b2 is added to every row: its gradient sums them
    g_h = g_p @ W2.T  # ∂L/∂h = ∂L/∂p · W2ᵀ
    g_z1 = g_h * (z1 > 0)  # the ReLU's mask
    g_W1 = x.T @ g_z1
    g_b1 = g_z1.sum(axis=0)
    return g_W1, g_b1, g_W2, g_b2


check("compile.backward_by_hand", backward_by_hand)


# exercise: compile.needed_gradients
def needed_gradients(ops, trainable):
    """Values that depend on a trainable leaf (a forward sweep) and that the loss depends on (a backward sweep)."""
    tracked = set(trainable)
    for output, _, inputs in ops:
        if tracked.intersection(inputs):
            tracked.add(output)
    loss = ops[-1][0]
    reaches = {loss}
    for output, _, inputs in reversed(ops):
        if output in reaches:
            reaches.update(inputs)
    return (tracked & reaches) - {loss}


check("compile.needed_gradients", needed_gradients)


# exercise: compile.cross_entropy_backward
def cross_entropy_backward(logits, labels):
    """(softmax(z) − onehot(t)) / n, the softmax taken along each row after subtracting the row's max."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    softmax = e / e.sum(axis=1, keepdims=True)
    softmax[np.arange(len(labels)), labels] -= 1
    return softmax / len(labels)


check("compile.cross_entropy_backward", cross_entropy_backward)

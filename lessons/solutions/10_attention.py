"""Reference solutions for lessons/10_attention.ipynb (one block per exercise cell)."""

import numpy as np

from gradlab.exercises import check


# exercise: attention.softmax_jacobian
def softmax_jacobian(x):
    """J = diag(s) − s sᵀ with s = softmax(x): J[i, j] = s_i (δ_ij − s_j)."""
    e = np.exp(x - np.max(x))
    s = e / e.sum()
    return np.diag(s) - np.outer(s, s)


check("attention.softmax_jacobian", softmax_jacobian)


# exercise: attention.scaled_attention
def attention(Q, K, V):
    """softmax(Q Kᵀ / √d_k) V, the softmax along each query's row."""
    scores = Q @ K.T / np.sqrt(Q.shape[1])
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    A = e / e.sum(axis=1, keepdims=True)
    return A @ V


check("attention.scaled_attention", attention)


# exercise: attention.softmax_backward
def softmax_backward(A, G):
    """dL/dS = A ⊙ (G − Σ_j G ⊙ A), row by row: each row of J = diag(a) − a aᵀ applied to a row of G."""
    return A * (G - (G * A).sum(axis=1, keepdims=True))


check("attention.softmax_backward", softmax_backward)

"""Reference solutions for lessons/09_recommender.ipynb (one block per exercise cell)."""

import numpy as np

from gradlab.exercises import check


# exercise: recommender.grad_p_u
def grad_p_u(r, mu, b_u, b_i, p_u, q_i, lam):
    """∂L/∂p_u = −2·e·q_i + 2λ·p_u, with e = r − (μ + b_u + b_i + p_u·q_i)."""
    e = r - (mu + b_u + b_i + p_u @ q_i)
    return -2 * e * q_i + 2 * lam * p_u


check("recommender.grad_p_u", grad_p_u)


# exercise: recommender.grad_b_u
def grad_b_u(r, mu, b_u, b_i, p_u, q_i, lam):
    """∂L/∂b_u = −2·e + 2λ·b_u."""
    e = r - (mu + b_u + b_i + p_u @ q_i)
    return -2 * e + 2 * lam * b_u


check("recommender.grad_b_u", grad_b_u)


# exercise: recommender.sgd_update
def sgd_update(r, mu, b_u, b_i, p_u, q_i, lr, reg, reg_bias):
    """One per-rating step, gradlab's way: the factor 2 folded into lr, every step from the old values."""
    e = r - (mu + b_u + b_i + p_u @ q_i)
    new_b_u = b_u + lr * (e - reg_bias * b_u)
    new_b_i = b_i + lr * (e - reg_bias * b_i)
    new_p_u = p_u + lr * (e * q_i - reg * p_u)
    new_q_i = q_i + lr * (e * p_u - reg * q_i)  # the old p_u, as the gradient has it
    return new_b_u, new_b_i, new_p_u, new_q_i


check("recommender.sgd_update", sgd_update)


# exercise: recommender.precision_at_k
def precision_at_k(scores, seen, liked, k):
    """Mean over users with a liked item of |top k unseen items ∩ liked| / k."""
    scores = np.where(seen, -np.inf, scores)  # what the user rated in training is no recommendation
    top = np.argsort(-scores, axis=1)[:, :k]
    hits = np.take_along_axis(liked, top, axis=1).sum(axis=1)
    users = liked.any(axis=1)
    return hits[users].mean() / k


check("recommender.precision_at_k", precision_at_k)


# exercise: recommender.ease
def ease(X, lam):
    """B = I − P·diag(1/diag P) with P = (XᵀX + λI)⁻¹: column j of P divided by P_jj, the diagonal set to 0."""
    P = np.linalg.inv(X.T @ X + lam * np.eye(X.shape[1]))
    B = -P / np.diag(P)  # dividing by a row vector divides column j by P_jj
    np.fill_diagonal(B, 0.0)
    return B


check("recommender.ease", ease)

"""Reference solutions for lessons/13_policy_gradient.ipynb (one block per exercise cell)."""

import numpy as np

from gradlab.exercises import check


# exercise: rl.score_function
def score(W, s, a):
    """∇_W log π(a|s) = s (e_a − π)ᵀ for π = softmax(s W): the chain rule through the logits z = s W."""
    z = s @ W
    p = np.exp(z - z.max())
    p /= p.sum()
    e = np.zeros_like(p)
    e[a] = 1.0
    return np.outer(s, e - p)


check("rl.score_function", score)


# exercise: rl.discounted_returns
def discounted_returns(rewards, gamma):
    """G_t = r_t + γ G_{t+1}, from the last step back to the first."""
    G = np.zeros(len(rewards))
    running = 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        G[t] = running
    return G


check("rl.discounted_returns", discounted_returns)


# exercise: rl.reinforce_gradient
def reinforce_gradient(W, S, A, G, b):
    """(1/T) Σ_t s_t (e_{a_t} − π_t)ᵀ (G_t − b_t), all steps at once."""
    Z = S @ W
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    E = np.eye(W.shape[1])[A]
    return S.T @ ((E - P) * (G - b)[:, None]) / len(A)


check("rl.reinforce_gradient", reinforce_gradient)

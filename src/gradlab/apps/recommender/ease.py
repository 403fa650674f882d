"""EASE (Steck 2019): an item-item model in closed form, "the minimum is where the derivative vanishes".

X is the users × items matrix of seen pairs (1 where u saw i, else 0). A user's score of item j is a weighted
sum of the items the user saw, x̂_uj = Σ_i X_ui B_ij, that is X̂ = X B, with B fitted to reproduce X:

    minimise  ‖X - X B‖²_F + λ ‖B‖²_F     subject to  diag(B) = 0

(without the constraint B = I would be perfect and useless: an item may not predict itself). With a Lagrange
multiplier γ_j for each constraint B_jj = 0, the Lagrangian is ‖X - XB‖² + λ‖B‖² + 2 Σ_j γ_j B_jj, and its
gradient in B

    -2 Xᵀ (X - X B) + 2 λ B + 2 diag(γ)

vanishes where (XᵀX + λI) B = XᵀX - diag(γ). Write G = XᵀX + λI and P = G⁻¹; since XᵀX = G - λI,

    B = P (G - λI - diag(γ)) = I - P (λI + diag(γ)) = I - P diag(μ),      μ_j = λ + γ_j

and the constraint 0 = B_jj = 1 - P_jj μ_j fixes μ_j = 1 / P_jj, so

    B_ij = -P_ij / P_jj  (i ≠ j),      B_jj = 0.

One items × items inverse (a Cholesky factorisation: G is symmetric positive definite for λ > 0) is the whole
fit. Off the diagonal the gradient of ‖X - XB‖² + λ‖B‖² is zero at this B; on the diagonal it is -2γ_j, the
price of the constraint.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse


def ease_weights(indptr, cols, n_items: int, reg: float) -> np.ndarray:
    """B (items × items, zero diagonal) from the seen pairs in CSR form (module docstring)."""
    seen = scipy.sparse.csr_matrix((np.ones(len(cols)), cols, indptr), shape=(len(indptr) - 1, n_items))
    gram = (seen.T @ seen).toarray()  # XᵀX: how many users saw both i and j
    gram[np.diag_indices(n_items)] += reg
    # P = G⁻¹ from the Cholesky factor (LAPACK potrf + potri): half the work of a general inverse
    factor, info = scipy.linalg.lapack.dpotrf(gram, lower=True, overwrite_a=True)
    if info == 0:
        inverse, info = scipy.linalg.lapack.dpotri(factor, lower=True, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"XᵀX + λI is not positive definite (LAPACK info {info}): use a larger reg")
    inverse = np.tril(inverse) + np.tril(inverse, -1).T  # potri fills one triangle
    weights = inverse / -np.diag(inverse)  # column j divided by -P_jj
    weights[np.diag_indices(n_items)] = 0.0
    return weights

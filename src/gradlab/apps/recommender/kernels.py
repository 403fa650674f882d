"""The recommender's compiled inner loops (Numba), one per job:

    _sgd_epoch       one pass of per-rating SGD steps (the update is in sgd.py's docstring)
    _svdpp_epoch     one pass of SVD++'s SGD steps, user by user (the update is in svdpp.py's docstring)
    _implicit_sums   SVD++'s z_u = |N(u)|^-½ Σ_{j∈N(u)} y_j for every user
    _co_rated        item-item sums over the users who rated both items (blend.py's similarities)
    _shrunk_correlation  the shrunk Pearson correlations s_ij from those sums
    _knn_predict     the neighbourhood model's correction Σ s_ij e_uj / Σ s_ij over u's k nearest rated items
    _predict_kernel  r̂ = clip(μ + b_u + b_i + p_u·q_i) for arrays of user and item indices (-1: unknown)
    _ridge_rows      for every row, the ridge solution [b; p] = (XᵀX + D)⁻¹ Xᵀ t (als.py)
    _cholesky_solve  A x = b in place for symmetric positive definite A

One pass over 80,000 ratings is 80,000 tiny updates of k numbers each: in Python that is ~1 s per epoch
at k = 100, and vectorising it would change the algorithm (each step must see the previous one's
parameters). Numba compiles these loops to machine code; cache=True keeps the compiled code on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# fastmath lets LLVM reorder the sums (the dot product in SIMD lanes): twice as fast, same results to ~1e-15.
# Only reassociation and contraction (fused multiply-add) are allowed: NaN and Inf keep their meaning.
FAST = {"reassoc", "contract", "nsz"}


@njit(cache=True, fastmath=FAST)
def _sgd_epoch(users, items, ratings, order, mean, user_bias, item_bias, p, q, lr, reg, reg_bias):  # pragma: no cover
    """One pass in the given order; returns Σ e² of the errors met on the way (each before its update).

    The k-long loops run in the factors' own precision (float32 factors: float32 arithmetic, twice the
    SIMD lanes); the biases and the error stay float64.
    """
    k = p.shape[1]
    real = p.dtype.type
    lr_k, reg_k = real(lr), real(reg)
    squared = 0.0
    for n in order:
        u = users[n]
        i = items[n]
        pu = p[u]
        qi = q[i]
        dot = real(0.0)
        for f in range(k):
            dot += pu[f] * qi[f]
        e = ratings[n] - (mean + user_bias[u] + item_bias[i] + dot)
        squared += e * e
        user_bias[u] += lr * (e - reg_bias * user_bias[u])
        item_bias[i] += lr * (e - reg_bias * item_bias[i])
        e_k = real(e)
        for f in range(k):
            puf = pu[f]
            qif = qi[f]
            # both updates use the values from before this step, as the gradient does
            pu[f] += lr_k * (e_k * qif - reg_k * puf)
            qi[f] += lr_k * (e_k * puf - reg_k * qif)
    return squared


@njit(cache=True, fastmath=FAST)
def _svdpp_epoch(
    indptr, items, ratings, user_order, mean, user_bias, item_bias, p, q, y, lr, reg, reg_bias, reg_y
):  # pragma: no cover
    """One pass of SVD++, user by user in user_order; each user's ratings in their CSR order
    (items[indptr[u]:indptr[u+1]], which are also N(u)). Returns Σ e² of the errors met on the way.

    Per user: z = |N(u)|^-½ Σ_{j∈N(u)} y_j once, then per rating the steps of b_u, b_i, p_u, q_i with
    r̂ = μ + b_u + b_i + q_i·(p_u + z), while g = Σ e q_i (q_i before its step) adds up; after the user's
    last rating every y_j, j ∈ N(u), takes one step y_j += lr (|N(u)|^-½ g - λ_y y_j). O(k) per rating
    instead of Surprise's O(|N(u)| k).
    """
    k = p.shape[1]
    real = p.dtype.type
    lr_k, reg_k, reg_y_k = real(lr), real(reg), real(reg_y)
    z = np.empty(k, dtype=p.dtype)
    g = np.empty(k, dtype=p.dtype)
    squared = 0.0
    for u in user_order:
        lo, hi = indptr[u], indptr[u + 1]
        if lo == hi:
            continue
        scale = real(1.0 / np.sqrt(hi - lo))
        z[:] = 0.0
        g[:] = 0.0
        for n in range(lo, hi):
            yj = y[items[n]]
            for f in range(k):
                z[f] += yj[f]
        for f in range(k):
            z[f] *= scale
        pu = p[u]
        for n in range(lo, hi):
            i = items[n]
            qi = q[i]
            dot = real(0.0)
            for f in range(k):
                dot += qi[f] * (pu[f] + z[f])
            e = ratings[n] - (mean + user_bias[u] + item_bias[i] + dot)
            squared += e * e
            user_bias[u] += lr * (e - reg_bias * user_bias[u])
            item_bias[i] += lr * (e - reg_bias * item_bias[i])
            e_k = real(e)
            for f in range(k):
                puf = pu[f]
                qif = qi[f]
                # every step uses the values from before it, as the gradient does
                pu[f] += lr_k * (e_k * qif - reg_k * puf)
                qi[f] += lr_k * (e_k * (puf + z[f]) - reg_k * qif)
                g[f] += e_k * qif
        for f in range(k):
            g[f] *= scale
        for n in range(lo, hi):
            yj = y[items[n]]
            for f in range(k):
                yj[f] += lr_k * (g[f] - reg_y_k * yj[f])
    return squared


@njit(cache=True, fastmath=FAST)
def _implicit_sums(indptr, items, y, out):  # pragma: no cover
    """out[u] = |N(u)|^-½ Σ_{j∈N(u)} y_j, N(u) = items[indptr[u]:indptr[u+1]] (a row with no items: 0)."""
    k = y.shape[1]
    for u in range(len(indptr) - 1):
        lo, hi = indptr[u], indptr[u + 1]
        row = out[u]
        row[:] = 0.0
        for n in range(lo, hi):
            yj = y[items[n]]
            for f in range(k):
                row[f] += yj[f]
        if hi > lo:
            scale = 1.0 / np.sqrt(hi - lo)
            for f in range(k):
                row[f] *= scale


@njit(cache=True, fastmath=FAST)
def _co_rated(indptr, items, residuals, sums):  # pragma: no cover
    """For every pair of items i < j, over the users u who rated both (rows of the CSR by user, each row's
    items in increasing order): sums[i, j] += (e_ui e_uj, e_ui², e_uj², 1). Σ_u |I_u|(|I_u| - 1)/2 updates;
    the four sums of a pair sit side by side, so that each update touches one cache line."""
    for u in range(len(indptr) - 1):
        hi = indptr[u + 1]
        for a in range(indptr[u], hi):
            i = items[a]
            e_i = residuals[a]
            for b in range(a + 1, hi):
                e_j = residuals[b]
                pair = sums[i, items[b]]
                pair[0] += e_i * e_j
                pair[1] += e_i * e_i
                pair[2] += e_j * e_j
                pair[3] += 1.0


@njit(cache=True)
def _shrunk_correlation(sums, shrink, out):  # pragma: no cover
    """out[i, j] = out[j, i] = ρ_ij (n_ij - 1) / (n_ij - 1 + shrink) from _co_rated's sums, with
    ρ_ij = Σ e_ui e_uj / √(Σ e_ui² Σ e_uj²); 0 where a pair has no common user or a sum of squares is 0."""
    n = sums.shape[0]
    for i in range(n):
        out[i, i] = 0.0
        for j in range(i + 1, n):
            product, square_i, square_j, count = sums[i, j]
            value = 0.0
            if count > 0 and square_i > 0 and square_j > 0:
                value = product / np.sqrt(square_i * square_j) * (count - 1) / (count - 1 + shrink)
            out[i, j] = value
            out[j, i] = value


@njit(cache=True)
def _knn_predict(users, items, indptr, rated, residuals, similarity, k, out):  # pragma: no cover
    """out[n] = Σ_j s_ij e_uj / Σ_j s_ij over the k items j rated by u = users[n] with the largest positive
    s_ij (i = items[n]); 0 when u or i is unknown (-1) or u rated nothing similar to i."""
    for n in range(len(users)):
        u = users[n]
        i = items[n]
        out[n] = 0.0
        if u < 0 or i < 0:
            continue
        lo, hi = indptr[u], indptr[u + 1]
        weights = np.empty(hi - lo)
        for a in range(lo, hi):
            weights[a - lo] = similarity[i, rated[a]]
        nearest = np.argsort(-weights)[:k]
        total = 0.0
        weighted = 0.0
        for a in nearest:
            if weights[a] <= 0.0:
                break  # sorted: the rest are no more similar
            total += weights[a]
            weighted += weights[a] * residuals[lo + a]
        if total > 0.0:
            out[n] = weighted / total


@njit(cache=True, fastmath=FAST)
def _predict_kernel(users, items, mean, user_bias, item_bias, p, q, low, high, out):  # pragma: no cover
    """out[n] = clip(μ + b_u + b_i + p_u·q_i, low, high) for u = users[n], i = items[n]; an index of -1
    (an id unseen in training) leaves out its bias and the dot product."""
    k = p.shape[1]
    for n in range(len(users)):
        u = users[n]
        i = items[n]
        value = mean
        if u >= 0:
            value += user_bias[u]
        if i >= 0:
            value += item_bias[i]
        if u >= 0 and i >= 0:
            for f in range(k):
                value += np.float64(p[u, f]) * q[i, f]  # float64 even for float32 factors
        out[n] = min(max(value, low), high)


@njit(cache=True, fastmath=FAST)
def _ridge_rows(
    indptr, cols, values, fixed, fixed_bias, mean, penalty, weighted, factors_out, bias_out
):  # pragma: no cover
    """For every row (a user, or an item): [b; p] = (XᵀX + D)⁻¹ Xᵀ t with X = [1, fixed[cols]] and
    t = r - μ - fixed_bias[cols], D = diag(penalty) (times the row's count when weighted).

    XᵀX is summed rating by rating into one (k+1)×(k+1) buffer, so memory stays O(k²) beyond the
    model, and solved by Cholesky (XᵀX + D is symmetric positive definite when λ > 0).
    """
    k = fixed.shape[1]
    gram = np.empty((k + 1, k + 1))
    rhs = np.empty(k + 1)
    x = np.empty(k + 1)
    x[0] = 1.0
    for row in range(len(indptr) - 1):
        lo, hi = indptr[row], indptr[row + 1]
        if lo == hi:
            continue
        gram[:] = 0.0
        rhs[:] = 0.0
        for n in range(lo, hi):
            c = cols[n]
            x[1:] = fixed[c]
            target = values[n] - mean - fixed_bias[c]
            for a in range(k + 1):
                rhs[a] += x[a] * target
                for b in range(a + 1):  # the lower triangle is all Cholesky reads
                    gram[a, b] += x[a] * x[b]
        scale = float(hi - lo) if weighted else 1.0
        for a in range(k + 1):
            gram[a, a] += penalty[a] * scale
        _cholesky_solve(gram, rhs)
        bias_out[row] = rhs[0]
        factors_out[row] = rhs[1:]


@njit(cache=True, fastmath=FAST)
def _cholesky_solve(a, b):  # pragma: no cover
    """Solve A x = b in place for symmetric positive definite A (lower triangle read): A = L Lᵀ, then
    L y = b forwards and Lᵀ x = y backwards. L overwrites A's lower triangle, x overwrites b."""
    m = a.shape[0]
    for j in range(m):
        s = a[j, j]
        for c in range(j):
            s -= a[j, c] * a[j, c]
        a[j, j] = np.sqrt(s)
        for r in range(j + 1, m):
            s = a[r, j]
            for c in range(j):
                s -= a[r, c] * a[j, c]
            a[r, j] = s / a[j, j]
    for r in range(m):
        s = b[r]
        for c in range(r):
            s -= a[r, c] * b[c]
        b[r] = s / a[r, r]
    for r in range(m - 1, -1, -1):
        s = b[r]
        for c in range(r + 1, m):
            s -= a[c, r] * b[c]
        b[r] = s / a[r, r]


@njit(cache=True)
def _row_pointers(rows, n_rows):  # pragma: no cover
    """indptr with row r's entries at indptr[r]:indptr[r+1] (np.bincount first copies rows to int64)."""
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    for n in range(len(rows)):
        indptr[rows[n] + 1] += 1
    return np.cumsum(indptr)


@njit(cache=True)
def _group_by_row(rows, indptr, column):  # pragma: no cover
    """column's entries grouped by row (row r's at indptr[r]:indptr[r+1]), in their order within a row:
    a counting sort, one pass and no memory beyond the result. np.argsort(rows, kind="stable") gives the
    same grouping through an int64 order (8 bytes a rating) and its work buffer: twice the memory at
    20 M ratings (307 MiB against 78, the result's size) and twelve times the time (0.75 s against 0.06)."""
    grouped = np.empty_like(column)
    at = indptr[:-1].copy()
    for n in range(len(rows)):
        r = rows[n]
        grouped[at[r]] = column[n]
        at[r] += 1
    return grouped

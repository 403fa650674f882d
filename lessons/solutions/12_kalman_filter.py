"""Reference solutions for lessons/12_kalman_filter.ipynb (one block per exercise cell)."""

import numpy as np

from gradlab.exercises import check


# exercise: tracking.radar_jacobian
def radar_jacobian(x):
    """H = ∂(ρ, φ, ρ̇)/∂(px, py, vx, vy) for ρ = √(px² + py²), φ = atan2(py, px), ρ̇ = (px vx + py vy)/ρ."""
    px, py, vx, vy = x
    r2 = px * px + py * py
    r = np.sqrt(r2)
    cross = vx * py - vy * px
    return np.array(
        [
            [px / r, py / r, 0.0, 0.0],
            [-py / r2, px / r2, 0.0, 0.0],
            [py * cross / r**3, -px * cross / r**3, px / r, py / r],
        ]
    )


check("tracking.radar_jacobian", radar_jacobian)


# exercise: tracking.normalize_angle
def normalize_angle(a):
    """a + 2πk in (−π, π]: π − ((π − a) mod 2π)."""
    return np.pi - np.mod(np.pi - a, 2 * np.pi)


check("tracking.normalize_angle", normalize_angle)


# exercise: tracking.kalman_update
def kalman_update(x, P, z, H, R):
    """One measurement update in Joseph form."""
    S = H @ P @ H.T + R
    K = np.linalg.solve(S, H @ P).T  # P Hᵀ S⁻¹, since S and P are symmetric
    x_new = x + K @ (z - H @ x)
    A = np.eye(len(x)) - K @ H
    P_new = A @ P @ A.T + K @ R @ K.T
    return x_new, 0.5 * (P_new + P_new.T)


check("tracking.kalman_update", kalman_update)

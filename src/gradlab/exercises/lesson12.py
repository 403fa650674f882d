"""Checkers for lesson 12, the Kalman filter: the radar's Jacobian by hand, the bearing residual wrapped,
and the update in Joseph form.

    tracking.radar_jacobian   H(x) = ∂(ρ, φ, ρ̇)/∂(px, py, vx, vy), a 3 × 4 matrix, against gl.jacfwd
    tracking.normalize_angle  a + 2πk in (−π, π]
    tracking.kalman_update    (x, P) after a measurement z = H x + noise(R):
                              S = H P Hᵀ + R,  K = P Hᵀ S⁻¹,  x⁺ = x + K (z − H x),
                              P⁺ = (I − K H) P (I − K H)ᵀ + K R Kᵀ
"""

from __future__ import annotations

import numpy as np

import gradlab as gl

from ..apps.tracking import CV, joseph, radar
from . import grading
from .common import as_array, like, near
from .core import Wrong, exercise


def _at(x) -> str:
    return "x = (" + ", ".join(f"{v:.3g}" for v in np.ravel(x)) + ")"


def _states():
    """Car states (px, py, vx, vy) in every quadrant, none at the sensor."""
    xs = grading.points(seed=12, n=6, low=-8, high=8, shape=(4,))
    xs[:, :2] += np.sign(xs[:, :2]) * 1.0  # at least 1 m from the sensor in each coordinate
    return xs


@exercise("tracking.radar_jacobian")
def _radar_jacobian(fn):
    engine = gl.jacfwd(radar)
    for x in _states():
        at = _at(x)
        got = as_array(grading.call(fn, x.copy()), f"your answer at {at} is a {{type}}, not an array of numbers")
        want = np.asarray(engine(x, CV()), dtype=np.float64)
        if got.shape == (4, 3):
            raise Wrong(
                "your H is (4, 3), expected (3, 4): one row per measurement (ρ, φ, ρ̇), one column per state "
                "entry (px, py, vx, vy) — transpose it"
            )
        r2 = x[0] ** 2 + x[1] ** 2
        r = np.sqrt(r2)
        if got.shape == (3, 4):
            if near(got, -want):
                raise Wrong(f"every entry has the wrong sign at {at}")
            if near(got[1], -want[1]):
                raise Wrong(f"row φ has the wrong sign at {at}: ∂atan2(py, px)/∂px = −py/ρ², ∂/∂py = +px/ρ²")
            if near(got[1], want[1] * r):
                raise Wrong(
                    f"row φ is off by a factor ρ at {at}: the derivative of atan2(py, px) has ρ² = px² + py² "
                    "below, not ρ"
                )
            if near(got[2, 2:], want[2, 2:]) and near(got[2, :2], 0.0 * want[2, :2]):
                raise Wrong(
                    f"row ρ̇ has zeros under px and py at {at}: ρ̇ = (px vx + py vy)/ρ depends on the position "
                    "too — ∂ρ̇/∂px = py (vx py − vy px)/ρ³"
                )
            if near(got[2, :2], want[2, :2] * r2 / r) or near(got[2, :2], want[2, :2] * r):
                raise Wrong(
                    f"row ρ̇'s first two entries have the wrong power of ρ at {at}: "
                    "∂ρ̇/∂px = py (vx py − vy px)/ρ³ (cube)"
                )
        grading.expect_close(got, want, at=at, hints=[(grading.sign_flipped, "every entry has the wrong sign at {at}")])


@exercise("tracking.normalize_angle")
def _normalize_angle(fn):
    angles = np.concatenate(
        [
            [np.pi, -np.pi, 3 * np.pi, 0.0, 0.5, -0.5, 7.0, -7.0, 20.0, -20.0],
            grading.points(seed=120, n=6, low=-30, high=30),
        ]
    )
    for a in angles:
        at = f"a = {a:.6g}"
        got = float(as_array(grading.call(fn, float(a)), f"your answer at {at} is a {{type}}, not a number"))
        want = float(np.pi - np.mod(np.pi - a, 2 * np.pi))
        if not np.isfinite(got):
            raise Wrong(f"your answer at {at} is {got}")
        if abs(np.cos(got) - np.cos(a)) > 1e-9 or abs(np.sin(got) - np.sin(a)) > 1e-9:
            raise Wrong(f"{got:.6g} is not the same direction as {at}: add or subtract whole turns 2π only")
        if near(got, -np.pi) and near(want, np.pi):
            raise Wrong(
                f"at {at} you gave −π: the interval is (−π, π], open at −π — the half-turn is written +π "
                "(a − 2π·floor((a + π)/2π) lands in [−π, π) instead)"
            )
        if not -np.pi < got <= np.pi:
            raise Wrong(
                f"at {at} you gave {got:.6g}, still outside (−π, π]: one subtraction of 2π is not enough for an "
                "angle several turns away — use a loop or the modulo"
            )
        grading.expect_close(got, want, at=at, tol=1e-9)


def _update_cases():
    rng = np.random.default_rng(121)
    for n, m in ((4, 2), (4, 3), (5, 2)):
        a = rng.standard_normal((n, n))
        P = a @ a.T + 0.5 * np.eye(n)
        H = rng.standard_normal((m, n))
        R = np.diag(rng.uniform(0.05, 0.5, m))
        x = rng.standard_normal(n)
        z = H @ x + rng.standard_normal(m)
        yield x, P, z, H, R


@exercise("tracking.kalman_update")
def _kalman_update(fn):
    for x, P, z, H, R in _update_cases():
        at = f"a {len(x)}-state, {len(z)}-measurement case"
        answer = grading.call(fn, x.copy(), P.copy(), z.copy(), H.copy(), R.copy())
        if not isinstance(answer, tuple | list) or len(answer) != 2:
            raise Wrong("return two things, the new state and the new covariance: `return x_new, P_new`")
        x_new = as_array(answer[0], "your new state is a {type}, not an array of numbers")
        P_new = as_array(answer[1], "your new covariance is a {type}, not an array of numbers")
        S = H @ P @ H.T + R
        K = P @ H.T @ np.linalg.inv(S)
        y = z - H @ x
        want_x, want_P = x + K @ y, joseph(P, K, H, R)
        K_no_inverse = P @ H.T
        K_no_R = P @ H.T @ np.linalg.inv(H @ P @ H.T)
        grading.expect_close(
            x_new,
            want_x,
            at=f"the state, {at}",
            hints=[
                (like(x - K @ y), "the residual has the wrong sign: y = z − H x (measured minus predicted)"),
                (like(x), "the state did not move: add K y"),
                (like(x + K_no_inverse @ y), "K = P Hᵀ S⁻¹ — the gain needs S⁻¹ (np.linalg.solve or inv)"),
                (like(x + K_no_R @ y), "S = H P Hᵀ + R: the measurement noise R belongs in S"),
            ],
        )
        grading.expect_close(
            P_new,
            want_P,
            at=f"the covariance, {at}",
            hints=[
                (like(P), "P did not shrink: a measurement removes uncertainty, P⁺ = (I − K H) P (I − K H)ᵀ + K R Kᵀ"),
                (
                    like((np.eye(len(x)) - K @ H) @ P @ (np.eye(len(x)) - K @ H).T),
                    "the Joseph form ends with + K R Kᵀ: without it P⁺ is too small",
                ),
            ],
        )
        if not np.allclose(P_new, P_new.T, rtol=0, atol=1e-12):
            raise Wrong(f"your P⁺ is not symmetric ({at}): a covariance must be")

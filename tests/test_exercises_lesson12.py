"""Lesson 12's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import numpy as np

from exercise_harness import Lesson, failed

LESSON = Lesson("12_kalman_filter")
solution = LESSON.solution


def changed(name, change):
    right = solution(name)
    return lambda *args: change(right(*args), *args)


# tracking.radar_jacobian ------------------------------------------------------------------------------------


def test_radar_jacobian_transposed():
    message = failed("tracking.radar_jacobian", changed("tracking.radar_jacobian", lambda H, x: H.T))
    assert "(4, 3), expected (3, 4)" in message


def test_radar_jacobian_bearing_row_sign():
    def wrong(H, x):
        H[1] = -H[1]
        return H

    assert "row φ has the wrong sign" in failed("tracking.radar_jacobian", changed("tracking.radar_jacobian", wrong))


def test_radar_jacobian_bearing_row_over_rho_not_rho_squared():
    def wrong(H, x):
        H[1] *= np.hypot(x[0], x[1])
        return H

    message = failed("tracking.radar_jacobian", changed("tracking.radar_jacobian", wrong))
    assert "row φ is off by a factor ρ" in message


def test_radar_jacobian_range_rate_without_its_position_terms():
    def wrong(H, x):
        H[2, :2] = 0.0
        return H

    message = failed("tracking.radar_jacobian", changed("tracking.radar_jacobian", wrong))
    assert "row ρ̇ has zeros under px and py" in message


def test_radar_jacobian_range_rate_with_rho_squared_instead_of_cubed():
    def wrong(H, x):
        H[2, :2] *= np.hypot(x[0], x[1])
        return H

    message = failed("tracking.radar_jacobian", changed("tracking.radar_jacobian", wrong))
    assert "wrong power of ρ" in message


def test_radar_jacobian_all_signs_flipped():
    message = failed("tracking.radar_jacobian", changed("tracking.radar_jacobian", lambda H, x: -H))
    assert "every entry has the wrong sign" in message


# tracking.normalize_angle -----------------------------------------------------------------------------------


def test_normalize_angle_half_open_the_wrong_way():
    message = failed("tracking.normalize_angle", lambda a: a - 2 * np.pi * np.floor((a + np.pi) / (2 * np.pi)))
    assert "you gave −π" in message


def test_normalize_angle_subtracts_one_turn_only():
    def once(a):
        if a > np.pi:
            return a - 2 * np.pi
        if a <= -np.pi:
            return a + 2 * np.pi
        return a

    assert "one subtraction of 2π is not enough" in failed("tracking.normalize_angle", once)


def test_normalize_angle_that_changes_the_direction():
    assert "is not the same direction" in failed("tracking.normalize_angle", lambda a: np.arctan(np.tan(a)))


# tracking.kalman_update -------------------------------------------------------------------------------------


def _update(*, sign=1.0, inverse=True, with_R=True, joseph_R=True, shrink=True):
    def update(x, P, z, H, R):
        S = H @ P @ H.T + (R if with_R else 0.0)
        K = P @ H.T @ (np.linalg.inv(S) if inverse else np.eye(len(z)))
        new_x = x + sign * K @ (z - H @ x)
        A = np.eye(len(x)) - K @ H
        new_P = A @ P @ A.T + (K @ R @ K.T if joseph_R else 0.0)
        return new_x, new_P if shrink else P

    return update


def test_kalman_update_residual_sign():
    assert "the residual has the wrong sign" in failed("tracking.kalman_update", _update(sign=-1.0))


def test_kalman_update_gain_without_the_inverse():
    assert "the gain needs S⁻¹" in failed("tracking.kalman_update", _update(inverse=False))


def test_kalman_update_forgets_R_in_S():
    assert "the measurement noise R belongs in S" in failed("tracking.kalman_update", _update(with_R=False))


def test_kalman_update_joseph_without_its_last_term():
    assert "ends with + K R Kᵀ" in failed("tracking.kalman_update", _update(joseph_R=False))


def test_kalman_update_leaves_P_alone():
    assert "P did not shrink" in failed("tracking.kalman_update", _update(shrink=False))


def test_kalman_update_returns_one_thing():
    right = solution("tracking.kalman_update")
    assert "return two things" in failed("tracking.kalman_update", lambda *args: right(*args)[0])

"""The extended Kalman filter (gradlab.apps.tracking): engine Jacobians against hand-derived ones, the
Joseph update, angle wrapping, the ρ → 0 guard, tracks that circle the sensor or stop, and the RMSE and NIS
targets on the course's car-tracking file."""

import numpy as np
import pytest

import gradlab as gl
from gradlab.apps.tracking import (
    CTRV,
    CV,
    ExtendedKalmanFilter,
    Measurement,
    joseph,
    lidar,
    normalize_angle,
    radar,
    read_measurements,
    run_filter,
)
from reference_data import HINT, SHARED_DATA

EKF_DATA = SHARED_DATA / "ekf"
SYNTHETIC = EKF_DATA / "obj_pose-laser-radar-synthetic-input.txt"
needs_data = pytest.mark.skipif(not SYNTHETIC.is_file(), reason=HINT)


# --- Jacobians: engine = hand-derived --------------------------------------------------------------
def cv_radar_jacobian(x):
    """∂(ρ, φ, ρ̇)/∂(px, py, vx, vy), the course's hand-derived matrix."""
    px, py, vx, vy = x
    r2 = px * px + py * py
    r = np.sqrt(r2)
    cross = vx * py - vy * px
    return np.array(
        [
            [px / r, py / r, 0, 0],
            [-py / r2, px / r2, 0, 0],
            [py * cross / r**3, -px * cross / r**3, px / r, py / r],
        ]
    )


def ctrv_jacobian(x, dt):
    """∂f/∂x of CTRV by hand, and its limit as ψ̇ → 0 (also the reference of tests/test_higher_order.py)."""
    _, _, v, yaw, rate = x
    j = np.eye(5)
    j[3, 4] = dt
    s0, c0 = np.sin(yaw), np.cos(yaw)
    if rate == 0:  # limits: v/ψ̇ (sin(ψ + ψ̇dt) − sin ψ) → v dt cos ψ, its ψ̇-derivative → −½ v dt² sin ψ
        j[0, 2], j[1, 2] = dt * c0, dt * s0
        j[0, 3], j[1, 3] = -v * dt * s0, v * dt * c0
        j[0, 4], j[1, 4] = -0.5 * v * dt * dt * s0, 0.5 * v * dt * dt * c0
        return j
    s1, c1 = np.sin(yaw + rate * dt), np.cos(yaw + rate * dt)
    j[0, 2] = (s1 - s0) / rate
    j[0, 3] = v / rate * (c1 - c0)
    j[0, 4] = -v / rate**2 * (s1 - s0) + v * dt * c1 / rate
    j[1, 2] = (c0 - c1) / rate
    j[1, 3] = v / rate * (s1 - s0)
    j[1, 4] = -v / rate**2 * (c0 - c1) + v * dt * s1 / rate
    return j


@pytest.mark.parametrize("x", [[1.0, 2.0, 0.5, -0.3], [-3.0, 0.2, -4.0, 1.0], [0.01, -0.02, 5.0, 5.0]])
def test_radar_jacobian_from_jacfwd_equals_the_hand_derived_one(x):
    x = np.array(x)
    np.testing.assert_allclose(gl.jacfwd(radar)(x, CV()), cv_radar_jacobian(x), rtol=1e-10, atol=1e-10)


def test_lidar_and_cv_motion_jacobians_are_the_textbook_matrices():
    x, dt = np.array([1.0, 2.0, 3.0, 4.0]), 0.1
    np.testing.assert_allclose(gl.jacfwd(lidar)(x), np.eye(2, 4), atol=0)
    F, G = gl.jacfwd(CV().motion, argnums=(0, 1))(x, np.zeros(2), dt)
    np.testing.assert_allclose(F, [[1, 0, dt, 0], [0, 1, 0, dt], [0, 0, 1, 0], [0, 0, 0, 1]], atol=1e-15)
    np.testing.assert_allclose(G, [[dt**2 / 2, 0], [0, dt**2 / 2], [dt, 0], [0, dt]], atol=1e-15)


@pytest.mark.parametrize("rate", [0.45, -2.0, 0.0, 1e-11, -1e-11, 0.0199, 0.0201])
def test_ctrv_motion_jacobian_from_jacfwd_equals_the_hand_derived_one_down_to_zero_yaw_rate(rate):
    """Covers the general case, ψ̇ = 0 exactly (its limit), and both sides of the series switch (|ψ̇dt/2| = 1e-3)."""
    x, dt = np.array([0.6, 0.6, 5.2, 0.3, rate]), 0.1
    F = gl.jacfwd(CTRV().motion)(x, np.zeros(2), dt)
    # At |ψ̇| = 1e-11 the hand formula's (sin(ψ + ψ̇dt) − sin ψ)/ψ̇ is all rounding; its limit is within 1e-11.
    hand = ctrv_jacobian(x, dt) if abs(rate) > 1e-6 else ctrv_jacobian(np.array([*x[:4], 0.0]), dt)
    np.testing.assert_allclose(F, hand, rtol=1e-10, atol=1e-10)


def test_ctrv_motion_is_continuous_across_zero_yaw_rate():
    x, dt = np.array([1.0, -2.0, 4.0, 2.5, 0.0]), 0.3
    straight = CTRV().motion(x, np.zeros(2), dt).data
    np.testing.assert_allclose(straight[:2], x[:2] + 4.0 * dt * np.array([np.cos(2.5), np.sin(2.5)]), rtol=1e-15)
    for rate in (1e-12, 1e-7, 6.6e-3, 6.7e-3):
        bent = CTRV().motion(np.array([*x[:4], rate]), np.zeros(2), dt).data
        assert np.all(np.abs(bent[:2] - straight[:2]) <= 0.5 * 4.0 * dt * dt * abs(rate) + 1e-14)


def test_atan2_has_the_bearings_derivatives_in_both_modes():
    for point in ([0.3, -1.2], [-0.5, -0.1], [2.0, 0.7]):
        assert gl.gradcheck(lambda p: gl.atan2(p[0], p[1]), np.array(point)).ok


# --- the update -------------------------------------------------------------------------------------
def test_normalize_angle_lands_in_minus_pi_exclusive_to_pi_inclusive():
    a = np.array([np.pi, -np.pi, 3 * np.pi, 0.0, 2 * np.pi - 0.1, -7.0, 100.0])
    wrapped = normalize_angle(a)
    assert np.all((wrapped > -np.pi) & (wrapped <= np.pi))
    np.testing.assert_allclose(wrapped[:5], [np.pi, np.pi, np.pi, 0.0, -0.1], atol=1e-12)
    np.testing.assert_allclose(np.cos(wrapped), np.cos(a), atol=1e-12)


def test_a_radar_bearing_just_across_pi_is_a_small_residual_not_a_whole_turn():
    ekf = ExtendedKalmanFilter(CV())
    ekf.x, ekf.P = np.array([-10.0, 0.01, 0.0, 0.0]), np.eye(4)  # bearing just below +π
    measured = -np.pi + 0.001  # just above −π: 0.002 rad away, not 2π
    nis = ekf.update(Measurement("R", np.array([10.0, measured, 0.0]), 0.0, np.zeros(4)))
    assert nis < 1.0
    assert abs(ekf.x[1] - 0.01) < 0.02


def test_radar_at_the_sensor_is_skipped_not_divided_by_zero():
    ekf = ExtendedKalmanFilter(CV())
    ekf.x, ekf.P = np.zeros(4), np.eye(4)
    with np.errstate(all="raise"):
        assert ekf.update(Measurement("R", np.array([0.0, 0.0, 0.0]), 0.0, np.zeros(4))) is None
    np.testing.assert_array_equal(ekf.x, np.zeros(4))
    # a track starting at the sensor, radar first (as the course's second sample file does)
    ms = [Measurement("L", np.zeros(2), 0.0, np.zeros(4)), Measurement("R", np.zeros(3), 0.0, np.zeros(4))]
    ms += _measurements(lambda t: (np.array([t, 0.5 * t]), np.array([1.0, 0.5])), np.arange(0.05, 10, 0.05))
    for model in ("cv", "ctrv"):
        track = run_filter(ms, model)
        assert track.skipped == 1
        assert np.all(track.rmse() < [0.2, 0.2, 0.6, 0.6])


def _assert_covariances_symmetric_positive_definite(track):
    for i, P in enumerate(track.covariances):
        np.testing.assert_array_equal(P, P.T, err_msg=f"P not symmetric at step {i}")
        assert np.linalg.eigvalsh(P)[0] > 0, f"P not positive definite at step {i}"


def test_joseph_form_equals_the_short_form_at_the_optimal_gain_and_stays_positive_definite_off_it():
    rng = np.random.default_rng(5)
    A = rng.normal(size=(4, 4))
    P, H, R = A @ A.T + 0.1 * np.eye(4), rng.normal(size=(2, 4)), np.diag([0.02, 0.05])
    K = P @ H.T @ np.linalg.inv(H @ P @ H.T + R)
    np.testing.assert_allclose(joseph(P, K, H, R), (np.eye(4) - K @ H) @ P, atol=1e-12)
    for _ in range(20):  # a gain a little off (a rounding error, a linearisation): still a covariance
        off = K * (1 + 0.3 * rng.normal(size=K.shape))
        updated = joseph(P, off, H, R)
        np.testing.assert_allclose(updated, updated.T, atol=1e-13)
        assert np.linalg.eigvalsh(updated)[0] > 0
        short = (np.eye(4) - off @ H) @ P
        assert np.abs(short - short.T).max() > 1e-3  # the short form is not even symmetric


# --- synthetic tracks -------------------------------------------------------------------------------
def _measurements(path, times, seed=0):
    """Alternating lidar and radar measurements of path(t) -> (position, velocity), with the course's noise."""
    rng = np.random.default_rng(seed)
    found = []
    for k, t in enumerate(times):
        p, v = path(t)
        truth = np.concatenate([p, v])
        if k % 2 == 0:
            z = p + rng.normal(0, 0.15, 2)
            found.append(Measurement("L", z, float(t), truth))
        else:
            rho = np.hypot(*p)
            exact = np.array([rho, np.arctan2(p[1], p[0]), p @ v / rho])
            z = exact + rng.normal(0, [0.3, 0.03, 0.3])
            z[1] = normalize_angle(z[1])
            found.append(Measurement("R", z, float(t), truth))
    return found


def circling(t, radius=8.0, speed=5.0):
    w = speed / radius
    p = radius * np.array([np.cos(w * t), np.sin(w * t)])
    return p, speed * np.array([-np.sin(w * t), np.cos(w * t)])


def stop_and_go(t):
    """East at 4 m/s for 5 s, braking at 2 m/s² to rest, 4 s still, then accelerating at 1 m/s² northward."""
    if t < 5:
        return np.array([4.0 * t, 0.0]), np.array([4.0, 0.0])
    if t < 7:
        s = t - 5
        return np.array([20.0 + 4 * s - s * s, 0.0]), np.array([4.0 - 2 * s, 0.0])
    if t < 11:
        return np.array([24.0, 0.0]), np.zeros(2)
    s = t - 11
    return np.array([24.0, 0.5 * s * s]), np.array([0.0, s])


@pytest.mark.parametrize("model", ["cv", "ctrv"])
def test_a_track_circling_the_sensor_three_times_does_not_diverge(model):
    ms = _measurements(circling, np.arange(0, 3 * 2 * np.pi * 8 / 5, 0.05))
    phis = np.array([m.z[1] for m in ms if m.sensor == "R"])
    assert np.sum(np.abs(np.diff(phis)) > np.pi) >= 3  # the bearing really wraps across ±π
    track = run_filter(ms, model)
    _assert_covariances_symmetric_positive_definite(track)
    error = np.abs(track.estimates - track.truth)[len(ms) // 4 :]
    assert error[:, :2].max() < 1.0 and error[:, 2:].max() < 3.0
    assert np.all(track.rmse() < [0.25, 0.25, 1.2, 1.2])


@pytest.mark.parametrize("model", ["cv", "ctrv"])
def test_a_track_that_stops_and_starts_again_does_not_diverge(model):
    ms = _measurements(stop_and_go, np.arange(0, 16, 0.05), seed=1)
    track = run_filter(ms, model)
    _assert_covariances_symmetric_positive_definite(track)
    still = np.array([7.5 <= m.t < 11 for m in ms])
    assert np.abs(track.estimates[still, 2:]).max() < 1.0  # at rest it says so
    assert np.abs(track.estimates[-20:] - track.truth[-20:])[:, :2].max() < 1.0  # and follows the restart
    assert np.all(track.rmse() < [0.2, 0.2, 1.0, 1.0])


# --- the course's file --------------------------------------------------------------------------------
@needs_data
@pytest.mark.parametrize(
    "model, ceiling",
    [
        ("cv", [0.0972, 0.0854, 0.4509, 0.4396]),  # FilterPy's EKF, measured in the issue
        ("ctrv", [0.07, 0.085, 0.32, 0.28]),
    ],
)
def test_rmse_targets_and_consistency_on_the_synthetic_file(model, ceiling):
    track = run_filter(read_measurements(SYNTHETIC), model)
    assert np.all(track.rmse() <= ceiling), track.rmse()
    _assert_covariances_symmetric_positive_definite(track)
    radar_nis = track.nis_summary()["R"]
    assert radar_nis["steps"] == 250 and radar_nis["band"] == pytest.approx((0.352, 7.815), abs=1e-3)
    assert radar_nis["inside"] >= 0.8
    assert track.seconds < 10  # two engine Jacobians a step, about 2 ms


@needs_data
def test_both_course_sample_files_run_in_both_models():
    for name in ("sample-laser-radar-measurement-data-1.txt", "sample-laser-radar-measurement-data-2.txt"):
        ms = read_measurements(EKF_DATA / name)
        for model in ("cv", "ctrv"):
            track = run_filter(ms, model)
            assert np.all(track.rmse()[:2] < 0.3), (name, model, track.rmse())


def test_reading_refuses_a_line_it_cannot_use(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("L\t1\t2\t1000\t1\t2\t0\t0\nX\t1\t2\t3\n")
    with pytest.raises(ValueError, match="line 2: starts with 'X'"):
        read_measurements(bad)
    bad.write_text("R\t1\t2\t1000\t1\t2\n")
    with pytest.raises(ValueError, match="line 1: R needs 3 measurements"):
        read_measurements(bad)
    with pytest.raises(FileNotFoundError):
        read_measurements(tmp_path / "absent.txt")


# --- the command --------------------------------------------------------------------------------------
def _write(path, ms):
    lines = []
    for m in ms:
        fields = [m.sensor, *(f"{v:.17g}" for v in m.z), str(round(m.t * 1e6)), *(f"{v:.17g}" for v in m.truth)]
        lines.append("\t".join(fields))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_track_command_prints_nis_and_ends_with_the_rmse_line(tmp_path, capsys):
    from gradlab.cli import main

    ms = _measurements(circling, np.arange(0, 12, 0.05))
    file = _write(tmp_path / "circle.txt", ms)
    figure = tmp_path / "track.png"
    assert main(["track", str(file), "--model", "ctrv", "--plot", str(figure)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("RMSE px py vx vy: ")
    printed = np.array(lines[-1].split(":")[1].split(), dtype=float)
    np.testing.assert_allclose(printed, run_filter(read_measurements(file), "ctrv").rmse(), atol=5e-5)
    assert any(line.startswith("NIS radar") and "χ²(3) band [0.352, 7.815]" in line for line in lines)
    assert any(line.startswith("NIS lidar") for line in lines)
    assert figure.stat().st_size > 10_000


@pytest.mark.parametrize(
    "argv, says",
    [
        (["track", "{tmp}/absent.txt"], "no measurement file"),
        (["track", "{bad}"], "starts with 'X'"),
        (["track", "{good}", "--plot", "{tmp}/track.txt"], "picture format"),
        (["track", "{good}", "--plot", "{tmp}/no/such/folder/t.png"], "does not exist"),
        (["track", "{good}", "--model", "ukf"], "invalid choice"),
    ],
)
def test_track_command_refuses_bad_input_in_one_sentence(tmp_path, capsys, argv, says):
    from gradlab.cli import main

    good = _write(tmp_path / "good.txt", _measurements(circling, np.arange(0, 1, 0.05)))
    bad = tmp_path / "bad.txt"
    bad.write_text("X 1 2 3\n")
    argv = [a.format(tmp=tmp_path, bad=bad, good=good) for a in argv]
    try:
        code = main(argv)
    except SystemExit as refused:  # argparse refuses a bad choice or type before the command runs
        code = refused.code
    err = capsys.readouterr().err
    assert code == 2 and says in err and "Traceback" not in err

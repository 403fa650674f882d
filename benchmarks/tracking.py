"""Benchmark: gradlab's extended Kalman filter beside FilterPy's EKF and UKF on the course's car-tracking file.

Every filter gets the same model, noise and start:
  sensors     lidar σ = 0.15 m (px, py); radar σ_ρ = 0.3 m, σ_φ = 0.03 rad, σ_ρ̇ = 0.3 m/s
  CV          white acceleration, σ_ax² = σ_ay² = 9 m²/s⁴ (the course's EKF project); P0 = diag(σ², σ², 25, 25)
  CTRV        white longitudinal and yaw acceleration, σ_a² = 1 m²/s⁴, σ_ψ̈² = 0.36 rad²/s⁴;
              Q = Γ diag(σ_a², σ_ψ̈²) Γᵀ with Γ = ∂f/∂ν at the current state; P0 = diag(σ², σ², 1, π², 0.1)
  x0, P0      from the first measurement, by gradlab.apps.tracking's model.initial (the same numbers for all)
and the same ordering: predict over the time since the last measurement, then update with the radar bearing's
residual wrapped into (−π, π]. The rows:
  gradlab EKF   gradlab.apps.tracking.run_filter: F, Γ and H from gl.jacfwd, Joseph update
  FilterPy EKF  filterpy.kalman.ExtendedKalmanFilter (its update is Joseph's too), given the hand-derived F and
                H, and the wrapping residual through its `residual=` argument
  FilterPy UKF  filterpy.kalman.UnscentedKalmanFilter with Merwe's sigma points on the same CTRV f and radar h
                (gradlab's, evaluated on plain arrays), circular means for ψ and φ, wrapped residuals;
                Merwe's α and κ chosen by --alpha/--kappa (default: the best of a small sweep, printed)
  ... (course P0)  the CV rows again with the course project's start P0 = diag(1, 1, 1000, 1000), the setting of
                the FilterPy figure quoted in issue 15 ([0.0972, 0.0854, 0.4509, 0.4396])

    python benchmarks/tracking.py [--data FILE] [--alpha A --kappa K]

FilterPy is a benchmark-only peer (`pip install filterpy`); the package and the default tests never import it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from gradlab.apps.tracking import (
    CTRV,
    CV,
    LIDAR_STD,
    RADAR_STD,
    chi2_band,
    normalize_angle,
    read_measurements,
    run_filter,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ekf" / "obj_pose-laser-radar-synthetic-input.txt"
R_LIDAR, R_RADAR = np.diag(np.square(LIDAR_STD)), np.diag(np.square(RADAR_STD))
COURSE_P0 = np.diag([1.0, 1.0, 1000.0, 1000.0])


# --- hand-derived pieces FilterPy needs (it computes no derivatives) ----------------------------------
def radar_h(x, velocity):
    px, py = x[0], x[1]
    vx, vy = velocity(x)
    rho = max(np.hypot(px, py), 1e-9)
    return np.array([rho, np.arctan2(py, px), (px * vx + py * vy) / rho])


def radar_H_cv(x):
    px, py, vx, vy = x
    r2 = max(px * px + py * py, 1e-12)
    r = np.sqrt(r2)
    cross = vx * py - vy * px
    return np.array(
        [[px / r, py / r, 0, 0], [-py / r2, px / r2, 0, 0], [py * cross / r**3, -px * cross / r**3, px / r, py / r]]
    )


def radar_residual(a, b):
    y = np.subtract(a, b)
    if len(y) == 3:
        y[1] = normalize_angle(y[1])
    return y


def cv_F_Q(dt, var=9.0):
    F = np.eye(4)
    F[0, 2] = F[1, 3] = dt
    G = np.array([[dt * dt / 2, 0], [0, dt * dt / 2], [dt, 0], [0, dt]])
    return F, var * G @ G.T


def ctrv_Q(x, dt, model):
    half = dt * dt / 2
    G = np.array([[half * np.cos(x[3]), 0], [half * np.sin(x[3]), 0], [dt, 0], [0, half], [0, dt]])
    return (G * model.noise_var) @ G.T


# --- the filters --------------------------------------------------------------------------------------
def filterpy_ekf_cv(ms, P0=None):
    from filterpy.kalman import ExtendedKalmanFilter

    model = CV()
    ekf = ExtendedKalmanFilter(dim_x=4, dim_z=3)
    ekf.x, ekf.P = model.initial(ms[0])
    if P0 is not None:
        ekf.P = P0.copy()
    estimates, nis = [ekf.x.copy()], []
    for prev, m in zip(ms, ms[1:], strict=False):
        ekf.F, ekf.Q = cv_F_Q(m.t - prev.t)
        ekf.predict()
        if m.sensor == "L":
            ekf.update(m.z, lambda x: np.eye(2, 4), lambda x: x[:2], R=R_LIDAR)
        elif np.hypot(ekf.x[0], ekf.x[1]) >= 1e-3:
            ekf.update(
                m.z, radar_H_cv, lambda x: radar_h(x, lambda s: (s[2], s[3])), R=R_RADAR, residual=radar_residual
            )
            nis.append(float(ekf.y @ ekf.SI @ ekf.y))
        estimates.append(np.asarray(ekf.x, dtype=float).ravel().copy())
    return np.array(estimates), np.array(nis)


def filterpy_ukf_ctrv(ms, alpha, kappa=3 - 5):
    from filterpy.kalman import MerweScaledSigmaPoints, UnscentedKalmanFilter

    model = CTRV()
    zero = np.zeros(2)

    def fx(x, dt):
        return model.motion(x, zero, dt).data if dt else x.copy()

    def hx_lidar(x):
        return x[:2]

    def hx_radar(x):
        return radar_h(x, lambda s: (s[2] * np.cos(s[3]), s[2] * np.sin(s[3])))

    def mean_x(sigmas, Wm):
        x = Wm @ sigmas
        x[3] = np.arctan2(Wm @ np.sin(sigmas[:, 3]), Wm @ np.cos(sigmas[:, 3]))
        return x

    def mean_z(sigmas, Wm):
        z = Wm @ sigmas
        if sigmas.shape[1] == 3:
            z[1] = np.arctan2(Wm @ np.sin(sigmas[:, 1]), Wm @ np.cos(sigmas[:, 1]))
        return z

    def residual_x(a, b):
        y = np.subtract(a, b)
        y[3] = normalize_angle(y[3])
        return y

    points = MerweScaledSigmaPoints(5, alpha=alpha, beta=2.0, kappa=kappa, subtract=residual_x)
    ukf = UnscentedKalmanFilter(
        dim_x=5,
        dim_z=3,
        dt=0.05,
        hx=hx_radar,
        fx=fx,
        points=points,
        x_mean_fn=mean_x,
        z_mean_fn=mean_z,
        residual_x=residual_x,
        residual_z=radar_residual,
    )
    ukf.x, ukf.P = model.initial(ms[0])
    estimates, nis = [model.to_cv(ukf.x)], []
    for prev, m in zip(ms, ms[1:], strict=False):
        dt = m.t - prev.t
        ukf.Q = ctrv_Q(ukf.x, dt, model)
        ukf.predict(dt=dt)
        if m.sensor == "L":
            ukf.update(m.z, R=R_LIDAR, hx=hx_lidar)
        else:
            ukf.update(m.z, R=R_RADAR, hx=hx_radar)
            nis.append(float(ukf.y @ ukf.SI @ ukf.y))
        ukf.x[3] = normalize_angle(ukf.x[3])
        ukf.P = 0.5 * (ukf.P + ukf.P.T)
        estimates.append(model.to_cv(ukf.x))
    return np.array(estimates), np.array(nis)


def gradlab_ekf(ms, model, P0=None):
    if P0 is not None:
        start = model.initial
        model.initial = lambda m: (start(m)[0], P0.copy())
    track = run_filter(ms, model)
    sensors = np.array([m.sensor for m in ms])
    return track.estimates, track.nis[(sensors == "R") & np.isfinite(track.nis)]


def timed(fn, *args):
    begun = time.perf_counter()
    out = fn(*args)
    return (*out, time.perf_counter() - begun)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help=f"measurement file (default {DATA})")
    parser.add_argument("--alpha", type=float, help="Merwe's α for FilterPy's UKF (default: sweep and keep the best)")
    parser.add_argument("--kappa", type=float, default=0.0, help="Merwe's κ with --alpha (default 0)")
    args = parser.parse_args(argv)
    ms = read_measurements(args.data)
    truth = np.array([m.truth for m in ms])
    lo, hi = chi2_band(3)

    settled = {}

    def row(name, model, estimates, nis, seconds):
        rmse = np.sqrt(np.mean((estimates - truth) ** 2, axis=0))
        settled[name, model] = np.sqrt(np.mean((estimates[20:] - truth[20:]) ** 2, axis=0))
        inside = np.mean((nis >= lo) & (nis <= hi))
        shown = " ".join(f"{v:.4f}" for v in rmse)
        print(f"| {name:<26} | {model:<5} | {shown} | {100 * inside:15.1f} % | {seconds:7.2f} |")
        return rmse

    settings = [(args.alpha, args.kappa)] if args.alpha else [(a, k) for k in (0, 3 - 5) for a in (0.1, 0.3, 1.0)]
    sweep = {}
    for alpha, kappa in settings:
        try:
            estimates, _ = filterpy_ukf_ctrv(ms, alpha, kappa)
            sweep[alpha, kappa] = np.sqrt(np.mean((estimates - truth) ** 2, axis=0))
        except np.linalg.LinAlgError:  # negative weights (κ < 0, small α) lose P's positive definiteness
            sweep[alpha, kappa] = np.full(4, np.inf)
    best = min(sweep, key=lambda s: sweep[s].sum())
    if len(settings) > 1:
        print("FilterPy UKF sweep of Merwe's α and κ (β = 2), RMSE px py vx vy; the best (least sum) is kept:")
        for (alpha, kappa), rmse in sweep.items():
            print(f"  α = {alpha:<4} κ = {kappa:<3} {' '.join(f'{v:.4f}' for v in rmse)}")

    print(f"\n{args.data.name}: {len(ms)} measurements; radar NIS band χ²(3) [{lo:.3f}, {hi:.3f}]\n")
    print("| filter                     | model | RMSE px py vx vy            | radar NIS in band | seconds |")
    print("|----------------------------|-------|-----------------------------|-------------------|---------|")
    ours_cv = row("gradlab EKF", "CV", *timed(gradlab_ekf, ms, CV()))
    peer_cv = row("FilterPy EKF", "CV", *timed(filterpy_ekf_cv, ms))
    row("gradlab EKF (course P0)", "CV", *timed(gradlab_ekf, ms, CV(), COURSE_P0))
    row("FilterPy EKF (course P0)", "CV", *timed(filterpy_ekf_cv, ms, COURSE_P0))
    ours_ctrv = row("gradlab EKF", "CTRV", *timed(gradlab_ekf, ms, CTRV()))
    peer_ukf = row(f"FilterPy UKF (α {best[0]}, κ {best[1]})", "CTRV", *timed(filterpy_ukf_ctrv, ms, *best))

    print(
        f"\nCV: gradlab − FilterPy EKF = {' '.join(f'{v:+.1e}' for v in ours_cv - peer_cv)} (the same filter: "
        "equal to rounding)"
    )
    change = 100 * (ours_ctrv - peer_ukf) / peer_ukf
    print(f"CTRV: gradlab EKF against FilterPy UKF: {' '.join(f'{v:+.1f} %' for v in change)} (px py vx vy)")
    ukf_name = next(name for name in settled if name[0].startswith("FilterPy UKF"))
    print(
        "CTRV from step 21 on (after the first second): gradlab EKF "
        f"{' '.join(f'{v:.4f}' for v in settled['gradlab EKF', 'CTRV'])}, FilterPy UKF "
        f"{' '.join(f'{v:.4f}' for v in settled[ukf_name])}"
    )
    print("targets: CV ≤ FilterPy EKF; CTRV ≤ [0.07, 0.085, 0.32, 0.28]; radar NIS in band on ≥ 80 % of steps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
